"""Lemma B: the gradient norm over the lazy ball (book chapter 7).

The split of ∇ₓf(x; W) into its value at W₀, a deviation and a flip term, with closed-form bounds on the
last two (Proposition ``prop-gradient-decomposition``); Lemma ``lem-gradient-norm`` with explicit
constants; and the search of the ball for the weights that shrink (or grow) the gradient norm the most,
with a certificate on the other side (the worst case of the lemma).

Conventions: ``model`` is a TwoLayerReLU and the lazy ball B_{2,∞}(W₀, R) around its W₀, with ``radius``
R ≥ 0 (e.g. ``lazy_radius(m, C0)``); x is a batch of inputs of shape (n, d), and what is computed per
input has shape (n,); γ ∈ (0, 1) is a failure probability and C₀ ≥ 0 the lazy-regime constant.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch

from .. import _checks
from ..model import TwoLayerReLU
from ._shared import masked_operator_norm

__all__ = ["GradientDecomposition", "gradient_decomposition", "GradientChangeBounds",
    "gradient_change_bounds", "GradientNormBounds", "gradient_norm_bounds", "GradientNormSearch",
    "gradient_norm_search"]


class GradientDecomposition(NamedTuple):
    """∇ₓf(x; W) = ``initial`` (∇ₓf(x; W₀)) + ``deviation`` (the weights' movement at the current activation
    pattern) + ``flip`` (the neurons whose activation changed), each of shape (n, d)."""

    initial: torch.Tensor
    deviation: torch.Tensor
    flip: torch.Tensor


def gradient_decomposition(model: TwoLayerReLU, x: torch.Tensor) -> GradientDecomposition:
    r"""Split the input gradient at the current W into its value at W₀, a deviation and a flip term.

    .. math:: \nabla_x f(x; W) = \underbrace{\tfrac{1}{\sqrt m}\sum_s a_s \chi_{s,0}\, w_{s,0}}_{\text{initial}}
              + \underbrace{\tfrac{1}{\sqrt m}\sum_s a_s \chi_s\,(w_s - w_{s,0})}_{\text{deviation}}
              + \underbrace{\tfrac{1}{\sqrt m}\sum_s a_s (\chi_s - \chi_{s,0})\, w_{s,0}}_{\text{flip}},

    with χ_s = 1[w_sᵀx > 0] and χ_{s,0} = 1[w_{s,0}ᵀx > 0]. The three parts add up to
    ``input_gradient(model, x)`` (up to rounding).

    Examples
    --------
    >>> import torch, lazylib as ll
    >>> net = ll.TwoLayerReLU(4, 30, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    >>> with torch.no_grad():
    ...     _ = net.W.add_(0.1)
    >>> x = torch.ones(2, 4, dtype=torch.float64)
    >>> parts = ll.lemmas.gradient_decomposition(net, x)
    >>> bool(torch.allclose(parts.initial + parts.deviation + parts.flip, ll.input_gradient(net, x)))
    True

    Book: Proposition ``prop-gradient-decomposition`` (chapter 7).
    """
    x = _checks.model_inputs(model, x)
    with torch.no_grad():
        W, W0, coef = model.W.detach(), model.W0, model.a * model.output_scale
        chi = (x @ W.T > 0).to(x.dtype)
        chi0 = (x @ W0.T > 0).to(x.dtype)
        initial = (chi0 * coef) @ W0
        deviation = (chi * coef) @ (W - W0)
        flip = ((chi - chi0) * coef) @ W0
    return GradientDecomposition(initial, deviation, flip)


class GradientChangeBounds(NamedTuple):
    r"""Bounds on the two terms of ∇f(x; W) − ∇f(x; W₀) over the lazy ball, per input (each of shape (n,)).

    - ``deviation``: R·|P(x)|/√m, with P(x) = {s : w_{s,0}ᵀx > −R‖x‖} the neurons that can be active;
    - ``flip``: √(N_R(x)/m)·‖W_{0,S}‖_op, with S the N_R(x) neurons with |w_{s,0}ᵀx| ≤ R‖x‖ (switchable);
    - ``possibly_active``, ``switchable``: |P(x)| and N_R(x) (int64).
    """

    deviation: torch.Tensor
    flip: torch.Tensor
    possibly_active: torch.Tensor
    switchable: torch.Tensor

    @property
    def total(self) -> torch.Tensor:
        """deviation + flip: a bound on sup_W ‖∇f(x; W) − ∇f(x; W₀)‖, shape (n,)."""
        return self.deviation + self.flip


def gradient_change_bounds(model: TwoLayerReLU, x: torch.Tensor, radius: float) -> GradientChangeBounds:
    r"""Closed-form bounds on the deviation and flip terms over W ∈ B_{2,∞}(W₀, R), from W₀ only.

    For every W in the ball,

    .. math:: \Bigl\|\tfrac{1}{\sqrt m}\sum_s a_s\chi_s(w_s - w_{s,0})\Bigr\| \le \frac{R\,|P(x)|}{\sqrt m},
              \qquad
              \Bigl\|\tfrac{1}{\sqrt m}\sum_s a_s(\chi_s - \chi_{s,0})w_{s,0}\Bigr\|
              \le \sqrt{\frac{N_R(x)}{m}}\;\|W_{0,S}\|_{\mathrm{op}},

    where a neuron can be active only if w_{s,0}ᵀx > −R‖x‖ (the set P(x)) and can change its
    activation only if |w_{s,0}ᵀx| ≤ R‖x‖ (the set S of N_R(x) switchable neurons), and W_{0,S} stacks
    their initial weights.

    Examples
    --------
    >>> import torch, lazylib as ll
    >>> net = ll.TwoLayerReLU(20, 400, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    >>> x = torch.nn.functional.normalize(torch.randn(3, 20, generator=torch.Generator().manual_seed(1), dtype=torch.float64), dim=1)
    >>> b = ll.lemmas.gradient_change_bounds(net, x, ll.lazy_radius(400, 1.0))
    >>> bool(torch.equal(b.switchable, ll.switchable_neurons(net, x, ll.lazy_radius(400, 1.0))))
    True

    Book: Proposition ``prop-gradient-decomposition`` (chapter 7).
    """
    x = _checks.model_inputs(model, x)
    radius = _checks.number("radius", radius, minimum=0.0)
    with torch.no_grad():
        z0 = x @ model.W0.T
        reach = radius * torch.linalg.vector_norm(x, dim=1, keepdim=True)
        possibly_active = (z0 > -reach).sum(dim=1)
        switch = z0.abs() <= reach
        switchable = switch.sum(dim=1)
        scale = model.output_scale
        deviation = radius * scale * possibly_active.to(x.dtype)
        flip = scale * switchable.to(x.dtype).sqrt() * masked_operator_norm(model.W0, switch)
    return GradientChangeBounds(deviation, flip, possibly_active, switchable)


class GradientNormBounds(NamedTuple):
    """Lemma B's interval for ‖∇ₓf(x; W)‖ over the lazy ball, on one event of probability ≥ 1 − γ.

    - ``lower``, ``upper``: lower ≤ ‖∇ₓf(x; W)‖ ≤ upper for every W in the ball (lower clipped at 0);
    - ``initial_lower``, ``initial_upper``: the interval for ‖∇ₓf(x; W₀)‖;
    - ``deviation``, ``flip``: the bounds on the deviation and flip terms.
    """

    lower: float
    upper: float
    initial_lower: float
    initial_upper: float
    deviation: float
    flip: float


def gradient_norm_bounds(m: int, d: int, C0: float, gamma: float) -> GradientNormBounds:
    r"""Lemma B with the book's explicit constants, for any x ≠ 0 (the gradient does not depend on ‖x‖).

    For a width m ≥ 1 and an input dimension d ≥ 2, with L = log(9/γ), R = C₀/√m, p = P(|Z| ≤ R) =
    erf(R/√2) and N⁺ = min(m, mp + √(2mpL) + 2L/3): with probability at least 1 − γ over (a, W₀),
    simultaneously for all W ∈ B_{2,∞}(W₀, R),

    .. math::
        \|\nabla f(x; W)\| \ge \sqrt{\Bigl(\tfrac12 - \sqrt{\tfrac{L}{2m}}\Bigr)_+
            \bigl(d - 1 - 2\sqrt{(d-1)L}\bigr)_+} - \Delta,
        \qquad
        \|\nabla f(x; W)\| \le \sqrt{\min\Bigl(1, \tfrac12 + \sqrt{\tfrac{L}{2m}}\Bigr)
            \bigl(d - 1 + 2\sqrt{(d-1)L} + 2L\bigr) + 2L} + \Delta,

    .. math::
        \Delta = C_0 \min\Bigl(1, \Phi(R) + \sqrt{\tfrac{L}{2m}}\Bigr)
        + \sqrt{\tfrac{N^+}{m}}\Bigl(\sqrt{N^+}\,(1 + R) + \sqrt{d-1} + \sqrt{2L}\Bigr).

    Examples
    --------
    >>> import lazylib as ll
    >>> b = ll.lemmas.gradient_norm_bounds(4000, 784, 1.0, 0.1)
    >>> 0 < b.lower < (784 / 2) ** 0.5 < b.upper
    True

    Book: Lemma ``lem-gradient-norm`` (chapter 7).
    """
    m = _checks.positive_int("m", m)
    d = _checks.positive_int("d", d, minimum=2)
    C0 = _checks.number("C0", C0, minimum=0.0)
    gamma = _checks.probability("gamma", gamma)
    L = math.log(9.0 / gamma)
    R = C0 / math.sqrt(m)
    D = d - 1
    spread = math.sqrt(L / (2.0 * m))
    init_lo = math.sqrt(max(0.0, 0.5 - spread) * max(0.0, D - 2.0 * math.sqrt(D * L)))
    init_hi = math.sqrt(min(1.0, 0.5 + spread) * (D + 2.0 * math.sqrt(D * L) + 2.0 * L) + 2.0 * L)
    p = math.erf(R / math.sqrt(2.0))
    deviation = C0 * min(1.0, 0.5 * (1.0 + p) + spread)  # 0.5·(1 + p) = Φ(R)
    n_plus = min(float(m), m * p + math.sqrt(2.0 * m * p * L) + 2.0 * L / 3.0)
    flip = math.sqrt(n_plus / m) * (math.sqrt(n_plus) * (1.0 + R) + math.sqrt(D) + math.sqrt(2.0 * L))
    lower = max(0.0, init_lo - deviation - flip)
    return GradientNormBounds(lower, init_hi + deviation + flip, init_lo, init_hi, deviation, flip)


class GradientNormSearch(NamedTuple):
    """Result of :func:`gradient_norm_search`, in float64.

    - ``norm`` (n,): ‖∇ₓf(x; W*)‖ at the best weights W* found, a point of the ball;
    - ``certificate`` (n,): a proven bound on the other side, a lower bound on inf_W ‖∇ₓf(x; W)‖ for
      ``mode="min"`` and an upper bound on sup_W ‖∇ₓf(x; W)‖ for ``mode="max"``, so the true extreme
      lies between ``norm`` and ``certificate``;
    - ``weights`` (n, m, d) or None: W* for each input, with ``return_weights=True``.
    """

    norm: torch.Tensor
    certificate: torch.Tensor
    weights: torch.Tensor | None


class _Ball(NamedTuple):
    """The search's data: per input x̂ (c, d), ζ = x̂ᵀw_{s,0} (c, m), ‖x‖ (c, 1) and the neurons that may be
    on and off (c, m); shared a (m,), W₀ (m, d), α = m^{-1/2} and R."""

    xh: torch.Tensor
    zeta: torch.Tensor
    x_norm: torch.Tensor
    on_ok: torch.Tensor
    off_ok: torch.Tensor
    a: torch.Tensor
    W0: torch.Tensor
    alpha: float
    R: float

    def tile(self, k: int) -> _Ball:
        """The same data for k copies of the batch, one after the other."""
        per_input = ("xh", "zeta", "x_norm", "on_ok", "off_ok")
        return self._replace(**{f: _tile(getattr(self, f), k) for f in per_input})


def _tile(t: torch.Tensor, k: int) -> torch.Tensor:
    return t.repeat(k, *([1] * (t.ndim - 1)))


def _gradient(b: _Ball, sa, beta, Gam, E):
    """α Σ_s sa_s (w_{s,0} + β_s x̂ + Σ_t Γ_{s,t} E_t) for signed activations sa (c, m); (c, d)."""
    return b.alpha * (sa @ b.W0 + (sa * beta).sum(dim=1, keepdim=True) * b.xh
                      + torch.einsum("cm,cmt,ctd->cd", sa, Gam, E))


def _cap_response(u: torch.Tensor, b: _Ball):
    """For every neuron, the v = β x̂ + γ e in its cap {‖v‖ ≤ R, x̂ᵀv ≥ −ζ_s} minimising a_s⟨u, v⟩, e the unit
    part of u orthogonal to x̂. Returns β, γ (c, m), e (c, d), u·x̂ and ‖u − (u·x̂)x̂‖ (c, 1)."""
    xh, zeta, a, R = b.xh, b.zeta, b.a, b.R
    tiny = torch.finfo(u.dtype).tiny
    un = torch.linalg.vector_norm(u, dim=1, keepdim=True)
    ux = (u * xh).sum(dim=1, keepdim=True)
    perp = u - ux * xh
    upn = torch.linalg.vector_norm(perp, dim=1, keepdim=True)
    e = torch.where(upn > 0, perp / upn.clamp_min(tiny), torch.zeros_like(perp))
    inv = torch.where(un > 0, 1.0 / un.clamp_min(tiny), torch.zeros_like(un))
    beta_free = -a * (R * ux * inv)  # the ball's minimiser −a R u/‖u‖, in the (x̂, e) coordinates
    gam_free = -a * (R * upn * inv)
    free_ok = beta_free >= -zeta
    beta = torch.where(free_ok, beta_free, -zeta)  # else: on the circle where the halfspace meets the sphere
    gam = torch.where(free_ok, gam_free, -a * (R * R - zeta.clamp(-R, R) ** 2).clamp_min(0.0).sqrt())
    return beta, gam, e, ux, upn


def _best_vertex(u: torch.Tensor, b: _Ball, on_sign: float):
    """The achievable gradient minimising ⟨u, g⟩ (on_sign=+1) or maximising it (−1): each neuron off or on
    with its best cap point. Returns it (c, d) and the choice (sig, β, γ, e) that builds the weights."""
    v = u * on_sign
    beta, gam, e, ux, upn = _cap_response(v, b)
    value_on = b.alpha * b.a * (v @ b.W0.T + beta * ux + gam * upn)  # ⟨v, contribution when on⟩
    sig = b.on_ok & (~b.off_ok | (value_on < 0))
    sa = sig.to(u.dtype) * b.a
    S = b.alpha * (sa @ b.W0 + (sa * beta).sum(dim=1, keepdim=True) * b.xh
                   + (sa * gam).sum(dim=1, keepdim=True) * e)
    return S, (sig, beta, gam, e)


def _step_size(G: torch.Tensor, S: torch.Tensor) -> torch.Tensor:
    """The exact line search of Frank–Wolfe for ‖g‖² from G towards S, in [0, 1]; (c,)."""
    D = S - G
    return ((G * (G - S)).sum(dim=1) / (D * D).sum(dim=1).clamp_min(1e-300)).clamp(0.0, 1.0)


def _realise(b: _Ball, sig, beta, Gam, E):
    """Actual weights from a per-neuron choice (on: v = β x̂ + Σ_j Γ_j E_j, E ⊥ x̂), nudged strictly inside
    the on-caps, and the gradient they give. Returns g and the final (β, Γ)."""
    eps = 1e-6
    zeta, R = b.zeta, b.R
    # on: move a fraction eps towards R·x̂ so the pre-activation is strictly positive; off: push down.
    beta_off = torch.where(zeta > 0, torch.full_like(zeta, -R), torch.zeros_like(zeta))
    beta_w = torch.where(sig, (1 - eps) * beta + eps * R, beta_off)
    Gam_w = torch.where(sig[..., None], (1 - eps) * Gam, torch.zeros_like(Gam))
    pre = b.x_norm * (zeta + beta_w)  # w_sᵀx for w_s = w_{s,0} + β x̂ + Σ Γ_j E_j
    act = (pre > 0).to(b.W0.dtype) * b.a
    return _gradient(b, act, beta_w, Gam_w, E), beta_w, Gam_w


def _frank_wolfe(b: _Ball, G, steps, theta):
    """Frank–Wolfe for min ‖g‖ over the hull of the achievable set, tracking g only; returns the last
    iterate, θ (the weight of "on" per neuron) and the best dual bound (a certified lower bound)."""
    lower = torch.zeros(G.shape[0], dtype=G.dtype, device=G.device)
    for _ in range(steps):
        S, choice = _best_vertex(G, b, 1.0)
        Gn = torch.linalg.vector_norm(G, dim=1)
        # weak duality: ⟨Ĝ, S⟩ = min over the hull of ⟨Ĝ, g⟩ ≤ ‖g‖ for every g of the hull
        bound = torch.where(Gn > 0, (G * S).sum(dim=1) / Gn.clamp_min(1e-300), torch.zeros_like(Gn))
        lower = torch.maximum(lower, bound.clamp_min(0.0))
        tau = _step_size(G, S)[:, None]
        G = G + tau * (S - G)
        theta = theta + tau * (choice[0].to(G.dtype) - theta)
    return G, theta, lower


def _pattern_descent(b: _Ball, G, pattern, steps):
    """Frank–Wolfe with the activation pattern fixed, every iterate actual weights: each on-neuron's
    deviation is a convex combination of cap points, v = β x̂ + Σ_j Γ_j E_j with E_j the directions met on
    the way (one per step, each ⊥ x̂). One extra slot is left for :func:`_greedy_toggles`."""
    b = b._replace(on_ok=pattern, off_ok=torch.zeros_like(pattern))
    c, m = b.zeta.shape
    beta = torch.zeros(c, m, dtype=G.dtype, device=G.device)
    Gam = torch.zeros(c, m, steps + 1, dtype=G.dtype, device=G.device)
    E = torch.zeros(c, steps + 1, b.W0.shape[1], dtype=G.dtype, device=G.device)
    for j in range(steps):
        S, (_, b_new, g_new, e_new) = _best_vertex(G, b, 1.0)
        t = (torch.ones(c, dtype=G.dtype, device=G.device) if j == 0 else _step_size(G, S))[:, None]
        beta = (1 - t) * beta + t * b_new
        Gam = Gam * (1 - t)[..., None]
        Gam[:, :, j] = t * g_new
        E[:, j] = e_new
        G = G + t * (S - G)
    return beta, Gam, E


def _greedy_toggles(b: _Ball, u, sig, beta, Gam, E, steps):
    """Improve a pattern one neuron at a time (per input, the toggle that lowers ‖g‖ most), keeping the
    on-neurons' deviations; a neuron switched on gets its best response to u (stored in E's last slot)."""
    W0, a, alpha = b.W0, b.a, b.alpha
    b_u, g_u, e_u, _, _ = _cap_response(u, b)
    E = E.clone()
    E[:, -1] = e_u
    beta = torch.where(sig, beta, b_u)
    Gam = torch.where(sig[..., None], Gam, torch.zeros_like(Gam))  # an off-neuron's deviation: g_u·e_u only
    Gam[:, :, -1] = torch.where(sig, Gam[:, :, -1], g_u)
    WE = torch.einsum("md,ctd->cmt", W0, E)
    EE = E @ E.transpose(1, 2)
    # ‖c_s‖² = α²‖w_{s,0} + v_s‖², with v_s = β x̂ + Γ E and E ⊥ x̂
    vv = beta**2 + torch.einsum("cmt,ctu,cmu->cm", Gam, EE, Gam)
    sq = alpha**2 * ((W0 * W0).sum(dim=1) + vv + 2 * beta * b.zeta + 2 * (Gam * WE).sum(dim=2))
    for _ in range(steps):
        G = _gradient(b, sig.to(u.dtype) * a, beta, Gam, E)
        EG = torch.einsum("ctd,cd->ct", E, G)
        Gx = (G * b.xh).sum(dim=1, keepdim=True)
        Gc = alpha * a * (G @ W0.T + beta * Gx + torch.einsum("cmt,ct->cm", Gam, EG))
        sign = torch.where(sig, -1.0, 1.0).to(u.dtype)  # toggling removes an on-neuron or adds an off one
        allowed = torch.where(sig, b.off_ok, b.on_ok)
        change = torch.where(allowed, 2 * sign * Gc + sq, torch.full_like(Gc, math.inf))  # Δ‖g‖²
        best, idx = change.min(dim=1)
        go = best < -1e-12 * (G * G).sum(dim=1).clamp_min(1e-300)
        if not bool(go.any()):
            break
        rows = torch.nonzero(go).flatten()
        sig = sig.clone()
        sig[rows, idx[rows]] = ~sig[rows, idx[rows]]
    return sig, beta, Gam, E


def _minimise(b: _Ball, g0, init, steps, flips):
    """The min search: relaxation with a certificate, rounding to candidate patterns, descent with each
    pattern fixed, greedy toggles; returns the best actual point's gradient and coefficients."""
    n = g0.shape[0]
    G, theta, lower = _frank_wolfe(b, g0.clone(), steps, init.to(g0.dtype))
    patterns = [init]
    if flips:  # θ rounded at three thresholds, and the initial pattern; all searched as one batch
        patterns = [(theta >= t) & b.on_ok | ~b.off_ok for t in (0.5, 0.1, 0.9)] + patterns
    k = len(patterns)
    pattern = torch.cat(patterns, dim=0)
    bk = b.tile(k)
    beta, Gam, E = _pattern_descent(bk, _tile(G, k), pattern, steps)
    sig = pattern
    if flips:
        u = _gradient(bk, pattern.to(g0.dtype) * b.a, beta, Gam, E)
        sig, beta, Gam, E = _greedy_toggles(bk, u, pattern, beta, Gam, E, steps)
    g, beta_w, Gam_w = _realise(bk, sig, beta, Gam, E)
    pick = (torch.linalg.vector_norm(g, dim=1).reshape(k, n).argmin(dim=0) * n
            + torch.arange(n, device=g0.device))
    return g[pick], beta_w[pick], Gam_w[pick], E[pick], lower


def _maximise(b: _Ball, g0, restarts, steps, generator):
    """The max search: the ascent u ← S(u) from ∇f(x; W₀) and ``restarts`` random directions; returns the
    best start's gradient, coefficients and direction."""
    n, d = g0.shape
    rng = torch.randn(restarts, n, d, generator=generator, dtype=torch.float64).to(g0.device)
    starts = torch.cat([g0[None], rng], dim=0)  # (r + 1, n, d)
    rr = starts.shape[0]
    u = starts.reshape(rr * n, -1)
    br = b.tile(rr)
    best_norm = torch.full((rr * n,), -1.0, dtype=torch.float64, device=g0.device)
    best_dir = u.clone()
    for _ in range(steps):  # ‖S(u)‖ never decreases: ‖S(S(u))‖ ≥ ⟨Ŝ(u), S(S(u))⟩ ≥ ⟨Ŝ(u), S(u)⟩
        S, _ = _best_vertex(u, br, -1.0)
        Sn = torch.linalg.vector_norm(S, dim=1)
        better = Sn > best_norm
        best_norm = torch.where(better, Sn, best_norm)
        best_dir = torch.where(better[:, None], u, best_dir)
        u = S
    pick = best_norm.reshape(rr, n).argmax(dim=0)
    best_dir = best_dir.reshape(rr, n, -1)[pick, torch.arange(n, device=g0.device)]
    _, (sig, beta, gam, e) = _best_vertex(best_dir, b, -1.0)
    E = e[:, None, :]
    return (*_realise(b, sig, beta, gam[..., None], E), E)


def gradient_norm_search(model: TwoLayerReLU, x: torch.Tensor, radius: float, *, mode: str = "min",
                         steps: int = 100, restarts: int = 4, flips: bool = True,
                         generator: torch.Generator | None = None,
                         return_weights: bool = False) -> GradientNormSearch:
    """Search the lazy ball for the weights that shrink (or grow) ‖∇ₓf(x; W)‖ the most.

    Each neuron contributes nothing (off) or m^{-1/2} a_s (w_{s,0} + v_s) with v_s in its cap
    {‖v‖ ≤ R, (w_{s,0} + v)ᵀx > 0} (on), so the best gradient along a direction is found in closed form.

    - ``mode="min"``: Frank–Wolfe on the convex hull of the achievable gradients, whose duality gap gives
      a **certified lower bound** on inf_W ‖∇ₓf(x; W)‖; then each neuron is rounded to on or off and the
      deviations re-optimised with the pattern fixed. Every vertex is an actual point of the ball.
    - ``mode="max"``: the ascent u ← S(u)/‖S(u)‖ (S(u) the best point along u) from ∇f(x; W₀) and
      ``restarts`` random directions; the certificate is ‖∇f(x; W₀)‖ + :func:`gradient_change_bounds`.
    - ``flips=False`` keeps every neuron's activation at x as at W₀ (what a projected-gradient search on W
      sees); the certificate is then about that restricted set.

    Batched over the inputs, which must be non-zero, and computed in float64; only W₀ and a of the model
    are used.

    Parameters
    ----------
    steps : int
        Frank–Wolfe iterations per phase (min) or ascent steps per start (max), ≥ 1.
    restarts : int
        Random starting directions for ``mode="max"`` besides ∇f(x; W₀), ≥ 0.
    generator : torch.Generator, optional
        CPU generator for the random restarts.
    return_weights : bool
        Also return the weights found, (n, m, d) (memory n·m·d).

    Examples
    --------
    >>> import torch, lazylib as ll
    >>> net = ll.TwoLayerReLU(20, 300, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    >>> x = torch.nn.functional.normalize(torch.randn(2, 20, generator=torch.Generator().manual_seed(1), dtype=torch.float64), dim=1)
    >>> low = ll.lemmas.gradient_norm_search(net, x, ll.lazy_radius(300, 2.0), steps=50)
    >>> g0 = ll.input_gradient(net, x).norm(dim=1)
    >>> bool((low.certificate <= low.norm).all() and (low.norm < g0).all())
    True

    Book: the worst case of Lemma ``lem-gradient-norm`` (chapter 7).
    """
    x = _checks.model_inputs(model, x)
    R = _checks.number("radius", radius, minimum=0.0)
    mode = _checks.choice("mode", mode, ("min", "max"))
    steps = _checks.positive_int("steps", steps)
    restarts = _checks.positive_int("restarts", restarts, minimum=0)
    flips = _checks.flag("flips", flips)
    _checks.generator("generator", generator)
    return_weights = _checks.flag("return_weights", return_weights)
    if bool((torch.linalg.vector_norm(x, dim=1) == 0).any()):
        raise ValueError(
            "`x` must have non-zero rows (the gradient vanishes on the whole ball at x = 0); got a zero row."
        )
    with torch.no_grad():
        W0 = model.W0.to(torch.float64)
        a = model.a.to(torch.float64)
        alpha = float(model.output_scale)
        xd = x.to(torch.float64)
        x_norm = torch.linalg.vector_norm(xd, dim=1, keepdim=True)
        xh = xd / x_norm
        zeta = xh @ W0.T  # w_{s,0}ᵀx̂, (n, m)
        on_ok, off_ok = zeta > -R, zeta <= R
        init = zeta > 0
        if not flips:
            on_ok, off_ok = on_ok & init, off_ok & ~init
        b = _Ball(xh, zeta, x_norm, on_ok, off_ok, a, W0, alpha, R)
        g0 = alpha * ((init.to(torch.float64) * a) @ W0)
        g0_norm = torch.linalg.vector_norm(g0, dim=1)
        if mode == "min":
            g, beta_w, Gam_w, E, certificate = _minimise(b, g0, init, steps, flips)
        else:
            g, beta_w, Gam_w, E = _maximise(b, g0, restarts, steps, generator)
            if flips:
                certificate = g0_norm + gradient_change_bounds(model, x, R).total.to(torch.float64)
            else:
                certificate = g0_norm + R * alpha * init.sum(dim=1).to(torch.float64)
        norm = torch.linalg.vector_norm(g, dim=1)
        # W₀ itself lies in the ball: never report something worse than the starting point.
        keep0 = norm > g0_norm if mode == "min" else norm < g0_norm
        norm = torch.where(keep0, g0_norm, norm)
        weights = None
        if return_weights:
            weights = W0[None] + beta_w[..., None] * xh[:, None, :] + torch.einsum("cmt,ctd->cmd", Gam_w, E)
            weights = torch.where(keep0[:, None, None], W0[None].expand_as(weights), weights)
    return GradientNormSearch(norm, certificate, weights)
