"""The main theorem: its width window and its single step (book chapters 5 and 9).

The window C_low·d^k ≤ m ≤ C₄·exp(d^{0.24}) of Theorem ``thm-main`` (chapter 5); the theorem's step of
length C₂/‖∇f(x)‖ against the sign of f, whether it flips the sign, the smallest C₂ that does, and the
largest change of slope along the attack ray that the combination of the three lemmas controls
(Proposition ``prop-ray-flip``, chapter 9).

Conventions: ``model`` is a TwoLayerReLU and x a batch of its inputs (n, d); what is computed per point
has shape (n,). ``C2`` is the step constant C₂ ≥ 0: one number, or for :func:`step_flips` and
:func:`flip_fraction` also a 1-D sequence of k values, for which the result gains a leading k axis.
"""

from __future__ import annotations

import math
from typing import Sequence

import torch

from .. import _checks
from ..attacks import _ray_pieces, flip_distance
from ..model import TwoLayerReLU, input_gradient

__all__ = ["width_upper_limit", "window_threshold", "theorem_eta", "step_flips", "flip_fraction",
    "critical_C2", "ray_slope_change"]

_WINDOW_EXPONENT = 0.24  # the exponent of the theorem's upper width limit m ≤ C₄·exp(d^0.24)


def width_upper_limit(d: int, C4: float = 1.0) -> float:
    """The upper end C₄·exp(d^{0.24}) of the theorem's width window (the exponent of the paper's summary).

    For an input dimension d ≥ 1 and C₄ > 0 (not given by the summary); ``inf`` when the value overflows
    a float (d^{0.24} > 709, i.e. d beyond about 7·10¹¹).

    Examples
    --------
    >>> import lazylib as ll
    >>> round(ll.lemmas.width_upper_limit(784), 1)
    141.2

    Book: the width window of Theorem ``thm-main`` (chapter 5).
    """
    d = _checks.positive_int("d", d)
    C4 = _checks.number("C4", C4, minimum=0.0, strict=True)
    try:
        return C4 * math.exp(d**_WINDOW_EXPONENT)
    except OverflowError:
        return math.inf


def window_threshold(k: float, *, C_low: float = 1.0, C4: float = 1.0) -> float:
    """The dimension d* beyond which the window C_low·d^k ≤ m ≤ C₄·exp(d^{0.24}) is non-empty.

    The paper's summary states the lower end only as "polynomially large in d" (its exponent is garbled),
    so k and C_low (exponent and constant, both > 0, as is C₄) describe an *illustrative* lower end chosen
    by the reader.
    Returns d* ≥ 1: for every d ≥ d* the window contains at least one real width.

    Examples
    --------
    >>> import lazylib as ll
    >>> d_star = ll.lemmas.window_threshold(1.0)
    >>> 10_000 < d_star < 20_000
    True

    Book: the width window of Theorem ``thm-main`` (chapter 5).
    """
    k = _checks.number("k", k, minimum=0.0, strict=True)
    C_low = _checks.number("C_low", C_low, minimum=0.0, strict=True)
    C4 = _checks.number("C4", C4, minimum=0.0, strict=True)
    c = math.log(C4) - math.log(C_low)

    def h(t: float) -> float:  # ≥ 0 where the window at d = e^t is non-empty; convex, so d* is unique
        return c + math.exp(_WINDOW_EXPONENT * t) - k * t

    t0 = max(0.0, math.log(k / _WINDOW_EXPONENT) / _WINDOW_EXPONENT)  # where h is smallest on t ≥ 0
    if h(t0) >= 0:
        return 1.0
    lo, hi = t0, t0 + 1.0  # h increases after t0: bracket its root, then bisect
    while h(hi) < 0:
        hi = t0 + 2.0 * (hi - t0)
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if h(mid) < 0 else (lo, mid)
    return math.exp(hi)


def theorem_eta(model: TwoLayerReLU, x: torch.Tensor, C2: float) -> torch.Tensor:
    """The theorem's step size η = −sign f(x) · C₂/‖∇f(x)‖², per point (η = 0 where ∇f(x) = 0).

    ``ll.gradient_step(model, x, eta)`` then moves x by η∇f(x), of length C₂/‖∇f(x)‖, against the sign of f.

    Examples
    --------
    >>> import torch, lazylib as ll
    >>> net = ll.TwoLayerReLU(5, 100, generator=torch.Generator().manual_seed(0))
    >>> x = torch.nn.functional.normalize(torch.randn(3, 5, generator=torch.Generator().manual_seed(1)), dim=1)
    >>> step = ll.gradient_step(net, x, ll.lemmas.theorem_eta(net, x, 0.5)) - x
    >>> torch.allclose(step.norm(dim=1) * ll.input_gradient(net, x).norm(dim=1), torch.full((3,), 0.5))
    True

    Book: the main theorem's step (chapter 5) and Proposition ``prop-ray-flip`` (chapter 9).
    """
    x = _checks.model_inputs(model, x)
    C2 = _checks.number("C2", C2, minimum=0.0)
    with torch.no_grad():
        f = model(x)
        sq = torch.linalg.vector_norm(input_gradient(model, x), dim=1) ** 2
        eta = -torch.sign(f) * C2 / sq.clamp_min(torch.finfo(x.dtype).tiny)
        return torch.where(sq > 0, eta, torch.zeros_like(eta))


def step_flips(model: TwoLayerReLU, x: torch.Tensor,
               C2: float | Sequence[float] | torch.Tensor) -> torch.Tensor:
    """Whether the theorem's step (:func:`theorem_eta`) flips the sign of f, per point (bool, (n,) or (k, n)).

    Examples
    --------
    >>> import torch, lazylib as ll
    >>> net = ll.TwoLayerReLU(25, 400, generator=torch.Generator().manual_seed(0))
    >>> x = torch.nn.functional.normalize(torch.randn(4, 25, generator=torch.Generator().manual_seed(1)), dim=1)
    >>> ll.lemmas.step_flips(net, x, [0.0, 100.0]).shape
    torch.Size([2, 4])

    Book: the fraction of points flipped against C₂ (chapter 9).
    """
    x = _checks.model_inputs(model, x)
    values, scalar = _checks.budgets("C2", C2)
    with torch.no_grad():
        f0 = model(x)
        g = input_gradient(model, x)
        sq = torch.linalg.vector_norm(g, dim=1) ** 2
        unit_eta = torch.where(sq > 0, -torch.sign(f0) / sq.clamp_min(torch.finfo(x.dtype).tiny),
                               torch.zeros_like(sq))
        c2 = values.to(device=x.device, dtype=x.dtype)
        moved = x[None] + (c2[:, None, None] * unit_eta[None, :, None]) * g[None]  # (k, n, d)
        k, n = moved.shape[:2]
        f1 = (torch.relu(moved.reshape(k * n, -1) @ model.W.detach().T) @ model.a
              * model.output_scale).reshape(k, n)
        flips = torch.sign(f1) != torch.sign(f0)[None]
    return flips[0] if scalar else flips


def flip_fraction(model: TwoLayerReLU, x: torch.Tensor,
                  C2: float | Sequence[float] | torch.Tensor) -> float | torch.Tensor:
    """Fraction of the points whose sign the theorem's step flips, for one C₂ or many.

    A float, or a float64 CPU tensor (k,) for a sequence of k values.

    Examples
    --------
    >>> import torch, lazylib as ll
    >>> net = ll.TwoLayerReLU(25, 400, generator=torch.Generator().manual_seed(0))
    >>> x = torch.nn.functional.normalize(torch.randn(8, 25, generator=torch.Generator().manual_seed(1)), dim=1)
    >>> ll.lemmas.flip_fraction(net, x, 0.0)
    0.0

    Book: chapter 9.
    """
    flips = step_flips(model, x, C2)
    frac = flips.to(torch.float64).mean(dim=-1).cpu()
    return float(frac) if flips.ndim == 1 else frac


def critical_C2(model: TwoLayerReLU, x: torch.Tensor) -> torch.Tensor:
    """The smallest C₂ whose step flips the sign, t*(x)·‖∇f(x)‖ with t* the exact flip distance.

    ``inf`` where the ray never flips; a larger C₂ need not flip (the ray may cross back).

    Examples
    --------
    >>> import torch, lazylib as ll
    >>> net = ll.TwoLayerReLU(25, 400, generator=torch.Generator().manual_seed(0))
    >>> x = torch.nn.functional.normalize(torch.randn(4, 25, generator=torch.Generator().manual_seed(1)), dim=1)
    >>> c = ll.lemmas.critical_C2(net, x)
    >>> bool(ll.lemmas.step_flips(net, x, float(c[0]) * (1 + 1e-4))[0])
    True

    Book: chapter 9.
    """
    x = _checks.model_inputs(model, x)
    with torch.no_grad():
        return flip_distance(model, x) * torch.linalg.vector_norm(input_gradient(model, x), dim=1)


def ray_slope_change(model: TwoLayerReLU, x: torch.Tensor, length: float | torch.Tensor) -> torch.Tensor:
    """D(L) = sup_{0 ≤ t < L} |φ'(t) − φ'(0)|, φ(t) = f(x + t·u) along the attack ray u, exactly.

    u = −sign f(x)·∇f(x)/‖∇f(x)‖; D is the directional part of the gradient difference that the flip lemma
    needs, computed by walking the breakpoints of the piecewise linear φ. ``length`` is L ≥ 0, one for all
    points or one per point (a tensor (n,)). D(L) ≤ sup_{‖v‖ ≤ L} ‖∇f(x + v) − ∇f(x)‖; 0 when no neuron
    switches before L.

    Examples
    --------
    >>> import torch, lazylib as ll
    >>> net = ll.TwoLayerReLU(5, 100, generator=torch.Generator().manual_seed(0))
    >>> x = torch.nn.functional.normalize(torch.randn(2, 5, generator=torch.Generator().manual_seed(1)), dim=1)
    >>> ll.lemmas.ray_slope_change(net, x, 0.0).tolist()
    [0.0, 0.0]

    Book: Proposition ``prop-ray-flip`` (chapter 9).
    """
    x = _checks.model_inputs(model, x)
    L = _checks.per_row("length", length, x)
    with torch.no_grad():
        W, coef = model.W.detach(), model.a * model.output_scale
        z = x @ W.T
        f0 = torch.relu(z) @ coef
        u = torch.nn.functional.normalize(-torch.sign(f0)[:, None] * input_gradient(model, x), dim=1)
        tau, _, _, slope_before, slope_after, _ = _ray_pieces(W, coef, z, f0, u)
        s0 = slope_before[:, 0]  # the slope at t = 0+
        reached = tau < L[:, None]  # the slope after breakpoint k applies on (tau_k, tau_{k+1}) ⊂ [0, L)
        change = torch.where(reached, (slope_after - s0[:, None]).abs(), torch.zeros_like(slope_after))
        return change.amax(dim=1)
