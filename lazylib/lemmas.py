"""The quantities of the main theorem and its three control lemmas (book Part II, chapters 5–9).

Section 1 (chapters 5–7): the width window of the theorem, Lemma A (the function value over the lazy
ball) and Lemma B (the gradient norm over the lazy ball). Section 2 (chapters 8–9): Lemma C (the
gradient difference over a small input ball) and the combination into the flip.
"""

from __future__ import annotations

__all__: list[str] = []

# ----------------------------------------------------------------------------------------------
# Section 1: the theorem's window, Lemma A and Lemma B (chapters 5, 6, 7)


# ----------------------------------------------------------------------------------------------
# Section 2: Lemma C and the combination (chapters 8, 9)

import math as _math  # noqa: E402
from typing import NamedTuple as _NamedTuple, Sequence as _Sequence  # noqa: E402

import torch as _torch  # noqa: E402

from . import _checks as _ck  # noqa: E402
from .model import TwoLayerReLU as _TwoLayerReLU, input_gradient as _input_gradient  # noqa: E402

__all__ += [
    "gradient_difference",
    "activation_changes",
    "switch_angle",
    "DifferenceMoments",
    "gradient_difference_moments",
    "switched_operator_norm",
    "log_pattern_count",
    "uniform_difference_factor",
    "gradient_difference_search",
    "ray_slope_change",
    "theorem_eta",
    "step_flips",
    "flip_fraction",
    "critical_C2",
]


def _input_pair(model: _TwoLayerReLU, x: _torch.Tensor, u: _torch.Tensor) -> tuple[_torch.Tensor, _torch.Tensor]:
    """Validate a batch of inputs x and displacements u of the same shape (n, d)."""
    _ck.model("model", model)
    x = _ck.inputs("x", x, model)
    u = _ck.inputs("u", u, model)
    if u.shape[0] != x.shape[0]:
        raise ValueError(f"`u` must have shape ({x.shape[0]}, {model.d}), one row per row of x; got {tuple(u.shape)}.")
    return x, u


def _activation_change(model: _TwoLayerReLU, x: _torch.Tensor, u: _torch.Tensor) -> _torch.Tensor:
    """χ_s(x + u) − χ_s(x) ∈ {−1, 0, +1} for every input and neuron, shape (n, m)."""
    W = model.W.detach()
    return ((x + u) @ W.T > 0).to(x.dtype) - (x @ W.T > 0).to(x.dtype)


def gradient_difference(model: _TwoLayerReLU, x: _torch.Tensor, u: _torch.Tensor) -> _torch.Tensor:
    r"""‖∇ₓf(x + u) − ∇ₓf(x)‖ for each row, computed from the neurons whose activation changes.

    .. math:: \nabla f(x+u) - \nabla f(x) = \frac{1}{\sqrt m}\sum_{s \in S(u)} a_s\,\sigma_s\, w_s ,
              \qquad \sigma_s = \mathbb 1[w_s^\top (x+u) > 0] - \mathbb 1[w_s^\top x > 0] \in \{\pm 1\}.

    Parameters
    ----------
    model : TwoLayerReLU
    x : torch.Tensor, shape (n, d)
        Base points.
    u : torch.Tensor, shape (n, d)
        Displacements, one per base point.

    Returns
    -------
    torch.Tensor, shape (n,)
        Equal to ``(input_gradient(model, x + u) - input_gradient(model, x)).norm(dim=1)``.

    Examples
    --------
    >>> import torch, lazylib as ll
    >>> net = ll.TwoLayerReLU(5, 50, generator=torch.Generator().manual_seed(0))
    >>> x = torch.ones(2, 5)
    >>> ll.lemmas.gradient_difference(net, x, torch.zeros(2, 5)).tolist()
    [0.0, 0.0]

    Notes
    -----
    Book: Proposition ``prop-difference-formula`` (chapter 8).
    """
    x, u = _input_pair(model, x, u)
    with _torch.no_grad():
        change = _activation_change(model, x, u)
        diff = (change * (model.a * model.output_scale)) @ model.W.detach()
        return _torch.linalg.vector_norm(diff, dim=1)


def activation_changes(model: _TwoLayerReLU, x: _torch.Tensor, u: _torch.Tensor) -> _torch.Tensor:
    """Number of neurons whose activation differs between x and x + u, |S(u)|, per row.

    A neuron s is in S(u) when 1[w_sᵀ(x + u) > 0] ≠ 1[w_sᵀx > 0]; this needs |w_sᵀx| ≤ |w_sᵀu|.

    Returns
    -------
    torch.Tensor, shape (n,), integer counts (int64).

    Examples
    --------
    >>> import torch, lazylib as ll
    >>> net = ll.TwoLayerReLU(3, 40, generator=torch.Generator().manual_seed(0))
    >>> x = torch.ones(1, 3)
    >>> int(ll.lemmas.activation_changes(net, x, -2 * x))  # x + u = -x: every neuron with w_sᵀx ≠ 0 switches
    40

    Notes
    -----
    Book: Proposition ``prop-difference-formula`` and Lemma ``lem-difference-fixed`` (chapter 8).
    """
    x, u = _input_pair(model, x, u)
    with _torch.no_grad():
        return (_activation_change(model, x, u) != 0).sum(dim=1)


def _check_pair(x: _torch.Tensor, u: _torch.Tensor) -> tuple[_torch.Tensor, _torch.Tensor]:
    x = _ck.tensor("x", x, ndim=2, shape_text="(n, d)")
    if isinstance(u, _torch.Tensor) and u.device != x.device:  # before any value of u is read
        raise ValueError(f"`u` must be on the device of x ({x.device.type}); got a tensor on {u.device.type}.")
    u = _ck.tensor("u", u, ndim=2, shape_text="(n, d)")
    if x.shape[0] == 0 or x.shape[1] == 0:
        raise ValueError(f"`x` must have shape (n, d) with n, d ≥ 1; got {tuple(x.shape)}.")
    if u.shape != x.shape:
        raise ValueError(f"`u` must have the shape of x, {tuple(x.shape)}; got {tuple(u.shape)}.")
    if u.dtype != x.dtype:
        raise TypeError(f"`u` must have the dtype of x, {x.dtype}; got dtype {u.dtype}.")
    if bool((_torch.linalg.vector_norm(x, dim=1) == 0).any()):
        raise ValueError("`x` must have non-zero rows; got a zero row.")
    if bool((_torch.linalg.vector_norm(x + u, dim=1) == 0).any()):
        raise ValueError("`u` must keep x + u non-zero; got a row with u = -x.")
    return x, u


def switch_angle(x: _torch.Tensor, u: _torch.Tensor) -> _torch.Tensor:
    r"""The angle θ ∈ [0, π] between x and x + u, per row.

    Computed as θ = 2·atan2(‖x̂ − ŷ‖, ‖x̂ + ŷ‖) with x̂, ŷ the unit vectors along x and y = x + u, which
    is accurate also for tiny angles. For ‖x‖ = 1 and ‖u‖ = r < 1, θ ≤ arcsin(r), with equality when
    x + u is tangent to the sphere of radius r around x.

    Parameters
    ----------
    x, u : torch.Tensor, shape (n, d)
        Non-zero base points and displacements with x + u ≠ 0.

    Returns
    -------
    torch.Tensor, shape (n,)

    Examples
    --------
    >>> import torch, lazylib as ll
    >>> x, u = torch.tensor([[1.0, 0.0]]), torch.tensor([[-1.0, 1.0]])
    >>> round(float(ll.lemmas.switch_angle(x, u)), 6)  # x + u = (0, 1): a right angle
    1.570796

    Notes
    -----
    Book: Lemma ``lem-difference-fixed`` (chapter 8).
    """
    x, u = _check_pair(x, u)
    xh = _torch.nn.functional.normalize(x, dim=1)
    yh = _torch.nn.functional.normalize(x + u, dim=1)
    return 2 * _torch.atan2(_torch.linalg.vector_norm(xh - yh, dim=1), _torch.linalg.vector_norm(xh + yh, dim=1))


class DifferenceMoments(_NamedTuple):
    """Expectations at initialisation for a fixed input and displacement (Lemma ``lem-difference-fixed``).

    Attributes
    ----------
    count : torch.Tensor, shape (n,)
        E|S(u)| = m·θ/π, the expected number of neurons that switch.
    square_norm : torch.Tensor, shape (n,)
        E‖∇f(x + u) − ∇f(x)‖² = d·θ/π.
    """

    count: _torch.Tensor
    square_norm: _torch.Tensor


def gradient_difference_moments(x: _torch.Tensor, u: _torch.Tensor, m: int) -> DifferenceMoments:
    r"""Exact expected switch count and squared gradient difference of a random network.

    For w_{s,0} ~ N(0, I_d) and a_s uniform on {±1}, independent, and fixed x, u (x ≠ 0, x + u ≠ 0):

    .. math:: \mathbb E\,|S(u)| = \frac{m\,\theta}{\pi}, \qquad
              \mathbb E\,\|\nabla f(x+u; W_0) - \nabla f(x; W_0)\|^2 = \frac{d\,\theta}{\pi},

    with θ the angle between x and x + u (:func:`switch_angle`).

    Parameters
    ----------
    x, u : torch.Tensor, shape (n, d)
    m : int
        Width.

    Returns
    -------
    DifferenceMoments
        ``count`` and ``square_norm``, each (n,).

    Examples
    --------
    >>> import torch, lazylib as ll
    >>> x, u = torch.tensor([[1.0, 0.0, 0.0]]), torch.tensor([[-1.0, 1.0, 0.0]])
    >>> mom = ll.lemmas.gradient_difference_moments(x, u, 100)
    >>> round(float(mom.count), 3), round(float(mom.square_norm), 3)  # θ = π/2
    (50.0, 1.5)

    Notes
    -----
    Book: Lemma ``lem-difference-fixed`` (chapter 8).
    """
    x, u = _check_pair(x, u)
    m = _ck.positive_int("m", m)
    frac = switch_angle(x, u) / _math.pi
    return DifferenceMoments(m * frac, x.shape[1] * frac)


def switched_operator_norm(model: _TwoLayerReLU, x: _torch.Tensor, u: _torch.Tensor) -> _torch.Tensor:
    r"""‖W_{S(u)}‖_op/√m: the spectral norm of the rows of W that switch between x and x + u.

    This is the scale in the uniform bound of Lemma ``lem-difference-uniform``: with probability
    at least 1 − γ over the output signs, ‖∇f(x + u) − ∇f(x)‖ ≤ K·‖W_{S(u)}‖_op/√m for every u.
    The rows are gathered into a zero-padded batch (zero rows do not change a spectral norm) and
    the norms are computed by a batched SVD.

    Returns
    -------
    torch.Tensor, shape (n,)
        Zero where no neuron switches.

    Examples
    --------
    >>> import torch, lazylib as ll
    >>> net = ll.TwoLayerReLU(3, 40, generator=torch.Generator().manual_seed(0))
    >>> x = torch.ones(2, 3)
    >>> ll.lemmas.switched_operator_norm(net, x, torch.zeros(2, 3)).tolist()
    [0.0, 0.0]

    Notes
    -----
    Book: Lemma ``lem-difference-uniform`` (chapter 8).
    """
    x, u = _input_pair(model, x, u)
    with _torch.no_grad():
        switched = _activation_change(model, x, u) != 0
        k = int(switched.sum(dim=1).max())
        if k == 0:
            return _torch.zeros(x.shape[0], dtype=x.dtype, device=x.device)
        # Indices of the switched rows first (stable sort of the mask), then zero out the padding.
        order = _torch.argsort(switched.to(_torch.int8), dim=1, descending=True, stable=True)[:, :k]
        keep = switched.gather(1, order).to(x.dtype)
        rows = model.W.detach()[order] * keep[:, :, None]
        return _torch.linalg.matrix_norm(rows, ord=2) / _math.sqrt(model.m)


def log_pattern_count(m: int, d: int) -> float:
    r"""log of Σ_{i=0}^{d+1} C(m, i): a bound on how many activation patterns moving x can produce.

    As u ranges over ℝ^d, the pattern (1[w_sᵀ(x + u) > 0])_s is the restriction of an open
    homogeneous halfspace of ℝ^{d+1}, {p : ⟨p, (u, 1)⟩ > 0}, to the m points (w_s, w_sᵀx). That class
    has VC dimension d + 1, so by the Sauer–Shelah lemma there are at most Σ_{i ≤ d+1} C(m, i)
    patterns (2^m when d + 1 ≥ m).

    Parameters
    ----------
    m : int
        Width, ≥ 1.
    d : int
        Input dimension, ≥ 1.

    Returns
    -------
    float

    Examples
    --------
    >>> import math, lazylib as ll
    >>> round(ll.lemmas.log_pattern_count(5, 1), 6) == round(math.log(1 + 5 + 10), 6)
    True

    Notes
    -----
    Book: Lemma ``lem-difference-uniform`` (chapter 8).
    """
    m = _ck.positive_int("m", m)
    d = _ck.positive_int("d", d)
    k = min(d + 1, m)
    i = _torch.arange(k + 1, dtype=_torch.float64)
    terms = _math.lgamma(m + 1) - _torch.lgamma(i + 1) - _torch.lgamma(m - i + 1)
    return float(_torch.logsumexp(terms, dim=0))


def uniform_difference_factor(m: int, d: int, gamma: float) -> float:
    r"""The factor K(m, d, γ) = 2·√(2·(log Π(m, d) + d·log 5 + log(1/γ))) of the uniform difference bound.

    Π(m, d) is the pattern count of :func:`log_pattern_count` and 5^d the size of a 1/2-net of the unit
    sphere of ℝ^d. Lemma ``lem-difference-uniform``: with probability at least 1 − γ over the output
    signs, every u satisfies ‖∇f(x + u; W₀) − ∇f(x; W₀)‖ ≤ K·‖W_{0,S(u)}‖_op/√m.

    Parameters
    ----------
    m, d : int
        Width and input dimension, ≥ 1.
    gamma : float
        Failure probability, in (0, 1).

    Returns
    -------
    float

    Examples
    --------
    >>> import lazylib as ll
    >>> ll.lemmas.uniform_difference_factor(1000, 100, 0.1) > ll.lemmas.uniform_difference_factor(1000, 100, 0.5)
    True

    Notes
    -----
    Book: Lemma ``lem-difference-uniform`` (chapter 8).
    """
    m = _ck.positive_int("m", m)
    d = _ck.positive_int("d", d)
    gamma = _ck.number("gamma", gamma, minimum=0.0, strict=True)
    if gamma >= 1:
        raise ValueError(f"`gamma` must be a number in (0, 1); got {gamma!r}.")
    return 2.0 * _math.sqrt(2.0 * (log_pattern_count(m, d) + d * _math.log(5.0) + _math.log(1.0 / gamma)))


def gradient_difference_search(
    model: _TwoLayerReLU,
    x: _torch.Tensor,
    radius: float,
    *,
    restarts: int = 8,
    steps: int = 60,
    generator: _torch.Generator | None = None,
) -> tuple[_torch.Tensor, _torch.Tensor]:
    r"""Search the ball ‖u‖ ≤ radius for the largest gradient difference ‖∇f(x + u) − ∇f(x)‖.

    The difference is piecewise constant in u (it changes only when a neuron switches), so plain
    gradient ascent has nothing to follow. The search ascends a smoothed surrogate, with each
    activation 1[w_sᵀ(x + u) > 0] replaced by a logistic function of temperature τ·radius·‖w_s‖
    (τ annealed from 0.3 to 0.01), by normalised projected steps, and evaluates the exact
    difference at every iterate, keeping the best. Restarts: the attack directions ±radius·∇f/‖∇f‖
    (the direction of the paper's step and its opposite) and ``restarts − 2`` uniform random points
    of the ball. All points and restarts run as one batch.

    The result is a point of the ball, so its value is a certified *lower* bound on the supremum.

    Parameters
    ----------
    model : TwoLayerReLU
    x : torch.Tensor, shape (n, d)
    radius : float
        r ≥ 0.
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

    Notes
    -----
    Book: the adversarial search of chapter 8, for Lemma ``lem-difference-uniform``.
    """
    _ck.model("model", model)
    x = _ck.inputs("x", x, model)
    radius = _ck.number("radius", radius, minimum=0.0)
    restarts = _ck.positive_int("restarts", restarts, minimum=2)
    steps = _ck.positive_int("steps", steps)
    _ck.generator("generator", generator)
    n, d = x.shape
    W = model.W.detach()
    coef = model.a * model.output_scale
    with _torch.no_grad():
        z0 = x @ W.T
        active0 = (z0 > 0).to(x.dtype)
        g = _input_gradient(model, x)
        ghat = _torch.nn.functional.normalize(g, dim=1)
        sgn = _torch.where(_torch.relu(z0) @ coef >= 0, 1.0, -1.0).to(x.dtype)
        starts = [-sgn[:, None] * ghat, sgn[:, None] * ghat]
        if restarts > 2:
            rnd = _torch.randn(n, restarts - 2, d, generator=generator, dtype=_torch.float64)
            # Uniform in the ball: the best cell need not touch the sphere.
            depth = _torch.rand(n, restarts - 2, 1, generator=generator, dtype=_torch.float64) ** (1.0 / d)
            rnd = (_torch.nn.functional.normalize(rnd, dim=2) * depth).to(device=x.device, dtype=x.dtype)
            starts += list(rnd.unbind(dim=1))
        u = radius * _torch.stack(starts, dim=1).reshape(n * restarts, d)
        z0r = z0.repeat_interleave(restarts, dim=0)
        a0r = active0.repeat_interleave(restarts, dim=0)
        wnorm = _torch.linalg.vector_norm(W, dim=1)

        def exact(v: _torch.Tensor) -> _torch.Tensor:
            change = (z0r + v @ W.T > 0).to(x.dtype) - a0r
            return _torch.linalg.vector_norm((change * coef) @ W, dim=1)

        best_u, best = u.clone(), exact(u)
    if radius == 0.0:
        return x.new_zeros(n, d), best.reshape(n, restarts)[:, 0].clone()
    taus = _torch.logspace(_math.log10(0.3), _math.log10(0.01), steps, dtype=_torch.float64).tolist()
    sizes = _torch.linspace(0.5, 0.05, steps, dtype=_torch.float64).tolist()
    for tau, size in zip(taus, sizes):
        u = u.detach().requires_grad_(True)
        with _torch.enable_grad():
            soft = _torch.sigmoid((z0r + u @ W.T) / (tau * radius * wnorm).clamp_min(_torch.finfo(x.dtype).tiny))
            diff = ((soft - a0r) * coef) @ W
            objective = (diff * diff).sum()
            (grad,) = _torch.autograd.grad(objective, u)
        with _torch.no_grad():
            step = _torch.nn.functional.normalize(grad, dim=1)
            u = u + size * radius * step
            norms = _torch.linalg.vector_norm(u, dim=1, keepdim=True)
            u = u * _torch.clamp(radius / norms.clamp_min(_torch.finfo(x.dtype).tiny), max=1.0)
            value = exact(u)
            better = value > best
            best = _torch.where(better, value, best)
            best_u = _torch.where(better[:, None], u, best_u)
    with _torch.no_grad():
        best = best.reshape(n, restarts)
        pick = best.argmax(dim=1)
        u_out = best_u.reshape(n, restarts, d)[_torch.arange(n, device=x.device), pick]
        # Report the exact value at the returned point (recomputed in the public function's own way).
        return u_out, gradient_difference(model, x, u_out)


def _ray_pieces(model: _TwoLayerReLU, x: _torch.Tensor):
    """The attack ray t ↦ f(x + t·u), u = −sign f(x)·∇f/‖∇f‖: f(x), the sorted breakpoints, the slope at
    t = 0+ and the slope after each breakpoint (as in :func:`lazylib.flip_distance`)."""
    W, coef = model.W.detach(), model.a * model.output_scale
    z = x @ W.T
    f0 = _torch.relu(z) @ coef
    g = _input_gradient(model, x)
    u = _torch.nn.functional.normalize(-_torch.sign(f0)[:, None] * g, dim=1)
    c = u @ W.T
    active0 = (z > 0) | ((z == 0) & (c > 0))
    s0 = (active0.to(x.dtype) * c) @ coef
    ratio = -z / _torch.where(c == 0, _torch.ones_like(c), c)
    valid = (c != 0) & (ratio > 0)
    tau = _torch.where(valid, ratio, _torch.full_like(ratio, float("inf")))
    tau, order = _torch.sort(tau, dim=1)
    jump = _torch.where(valid, coef * c.abs(), _torch.zeros_like(c)).gather(1, order)
    slope_after = s0[:, None] + _torch.cumsum(jump, dim=1)
    return f0, g, tau, s0, slope_after


def ray_slope_change(model: _TwoLayerReLU, x: _torch.Tensor, length: float | _torch.Tensor) -> _torch.Tensor:
    r"""The largest change of slope along the attack ray before a given length, exactly.

    Along u = −sign f(x)·∇f(x)/‖∇f(x)‖ the function φ(t) = f(x + t·u) is piecewise linear, with slope
    φ'(t) = ∇f(x + t·u)ᵀu. Returns D(L) = sup_{0 ≤ t < L} |φ'(t) − φ'(0)|, the directional part of the
    gradient difference that the flip lemma needs, computed by walking the breakpoints.

    Parameters
    ----------
    model : TwoLayerReLU
    x : torch.Tensor, shape (n, d)
    length : float or torch.Tensor of shape (n,)
        L ≥ 0, one for all points or one per point.

    Returns
    -------
    torch.Tensor, shape (n,)
        D(L) ≤ sup_{‖v‖ ≤ L} ‖∇f(x + v) − ∇f(x)‖; 0 when no neuron switches before L.

    Examples
    --------
    >>> import torch, lazylib as ll
    >>> net = ll.TwoLayerReLU(5, 100, generator=torch.Generator().manual_seed(0))
    >>> x = torch.nn.functional.normalize(torch.randn(2, 5, generator=torch.Generator().manual_seed(1)), dim=1)
    >>> ll.lemmas.ray_slope_change(net, x, 0.0).tolist()
    [0.0, 0.0]

    Notes
    -----
    Book: Proposition ``prop-ray-flip`` (chapter 9).
    """
    _ck.model("model", model)
    x = _ck.inputs("x", x, model)
    if isinstance(length, _torch.Tensor) and length.ndim == 1:
        if length.device != x.device:
            raise ValueError(f"`length` must be on the device of x ({x.device.type}); got a tensor on {length.device.type}.")
        L = _ck.tensor("length", length, ndim=1, shape=(x.shape[0],), shape_text=f"({x.shape[0]},)").to(x.dtype)
        if bool((L < 0).any()):
            raise ValueError("`length` must be ≥ 0; got negative entries.")
    else:
        L = _torch.full((x.shape[0],), _ck.number("length", length, minimum=0.0), dtype=x.dtype, device=x.device)
    with _torch.no_grad():
        _, _, tau, s0, slope_after = _ray_pieces(model, x)
        reached = tau < L[:, None]  # the slope after breakpoint k applies on (tau_k, tau_{k+1}) ⊂ [0, L)
        change = _torch.where(reached, (slope_after - s0[:, None]).abs(), _torch.zeros_like(slope_after))
        return change.amax(dim=1) if change.shape[1] else _torch.zeros_like(s0)


def _c2_values(C2: object) -> tuple[_torch.Tensor, bool]:
    return _ck.budgets("C2", C2)


def theorem_eta(model: _TwoLayerReLU, x: _torch.Tensor, C2: float) -> _torch.Tensor:
    r"""The theorem's step size η = −sign f(x) · C₂/‖∇f(x)‖², per point.

    With it, ``ll.gradient_step(model, x, eta)`` moves x by δ = η∇f(x), of length C₂/‖∇f(x)‖, against
    the sign of f. Points with ∇f(x) = 0 (no active neuron) get η = 0: no step is defined there.

    Parameters
    ----------
    model : TwoLayerReLU
    x : torch.Tensor, shape (n, d)
    C2 : float
        C₂ ≥ 0.

    Returns
    -------
    torch.Tensor, shape (n,)

    Examples
    --------
    >>> import torch, lazylib as ll
    >>> net = ll.TwoLayerReLU(5, 100, generator=torch.Generator().manual_seed(0))
    >>> x = torch.nn.functional.normalize(torch.randn(3, 5, generator=torch.Generator().manual_seed(1)), dim=1)
    >>> step = ll.gradient_step(net, x, ll.lemmas.theorem_eta(net, x, 0.5)) - x
    >>> torch.allclose(step.norm(dim=1) * ll.input_gradient(net, x).norm(dim=1), torch.full((3,), 0.5))
    True

    Notes
    -----
    Book: the main theorem's step (chapter 5) and Proposition ``prop-ray-flip`` (chapter 9).
    """
    _ck.model("model", model)
    x = _ck.inputs("x", x, model)
    C2 = _ck.number("C2", C2, minimum=0.0)
    with _torch.no_grad():
        f = model(x)
        sq = _torch.linalg.vector_norm(_input_gradient(model, x), dim=1) ** 2
        eta = -_torch.sign(f) * C2 / sq.clamp_min(_torch.finfo(x.dtype).tiny)
        return _torch.where(sq > 0, eta, _torch.zeros_like(eta))


def step_flips(model: _TwoLayerReLU, x: _torch.Tensor, C2: float | _Sequence[float] | _torch.Tensor) -> _torch.Tensor:
    r"""Whether the theorem's step flips the sign: sign f(x + δ) ≠ sign f(x), δ = η∇f, |η| = C₂/‖∇f‖².

    Parameters
    ----------
    model : TwoLayerReLU
    x : torch.Tensor, shape (n, d)
    C2 : float or 1-D sequence of floats
        Values C₂ ≥ 0.

    Returns
    -------
    torch.Tensor of bool, shape (n,) for one C₂, (k, n) for k values.

    Examples
    --------
    >>> import torch, lazylib as ll
    >>> net = ll.TwoLayerReLU(25, 400, generator=torch.Generator().manual_seed(0))
    >>> x = torch.nn.functional.normalize(torch.randn(4, 25, generator=torch.Generator().manual_seed(1)), dim=1)
    >>> ll.lemmas.step_flips(net, x, [0.0, 100.0]).shape
    torch.Size([2, 4])

    Notes
    -----
    Book: the fraction of points flipped against C₂ (chapter 9).
    """
    _ck.model("model", model)
    x = _ck.inputs("x", x, model)
    values, scalar = _c2_values(C2)
    with _torch.no_grad():
        f0 = model(x)
        g = _input_gradient(model, x)
        sq = _torch.linalg.vector_norm(g, dim=1) ** 2
        unit_eta = _torch.where(sq > 0, -_torch.sign(f0) / sq.clamp_min(_torch.finfo(x.dtype).tiny), _torch.zeros_like(sq))
        c2 = values.to(device=x.device, dtype=x.dtype)
        moved = x[None] + (c2[:, None, None] * unit_eta[None, :, None]) * g[None]  # (k, n, d)
        k, n = moved.shape[:2]
        f1 = (_torch.relu(moved.reshape(k * n, -1) @ model.W.detach().T) @ model.a * model.output_scale).reshape(k, n)
        flips = _torch.sign(f1) != _torch.sign(f0)[None]
    return flips[0] if scalar else flips


def flip_fraction(model: _TwoLayerReLU, x: _torch.Tensor, C2: float | _Sequence[float] | _torch.Tensor) -> float | _torch.Tensor:
    """Fraction of the points whose sign the theorem's step flips, for one C₂ or many.

    Returns
    -------
    float, or torch.Tensor of shape (k,) (float64, CPU) for a sequence of k values.

    Examples
    --------
    >>> import torch, lazylib as ll
    >>> net = ll.TwoLayerReLU(25, 400, generator=torch.Generator().manual_seed(0))
    >>> x = torch.nn.functional.normalize(torch.randn(8, 25, generator=torch.Generator().manual_seed(1)), dim=1)
    >>> ll.lemmas.flip_fraction(net, x, 0.0)
    0.0

    Notes
    -----
    Book: chapter 9.
    """
    flips = step_flips(model, x, C2)
    frac = flips.to(_torch.float64).mean(dim=-1).cpu()
    return float(frac) if flips.ndim == 1 else frac


def critical_C2(model: _TwoLayerReLU, x: _torch.Tensor) -> _torch.Tensor:
    r"""The smallest C₂ whose step flips the sign: C₂*(x) = t*(x)·‖∇f(x)‖, t* the exact flip distance.

    The step of the theorem has length C₂/‖∇f‖ along the attack direction, so it first reaches the
    decision boundary at C₂ = t*·‖∇f‖ (``inf`` where the ray never flips). Larger C₂ need not flip:
    the ray may cross back.

    Returns
    -------
    torch.Tensor, shape (n,)

    Examples
    --------
    >>> import torch, lazylib as ll
    >>> net = ll.TwoLayerReLU(25, 400, generator=torch.Generator().manual_seed(0))
    >>> x = torch.nn.functional.normalize(torch.randn(4, 25, generator=torch.Generator().manual_seed(1)), dim=1)
    >>> c = ll.lemmas.critical_C2(net, x)
    >>> bool(ll.lemmas.step_flips(net, x, float(c[0]) * (1 + 1e-4))[0])
    True

    Notes
    -----
    Book: chapter 9.
    """
    from .attacks import flip_distance

    _ck.model("model", model)
    x = _ck.inputs("x", x, model)
    with _torch.no_grad():
        return flip_distance(model, x) * _torch.linalg.vector_norm(_input_gradient(model, x), dim=1)


__all__ += ["lazy_difference_gap", "lazy_difference_bound", "DifferenceWindow", "difference_window"]


def _masked_operator_norm(W: _torch.Tensor, mask: _torch.Tensor) -> _torch.Tensor:
    """Spectral norm of the rows of W (m, d) selected by each row of ``mask`` (n, m), batched; (n,)."""
    k = int(mask.sum(dim=1).max()) if mask.numel() else 0
    if k == 0:
        return _torch.zeros(mask.shape[0], dtype=W.dtype, device=W.device)
    # Indices of the selected rows first (stable sort of the mask); the padding rows are zeroed.
    order = _torch.argsort(mask.to(_torch.int8), dim=1, descending=True, stable=True)[:, :k]
    keep = mask.gather(1, order).to(W.dtype)
    return _torch.linalg.matrix_norm(W[order] * keep[:, :, None], ord=2)


def lazy_difference_gap(model: _TwoLayerReLU, x: _torch.Tensor, u: _torch.Tensor) -> _torch.Tensor:
    r"""How much moving from W₀ to the model's current W changes the gradient difference.

    Returns ‖Δ_W(u) − Δ_{W₀}(u)‖ per row, with Δ_W(u) = ∇f(x + u; W) − ∇f(x; W) (vectors, not norms).

    Parameters
    ----------
    model : TwoLayerReLU
    x, u : torch.Tensor, shape (n, d)

    Returns
    -------
    torch.Tensor, shape (n,)
        Zero when W = W₀.

    Examples
    --------
    >>> import torch, lazylib as ll
    >>> net = ll.TwoLayerReLU(4, 30, generator=torch.Generator().manual_seed(0))
    >>> x, u = torch.ones(2, 4), torch.full((2, 4), -0.3)
    >>> ll.lemmas.lazy_difference_gap(net, x, u).tolist()
    [0.0, 0.0]

    Notes
    -----
    Book: Proposition ``prop-difference-lazy`` (chapter 8).
    """
    x, u = _input_pair(model, x, u)
    with _torch.no_grad():
        W, W0, coef = model.W.detach(), model.W0, model.a * model.output_scale
        change_w = ((x + u) @ W.T > 0).to(x.dtype) - (x @ W.T > 0).to(x.dtype)
        change_0 = ((x + u) @ W0.T > 0).to(x.dtype) - (x @ W0.T > 0).to(x.dtype)
        gap = (change_w * coef) @ W - (change_0 * coef) @ W0
        return _torch.linalg.vector_norm(gap, dim=1)


def lazy_difference_bound(model: _TwoLayerReLU, x: _torch.Tensor, u: _torch.Tensor, radius: float) -> _torch.Tensor:
    r"""The deterministic bound of Proposition ``prop-difference-lazy`` on :func:`lazy_difference_gap`.

    For every W ∈ B_{2,∞}(W₀, R),

    .. math:: \|\Delta_W(u) - \Delta_{W_0}(u)\| \le \frac{R\,|S_W(u)|}{\sqrt m}
              + \frac{1}{\sqrt m}\sum_{y \in \{x,\,x+u\}} \sqrt{|N_R(y)|}\;\|W_{0,N_R(y)}\|_{\mathrm{op}},

    with S_W(u) the neurons that switch between x and x + u under W and N_R(y) = {s : |w_{s,0}ᵀy| ≤ R‖y‖}
    the neurons that can switch at y somewhere in the ball (``ll.switchable_neurons``).

    Parameters
    ----------
    model : TwoLayerReLU
        Its W must lie in the ball: ‖W − W₀‖_{2,∞} ≤ radius.
    x, u : torch.Tensor, shape (n, d)
    radius : float
        R ≥ 0, e.g. ``ll.lazy_radius(m, C0)``.

    Returns
    -------
    torch.Tensor, shape (n,)

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

    Notes
    -----
    Book: Proposition ``prop-difference-lazy`` (chapter 8).
    """
    x, u = _input_pair(model, x, u)
    radius = _ck.number("radius", radius, minimum=0.0)
    with _torch.no_grad():
        W, W0 = model.W.detach(), model.W0
        dev = float(_torch.linalg.vector_norm(W - W0, dim=1).max())
        slack = 8 * _torch.finfo(W.dtype).eps * float(_torch.linalg.vector_norm(W0, dim=1).max())
        if dev > radius + slack:
            raise ValueError(
                f"`radius` must be at least the model's deviation ‖W − W₀‖_(2,∞) = {dev:.6g}, so that W lies "
                f"in the ball; got {radius!r}."
            )
        root_m = _math.sqrt(model.m)
        switched = ((x + u) @ W.T > 0) != (x @ W.T > 0)
        bound = radius * switched.sum(dim=1).to(x.dtype) / root_m
        for y in (x, x + u):
            near = (y @ W0.T).abs() <= radius * _torch.linalg.vector_norm(y, dim=1, keepdim=True)
            count = near.sum(dim=1).to(x.dtype)
            bound = bound + count.sqrt() * _masked_operator_norm(W0, near) / root_m
        return bound


class DifferenceWindow(_NamedTuple):
    """Widths for which the uniform difference bound stays below half the typical gradient norm.

    Attributes
    ----------
    log10_low, log10_high : float
        log₁₀ of the smallest and largest width m in the window; both NaN when the window is empty.
    """

    log10_low: float
    log10_high: float


def difference_window(d: int, c: float, gamma: float) -> DifferenceWindow:
    r"""The widths m for which the book's uniform bound on the gradient difference closes the argument.

    The uniform bound (Lemma ``lem-difference-uniform``) is K(m, d, γ)·ρ, with K the union-bound factor
    and ρ = ‖W_{0,S(u)}‖_op/√m. With the description ρ ≈ √(2θ/π) + √(d/m) that chapter 8 measures
    (θ = arcsin(c/√d), the largest angle a displacement of length c/√d makes at a unit input), and
    with Π(m, d) ≤ (em/(d+1))^{d+1} for m > d, this returns the range of m where

    .. math:: K(m, d, \gamma)\,\Bigl(\sqrt{2\theta/\pi} + \sqrt{d/m}\Bigr) < \tfrac12\sqrt{d/2},

    half the typical gradient norm √(d/2) (the flip lemma's requirement). The lower end comes from
    the √(d/m) term (polynomial in d), the upper end from the log m inside K (sub-exponential in d).

    Parameters
    ----------
    d : int
        Input dimension, ≥ 1.
    c : float
        Radius constant, r = c/√d, > 0.
    gamma : float
        Failure probability in (0, 1).

    Returns
    -------
    DifferenceWindow
        log₁₀ of the window's ends, NaN when it is empty.

    Examples
    --------
    >>> import lazylib as ll
    >>> import math
    >>> math.isnan(ll.lemmas.difference_window(784, 2.0, 0.1).log10_low)  # empty at MNIST's d
    True

    Notes
    -----
    Book: chapter 8, section on the window of the uniform bound.
    """
    d = _ck.positive_int("d", d)
    c = _ck.number("c", c, minimum=0.0, strict=True)
    gamma = _ck.number("gamma", gamma, minimum=0.0, strict=True)
    if gamma >= 1:
        raise ValueError(f"`gamma` must be a number in (0, 1); got {gamma!r}.")
    theta = _math.asin(min(c / _math.sqrt(d), 1.0))
    alpha = _math.sqrt(2 * theta / _math.pi)
    beta = 0.5 * _math.sqrt(d / 2)
    base = d * _math.log(5.0) + _math.log(1.0 / gamma)

    def excess(ell: _torch.Tensor) -> _torch.Tensor:  # ell = ln m; negative inside the window
        log_patterns = (d + 1) * (1.0 + ell - _math.log(d + 1))
        K = 2.0 * _torch.sqrt(2.0 * (log_patterns + base))
        return K * (alpha + _torch.sqrt(d * _torch.exp(-ell))) - beta

    lo_ell = _math.log(d + 1)
    # Beyond ell_max even the first term alone, K·α, exceeds β: nothing larger can be in the window.
    hi_ell = lo_ell - 1.0 + ((beta / (2 * alpha)) ** 2 / 2.0 - base) / (d + 1)
    nan = float("nan")
    if hi_ell <= lo_ell:
        return DifferenceWindow(nan, nan)
    grid = _torch.linspace(lo_ell, hi_ell, 20001, dtype=_torch.float64)
    inside = excess(grid) < 0
    if not bool(inside.any()):
        return DifferenceWindow(nan, nan)
    idx = _torch.nonzero(inside).flatten()

    def edge(a: float, b: float) -> float:  # excess changes sign between a and b: bisect
        fa = float(excess(_torch.tensor(a, dtype=_torch.float64)))
        for _ in range(80):
            mid = 0.5 * (a + b)
            fm = float(excess(_torch.tensor(mid, dtype=_torch.float64)))
            if (fm < 0) == (fa < 0):
                a, fa = mid, fm
            else:
                b = mid
        return 0.5 * (a + b)

    first, last = int(idx[0]), int(idx[-1])
    low = float(grid[0]) if first == 0 else edge(float(grid[first - 1]), float(grid[first]))
    high = float(grid[-1]) if last == len(grid) - 1 else edge(float(grid[last]), float(grid[last + 1]))
    return DifferenceWindow(low / _math.log(10), high / _math.log(10))
