r"""The linearised network and its tangent kernel: why lazy training can fit, and what it fits.

In the lazy ball a network is close to its linearisation in W around W₀ (chapter 4,
``prop-linearization-gap``), a linear model with the *tangent features* φ(x) = ∇_W f(x; W₀). Its inner
products form the tangent kernel

.. math:: K_m(x, x') = \langle \nabla_W f(x; W_0), \nabla_W f(x'; W_0)\rangle
          = \alpha^2\, x^\top x' \sum_s \mathbb 1[w_{s,0}^\top x > 0]\,\mathbb 1[w_{s,0}^\top x' > 0],

(α the output scale, 1/√m in the paper) whose infinite-width limit is the arc-cosine kernel
K_∞(x, x') = x^\top x' (π − θ)/(2π), θ the angle between x and x'. The minimum-norm weights that make
the linearised model interpolate targets t are W₀ + Σᵢ cᵢ φ(xᵢ), c = H⁻¹(t − f(X; W₀)) with H the Gram
matrix of K_m; each row moves by at most α‖c‖₁ maxᵢ‖xᵢ‖, which bounds the lazy constant C₀ of a fit.

Conventions: ``model`` is one network without biases (not an ensemble); ``x``, ``x1`` and ``x2`` are batches of inputs
(n, d) (n1 and n2 rows) with the model's dtype and device (for :func:`limit_kernel`, which takes no
model, any floating dtype and device that x1 and x2 share). A kernel function returns the (n1, n2)
matrix of K(x1ᵢ, x2ⱼ); ``x2`` defaults to ``x1``, which gives the Gram matrix H.

Book: chapter 4, section "The linearised model and its tangent kernel" (labels ``def-tangent-kernel``,
``prop-kernel-limit``, ``thm-lazy-interpolation``, ``prop-linear-gd-limit``).
"""

from __future__ import annotations

import copy
import math

import torch

from . import _checks
from .attacks import _walk
from .model import TwoLayerReLU

__all__ = ["tangent_kernel", "limit_kernel", "min_norm_interpolant", "linearized_flip_distance"]


def _gram(W0: torch.Tensor, scale: float, x1: torch.Tensor,
          x2: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """α² (x1 x2ᵀ) ⊙ (A1 A2ᵀ), A the activation patterns under W0, and A1 (in x1's dtype)."""
    a1 = (x1 @ W0.T > 0).to(x1.dtype)
    a2 = (x2 @ W0.T > 0).to(x2.dtype)
    return scale**2 * (x1 @ x2.T) * (a1 @ a2.T), a1


def tangent_kernel(model: TwoLayerReLU, x1: torch.Tensor,
                   x2: torch.Tensor | None = None) -> torch.Tensor:
    r"""The tangent kernel K_m(x, x') of the network at its initialisation W₀ (module docstring).

    Examples
    --------
    >>> import torch, lazylib as ll
    >>> net = ll.TwoLayerReLU(3, 4, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    >>> x = torch.tensor([[1.0, 0.0, 0.0]], dtype=torch.float64)
    >>> active = int((x @ net.W0.T > 0).sum())
    >>> float(ll.tangent_kernel.tangent_kernel(net, x)) == active / 4  # K(x, x) = ‖∇_W f(x; W₀)‖²
    True

    Book: ``def-tangent-kernel`` (chapter 4).
    """
    _checks.model("model", model)
    x1 = _checks.inputs("x1", x1, model)
    x2 = x1 if x2 is None else _checks.inputs("x2", x2, model)
    with torch.no_grad():
        return _gram(model.W0, model.output_scale, x1, x2)[0]


def limit_kernel(x1: torch.Tensor, x2: torch.Tensor | None = None) -> torch.Tensor:
    r"""The infinite-width tangent kernel K_∞(x, x') = xᵀx' (π − θ)/(2π), θ = ∠(x, x').

    The limit of :func:`tangent_kernel` for α = 1/√m as m → ∞ (the share of neurons active at both x and x'
    tends to (π − θ)/(2π)). A zero row gives a zero kernel row.

    Examples
    --------
    >>> import torch, lazylib as ll
    >>> x = torch.tensor([[1.0, 0.0], [0.0, 2.0]], dtype=torch.float64)
    >>> ll.tangent_kernel.limit_kernel(x)
    tensor([[0.5000, 0.0000],
            [0.0000, 2.0000]], dtype=torch.float64)

    Book: ``prop-kernel-limit`` (chapter 4).
    """
    x1 = _checks.tensor("x1", x1, ndim=2)
    x2 = x1 if x2 is None else _checks.tensor("x2", x2, ndim=2)
    if x2.shape[1] != x1.shape[1] or x2.dtype != x1.dtype or x2.device != x1.device:
        raise ValueError(f"`x2` must have {x1.shape[1]} columns, dtype {x1.dtype} and device {x1.device} "
                         f"like `x1`; got shape {tuple(x2.shape)}, {x2.dtype}, {x2.device}.")
    inner = x1 @ x2.T
    norms = x1.norm(dim=1)[:, None] * x2.norm(dim=1)[None, :]
    cos = torch.where(norms > 0, inner / torch.where(norms > 0, norms, torch.ones_like(norms)),
                      torch.zeros_like(inner))
    theta = torch.arccos(cos.clamp(-1.0, 1.0))
    return inner * (math.pi - theta) / (2 * math.pi)


def min_norm_interpolant(model: TwoLayerReLU, x: torch.Tensor,
                         targets: torch.Tensor) -> tuple[TwoLayerReLU, torch.Tensor]:
    r"""The weights closest to W₀ at which the linearised model takes the given values.

    Solves H c = t − f(X; W₀) (H the Gram matrix of ``x``, as in the module docstring) and returns a copy
    of the network with W = W₀ + Σᵢ cᵢ ∇_W f(xᵢ; W₀), so f_lin(xᵢ; W) = tᵢ, and c. The solve runs in
    float64 (H is often badly conditioned); the copy keeps the model's dtype, device, W₀ and a. Returns
    (the interpolating network, the coefficients c (n,) in float64), for ``targets`` (n,) and inputs
    ``x`` with an invertible Gram matrix (no repeated inputs, n ≤ the rank the patterns allow).

    Raises
    ------
    ValueError
        If the Gram matrix is singular to float64 precision.

    Examples
    --------
    >>> import torch, lazylib as ll
    >>> net = ll.TwoLayerReLU(10, 200, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    >>> x = torch.randn(5, 10, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    >>> fit, c = ll.tangent_kernel.min_norm_interpolant(net, x, torch.ones(5, dtype=torch.float64))
    >>> bool(torch.allclose(ll.linearization(fit, x), torch.ones(5, dtype=torch.float64)))
    True

    Book: ``thm-lazy-interpolation`` (chapter 4).
    """
    x = _checks.model_inputs(model, x)
    n = x.shape[0]
    targets = _checks.tensor("targets", targets, ndim=1, shape=(n,), shape_text=f"({n},)")
    with torch.no_grad():
        x64, W0, a = x.double(), model.W0.double(), model.a.double()
        gram, active = _gram(W0, model.output_scale, x64, x64)
        f0 = (torch.relu(x64 @ W0.T) @ a) * model.output_scale
        coef, info = torch.linalg.solve_ex(gram, targets.to(device=x.device, dtype=torch.float64) - f0)
        if bool(info) or not bool(torch.isfinite(coef).all()):  # info ≠ 0: exactly singular
            raise ValueError("`x` must have an invertible tangent Gram matrix; got a singular one.")
        move = model.output_scale * a[:, None] * ((active * coef[:, None]).T @ x64)
        fit = copy.deepcopy(model)
        fit.W.copy_((W0 + move).to(model.W.dtype))
    return fit, coef


def linearized_flip_distance(model: TwoLayerReLU, x: torch.Tensor,
                             direction: torch.Tensor | None = None) -> torch.Tensor:
    r"""Exact distance along a ray to the first sign change of the linearised model, as a function of x.

    For fixed W, f_lin(x; W) = α Σ_s a_s 𝟙[w_{s,0}ᵀx > 0] w_sᵀx is piecewise linear in x with *jumps*: where
    w_{s,0}ᵀx changes sign, neuron s enters or leaves with the value α a_s w_sᵀx (zero only if w_s = w_{s,0}).
    Along x + t·u the jumps sit at t_s = −(w_{s,0}ᵀx)/(w_{s,0}ᵀu); the pieces and jumps are walked in order
    and the first t ≥ 0 where the sign differs from sign f_lin(x) is returned (``inf`` if none, 0 where
    f_lin(x) = 0). At W = W₀ it equals :func:`lazylib.flip_distance`. The default direction is
    u = −sign f_lin(x) · g/‖g‖, g = α Σ_s a_s 𝟙[w_{s,0}ᵀx > 0] w_s the gradient of f_lin in x; a given
    ``direction`` (n, d) is normalised here, and its zero rows give ``inf``. Returns one distance per
    input, shape (n,).

    Examples
    --------
    >>> import torch, lazylib as ll
    >>> net = ll.TwoLayerReLU(20, 300, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    >>> x = torch.nn.functional.normalize(torch.randn(3, 20, generator=torch.Generator().manual_seed(1), dtype=torch.float64), dim=1)
    >>> bool(torch.allclose(ll.tangent_kernel.linearized_flip_distance(net, x), ll.flip_distance(net, x)))
    True

    Book: chapter 4, flip distances of the linearised model against the trained network's.
    """
    x = _checks.model_inputs(model, x)
    with torch.no_grad():
        W, W0, coef = model.W, model.W0, model.a * model.output_scale
        z0, z = x @ W0.T, x @ W.T
        on0 = z0 > 0
        f0 = (on0.to(x.dtype) * z) @ coef
        sgn0 = torch.sign(f0)
        if direction is None:
            u = -sgn0[:, None] * ((on0.to(x.dtype) * coef) @ W)
        else:
            u = _checks.rows_of("direction", direction, model, x)
        unorm = u.norm(dim=1, keepdim=True)
        u = torch.where(unorm > 0, u / torch.where(unorm > 0, unorm, torch.ones_like(unorm)),
                        torch.zeros_like(u))
        c0, c = u @ W0.T, u @ W.T
        # Right-limits at t = 0: a neuron exactly at its kink counts as on if it is switching on.
        on = on0 | ((z0 == 0) & (c0 > 0))
        start_value = (on.to(x.dtype) * z) @ coef
        start_slope = (on.to(x.dtype) * c) @ coef
        # Neuron s switches at its W₀ breakpoint (on if c0 > 0, off if c0 < 0), with its current weights.
        k = torch.sign(c0) * coef
        tau, last, prev, slope_before, slope_after, before, jump = _walk(z0, c0, start_slope, start_value,
                                                                         k * c, (k, z, c))
        after = before + jump
        piece_start = torch.cat([start_value[:, None], after[:, :-1]], dim=1)
        s = sgn0[:, None]
        inf = torch.full_like(tau, float("inf"))
        # A zero crossing inside a piece, then a jump across zero at its end.
        crossing = (s * piece_start > 0) & (s * before <= 0)
        safe_slope = slope_before.where(crossing, torch.ones_like(tau))
        t_piece = torch.where(crossing, prev + (piece_start / safe_slope).abs(), inf)
        t_jump = torch.where((s * before > 0) & (s * after <= 0), tau, inf)
        # The last piece runs to infinity.
        end_value, end_slope = after[:, -1], slope_after[:, -1]
        tail = (sgn0 * end_value > 0) & (sgn0 * end_slope < 0)
        safe_end = end_slope.where(tail, torch.ones_like(end_slope))
        t_tail = torch.where(tail, last[:, 0] + (end_value / safe_end).abs(), torch.full_like(f0, math.inf))
        t = torch.minimum(torch.minimum(t_piece.amin(dim=1), t_jump.amin(dim=1)), t_tail)
        t = torch.where(sgn0 * start_value <= 0, torch.zeros_like(t), t)  # already flipped just after 0
        t = torch.where(unorm[:, 0] > 0, t, torch.full_like(t, float("inf")))
        return torch.where(f0 == 0, torch.zeros_like(t), t)
