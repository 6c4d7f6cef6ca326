"""Attacks in ℓ2: the paper's single gradient step, its exact flip distance, FGM and PGD.

The network restricted to a ray x + t·u is piecewise linear in t: neuron s switches at
t_s = −(w_sᵀx)/(w_sᵀu). :func:`flip_distance` sorts these breakpoints and walks the linear pieces,
so the first sign change is found exactly, in O(m log m) per point and batched over points.

Every attack takes one network or an :class:`lazylib.Ensemble` (:mod:`lazylib.model`), with or without
the authors' biases (b_s moves the breakpoint to −(w_sᵀx + b_s)/(w_sᵀu), c shifts f; the walk is the
same); an ensemble's results gain a leading K axis (the attack on every member at once).

Conventions: ``x`` holds inputs (n, d) (an ensemble also takes (K, n, d)) and the attacked points x'
have that shape; ``y`` labels (n,) (or (K, n)) in {−1, +1}; ``eps`` is the budget ε ≥ 0, with
‖x' − x‖ ≤ ε; ``clip`` an optional box (low, high) the inputs live in (for images, (0, 1)): x must lie
in it and x' is clipped to it.

Book: chapter 3 (the single-step attack, label ``prop-ray-piecewise-linear``) and chapter 10.
"""

from __future__ import annotations

from typing import Any

import torch

from . import _checks
from .model import TwoLayerReLU, _by_rows, _input_gradient, _pre, _readout, _unit, input_gradient

__all__ = ["gradient_step", "flip_distance", "fgm_l2", "pgd_l2"]


def _descent(W: torch.Tensor, coef: torch.Tensor, z: torch.Tensor, s: torch.Tensor):
    """Unit rows of −s∇f at the points with pre-activations z (coef = α·a), and the norms of s∇f."""
    return _unit(-s[..., None] * _input_gradient(W, coef, z))


def gradient_step(model: TwoLayerReLU, x: torch.Tensor, eta: float | torch.Tensor) -> torch.Tensor:
    r"""The paper's single step x + η ∇ₓf(x; a, W).

    Parameters
    ----------
    eta : float or torch.Tensor of shape (n,)
        One for all points or one per point; the theorem uses η = −sign f(x) · C₂/‖∇f(x)‖², so
        ‖δ‖ = C₂/‖∇f‖.

    Examples
    --------
    >>> import torch, lazylib as ll
    >>> net = ll.TwoLayerReLU(3, 20, generator=torch.Generator().manual_seed(0))
    >>> x = torch.ones(2, 3)
    >>> bool(torch.equal(ll.gradient_step(net, x, 0.0), x))
    True

    Book: the main theorem, label ``thm-main`` (chapter 5).
    """
    _checks.model("model", model, biases=True, ensemble=True)
    x = _checks.inputs("x", x, model)
    if isinstance(eta, torch.Tensor) and eta.ndim == 1:
        _checks.same_device("eta", eta, x.device, "the device of x")  # before the values are read
        eta_t = _checks.tensor("eta", eta, ndim=1, shape=(x.shape[0],), shape_text=f"({x.shape[0]},)")
        step = eta_t.to(x.dtype)[:, None]  # (n, 1), shared by the members of an ensemble
    else:
        step = _checks.number("eta", eta)
    return x + step * input_gradient(model, x)


def _ray_pieces(W: torch.Tensor, coef: torch.Tensor, z: torch.Tensor, f0: torch.Tensor, u: torch.Tensor):
    """The pieces of t ↦ f(x + t·u) for unit rows u (z = x Wᵀ, f0 = f(x), coef = α·a): :func:`_walk`'s
    outputs but the jumps. Also used by ``lazylib.random_networks`` and ``lazylib.lemmas.theorem``."""
    c = u @ W.mT
    # Right-derivative at t = 0: a neuron exactly at its kink counts as active if it is switching on.
    active0 = (z > 0) | ((z == 0) & (c > 0))
    s0 = _readout(active0.to(u.dtype) * c, coef)
    # Every breakpoint raises the slope by a_s|c_s| (a neuron switching on with c_s > 0, or off with c_s < 0).
    return _walk(z, c, s0, f0, coef.unsqueeze(-2) * c.abs())[:-1]


def _walk(z: torch.Tensor, c: torch.Tensor, s0: torch.Tensor, f0: torch.Tensor, slope_change: torch.Tensor,
          value_jump: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None = None):
    """Walk a piecewise-linear function of t ≥ 0 along its sorted breakpoints t_s = −z_s/c_s > 0.

    f0, s0 (…): value and slope just after t = 0; at t_s the slope changes by ``slope_change``[s] and,
    given ``value_jump`` = (k, z', c'), the value jumps by k_s·(z'_s + t_s·c'_s); the rest (…, m). Returns
    the sorted breakpoints (padding repeats the last), the largest (…, 1), each piece's start, the slopes
    before and after each breakpoint, the value just before it and the jumps there (None without jumps).
    """
    # Breakpoints t_s = −z_s/c_s > 0; the others (t_s ≤ 0, or c_s = 0 giving ±inf or nan) become +inf.
    tau = -z / c
    tau = tau.masked_fill_(~(tau > 0), float("inf"))
    tau, order = torch.sort(tau, dim=-1)
    finite = tau < float("inf")
    dslope = slope_change.expand_as(z).gather(-1, order).masked_fill_(~finite, 0.0)
    jump = None
    if value_jump is not None:
        k, zj, cj = (v.expand_as(z).gather(-1, order) for v in value_jump)
        jump = (k * (zj + tau.nan_to_num(posinf=0.0) * cj)).masked_fill_(~finite, 0.0)
    tau_max = torch.where(finite, tau, torch.zeros_like(tau)).amax(dim=-1, keepdim=True)
    tau = torch.where(finite, tau, tau_max)  # padded pieces have length 0 (and no jump)
    start = torch.cat([torch.zeros_like(tau[..., :1]), tau[..., :-1]], dim=-1)
    slope_after = s0[..., None] + torch.cumsum(dslope, dim=-1)
    slope_before = torch.cat([s0[..., None], slope_after[..., :-1]], dim=-1)
    rise = slope_before * (tau - start)
    if jump is not None:  # the jumps at the earlier breakpoints
        rise = rise + torch.cat([torch.zeros_like(jump[..., :1]), jump[..., :-1]], dim=-1)
    value_at = f0[..., None] + torch.cumsum(rise, dim=-1)  # f just before each breakpoint
    return tau, tau_max, start, slope_before, slope_after, value_at, jump


def _flip(W: torch.Tensor, coef: torch.Tensor, x: torch.Tensor, direction: torch.Tensor | None,
          b: torch.Tensor | None = None, c: torch.Tensor | None = None) -> torch.Tensor:
    """:func:`flip_distance` without validation: x (n, d) or (K, n, d) → (n,) or (K, n)."""
    z = _pre(x, W, b)
    f0 = _readout(torch.relu(z), coef, 1.0, c)
    sgn0 = torch.sign(f0)
    # ∇f(x) from the pre-activations already at hand (one matrix product instead of two).
    u, unorm = _descent(W, coef, z, sgn0) if direction is None else _unit(direction)
    tau, tau_max, start, slope_before, slope_after, value_at = _ray_pieces(W, coef, z, f0, u)
    crossed = sgn0[..., None] * value_at <= 0
    any_cross = crossed.any(dim=-1)
    k = crossed.to(torch.int8).argmax(dim=-1, keepdim=True)
    value_before = torch.where(k == 0, f0[..., None], value_at.gather(-1, (k - 1).clamp_min(0))).squeeze(-1)
    t_in = start.gather(-1, k).squeeze(-1) - value_before / slope_before.gather(-1, k).squeeze(-1)
    t_in = torch.minimum(torch.maximum(t_in, start.gather(-1, k).squeeze(-1)), tau.gather(-1, k).squeeze(-1))
    last_slope, last_value = slope_after[..., -1], value_at[..., -1]
    safe_slope = torch.where(last_slope == 0, torch.ones_like(last_slope), last_slope)
    never = torch.full_like(f0, float("inf"))
    t_tail = torch.where(sgn0 * last_slope < 0, tau_max.squeeze(-1) - last_value / safe_slope, never)
    t = torch.where(any_cross, t_in, t_tail)
    t = torch.where(unorm > 0, t, never)
    return torch.where(f0 == 0, torch.zeros_like(t), t)


def flip_distance(model: TwoLayerReLU, x: torch.Tensor,
                  direction: torch.Tensor | None = None) -> torch.Tensor:
    r"""Exact distance along a ray to the first sign change of f.

    With the default direction u = −sign f(x) · ∇f(x)/‖∇f(x)‖ (the paper's single-step attack), returns
    the smallest t ≥ 0 with sign f(x + t·u) ≠ sign f(x); ``inf`` where the ray never flips, 0 where
    f(x) = 0. Exact up to floating point (the walk of the module docstring, no line search). Shape (n,).

    Parameters
    ----------
    direction : torch.Tensor, shape of x, optional
        Walk along these directions instead (normalised here; t is a Euclidean distance). Rows that
        are zero give ``inf``.

    Examples
    --------
    >>> import torch, lazylib as ll
    >>> net = ll.TwoLayerReLU(25, 500, generator=torch.Generator().manual_seed(0))
    >>> x = torch.nn.functional.normalize(torch.randn(4, 25, generator=torch.Generator().manual_seed(1)), dim=1)
    >>> t = ll.flip_distance(net, x)
    >>> u = -torch.sign(net(x))[:, None] * torch.nn.functional.normalize(ll.input_gradient(net, x), dim=1)
    >>> bool((torch.sign(net(x + (t + 1e-4)[:, None] * u)) != torch.sign(net(x))).all())
    True

    Book: Proposition ``prop-ray-piecewise-linear`` (chapter 3); the benchmark in ``benchmarks/``
    compares it with the authors' line search.
    """
    _checks.model("model", model, biases=True, ensemble=True)
    x = _checks.inputs("x", x, model)
    if direction is not None:
        direction = _checks.rows_of("direction", direction, model, x)
    W, coef = model.W.detach(), model.a * model.output_scale
    with torch.no_grad():  # in blocks of rows, so that the sorted (K, rows, m) breakpoints fit in memory
        return _by_rows(lambda xb, db: _flip(W, coef, xb, db, model.b, model.c), W, x, direction)


def _clip_range(clip: Any, x: torch.Tensor) -> tuple[float, float] | None:
    """The validated ``clip`` box (low, high), or None; x must lie in it."""
    if clip is None:
        return None
    if not isinstance(clip, (tuple, list)) or len(clip) != 2:
        raise TypeError(f"`clip` must be a pair (low, high) or None; got {clip!r}.")
    lo, hi = _checks.number("clip[0]", clip[0]), _checks.number("clip[1]", clip[1])
    if not lo < hi:
        raise ValueError(f"`clip` must satisfy low < high; got {clip!r}.")
    if bool(((x < lo) | (x > hi)).any()):
        raise ValueError(f"`x` must lie inside `clip` = ({lo:g}, {hi:g}); got values outside it.")
    return lo, hi


def _to_ball(p: torch.Tensor, x: torch.Tensor, eps: float, box: tuple[float, float] | None) -> torch.Tensor:
    """Project p onto the ℓ2 ball of radius eps around x (row by row), then clip to the box."""
    delta = p - x
    norms = torch.linalg.vector_norm(delta, dim=-1, keepdim=True)
    p = x + delta * torch.clamp(eps / norms.clamp_min(torch.finfo(x.dtype).tiny), max=1.0)
    return p.clamp(*box) if box else p


def _fgm(W, a, scale, x, y, eps, box, b=None):
    """:func:`fgm_l2` without validation (b the hidden bias or None)."""
    adv = x + eps * _descent(W, a * scale, _pre(x, W, b), y)[0]
    return adv.clamp(*box) if box else adv


def _pgd(W, a, scale, x, y, eps, steps, alpha, box, generator=None, b=None, c=None):
    """:func:`pgd_l2` without validation, one x Wᵀ per step (b, c: the biases or None)."""
    x = x.expand(*W.shape[:-2], *x.shape[-2:])
    coef = a * scale
    adv = x.clone()
    if generator is not None:
        g = torch.randn(x.shape, generator=generator, dtype=torch.float64)
        r = torch.rand(*x.shape[:-1], 1, generator=generator, dtype=torch.float64) ** (1.0 / x.shape[-1])
        start = (torch.nn.functional.normalize(g, dim=-1) * r * eps).to(x.device, x.dtype)
        adv = _to_ball(x + start, x, eps, box)
    z = _pre(adv, W, b)
    best, best_margin = adv.clone(), y * _readout(torch.relu(z), a, scale, c)
    for _ in range(steps):
        adv = _to_ball(adv + alpha * _descent(W, coef, z, y)[0], x, eps, box)
        z = _pre(adv, W, b)
        margin = y * _readout(torch.relu(z), a, scale, c)
        better = margin < best_margin
        best = torch.where(better[..., None], adv, best)
        best_margin = torch.where(better, margin, best_margin)
    return best


def fgm_l2(model: TwoLayerReLU, x: torch.Tensor, y: torch.Tensor, eps: float, *,
           clip: tuple[float, float] | None = None) -> torch.Tensor:
    """Fast gradient method in ℓ2: x − ε · y ∇f/‖∇f‖, then clipped to ``clip`` when given.

    Examples
    --------
    >>> import torch, lazylib as ll
    >>> net = ll.TwoLayerReLU(3, 20, generator=torch.Generator().manual_seed(0))
    >>> x, y = torch.ones(2, 3), torch.tensor([1.0, -1.0])
    >>> float((ll.fgm_l2(net, x, y, 0.5) - x).norm(dim=1).max()) <= 0.5 + 1e-6
    True

    Book: chapter 10.
    """
    _checks.model("model", model, biases=True, ensemble=True)
    x = _checks.inputs("x", x, model)
    y = _checks.labels("y", y, x).to(x.dtype)
    eps = _checks.number("eps", eps, minimum=0.0)
    box = _clip_range(clip, x)
    with torch.no_grad():
        return _fgm(model.W, model.a, model.output_scale, x, y, eps, box, model.b)


def pgd_l2(model: TwoLayerReLU, x: torch.Tensor, y: torch.Tensor, eps: float, *, steps: int,
           step_size: float | None = None, clip: tuple[float, float] | None = None,
           generator: torch.Generator | None = None) -> torch.Tensor:
    """Projected gradient descent on the margin y·f(x') over the ℓ2 ball ‖x' − x‖ ≤ ε.

    Each step moves along the normalised direction −y∇f/‖∇f‖ by ``step_size``, projects back onto
    the ε-ball and clips to ``clip``; the iterate with the smallest margin is returned (so more steps
    never give a weaker attack). Clipping after the ball projection keeps the point inside the ball.

    Parameters
    ----------
    steps : int
        Number of steps, ≥ 1 (the authors use 100).
    step_size : float, optional
        Default 2.5·ε/steps, the authors' choice.
    generator : torch.Generator, optional
        Start from a uniform random point of the ball; without it the attack starts at x (deterministic).

    Examples
    --------
    >>> import torch, lazylib as ll
    >>> net = ll.TwoLayerReLU(3, 20, generator=torch.Generator().manual_seed(0))
    >>> x, y = torch.full((2, 3), 0.5), torch.tensor([1.0, -1.0])
    >>> adv = ll.pgd_l2(net, x, y, 0.3, steps=10, clip=(0.0, 1.0))
    >>> float((adv - x).norm(dim=1).max()) <= 0.3 + 1e-6
    True

    Book: chapters 11 and 12.
    """
    _checks.model("model", model, biases=True, ensemble=True)
    x = _checks.inputs("x", x, model)
    y = _checks.labels("y", y, x).to(x.dtype)
    eps = _checks.number("eps", eps, minimum=0.0)
    steps = _checks.positive_int("steps", steps)
    alpha = 2.5 * eps / steps if step_size is None else _checks.number("step_size", step_size, minimum=0.0)
    _checks.generator("generator", generator)
    box = _clip_range(clip, x)
    with torch.no_grad():
        return _pgd(model.W, model.a, model.output_scale, x, y, eps, steps, alpha, box, generator,
                    model.b, model.c)
