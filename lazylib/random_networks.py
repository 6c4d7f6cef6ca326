"""Random two-layer ReLU networks at initialisation, and the single gradient step that flips them.

For a fixed input x and the random initialisation (a_s uniform in {±1}, w_{s,0} ~ N(0, I_d)):

- f(x; a, W₀) = m^{-1/2} Σ_s a_s relu(w_{s,0}ᵀx) has mean 0 and variance ‖x‖²/2 for every m, and is
  close to N(0, ‖x‖²/2) (Berry–Esseen: :func:`output_normal_bound`);
- ‖∇ₓf(x; a, W₀)‖² has mean d/2 and variance d/2 + (d²/4 + d/2)/m, whatever ‖x‖
  (:func:`gradient_norm_moments`);
- so the linear prediction of the flip distance, |f|/‖∇f‖ (:func:`linear_flip_prediction`), is of
  order ‖x‖/√d. Along the gradient ray the network is piecewise linear, and it departs from its
  linear prediction only through the neurons that switch (:func:`ray_linearization`);
  :func:`ray_values` evaluates it at many points of the ray at once.

:func:`init_ensemble` draws many independent initialisations, exactly as :class:`TwoLayerReLU` does,
and evaluates f and ‖∇f‖ at one input, to measure these laws.

Conventions: ``model`` is one bias-free :class:`TwoLayerReLU` (not an ensemble) and ``x`` a batch of its inputs (n, d)
(only :func:`init_ensemble` takes a single input (d,)); what is computed per input has shape (n,).
The ray functions take an optional ``direction``, a tensor (n, d) of non-zero rows u, normalised here;
the default is the single-step direction u = −sign f(x) ∇f(x)/‖∇f(x)‖.

Book: chapter 3 (labels ``prop-init-distribution``, ``prop-gradient-norm``,
``prop-linear-prediction`` and ``prop-ray-piecewise-linear``).
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import torch

from . import _checks
from .attacks import _ray_pieces
from .model import TwoLayerReLU, input_gradient

__all__ = [
    "InitEnsemble", "init_ensemble", "gradient_norm_moments", "output_normal_bound", "BERRY_ESSEEN_CONSTANT",
    "linear_flip_prediction", "RayLinearization", "ray_linearization", "ray_values", "RayMinimum",
    "ray_minimum", "reach_distance"
]

# Shevtsova (2011): sup_t |P(S_m/(σ√m) ≤ t) − Φ(t)| ≤ C ρ/(σ³√m) for i.i.d. summands, with C = 0.4748.
BERRY_ESSEEN_CONSTANT = 0.4748


class InitEnsemble(NamedTuple):
    """f(x; a, W₀) and ‖∇ₓf(x; a, W₀)‖ at one input for independent initialisations (each (n_networks,))."""

    values: torch.Tensor
    gradient_norms: torch.Tensor


def init_ensemble(x: torch.Tensor, m: int, n_networks: int, *,
                  generator: torch.Generator | None = None) -> InitEnsemble:
    r"""Draw ``n_networks`` independent initialisations of width m and evaluate f and ‖∇ₓf‖ at x.

    The k-th network is exactly the one ``TwoLayerReLU(d, m, generator=generator)`` would build as the
    k-th of ``n_networks`` consecutive constructions (same draws, in the same order); the evaluation is
    batched over networks, in float64.

    Parameters
    ----------
    x : torch.Tensor, shape (d,)
        One input.
    m, n_networks : int
        Width and number of networks, ≥ 1.
    generator : torch.Generator, optional
        CPU generator for every draw.

    Returns
    -------
    InitEnsemble
        ``values`` and ``gradient_norms``, float64 CPU tensors of shape (n_networks,).

    Examples
    --------
    >>> import torch, lazylib as ll
    >>> x = torch.ones(4) / 2                                     # ‖x‖ = 1
    >>> ens = ll.init_ensemble(x, 64, 2000, generator=torch.Generator().manual_seed(0))
    >>> round(float(ens.values.pow(2).mean()), 1)                 # E f² = ‖x‖²/2
    0.5

    Book: the checks of Propositions ``prop-init-distribution`` and ``prop-gradient-norm`` (chapter 3).
    """
    x = _checks.vector("x", x)
    m = _checks.positive_int("m", m)
    n_networks = _checks.positive_int("n_networks", n_networks)
    _checks.cpu_generator("generator", generator)
    d = x.shape[0]
    xd = x.detach().to("cpu", torch.float64)
    chunk = max(1, min(n_networks, 4_000_000 // (m * d)))
    values, norms = [], []
    scale = 1.0 / math.sqrt(m)
    for start in range(0, n_networks, chunk):
        draws = [(torch.randn(m, d, generator=generator, dtype=torch.float64),  # in TwoLayerReLU's order
                  torch.randint(0, 2, (m,), generator=generator, dtype=torch.int64) * 2 - 1)
                 for _ in range(min(chunk, n_networks - start))]
        W, a = torch.stack([w for w, _ in draws]), torch.stack([s for _, s in draws]).to(torch.float64)
        z = W @ xd                                                     # (size, m)
        values.append(torch.relu(z).mul(a).sum(dim=1) * scale)
        coef = (z > 0).to(torch.float64) * a * scale                   # (size, m)
        norms.append(torch.linalg.vector_norm(torch.einsum("km,kmd->kd", coef, W), dim=1))
    return InitEnsemble(torch.cat(values), torch.cat(norms))


def gradient_norm_moments(d: int, m: int) -> tuple[float, float]:
    r"""Mean and variance of ‖∇ₓf(x; a, W₀)‖² at initialisation, for any fixed x ≠ 0.

    .. math:: \mathbb E\|\nabla_x f\|^2 = \frac d2, \qquad
              \operatorname{Var}\|\nabla_x f\|^2 = \frac d2 + \frac{1}{m}\Big(\frac{d^2}{4} + \frac d2\Big).

    So the relative spread √Var / E = √(2/d + (1 + 2/d)/m) falls with m to the floor √(2/d).

    Parameters
    ----------
    d, m : int
        Input dimension and width, ≥ 1.

    Examples
    --------
    >>> import lazylib as ll
    >>> ll.gradient_norm_moments(100, 1)       # one neuron: ‖∇f‖² = 1[w·x > 0] ‖w‖²
    (50.0, 2600.0)

    Book: Proposition ``prop-gradient-norm`` (chapter 3).
    """
    d = _checks.positive_int("d", d)
    m = _checks.positive_int("m", m)
    return d / 2, d / 2 + (d * d / 4 + d / 2) / m


def output_normal_bound(m: int) -> float:
    r"""Berry–Esseen bound on sup_t |P(f(x; a, W₀) ≤ t) − Φ(t/σ)|, σ² = ‖x‖²/2: C·(4/√π)/√m.

    f is m^{-1/2} times a sum of m i.i.d. terms X = a relu(wᵀx) with E X² = ‖x‖²/2 and
    E|X|³ = ‖x‖³√(2/π), so ρ/σ³ = 4/√π; C = 0.4748 (Shevtsova 2011). The bound holds for every ‖x‖.

    Examples
    --------
    >>> import lazylib as ll
    >>> round(ll.output_normal_bound(100), 4)
    0.1072

    Book: Proposition ``prop-init-distribution`` (chapter 3).
    """
    m = _checks.positive_int("m", m)
    return BERRY_ESSEEN_CONSTANT * 4.0 / math.sqrt(math.pi) / math.sqrt(m)


def linear_flip_prediction(model: TwoLayerReLU, x: torch.Tensor) -> torch.Tensor:
    r"""|f(x)| / ‖∇ₓf(x)‖: where the sign would flip along the gradient if f were linear.

    Because f is positively homogeneous, f(x) = ⟨∇f(x), x⟩, so this is exactly the distance from x to
    the hyperplane through 0 orthogonal to ∇f(x): the boundary of the linear classifier with
    w = ∇f(x). 0 where f(x) = 0.

    Examples
    --------
    >>> import torch, lazylib as ll
    >>> net = ll.linear_network(torch.tensor([3.0, 4.0]))
    >>> ll.linear_flip_prediction(net, torch.tensor([[1.0, 1.0]]))
    tensor([1.4000])

    Book: Proposition ``prop-linear-prediction`` (chapter 3).
    """
    x = _checks.model_inputs(model, x)
    with torch.no_grad():
        f = model(x).abs()
        g = torch.linalg.vector_norm(input_gradient(model, x), dim=1)
        return torch.where(f > 0, f / torch.where(g > 0, g, torch.ones_like(g)), torch.zeros_like(f))


class RayLinearization(NamedTuple):
    """Along x + t·u: the linearisation error, its bound, and the number of neurons that switched (each (n,))."""

    error: torch.Tensor
    bound: torch.Tensor
    switched: torch.Tensor


def ray_linearization(model: TwoLayerReLU, x: torch.Tensor, t: float | torch.Tensor,
                      direction: torch.Tensor | None = None) -> RayLinearization:
    r"""How far f is from linear along the ray x + τu, τ ∈ [0, t]: the error, its bound, the switches.

    With φ(τ) = f(x + τu) and φ'(0⁺) its right derivative at 0,

    .. math:: \bigl|\varphi(t) - \varphi(0) - t\,\varphi'(0^+)\bigr|
              \;\le\; \alpha\, t \sum_{s \in S(t)} |a_s|\,|w_s^\top u|,

    where S(t) is the set of neurons whose activation at x + tu differs from their activation just
    after x (α the output scale, m^{-1/2} by default). For the default u, φ'(0⁺) = −|∇f|·sign f (no
    neuron exactly at a kink).

    Parameters
    ----------
    t : float or torch.Tensor of shape (n,)
        Distance(s) along the ray, ≥ 0 and finite.

    Returns
    -------
    RayLinearization
        ``error`` |φ(t) − φ(0) − tφ'(0⁺)|, ``bound`` the right-hand side above, ``switched`` |S(t)|
        (int64).

    Examples
    --------
    >>> import torch, lazylib as ll
    >>> net = ll.TwoLayerReLU(50, 400, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    >>> x = torch.nn.functional.normalize(torch.randn(5, 50, generator=torch.Generator().manual_seed(1), dtype=torch.float64), dim=1)
    >>> r = ll.ray_linearization(net, x, 0.1)
    >>> bool((r.error <= r.bound + 1e-12).all())
    True

    Book: Proposition ``prop-ray-piecewise-linear`` (chapter 3).
    """
    x = _checks.model_inputs(model, x)
    t_t = _checks.per_row("t", t, x)
    with torch.no_grad():
        W, coef = model.W, model.a * model.output_scale
        z = x @ W.T
        u = _ray_direction(model, x, direction)
        c = u @ W.T
        active0 = (z > 0) | ((z == 0) & (c > 0))          # activation just after x, along u
        z_t = z + t_t[:, None] * c
        f0 = torch.relu(z) @ coef
        slope = (active0.to(x.dtype) * c) @ coef
        error = (torch.relu(z_t) @ coef - f0 - t_t * slope).abs()
        switched = active0 != (z_t > 0)
        bound = t_t * ((switched.to(x.dtype) * c.abs()) @ coef.abs())
        return RayLinearization(error, bound, switched.sum(dim=1))


def _ray_direction(model: TwoLayerReLU, x: torch.Tensor, direction: Any,
                   note: str = " (for the default direction: ∇f(x) ≠ 0 and f(x) ≠ 0)") -> torch.Tensor:
    """Unit directions: the given ones (checked: one row per row of x), or −sign f(x)∇f/‖∇f‖. A zero row
    is an error, whose message adds ``note``."""
    if direction is None:
        f0 = torch.relu(x @ model.W.T) @ (model.a * model.output_scale)
        u = -torch.sign(f0)[:, None] * input_gradient(model, x)
    else:
        u = _checks.rows_of("direction", direction, model, x)
    norms = torch.linalg.vector_norm(u, dim=1)
    if bool((norms == 0).any()):
        raise ValueError(f"`direction` must have non-zero rows{note}; got a zero row.")
    return u / norms[:, None]


def ray_values(model: TwoLayerReLU, x: torch.Tensor, t: torch.Tensor,
               direction: torch.Tensor | None = None) -> torch.Tensor:
    r"""f(x + t·u) for every input and every distance t along its ray, in one pass.

    Computes the pre-activations wᵀx and wᵀu once, so k points per ray cost O(n·m·k) instead of k
    forward passes of cost O(n·m·d).

    Parameters
    ----------
    t : torch.Tensor, shape (k,)
        Distances along the ray (any finite reals; negative values go backwards).

    Returns
    -------
    torch.Tensor, shape (n, k)

    Examples
    --------
    >>> import torch, lazylib as ll
    >>> net = ll.TwoLayerReLU(10, 50, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    >>> x = torch.randn(3, 10, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    >>> v = ll.ray_values(net, x, torch.tensor([0.0, 0.5], dtype=torch.float64))
    >>> bool(torch.allclose(v[:, 0], net(x).detach()))
    True

    Book: Proposition ``prop-ray-piecewise-linear`` (chapter 3).
    """
    x = _checks.model_inputs(model, x)
    if isinstance(t, torch.Tensor) and t.ndim == 1:
        _checks.same_device("t", t, x.device, "the device of x")
    t = _checks.tensor("t", t, ndim=1, shape_text="(k,)")
    if t.shape[0] == 0:
        raise ValueError("`t` must have shape (k,) with k ≥ 1; got (0,).")
    with torch.no_grad():
        u = _ray_direction(model, x, direction)
        z, c = x @ model.W.T, u @ model.W.T
        coef = model.a * model.output_scale
        pre = z[:, None, :] + t.to(x.dtype)[None, :, None] * c[:, None, :]
        return torch.relu(pre) @ coef


class RayMinimum(NamedTuple):
    """Along x + t·u, t ≥ 0: the smallest value of sign f(x)·f(x + t·u) and where it is first attained (each (n,))."""

    value: torch.Tensor
    t: torch.Tensor


def ray_minimum(model: TwoLayerReLU, x: torch.Tensor, direction: torch.Tensor | None = None) -> RayMinimum:
    r"""The lowest point of the signed network along a ray: min over t ≥ 0 of sign f(x)·f(x + t·u).

    φ(t) = f(x + t·u) is piecewise linear (Proposition ``prop-ray-piecewise-linear``), so the minimum
    is attained at 0 or at a breakpoint t_s = −(w_sᵀx)/(w_sᵀu), unless the last linear piece heads
    towards −∞. The sorted breakpoints are walked as in :func:`lazylib.flip_distance`, O(m log m) per
    input.

    Its sign tells apart what :func:`lazylib.flip_distance` decides by the sign of a rounding error:
    **negative**, the ray crosses the boundary; **zero**, f reaches 0 without crossing (e.g. when the
    last active neuron switches off, as always for m = 1); **positive**, the ray never reaches it.
    Compare ``value`` with a tolerance of the size of the rounding error.

    Returns
    -------
    RayMinimum
        ``value`` (−inf if unbounded below; 0 where f(x) = 0) and ``t``, the smallest t at which it is
        attained (inf if unbounded; 0 where f(x) = 0).

    Examples
    --------
    >>> import torch, lazylib as ll
    >>> net = ll.TwoLayerReLU(10, 1, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    >>> x = torch.nn.functional.normalize(torch.ones(1, 10, dtype=torch.float64), dim=1)
    >>> x = x if float(net(x).detach()) != 0 else -x   # the single neuron must be active
    >>> r = ll.random_networks.ray_minimum(net, x)      # m = 1: f falls to exactly 0 and stays there
    >>> abs(float(r.value)) < 1e-12, bool(torch.isclose(r.t, ll.linear_flip_prediction(net, x)).all())
    (True, True)

    Book: Proposition ``prop-ray-piecewise-linear`` and the narrow networks of §3.4 (chapter 3).
    """
    sgn0, f0, tau, start, slope_before, slope_after, value_at = _ray_walk(model, x, direction)
    signed = torch.cat([(sgn0 * f0)[:, None], sgn0[:, None] * value_at], dim=1)  # t = 0, then the breakpoints
    where = torch.cat([torch.zeros_like(tau[:, :1]), tau], dim=1)
    k = torch.argmin(signed, dim=1, keepdim=True)  # the first index of the minimum
    unbounded, zero = sgn0 * slope_after[:, -1] < 0, f0 == 0
    value = signed.gather(1, k).squeeze(1).masked_fill(unbounded, -math.inf).masked_fill(zero, 0.0)
    t = where.gather(1, k).squeeze(1).masked_fill(unbounded, math.inf).masked_fill(zero, 0.0)
    return RayMinimum(value, t)


def reach_distance(model: TwoLayerReLU, x: torch.Tensor, atol: float,
                   direction: torch.Tensor | None = None) -> torch.Tensor:
    r"""The first distance along a ray at which f comes within ``atol`` of zero from its own side.

    The smallest t ≥ 0 with sign f(x)·f(x + t·u) ≤ atol: the flip distance of
    :func:`lazylib.flip_distance` ("reaching f = 0 counts") with f reaching zero up to rounding counted
    as reaching it. That matters where f reaches exactly 0 without crossing (see :func:`ray_minimum`):
    there the exact answer is a tie that :func:`lazylib.flip_distance` decides by the sign of a rounding
    error. Same walk as :func:`ray_minimum`.

    Parameters
    ----------
    atol : float
        Tolerance ≥ 0, in the units of f; a few hundred times the rounding error of f is enough.

    Returns
    -------
    torch.Tensor
        ``inf`` where the ray stays above ``atol``; 0 where |f(x)| ≤ atol.

    Examples
    --------
    >>> import torch, lazylib as ll
    >>> net = ll.TwoLayerReLU(25, 1, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    >>> x, _ = ll.data.sphere(50, 25, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    >>> active = net(x).detach() != 0
    >>> t = ll.random_networks.reach_distance(net, x[active], atol=1e-9)
    >>> bool(torch.allclose(t, ll.linear_flip_prediction(net, x[active])))   # m = 1: f reaches 0 at t_lin
    True

    Book: the narrow networks of §3.4 (chapter 3), Proposition ``prop-ray-piecewise-linear``.
    """
    atol = _checks.number("atol", atol, minimum=0.0)
    sgn0, f0, tau, start, slope_before, slope_after, value_at = _ray_walk(model, x, direction)
    gap_at = sgn0[:, None] * value_at - atol  # ≤ 0 once f is within atol of zero
    gap_before = torch.cat([(sgn0 * f0 - atol)[:, None], gap_at[:, :-1]], dim=1)
    reached = gap_at <= 0
    k = reached.to(torch.int8).argmax(dim=1, keepdim=True)
    fall = -sgn0[:, None] * slope_before  # rate at which the gap falls on each piece
    t_in = start + gap_before / torch.where(fall > 0, fall, torch.ones_like(fall))
    t_in = torch.minimum(torch.maximum(t_in, start), tau).gather(1, k).squeeze(1)
    last_fall = -sgn0 * slope_after[:, -1]
    safe = torch.where(last_fall > 0, last_fall, torch.ones_like(last_fall))
    t_tail = (tau[:, -1] + gap_at[:, -1] / safe).masked_fill(~(last_fall > 0), math.inf)
    t = torch.where(reached.any(dim=1), t_in, t_tail)
    return t.masked_fill(sgn0 * f0 <= atol, 0.0)


def _ray_walk(model: TwoLayerReLU, x: torch.Tensor, direction: torch.Tensor | None) -> tuple[torch.Tensor, ...]:
    """The piecewise-linear walk along x + t·u: sign f(x), f(x), the sorted breakpoints (padded with the
    last one), the start of each piece, the slopes before and after each breakpoint and f there."""
    x = _checks.model_inputs(model, x)
    with torch.no_grad():
        W, coef = model.W, model.a * model.output_scale
        z = x @ W.T
        f0 = torch.relu(z) @ coef
        sgn0 = torch.sign(f0)
        if direction is None:
            g = -sgn0[:, None] * (((z > 0).to(x.dtype) * coef) @ W)
            norms = torch.linalg.vector_norm(g, dim=1)
            u = g / torch.where(norms > 0, norms, torch.ones_like(norms))[:, None]
        else:
            u = _ray_direction(model, x, direction, note="")
        tau, _, start, slope_before, slope_after, value_at = _ray_pieces(W, coef, z, f0, u)
        return sgn0, f0, tau, start, slope_before, slope_after, value_at
