"""The command line: generate (chunked, --rows, options, the .npy bytes),
its data safety (no overwrite without --force, .partial renamed only when
complete and synced, resume after a kill continues and refuses another
table, one-line errors with exit status 2/1/130), -o -, bench and demo run
for real."""
import errno
import io
import json
import math
import os
import signal
import subprocess
import sys

import numpy as np
import pytest

import fastinit
from fastinit import _spec, cli


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
    ("truncated_normal", ["--dtype", ">f8", "--a", "-1", "--b", "3"], dict(dtype=">f8", a=-1.0, b=3.0)),
    ("truncated_normal", ["--a", "-inf", "--b", "-1e-3"], dict(a=-math.inf, b=-1e-3)),  # read as options before
    ("lecun_normal", ["--fan-in", "7", "--in-axis", "0", "--out-axis", "2"], dict(fan_in=7.0, in_axis=0, out_axis=2)),
    ("he_normal", ["--in-axis", "-3,-2", "--mode", "fan_avg"], dict(in_axis=(-3, -2), mode="fan_avg")),
    ("glorot_normal", ["--batch-axis", "0"], dict(batch_axis=0)),
    ("lecun_uniform", ["--batch-axis", "0", "--in-axis", "1", "--dtype", "float16"],
     dict(batch_axis=0, in_axis=1, dtype="float16")),
    ("bits", [], {}),
])
def test_generate_equals_in_memory(tmp_path, name, options, kwargs):
    out = tmp_path / "t.npy"
    # 1 MiB chunks over a 2.4 MiB table: three chunks, the last partial
    assert run_cli("generate", name, "--shape", "1200,10,52", "--seed", 7, "--stream", 3,
                   "--chunk-mb", 1, "-q", "-o", out, *options) == 0
    want = getattr(fastinit, name)((1200, 10, 52), 7, stream=3, **kwargs)
    saved = io.BytesIO()
    np.save(saved, want)
    assert out.read_bytes() == saved.getvalue()  # numpy.save's file, byte for byte
    assert sorted(os.listdir(tmp_path)) == ["t.npy"]  # no .partial, .progress or temporaries left


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


def fails(capsys, *args):
    """Run a command that must fail: (exit status, its one line on stderr)."""
    with pytest.raises(SystemExit) as info:
        run_cli(*args)
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return info.value.code, err


@pytest.mark.parametrize("args, message", [
    (["he_normal", "--low", "1"], "--low does not apply to he_normal"),
    (["bits", "--dtype", "float32"], "--dtype does not apply to bits"),
    (["he_normal", "--rows", "5:2"], "--rows 5:2"),
    (["he_normal", "--rows", "0:11"], "--rows 0:11"),
    (["he_normal", "--rows", "7"], "rows must be A:B"),
    (["he_normal", "--mode", "fan_middle"], "mode must be one of"),
    (["uniform", "--low", "2", "--high", "1"], "low must be < high"),
    (["he_normal", "--in-axis", "0,x"], "axes must be an int or comma-separated ints"),
    (["he_normal", "--in-axis", "-3,-2"], "in_axis=(-3, -2) is out of range"),
    (["he_normal", "--resume", "--force"], "not allowed with argument"),
    (["he_normal", "--resume"], "nothing to resume"),
    (["he_normal", "--chunk-mb", "0"], "--chunk-mb must be >= 1, got 0"),
    (["normal", "--dtype", "int8"], "dtype"),
])
def test_generate_errors_before_writing(tmp_path, capsys, args, message):
    code, err = fails(capsys, "generate", *args, "--shape", "10,4", "--seed", 0, "-o", tmp_path / "t.npy")
    assert code == 2 and message in err
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("shape", ["-5,16", "-5", "5,-16", "5,y", "1e3", "", ","])
def test_unparsable_shape_is_a_usage_error(tmp_path, capsys, shape):
    code, err = fails(capsys, "generate", "he_normal", "--shape", shape, "--seed", 0, "-o", tmp_path / "t.npy")
    assert code == 2 and f"shape must be comma-separated ints >= 0 like 50000000,128, got {shape!r}" in err
    assert os.listdir(tmp_path) == []


def test_existing_file_is_replaced_only_with_force(tmp_path, capsys):
    out = tmp_path / "data.npy"
    out.write_bytes(b"somebody's data")
    code, err = fails(capsys, "generate", "he_normal", "--shape", "100,16", "--seed", 0, "-q", "-o", out)
    assert code == 2 and f"{out} exists" in err and "--force" in err and "--resume" in err
    assert out.read_bytes() == b"somebody's data" and os.listdir(tmp_path) == ["data.npy"]
    assert run_cli("generate", "he_normal", "--shape", "100,16", "--seed", 0, "-q", "--force", "-o", out) == 0
    np.testing.assert_array_equal(np.load(out), fastinit.he_normal((100, 16), 0))


def test_second_run_started_at_once_does_not_truncate_the_first(tmp_path, monkeypatch, capsys):
    out, partial, progress = tmp_path / "t.npy", tmp_path / "t.npy.partial", tmp_path / "t.npy.progress"
    partial.write_bytes(b"the first run's chunks")
    progress.write_text("the first run's record")
    real_exists = os.path.exists
    # the first run creates t.npy.partial just after the second one looked
    monkeypatch.setattr(os.path, "exists", lambda path: str(path) != str(partial) and real_exists(path))
    code, err = fails(capsys, "generate", "he_normal", "--shape", "10,4", "--seed", 0, "-o", out)
    assert code == 2 and f"{partial} holds an interrupted run" in err  # decided by O_EXCL, not by looking
    assert partial.read_bytes() == b"the first run's chunks" and progress.read_text() == "the first run's record"


def interrupt(monkeypatch, capsys, args, after_chunks):
    """Run generate until Ctrl-C arrives in the fill of chunk after_chunks + 1
    (as fastinit's fill raises it): exit status 130 and how to continue."""
    fills = []
    real_fill = cli.Table.write_box

    def fill(self, out, box):
        if len(fills) == after_chunks:
            raise KeyboardInterrupt
        fills.append(box)
        real_fill(self, out, box)

    with monkeypatch.context() as patch:
        patch.setattr(cli.Table, "write_box", fill)
        code, err = fails(capsys, "generate", *args)
    assert code == 130 and "interrupted" in err and "--resume" in err


BASE = ["he_uniform", "--shape", "6,5,40000", "--seed", 5, "--stream", 1, "--rows", "1:5", "--dtype", "float64",
        "--chunk-mb", 1, "-q"]


def base_table():
    return fastinit.he_uniform((6, 5, 40000), 5, stream=1, dtype="float64")[1:5]


def test_interrupted_run_leaves_no_table_and_is_refused_without_a_flag(tmp_path, monkeypatch, capsys):
    out = tmp_path / "t.npy"
    interrupt(monkeypatch, capsys, BASE + ["-o", out], after_chunks=1)
    assert sorted(os.listdir(tmp_path)) == ["t.npy.partial", "t.npy.progress"]
    code, err = fails(capsys, "generate", *BASE, "-o", out)
    assert code == 2 and "t.npy.partial holds an interrupted run" in err and "--force" in err and "--resume" in err
    # --force starts over
    assert run_cli("generate", *BASE, "--force", "-o", out) == 0
    np.testing.assert_array_equal(np.load(out), base_table())
    assert os.listdir(tmp_path) == ["t.npy"]


@pytest.mark.parametrize("change, field", [
    (["he_normal"], "draws"),
    (["--shape", "6,5,40001"], "shape"),
    (["--seed", 6], "seed"),
    (["--stream", 2], "stream"),
    (["--rows", "1:4"], "rows"),
    (["--dtype", "float32"], "dtype"),
    (["--gain", 2], "draws"),
    (["--mode", "fan_out"], "draws"),
    (["--nonlinearity", "tanh"], "draws"),
    (["--a", "0.5", "--nonlinearity", "leaky_relu"], "draws"),
    (["--fan-in", 7], "draws"),
    (["--fan-out", 7, "--mode", "fan_out"], "draws"),
    (["--in-axis", 2, "--out-axis", 1], "draws"),
    (["--out-axis", "0", "--in-axis", "2"], "draws"),
    (["--batch-axis", 0], "draws"),
    (["--layout", "torch"], "draws"),
])
def test_resume_refuses_another_table(tmp_path, monkeypatch, capsys, change, field):
    out = tmp_path / "t.npy"
    interrupt(monkeypatch, capsys, BASE + ["-o", out], after_chunks=1)
    before = {name: (tmp_path / name).read_bytes() for name in os.listdir(tmp_path)}
    args = BASE + change if change[0].startswith("-") else change + BASE[1:]
    code, err = fails(capsys, "generate", *args, "--resume", "-o", out)
    assert code == 2 and f"differs from the interrupted run in {out}.progress (" in err
    assert f"{field}: interrupted run" in err
    assert "--force" in err
    assert {name: (tmp_path / name).read_bytes() for name in os.listdir(tmp_path)} == before


def test_resume_ignores_what_does_not_change_the_bits(tmp_path, monkeypatch, capsys):
    out = tmp_path / "t.npy"
    interrupt(monkeypatch, capsys, BASE + ["-o", out], after_chunks=1)
    # the alias, another spelling of the dtype, a default given explicitly, the gain relu implies, other axes
    # with the same fans (6 x 5), other threads, chunk size and progress bar
    again = ["kaiming_uniform", "--shape", "6,5,40000", "--seed", 5, "--stream", 1, "--rows", "1:5", "--dtype", "f8",
             "--mode", "fan_in", "--gain", 2 ** 0.5, "--in-axis", "0", "--out-axis", "2", "--threads", 1,
             "--chunk-mb", 3]
    assert run_cli("generate", *again, "--resume", "-o", out) == 0
    np.testing.assert_array_equal(np.load(out), base_table())
    assert os.listdir(tmp_path) == ["t.npy"]


# Dies by SIGKILL right after the n-th fdatasync of the table (chunk n is on disk, its progress record is not).
KILLED_AT_SYNC = """
import os, signal, sys
from fastinit import cli
syncs = []
real_fdatasync = os.fdatasync
def fdatasync(fd):
    real_fdatasync(fd)
    syncs.append(fd)
    if len(syncs) == int(sys.argv[1]):
        os.kill(os.getpid(), signal.SIGKILL)
os.fdatasync = fdatasync
sys.exit(cli.main(sys.argv[2:]))
"""


def test_resume_after_kill_continues_and_leaves_finished_chunks_alone(tmp_path):
    out = tmp_path / "big.npy"
    partial, progress = tmp_path / "big.npy.partial", tmp_path / "big.npy.progress"
    args = ["generate", "he_uniform", "--shape", "1000,1024", "--seed", "5", "--chunk-mb", "1", "-q", "-o", str(out)]
    proc = subprocess.run([sys.executable, "-c", KILLED_AT_SYNC, "3", *args], capture_output=True)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert not out.exists()  # never a half-written table under the final name
    done = json.loads(progress.read_text())["elements_done"]
    assert done == 2 * 256 * 1024  # two 1 MiB chunks recorded, the third on disk but not recorded
    header = len(cli.npy_header(np.dtype(np.float32), (1000, 1024)))
    with open(partial, "r+b") as f:  # alter finished chunks: a resume must not rewrite them
        f.seek(header)
        f.write(np.float32([1234.5, -1]).tobytes())
        f.seek(header + (done - 1) * 4)
        f.write(np.float32([777]).tobytes())
    assert cli.main([*args, "--resume"]) == 0
    assert sorted(os.listdir(tmp_path)) == ["big.npy"]
    got = np.load(out).reshape(-1)
    want = fastinit.he_uniform((1000, 1024), 5).reshape(-1)
    assert list(got[:2]) == [1234.5, -1] and got[done - 1] == 777
    got[:2], got[done - 1] = want[:2], want[done - 1]
    np.testing.assert_array_equal(got, want)


def test_table_is_synced_before_it_is_renamed_into_place(tmp_path, monkeypatch):
    """Each progress record follows the fdatasync of the chunks it counts; the
    final rename follows an fsync of the whole file and precedes an fsync of
    the directory."""
    if not os.path.isdir("/proc/self/fd"):
        pytest.skip("needs /proc/self/fd to name the synced files")
    out = tmp_path / "t.npy"
    partial, progress = f"{out}.partial", f"{out}.progress"
    events = []

    def spy(op, real):
        def call(*a):
            if op in ("fsync", "fdatasync", "pwrite"):
                events.append((op, os.readlink(f"/proc/self/fd/{a[0]}")))
            else:
                events.append((op, str(a[0]), str(a[1])))
            return real(*a)
        return call

    for op in ("fsync", "fdatasync", "pwrite", "replace"):
        monkeypatch.setattr(os, op, spy(op, getattr(os, op)))
    assert run_cli("generate", "normal", "--shape", "1000,1024", "--seed", 1, "--chunk-mb", 1, "-q", "-o", out) == 0
    rename = events.index(("replace", partial, str(out)))
    assert ("fsync", partial) in events[rename - 2:rename] and ("pwrite", partial) not in events[rename:]
    assert ("fsync", str(tmp_path)) in events[rename + 1:]
    records = [i for i, e in enumerate(events) if e == ("replace", progress + ".tmp", progress)]
    assert len(records) == 1 + 4  # the start, then one per 1 MiB chunk
    for previous, record in zip(records, records[1:]):
        between = events[previous:record]
        writes = [i for i, e in enumerate(between) if e == ("pwrite", partial)]
        assert writes and ("fdatasync", partial) in between[writes[-1]:]


def _killed_after_the_rename(monkeypatch, out):
    """Run generate to out, Ctrl-C'd after the final rename, before the
    progress record is removed; the exit status."""
    real_remove = os.remove

    def killed_before_removing_the_record(path):
        if str(path).endswith(cli.PROGRESS_SUFFIX):
            raise KeyboardInterrupt
        real_remove(path)

    with monkeypatch.context() as patch:
        patch.setattr(os, "remove", killed_before_removing_the_record)
        with pytest.raises(SystemExit) as killed:
            run_cli("generate", *BASE, "-o", out)
    return killed.value.code


def test_kill_after_the_rename_is_resumed_as_complete(tmp_path, monkeypatch):
    out = tmp_path / "t.npy"
    assert _killed_after_the_rename(monkeypatch, out) == 130
    assert sorted(os.listdir(tmp_path)) == ["t.npy", "t.npy.progress"]
    assert run_cli("generate", *BASE, "--resume", "-o", out) == 0
    assert os.listdir(tmp_path) == ["t.npy"]
    np.testing.assert_array_equal(np.load(out), base_table())


def test_resume_does_not_take_another_file_for_the_finished_table(tmp_path, monkeypatch, capsys):
    """A record of a finished run, no partial file, and under the name a file
    that is not that table (an older one, say): not 'already complete'."""
    out = tmp_path / "t.npy"
    assert _killed_after_the_rename(monkeypatch, out) == 130
    np.save(out, np.zeros(7, np.float32))
    capsys.readouterr()
    with pytest.raises(SystemExit) as refused:
        run_cli("generate", *BASE, "--resume", "-o", out)
    assert refused.value.code != 0
    assert "t.npy" in capsys.readouterr().err
    np.testing.assert_array_equal(np.load(out), np.zeros(7, np.float32))


@pytest.mark.parametrize("damage", [
    "", "{", "[]", "null", '{"format": 1}', b"\xff\xfe{}",
    {"elements_done": -1}, {"elements_done": 10**9}, {"elements_done": "3"}, {"elements_done": 2.0},
    {"replace": 0}, {"bits": []}, {"format": 99},
    "truncate partial", "edit partial header", "remove partial",
])
def test_damaged_partial_run_is_one_line_saying_how_to_start_over(tmp_path, monkeypatch, capsys, damage):
    out = tmp_path / "t.npy"
    progress, partial = tmp_path / "t.npy.progress", tmp_path / "t.npy.partial"
    interrupt(monkeypatch, capsys, BASE + ["-o", out], after_chunks=2)
    if isinstance(damage, dict):
        record = json.loads(progress.read_text())
        record.update(damage)
        progress.write_text(json.dumps(record))
    elif damage == "truncate partial":
        os.truncate(partial, partial.stat().st_size - 1)
    elif damage == "edit partial header":
        partial.write_bytes(partial.read_bytes().replace(b"(4, 5, 40000)", b"(4, 5, 40001)"))
    elif damage == "remove partial":
        partial.unlink()
    elif isinstance(damage, bytes):
        progress.write_bytes(damage)
    else:
        progress.write_text(damage)
    code, err = fails(capsys, "generate", *BASE, "--resume", "-o", out)
    assert code == 1 and "--force to start over" in err
    assert (str(progress) if damage in ("", "{") or isinstance(damage, dict) else "t.npy") in err
    assert not out.exists()
    assert run_cli("generate", *BASE, "--force", "-o", out) == 0  # what the message says works
    np.testing.assert_array_equal(np.load(out), base_table())


def test_full_disk_keeps_the_finished_part_for_resume(tmp_path, monkeypatch, capsys):
    out = tmp_path / "t.npy"
    real_pwrite = os.pwrite
    writes = []

    def pwrite(fd, data, offset):
        writes.append(offset)
        if len(writes) == 4:  # the header, two chunks, then the disk is full
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_pwrite(fd, data, offset)

    with monkeypatch.context() as patch:
        patch.setattr(os, "pwrite", pwrite)
        code, err = fails(capsys, "generate", *BASE, "-o", out)
    assert code == 1 and f"{out}.partial: No space left on device" in err and "--resume" in err
    assert sorted(os.listdir(tmp_path)) == ["t.npy.partial", "t.npy.progress"]
    assert json.loads((tmp_path / "t.npy.progress").read_text())["elements_done"] == (3 + 2) * 40000  # rows 0:3, 3:5 of axis 1
    assert run_cli("generate", *BASE, "--resume", "-o", out) == 0
    np.testing.assert_array_equal(np.load(out), base_table())


def limit_file_size():
    import resource
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # kept across exec: writes past the limit fail with EFBIG
    resource.setrlimit(resource.RLIMIT_FSIZE, (5 << 19, 5 << 19))


@pytest.mark.skipif(not hasattr(signal, "SIGXFSZ"), reason="needs POSIX file size limits")
def test_real_write_failure_keeps_the_finished_part_for_resume(tmp_path):
    """The kernel refuses a write (file size limit, as a full disk would):
    no patching, a real failed pwrite in a real process."""
    out = tmp_path / "t.npy"
    args = ["generate", "uniform", "--shape", "1000,1024", "--seed", "8", "--chunk-mb", "1", "-q", "-o", str(out)]
    proc = subprocess.run([sys.executable, "-m", "fastinit", *args], capture_output=True, text=True,
                          preexec_fn=limit_file_size)
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1
    assert f"{out}.partial: File too large" in proc.stderr and "--resume" in proc.stderr
    assert json.loads((tmp_path / "t.npy.progress").read_text())["elements_done"] == 2 * 256 * 1024
    assert run_cli(*args, "--resume") == 0
    np.testing.assert_array_equal(np.load(out), fastinit.uniform((1000, 1024), 8))


def test_missing_directory_is_an_io_error(tmp_path, capsys):
    code, err = fails(capsys, "generate", "he_normal", "--shape", "10,4", "--seed", 0, "-o", tmp_path / "no" / "t.npy")
    assert code == 1 and f"{tmp_path / 'no' / 't.npy.partial'}: No such file or directory" in err
    assert os.listdir(tmp_path) == []


def test_no_permission_is_an_io_error(tmp_path, monkeypatch, capsys):
    out = tmp_path / "t.npy"
    real_open = os.open

    def refused(path, *a, **k):  # as a read-only directory refuses a user that is not root
        if str(path).startswith(str(tmp_path)):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
        return real_open(path, *a, **k)

    monkeypatch.setattr(os, "open", refused)
    code, err = fails(capsys, "generate", "he_normal", "--shape", "10,4", "--seed", 0, "-o", out)
    assert code == 1 and f"{out}.partial: Permission denied" in err
    assert os.listdir(tmp_path) == []


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root may write into a read-only directory")
def test_read_only_directory_is_an_io_error(tmp_path, capsys):
    tmp_path.chmod(0o500)
    try:
        code, err = fails(capsys, "generate", "he_normal", "--shape", "10,4", "--seed", 0, "-o", tmp_path / "t.npy")
    finally:
        tmp_path.chmod(0o700)
    assert code == 1 and "Permission denied" in err


def test_bfloat16_npy_reads_back_as_bfloat16_and_resumes(tmp_path, monkeypatch, capsys):
    ml_dtypes = pytest.importorskip("ml_dtypes")
    out = tmp_path / "t.npy"
    args = ["truncated_normal", "--shape", "1000,1000", "--seed", 3, "--dtype", "bfloat16", "--chunk-mb", 1, "-q",
            "-o", out]
    interrupt(monkeypatch, capsys, args, after_chunks=1)
    assert run_cli("generate", *args, "--resume") == 0
    got = np.load(out)
    assert got.dtype == ml_dtypes.bfloat16
    np.testing.assert_array_equal(got.view(np.uint16),
                                  fastinit.truncated_normal((1000, 1000), 3, dtype="bfloat16").view(np.uint16))
    assert b"'descr': 'bfloat16'" in out.read_bytes()[:128]
    # without ml_dtypes imported, numpy refuses the file instead of returning raw bytes
    load = subprocess.run([sys.executable, "-c", f"import numpy; numpy.load({str(out)!r})"], capture_output=True,
                          text=True)
    assert load.returncode == 1 and "descr is not a valid dtype descriptor: 'bfloat16'" in load.stderr


def test_orthogonal_factors_once_per_run(tmp_path, monkeypatch):
    out = tmp_path / "q.npy"
    real_qr = np.linalg.qr
    calls = []
    monkeypatch.setattr(np.linalg, "qr", lambda a, *k, **kw: calls.append(a.shape) or real_qr(a, *k, **kw))
    assert run_cli("generate", "orthogonal", "--shape", "1000,150", "--seed", 2, "--dtype", "float64", "--gain", 2,
                   "--rows", "50:990", "--chunk-mb", 1, "-q", "-o", out) == 0
    assert calls == [(1000, 150)]  # 2 chunks, one QR
    np.testing.assert_array_equal(np.load(out), fastinit.orthogonal((1000, 150), 2, 2.0, dtype="float64")[50:990])


def test_orthogonal_too_large_for_one_qr_is_refused(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(cli, "_physical_memory", lambda: 2**30)
    code, err = fails(capsys, "generate", "orthogonal", "--shape", "10000,10000", "--seed", 0, "-o",
                      tmp_path / "q.npy")
    assert code == 2 and "(10000, 10000)" in err and "2.2 GiB" in err and "1.0 GiB" in err
    assert os.listdir(tmp_path) == []


def test_standard_output_is_a_npy_stream(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "fastinit", "generate", "glorot_uniform", "--shape", "300,70,3",
                           "--seed", "9", "--chunk-mb", "1", "-o", "-"], capture_output=True, check=True, cwd=tmp_path)
    saved = io.BytesIO()
    np.save(saved, fastinit.glorot_uniform((300, 70, 3), 9))
    assert proc.stdout == saved.getvalue()
    assert os.listdir(tmp_path) == []


def test_standard_output_refusals(monkeypatch, capsys):
    class Terminal(io.BytesIO):
        def isatty(self):
            return True

    monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(Terminal()))
    code, err = fails(capsys, "generate", "he_normal", "--shape", "10,4", "--seed", 0, "-o", "-")
    assert code == 2 and "terminal" in err
    code, err = fails(capsys, "generate", "he_normal", "--shape", "10,4", "--seed", 0, "-o", "-", "--force")
    assert code == 2 and "cannot be resumed or replaced" in err


def test_standard_output_closed_early_is_one_line(tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", "fastinit", "generate", "normal", "--shape", "1000,1000",
                             "--seed", "0", "--chunk-mb", "1", "-q", "-o", "-"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path)
    assert proc.stdout.read(100).startswith(b"\x93NUMPY")
    proc.stdout.close()  # as `| head -c 100` does
    err = proc.stderr.read().decode()
    assert proc.wait() == 1
    assert err == "fastinit generate: error: -o -: standard output was closed before the table was complete\n"


def test_bench_runs_for_real(capsys):
    assert run_cli("bench", "--sizes", "64x64", "--min-time", "0", "--models", "",
                   "--contenders", "fastinit,fastinit-1thread,numpy,memory-floor") == 0
    text = capsys.readouterr().out
    for initializer in ("he_normal", "glorot_uniform", "lecun_normal"):
        for target in ("fresh", "out"):
            rows = [line for line in text.splitlines() if line.startswith(f"{initializer}-float32-64x64-{target}")]
            assert [row.split()[1] for row in rows] == ["fastinit", "fastinit-1thread", "numpy", "memory-floor"]
    showcase = text[:text.index("\n\n")].splitlines()[2:]
    assert len(showcase) == 5
    assert all(0.97 < float(line.split()[-1]) < 1.03 for line in showcase)  # measured std / formula std


def test_demo_runs_for_real(tmp_path, capsys):
    png = tmp_path / "demo.png"
    assert run_cli("demo", "--depth", 12, "--width", 64, "--batch", 32, "--png", png) == 0
    text = capsys.readouterr().out
    assert "12 layers x 64 units, batch 32" in text and "std@10" in text
    assert "He                  relu" in text and "LeCun               selu" in text
    zero = [line for line in text.splitlines() if line.startswith("zero")]
    assert len(zero) == 3 and all("collapsed" in line for line in zero)
    if "matplotlib is not installed" not in text:
        assert png.stat().st_size > 10_000


def test_help_is_complete(capsys):
    with pytest.raises(SystemExit):
        run_cli("generate", "--help")
    text = capsys.readouterr().out
    for name in cli.initializers():
        assert name in text
    for flag, *_ in cli.initializer_options():
        assert flag in text
    # every option of the spec table has its command-line form, and no other
    assert set(cli.OPTION_FORMS) == {k for entry in _spec.INITIALIZERS.values() for k in entry.option_names}
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


# ---------------------------------------------------------------- one run per output, refusals before generating

def no_fill(monkeypatch):
    """Make any chunk fill fail the test: a refusal must come before generating."""
    def fill(self, out, box):
        raise AssertionError("generated before refusing")
    monkeypatch.setattr(cli.Table, "write_box", fill)


@pytest.mark.parametrize("flags", [[], ["--force"], ["--resume"]])
def test_output_held_by_another_run_is_refused_at_once(tmp_path, monkeypatch, capsys, flags):
    """Another run holds the lock on t.npy.partial (an flock on another open
    file description conflicts even within one process): every kind of run
    fails with one line naming that run's pid, and touches nothing."""
    fcntl = pytest.importorskip("fcntl")
    out, partial, progress = tmp_path / "t.npy", tmp_path / "t.npy.partial", tmp_path / "t.npy.progress"
    partial.write_bytes(b"the other run's chunks")
    progress.write_text(json.dumps({"pid": 4242, "command": "he_normal"}))
    no_fill(monkeypatch)
    with open(partial, "rb") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        code, err = fails(capsys, "generate", "he_normal", "--shape", "10,4", "--seed", 0, "-q", "-o", out, *flags)
    assert code == 1 and f"{partial} is being written by another fastinit run (pid 4242: he_normal)" in err
    assert partial.read_bytes() == b"the other run's chunks"
    assert json.loads(progress.read_text()) == {"pid": 4242, "command": "he_normal"}
    assert sorted(os.listdir(tmp_path)) == ["t.npy.partial", "t.npy.progress"]


@pytest.mark.skipif(not hasattr(signal, "SIGSTOP"), reason="needs POSIX job control signals")
def test_two_real_runs_on_one_output(tmp_path):
    """A first process writes a 32 MiB table in 1 MiB chunks; once its
    progress record exists it is stopped (SIGSTOP: it cannot finish while the
    others run, no timing involved). Second runs with --force, --resume or
    neither fail at once naming its pid; continued, the first finishes and
    the file is its table alone."""
    out, progress = tmp_path / "t.npy", tmp_path / "t.npy.progress"
    base = [sys.executable, "-m", "fastinit", "generate", "uniform", "--shape", "2048,4096", "--chunk-mb", "1", "-q",
            "-o", str(out)]
    first = subprocess.Popen(base + ["--seed", "1"], stderr=subprocess.PIPE, text=True)
    try:
        while not progress.exists():
            assert first.poll() is None, first.stderr.read()
        os.kill(first.pid, signal.SIGSTOP)
        assert not out.exists()  # stopped while writing
        for flags in ([], ["--force"], ["--resume"]):
            second = subprocess.run(base + ["--seed", "2"] + flags, capture_output=True, text=True, timeout=60)
            assert second.returncode == 1, second
            assert second.stderr.count("\n") == 1 and f"(pid {first.pid}: uniform)" in second.stderr, second.stderr
    finally:
        os.kill(first.pid, signal.SIGCONT)
        assert first.wait(timeout=120) == 0, first.stderr.read()
    np.testing.assert_array_equal(np.load(out), fastinit.uniform((2048, 4096), 1))
    assert os.listdir(tmp_path) == ["t.npy"]


@pytest.mark.parametrize("flags", [[], ["--force"]])
def test_directory_output_is_refused_before_generating(tmp_path, monkeypatch, capsys, flags):
    target = tmp_path / "d"
    target.mkdir()
    no_fill(monkeypatch)
    code, err = fails(capsys, "generate", "he_normal", "--shape", "10,4", "--seed", 0, "-o", target, *flags)
    assert code == 2 and f"{target} is a directory" in err
    assert os.listdir(tmp_path) == ["d"] and os.listdir(target) == []


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
@pytest.mark.parametrize("flags", [[], ["--force"]])
def test_fifo_and_device_outputs_are_refused(tmp_path, monkeypatch, capsys, flags):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    device = tmp_path / "null"
    device.symlink_to(os.devnull)  # a link to a device: refused as the device itself
    no_fill(monkeypatch)
    for path, named in ((fifo, fifo), (device, os.devnull)):
        code, err = fails(capsys, "generate", "he_normal", "--shape", "10,4", "--seed", 0, "-o", path, *flags)
        assert code == 2 and f"{named} is not a regular file" in err
    assert sorted(os.listdir(tmp_path)) == ["fifo", "null"]


def test_unwritable_directory_with_force_is_refused_before_generating(tmp_path, monkeypatch, capsys):
    out = tmp_path / "t.npy"
    out.write_bytes(b"old")
    real_open = os.open

    def refused(path, flags, *a, **k):  # creating files is refused there (a read-only directory)
        if str(path).startswith(str(tmp_path)) and flags & os.O_CREAT:
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
        return real_open(path, flags, *a, **k)

    monkeypatch.setattr(os, "open", refused)
    no_fill(monkeypatch)
    code, err = fails(capsys, "generate", "he_normal", "--shape", "10,4", "--seed", 0, "--force", "-o", out)
    assert code == 1 and f"{out}.partial: Permission denied" in err
    assert os.listdir(tmp_path) == ["t.npy"] and out.read_bytes() == b"old"


def test_chunk_size_is_capped_at_the_table(tmp_path):
    """--chunk-mb far above the table (a petabyte for 9 elements) allocates the table's size, not the chunk's."""
    out = tmp_path / "t.npy"
    assert run_cli("generate", "he_normal", "--shape", "3,3", "--seed", 0, "--chunk-mb", 2**30, "-q", "-o", out) == 0
    np.testing.assert_array_equal(np.load(out), fastinit.he_normal((3, 3), 0))
    table = cli.Table(cli.build_parser().parse_args(["generate", "he_normal", "--shape", "3,3", "--seed", "0",
                                                     "-o", "x"]), None)
    assert table.chunk_bytes(2**30) == 9 * 4 and table.chunk_bytes(1) == 9 * 4


def test_symbolic_link_output_is_written_through(tmp_path, capsys):
    """As numpy.save: the file a link points to gets the table, the link stays;
    an existing target still needs --force; a dangling link's target is created."""
    data = tmp_path / "data"
    data.mkdir()
    target, link = data / "t.npy", tmp_path / "link.npy"
    link.symlink_to(os.path.join("data", "t.npy"))  # relative, dangling
    assert run_cli("generate", "he_normal", "--shape", "10,4", "--seed", 0, "-q", "-o", link) == 0
    assert link.is_symlink() and os.listdir(data) == ["t.npy"]
    np.testing.assert_array_equal(np.load(target), fastinit.he_normal((10, 4), 0))
    code, err = fails(capsys, "generate", "he_normal", "--shape", "10,4", "--seed", 1, "-q", "-o", link)
    assert code == 2 and f"{target} exists" in err
    assert run_cli("generate", "he_normal", "--shape", "10,4", "--seed", 1, "-q", "--force", "-o", link) == 0
    assert link.is_symlink() and sorted(os.listdir(tmp_path)) == ["data", "link.npy"] and os.listdir(data) == ["t.npy"]
    np.testing.assert_array_equal(np.load(link), fastinit.he_normal((10, 4), 1))


def test_symbolic_link_loop_is_one_line(tmp_path, capsys):
    a, b = tmp_path / "a", tmp_path / "b"
    a.symlink_to(b)
    b.symlink_to(a)
    code, err = fails(capsys, "generate", "he_normal", "--shape", "10,4", "--seed", 0, "-o", a)
    assert code == 2 and "too many levels of symbolic links" in err
    assert sorted(os.listdir(tmp_path)) == ["a", "b"]


def test_lock_on_a_file_renamed_into_place_is_retried(tmp_path, monkeypatch):
    """The other run renames its finished partial file into place between
    our open and our lock: the lock we got is on the finished table, so the
    run starts again on a new partial file (--force: then replaces the table)."""
    fcntl = pytest.importorskip("fcntl")
    out, partial = tmp_path / "t.npy", tmp_path / "t.npy.partial"
    partial.write_bytes(b"the other run's table")
    real_flock = fcntl.flock
    renamed = []

    def flock(fd, op):
        if not renamed:
            renamed.append(os.replace(partial, out))  # the other run finishes
        return real_flock(fd, op)

    monkeypatch.setattr(cli.fcntl, "flock", flock)
    assert run_cli("generate", "he_normal", "--shape", "10,4", "--seed", 0, "-q", "--force", "-o", out) == 0
    np.testing.assert_array_equal(np.load(out), fastinit.he_normal((10, 4), 0))
    assert os.listdir(tmp_path) == ["t.npy"]
