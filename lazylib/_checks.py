"""Input validation shared by the public functions.

Every public function checks its arguments here, before it computes or changes anything, so a bad
call raises a clear ``TypeError`` or ``ValueError`` and leaves its inputs untouched. Messages follow
one template: "`name` must be <what was expected>; got <what was given>."
"""

from __future__ import annotations

import math
import sys
from numbers import Integral, Real
from typing import Any, Sequence

import numpy as np
import torch

__all__: list[str] = []


def _fail(exc: type[Exception], name: str, expected: str, got: Any) -> None:
    # "must have shape …" and "must be on …" read as they are; everything else is "must be <expected>".
    verb = "must" if expected.startswith(("have ", "be ")) else "must be"
    raise exc(f"`{name}` {verb} {expected}; got {got}.")


def same_device(name: str, value: torch.Tensor, device: torch.device, owner: str) -> None:
    if value.device != device:
        _fail(ValueError, name, f"be on {owner} ({device.type})", f"a tensor on {value.device.type}")


def model(name: str, value: Any, *, biases: bool = False, ensemble: bool = False) -> None:
    """Require a :class:`lazylib.TwoLayerReLU`, with biases only where ``biases`` allows it and an ensemble
    only where ``ensemble`` does (the class is looked up in ``sys.modules``: ``lazylib.model`` imports
    this module)."""
    network = getattr(sys.modules.get(f"{__package__}.model"), "TwoLayerReLU", None)
    if network is None or not isinstance(value, network):
        _fail(TypeError, name, "a lazylib.TwoLayerReLU", type(value).__name__)
    if not biases and value.b is not None:
        _fail(ValueError, name, "a network without biases (this function is defined for the paper's network, "
              "def-network)", "a network built with bias=True")
    if not ensemble and value.K is not None:
        _fail(ValueError, name, "one network (this function is defined per network; pass ensemble.member(k))",
              f"an Ensemble of {value.K} members")


def positive_int(name: str, value: Any, *, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral):
        _fail(TypeError, name, f"an integer ≥ {minimum}", repr(value))
    if value < minimum:
        _fail(ValueError, name, f"an integer ≥ {minimum}", repr(value))
    return int(value)


def number(name: str, value: Any, *, minimum: float | None = None, strict: bool = False) -> float:
    """A finite real number, optionally ≥ (or > when ``strict``) ``minimum``."""
    if isinstance(value, torch.Tensor) and value.numel() == 1 and not value.dtype.is_complex:
        value = value.item()
    expected = "a finite number" + ("" if minimum is None else f" {'>' if strict else '≥'} {minimum:g}")
    if isinstance(value, bool) or not isinstance(value, Real):
        _fail(TypeError, name, expected, repr(value))
    value = float(value)
    below = minimum is not None and (value <= minimum if strict else value < minimum)
    if below or not math.isfinite(value):
        _fail(ValueError, name, expected, repr(value))
    return value


def probability(name: str, value: Any) -> float:
    """A number in the open interval (0, 1), such as a failure probability γ."""
    p = number(name, value, minimum=0.0, strict=True)
    if p >= 1.0:
        _fail(ValueError, name, "a number in (0, 1)", repr(value))
    return p


def flag(name: str, value: Any, *, none: bool = False) -> bool | None:
    """True or False (or None where ``none`` allows it)."""
    if not isinstance(value, bool) and not (none and value is None):
        _fail(TypeError, name, "True, False or None" if none else "True or False", repr(value))
    return value


def float_dtype(name: str, value: Any, *, none: bool = False) -> torch.dtype | None:
    """A floating-point torch.dtype (or None where ``none`` allows it)."""
    if not (isinstance(value, torch.dtype) and value.is_floating_point) and not (none and value is None):
        _fail(TypeError, name, "a floating-point torch.dtype", repr(value))
    return value


def choice(name: str, value: Any, options: Sequence[Any]) -> Any:
    if value not in options:
        _fail(ValueError, name, "one of " + ", ".join(repr(o) for o in options), repr(value))
    return value


def generator(name: str, value: Any) -> None:
    if value is not None and not isinstance(value, torch.Generator):
        _fail(TypeError, name, "a torch.Generator or None", type(value).__name__)


def tensor(name: str, value: Any, *, ndim: int, shape: Sequence[int | None] | None = None,
           shape_text: str | None = None, floating: bool = True, finite: bool = True) -> torch.Tensor:
    """A tensor of ``ndim`` dimensions; ``None`` entries of ``shape`` are free."""
    if not isinstance(value, torch.Tensor):
        _fail(TypeError, name, "a torch.Tensor", type(value).__name__)
    if floating and not value.dtype.is_floating_point:
        _fail(TypeError, name, "a floating-point tensor", f"dtype {value.dtype}")
    text = shape_text or "(" + ", ".join("n" if s is None else str(s) for s in (shape or [None] * ndim)) + ")"
    if value.ndim != ndim or any(w is not None and w != n for w, n in zip(shape or (), value.shape)):
        _fail(ValueError, name, f"have shape {text}", tuple(value.shape))
    if finite and floating and value.numel() and not bool(torch.isfinite(value).all()):
        _fail(ValueError, name, "finite (no NaN or inf)", "a tensor with NaN or inf entries")
    return value


def inputs(name: str, value: Any, net: Any) -> torch.Tensor:
    """A batch of inputs (n, d) matching the network's input dimension, dtype and device; an ensemble of
    K networks (``net.K`` set) also takes (K, n, d), one batch per member."""
    # The device is checked before the values are read, so an input on another device is reported as such.
    K = getattr(net, "K", None)
    text = f"(n, {net.d})" if K is None else f"(n, {net.d}) or ({K}, n, {net.d})"
    stacked = K is not None and isinstance(value, torch.Tensor) and value.ndim == 3
    shape = (K, None, net.d) if stacked else (None, net.d)
    x = tensor(name, value, ndim=len(shape), shape=shape, shape_text=text, finite=False)
    if x.shape[-2] == 0:
        _fail(ValueError, name, "a non-empty batch (n ≥ 1)", tuple(x.shape))
    same_device(name, x, net.W.device, "the model's device")
    if x.dtype != net.W.dtype:
        _fail(TypeError, name, f"have the model's dtype {net.W.dtype}", f"dtype {x.dtype}")
    if not bool(torch.isfinite(x).all()):
        _fail(ValueError, name, "finite (no NaN or inf)", "a tensor with NaN or inf entries")
    return x


def per_row(name: str, value: Any, x: torch.Tensor) -> torch.Tensor:
    """One number ≥ 0 for every row of ``x``, or a tensor (n,) of one per row; returned as (n,) like x."""
    n = x.shape[0]
    if isinstance(value, torch.Tensor) and value.ndim == 1:
        same_device(name, value, x.device, "the device of x")  # before any value is read
        values = tensor(name, value, ndim=1, shape=(n,), shape_text=f"({n},)").to(x.dtype)
        if bool((values < 0).any()):
            _fail(ValueError, name, "≥ 0 in every entry", "negative entries")
        return values
    return torch.full((n,), number(name, value, minimum=0.0), dtype=x.dtype, device=x.device)


def device(name: str, value: Any) -> torch.device | None:
    """None, a torch.device or a device string such as "cpu" or "cuda:0"."""
    if value is None or isinstance(value, torch.device):
        return value
    if not isinstance(value, str):
        _fail(TypeError, name, "a torch.device, a device string or None", repr(value))
    try:
        return torch.device(value)
    except RuntimeError:
        _fail(ValueError, name, "a valid device string such as 'cpu' or 'cuda'", repr(value))


def labels(name: str, value: Any, x: torch.Tensor) -> torch.Tensor:
    """Labels in {−1, +1} on the device of ``x``, one per row; (K, n), one row per member, for x (K, n, d)."""
    if not isinstance(value, torch.Tensor):
        _fail(TypeError, name, "a torch.Tensor of labels in {-1, +1}", type(value).__name__)
    n = x.shape[-2]
    per_member = x.ndim == 3 and value.ndim == 2
    if per_member and value.shape != x.shape[:2]:
        _fail(ValueError, name, f"have shape ({x.shape[0]}, {n}), one row per member", tuple(value.shape))
    if not per_member and (value.ndim != 1 or value.shape[0] != n):
        _fail(ValueError, name, f"have shape ({n},), one label per row of x", tuple(value.shape))
    same_device(name, value, x.device, "the device of x")
    if value.dtype.is_complex or value.dtype == torch.bool:
        _fail(TypeError, name, "a real tensor of labels in {-1, +1}", f"dtype {value.dtype}")
    bad = (value != 1) & (value != -1)
    if bool(bad.any()):
        _fail(ValueError, name, "labels in {-1, +1}", f"values such as {value[bad][:3].tolist()}")
    return value


def per_member(name: str, value: Any, K: int | None, *, minimum: float = 0.0) -> torch.Tensor | float:
    """A number ≥ ``minimum``; for an ensemble (K set) one or K of them, as a float64 CPU tensor (K,)."""
    many = isinstance(value, (list, tuple)) or (isinstance(value, torch.Tensor) and value.ndim == 1)
    if K is None or not many:
        v = number(name, value, minimum=minimum)
        return v if K is None else torch.full((K,), v, dtype=torch.float64)
    vals = value.detach().reshape(-1).to("cpu").tolist() if isinstance(value, torch.Tensor) else list(value)
    if len(vals) != K:
        _fail(ValueError, name, f"a number or {K} numbers, one per member", f"{len(vals)} numbers")
    return torch.tensor([number(name, v, minimum=minimum) for v in vals], dtype=torch.float64)


def budgets(name: str, value: Any) -> tuple[torch.Tensor, bool]:
    """One budget or a 1-D sequence of budgets ε ≥ 0; returns (float64 CPU tensor, was_scalar)."""
    if isinstance(value, torch.Tensor):
        if value.ndim > 1:
            _fail(ValueError, name, "a number or a 1-D sequence of numbers ≥ 0",
                  f"shape {tuple(value.shape)}")
        if value.dtype.is_complex or value.dtype == torch.bool:
            _fail(TypeError, name, "a number or a 1-D sequence of real numbers ≥ 0", f"dtype {value.dtype}")
        scalar, vals = value.ndim == 0, value.detach().reshape(-1).to("cpu", torch.float64).tolist()
    elif isinstance(value, Real) and not isinstance(value, bool):
        scalar, vals = True, [value]
    elif isinstance(value, Sequence) and not isinstance(value, str):
        scalar, vals = False, list(value)
    elif isinstance(value, np.ndarray) and value.ndim <= 1:
        scalar, vals = value.ndim == 0, value.reshape(-1).tolist()
    else:
        _fail(TypeError, name, "a number or a 1-D sequence of numbers ≥ 0", type(value).__name__)
    out = [number(name, v, minimum=0.0) for v in vals]
    if not out:
        _fail(ValueError, name, "a non-empty sequence of numbers ≥ 0", "an empty sequence")
    return torch.tensor(out, dtype=torch.float64), scalar


def rows_of(name: str, value: Any, net: Any, x: torch.Tensor) -> torch.Tensor:
    """Inputs of the network (:func:`inputs`) with one row per row of ``x``, such as ray directions."""
    value = inputs(name, value, net)
    if value.shape[-2] != x.shape[-2]:
        _fail(ValueError, name, f"have shape ({x.shape[-2]}, {net.d}), one row per row of x", tuple(value.shape))
    return value


def model_inputs(net: Any, x: Any, *, ensemble: bool = False) -> torch.Tensor:
    """The usual pair of a model function's arguments: ``model`` a network without biases (:func:`model`)
    and ``x`` a batch of its inputs (:func:`inputs`), checked in that order; returns x."""
    model("model", net, ensemble=ensemble)
    return inputs("x", x, net)


def cpu_generator(name: str, value: Any) -> None:
    """None or a torch.Generator on the CPU."""
    generator(name, value)
    if value is not None and value.device.type != "cpu":
        _fail(ValueError, name, "a CPU generator", f"one on {value.device.type}")


def vector(name: str, value: Any) -> torch.Tensor:
    """A finite floating-point tensor of shape (d,) with d ≥ 1."""
    value = tensor(name, value, ndim=1, shape_text="(d,)")
    if value.shape[0] == 0:
        _fail(ValueError, name, "have shape (d,) with d ≥ 1", "(0,)")
    return value
