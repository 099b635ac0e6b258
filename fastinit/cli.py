"""The ``fastinit`` command line: generate, bench, demo.

``fastinit generate`` writes a standard ``.npy`` chunk by chunk (a chunk is a
contiguous run of the file, see ``chunk_plan``): each chunk is the core call
with ``index=`` into one reused buffer of at most ``--chunk-mb``, written at
its offset, so peak memory is about one chunk whatever the table size.

It never loses or fakes data:

* the table is written to ``OUT.partial`` and renamed to ``OUT`` only after
  every chunk is written and fsynced (then the directory is fsynced), so
  ``OUT`` is never a half-written table; an existing ``OUT`` is replaced only
  with ``--force``;
* after each chunk is on disk (``fdatasync``), ``OUT.progress`` records how
  many leading elements are final, with everything that determines the bits;
  ``--resume`` checks those fields and the partial file's header, then writes
  only the chunks not yet done. Every value is a pure function of (seed,
  stream, position), so the result equals a one-shot run;
* one run at a time per output: a run holds an exclusive ``flock`` on
  ``OUT.partial`` from before its first byte until the rename, and records its
  pid in ``OUT.progress``; another run on the same output (with or without
  ``--force``/``--resume``) fails at once naming that pid. ``flock`` rather
  than a lock file: the kernel drops it when its process dies, so a killed
  run leaves no stale lock (``--resume`` takes over its partial file), and
  it is on the file that is written, so nothing else is left behind;
* every refusal (OUT a directory, FIFO, socket or device; an unwritable
  directory; the lock held; a usage error) comes before any generation and
  leaves nothing behind;
* ``-o LINK``, a symbolic link, is written through to the file it points to,
  as ``numpy.save`` does: ``TARGET.partial`` is made next to that file and
  renamed over it (an existing target still needs ``--force``; a dangling
  link's target is created, the link kept);
* every failure is one line on stderr: exit status 2 for a usage error
  (nothing written), 1 for an I/O error, a damaged partial run or an output
  another run holds, 130 for Ctrl-C (the partial run is kept and
  ``--resume`` continues it).
"""
from __future__ import annotations

import argparse
import io
import json
import math
import os
import re
import stat
import sys
import time

import numpy as np

import fastinit
from fastinit import _spec
from fastinit._checks import check_seed, check_threads, check_uint64
from fastinit._prepare import prepare

try:
    import fcntl
except ImportError:  # no flock (Windows): runs on one output are not kept apart
    fcntl = None

PARTIAL_SUFFIX = ".partial"
PROGRESS_SUFFIX = ".progress"
PROGRESS_FORMAT = 1
DEFAULT_CHUNK_MB = 64
# Options whose value may start with "-" followed by a digit ("--shape -5,16",
# "--in-axis -3,-2"): argparse would read such a value as an option.
# a negative number as argparse would take for an option: -5,16, -1e-3, -inf
NEGATIVE_VALUE = re.compile(r"-(\d|\.\d|inf$|nan$)", re.IGNORECASE)


class CommandError(Exception):
    """A failure reported as one line on stderr with an exit status:
    2 usage (nothing written), 1 I/O or damaged partial run."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


def _parse_axes(text: str):
    """'-2' -> -2, '0,1' -> (0, 1): one axis or a tuple of axes."""
    try:
        axes = tuple(int(a) for a in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"axes must be an int or comma-separated ints like 0,1, got {text!r}")
    return axes[0] if len(axes) == 1 else axes


# How each initializer option of fastinit._spec reads on the command line:
# keyword -> (type, meaning). The flag is --keyword (dashes for underscores);
# which initializers take it comes from the spec table.
OPTION_FORMS = {
    "scale": (float, "variance scale"),
    "mode": (str, "fan_in, fan_out, fan_avg or fan_geo_avg"),
    "distribution": (str, "normal, truncated_normal or uniform"),
    "gain": (float, "gain factor"),
    "a": (float, "He: negative slope of leaky_relu; truncated_normal: lower bound"),
    "b": (float, "upper bound"),
    "nonlinearity": (str, "linear, relu, leaky_relu, tanh, selu, sigmoid, conv*"),
    "low": (float, "lower bound (included)"),
    "high": (float, "upper bound (excluded)"),
    "mean": (float, "mean"),
    "std": (float, "standard deviation"),
    "fan_in": (float, "override the computed fan_in"),
    "fan_out": (float, "override the computed fan_out"),
    "in_axis": (_parse_axes, "axis or comma-separated axes of the inputs (default -2)"),
    "out_axis": (_parse_axes, "axis or comma-separated axes of the outputs (default -1)"),
    "batch_axis": (_parse_axes, "axis or comma-separated axes left out of both fans (default none)"),
    "layout": (str, "fan layout: omit for (..., in, out), 'torch' for (out, in, *kernel)"),
}


def initializer_options() -> list:
    """(flag, keyword, type, help) of every option of the spec table, the
    help naming the initializers that take it."""
    takers = {}
    for entry in _spec.INITIALIZERS.values():
        for keyword in entry.option_names:
            takers.setdefault(keyword, []).append(entry.name)
    return [("--" + keyword.replace("_", "-"), keyword, OPTION_FORMS[keyword][0],
             f"{OPTION_FORMS[keyword][1]} ({', '.join(names)})") for keyword, names in takers.items()]


def initializers() -> dict:
    """The initializers ``generate`` offers: every name of the spec table
    (aliases included), to its public function."""
    return {name: getattr(fastinit, name) for name in _spec.BY_NAME}


def _parse_shape(text: str) -> tuple:
    try:
        shape = tuple(int(d) for d in text.replace("x", ",").split(",") if d.strip())
    except ValueError:
        shape = None
    if not shape or min(shape) < 0:
        raise argparse.ArgumentTypeError(
            f"shape must be comma-separated ints >= 0 like 50000000,128, got {text!r}")
    return shape


def _parse_rows(text: str) -> tuple:
    start, sep, stop = text.partition(":")
    try:
        if not sep:
            raise ValueError
        return (int(start) if start else None, int(stop) if stop else None)
    except ValueError:
        raise argparse.ArgumentTypeError(f"rows must be A:B (either may be empty), got {text!r}")


class _Parser(argparse.ArgumentParser):
    """Usage errors as one line (argparse prints the whole usage first)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="fastinit",
        description="Fast, reproducible neural-network weight initialization (Philox4x32-10).")
    parser.add_argument("--version", action="version", version=f"fastinit {fastinit.__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="{generate,bench,demo}")

    names = initializers()
    whole = [name for name in names if _spec.BY_NAME[name].whole_array]
    gen = commands.add_parser(
        "generate", help="write an initialized table to a .npy file, chunk by chunk",
        description="Write NAME(shape, seed, ...) to a standard .npy file chunk by chunk (bounded memory, "
                    "progress bar with the 'cli' extra). The file equals numpy.save of the in-memory array "
                    "(bfloat16: header descr 'bfloat16', read back by numpy.load once ml_dtypes is imported). "
                    "It is written as OUTPUT.partial and renamed to OUTPUT when complete; OUTPUT.progress "
                    "records the finished part for --resume; while a run writes, it holds a lock on OUTPUT.partial and "
                    "another run on OUTPUT fails at once naming its pid. A symbolic link OUTPUT is written "
                    "through to its target, as numpy.save does; a directory, FIFO or device is refused. "
                    "Exit status: 0 done, 2 usage error (nothing written), 1 I/O error or OUTPUT held by another "
                    "run, 130 interrupted (--resume continues).",
        epilog="example: fastinit generate he_normal --shape 50000000,128 --seed 0 -o table.npy")
    gen.add_argument("name", choices=sorted(names), metavar="NAME",
                     help="initializer: " + ", ".join(sorted(names))
                          + f" ({', '.join(whole)}: the whole array is computed in memory once)")
    gen.add_argument("--shape", type=_parse_shape, required=True, help="full shape, e.g. 50000000,128")
    gen.add_argument("--seed", type=int, required=True, help="seed in [0, 2**64)")
    gen.add_argument("--stream", type=int, default=0, help="stream in [0, 2**64) (default 0)")
    gen.add_argument("--dtype", default=argparse.SUPPRESS,
                     help="output dtype: float32 (default), float64, float16, bfloat16 (needs ml_dtypes)")
    gen.add_argument("--rows", type=_parse_rows, default=(None, None), metavar="A:B",
                     help="write only rows A:B (first axis) of the full table; fans use the full shape")
    gen.add_argument("-o", "--output", required=True,
                     help="output .npy path (a symbolic link is written through to its target), "
                          "or - for standard output (a .npy stream)")
    again = gen.add_mutually_exclusive_group()
    again.add_argument("--resume", action="store_true",
                       help="complete an interrupted run of the same table (OUTPUT.partial, OUTPUT.progress); "
                            "--threads, --chunk-mb and -q may differ")
    again.add_argument("--force", action="store_true",
                       help="replace an existing OUTPUT, or start an interrupted run over")
    gen.add_argument("--chunk-mb", type=int, default=DEFAULT_CHUNK_MB,
                     help=f"chunk size in MiB, at most the table; peak memory is about one chunk "
                          f"(default {DEFAULT_CHUNK_MB})")
    gen.add_argument("--threads", type=int, default=argparse.SUPPRESS, help="threads (default: all CPUs)")
    gen.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    init_opts = gen.add_argument_group("initializer options (each applies to the initializers that take it)")
    for flag, dest, kind, text in initializer_options():
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


def _glue_negative_values(argv: list) -> list:
    """'--shape -5,16' -> '--shape=-5,16', '--a -inf' -> '--a=-inf': so the
    value reaches its parser (which then says what is wrong with it, if
    anything) instead of reading as an option."""
    out = []
    for arg in argv:
        if out and out[-1].startswith("--") and "=" not in out[-1] and NEGATIVE_VALUE.match(arg):
            out[-1] = f"{out[-1]}={arg}"
        else:
            out.append(arg)
    return out


# ---------------------------------------------------------------- the .npy file

def npy_descr(dtype: np.dtype) -> str:
    """The header's descr: numpy's, unless it does not give the dtype back
    (ml_dtypes' bfloat16 would be stored as '<V2', raw bytes): then the dtype's
    registered name, which numpy.load turns back into the dtype once ml_dtypes
    is imported (and refuses, rather than returning raw bytes, otherwise)."""
    descr = np.lib.format.dtype_to_descr(dtype)
    return descr if np.dtype(descr) == dtype else dtype.name


def npy_header(dtype: np.dtype, shape: tuple) -> bytes:
    """The bytes numpy.save writes before the data (format 1.0, or 2.0 for a
    header too long for 1.0, as numpy.save chooses)."""
    header = {"descr": npy_descr(dtype), "fortran_order": False, "shape": tuple(shape)}
    buf = io.BytesIO()
    try:
        np.lib.format.write_array_header_1_0(buf, header)
    except ValueError:
        buf = io.BytesIO()
        np.lib.format.write_array_header_2_0(buf, header)
    return buf.getvalue()


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


# ---------------------------------------------------------------- the table asked for

class Table:
    """What ``generate`` was asked for, checked: the initializer, its
    arguments, the rows, the dtype and the .npy header."""

    def __init__(self, args, parser):
        self.name, self.entry = args.name, _spec.BY_NAME[args.name]
        self.seed, self.stream, self.shape = args.seed, args.stream, args.shape
        self.options = {}  # the initializer options given
        for flag, dest, *_ in initializer_options():
            if hasattr(args, dest):
                if dest not in self.entry.option_names:
                    parser.error(f"{flag} does not apply to {args.name}")
                self.options[dest] = getattr(args, dest)
        if hasattr(args, "dtype") and len(self.entry.dtypes) == 1:
            parser.error(f"--dtype does not apply to {args.name} (always {self.entry.dtypes[0]})")
        self.threads = getattr(args, "threads", None)
        first, last = args.rows
        self.start = 0 if first is None else first
        stop = self.shape[0] if last is None else last
        if not 0 <= self.start <= stop <= self.shape[0]:
            parser.error(f"--rows {self.start}:{stop} must satisfy 0 <= A <= B <= {self.shape[0]} "
                         f"(rows of shape {self.shape})")
        self.stop = stop
        # Every argument checked (ValueError/TypeError) before any file is touched (orthogonal's one
        # computation of the rows is made at the first chunk, after every refusal).
        check_seed(self.seed)
        check_uint64("stream", self.stream)
        check_threads(self.threads)
        self.prepared = prepare(self.name, self.shape, dtype=getattr(args, "dtype", None), **self.options)
        self.whole = None
        if self.prepared.whole_array:
            _check_whole_table_fits(self.name, self.shape)
        self.dtype = self.prepared.dtype
        self.out_shape = (stop - self.start,) + self.shape[1:]
        self.size = math.prod(self.out_shape)
        self.header = npy_header(self.dtype, self.out_shape)

    def _fill(self, index, out=None):
        return self.prepared.fill(self.seed, self.stream, index=index, out=out, threads=self.threads)

    def bits_record(self) -> dict:
        """What determines the bits, spelled one way: shape, seed, stream,
        rows, the dtype as its .npy descr and the draws: the C-core kernel and
        its parameters (for orthogonal: the gain). So an alias, a dtype or
        axes spelled differently, defaults given explicitly or options that
        give the same distribution are the same table; threads, chunk size and
        the progress bar are not part of it."""
        distribution = self.prepared.distribution
        if self.prepared.core is not None:
            draws = list(self.prepared.core)
        else:
            draws = [type(distribution).__name__, distribution._asdict()]
        record = {"shape": list(self.shape), "seed": self.seed, "stream": self.stream,
                  "rows": [self.start, self.stop], "dtype": npy_descr(self.dtype), "draws": draws}
        return json.loads(json.dumps(record))  # as it reads back from the progress file

    def chunk_bytes(self, chunk_mb: int) -> int:
        """--chunk-mb in bytes, capped at the table (at least one element)."""
        return min(chunk_mb << 20, max(self.size, 1) * self.dtype.itemsize)

    def command(self) -> str:
        """The initializer and the options given, for messages."""
        return " ".join([self.name] + [f"{k}={v!r}" for k, v in self.options.items()])

    def write_box(self, out: np.ndarray, box: tuple) -> None:
        """out[...] = rows start:stop of the table, at box (relative to them)."""
        if self.prepared.whole_array:
            if self.whole is None:
                self.whole = self._fill(index=(slice(self.start, self.stop),))
            out[...] = self.whole[tuple(slice(lo, hi) for lo, hi in box)]
            return
        rows = (box[0][0] + self.start, box[0][1] + self.start)
        self._fill(tuple(slice(lo, hi) for lo, hi in (rows,) + box[1:]), out)


def _physical_memory() -> int:
    return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def _check_whole_table_fits(name: str, shape: tuple) -> None:
    """A QR of the whole float64 matrix holds about three copies of it."""
    need = 3 * 8 * math.prod(shape)
    have = _physical_memory()
    if need > have:
        raise CommandError(f"{name} {shape} factors the whole matrix at once: about {need / 2**30:.1f} GiB "
                           f"of float64, more than this machine's {have / 2**30:.1f} GiB", 2)


# ---------------------------------------------------------------- writing

def write_chunks(table: Table, chunk_bytes: int, done: int, write, chunk_written, bar) -> None:
    """Fill every chunk not wholly within the first ``done`` elements into one
    reused buffer and hand it to ``write(data, first element)``, then call
    ``chunk_written(elements now final)``."""
    itemsize = table.dtype.itemsize
    buffer = None
    for first, box in chunk_plan(table.out_shape, itemsize, chunk_bytes):
        block = tuple(hi - lo for lo, hi in box)
        n = math.prod(block)
        if first + n <= done:
            continue  # written and recorded before the interruption
        if buffer is None:
            buffer = np.empty(max(1, chunk_bytes // itemsize), table.dtype)
        chunk = buffer[:n].reshape(block)
        table.write_box(chunk, box)
        write(buffer[:n].view(np.uint8), first)
        chunk_written(first + n)
        if bar is not None:
            bar.update((first + n - max(first, done)) * itemsize)


def _pwrite_all(fd: int, data, offset: int) -> None:
    view = memoryview(data)
    while view.nbytes:
        written = os.pwrite(fd, view, offset)
        view, offset = view[written:], offset + written


def _sync_data(fd: int) -> None:
    # fdatasync skips metadata the data does not need; macOS has only fsync
    (os.fdatasync if hasattr(os, "fdatasync") else os.fsync)(fd)


def _fsync_directory(path: str) -> None:
    fd = os.open(os.path.dirname(os.path.abspath(path)), os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_progress(path: str, record: dict) -> None:
    """Replace the progress record atomically and durably: a kill or a power
    loss leaves the old record or the new one."""
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(record, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    _fsync_directory(path)


def _progress_bar(total: int, initial: int, quiet: bool):
    if quiet:
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, initial=initial, unit="B", unit_scale=True, unit_divisor=1024, file=sys.stderr)


def _start_over_hint(progress: str) -> str:
    return f"rerun without --resume and with --force to start over (this deletes {progress})"


def _read_progress(table: Table, target: str, progress: str) -> dict:
    """The interrupted run's record, checked: well formed, and the same table as this command's."""
    try:
        with open(progress, "rb") as f:
            text = f.read()
    except FileNotFoundError:
        state = f"{target} exists" if os.path.exists(target) else f"no {target}"
        raise CommandError(f"--resume: no {progress}, so nothing to resume ({state}); "
                           f"run without --resume (add --force to replace {target})", 2) from None
    try:
        saved = json.loads(text)
        valid = (isinstance(saved, dict) and saved.get("format") == PROGRESS_FORMAT
                 and isinstance(saved.get("bits"), dict) and type(saved.get("replace")) is bool
                 and type(saved.get("elements_done")) is int and 0 <= saved["elements_done"] <= table.size)
    except ValueError:  # not JSON, or not UTF-8
        valid = False
    if not valid:
        raise CommandError(f"--resume: {progress} is not a progress record of this fastinit "
                           f"(damaged or edited); {_start_over_hint(progress)}", 1)
    given = table.bits_record()
    differ = [k for k in sorted(set(given) | set(saved["bits"])) if given.get(k) != saved["bits"].get(k)]
    if differ:
        detail = "; ".join(f"{k}: interrupted run {saved['bits'].get(k)!r}, now {given.get(k)!r}"
                           if k != "draws" else f"draws: interrupted run {saved.get('command')}, now {table.command()}"
                           for k in differ)
        raise CommandError(f"--resume: this command differs from the interrupted run in {progress} ({detail}); "
                           f"repeat the interrupted command, or {_start_over_hint(progress)}", 2)
    return saved


def _check_partial_for_resume(table: Table, partial: str, progress: str, fd: int, done: int) -> None:
    header = os.pread(fd, len(table.header), 0)
    if header != table.header or os.fstat(fd).st_size < len(table.header) + done * table.dtype.itemsize:
        raise CommandError(f"--resume: {partial} does not hold the first {done} elements that {progress} "
                           f"records; {_start_over_hint(progress)}", 1)


def _is_table(path: str, table) -> bool:
    """Whether path holds a .npy of table's header and size (the file the
    final rename put in place, not some other file under its name)."""
    try:
        with open(path, "rb") as f:
            header = f.read(len(table.header))
            size = os.fstat(f.fileno()).st_size
    except FileNotFoundError:
        return False
    return header == table.header and size == len(table.header) + table.size * table.dtype.itemsize


MAX_SYMLINKS = 40  # as the kernel's limit on links in one path lookup


def resolve_output(path: str) -> str:
    """The file -o names: path, or if path is a symbolic link, the file it
    points to (link after link), as numpy.save writes through it; a dangling
    link gives the path the file is to be created at."""
    for _ in range(MAX_SYMLINKS):
        if not os.path.islink(path):
            return path
        path = os.path.join(os.path.dirname(path), os.readlink(path))
    raise CommandError(f"{path}: too many levels of symbolic links", 2)


def _check_regular(path: str, follow: bool) -> None:
    """Refuse a path that exists and is not a regular file: a directory, a
    FIFO, a socket, a device (or, for the run's own files, a link)."""
    try:
        mode = (os.stat if follow else os.lstat)(path).st_mode
    except FileNotFoundError:
        return
    if stat.S_ISDIR(mode):
        raise CommandError(f"{path} is a directory: -o takes the path of a .npy file", 2)
    if not stat.S_ISREG(mode):
        kind = "a symbolic link" if stat.S_ISLNK(mode) else "not a regular file (a FIFO, socket or device)"
        raise CommandError(f"{path} is {kind}: fastinit generate writes regular files only "
                           f"(-o - writes the .npy stream to standard output)", 2)


def _holder(progress: str) -> str:
    """The run holding an output, as its progress record names it."""
    try:
        with open(progress, "rb") as f:
            record = json.loads(f.read())
        return f"pid {int(record['pid'])}: {record['command']}"
    except (OSError, ValueError, TypeError, KeyError):
        return "it has not recorded its pid yet"


# A run that has just created OUTPUT.partial may find it locked by another run
# that opened it in between only to refuse (no --force): it waits this long.
CREATED_LOCK_WAIT_S = 1.0


def lock_partial(partial: str, progress: str, create: bool):
    """(fd, created): partial opened read-write and exclusively locked
    (flock) by this run, and whether this run created it; (None, False) if it
    does not exist and create is false. Another run holding it is a
    CommandError naming that run. The lock is taken on the file now under
    the name: a holder may have renamed it into place between our open and
    our lock, and then we try again."""
    while True:
        created = False
        try:
            flags = os.O_RDWR | getattr(os, "O_NOFOLLOW", 0)
            if create:
                try:
                    fd = os.open(partial, flags | os.O_CREAT | os.O_EXCL, 0o666)
                    created = True
                except FileExistsError:
                    fd = os.open(partial, flags)
            else:
                fd = os.open(partial, flags)
        except FileNotFoundError:
            if os.path.isdir(os.path.dirname(os.path.abspath(partial))):
                if create:
                    continue  # renamed into place between the two opens
                return None, False
            raise
        if fcntl is None:
            return fd, created
        wait_until = time.monotonic() + (CREATED_LOCK_WAIT_S if created else 0)
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= wait_until:
                    os.close(fd)
                    raise CommandError(f"{partial} is being written by another fastinit run "
                                       f"({_holder(progress)}); wait for it to finish, or stop it", 1) from None
                time.sleep(0.001)
        try:
            same = os.path.samestat(os.fstat(fd), os.lstat(partial))
        except FileNotFoundError:
            same = False
        if same:
            return fd, created
        os.close(fd)


def generate(args, parser) -> int:
    if args.chunk_mb < 1:
        parser.error(f"--chunk-mb must be >= 1, got {args.chunk_mb}")
    table = Table(args, parser)
    if args.output == "-":
        return _generate_to_stdout(table, args)
    target = resolve_output(args.output)
    partial, progress = target + PARTIAL_SUFFIX, target + PROGRESS_SUFFIX
    _check_regular(target, follow=True)
    for path in (partial, progress):
        _check_regular(path, follow=False)
    fd, created = lock_partial(partial, progress, create=not args.resume)
    try:
        record, done = _prepare(table, args, target, partial, progress, fd, created)
    except BaseException:
        if fd is not None:
            if created:
                os.remove(partial)  # ours, still empty: a refusal leaves nothing behind
            os.close(fd)
        raise
    if record is None:
        return 0
    return _write_table(table, args, target, partial, progress, fd, record, done)


def _prepare(table: Table, args, target: str, partial: str, progress: str, fd, created: bool):
    """Under the lock: check what is there against the flags, then start the
    progress record (this run's pid in it). (record, elements done), or
    (None, 0) if a resumed run turns out complete."""
    if args.resume:
        saved = _read_progress(table, target, progress)
        done = saved["elements_done"]
        if fd is None and done == table.size and _is_table(target, table):
            os.remove(progress)  # killed after the final rename: already complete
            return None, 0
        if os.path.exists(target) and not saved["replace"]:
            raise CommandError(f"--resume: {target} exists and the interrupted run was not started with --force; "
                               f"move {target} away and rerun with --resume, or start over with --force", 2)
        if fd is None:
            raise CommandError(f"--resume: {partial} is missing; {_start_over_hint(progress)}", 1)
        _check_partial_for_resume(table, partial, progress, fd, done)
        record = dict(saved, pid=os.getpid())
        _write_progress(progress, record)
        return record, done
    if not args.force:
        # under the lock: a run that held it may have renamed its table into place until then
        for path, what, there in ((target, "exists", os.path.exists(target)),
                                  (partial, "holds an interrupted run", not created)):
            if there:
                raise CommandError(f"{path} {what}: pass --force to replace it, or --resume to complete "
                                   f"an interrupted run of this command", 2)
    if os.path.exists(progress):
        os.remove(progress)  # before the partial file is truncated: no stale record may describe it
    os.ftruncate(fd, 0)
    _pwrite_all(fd, table.header, 0)
    os.fsync(fd)
    record = {"format": PROGRESS_FORMAT, "bits": table.bits_record(), "command": table.command(),
              "replace": args.force, "elements_done": 0, "pid": os.getpid()}
    _write_progress(progress, record)
    return record, 0


def _write_table(table: Table, args, target: str, partial: str, progress: str, fd: int, record: dict,
                 done: int) -> int:
    """Every chunk not yet done into the locked partial file, then the rename."""
    bar = None
    try:
        def write(data, first):
            try:
                _pwrite_all(fd, data, len(table.header) + first * table.dtype.itemsize)
                _sync_data(fd)  # on disk before the progress record says so
            except OSError as e:
                raise OSError(e.errno, e.strerror, partial) from None

        def chunk_written(elements_done):
            record["elements_done"] = elements_done
            _write_progress(progress, record)

        itemsize = table.dtype.itemsize
        bar = _progress_bar(table.size * itemsize, done * itemsize, args.quiet)
        write_chunks(table, table.chunk_bytes(args.chunk_mb), done, write, chunk_written, bar)
        os.fsync(fd)
        os.replace(partial, target)  # only now is the table under its final name (the lock still held)
    except KeyboardInterrupt:
        raise CommandError(f"interrupted: {record['elements_done']} of {table.size} elements are final in "
                           f"{partial}; rerun with --resume to continue", 130) from None
    except OSError as e:
        keep = f"; {partial} keeps the finished part: rerun with --resume to continue" \
            if os.path.exists(progress) else ""
        raise CommandError(f"{e.filename or partial}: {e.strerror or e}{keep}", 1) from None
    finally:
        os.close(fd)
        if bar is not None:
            bar.close()
    _fsync_directory(target)
    os.remove(progress)
    return 0


def _generate_to_stdout(table: Table, args) -> int:
    """``-o -``: the .npy stream on standard output, chunk by chunk."""
    if args.resume or args.force:
        raise CommandError("-o - (standard output) cannot be resumed or replaced: drop --resume/--force", 2)
    out = sys.stdout.buffer
    if out.isatty():
        raise CommandError("-o -: standard output is a terminal; redirect it to a file or a pipe", 2)
    bar = _progress_bar(table.size * table.dtype.itemsize, 0, args.quiet)
    try:
        out.write(table.header)
        write_chunks(table, table.chunk_bytes(args.chunk_mb), 0, lambda data, first: out.write(data),
                     lambda done: None, bar)
        out.flush()
    except KeyboardInterrupt:
        raise CommandError("interrupted: the .npy stream on standard output is incomplete", 130) from None
    except BrokenPipeError:
        # the reader went away: say so once, and keep Python from complaining again at exit
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise CommandError("-o -: standard output was closed before the table was complete", 1) from None
    finally:
        if bar is not None:
            bar.close()
    return 0


# ---------------------------------------------------------------- main

def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["bench"]:
        from fastinit import bench  # imported only when asked for
        return bench.main(argv[1:])
    args = build_parser().parse_args(_glue_negative_values(argv))
    prog = args.subparser.prog
    try:
        if args.command == "demo":
            from fastinit import demo
            return demo.main(args)
        return generate(args, args.subparser)
    except (ValueError, TypeError) as e:
        args.subparser.error(str(e))
    except CommandError as e:
        args.subparser.exit(e.status, f"{prog}: error: {e}\n")
    except KeyboardInterrupt:  # before generate wrote anything, or in demo
        args.subparser.exit(130, f"{prog}: interrupted\n")
    except OSError as e:
        args.subparser.exit(1, f"{prog}: error: {e.filename or ''}{': ' if e.filename else ''}{e.strerror or e}\n")
