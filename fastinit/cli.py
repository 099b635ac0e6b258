"""The ``fastinit`` command line: generate, bench, demo.

``fastinit generate`` writes a standard ``.npy`` chunk by chunk: each chunk (a
contiguous run of the file, see ``chunk_plan``) is the core call with ``index=``
written straight into a memory map of its own part of the file, flushed and
unmapped before the next one, so peak memory is about one chunk whatever the
table size. After each flushed chunk a small ``OUT.progress`` file records how
many elements are done; ``--resume`` continues
from there, and since every value is a pure function of (seed, stream,
position) the result equals a one-shot run.
"""
from __future__ import annotations

import argparse
import inspect
import json
import math
import os
import sys

import numpy as np

import fastinit

PROGRESS_SUFFIX = ".progress"
DEFAULT_CHUNK_MB = 64

# Initializer options: (flag, keyword, type, help). A flag is accepted for an
# initializer whose signature has the keyword.
OPTIONS = (
    ("--gain", "gain", float, "gain factor (glorot_*, he_*)"),
    ("--a", "a", float, "he_*: negative slope of leaky_relu; truncated_normal: lower bound"),
    ("--b", "b", float, "truncated_normal: upper bound"),
    ("--mode", "mode", str, "he_*, variance_scaling: fan_in, fan_out, fan_avg or fan_geo_avg"),
    ("--nonlinearity", "nonlinearity", str, "he_*: linear, relu, leaky_relu, tanh, selu, sigmoid, conv*"),
    ("--scale", "scale", float, "variance_scaling: variance scale"),
    ("--distribution", "distribution", str, "variance_scaling (and *_normal when supported): normal, "
                                            "truncated_normal or uniform"),
    ("--low", "low", float, "uniform: lower bound (included)"),
    ("--high", "high", float, "uniform: upper bound (excluded)"),
    ("--mean", "mean", float, "normal, truncated_normal: mean"),
    ("--std", "std", float, "normal, truncated_normal: standard deviation"),
    ("--layout", "layout", str, "fan layout: omit for (..., in, out), 'torch' for (out, in, *kernel)"),
    ("--fan-in", "fan_in", float, "override the computed fan_in"),
    ("--fan-out", "fan_out", float, "override the computed fan_out"),
    ("--in-axis", "in_axis", int, "axis of the inputs (default -2)"),
    ("--out-axis", "out_axis", int, "axis of the outputs (default -1)"),
)


def chunkable_initializers() -> dict:
    """Every public generator that can make one block alone (has index=)."""
    names = {}
    for name in fastinit.__all__:
        fn = getattr(fastinit, name)
        if callable(fn) and "index" in inspect.signature(fn).parameters:
            names[name] = fn
    return names


def _parse_shape(text: str) -> tuple:
    try:
        return tuple(int(d) for d in text.replace("x", ",").split(",") if d.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"shape must be comma-separated ints like 50000000,128, got {text!r}")


def _parse_rows(text: str) -> tuple:
    start, sep, stop = text.partition(":")
    try:
        if not sep:
            raise ValueError
        return (int(start) if start else None, int(stop) if stop else None)
    except ValueError:
        raise argparse.ArgumentTypeError(f"rows must be A:B (either may be empty), got {text!r}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fastinit",
        description="Fast, reproducible neural-network weight initialization (Philox4x32-10).")
    parser.add_argument("--version", action="version", version=f"fastinit {fastinit.__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="{generate,bench,demo}")

    names = chunkable_initializers()
    gen = commands.add_parser(
        "generate", help="write an initialized table to a .npy file, chunk by chunk",
        description="Write NAME(shape, seed, ...) to a standard .npy file chunk by chunk (bounded memory, "
                    "progress bar with the 'cli' extra). The file equals numpy.save of the in-memory array.",
        epilog="example: fastinit generate he_normal --shape 50000000,128 --seed 0 -o table.npy")
    gen.add_argument("name", choices=sorted(names), metavar="NAME",
                     help="initializer: " + ", ".join(sorted(names)))
    gen.add_argument("--shape", type=_parse_shape, required=True, help="full shape, e.g. 50000000,128")
    gen.add_argument("--seed", type=int, required=True, help="seed in [0, 2**64)")
    gen.add_argument("--stream", type=int, default=0, help="stream in [0, 2**64) (default 0)")
    gen.add_argument("--dtype", default=argparse.SUPPRESS, help="output dtype (default float32)")
    gen.add_argument("--rows", type=_parse_rows, default=(None, None), metavar="A:B",
                     help="write only rows A:B (first axis) of the full table; fans use the full shape")
    gen.add_argument("-o", "--output", required=True, help="output .npy path")
    gen.add_argument("--resume", action="store_true",
                     help="complete an interrupted run of the same command (needs OUTPUT.progress)")
    gen.add_argument("--chunk-mb", type=int, default=DEFAULT_CHUNK_MB,
                     help=f"chunk size in MiB; peak memory is about one chunk (default {DEFAULT_CHUNK_MB})")
    gen.add_argument("--threads", type=int, default=argparse.SUPPRESS, help="threads (default: all CPUs)")
    gen.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    init_opts = gen.add_argument_group("initializer options (each applies to the initializers that take it)")
    for flag, dest, kind, text in OPTIONS:
        init_opts.add_argument(flag, dest=dest, type=kind, default=argparse.SUPPRESS, help=text)

    # main() hands everything after "bench" to fastinit.bench.main unparsed
    commands.add_parser("bench", add_help=False,
                        help="print the benchmark table (fastinit vs NumPy/torch vs the memory floor); "
                             "'fastinit bench --help' for its options")

    demo = commands.add_parser(
        "demo", help="signal propagation through a deep MLP under each initializer",
        description="Forward pass of a deep MLP (NumPy) under zero, small/large random, Glorot, He and LeCun "
                    "init with tanh, ReLU and SELU: prints the activation std per layer and writes a PNG.")
    demo.add_argument("--depth", type=int, default=50, help="layers (default 50)")
    demo.add_argument("--width", type=int, default=512, help="units per layer (default 512)")
    demo.add_argument("--batch", type=int, default=1024, help="input rows, x ~ N(0, 1) (default 1024)")
    demo.add_argument("--seed", type=int, default=0, help="seed of weights and input (default 0)")
    demo.add_argument("--png", default="fastinit_demo.png", help="plot path (default fastinit_demo.png)")
    demo.add_argument("--no-plot", action="store_true", help="skip the plot")
    for command in (gen, demo):
        command.set_defaults(subparser=command)
    return parser


# ---------------------------------------------------------------- generate

def _generate_kwargs(args, fn, parser) -> dict:
    """The keyword arguments for fn from the options given; an option fn does
    not take is an error."""
    accepted = inspect.signature(fn).parameters
    kwargs = {}
    for flag, dest, _, _ in OPTIONS + (("--dtype", "dtype", None, None), ("--threads", "threads", None, None)):
        if hasattr(args, dest):
            if dest not in accepted:
                parser.error(f"{flag} does not apply to {args.name}")
            kwargs[dest] = getattr(args, dest)
    return kwargs


def _progress_bar(total: int, initial: int, quiet: bool):
    if quiet:
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, initial=initial, unit="B", unit_scale=True, unit_divisor=1024, file=sys.stderr)


def _write_progress(path: str, record: dict) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(record, f)
    os.replace(tmp, path)  # atomic: a kill leaves the old or the new record


def chunk_plan(shape: tuple, itemsize: int, chunk_bytes: int):
    """The chunks of a C-order array of shape, in file order: (first flat
    element, box), box = (start, stop) per axis. A chunk spans whole trailing
    blocks along the first axis k whose trailing block (axes after k) fits in
    chunk_bytes, so it is one contiguous run of the file of at most
    chunk_bytes (or one element, if an element is larger)."""
    if math.prod(shape) == 0:
        return
    k = 0
    while k < len(shape) - 1 and math.prod(shape[k + 1:]) * itemsize > chunk_bytes:
        k += 1
    inner = math.prod(shape[k + 1:])
    step = max(1, chunk_bytes // (inner * itemsize))
    tail = tuple((0, n) for n in shape[k + 1:])
    for prefix in np.ndindex(*shape[:k]):
        outer = 0
        for i, n in zip(prefix, shape[:k]):
            outer = outer * n + i
        head = tuple((i, i + 1) for i in prefix)
        for lo in range(0, shape[k], step):
            hi = min(lo + step, shape[k])
            yield (outer * shape[k] + lo) * inner, head + ((lo, hi),) + tail


def generate(args, parser) -> int:
    fn = chunkable_initializers()[args.name]
    kwargs = _generate_kwargs(args, fn, parser)
    shape = args.shape
    if not shape:
        parser.error("--shape needs at least one dimension")
    first, last = args.rows
    start = 0 if first is None else first
    stop = shape[0] if last is None else last
    if not 0 <= start <= stop <= shape[0]:
        parser.error(f"--rows {start}:{stop} must satisfy 0 <= A <= B <= {shape[0]} (rows of shape {shape})")
    if args.chunk_mb < 1:
        parser.error(f"--chunk-mb must be >= 1, got {args.chunk_mb}")
    # an empty block checks every argument before the file is touched
    probe = fn(shape, args.seed, stream=args.stream, index=(slice(0, 0),), **kwargs)
    dtype = probe.dtype
    out_shape = (stop - start,) + shape[1:]
    record = {"name": args.name, "shape": list(shape), "seed": args.seed, "stream": args.stream,
              "rows": [start, stop], "dtype": dtype.name, "chunk_mb": args.chunk_mb,
              "kwargs": kwargs, "elements_done": 0}
    progress = args.output + PROGRESS_SUFFIX

    if args.resume:
        try:
            with open(progress) as f:
                saved = json.load(f)
        except FileNotFoundError:
            parser.error(f"--resume: no {progress} (nothing to resume, or the run had finished)")
        mismatch = [k for k in record if k != "elements_done" and saved.get(k) != record[k]]
        if mismatch:
            parser.error(f"--resume: {', '.join(mismatch)} differ from the interrupted run ({progress})")
        record["elements_done"] = saved["elements_done"]
        table = np.lib.format.open_memmap(args.output, mode="r+")
        if table.shape != out_shape or table.dtype != dtype:
            parser.error(f"--resume: {args.output} has shape {table.shape} {table.dtype}, "
                         f"expected {out_shape} {dtype}")
    else:
        table = np.lib.format.open_memmap(args.output, mode="w+", dtype=dtype, shape=out_shape)
        _write_progress(progress, record)
    header = table.offset
    del table  # map each chunk on its own, so finished chunks leave memory

    total = math.prod(out_shape)
    bar = _progress_bar(total * dtype.itemsize, record["elements_done"] * dtype.itemsize, args.quiet)
    for first, box in chunk_plan(out_shape, dtype.itemsize, args.chunk_mb << 20):
        if first < record["elements_done"]:
            continue  # written before the interruption
        block = tuple(hi - lo for lo, hi in box)
        chunk = np.memmap(args.output, dtype=dtype, mode="r+", offset=header + first * dtype.itemsize, shape=block)
        index = tuple(slice(lo, hi) for lo, hi in ((box[0][0] + start, box[0][1] + start),) + box[1:])
        fn(shape, args.seed, stream=args.stream, index=index, out=chunk, **kwargs)
        chunk.flush()
        del chunk
        record["elements_done"] = first + math.prod(block)
        _write_progress(progress, record)
        if bar is not None:
            bar.update(math.prod(block) * dtype.itemsize)
    if bar is not None:
        bar.close()
    os.remove(progress)
    return 0


# ---------------------------------------------------------------- main

def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["bench"]:
        from fastinit import bench  # imported only when asked for
        return bench.main(argv[1:])
    args = build_parser().parse_args(argv)
    try:
        if args.command == "demo":
            from fastinit import demo
            return demo.main(args)
        return generate(args, args.subparser)
    except (ValueError, TypeError) as e:
        args.subparser.exit(2, f"fastinit {args.command}: error: {e}\n")
