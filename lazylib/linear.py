"""Linear classifiers sign(wᵀx + b): exact robust error, and the distance to the boundary of a random one.

For f(x) = wᵀx + b the worst perturbation in the ℓ2 ball of radius ε is −ε·y·w/‖w‖ (Cauchy–Schwarz),
so the robust loss is exact: a point is robust at budget ε iff its signed distance to the decision
boundary, y f(x)/‖w‖, exceeds ε. For a *random* direction w (any rotation-invariant law) and a fixed
x, that distance is ‖x‖·|u₁| with u uniform on the sphere S^{d−1}; its law is known in closed form
and is of order ‖x‖/√d.

Conventions: ``w`` is a non-zero weight vector (d,); ``x`` a batch of points (n, d) with the dtype
and device of w; ``y`` labels (n,) in {−1, +1}; ``bias`` the offset b (default 0). The law functions
take ``r`` as a number (returning a float) or as a 1-D sequence or tensor (returning a float64 CPU
tensor of its shape), and the dimension ``d`` ≥ 2.

Book: chapter 2 (labels ``prop-linear-robust`` and ``prop-random-linear``).
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import torch

from . import _checks
from .estimation import _betainc
from .metrics import _fraction_above
from .model import TwoLayerReLU

__all__ = [
    "boundary_distance",
    "linear_robust_accuracy",
    "linear_worst_perturbation",
    "linear_network",
    "least_squares_classifier",
    "random_linear_distance_mean",
    "random_linear_distance_density",
    "random_linear_distance_cdf",
]


def _weights(w: Any) -> torch.Tensor:
    w = _checks.vector("w", w)
    if not bool((w != 0).any()):
        raise ValueError("`w` must be a non-zero vector (a zero w has no decision boundary); got all zeros.")
    return w


def _points(name: str, x: Any, w: torch.Tensor) -> torch.Tensor:
    d = w.shape[0]
    x = _checks.tensor(name, x, ndim=2, shape=(None, d), shape_text=f"(n, {d})", finite=False)
    if x.shape[0] == 0:
        raise ValueError(f"`{name}` must be a non-empty batch (n ≥ 1); got {tuple(x.shape)}.")
    if x.device != w.device:
        raise ValueError(f"`{name}` must be on the device of w ({w.device.type}); got a tensor on {x.device.type}.")
    if x.dtype != w.dtype:
        raise TypeError(f"`{name}` must have the dtype of w, {w.dtype}; got dtype {x.dtype}.")
    if not bool(torch.isfinite(x).all()):
        raise ValueError(f"`{name}` must be finite (no NaN or inf); got a tensor with NaN or inf entries.")
    return x


def _signed_distance(w: torch.Tensor, x: torch.Tensor, bias: float) -> torch.Tensor:
    return (x @ w + bias) / torch.linalg.vector_norm(w)


def boundary_distance(w: torch.Tensor, x: torch.Tensor, *, bias: float = 0.0) -> torch.Tensor:
    r"""Euclidean distance from each row of x to the hyperplane {z : wᵀz + b = 0}: |wᵀx + b| / ‖w‖.

    For a correctly classified point this is its robustness radius: the smallest ℓ2 perturbation that
    makes the margin y(wᵀx + b) non-positive.

    Returns
    -------
    torch.Tensor, shape (n,)

    Examples
    --------
    >>> import torch, lazylib as ll
    >>> ll.boundary_distance(torch.tensor([3.0, 4.0]), torch.tensor([[1.0, 1.0]]))
    tensor([1.4000])

    Book: Proposition ``prop-linear-robust`` (chapter 2).
    """
    w = _weights(w)
    x = _points("x", x, w)
    bias = _checks.number("bias", bias)
    return _signed_distance(w, x, bias).abs()


def linear_robust_accuracy(
    w: torch.Tensor,
    x: torch.Tensor,
    y: torch.Tensor,
    eps: float | Sequence[float] | torch.Tensor,
    *,
    bias: float = 0.0,
) -> float | torch.Tensor:
    r"""Exact robust accuracy of sign(wᵀx + b) in the ℓ2 ball of radius ε: the fraction with y(wᵀx + b) > ε‖w‖.

    Parameters
    ----------
    eps : float or 1-D sequence of floats
        Budgets ε ≥ 0.

    Returns
    -------
    float, or float64 CPU tensor of shape (len(eps),) for a sequence of budgets.
        Equals the clean accuracy at ε = 0 (a point on the boundary counts as an error).

    Examples
    --------
    >>> import torch, lazylib as ll
    >>> w, x, y = torch.tensor([1.0, 0.0]), torch.tensor([[0.5, 3.0], [-2.0, 1.0]]), torch.tensor([1.0, -1.0])
    >>> ll.linear_robust_accuracy(w, x, y, [0.0, 1.0, 3.0]).tolist()
    [1.0, 0.5, 0.0]

    Book: Proposition ``prop-linear-robust`` (chapter 2).
    """
    w = _weights(w)
    x = _points("x", x, w)
    y = _checks.labels("y", y, x)
    eps_t, scalar = _checks.budgets("eps", eps)
    bias = _checks.number("bias", bias)
    with torch.no_grad():
        result = _fraction_above(y.to(x.dtype) * _signed_distance(w, x, bias), eps_t)
    return float(result[0]) if scalar else result


def linear_worst_perturbation(
    w: torch.Tensor, x: torch.Tensor, y: torch.Tensor, eps: float, *, bias: float = 0.0
) -> torch.Tensor:
    r"""The point of the ball ‖x' − x‖ ≤ ε with the smallest margin y(wᵀx' + b): x − ε·y·w/‖w‖.

    Its margin is y(wᵀx + b) − ε‖w‖, the minimum over the ball (and the unique minimiser for ε > 0).

    Parameters
    ----------
    eps : float
        Budget ε ≥ 0.
    bias : float
        Does not change the worst direction; accepted for symmetry with the others.

    Returns
    -------
    torch.Tensor, shape (n, d)

    Examples
    --------
    >>> import torch, lazylib as ll
    >>> ll.linear_worst_perturbation(torch.tensor([3.0, 4.0]), torch.tensor([[1.0, 1.0]]), torch.tensor([1.0]), 1.0)
    tensor([[0.4000, 0.2000]])

    Book: Proposition ``prop-linear-robust`` (chapter 2).
    """
    w = _weights(w)
    x = _points("x", x, w)
    y = _checks.labels("y", y, x)
    eps = _checks.number("eps", eps, minimum=0.0)
    _checks.number("bias", bias)
    unit = w / torch.linalg.vector_norm(w)
    return x - eps * y.to(x.dtype)[:, None] * unit[None, :]


def linear_network(w: torch.Tensor) -> TwoLayerReLU:
    r"""The linear function x ↦ wᵀx written as a two-layer ReLU network of width 2.

    Uses z = relu(z) − relu(−z): hidden weights w and −w, output signs +1 and −1, output scale 1. Every
    tool written for :class:`TwoLayerReLU` (gradients, exact flip distances, FGM, PGD) then applies to a
    linear classifier, which lets the book test them against the exact formulas of linear classifiers.

    Parameters
    ----------
    w : torch.Tensor, shape (d,)
        Non-zero weight vector; the network has its dtype and device. ``W0`` is set equal to ``W``.

    Returns
    -------
    TwoLayerReLU
        With ``m = 2``; ``model(x)`` equals ``x @ w`` up to rounding.

    Examples
    --------
    >>> import torch, lazylib as ll
    >>> w = torch.tensor([3.0, 4.0])
    >>> net = ll.linear_network(w)
    >>> net(torch.tensor([[1.0, 1.0], [-1.0, 2.0]])).tolist()
    [7.0, 5.0]

    Book: the check of Proposition ``prop-linear-robust`` (chapter 2).
    """
    w = _weights(w)
    # The random draw is overwritten below; a private generator keeps the global random state untouched.
    net = TwoLayerReLU(w.shape[0], 2, generator=torch.Generator().manual_seed(0), device=w.device,
                       dtype=w.dtype, output_scale=1.0)
    with torch.no_grad():
        rows = torch.stack([w, -w]).detach()
        net.W.copy_(rows)
        net.W0.copy_(rows)
        net.a.copy_(torch.tensor([1.0, -1.0], dtype=w.dtype, device=w.device))
    return net


def least_squares_classifier(x: torch.Tensor, y: torch.Tensor, *, ridge: float = 1.0) -> torch.Tensor:
    r"""Ridge least-squares weights w = (XᵀX + λI)⁻¹Xᵀy, a linear classifier sign(wᵀx) in closed form.

    Parameters
    ----------
    x : torch.Tensor, shape (n, d)
        Training inputs (floating point, finite).
    y : torch.Tensor, shape (n,)
        Labels in {−1, +1}.
    ridge : float
        λ > 0.

    Returns
    -------
    torch.Tensor, shape (d,)
        In the dtype and on the device of x.

    Examples
    --------
    >>> import torch, lazylib as ll
    >>> x = torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])
    >>> w = ll.least_squares_classifier(x, torch.tensor([1.0, 1.0, -1.0]), ridge=1.0)
    >>> torch.sign(x @ w).tolist()
    [1.0, 1.0, -1.0]

    Book: the linear classifier of chapter 2.
    """
    x = _checks.tensor("x", x, ndim=2, shape_text="(n, d)")
    if x.shape[0] == 0 or x.shape[1] == 0:
        raise ValueError(f"`x` must have shape (n, d) with n, d ≥ 1; got {tuple(x.shape)}.")
    y = _checks.labels("y", y, x)
    ridge = _checks.number("ridge", ridge, minimum=0.0, strict=True)
    with torch.no_grad():
        gram = x.T @ x + ridge * torch.eye(x.shape[1], dtype=x.dtype, device=x.device)
        return torch.linalg.solve(gram, x.T @ y.to(x.dtype))


# ----------------------------------------------------------------------------------------------
# The distance to the boundary of a random linear classifier: D/‖x‖ = |u₁|, u uniform on S^{d−1}


def _dimension(d: Any) -> int:
    return _checks.positive_int("d", d, minimum=2)


def _radii(value: Any) -> tuple[torch.Tensor, bool]:
    if isinstance(value, torch.Tensor):
        if value.dtype.is_complex or value.dtype == torch.bool:
            raise TypeError(f"`r` must be a number or a tensor of real numbers; got dtype {value.dtype}.")
        t = value.detach().to("cpu", torch.float64)
        if not bool(torch.isfinite(t).all()):
            raise ValueError("`r` must be finite (no NaN or inf); got a tensor with NaN or inf entries.")
        return t, False
    if isinstance(value, Sequence) and not isinstance(value, str):
        vals = [_checks.number("r", v) for v in value]
        if not vals:
            raise ValueError("`r` must be a number or a non-empty sequence of numbers; got an empty sequence.")
        return torch.tensor(vals, dtype=torch.float64), False
    return torch.tensor([_checks.number("r", value)], dtype=torch.float64), True


def random_linear_distance_mean(d: int) -> float:
    r"""E|u₁| = Γ(d/2) / (√π Γ((d+1)/2)) for u uniform on S^{d−1}: the mean distance to the boundary of
    a random linear classifier, in units of ‖x‖.

    Lies between √(2/(π(d+1))) and √(2/(π(d−1))) (Gautschi's inequality), so it is √(2/(πd))·(1 + O(1/d)).

    Examples
    --------
    >>> import lazylib as ll
    >>> round(ll.random_linear_distance_mean(2), 6)    # E|cos θ| for θ uniform: 2/π
    0.63662

    Book: Proposition ``prop-random-linear`` (chapter 2).
    """
    d = _dimension(d)
    return math.exp(math.lgamma(d / 2) - math.lgamma((d + 1) / 2)) / math.sqrt(math.pi)


def random_linear_distance_density(r: float | Sequence[float] | torch.Tensor, d: int) -> float | torch.Tensor:
    r"""Density of |u₁| (u uniform on S^{d−1}) at r: 2Γ(d/2)/(√πΓ((d−1)/2)) · (1 − r²)^{(d−3)/2} on [0, 1].

    Zero outside [0, 1] (and infinite at r = 1 when d = 2). The law of D/‖x‖, the distance from a fixed x to the boundary of a random
    linear classifier in units of ‖x‖; as d grows, √d·|u₁| tends to |N(0, 1)|.

    Examples
    --------
    >>> import lazylib as ll
    >>> round(ll.random_linear_distance_density(0.0, 3), 6)   # uniform on [0, 1] in d = 3
    1.0

    Book: Proposition ``prop-random-linear`` (chapter 2).
    """
    r_t, scalar = _radii(r)
    d = _dimension(d)
    log_c = math.log(2.0) + math.lgamma(d / 2) - math.lgamma((d - 1) / 2) - 0.5 * math.log(math.pi)
    inside = (r_t >= 0) & (r_t < 1)
    base = torch.where(inside, 1 - r_t**2, torch.ones_like(r_t))
    dens = torch.exp(log_c + (d - 3) / 2 * torch.log(base))
    dens = torch.where(inside, dens, torch.zeros_like(dens))
    # At r = 1 the factor (1 − r²)^{(d−3)/2} is 1 for d = 3, 0 for d > 3 and infinite for d = 2.
    at_one = math.exp(log_c) if d == 3 else (0.0 if d > 3 else math.inf)
    dens = torch.where(r_t == 1, torch.full_like(dens, at_one), dens)
    return float(dens[0]) if scalar else dens


def random_linear_distance_cdf(r: float | Sequence[float] | torch.Tensor, d: int) -> float | torch.Tensor:
    r"""P(|u₁| ≤ r) for u uniform on S^{d−1}: I_{r²}(1/2, (d−1)/2), the regularised incomplete beta function.

    The probability that a fixed x lies within distance r‖x‖ of the boundary of a random linear
    classifier, i.e. that a perturbation of norm r‖x‖ can flip it. 0 below r = 0, 1 above r = 1.

    Examples
    --------
    >>> import lazylib as ll
    >>> round(ll.random_linear_distance_cdf(0.5, 3), 6)       # uniform on [0, 1] in d = 3
    0.5

    Book: Proposition ``prop-random-linear`` (chapter 2); u₁² ~ Beta(1/2, (d−1)/2).
    """
    r_t, scalar = _radii(r)
    d = _dimension(d)
    s = r_t.clamp(0.0, 1.0) ** 2
    cdf = _betainc(torch.full_like(s, 0.5), torch.full_like(s, (d - 1) / 2), s)
    cdf = torch.where(r_t <= 0, torch.zeros_like(cdf), torch.where(r_t >= 1, torch.ones_like(cdf), cdf))
    return float(cdf[0]) if scalar else cdf
