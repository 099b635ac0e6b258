"""Benchmark cases shared by ``python -m fastinit bench`` (a side-by-side
table) and the pytest-benchmark suite in ``benchmarks/``.

Each case is an initializer, a dtype, a size and a target (a fresh array or an
existing ``out=`` buffer). Contenders: fastinit with default threads and with
one thread, the pure-NumPy version a user would write, ``torch.nn.init`` and
``mkl_random`` when installed, and the memory floor (``np.ones`` for a fresh
array, ``out.fill(1.0)`` for an existing one), so every time can be read as a
multiple of the cost of just writing the memory.
"""
from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from dataclasses import dataclass

import numpy as np

import fastinit
from fastinit import bench_models
from fastinit._prepare import prepare

SIZES = {"64x64": (64, 64), "1e6": (1000, 1000), "1e7": (10000, 1000), "1e8": (10000, 10000)}
INITIALIZERS = ("he_normal", "glorot_uniform", "lecun_normal")
SEED = 12345


@dataclass(frozen=True)
class Case:
    initializer: str
    dtype: str
    size: str
    target: str  # "fresh" or "out"

    @property
    def shape(self):
        return SIZES[self.size]

    @property
    def group(self) -> str:
        return f"{self.initializer}-{self.dtype}-{self.size}-{self.target}"


def _numpy_fn(case: Case, out):
    """What a NumPy user writes today."""
    dt, shape = np.dtype(case.dtype), case.shape
    p = bench_models.spec_parameter(case.initializer, shape)
    normal = case.initializer != "glorot_uniform"
    if out is None:
        if normal:
            return lambda: np.random.default_rng(SEED).standard_normal(shape, dtype=dt) * dt.type(p)
        return lambda: np.random.default_rng(SEED).uniform(-p, p, shape).astype(dt)

    def into_out(buf=out):
        rng = np.random.default_rng(SEED)
        if normal:
            rng.standard_normal(dtype=dt, out=buf)
            buf *= dt.type(p)
        else:
            rng.random(dtype=dt, out=buf)
            buf *= dt.type(2 * p)
            buf -= dt.type(p)
        return buf
    return into_out


def _torch_fn(case: Case, out):
    import torch

    init = {"he_normal": lambda t: torch.nn.init.kaiming_normal_(t, mode="fan_in", nonlinearity="relu"),
            "glorot_uniform": torch.nn.init.xavier_uniform_,
            "lecun_normal": lambda t: torch.nn.init.normal_(
                t, 0.0, bench_models.spec_parameter("lecun_normal", case.shape))}
    init = init[case.initializer]
    tdt = getattr(torch, case.dtype)
    if out is None:
        return lambda: init(torch.empty(case.shape, dtype=tdt))
    t = torch.from_numpy(out)
    return lambda: init(t)


def _mkl_fn(case: Case, out):
    import mkl_random

    p = bench_models.spec_parameter(case.initializer, case.shape)
    if case.initializer == "glorot_uniform":
        return lambda: mkl_random.RandomState(SEED, brng="PHILOX4X32X10").uniform(-p, p, case.shape).astype(case.dtype)
    return lambda: mkl_random.RandomState(SEED, brng="PHILOX4X32X10").normal(0.0, p, case.shape).astype(case.dtype)


def _floor_fn(case: Case, out):
    if out is None:
        return lambda: np.ones(case.shape, dtype=case.dtype)
    return lambda: out.fill(1.0)


def _fastinit_fn(threads):
    def make(case: Case, out):
        fn = getattr(fastinit, case.initializer)
        return lambda: fn(case.shape, SEED, dtype=case.dtype, out=out, threads=threads)
    return make


# name -> (factory(case, out) -> zero-argument callable, module it needs or None)
CONTENDERS = {
    "fastinit": (_fastinit_fn(None), None),
    "fastinit-1thread": (_fastinit_fn(1), None),
    "numpy": (_numpy_fn, None),
    "torch": (_torch_fn, "torch"),
    "mkl_random": (_mkl_fn, "mkl_random"),
    "memory-floor": (_floor_fn, None),
}


def available(contender: str) -> bool:
    return bench_models.importable(CONTENDERS[contender][1])


def make_call(contender: str, case: Case):
    """A zero-argument callable running contender on case (its out= buffer,
    if any, allocated and touched here, outside the timing)."""
    out = np.ones(case.shape, dtype=case.dtype) if case.target == "out" else None
    return CONTENDERS[contender][0](case, out)


def all_cases(sizes=tuple(SIZES), dtypes=("float32", "float64"), targets=("fresh", "out")):
    return [Case(i, d, s, t) for s in sizes for i in INITIALIZERS for d in dtypes for t in targets]


def time_call(fn, min_time: float, max_repeat: int, warmup: bool = True) -> float:
    """Median seconds per call over repeats lasting about min_time (after one warm-up call if warmup)."""
    if warmup:
        fn()
    times = []
    start = time.perf_counter()
    while len(times) < max_repeat and (len(times) < 3 or time.perf_counter() - start < min_time):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _relative(times, t):
    """(NumPy's time / t, t / the memory floor's time); nan where not timed."""
    nan = float("nan")
    return (times["numpy"] / t if "numpy" in times else nan,
            t / times["memory-floor"] if "memory-floor" in times else nan)


def _print_header(header, file):
    print(header, file=file)
    print("-" * len(header), file=file)


def run_table(cases, contenders, min_time=0.2, max_repeat=50, file=None):
    """Time every contender on every case and print one table per case."""
    file = file or sys.stdout  # looked up per call (pytest's capsys replaces it)
    print(f"fastinit {fastinit.__version__}, numpy {np.__version__}; median of repeats; "
          "GB/s counts output bytes; 'x floor' = time / memory-floor time", file=file)
    _print_header(f"{'case':38s} {'contender':17s} {'ns/elem':>9s} {'GB/s':>7s} {'vs numpy':>9s} {'x floor':>8s}", file)
    rows = []
    for case in cases:
        n = math.prod(case.shape)
        nbytes = n * np.dtype(case.dtype).itemsize
        times = {}
        for name in contenders:
            if available(name):
                times[name] = time_call(make_call(name, case), min_time, max_repeat)
        for name, t in times.items():
            vs_numpy, floor = _relative(times, t)
            print(f"{case.group:38s} {name:17s} {t / n * 1e9:9.3f} {nbytes / t / 1e9:7.2f} "
                  f"{vs_numpy:8.1f}x {floor:7.2f}x", file=file)
            rows.append((case, name, t))
        print(file=file)
    return rows


def run_models(models, contenders, repeats=3, file=None):
    """Time initializing every parameter of each model (fastinit.bench_models).
    No warm-up call: every run allocates its model afresh, and available()
    has already imported torch."""
    file = file or sys.stdout  # looked up per call (pytest's capsys replaces it)
    print("Whole models (float32, fresh arrays; median of a few runs): BERT-base as Hugging Face "
          "initializes it, ResNet-50 as torchvision does", file=file)
    _print_header(f"{'model':11s} {'params':>11s} {'contender':17s} {'ms':>9s} {'ns/param':>9s} {'vs numpy':>9s} "
                  f"{'x floor':>8s}", file)
    rows = []
    for model in models:
        n = bench_models.n_params(model)
        times = {name: time_call(bench_models.make_call(name, model), 0.0, repeats, warmup=False)
                 for name in contenders if bench_models.available(name)}
        for name, t in times.items():
            vs_numpy, floor = _relative(times, t)
            print(f"{model:11s} {n:11,d} {name:17s} {t * 1e3:9.1f} {t / n * 1e9:9.3f} {vs_numpy:8.1f}x {floor:7.2f}x",
                  file=file)
            rows.append((model, name, t))
    print(file=file)
    return rows


# ---------------------------------------------------------------- hot path
# The per-call cost of a small array: a public call against the bare C fill
# of the same request (the prepared call's C request into an existing
# buffer: no argument handling at all), timed in alternation in one run, so
# the difference is what argument handling, planning and the new array cost.

HOT_SHAPE = (64, 64)


def _bare_fill(name: str, dtype, **options):
    """A zero-argument callable filling an existing buffer with the C request
    of name(HOT_SHAPE, SEED, dtype=dtype, **options), nothing else."""
    request = prepare(name, HOT_SHAPE, dtype=dtype, **options).request()
    out = request.run(SEED, 0)
    return lambda: request.run(SEED, 0, out)


def hot_cases():
    """(label, the call, its bare fill, target overhead in us or None)."""
    out = np.empty(HOT_SHAPE, np.float32)
    return [
        ("he_normal((64, 64), seed)", lambda: fastinit.he_normal(HOT_SHAPE, SEED),
         _bare_fill("he_normal", np.float32), 1.0),
        ("he_normal(.., out=, dtype=, index=)",
         lambda: fastinit.he_normal(HOT_SHAPE, SEED, out=out, dtype=np.float32, index=(slice(0, 64),)),
         _bare_fill("he_normal", np.float32), 2.0),
        ("he_normal(.., mode=, nonlinearity=, a=)",
         lambda: fastinit.he_normal(HOT_SHAPE, SEED, mode="fan_out", nonlinearity="leaky_relu", a=0.1),
         _bare_fill("he_normal", np.float32, mode="fan_out", nonlinearity="leaky_relu", a=0.1), None),
        ("bits((64, 64), seed)", lambda: fastinit.bits(HOT_SHAPE, SEED), _bare_fill("bits", np.uint32), 1.5),
    ]


FIRST_CALL_INITIALIZERS = ("he_normal", "glorot_uniform", "normal", "uniform", "truncated_normal")


def first_call_overheads(calls=1000) -> dict:
    """{initializer: (median us of a first call, median us of its bare
    fill)}: each call of a shape never used before, (a, b, 1) near 64x64
    float32 (plain arguments), timed against the bare C fill of a request
    for the same number of elements prepared beforehand, the two alternating."""
    result = {}
    for n, name in enumerate(FIRST_CALL_INITIALIZERS):
        fn = getattr(fastinit, name)
        # axes 0..1 distinct per call; the third axis (n + 1) per initializer keeps every shape new
        shapes = [(32 + i % 64, 32 + i // 64, n + 1) for i in range(calls)]
        requests = [prepare(name, (a, b * c), dtype=np.float32).request() for a, b, c in shapes]
        outs = [r.run(SEED, 0) for r in requests]
        t_call, t_fill = [], []
        for shape, request, out in zip(shapes, requests, outs):
            t0 = time.perf_counter()
            fn(shape, SEED)
            t1 = time.perf_counter()
            request.run(SEED, 0, out)
            t_call.append(t1 - t0)
            t_fill.append(time.perf_counter() - t1)
        result[name] = (statistics.median(t_call) * 1e6, statistics.median(t_fill) * 1e6)
    return result


def _alternating(fns, rounds: int, calls: int) -> list:
    """Median seconds per call of each fn, timed in alternation (calls per
    round each) so that load on the machine hits all of them alike."""
    times = [[] for _ in fns]
    for _ in range(rounds):
        for fn, ts in zip(fns, times):
            t0 = time.perf_counter()
            for _ in range(calls):
                fn()
            ts.append((time.perf_counter() - t0) / calls)
    return [statistics.median(ts) for ts in times]


def run_hot_path(rounds=31, calls=200, file=None):
    """Call vs bare fill for small-array calls (the hot path), and
    he_normal against NumPy's seeded recipe; returns the rows measured."""
    file = file or sys.stdout  # looked up per call (pytest's capsys replaces it)
    std = bench_models.spec_parameter("he_normal", HOT_SHAPE)
    numpy_call = lambda: np.random.default_rng(SEED).standard_normal(HOT_SHAPE, dtype=np.float32) * np.float32(std)
    print("Hot path (64x64 float32): the call against the bare C fill of the same request, "
          "alternating, median us per call", file=file)
    header = f"{'call':42s} {'call us':>8s} {'fill us':>8s} {'overhead':>9s} {'target':>7s}"
    _print_header(header, file)
    rows = []
    for label, call, fill, target in hot_cases():
        t_call, t_fill = _alternating([call, fill], rounds, calls)
        overhead = (t_call - t_fill) * 1e6
        mark = "" if target is None else f"<= {target:.1f}"
        print(f"{label:42s} {t_call * 1e6:8.2f} {t_fill * 1e6:8.2f} {overhead:9.2f} {mark:>7s}", file=file)
        rows.append((label, t_call, t_fill))
    for name, (t_call, t_fill) in first_call_overheads().items():
        label = f"{name}(new shape each call, seed)"
        print(f"{label:42s} {t_call:8.2f} {t_fill:8.2f} {t_call - t_fill:9.2f} {'<= 10.0':>7s}", file=file)
        rows.append((label, t_call * 1e-6, t_fill * 1e-6))
    t_fast, t_numpy = _alternating([hot_cases()[0][1], numpy_call], rounds, calls // 4)
    print(f"he_normal((64, 64), seed) {t_fast * 1e6:.2f} us vs NumPy default_rng(seed).standard_normal * std "
          f"{t_numpy * 1e6:.2f} us: {t_numpy / t_fast:.1f}x (target >= 5x)", file=file)
    print(file=file)
    return rows + [("numpy he_normal", t_numpy, t_fast)]


SHOWCASE = (
    ("he_normal", (512, 256), {}),
    ("glorot_uniform", (784, 300), {}),
    ("lecun_normal", (3, 3, 64, 128), {}),
    ("he_uniform", (64, 3, 7, 7), {"layout": "torch"}),
    ("glorot_normal", (4096, 1024), {}),
)


def print_showcase(file=None):
    """A few initialized arrays: shape, empirical std against the formula."""
    file = file or sys.stdout  # looked up per call (pytest's capsys replaces it)
    print("A few initialized arrays (seed 0): empirical std vs the formula", file=file)
    print(f"{'initializer':15s} {'shape':18s} {'layout':7s} {'fan_in':>7s} {'fan_out':>7s} "
          f"{'formula std':>12s} {'measured':>10s} {'ratio':>7s}", file=file)
    for name, shape, kw in SHOWCASE:
        fan_in, fan_out = fastinit.compute_fans(shape, layout=kw.get("layout"))
        std = prepare(name, shape, **kw).distribution.std
        x = getattr(fastinit, name)(shape, 0, **kw)
        measured = float(x.std(dtype=np.float64))
        print(f"{name:15s} {str(shape):18s} {kw.get('layout') or 'numpy':7s} {fan_in:7d} {fan_out:7d} "
              f"{std:12.6f} {measured:10.6f} {measured / std:7.4f}", file=file)
    print(file=file)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="fastinit bench",
        description="Time fastinit against NumPy (and torch / mkl_random if installed) and the "
                    "memory floor; prints one side-by-side table.")
    parser.add_argument("--sizes", default="64x64,1e6,1e8",
                        help=f"comma-separated sizes from {list(SIZES)} (default: %(default)s)")
    parser.add_argument("--dtypes", default="float32",
                        help="float32 and/or float64 (default: %(default)s, which keeps the table under a minute)")
    parser.add_argument("--targets", default="fresh,out", help="fresh and/or out (default: %(default)s)")
    parser.add_argument("--initializers", default=",".join(INITIALIZERS), help="default: %(default)s")
    parser.add_argument("--contenders", default=",".join(CONTENDERS), help="default: %(default)s")
    parser.add_argument("--models", default="resnet50",
                        help=f"whole models to initialize, from {list(bench_models.MODELS)}, '' for none "
                             "(default: %(default)s; bert-base adds ~10 s)")
    parser.add_argument("--model-contenders", default=",".join(bench_models.CONTENDERS),
                        help="default: %(default)s")
    parser.add_argument("--no-hot-path", action="store_true",
                        help="skip the per-call cost table of small arrays (call vs bare fill)")
    parser.add_argument("--no-showcase", action="store_true",
                        help="skip the table of initialized arrays (std vs formula)")
    parser.add_argument("--min-time", type=float, default=0.2,
                        help="seconds of repeats per contender and case (default: %(default)s)")
    args = parser.parse_args(argv)

    def pick(text, allowed, what):
        items = [x for x in text.split(",") if x]
        bad = [x for x in items if x not in allowed]
        if bad:
            parser.error(f"unknown {what} {bad}; choose from {list(allowed)}")
        return items

    sizes = pick(args.sizes, SIZES, "size")
    dtypes = pick(args.dtypes, ("float32", "float64"), "dtype")
    targets = pick(args.targets, ("fresh", "out"), "target")
    inits = pick(args.initializers, INITIALIZERS, "initializer")
    contenders = pick(args.contenders, CONTENDERS, "contender")
    models = pick(args.models, bench_models.MODELS, "model")
    model_contenders = pick(args.model_contenders, bench_models.CONTENDERS, "model contender")
    cases = [c for c in all_cases(sizes, dtypes, targets) if c.initializer in inits]
    if not args.no_showcase:
        print_showcase()
    if not args.no_hot_path:
        run_hot_path()
    run_table(cases, contenders, min_time=args.min_time)
    if models:
        run_models(models, model_contenders)
    return 0


if __name__ == "__main__":
    sys.exit(main())
