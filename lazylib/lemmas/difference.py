"""Lemma C for one displacement: the gradient difference ∇ₓf(x + u) − ∇ₓf(x) (book chapter 8).

The difference written with the neurons that switch between x and x + u (Proposition
``prop-difference-formula``), how many switch and its size in expectation at initialisation (Lemma
``lem-difference-fixed``), and what moving the weights from W₀ inside the lazy ball changes (Proposition
``prop-difference-lazy``). The bound uniform over all small u is in :mod:`lazylib.lemmas.uniform_difference`.

Conventions: ``model`` is a TwoLayerReLU; x (base points) and u (displacements, one per base point) are
tensors of shape (n, d); S(u) is the set of neurons whose activation differs between x and x + u, and every
result has one entry per row.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch

from .. import _checks
from ..model import TwoLayerReLU
from ._shared import activation_change, input_pair, rows_bound

__all__ = ["gradient_difference", "activation_changes", "switch_angle", "DifferenceMoments",
    "gradient_difference_moments", "lazy_difference_gap", "lazy_difference_bound"]


def gradient_difference(model: TwoLayerReLU, x: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    r"""‖∇ₓf(x + u) − ∇ₓf(x)‖ per row, computed from the neurons of S(u) alone:

    .. math:: \nabla f(x+u) - \nabla f(x) = \frac{1}{\sqrt m}\sum_{s \in S(u)} a_s\,\sigma_s\, w_s ,
              \qquad \sigma_s = \mathbb 1[w_s^\top (x+u) > 0] - \mathbb 1[w_s^\top x > 0] \in \{\pm 1\}.

    Equal to ``(input_gradient(model, x + u) - input_gradient(model, x)).norm(dim=1)``.

    Examples
    --------
    >>> import torch, lazylib as ll
    >>> net = ll.TwoLayerReLU(5, 50, generator=torch.Generator().manual_seed(0))
    >>> x = torch.ones(2, 5)
    >>> ll.lemmas.gradient_difference(net, x, torch.zeros(2, 5)).tolist()
    [0.0, 0.0]

    Book: Proposition ``prop-difference-formula`` (chapter 8).
    """
    x, u = input_pair(model, x, u)
    with torch.no_grad():
        change = activation_change(model.W.detach(), x, u)
        diff = (change * (model.a * model.output_scale)) @ model.W.detach()
        return torch.linalg.vector_norm(diff, dim=1)


def activation_changes(model: TwoLayerReLU, x: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    """The number |S(u)| of neurons whose activation differs between x and x + u, per row (int64, (n,)).

    Examples
    --------
    >>> import torch, lazylib as ll
    >>> net = ll.TwoLayerReLU(3, 40, generator=torch.Generator().manual_seed(0))
    >>> x = torch.ones(1, 3)
    >>> int(ll.lemmas.activation_changes(net, x, -2 * x))  # x + u = -x: every neuron with w_sᵀx ≠ 0 switches
    40

    Book: Proposition ``prop-difference-formula`` and Lemma ``lem-difference-fixed`` (chapter 8).
    """
    x, u = input_pair(model, x, u)
    with torch.no_grad():
        return (activation_change(model.W.detach(), x, u) != 0).sum(dim=1)


def _check_pair(x: torch.Tensor, u: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """x and u of the same shape, dtype and device, with x ≠ 0 and x + u ≠ 0 in every row."""
    x = _checks.tensor("x", x, ndim=2, shape_text="(n, d)")
    if isinstance(u, torch.Tensor):  # before any value of u is read
        _checks.same_device("u", u, x.device, "the device of x")
    u = _checks.tensor("u", u, ndim=2, shape_text="(n, d)")
    if x.shape[0] == 0 or x.shape[1] == 0:
        raise ValueError(f"`x` must have shape (n, d) with n, d ≥ 1; got {tuple(x.shape)}.")
    if u.shape != x.shape:
        raise ValueError(f"`u` must have the shape of x, {tuple(x.shape)}; got {tuple(u.shape)}.")
    if u.dtype != x.dtype:
        raise TypeError(f"`u` must have the dtype of x, {x.dtype}; got dtype {u.dtype}.")
    if bool((torch.linalg.vector_norm(x, dim=1) == 0).any()):
        raise ValueError("`x` must have non-zero rows; got a zero row.")
    if bool((torch.linalg.vector_norm(x + u, dim=1) == 0).any()):
        raise ValueError("`u` must keep x + u non-zero; got a row with u = -x.")
    return x, u


def switch_angle(x: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    """The angle θ ∈ [0, π] between x and x + u, per row (accurate also for tiny angles).

    For ‖x‖ = 1 and ‖u‖ = r < 1, θ ≤ arcsin(r), with equality when x + u is tangent to the sphere of
    radius r around x. The base points x must be non-zero, and so must x + u.

    Examples
    --------
    >>> import torch, lazylib as ll
    >>> x, u = torch.tensor([[1.0, 0.0]]), torch.tensor([[-1.0, 1.0]])
    >>> round(float(ll.lemmas.switch_angle(x, u)), 6)  # x + u = (0, 1): a right angle
    1.570796

    Book: Lemma ``lem-difference-fixed`` (chapter 8).
    """
    x, u = _check_pair(x, u)
    xh = torch.nn.functional.normalize(x, dim=1)
    yh = torch.nn.functional.normalize(x + u, dim=1)
    return 2 * torch.atan2(torch.linalg.vector_norm(xh - yh, dim=1), torch.linalg.vector_norm(xh + yh, dim=1))


class DifferenceMoments(NamedTuple):
    """``count`` = E|S(u)| = m·θ/π and ``square_norm`` = E‖∇f(x + u) − ∇f(x)‖² = d·θ/π at W₀, each (n,)."""

    count: torch.Tensor
    square_norm: torch.Tensor


def gradient_difference_moments(x: torch.Tensor, u: torch.Tensor, m: int) -> DifferenceMoments:
    """Exact expected switch count and squared gradient difference of a random network of width m.

    θ is :func:`switch_angle` of x and u, which must be as there.

    Examples
    --------
    >>> import torch, lazylib as ll
    >>> x, u = torch.tensor([[1.0, 0.0, 0.0]]), torch.tensor([[-1.0, 1.0, 0.0]])
    >>> mom = ll.lemmas.gradient_difference_moments(x, u, 100)
    >>> round(float(mom.count), 3), round(float(mom.square_norm), 3)  # θ = π/2
    (50.0, 1.5)

    Book: Lemma ``lem-difference-fixed`` (chapter 8).
    """
    x, u = _check_pair(x, u)
    m = _checks.positive_int("m", m)
    frac = switch_angle(x, u) / math.pi
    return DifferenceMoments(m * frac, x.shape[1] * frac)


def lazy_difference_gap(model: TwoLayerReLU, x: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    """‖Δ_W(u) − Δ_{W₀}(u)‖ per row, Δ_W(u) = ∇f(x + u; W) − ∇f(x; W), W the model's current weights.

    Zero when W = W₀.

    Examples
    --------
    >>> import torch, lazylib as ll
    >>> net = ll.TwoLayerReLU(4, 30, generator=torch.Generator().manual_seed(0))
    >>> x, u = torch.ones(2, 4), torch.full((2, 4), -0.3)
    >>> ll.lemmas.lazy_difference_gap(net, x, u).tolist()
    [0.0, 0.0]

    Book: Proposition ``prop-difference-lazy`` (chapter 8).
    """
    x, u = input_pair(model, x, u)
    with torch.no_grad():
        W, W0, coef = model.W.detach(), model.W0, model.a * model.output_scale
        gap = (activation_change(W, x, u) * coef) @ W - (activation_change(W0, x, u) * coef) @ W0
        return torch.linalg.vector_norm(gap, dim=1)


def lazy_difference_bound(model: TwoLayerReLU, x: torch.Tensor, u: torch.Tensor,
                          radius: float) -> torch.Tensor:
    r"""The deterministic bound of Proposition ``prop-difference-lazy`` on :func:`lazy_difference_gap`.

    For every W ∈ B_{2,∞}(W₀, R), with Δ_W(u) = ∇f(x + u; W) − ∇f(x; W),

    .. math:: \|\Delta_W(u) - \Delta_{W_0}(u)\| \le \frac{R\,|S_W(u)|}{\sqrt m}
              + \frac{1}{\sqrt m}\sum_{y \in \{x,\,x+u\}} \sqrt{|N_R(y)|}\;\|W_{0,N_R(y)}\|_{\mathrm{op}},

    with S_W(u) the neurons that switch between x and x + u under W and N_R(y) = {s : |w_{s,0}ᵀy| ≤ R‖y‖}
    the neurons that can switch at y somewhere in the ball (``ll.switchable_neurons``). ``radius`` is
    R ≥ 0, e.g. ``ll.lazy_radius(m, C0)``, and the model's W must lie in the ball: ‖W − W₀‖_{2,∞} ≤ R.

    Raises
    ------
    ValueError
        When the model's W is outside the ball of this radius (the bound would not apply).

    Examples
    --------
    >>> import torch, lazylib as ll
    >>> net = ll.TwoLayerReLU(4, 30, generator=torch.Generator().manual_seed(0))
    >>> x, u = torch.ones(2, 4), torch.full((2, 4), -0.3)
    >>> ll.lemmas.lazy_difference_bound(net, x, u, 0.0).tolist()
    [0.0, 0.0]

    Book: Proposition ``prop-difference-lazy`` (chapter 8).
    """
    x, u = input_pair(model, x, u)
    radius = _checks.number("radius", radius, minimum=0.0)
    with torch.no_grad():
        W, W0 = model.W.detach(), model.W0
        dev = float(torch.linalg.vector_norm(W - W0, dim=1).max())
        slack = 8 * torch.finfo(W.dtype).eps * float(torch.linalg.vector_norm(W0, dim=1).max())
        if dev > radius + slack:
            raise ValueError(
                f"`radius` must be at least the model's deviation ‖W − W₀‖_(2,∞) = {dev:.6g}, so that W lies "
                f"in the ball; got {radius!r}."
            )
        root_m = math.sqrt(model.m)
        switched = activation_change(W, x, u) != 0
        bound = radius * switched.sum(dim=1).to(x.dtype) / root_m
        for y in (x, x + u):  # the neurons that can switch at y somewhere in the ball
            near = (y @ W0.T).abs() <= radius * torch.linalg.vector_norm(y, dim=1, keepdim=True)
            bound = bound + rows_bound(W0, near) / root_m
        return bound
