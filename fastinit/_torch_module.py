"""Whole-module initialization for PyTorch: each module's own init code, with
its random fills routed through fastinit.

``init_module`` runs every module's ``reset_parameters`` /
``_reset_parameters`` (or a function the caller passes, such as a Hugging Face
model's ``_init_weights``) inside a ``torch.overrides.TorchFunctionMode``
that sees every ``Tensor.uniform_``/``normal_`` and ``torch.nn.init`` call.
A random fill whose target is (a view of, the ``.data`` of, or the DTensor
of) a parameter or buffer of the module is replaced by fastinit's fill with
the distribution PyTorch computed, at the parameter's positions, under
``(seed, stable_stream(name))``. Everything else (``zeros_``, ``fill_``,
``eye_``, ``dirac_``, ``constant_``, copies, temporaries) runs as PyTorch
runs it. So every module type keeps PyTorch's (or the library's) default
distribution and the values depend only on (seed, parameter name, position):
not on construction order, device, world size or sharding.

``initializing`` is the context-manager form for code that initializes inside
constructors: it records the fills while the model is built and replays them,
routed, once the model is complete and its parameter names are known.
"""
from __future__ import annotations

import contextlib
import hashlib
import inspect
import numbers
import sys
import threading
import warnings
import zlib
from typing import NamedTuple

import numpy as np

import torch
from torch import nn
from torch.overrides import TorchFunctionMode

import fastinit
from fastinit import _checks, _torch_fill
from fastinit._prepare import prepare

try:
    from torch.distributed.tensor import DTensor
except ImportError:  # a torch build without distributed support
    DTensor = ()

__all__ = ["init_module", "initializing", "stable_stream"]


def stable_stream(name: str) -> int:
    """The stream of a parameter: the first 8 bytes (little-endian) of the
    SHA-256 of its qualified name. Unlike ``hash()``, it is the same in every
    process and Python version.

    >>> stable_stream("0.weight") == stable_stream("0.weight")
    True
    """
    return int.from_bytes(hashlib.sha256(name.encode("utf-8")).digest()[:8], "little")


# ------------------------------------------------------- which parameter

def _local(tensor):
    """The tensor holding this rank's elements (a DTensor's local shard)."""
    return tensor._local_tensor if isinstance(tensor, DTensor) else tensor


def _storage_key(local):
    return local.device, local.untyped_storage().data_ptr()


def _plain_name(name):
    """name without the ``_orig_mod`` components ``torch.compile`` adds, so a
    compiled module gets the plain module's streams."""
    return ".".join(part for part in name.split(".") if part != "_orig_mod")


def _named_tensors(module):
    """(plain name, tensor) of every parameter and buffer, duplicates included,
    unmaterialized lazy parameters left out (PyTorch's init skips them too)."""
    for name, tensor in [*module.named_parameters(remove_duplicate=False),
                         *module.named_buffers(remove_duplicate=False)]:
        if not isinstance(tensor, nn.parameter.UninitializedTensorMixin):
            yield _plain_name(name), tensor


class _Names:
    """Every parameter and buffer of a module by the storage it lives in, so
    that a fill can be traced back to the parameter it writes whatever view,
    ``.data`` or DTensor of it the init code holds. A tensor shared under
    several names goes by the first of them in sorted order, so the name does
    not depend on which module registered it first."""

    def __init__(self, module):
        names = {}
        for name, tensor in _named_tensors(module):
            names.setdefault(id(tensor), (tensor, []))[1].append(name)
        self.by_storage = {}
        for tensor, tensor_names in names.values():
            local = _local(tensor)
            if local.is_meta or local.numel() == 0:
                continue
            self.by_storage.setdefault(_storage_key(local), []).append((min(tensor_names), tensor))

    def find(self, tensor):
        """``(name, parameter, positions)`` of the parameter tensor writes,
        positions None when tensor is the whole parameter, else the flat
        (C-order) positions in the parameter of tensor's elements; or None
        when tensor belongs to no parameter."""
        local = _local(tensor)
        if local.is_meta or local.numel() == 0:
            return None
        for name, param in self.by_storage.get(_storage_key(local), ()):
            own = _local(param)
            if (local.storage_offset(), local.shape, local.stride()) == \
                    (own.storage_offset(), own.shape, own.stride()):
                if isinstance(param, DTensor) and not isinstance(tensor, DTensor):
                    return name, param, _Unroutable(
                        f"a random fill of the local shard of the DTensor parameter {name!r}: fill the "
                        f"DTensor itself, so that fastinit knows which block of the global tensor it is")
                return name, param, None
            positions = _positions_in(own, local)
            if positions is not None:
                if isinstance(tensor, DTensor) or isinstance(param, DTensor):
                    return name, param, _Unroutable(
                        f"a random fill of a view of the sharded parameter {name!r}: fill the whole "
                        f"parameter (fastinit routes whole DTensors, not views of them)")
                return name, param, positions
        for name, param in self.by_storage.get(_storage_key(local), ()):
            return name, param, _Unroutable(
                f"a random fill of a tensor that shares storage with the parameter {name!r} but is not inside "
                f"it (interleaved or overlapping parameters): fill each parameter itself")
        return None


class _Unroutable(str):
    """The positions find() gives for a write fastinit cannot place in the
    global tensor (a view or the local shard of a DTensor parameter): why.
    Only a random fill of it is refused; other writes (a padding row's
    ``fill_(0)``) run as they are."""


def _positions_in(param, view):
    """Flat C-order positions in param of view's elements (both sharing one
    storage), or None if view is not inside param."""
    start = param.storage_offset()
    span = sum((n - 1) * s for n, s in zip(param.shape, param.stride())) + 1
    lowest = view.storage_offset() + sum((n - 1) * s for n, s in zip(view.shape, view.stride()) if s < 0)
    highest = view.storage_offset() + sum((n - 1) * s for n, s in zip(view.shape, view.stride()) if s > 0)
    if lowest < start or highest >= start + span:
        return None
    # flat position of every storage element of param, laid out as param is;
    # -1 where the storage holds no element of param (another parameter
    # interleaved with it)
    flat = torch.full((span,), -1, dtype=torch.int64)
    flat.as_strided(param.shape, param.stride(), 0).copy_(torch.arange(param.numel()).view(param.shape))
    positions = flat.as_strided(view.shape, view.stride(), view.storage_offset() - start).reshape(-1)
    return None if bool((positions < 0).any()) else positions.numpy()


# ------------------------------------------------------- the routing

def _caller_locals(code, depth=12):
    """Locals of the innermost caller frame running code, or None."""
    frame = sys._getframe(1)
    for _ in range(depth):
        if frame is None:
            return None
        if frame.f_code is code:
            return frame.f_locals
        frame = frame.f_back
    return None


# torch.nn.init functions that draw temporaries (a rejection loop, a QR of a
# Gaussian matrix, sparse_'s random rows): recognised from the fill's caller
# frame, so each routes as one fastinit draw however it is reached (also
# through a reference taken before this module was imported, as Hugging
# Face's initialization does). Looked up when first needed, and by public
# name when PyTorch's private helper is gone: nothing private is read at
# import.
def _trunc_normal_code():
    helper = getattr(nn.init, "_no_grad_trunc_normal_", None) or nn.init.trunc_normal_
    return helper.__code__


_ORTHOGONAL = nn.init.orthogonal_.__code__
_SPARSE = nn.init.sparse_.__code__

_RANDOM_METHODS = {"bernoulli_", "cauchy_", "exponential_", "geometric_", "log_normal_", "random_"}
# torch functions that draw from PyTorch's generator into out=
_RANDOM_FUNCTIONS = {"normal", "rand", "randn", "randint", "randperm", "bernoulli", "poisson", "multinomial"}
_NOT_WRITES = {"requires_grad_", "share_memory_"}


def _writes(func):
    """Whether func writes its first argument in place (PyTorch's trailing
    underscore, or item assignment)."""
    name = getattr(func, "__name__", "")
    return name == "__setitem__" or (name.endswith("_") and not name.endswith("__") and name not in _NOT_WRITES)


def _kaiming_bound(tensor, a, mode, nonlinearity):
    """The U(-bound, bound) of nn.init.kaiming_uniform_, None for a zero-element tensor."""
    if 0 in tensor.shape:
        return None
    options = {"a": a, "mode": mode, "nonlinearity": nonlinearity, "layout": "torch"}
    return prepare("he_uniform", tuple(tensor.shape), **options).distribution.high


# The nn.init functions that reach a TorchFunctionMode themselves (they check
# for overrides; PyTorch passes their arguments by keyword). By name: a
# library may rebind them (Hugging Face's initialization guard swaps in
# wrappers with the same signatures, and PyTorch then reports the wrapper).
_INIT_SIGNATURES = {f.__name__: inspect.signature(f) for f in
                    (nn.init.uniform_, nn.init.normal_, nn.init.kaiming_uniform_, nn.init.constant_)}


def _init_function(func):
    """The name of the nn.init function func stands for, or None."""
    name = getattr(func, "__name__", None)
    return name if inspect.isfunction(func) and name in _INIT_SIGNATURES else None


def _arguments(func, args, kwargs):
    """The tensor a call writes and its other arguments by name (torch spells
    some, like Tensor.uniform_'s ``from``, that Python cannot)."""
    if _init_function(func):
        bound = _INIT_SIGNATURES[func.__name__].bind(*args, **kwargs)
        bound.apply_defaults()
        arguments = dict(bound.arguments)
        return arguments.pop("tensor"), arguments
    if func is torch.Tensor.uniform_:
        return args[0], {"a": args[1] if len(args) > 1 else kwargs.get("from", 0.0),
                         "b": args[2] if len(args) > 2 else kwargs.get("to", 1.0)}
    if func is torch.Tensor.normal_:
        return args[0], {"mean": args[1] if len(args) > 1 else kwargs.get("mean", 0.0),
                         "std": args[2] if len(args) > 2 else kwargs.get("std", 1.0)}
    return (args[0] if args and isinstance(args[0], torch.Tensor) else None), {}


class _Selection(NamedTuple):
    """An index of a DTensor parameter (``weight[padding_idx]``): per dim of
    the global tensor the global indices it picks (in the order it picks
    them) and whether the dim stays (a slice) or goes (an int)."""

    name: str
    param: object
    picks: tuple
    kept: tuple


def _selection(name, param, index):
    """The _Selection of param[index] for ints, slices and Ellipsis; other
    indices (masks, index tensors) are refused."""
    index = index if isinstance(index, tuple) else (index,)
    shape = tuple(param.shape)
    if sum(i is Ellipsis for i in index) == 1:
        at = next(k for k, i in enumerate(index) if i is Ellipsis)
        index = index[:at] + (slice(None),) * (len(shape) - len(index) + 1) + index[at + 1:]
    if len(index) > len(shape) or any(i is Ellipsis for i in index):
        raise IndexError(f"too many indices for the parameter {name!r} of shape {shape}: {index}")
    picks, kept = [], []
    for dim, n in enumerate(shape):
        i = index[dim] if dim < len(index) else slice(None)
        if isinstance(i, torch.Tensor) and i.dim() == 0 and not i.is_floating_point():
            i = int(i)
        if isinstance(i, slice):
            picks.append(range(n)[i])
            kept.append(True)
        elif isinstance(i, numbers.Integral) and not isinstance(i, bool):
            if not -n <= int(i) < n:
                raise IndexError(f"index {int(i)} is out of bounds for dim {dim} of the parameter {name!r} "
                                 f"(size {n})")
            picks.append(range(int(i) % n, int(i) % n + 1))
            kept.append(False)
        else:
            raise NotImplementedError(
                f"a write into the sharded parameter {name!r} at the index {i!r}: fastinit places writes "
                f"through ints and slices of a DTensor parameter in its shards; index with those")
    return _Selection(name, param, tuple(picks), tuple(kept))


def _write_selection(func, args, kwargs, selection, value_at=1):
    """Run the write func(selected elements, *args[1:]) on this rank's
    elements of the selection, in its local shard: an elementwise write
    (fill_, zero_, copy_, mul_, __setitem__...), whose tensor arguments have
    the selection's shape (or broadcast to it)."""
    for local, held in _torch_fill._dtensor_blocks(selection.param):
        local_at, picked_at = [], []
        for global_indices, picks in zip(held, selection.picks):
            order = {g: k for k, g in enumerate(picks)}
            mine = [k for k, g in enumerate(global_indices) if g in order]
            local_at.append(mine)
            picked_at.append([order[global_indices[k]] for k in mine])
        if not all(local_at):
            continue  # none of the selected elements lives on this rank
        local_index = tuple(torch.as_tensor(a) for a in np.ix_(*local_at))
        picked_index = tuple(torch.as_tensor(a) for a in np.ix_(*picked_at))
        full = [len(p) for p in selection.picks]

        def mine(value):
            if isinstance(value, DTensor):
                raise NotImplementedError(f"a write of a DTensor into part of the sharded parameter "
                                          f"{selection.name!r}: write a plain tensor or a number")
            if not isinstance(value, torch.Tensor):
                return value
            value = value.expand([n for n, stays in zip(full, selection.kept) if stays])
            for dim, stays in enumerate(selection.kept):
                if not stays:
                    value = value.unsqueeze(dim)
            return value[picked_index]
        part = local[local_index]
        rest = [mine(a) for a in args[value_at:]]
        if func.__name__ == "__setitem__":
            part[...] = rest[0]
        else:
            func(part, *rest, **{k: mine(v) for k, v in kwargs.items()})
        local[local_index] = part


class _Routing(TorchFunctionMode):
    """Routes the random fills of parameters of one module through fastinit;
    skipped parameters are not written at all.

    ``module``, set by init_module while each submodule's init runs, is who
    writes: a parameter is owned for the pass by the first module whose init
    writes it (``owners`` may name it beforehand), and only that module and
    its ancestors (whose init runs later, as a parent's constructor runs
    after its children's) write it again; the writes of any other module
    (the output Linear of a tied embedding) are skipped, as in eager code,
    where each module initialized its own tensor before the tie."""

    def __init__(self, seed, names, skip=frozenset(), owners=None):
        super().__init__()
        self.seed, self.names, self.skip = seed, names, skip
        self.routed_trunc = set()  # ids of tensors whose trunc_normal_ fastinit already filled
        self.module = None
        self.owners = dict(owners or {})  # parameter name -> the module that owns it
        self.written = set()  # names of the parameters and buffers written in the pass, skipped writes too
        self.selections = {}  # id(stand-in) -> (stand-in, _Selection) of indexed DTensor parameters

    def _foreign(self, name):
        """Whether the running module may not write the parameter name."""
        self.written.add(name)
        if self.module is None:
            return False
        owner = self.owners.setdefault(name, self.module)
        return owner is not self.module and not any(m is owner for m in self.module.modules())

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if isinstance(out := kwargs.get("out"), torch.Tensor) and (hit := self.names.find(out)) is not None:
            self.written.add(hit[0])  # torch.eye(..., out=p.data): eye_ of a .data, which no version counter sees
        if (held := self.selections.get(id(args[0]) if args else None)) is not None and held[0] is args[0] \
                and (func is torch.Tensor.__getitem__ or func.__name__ == "__setitem__"):
            raise NotImplementedError(f"an index of an index of the sharded parameter {held[1].name!r}: "
                                      f"index it once (weight[i, j], not weight[i][j])")
        if func is torch.Tensor.__getitem__ and isinstance(args[0], DTensor):
            return self._index(func, args, kwargs)
        if out is not None and getattr(func, "__name__", "") in _RANDOM_FUNCTIONS:
            self._refuse(func, out, f"torch.{func.__name__}(..., out=)")
        if not _writes(func):
            return func(*args, **kwargs)
        target, arguments = _arguments(func, args, kwargs)
        if target is None:
            return func(*args, **kwargs)
        if (held := self.selections.get(id(target))) is not None and held[0] is target:
            return self._write_selected(func, args, kwargs, held[1])
        if func.__name__ == "__setitem__" and isinstance(target, DTensor):
            hit = self.names.find(target)
            if hit is not None and hit[2] is None:
                return self._write_selected(func, args, kwargs, _selection(hit[0], hit[1], args[1]), value_at=2)
        hit = self.names.find(target)
        if hit is not None and (hit[0] in self.skip or self._foreign(hit[0])):
            return target
        if (frame := _caller_locals(_SPARSE)) is not None:
            self._refuse(func, frame["tensor"], "nn.init.sparse_ (its zero rows come from torch.randperm)")
        fill = self._draw(func, target, arguments)
        if fill is None:
            if hit is not None and func.__name__ in _RANDOM_METHODS:
                raise NotImplementedError(
                    f"Tensor.{func.__name__} on parameter {hit[0]!r}: fastinit routes uniform_, normal_ and the "
                    f"torch.nn.init functions; initialize it with one of those")
            return func(*args, **kwargs)
        kind, params = fill
        if kind == "skip":
            return target
        if hit is None:
            return func(*args, **kwargs)
        return self._fill(target, hit, kind, params)

    def _refuse(self, func, tensor, op):
        """A random write fastinit cannot make at a parameter's positions:
        an error naming the parameter and the op if tensor is one."""
        hit = self.names.find(tensor)
        if hit is not None and hit[0] not in self.skip:
            raise NotImplementedError(
                f"{op} on parameter {hit[0]!r} draws from PyTorch's generator: fastinit routes uniform_, "
                f"normal_ and the torch.nn.init functions; initialize it with one of those")

    def _index(self, func, args, kwargs):
        """param[index] of a DTensor parameter: a meta stand-in whose writes
        init_module places in the local shards (PyTorch's own indexing gives
        a copy, and a padding row's fill_(0) would be lost)."""
        hit = self.names.find(args[0])
        if hit is None or hit[2] is not None:
            return func(*args, **kwargs)
        selection = _selection(hit[0], hit[1], args[1])
        stand_in = torch.empty([len(p) for p, stays in zip(selection.picks, selection.kept) if stays],
                               dtype=args[0].dtype, device="meta")
        self.selections[id(stand_in)] = stand_in, selection
        return stand_in

    def _write_selected(self, func, args, kwargs, selection, value_at=1):
        if selection.name in self.skip or self._foreign(selection.name):
            return args[0]
        if func.__name__ in _RANDOM_METHODS or func in (torch.Tensor.uniform_, torch.Tensor.normal_) or \
                _init_function(func) in ("uniform_", "normal_", "kaiming_uniform_"):
            raise NotImplementedError(
                f"a random fill of part of the sharded parameter {selection.name!r}: fill the whole parameter "
                f"(fastinit routes whole DTensors, not parts of them)")
        with torch.no_grad():
            _write_selection(func, args, kwargs, selection, value_at)
        return args[0]

    def _draw(self, func, target, arguments):
        """(distribution, parameters) of a random fill, ("skip", ()) when it
        is already done, or None for a non-random write."""
        init = _init_function(func)
        if init and func is not getattr(nn.init, init) and getattr(target, "_is_hf_initialized", False):
            return "skip", ()  # what Hugging Face's wrapper would do: the tensor is loaded
        if func is torch.Tensor.uniform_ or init == "uniform_":
            return self._maybe_trunc(target) or ("uniform", (arguments["a"], arguments["b"]))
        if func is torch.Tensor.normal_ or init == "normal_":
            if self._maybe_orthogonal(target):
                return "skip", ()
            return self._maybe_trunc(target) or ("normal", (arguments["mean"], arguments["std"]))
        if init == "kaiming_uniform_":
            bound = _kaiming_bound(target, arguments["a"], arguments["mode"], arguments["nonlinearity"])
            if bound is None:  # a zero-element tensor: PyTorch's warning, nothing to fill
                nn.init.kaiming_uniform_(target, **arguments)
                return "skip", ()
            return "uniform", (-bound, bound)
        return None

    def _maybe_trunc(self, target):
        """Inside nn.init.trunc_normal_: the target gets fastinit's truncated
        normal; torch's own acceptance draws (temporaries) get 0, which
        accepts every value, so its rejection loop ends at once."""
        frame = _caller_locals(_trunc_normal_code())
        if frame is None:
            return None
        if frame["tensor"] is target:
            if self.names.find(target) is None:
                return None
            self.routed_trunc.add(id(target))
            return "truncated_normal", (frame["mean"], frame["std"], frame["a"], frame["b"])
        if id(frame["tensor"]) in self.routed_trunc:
            target.zero_()
            return "skip", ()
        return None

    def _maybe_orthogonal(self, target):
        """Inside nn.init.orthogonal_: its Gaussian matrix (a temporary) is
        drawn from the stream of the parameter it will become; PyTorch's QR
        does the rest. True when routed."""
        frame = _caller_locals(_ORTHOGONAL)
        if frame is None or frame["tensor"] is target:
            return False
        hit = self.names.find(frame["tensor"])
        if hit is None or hit[0] in self.skip or self._foreign(hit[0]):
            return hit is not None
        if isinstance(frame["tensor"], DTensor):
            raise NotImplementedError(f"orthogonal_ of the sharded parameter {hit[0]!r}")
        # the matrix of a view (say one gate's block) takes the values at the
        # view's positions, so blocks of one parameter differ
        self._fill(target, hit, "normal", (0.0, 1.0))
        return True

    def _fill(self, target, hit, kind, params):
        name, param, positions = hit
        if isinstance(positions, _Unroutable):
            raise NotImplementedError(positions)
        stream = stable_stream(name)
        params = _torch_fill._scalars(*params)
        fills = {"uniform": _torch_fill.uniform_, "normal": _torch_fill.normal_,
                 "truncated_normal": _torch_fill.trunc_normal_}
        if positions is None:
            with warnings.catch_warnings():  # trunc_normal_'s warning: PyTorch has given it
                warnings.simplefilter("ignore")
                return fills[kind](target, *params, seed=self.seed, stream=stream)
        generate = {"uniform": fastinit.uniform, "normal": fastinit.normal,
                    "truncated_normal": fastinit.truncated_normal}[kind]
        values = generate((param.numel(),), self.seed, *params, stream=stream, index=positions,
                          dtype=_torch_fill._numpy_dtype(target.dtype))
        with torch.no_grad():
            target.copy_(_torch_fill._from_numpy(values).view(target.shape))
        return target


# ------------------------------------------------------- entry points

def _check_skip(module, skip):
    if isinstance(skip, str):
        raise TypeError(f"skip must be a collection of parameter names, got the string {skip!r}")
    skip = frozenset(skip)
    known = {n for n, _ in _named_tensors(module)}
    unknown = sorted({_plain_name(n) for n in skip} - known)
    if unknown:
        raise ValueError(f"skip names parameters the module does not have: {unknown}")
    skip = {_plain_name(n) for n in skip}
    # a tied tensor goes by its first name: skipping any of its names skips it
    canonical = {}
    for name, tensor in _named_tensors(module):
        canonical.setdefault(id(tensor), []).append(name)
    return frozenset(min(names) for names in canonical.values() if skip & set(names))


def _children_first(module, prefix=""):
    """(name, module) for every module, each child (in registration order)
    before its parent, as construction runs a child's init before its
    parent's and ``Module.apply`` visits them; a shared module comes under
    each of its names."""
    for name, child in module._modules.items():
        if child is not None:
            yield from _children_first(child, f"{prefix}.{name}" if prefix else name)
    yield prefix, module


def _tie_owners(module):
    """{name: module} for every parameter that several modules register
    directly (tied weights) and an embedding among them: the embedding owns
    it. A tie is made by assigning an embedding's weight to another layer
    (an output Linear), so in eager code the tensor got the embedding's
    init, whichever module was registered first; other ties go to the first
    module that writes them."""
    canonical = {}
    for name, tensor in _named_tensors(module):
        canonical[id(tensor)] = min(canonical.get(id(tensor), name), name)
    holders = {}
    for _, sub in module.named_modules(remove_duplicate=False):
        for tensor in sub._parameters.values():
            if tensor is not None and id(tensor) in canonical:
                holders.setdefault(id(tensor), []).append(sub)
    owners = {}
    for key, subs in holders.items():
        embeddings = [m for m in subs if isinstance(m, (nn.Embedding, nn.EmbeddingBag))]
        if len({id(m) for m in subs}) > 1 and embeddings:
            owners[canonical[key]] = embeddings[0]
    return owners


def _reset_method(module):
    return getattr(module, "reset_parameters", None) or getattr(module, "_reset_parameters", None)


def _check_every_parameter_has_an_init(module):
    """Before writing anything: every module with parameters of its own has a
    reset method itself or in an ancestor (which may reset its children)."""
    def visit(prefix, sub, covered):
        covered = covered or _reset_method(sub) is not None
        own = [n for n, _ in sub.named_parameters(recurse=False)]
        if own and not covered:
            raise ValueError(
                f"module {prefix or '<root>'!r} of type {type(sub).__name__} has parameters {own} and no "
                f"reset_parameters(); pass init_fn=, a function(module) that initializes them")
        for name, child in sub._modules.items():
            if child is not None:
                visit(f"{prefix}.{name}" if prefix else name, child, covered)
    visit("", module, False)


def _reparametrized(module):
    """(qualified name, how) of every parameter that holds another tensor's
    values in a reparametrized form: torch.nn.utils.parametrize's
    ``original``s, the old weight_norm's ``_g``/``_v``, pruning's
    ``_orig``. A module's init writes the tensor it computes (a temporary),
    never them."""
    prune = sys.modules.get("torch.nn.utils.prune")  # a pruned module exists only once it is imported
    for prefix, sub in module.named_modules(remove_duplicate=False):
        dot = f"{prefix}." if prefix else ""
        parametrizations = sub._modules.get("parametrizations")
        if isinstance(parametrizations, nn.ModuleDict) and type(sub).__name__.startswith("Parametrized"):
            for tensor_name, chain in parametrizations.items():
                for original, _ in chain.named_parameters(recurse=False):
                    yield f"{dot}parametrizations.{tensor_name}.{original}", f"parametrized {tensor_name!r}"
        for hook in sub._forward_pre_hooks.values():
            if type(hook).__name__ == "WeightNorm":
                for suffix in ("_g", "_v"):
                    yield f"{dot}{hook.name}{suffix}", f"weight_norm of {hook.name!r}"
            elif prune is not None and isinstance(hook, prune.BasePruningMethod):
                yield f"{dot}{hook._tensor_name}_orig", f"pruned {hook._tensor_name!r}"


def _check_reparametrized(module, skip):
    for name, how in _reparametrized(module):
        if _plain_name(name) not in skip:
            raise ValueError(
                f"parameter {_plain_name(name)!r} ({how}) is never written by its module's init, which writes the "
                f"computed tensor: run init_module before parametrizing (as eager code initializes before "
                f"parametrizing), or pass it in skip= and set it yourself")


def _holders(module):
    """{id(tensor): [modules registering it directly]} for every parameter and buffer."""
    holders = {}
    for _, sub in module.named_modules(remove_duplicate=False):
        for tensor in [*sub._parameters.values(), *sub._buffers.values()]:
            if tensor is not None:
                holders.setdefault(id(tensor), []).append(sub)
    return holders


def _check_every_tensor_written(module, names, written, versions, has_init, skip):
    """After an init_module pass: a parameter or buffer registered by a
    module whose init code ran (``has_init(module)``) and that nothing in
    the pass wrote (no write the routing saw, no change of its version
    counter) holds whatever memory it had, uninitialized after ``to_empty``:
    an error naming it. Tensors of modules with no init code (values set
    in a constructor) are left as they are."""
    holders = _holders(module)
    missing = []
    for entries in names.by_storage.values():
        for name, tensor in entries:
            if name in skip or name in written or _local(tensor)._version != versions[id(tensor)]:
                continue
            if any(has_init(sub) for sub in holders.get(id(tensor), ())):
                missing.append(name)
    if missing:
        raise ValueError(
            f"parameters or buffers {sorted(missing)} are never written by their module's init code: after "
            f"to_empty they hold uninitialized memory; initialize them in reset_parameters() (or init_fn), or "
            f"pass them in skip= and set them yourself")


def init_module(module, seed, *, init_fn=None, skip=()):
    """Initialize module with its own init code, every random fill from
    fastinit, and return it.

    Runs ``init_fn(sub)`` for every submodule ``sub`` (each child before its
    parent, children in name order), by default each module's own
    ``reset_parameters()`` or ``_reset_parameters()``: PyTorch's defaults for
    every ``torch.nn`` type, and any third-party module's own. Each random
    fill of a parameter (``torch.nn.init`` functions, ``Tensor.uniform_`` and
    ``normal_``, on the parameter, its ``.data``, a view of it or its
    DTensor) is drawn by fastinit with the distribution the init code asked
    for, under ``seed`` and the stream ``stable_stream(name)`` of the
    parameter's qualified name, at the parameter's positions. The values
    depend only on (seed, name, position): not on construction order, device,
    or how the model is sharded (a DTensor rank fills only its own shard).
    Non-random writes (``zeros_``, ``ones_``, ``constant_``, ``eye_``,
    ``dirac_``, ``fill_``, ``copy_``) run unchanged.

    seed : int in [0, 2**64)
    init_fn : callable(module), optional
        Called for every submodule instead of its reset method, e.g. a Hugging
        Face model's ``model._init_weights``.
    skip : collection of str
        Qualified names of parameters or buffers to leave untouched (to be
        loaded from a checkpoint); any name of a tied parameter skips it.

    A parameter is initialized once, as in eager code: a tensor several
    modules share (tied weights) gets the init of one owner, the embedding
    of a tie (``head.weight = embed.weight`` ties after both modules
    initialized their own tensors, so eager code keeps the embedding's),
    else the first module whose init writes it; its own constant writes
    (the padding row's zero) included. Only the owner and its ancestors (a
    parent's init runs after its children's, as ``nn.Transformer``'s does)
    write it again; the other modules' writes to it are skipped. Indexed
    writes of a DTensor parameter (``weight[padding_idx].fill_(0)``,
    ``weight.data[i].zero_()``, ``weight[i] = 0``) land in the local shards.
    Parametrized tensors (``parametrize``, ``weight_norm``, pruning) raise
    ValueError naming the parameter unless skipped: initialize before
    parametrizing, as eager code does. After the pass, a parameter or
    buffer registered by a module whose init code ran (a reset method, or
    any module when ``init_fn`` is given) that the pass never wrote raises
    ValueError naming it, unless skipped: after ``to_empty`` it would hold
    uninitialized memory. Tensors of modules with no init code of their own
    keep their constructor's values. Random writes fastinit cannot place
    (``torch.rand(..., out=p)``, ``random_``, ``sparse_``, a view straddling
    two parameters of one storage) raise NotImplementedError naming the
    parameter. A ``torch.compile``d module gets the plain module's streams.

    Works on a model built on ``device="meta"`` and materialized with
    ``to_empty(device=...)``, before or after ``fully_shard`` or
    ``parallelize_module``. ``to_empty`` unties tied parameters: call the
    model's ``tie_weights()`` (Hugging Face) or tie again before
    ``init_module``. A module with parameters of its own and no reset
    method (itself or an ancestor) raises ValueError before anything is
    written, unless ``init_fn`` is given.

    >>> import torch, fastinit.torch as fi
    >>> net = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.LayerNorm(3))
    >>> _ = fi.init_module(net, seed=0)
    >>> bool((net[1].weight == 1).all()), bool(net[0].weight.abs().max() <= 0.5)
    (True, True)
    """
    seed = _checks.check_uint64("seed", seed)
    if init_fn is not None and not callable(init_fn):
        raise TypeError(f"init_fn must be a callable(module), got {type(init_fn).__name__}")
    skip = _check_skip(module, skip)
    _check_reparametrized(module, skip)
    if init_fn is None:
        _check_every_parameter_has_an_init(module)
    names = _Names(module)
    versions = {id(t): _local(t)._version for entries in names.by_storage.values() for _, t in entries}
    routing = _Routing(seed, names, skip, _tie_owners(module))
    with routing, torch.no_grad():
        for _, sub in _children_first(module):
            routing.module = sub
            if init_fn is not None:
                init_fn(sub)
            elif (reset := _reset_method(sub)) is not None:
                reset()
    has_init = (lambda sub: True) if init_fn is not None else (lambda sub: _reset_method(sub) is not None)
    _check_every_tensor_written(module, names, routing.written, versions, has_init, skip)
    _finished(module)
    return module


_BLOCKS = threading.local()  # .open: this thread's initializing() blocks, innermost last


def _open_blocks():
    return getattr(_BLOCKS, "open", [])


def _finished(module):
    """module has its final values (init_module, or an inner block): every
    enclosing initializing() block of this thread leaves it alone."""
    for recording in _open_blocks():
        recording.finished.update(id(m) for m in module.modules())
        recording.held.extend(module.modules())  # the ids stay theirs
        recording.excluded.update(_storage_key(_local(t)) for _, t in _named_tensors(module)
                                  if not _local(t).is_meta)


def _digest(key_tensor):
    """CRC-32 of the bytes of the whole storage of a (local) tensor: a write
    fastinit cannot see (a NumPy view, fastinit's own functions) changes it."""
    storage = key_tensor.untyped_storage()
    data = torch.empty(0, dtype=torch.uint8, device=key_tensor.device).set_(storage)
    return zlib.crc32(data.cpu().numpy())


class _Recording(TorchFunctionMode):
    """Records the writes made while a model is built: the outermost
    ``torch.nn.init`` call when there is one, else the write itself, with
    the storage written and its digest after the write."""

    _INIT_FUNCTIONS = {getattr(nn.init, n).__code__: getattr(nn.init, n) for n in nn.init.__all__
                       if n.endswith("_") and hasattr(getattr(nn.init, n), "__code__")}

    def __init__(self):
        super().__init__()
        self.calls = []  # (func, args, kwargs, storage key), in order
        self.digests = {}  # storage key -> digest after its last recorded write
        self.excluded = set()  # storage keys of tensors finished inside the block
        self.finished, self.held = set(), []  # ids of modules finished inside the block
        self._frame = None  # the nn.init call recorded last

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if not _writes(func):
            return func(*args, **kwargs)
        target, _ = _arguments(func, args, kwargs)
        local = None if target is None else _local(target)
        if local is None or local.is_meta or local.numel() == 0:
            return func(*args, **kwargs)
        key = _storage_key(local)
        self._record(func, args, kwargs, key)
        result = func(*args, **kwargs)
        self.digests[_storage_key(local)] = _digest(local)
        return result

    def _record(self, func, args, kwargs, key):
        outermost = None
        frame = sys._getframe(2)
        while frame is not None:
            if frame.f_code in self._INIT_FUNCTIONS:
                outermost = frame
            frame = frame.f_back
        if outermost is None:
            self.calls.append((func, args, kwargs, key))
            return
        if outermost is self._frame:  # a later write of the same init call
            return
        self._frame = outermost  # held, so its id cannot be reused by the next call
        init = self._INIT_FUNCTIONS[outermost.f_code]
        bound = {p: outermost.f_locals[p] for p in inspect.signature(init).parameters}
        tensor = _local(bound["tensor"])  # the init's target, not a temporary it draws first
        self.calls.append((init, (), bound, None if tensor.is_meta else _storage_key(tensor)))


@contextlib.contextmanager
def initializing(seed, *, skip=()):
    """Context manager: the model built inside it comes out initialized as
    ``init_module`` would, from the init code its constructors run.

    While the block runs, PyTorch initializes as usual and every write to a
    tensor is recorded; on exit the writes to parameters and buffers of the
    model built (the one module no other module built in the block contains)
    are replayed in order, their random fills drawn by fastinit under
    ``(seed, stable_stream(name))``. For third-party code that initializes
    inside constructors (``nn.Parameter(torch.empty(...))`` then an init
    call). Values computed out of place from PyTorch's generator
    (``nn.Parameter(torch.randn(...))``) are not routed.

    What the block's code writes after a module's init is kept: PyTorch
    writes (``copy_``, in-place math) are replayed in their order after the
    routed init; a parameter whose memory was replaced (``.data = t``,
    ``set_``) or written where PyTorch cannot see it (a NumPy view,
    fastinit's own functions) is left exactly as the block left it, and the
    caller's tensors are never written. Only this thread's modules and
    writes count (other threads may build models meanwhile). A model (or a
    part) initialized inside the block by ``init_module`` or by an inner
    ``initializing`` block keeps those values: the outer block leaves its
    tensors alone, and it is not a model of the outer block unless a module
    built there contains it.

    >>> import torch, fastinit.torch as fi
    >>> with fi.initializing(seed=0):
    ...     net = torch.nn.Linear(4, 3)
    >>> torch.equal(net.weight, fi.init_module(torch.nn.Linear(4, 3), seed=0).weight)
    True
    """
    seed = _checks.check_uint64("seed", seed)
    built, children = {}, set()  # modules that got a parameter, buffer or child in the block
    thread = threading.get_ident()

    def note(parent, name, value):  # returns None: a registration hook's result replaces the value
        if threading.get_ident() != thread:
            return
        built.setdefault(id(parent), parent)
        if isinstance(value, nn.Module):
            children.add(id(value))

    registrations = nn.modules.module
    hooks = [registrations.register_module_module_registration_hook(note),
             registrations.register_module_parameter_registration_hook(note),
             registrations.register_module_buffer_registration_hook(note)]
    recording = _Recording()
    _BLOCKS.open = [*_open_blocks(), recording]
    try:
        with recording:
            yield
    finally:
        for hook in hooks:
            hook.remove()
        _BLOCKS.open = _open_blocks()[:-1]
    roots = [m for key, m in built.items() if key not in children and key not in recording.finished]
    if not roots:
        return
    if len(roots) > 1:
        raise ValueError(f"fastinit.torch.initializing: build one model per block, got {len(roots)} separate "
                         f"modules: {sorted(type(m).__name__ for m in roots)}")
    root = roots[0]
    names = _Names(root)
    skip = _check_skip(root, skip)
    _check_reparametrized(root, skip)
    # storages the block changed where no recorded write did, or finished inside it: left alone
    left = set(recording.excluded)
    for key, entries in names.by_storage.items():
        if key in recording.digests and _digest(_local(entries[0][1])) != recording.digests[key]:
            left.add(key)
    with _Routing(seed, names, skip), torch.no_grad():
        for func, args, kwargs, key in recording.calls:
            target = _arguments(func, args, kwargs)[0] if args else kwargs["tensor"]
            if key in names.by_storage and key not in left and _storage_key(_local(target)) == key \
                    and names.find(target) is not None:
                func(*args, **kwargs)
    _finished(root)
