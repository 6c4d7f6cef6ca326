"""Lemma C uniformly over a small input ball: sup_{‖u‖ ≤ r} ‖∇ₓf(x + u) − ∇ₓf(x)‖ (book chapter 8).

The spectral norm of the switching rows and the union-bound factor of Lemma ``lem-difference-uniform``
(counting the activation patterns a move of x can produce), the naive bound that ignores which patterns
are reachable, an adversarial search of the ball for the largest difference, and the widths for which
the uniform bound closes the argument. The difference for one displacement is in
:mod:`lazylib.lemmas.difference`.

Conventions, as there: ``model`` is a TwoLayerReLU, x and u are tensors of shape (n, d) and every result
has one entry per row. Also: ``radius`` is the radius r ≥ 0 of the ball of displacements u; m and d are
a width and an input dimension, ≥ 1; γ ∈ (0, 1) is a failure probability.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch

from .. import _checks
from ..model import TwoLayerReLU, input_gradient
from ._shared import activation_change, input_pair, masked_operator_norm, rows_bound
from .difference import gradient_difference

__all__ = ["switched_operator_norm", "log_pattern_count", "uniform_difference_factor",
    "naive_difference_bound", "gradient_difference_search", "DifferenceWindow", "difference_window"]


def switched_operator_norm(model: TwoLayerReLU, x: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    """‖W_{S(u)}‖_op/√m, the spectral norm of the rows of W that switch between x and x + u, per row.

    The scale of the uniform bound K·‖W_{S(u)}‖_op/√m of Lemma ``lem-difference-uniform``; zero where no
    neuron switches.

    Examples
    --------
    >>> import torch, lazylib as ll
    >>> net = ll.TwoLayerReLU(3, 40, generator=torch.Generator().manual_seed(0))
    >>> x = torch.ones(2, 3)
    >>> ll.lemmas.switched_operator_norm(net, x, torch.zeros(2, 3)).tolist()
    [0.0, 0.0]

    Book: Lemma ``lem-difference-uniform`` (chapter 8).
    """
    x, u = input_pair(model, x, u)
    with torch.no_grad():
        switched = activation_change(model.W.detach(), x, u) != 0
        return masked_operator_norm(model.W.detach(), switched) / math.sqrt(model.m)


def log_pattern_count(m: int, d: int) -> float:
    """log Π(m, d), Π = Σ_{i=0}^{d+1} C(m, i) (2^m when d + 1 ≥ m): how many activation patterns moving x can
    produce (Sauer–Shelah).

    Examples
    --------
    >>> import math, lazylib as ll
    >>> round(ll.lemmas.log_pattern_count(5, 1), 6) == round(math.log(1 + 5 + 10), 6)
    True

    Book: Lemma ``lem-difference-uniform`` (chapter 8).
    """
    m = _checks.positive_int("m", m)
    d = _checks.positive_int("d", d)
    k = min(d + 1, m)
    i = torch.arange(k + 1, dtype=torch.float64)
    terms = math.lgamma(m + 1) - torch.lgamma(i + 1) - torch.lgamma(m - i + 1)
    return float(torch.logsumexp(terms, dim=0))


def uniform_difference_factor(m: int, d: int, gamma: float) -> float:
    """The factor K(m, d, γ) = 2·√(2·(log Π(m, d) + d·log 5 + log(1/γ))) of the uniform difference bound.

    Π(m, d) is the pattern count of :func:`log_pattern_count`, 5^d the size of a 1/2-net of the sphere.
    Lemma ``lem-difference-uniform``: with probability at least 1 − γ over the output signs, every u
    satisfies ‖∇f(x + u; W₀) − ∇f(x; W₀)‖ ≤ K·‖W_{0,S(u)}‖_op/√m.

    Examples
    --------
    >>> import lazylib as ll
    >>> ll.lemmas.uniform_difference_factor(1000, 100, 0.1) > ll.lemmas.uniform_difference_factor(1000, 100, 0.5)
    True

    Book: Lemma ``lem-difference-uniform`` (chapter 8).
    """
    m = _checks.positive_int("m", m)
    d = _checks.positive_int("d", d)
    gamma = _checks.probability("gamma", gamma)
    return 2.0 * math.sqrt(2.0 * (log_pattern_count(m, d) + d * math.log(5.0) + math.log(1.0 / gamma)))


def naive_difference_bound(model: TwoLayerReLU, x: torch.Tensor, radius: float) -> torch.Tensor:
    """The bound √|T|·‖W_T‖_op/√m on sup_{‖u‖ ≤ r} ‖∇f(x + u) − ∇f(x)‖ that lets every neuron of
    T = {s : |w_sᵀx| ≤ r‖w_s‖} (all those some ‖u‖ ≤ r can switch) switch, with every sign.

    It grows like √m for r of order 1/√d: the reason the uniform bound needs a counting argument.

    Examples
    --------
    >>> import torch, lazylib as ll
    >>> net = ll.TwoLayerReLU(4, 30, generator=torch.Generator().manual_seed(0))
    >>> ll.lemmas.naive_difference_bound(net, torch.ones(2, 4), 0.0).tolist()
    [0.0, 0.0]

    Book: chapter 8, the section on the uniform bound.
    """
    x = _checks.model_inputs(model, x)
    radius = _checks.number("radius", radius, minimum=0.0)
    with torch.no_grad():
        W = model.W.detach()
        near = (x @ W.T).abs() <= radius * torch.linalg.vector_norm(W, dim=1)[None, :]
        return rows_bound(W, near) / math.sqrt(model.m)


def gradient_difference_search(model: TwoLayerReLU, x: torch.Tensor, radius: float | torch.Tensor, *,
                               restarts: int = 8, steps: int = 60,
                               generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Search the ball ‖u‖ ≤ radius for the largest gradient difference ‖∇f(x + u) − ∇f(x)‖.

    The difference is piecewise constant in u, so the search ascends a smoothed surrogate (each activation
    a logistic function of temperature τ·radius·‖w_s‖, τ annealed from 0.3 to 0.01) by normalised projected
    steps, keeping the iterate of largest exact difference. The starts are ±radius·∇f/‖∇f‖ (the paper's
    step and its opposite) and ``restarts − 2`` uniform random points of the ball, all run as one batch.
    The result is a point of the ball, so its value is a certified *lower* bound on the supremum.

    Parameters
    ----------
    radius : float or torch.Tensor of shape (n,)
        One for all inputs or one per input (each row is then searched exactly as with its own radius
        alone).
    restarts : int
        Starting points per input, ≥ 2 (the two attack directions come first).
    steps : int
        Ascent steps per start, ≥ 1.
    generator : torch.Generator, optional
        CPU generator for the random starts.

    Returns
    -------
    (u, value) : tuple of torch.Tensor
        The best displacement found, (n, d) with ‖u‖ ≤ radius, and its exact difference, (n,).

    Examples
    --------
    >>> import torch, lazylib as ll
    >>> net = ll.TwoLayerReLU(10, 200, generator=torch.Generator().manual_seed(0))
    >>> x = torch.nn.functional.normalize(torch.randn(3, 10, generator=torch.Generator().manual_seed(1)), dim=1)
    >>> u, best = ll.lemmas.gradient_difference_search(net, x, 0.3, restarts=4, steps=10,
    ...                                                generator=torch.Generator().manual_seed(2))
    >>> bool((u.norm(dim=1) <= 0.3 + 1e-6).all()), bool(torch.equal(best, ll.lemmas.gradient_difference(net, x, u)))
    (True, True)

    Book: the adversarial search of chapter 8, for Lemma ``lem-difference-uniform``.
    """
    x = _checks.model_inputs(model, x)
    n, d = x.shape
    radii = _checks.per_row("radius", radius, x)
    restarts = _checks.positive_int("restarts", restarts, minimum=2)
    steps = _checks.positive_int("steps", steps)
    _checks.generator("generator", generator)
    W = model.W.detach()
    coef = model.a * model.output_scale
    with torch.no_grad():
        z0 = x @ W.T
        active0 = (z0 > 0).to(x.dtype)
        g = input_gradient(model, x)
        ghat = torch.nn.functional.normalize(g, dim=1)
        sgn = torch.where(torch.relu(z0) @ coef >= 0, 1.0, -1.0).to(x.dtype)
        starts = [-sgn[:, None] * ghat, sgn[:, None] * ghat]
        if restarts > 2:
            rnd = torch.randn(n, restarts - 2, d, generator=generator, dtype=torch.float64)
            # Uniform in the ball: the best cell need not touch the sphere.
            depth = torch.rand(n, restarts - 2, 1, generator=generator, dtype=torch.float64) ** (1.0 / d)
            rnd = (torch.nn.functional.normalize(rnd, dim=2) * depth).to(device=x.device, dtype=x.dtype)
            starts += list(rnd.unbind(dim=1))
        rr = radii.repeat_interleave(restarts)[:, None]  # the radius of every (input, start) row
        u = rr * torch.stack(starts, dim=1).reshape(n * restarts, d)
        z0r = z0.repeat_interleave(restarts, dim=0)
        a0r = active0.repeat_interleave(restarts, dim=0)
        wnorm = torch.linalg.vector_norm(W, dim=1)

        def exact(z: torch.Tensor) -> torch.Tensor:  # z: pre-activations at x + u
            change = (z > 0).to(x.dtype) - a0r
            return torch.linalg.vector_norm((change * coef) @ W, dim=1)

        best_u, best = u.clone(), exact(z0r + u @ W.T)
    if not bool((radii > 0).any()):
        return x.new_zeros(n, d), best.reshape(n, restarts)[:, 0].clone()
    moving = rr > 0
    taus = torch.logspace(math.log10(0.3), math.log10(0.01), steps, dtype=torch.float64).tolist()
    sizes = torch.linspace(0.5, 0.05, steps, dtype=torch.float64).tolist()
    tiny = torch.finfo(x.dtype).tiny
    for k, (tau, size) in enumerate(zip(taus, sizes)):
        u = u.detach().requires_grad_(True)
        with torch.enable_grad():
            z = z0r + u @ W.T
            soft = torch.sigmoid(z / (tau * rr * wnorm).clamp_min(tiny))
            diff = ((soft - a0r) * coef) @ W
            objective = (diff * diff).sum()
            (grad,) = torch.autograd.grad(objective, u)
        with torch.no_grad():
            if k > 0:  # the exact value at the current point (the starts were evaluated above)
                value = exact(z.detach())
                better = value > best
                best = torch.where(better, value, best)
                best_u = torch.where(better[:, None], u.detach(), best_u)
            step = torch.where(moving, torch.nn.functional.normalize(grad, dim=1), torch.zeros_like(grad))
            u = u.detach() + size * rr * step
            norms = torch.linalg.vector_norm(u, dim=1, keepdim=True)
            u = u * torch.clamp(rr / norms.clamp_min(tiny), max=1.0)
    with torch.no_grad():
        value = exact(z0r + u @ W.T)
        better = value > best
        best = torch.where(better, value, best)
        best_u = torch.where(better[:, None], u, best_u)
        best = best.reshape(n, restarts)
        pick = best.argmax(dim=1)
        u_out = best_u.reshape(n, restarts, d)[torch.arange(n, device=x.device), pick]
        # Report the exact value at the returned point (recomputed in the public function's own way).
        return u_out, gradient_difference(model, x, u_out)


class DifferenceWindow(NamedTuple):
    """log₁₀ of the smallest and largest width of :func:`difference_window`, ``log10_low`` and ``log10_high``
    (floats, both NaN when the window is empty)."""

    log10_low: float
    log10_high: float


def difference_window(d: int, c: float, gamma: float) -> DifferenceWindow:
    r"""The widths m for which the book's uniform bound on the gradient difference closes the argument.

    The range of m where K(m, d, γ)·(√(2θ/π) + √(d/m)) < ½√(d/2) (half the typical gradient norm), with
    K of Lemma ``lem-difference-uniform`` (Π(m, d) ≤ (em/(d+1))^{d+1}), the description √(2θ/π) + √(d/m)
    of ‖W_{0,S(u)}‖_op/√m that chapter 8 measures, and θ = arcsin(c/√d) for the radius r = c/√d, c > 0.

    Examples
    --------
    >>> import lazylib as ll
    >>> import math
    >>> math.isnan(ll.lemmas.difference_window(784, 2.0, 0.1).log10_low)  # empty at MNIST's d
    True

    Book: chapter 8, section on the window of the uniform bound.
    """
    d = _checks.positive_int("d", d)
    c = _checks.number("c", c, minimum=0.0, strict=True)
    gamma = _checks.probability("gamma", gamma)
    theta = math.asin(min(c / math.sqrt(d), 1.0))
    alpha = math.sqrt(2 * theta / math.pi)
    beta = 0.5 * math.sqrt(d / 2)
    base = d * math.log(5.0) + math.log(1.0 / gamma)

    def excess(ell: torch.Tensor) -> torch.Tensor:  # ell = ln m; negative inside the window
        log_patterns = (d + 1) * (1.0 + ell - math.log(d + 1))
        K = 2.0 * torch.sqrt(2.0 * (log_patterns + base))
        return K * (alpha + torch.sqrt(d * torch.exp(-ell))) - beta

    lo_ell = math.log(d + 1)
    # Beyond ell_max even the first term alone, K·α, exceeds β: nothing larger can be in the window.
    hi_ell = lo_ell - 1.0 + ((beta / (2 * alpha)) ** 2 / 2.0 - base) / (d + 1)
    nan = float("nan")
    if hi_ell <= lo_ell:
        return DifferenceWindow(nan, nan)
    grid = torch.linspace(lo_ell, hi_ell, 20001, dtype=torch.float64)
    inside = excess(grid) < 0
    if not bool(inside.any()):
        return DifferenceWindow(nan, nan)
    idx = torch.nonzero(inside).flatten()

    def edge(a: float, b: float) -> float:  # excess changes sign between a and b: bisect
        fa = float(excess(torch.tensor(a, dtype=torch.float64)))
        for _ in range(80):
            mid = 0.5 * (a + b)
            fm = float(excess(torch.tensor(mid, dtype=torch.float64)))
            if (fm < 0) == (fa < 0):
                a, fa = mid, fm
            else:
                b = mid
        return 0.5 * (a + b)

    first, last = int(idx[0]), int(idx[-1])
    low = float(grid[0]) if first == 0 else edge(float(grid[first - 1]), float(grid[first]))
    high = float(grid[-1]) if last == len(grid) - 1 else edge(float(grid[last]), float(grid[last + 1]))
    return DifferenceWindow(low / math.log(10), high / math.log(10))
