"""The command line: generate (chunked, --rows, options, resume after a
kill), bench hand-off, --help."""
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import fastinit
from fastinit import cli


def run_cli(*args):
    return cli.main([str(a) for a in args])


@pytest.mark.parametrize("name, options, kwargs", [
    ("he_normal", [], {}),
    ("he_uniform", ["--mode", "fan_out", "--nonlinearity", "leaky_relu", "--a", "0.2"],
     dict(mode="fan_out", nonlinearity="leaky_relu", a=0.2)),
    ("glorot_uniform", ["--gain", "3", "--layout", "torch", "--dtype", "float64"],
     dict(gain=3.0, layout="torch", dtype="float64")),
    ("variance_scaling", ["--scale", "2", "--mode", "fan_geo_avg", "--distribution", "uniform"],
     dict(scale=2.0, mode="fan_geo_avg", distribution="uniform")),
    ("uniform", ["--low", "-2", "--high", "5"], dict(low=-2.0, high=5.0)),
    ("normal", ["--mean", "1", "--std", "3"], dict(mean=1.0, std=3.0)),
    ("lecun_normal", ["--fan-in", "7", "--in-axis", "0", "--out-axis", "2"], dict(fan_in=7.0, in_axis=0, out_axis=2)),
    ("bits", [], {}),
])
def test_generate_equals_in_memory(tmp_path, name, options, kwargs):
    out = tmp_path / "t.npy"
    # 1 MiB chunks over a 2.4 MiB table: three chunks, the last partial
    assert run_cli("generate", name, "--shape", "1200,10,52", "--seed", 7, "--stream", 3,
                   "--chunk-mb", 1, "-q", "-o", out, *options) == 0
    np.testing.assert_array_equal(np.load(out), getattr(fastinit, name)((1200, 10, 52), 7, stream=3, **kwargs))
    assert not os.path.exists(str(out) + cli.PROGRESS_SUFFIX)


@pytest.mark.parametrize("shape, chunk_mb", [((3, 300_000), 1), ((2, 3, 100_000), 1), ((5, 70_000, 2), 1),
                                             ((7,), 1), ((0, 5), 1), ((4, 0), 1)])
def test_generate_chunks_rows_larger_than_a_chunk(tmp_path, shape, chunk_mb):
    out = tmp_path / "t.npy"
    run_cli("generate", "normal", "--shape", ",".join(map(str, shape)), "--seed", 4, "--chunk-mb", chunk_mb,
            "-q", "-o", out)
    np.testing.assert_array_equal(np.load(out), fastinit.normal(shape, 4))


def test_chunk_plan_covers_the_table_in_file_order():
    shape = (3, 5, 7, 11)
    for chunk_bytes in (4, 40, 300, 4 * 7 * 11 * 2, 10**6):
        covered = np.zeros(shape, bool)
        position = 0
        for first, box in cli.chunk_plan(shape, 4, chunk_bytes):
            assert first == position
            block = covered[tuple(slice(lo, hi) for lo, hi in box)]
            assert block.size * 4 <= max(chunk_bytes, 4) and not block.any()
            block[...] = True
            position += block.size
        assert covered.all()


@pytest.mark.parametrize("rows, sl", [("100:900", slice(100, 900)), (":5", slice(0, 5)),
                                      ("995:", slice(995, 1000)), ("3:3", slice(3, 3))])
def test_generate_rows_is_a_shard_of_the_full_table(tmp_path, rows, sl):
    out = tmp_path / "shard.npy"
    run_cli("generate", "he_normal", "--shape", "1000,64", "--seed", 1, "--rows", rows, "--chunk-mb", 1, "-q", "-o", out)
    np.testing.assert_array_equal(np.load(out), fastinit.he_normal((1000, 64), 1)[sl])


@pytest.mark.parametrize("args, message", [
    (["he_normal", "--low", "1"], "--low does not apply to he_normal"),
    (["bits", "--dtype", "float32"], "--dtype does not apply to bits"),
    (["he_normal", "--rows", "5:2"], "--rows 5:2"),
    (["he_normal", "--rows", "0:11"], "--rows 0:11"),
    (["he_normal", "--rows", "7"], "rows must be A:B"),
    (["he_normal", "--mode", "fan_middle"], "mode must be one of"),
    (["uniform", "--low", "2", "--high", "1"], "low must be < high"),
    (["he_normal", "--resume"], "nothing to resume"),
])
def test_generate_errors_before_writing(tmp_path, capsys, args, message):
    out = tmp_path / "t.npy"
    with pytest.raises(SystemExit) as info:
        run_cli("generate", *args, "--shape", "10,4", "--seed", 0, "-o", out)
    assert info.value.code == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_resume_after_kill_equals_one_shot(tmp_path):
    out = tmp_path / "big.npy"
    progress = str(out) + cli.PROGRESS_SUFFIX
    # 512 MiB in 1 MiB chunks, each flushed: slow enough to be killed midway
    args = [sys.executable, "-m", "fastinit", "generate", "he_uniform", "--shape", "2000000,64", "--seed", "5",
            "--chunk-mb", "1", "-q", "-o", str(out)]
    proc = subprocess.Popen(args)
    deadline = time.monotonic() + 60
    done = 0
    while done < 200_000 * 64 and time.monotonic() < deadline:
        try:
            with open(progress) as f:
                done = json.load(f)["elements_done"]
        except (FileNotFoundError, json.JSONDecodeError):
            pass
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    with open(progress) as f:
        done = json.load(f)["elements_done"]
    assert 0 < done < 2_000_000 * 64, "the run was not interrupted midway"
    with pytest.raises(SystemExit):  # resuming with other parameters is refused
        run_cli("generate", "he_uniform", "--shape", "2000000,64", "--seed", 6, "--chunk-mb", 1, "-q",
                "--resume", "-o", out)
    assert run_cli("generate", "he_uniform", "--shape", "2000000,64", "--seed", 5, "--chunk-mb", 1, "-q",
                   "--resume", "-o", out) == 0
    assert not os.path.exists(progress)
    got = np.load(out, mmap_mode="r")
    want = fastinit.he_uniform((2_000_000, 64), 5)
    assert np.array_equal(got, want)


def test_help_is_complete(capsys):
    with pytest.raises(SystemExit):
        run_cli("generate", "--help")
    text = capsys.readouterr().out
    for name in cli.chunkable_initializers():
        assert name in text
    for flag, *_ in cli.OPTIONS:
        assert flag in text
    for flag in ("--shape", "--seed", "--stream", "--dtype", "--rows", "--resume", "--output"):
        assert flag in text
    with pytest.raises(SystemExit):
        run_cli("--help")
    text = capsys.readouterr().out
    assert "generate" in text and "demo" in text and "benchmark table" in text


def test_bench_hands_its_arguments_to_fastinit_bench(monkeypatch):
    import types
    seen = []
    monkeypatch.setitem(sys.modules, "fastinit.bench",
                        types.SimpleNamespace(main=lambda argv: seen.append(argv) or 0))
    monkeypatch.setattr(fastinit, "bench", sys.modules["fastinit.bench"], raising=False)
    assert run_cli("bench", "--help", "-x") == 0
    assert seen == [["--help", "-x"]]


def test_python_m_fastinit(tmp_path):
    out = tmp_path / "w.npy"
    subprocess.run([sys.executable, "-m", "fastinit", "generate", "lecun_uniform", "--shape", "30,20",
                    "--seed", "2", "-o", str(out)], check=True, capture_output=True)
    np.testing.assert_array_equal(np.load(out), fastinit.lecun_uniform((30, 20), 2))
