"""Clean and robust accuracy (book: the robust error of chapter 2, label ``def-robust-error``).

A prediction counts as correct when y·f(x) > 0, so a point exactly on the boundary is an error,
as in the paper's 1[y f(x) ≤ 0]. For an :class:`lazylib.Ensemble` the accuracies of all members come
back at once, as a float64 CPU tensor with a leading K axis.

Conventions of the accuracies: ``x`` holds inputs (n, d) and ``y`` labels (n,) in {−1, +1}; ``eps`` is one
budget ε ≥ 0, giving a float, or a 1-D sequence of budgets, giving a float64 CPU tensor (len(eps),).
"""

from __future__ import annotations

import math
from typing import NamedTuple, Sequence

import torch

from . import _checks
from .attacks import _clip_range, flip_distance, pgd_l2
from .model import TwoLayerReLU

__all__ = ["accuracy", "robust_accuracy", "power_law_fit", "PowerLawFit"]


def accuracy(model: TwoLayerReLU, x: torch.Tensor, y: torch.Tensor) -> float | torch.Tensor:
    """Fraction of points with y·f(x) > 0.

    Examples
    --------
    >>> import torch, lazylib as ll
    >>> net = ll.TwoLayerReLU(3, 50, generator=torch.Generator().manual_seed(0))
    >>> x = torch.randn(10, 3, generator=torch.Generator().manual_seed(1))
    >>> ll.accuracy(net, x, torch.sign(net(x)))
    1.0
    """
    _checks.model("model", model, biases=True, ensemble=True)
    x = _checks.inputs("x", x, model)
    y = _checks.labels("y", y, x)
    with torch.no_grad():
        acc = (y.to(x.dtype) * model(x) > 0).to(torch.float64).mean(dim=-1)
    return float(acc) if model.K is None else acc.cpu()


def robust_accuracy(model: TwoLayerReLU, x: torch.Tensor, y: torch.Tensor,
                    eps: float | Sequence[float] | torch.Tensor, *, attack: str = "gradient",
                    steps: int = 100, step_size: float | None = None, clip: tuple[float, float] | None = None,
                    generator: torch.Generator | None = None) -> float | torch.Tensor:
    """Accuracy under an ℓ2 attack of budget ε, for one ε or many at once.

    Never above :func:`accuracy`; equal to it at ε = 0.

    Parameters
    ----------
    attack : {"gradient", "pgd"}
        ``"gradient"``: the single-step attack along −y∇f/‖∇f‖, with the step length chosen anywhere in
        [0, ε]. A point survives when it is correctly classified and its exact :func:`flip_distance`
        exceeds ε, so one call serves every ε (no re-attacking). ``"pgd"``: :func:`pgd_l2` run for each
        ε with ``steps``, ``step_size``, ``clip`` and ``generator``.

    Examples
    --------
    >>> import torch, lazylib as ll
    >>> net = ll.TwoLayerReLU(25, 200, generator=torch.Generator().manual_seed(0))
    >>> x = torch.randn(50, 25, generator=torch.Generator().manual_seed(1))
    >>> y = torch.sign(net(x))
    >>> ll.robust_accuracy(net, x, y, [0.0, 100.0]).tolist()
    [1.0, 0.0]

    Book: robust error, label ``def-robust-error`` (chapter 2); the sharp drop of chapter 10.
    """
    _checks.model("model", model, biases=True, ensemble=True)
    x = _checks.inputs("x", x, model)
    y = _checks.labels("y", y, x)
    eps_t, scalar = _checks.budgets("eps", eps)
    attack = _checks.choice("attack", attack, ("gradient", "pgd"))
    # The PGD settings are checked whatever the attack, so a bad argument is never silently ignored.
    steps = _checks.positive_int("steps", steps)
    if step_size is not None:
        _checks.number("step_size", step_size, minimum=0.0)
    _checks.generator("generator", generator)
    _clip_range(clip, x)
    yf = y.to(x.dtype)
    with torch.no_grad():
        correct = yf * model(x) > 0
        if attack == "gradient":  # a misclassified point is robust at no budget: its distance counts as −∞
            result = _fraction_above(torch.where(correct, flip_distance(model, x), -math.inf), eps_t)
        else:
            result = torch.stack([
                (correct & (yf * model(pgd_l2(model, x, y, e, steps=steps, step_size=step_size, clip=clip,
                                              generator=generator)) > 0)).to(torch.float64).mean(dim=-1).cpu()
                for e in eps_t.tolist()
            ], dim=-1)
    if not scalar:
        return result
    return float(result[0]) if model.K is None else result[..., 0]


def _fraction_above(values: torch.Tensor, thresholds: torch.Tensor) -> torch.Tensor:
    """The share of ``values`` (..., n) strictly above each threshold (..., t): float64 CPU, (..., t).

    The robust accuracy of every exact certificate: a point counts when its margin or distance exceeds
    the budget (used here, in :mod:`lazylib.linear` and in :mod:`lazylib.lipschitz`).
    """
    values = values.to("cpu", torch.float64)
    return (values[..., None, :] > thresholds[..., None]).to(torch.float64).mean(dim=-1)


class PowerLawFit(NamedTuple):
    """y ≈ exp(intercept) · x^slope, fitted by least squares on (log x, log y)."""

    slope: float
    intercept: float
    slope_stderr: float


def power_law_fit(x: Sequence[float] | torch.Tensor, y: Sequence[float] | torch.Tensor) -> PowerLawFit:
    """Least-squares fit of log y = slope · log x + intercept, with the slope's standard error.

    x and y are 1-D sequences of positive numbers, at least three points. ``slope_stderr`` is the usual
    OLS standard error (residual variance / Σ(log x − mean)²)^{1/2}.

    Examples
    --------
    >>> import lazylib as ll
    >>> fit = ll.power_law_fit([1, 4, 16, 64], [1, 2, 4, 8])
    >>> round(fit.slope, 6), round(fit.slope_stderr, 6)
    (0.5, 0.0)
    """
    need = "must be a 1-D sequence of at least 3 positive numbers; got"
    converted = []
    for name, v in (("x", x), ("y", y)):
        try:
            converted.append(v.detach().to("cpu", torch.float64) if isinstance(v, torch.Tensor)
                             else torch.as_tensor(v, dtype=torch.float64).detach().cpu())
        except (TypeError, ValueError, RuntimeError):
            raise TypeError(f"`{name}` {need} {type(v).__name__}.") from None
    xs, ys = converted
    for name, v in (("x", xs), ("y", ys)):
        if v.ndim != 1 or v.numel() < 3:
            raise ValueError(f"`{name}` {need} shape {tuple(v.shape)}.")
        if not bool(torch.isfinite(v).all()) or not bool((v > 0).all()):
            raise ValueError(f"`{name}` {need} non-positive or non-finite values.")
    if xs.shape != ys.shape:
        raise ValueError(f"`y` must have the shape of x, {tuple(xs.shape)}; got {tuple(ys.shape)}.")
    lx, ly = xs.log(), ys.log()
    lxc = lx - lx.mean()
    sxx = float((lxc**2).sum())
    if sxx == 0:
        raise ValueError("`x` must hold at least two different values; got all equal.")
    slope = float((lxc * (ly - ly.mean())).sum()) / sxx
    intercept = float(ly.mean()) - slope * float(lx.mean())
    resid = ly - (slope * lx + intercept)
    stderr = math.sqrt(float((resid**2).sum()) / (len(xs) - 2) / sxx)
    return PowerLawFit(slope, intercept, stderr)
