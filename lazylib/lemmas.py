"""The quantities of the main theorem and its three control lemmas (book Part II, chapters 5–9).

Section 1 (chapters 5–7): the width window of the theorem, Lemma A (the function value over the lazy
ball) and Lemma B (the gradient norm over the lazy ball). Section 2 (chapters 8–9): Lemma C (the
gradient difference over a small input ball) and the combination into the flip.
"""

from __future__ import annotations

__all__: list[str] = []

# ----------------------------------------------------------------------------------------------
# Section 1: the theorem's window, Lemma A and Lemma B (chapters 5, 6, 7)

import math
from typing import NamedTuple

import torch

from . import _checks
from .model import TwoLayerReLU, input_gradient

__all__ += [
    "width_upper_limit",
    "window_threshold",
    "value_bound",
    "value_bound_sharp",
    "ValueRange",
    "sample_value_range",
    "GradientDecomposition",
    "gradient_decomposition",
    "GradientChangeBounds",
    "gradient_change_bounds",
    "GradientNormBounds",
    "gradient_norm_bounds",
    "GradientNormSearch",
    "gradient_norm_search",
]

_WINDOW_EXPONENT = 0.24  # the exponent of the theorem's upper width limit m ≤ C₄·exp(d^0.24)


def _probability(name: str, value: object) -> float:
    """A number in the open interval (0, 1)."""
    p = _checks.number(name, value, minimum=0.0, strict=True)
    if p >= 1.0:
        raise ValueError(f"`{name}` must be a number in (0, 1); got {value!r}.")
    return p


def _flag(name: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"`{name}` must be True or False; got {value!r}.")
    return value


def _nonzero_rows(name: str, x: torch.Tensor) -> None:
    if bool((torch.linalg.vector_norm(x, dim=1) == 0).any()):
        raise ValueError(f"`{name}` must have non-zero rows (the gradient vanishes on the whole ball at x = 0); got a zero row.")


# --- The theorem's width window (chapter 5) --------------------------------------------------------


def width_upper_limit(d: int, C4: float = 1.0) -> float:
    r"""The upper end of the theorem's width window, C₄·exp(d^{0.24}).

    The main theorem asks for a width that is at least polynomial in d and at most
    sub-exponential, m ≤ C₄·exp(d^{0.24}) (the exponent 0.24 is the one the paper's summary states).

    Parameters
    ----------
    d : int
        Input dimension, ≥ 1.
    C4 : float
        The constant C₄ > 0 (not given by the summary; 1 by default).

    Returns
    -------
    float
        ``inf`` when the value overflows a float (d^{0.24} > 709, i.e. d beyond about 7·10¹¹).

    Examples
    --------
    >>> import lazylib as ll
    >>> round(ll.lemmas.width_upper_limit(784), 1)
    141.2

    Notes
    -----
    Book: the width window of Theorem ``thm-main`` (chapter 5).
    """
    d = _checks.positive_int("d", d)
    C4 = _checks.number("C4", C4, minimum=0.0, strict=True)
    try:
        return C4 * math.exp(d**_WINDOW_EXPONENT)
    except OverflowError:
        return math.inf


def window_threshold(k: float, *, C_low: float = 1.0, C4: float = 1.0) -> float:
    r"""The dimension d* beyond which the window C_low·d^k ≤ m ≤ C₄·exp(d^{0.24}) is non-empty.

    The paper's summary states the lower end of the width window only as "polynomially large in d"
    (its exponent is garbled), so k and C_low describe an *illustrative* lower end chosen by the
    reader. With t = log d the window is non-empty when h(t) = log C₄ + e^{0.24 t} − log C_low − k t
    is ≥ 0; h is convex, so it is negative on at most one interval, and d* = e^{t*} with t* the upper
    end of that interval (found by bisection); d* = 1 when h never becomes negative.

    Parameters
    ----------
    k : float
        Exponent of the illustrative lower end, > 0.
    C_low, C4 : float
        Constants of the lower and upper ends, > 0.

    Returns
    -------
    float
        d* ≥ 1: for every d ≥ d* the window contains at least one real width.

    Examples
    --------
    >>> import lazylib as ll
    >>> d_star = ll.lemmas.window_threshold(1.0)
    >>> 10_000 < d_star < 20_000
    True

    Notes
    -----
    Book: the width window of Theorem ``thm-main`` (chapter 5).
    """
    k = _checks.number("k", k, minimum=0.0, strict=True)
    C_low = _checks.number("C_low", C_low, minimum=0.0, strict=True)
    C4 = _checks.number("C4", C4, minimum=0.0, strict=True)
    c = math.log(C4) - math.log(C_low)

    def h(t: float) -> float:
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


# --- Lemma A: the function value (chapter 6) -------------------------------------------------------


def value_bound(gamma: float, C0: float, *, norm: float = 1.0) -> float:
    r"""Lemma A's bound on |f(x; a, W)| over the lazy ball, as the paper's summary states it.

    .. math:: \sup_{W \in B_{2,\infty}(W_0, C_0/\sqrt m)} |f(x; a, W)|
              \le \|x\|\,\bigl(2\sqrt{\log(2/\gamma)} + C_0\bigr)
              \quad\text{with probability at least } 1 - \gamma,

    stated in the paper for ‖x‖ = 1; f is positively homogeneous in x, so the bound scales with ‖x‖.

    Parameters
    ----------
    gamma : float
        Failure probability, in (0, 1).
    C0 : float
        Lazy-regime constant, ≥ 0.
    norm : float
        ‖x‖ ≥ 0.

    Examples
    --------
    >>> import math, lazylib as ll
    >>> ll.lemmas.value_bound(0.5, 1.0) == 2 * math.sqrt(math.log(4.0)) + 1.0
    True

    Notes
    -----
    Book: Lemma ``lem-value`` (chapter 6).
    """
    gamma = _probability("gamma", gamma)
    C0 = _checks.number("C0", C0, minimum=0.0)
    norm = _checks.number("norm", norm, minimum=0.0)
    return norm * (2.0 * math.sqrt(math.log(2.0 / gamma)) + C0)


def value_bound_sharp(gamma: float, C0: float, m: int, *, norm: float = 1.0) -> float:
    r"""The book's sharper form of Lemma A, valid for every width m ≥ 1.

    .. math:: \sup_W |f(x; a, W)| \le \|x\|\Bigl(\sqrt{2\log(4/\gamma)} + \frac{C_0}{2}
              + C_0\sqrt{\frac{\log(4/\gamma)}{2m}}\Bigr)
              \quad\text{with probability at least } 1 - \gamma.

    The first term bounds |f(x; W₀)| (a sum of independent sub-Gaussian terms), the other two the
    exact worst-case movement over the ball, whose mean is C₀‖x‖/2 (Proposition
    ``prop-mean-worst-case``), by Hoeffding's inequality.

    Parameters
    ----------
    gamma : float
        Failure probability, in (0, 1).
    C0 : float
        Lazy-regime constant, ≥ 0.
    m : int
        Width, ≥ 1.
    norm : float
        ‖x‖ ≥ 0.

    Examples
    --------
    >>> import lazylib as ll
    >>> ll.lemmas.value_bound_sharp(0.05, 10.0, 1000) < ll.lemmas.value_bound(0.05, 10.0)
    True

    Notes
    -----
    Book: Proposition ``prop-value-sharp`` (chapter 6).
    """
    gamma = _probability("gamma", gamma)
    C0 = _checks.number("C0", C0, minimum=0.0)
    m = _checks.positive_int("m", m)
    norm = _checks.number("norm", norm, minimum=0.0)
    L = math.log(4.0 / gamma)
    return norm * (math.sqrt(2.0 * L) + C0 / 2.0 + C0 * math.sqrt(L / (2.0 * m)))


class ValueRange(NamedTuple):
    """f at initialisation and its exact range over the lazy ball, one entry per network.

    Fields ``f0``, ``inf`` and ``sup`` (each a tensor of shape (n_nets,)): f(x; W₀), inf_W f(x; W) and
    sup_W f(x; W) over W ∈ B_{2,∞}(W₀, C₀/√m).
    """

    f0: torch.Tensor
    inf: torch.Tensor
    sup: torch.Tensor

    @property
    def sup_abs(self) -> torch.Tensor:
        """sup_W |f(x; W)| = max(sup f, −inf f), shape (n_nets,)."""
        return torch.maximum(self.sup, -self.inf)


def sample_value_range(
    m: int,
    C0: float,
    n_nets: int,
    *,
    norm: float = 1.0,
    generator: torch.Generator | None = None,
    dtype: torch.dtype = torch.float64,
) -> ValueRange:
    r"""Exact range of f(x; ·) over the lazy ball for ``n_nets`` independent random initialisations.

    For a fixed input x, f(x; W₀) and the extremes of f over B_{2,∞}(W₀, R) depend on W₀ only through
    the pre-activations z_s = w_{s,0}ᵀx, which are independent N(0, ‖x‖²) whatever the dimension d.
    So the networks are drawn in that reduced form (z and the signs a, per network), and the exact
    extremes of ``lazylib.value_bounds`` are evaluated for each:

    .. math:: \sup_W f = \tfrac{1}{\sqrt m}\sum_s a_s\,\sigma(z_s + a_s R\|x\|), \qquad
              \inf_W f = \tfrac{1}{\sqrt m}\sum_s a_s\,\sigma(z_s - a_s R\|x\|), \qquad R = C_0/\sqrt m.

    Network k equals ``TwoLayerReLU(1, m)`` with weights z[k]/‖x‖ at the input (‖x‖,), so the
    result agrees with ``value_bounds`` on such networks exactly (a test checks it), and in
    distribution with networks of any dimension d.

    Parameters
    ----------
    m : int
        Width, ≥ 1.
    C0 : float
        Lazy-regime constant, ≥ 0.
    n_nets : int
        Number of independent networks, ≥ 1.
    norm : float
        ‖x‖ ≥ 0.
    generator : torch.Generator, optional
        CPU generator for the draws.
    dtype : torch.dtype
        Floating-point type of the result (the draws are made in float64).

    Returns
    -------
    ValueRange
        ``f0``, ``inf``, ``sup`` (and the property ``sup_abs``), each of shape (n_nets,).

    Examples
    --------
    >>> import torch, lazylib as ll
    >>> r = ll.lemmas.sample_value_range(100, 10.0, 2000, generator=torch.Generator().manual_seed(0))
    >>> bool((r.inf <= r.f0).all() and (r.f0 <= r.sup).all())
    True
    >>> round(float((r.sup - r.f0).mean()), 1)  # the mean worst-case movement is C0/2
    5.0

    Notes
    -----
    Book: the certificate of Lemma ``lem-value`` and Proposition ``prop-mean-worst-case`` (chapter 6).
    """
    m = _checks.positive_int("m", m)
    C0 = _checks.number("C0", C0, minimum=0.0)
    n_nets = _checks.positive_int("n_nets", n_nets)
    norm = _checks.number("norm", norm, minimum=0.0)
    _checks.generator("generator", generator)
    if generator is not None and generator.device.type != "cpu":
        raise ValueError(f"`generator` must be a CPU generator; got one on {generator.device.type}.")
    if not (isinstance(dtype, torch.dtype) and dtype.is_floating_point):
        raise TypeError(f"`dtype` must be a floating-point torch.dtype; got {dtype!r}.")
    shift = C0 / math.sqrt(m) * norm
    chunk = max(1, (1 << 22) // m)
    f0s, los, his = [], [], []
    for start in range(0, n_nets, chunk):  # chunks of networks bound the memory; each chunk is one batch
        k = min(chunk, n_nets - start)
        z = torch.randn(k, m, generator=generator, dtype=torch.float64) * norm
        a = (torch.randint(0, 2, (k, m), generator=generator, dtype=torch.int64) * 2 - 1).to(torch.float64)
        scale = 1.0 / math.sqrt(m)
        f0s.append((a * torch.relu(z)).sum(dim=1) * scale)
        his.append((a * torch.relu(z + a * shift)).sum(dim=1) * scale)
        los.append((a * torch.relu(z - a * shift)).sum(dim=1) * scale)
    return ValueRange(torch.cat(f0s).to(dtype), torch.cat(los).to(dtype), torch.cat(his).to(dtype))


# --- Lemma B: the gradient norm (chapter 7) --------------------------------------------------------


class GradientDecomposition(NamedTuple):
    r"""∇ₓf(x; W) = initial + deviation + flip, each a tensor of shape (n, d).

    - ``initial``: ∇ₓf(x; W₀) = m^{-1/2} Σ_s a_s 1[w_{s,0}ᵀx > 0] w_{s,0};
    - ``deviation``: m^{-1/2} Σ_s a_s 1[w_sᵀx > 0] (w_s − w_{s,0}), the weights' movement at the current
      activation pattern;
    - ``flip``: m^{-1/2} Σ_s a_s (1[w_sᵀx > 0] − 1[w_{s,0}ᵀx > 0]) w_{s,0}, the neurons whose activation
      changed.
    """

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

    Parameters
    ----------
    model : TwoLayerReLU
    x : torch.Tensor, shape (n, d)

    Returns
    -------
    GradientDecomposition
        ``initial``, ``deviation``, ``flip``, each (n, d).

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

    Notes
    -----
    Book: Proposition ``prop-gradient-decomposition`` (chapter 7).
    """
    _checks.model("model", model)
    x = _checks.inputs("x", x, model)
    with torch.no_grad():
        W, W0 = model.W.detach(), model.W0
        coef = model.a * model.output_scale
        chi = (x @ W.T > 0).to(x.dtype)
        chi0 = (x @ W0.T > 0).to(x.dtype)
        initial = (chi0 * coef) @ W0
        deviation = (chi * coef) @ (W - W0)
        flip = ((chi - chi0) * coef) @ W0
    return GradientDecomposition(initial, deviation, flip)


class GradientChangeBounds(NamedTuple):
    r"""Closed-form bounds on how far ∇ₓf can move over the lazy ball, per input (each of shape (n,)).

    - ``deviation``: R·|P(x)|/√m ≥ ‖deviation term‖, with P(x) = {s : w_{s,0}ᵀx > −R‖x‖} the neurons
      that can be active;
    - ``flip``: √(N_R(x)/m)·‖W_{0,S}‖_op ≥ ‖flip term‖, with S the N_R(x) switchable neurons;
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


def _rows_operator_norm(W0: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Spectral norm of the rows of W0 selected by each row of ``mask`` (n, m), shape (n,)."""
    n = mask.shape[0]
    out = torch.zeros(n, dtype=W0.dtype, device=W0.device)
    k = int(mask.sum(dim=1).max()) if n else 0
    if k == 0:
        return out
    d = W0.shape[1]
    chunk = max(1, (1 << 23) // (k * d))
    for start in range(0, n, chunk):  # chunks of inputs bound the memory of the gathered rows
        sel = mask[start:start + chunk]
        order = torch.argsort(sel.to(torch.int8), dim=1, descending=True, stable=True)[:, :k]
        keep = sel.gather(1, order).to(W0.dtype)
        rows = W0[order] * keep[:, :, None]  # (c, k, d), zero rows as padding
        gram = rows @ rows.transpose(1, 2) if k <= d else rows.transpose(1, 2) @ rows
        out[start:start + chunk] = torch.linalg.eigvalsh(gram)[:, -1].clamp_min(0).sqrt()
    return out


def gradient_change_bounds(model: TwoLayerReLU, x: torch.Tensor, radius: float) -> GradientChangeBounds:
    r"""Closed-form bounds on the two terms of ∇f(x; W) − ∇f(x; W₀) over W ∈ B_{2,∞}(W₀, R).

    For every W in the ball,

    .. math:: \Bigl\|\tfrac{1}{\sqrt m}\sum_s a_s\chi_s(w_s - w_{s,0})\Bigr\| \le \frac{R\,|P(x)|}{\sqrt m},
              \qquad
              \Bigl\|\tfrac{1}{\sqrt m}\sum_s a_s(\chi_s - \chi_{s,0})w_{s,0}\Bigr\|
              \le \sqrt{\frac{N_R(x)}{m}}\;\|W_{0,S}\|_{\mathrm{op}},

    where a neuron can be active only if w_{s,0}ᵀx > −R‖x‖ (the set P(x)) and can change its
    activation only if |w_{s,0}ᵀx| ≤ R‖x‖ (the set S of N_R(x) switchable neurons), and W_{0,S} stacks
    their initial weights. The bounds depend on W₀ only, not on the model's current W.

    Parameters
    ----------
    model : TwoLayerReLU
    x : torch.Tensor, shape (n, d)
    radius : float
        R ≥ 0, e.g. ``lazy_radius(m, C0)``.

    Returns
    -------
    GradientChangeBounds
        ``deviation``, ``flip`` (and the property ``total``), ``possibly_active``, ``switchable``.

    Examples
    --------
    >>> import torch, lazylib as ll
    >>> net = ll.TwoLayerReLU(20, 400, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    >>> x = torch.nn.functional.normalize(torch.randn(3, 20, generator=torch.Generator().manual_seed(1), dtype=torch.float64), dim=1)
    >>> b = ll.lemmas.gradient_change_bounds(net, x, ll.lazy_radius(400, 1.0))
    >>> bool(torch.equal(b.switchable, ll.switchable_neurons(net, x, ll.lazy_radius(400, 1.0))))
    True

    Notes
    -----
    Book: Proposition ``prop-gradient-decomposition`` (chapter 7).
    """
    _checks.model("model", model)
    x = _checks.inputs("x", x, model)
    radius = _checks.number("radius", radius, minimum=0.0)
    with torch.no_grad():
        z0 = x @ model.W0.T
        reach = radius * torch.linalg.vector_norm(x, dim=1, keepdim=True)
        possibly_active = (z0 > -reach).sum(dim=1)
        switch = z0.abs() <= reach
        switchable = switch.sum(dim=1)
        scale = model.output_scale
        deviation = radius * scale * possibly_active.to(x.dtype)
        flip = scale * switchable.to(x.dtype).sqrt() * _rows_operator_norm(model.W0, switch)
    return GradientChangeBounds(deviation, flip, possibly_active, switchable)


class GradientNormBounds(NamedTuple):
    """Lemma B's explicit high-probability interval for ‖∇ₓf(x; W)‖, uniformly over the lazy ball.

    - ``lower``, ``upper``: with probability ≥ 1 − γ, lower ≤ ‖∇ₓf(x; W)‖ ≤ upper for every W in the
      ball (lower is clipped at 0, where the bound says nothing);
    - ``initial_lower``, ``initial_upper``: the interval for ‖∇ₓf(x; W₀)‖ on the same event;
    - ``deviation``, ``flip``: the bounds on the deviation and flip terms on that event.
    """

    lower: float
    upper: float
    initial_lower: float
    initial_upper: float
    deviation: float
    flip: float


def gradient_norm_bounds(m: int, d: int, C0: float, gamma: float) -> GradientNormBounds:
    r"""Lemma B with explicit constants: an interval for ‖∇ₓf(x; W)‖ over the whole lazy ball.

    For any x ≠ 0 (the gradient does not depend on ‖x‖), with L = log(9/γ), R = C₀/√m,
    p = P(|Z| ≤ R) = erf(R/√2) and N⁺ = min(m, mp + √(2mpL) + 2L/3), with probability at least 1 − γ
    over (a, W₀), simultaneously for all W ∈ B_{2,∞}(W₀, R):

    .. math::
        \|\nabla f(x; W)\| \ge \sqrt{\Bigl(\tfrac12 - \sqrt{\tfrac{L}{2m}}\Bigr)_+
            \bigl(d - 1 - 2\sqrt{(d-1)L}\bigr)_+} - \Delta,
        \qquad
        \|\nabla f(x; W)\| \le \sqrt{\min\Bigl(1, \tfrac12 + \sqrt{\tfrac{L}{2m}}\Bigr)
            \bigl(d - 1 + 2\sqrt{(d-1)L} + 2L\bigr) + 2L} + \Delta,

    .. math::
        \Delta = C_0 \min\Bigl(1, \Phi(R) + \sqrt{\tfrac{L}{2m}}\Bigr)
        + \sqrt{\tfrac{N^+}{m}}\Bigl(\sqrt{N^+}\,(1 + R) + \sqrt{d-1} + \sqrt{2L}\Bigr).

    It follows from ‖∇f(x; W₀)‖² = (k/m)·χ²_{d−1} + f(x; W₀)² (k ~ Bin(m, 1/2) active neurons), the
    decomposition of :func:`gradient_change_bounds`, and nine one-sided tail bounds of probability
    γ/9 each (Hoeffding, Laurent–Massart, Bernstein, Gordon).

    Parameters
    ----------
    m : int
        Width, ≥ 1.
    d : int
        Input dimension, ≥ 2.
    C0 : float
        Lazy-regime constant, ≥ 0.
    gamma : float
        Failure probability, in (0, 1).

    Returns
    -------
    GradientNormBounds

    Examples
    --------
    >>> import lazylib as ll
    >>> b = ll.lemmas.gradient_norm_bounds(4000, 784, 1.0, 0.1)
    >>> 0 < b.lower < (784 / 2) ** 0.5 < b.upper
    True

    Notes
    -----
    Book: Lemma ``lem-gradient-norm`` (chapter 7).
    """
    m = _checks.positive_int("m", m)
    d = _checks.positive_int("d", d, minimum=2)
    C0 = _checks.number("C0", C0, minimum=0.0)
    gamma = _probability("gamma", gamma)
    L = math.log(9.0 / gamma)
    R = C0 / math.sqrt(m)
    D = d - 1
    spread = math.sqrt(L / (2.0 * m))
    init_lo = math.sqrt(max(0.0, 0.5 - spread) * max(0.0, D - 2.0 * math.sqrt(D * L)))
    init_hi = math.sqrt(min(1.0, 0.5 + spread) * (D + 2.0 * math.sqrt(D * L) + 2.0 * L) + 2.0 * L)
    phi_R = 0.5 * (1.0 + math.erf(R / math.sqrt(2.0)))
    deviation = C0 * min(1.0, phi_R + spread)
    p = math.erf(R / math.sqrt(2.0))
    n_plus = min(float(m), m * p + math.sqrt(2.0 * m * p * L) + 2.0 * L / 3.0)
    flip = math.sqrt(n_plus / m) * (math.sqrt(n_plus) * (1.0 + R) + math.sqrt(D) + math.sqrt(2.0 * L))
    return GradientNormBounds(
        lower=max(0.0, init_lo - deviation - flip),
        upper=init_hi + deviation + flip,
        initial_lower=init_lo,
        initial_upper=init_hi,
        deviation=deviation,
        flip=flip,
    )


class GradientNormSearch(NamedTuple):
    """Result of :func:`gradient_norm_search`.

    - ``norm`` (n,): ‖∇ₓf(x; W*)‖ at the best weights W* found, a point of the ball (float64);
    - ``certificate`` (n,): a proven bound on the other side, for ``mode="min"`` a lower bound on
      inf_W ‖∇ₓf(x; W)‖ and for ``mode="max"`` an upper bound on sup_W ‖∇ₓf(x; W)‖ (float64), so the
      true extreme lies between ``norm`` and ``certificate``;
    - ``weights`` (n, m, d) or None: W* for each input (float64), when asked for with
      ``return_weights=True``.
    """

    norm: torch.Tensor
    certificate: torch.Tensor
    weights: torch.Tensor | None


def _cap_response(u: torch.Tensor, xh: torch.Tensor, zeta: torch.Tensor, a: torch.Tensor, R: float):
    """For every neuron, the v in its cap {‖v‖ ≤ R, x̂ᵀv ≥ −ζ_s} minimising a_s⟨u, v⟩.

    The minimiser lies in span{x̂, e}, e = the unit part of u orthogonal to x̂: v = β x̂ + γ e.
    Returns β, γ (c, m), e (c, d), and u's components u·x̂ and ‖u − (u·x̂)x̂‖ (c, 1).
    """
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
    rho = (R * R - zeta.clamp(-R, R) ** 2).clamp_min(0.0).sqrt()
    beta = torch.where(free_ok, beta_free, -zeta)  # else: on the circle where the halfspace meets the sphere
    gam = torch.where(free_ok, gam_free, -a * rho)
    return beta, gam, e, ux, upn


def _best_vertex(u, xh, zeta, a, W0, alpha, R, on_ok, off_ok, on_sign):
    """The point of the achievable gradient set minimising ⟨u, g⟩ (on_sign=+1) or maximising it (−1).

    Each neuron independently picks "off" (contribution 0) or "on" with its best deviation in the cap.
    Returns the sum S (c, d) and the per-neuron choice (sig, β, γ, e) that builds the weights.
    """
    v = u * on_sign
    beta, gam, e, ux, upn = _cap_response(v, xh, zeta, a, R)
    value_on = alpha * a * (v @ W0.T + beta * ux + gam * upn)  # ⟨v, contribution when on⟩
    sig = on_ok & (~off_ok | (value_on < 0))
    sa = sig.to(u.dtype) * a
    S = alpha * (sa @ W0 + (sa * beta).sum(dim=1, keepdim=True) * xh + (sa * gam).sum(dim=1, keepdim=True) * e)
    return S, (sig, beta, gam, e)


def _realise(sig, beta, Gam, E, xh, zeta, a, W0, alpha, R, x_norm):
    """Actual weights from a per-neuron choice (on-neurons: v = β x̂ + Σ_j Γ_j E_j, with E ⊥ x̂), nudged
    strictly inside the on-caps, and the gradient they give. Returns g and the final (β, Γ)."""
    eps = 1e-6
    # on: move a fraction eps towards R·x̂ so the pre-activation is strictly positive; off: push down.
    beta_off = torch.where(zeta > 0, torch.full_like(zeta, -R), torch.zeros_like(zeta))
    beta_w = torch.where(sig, (1 - eps) * beta + eps * R, beta_off)
    Gam_w = torch.where(sig[..., None], (1 - eps) * Gam, torch.zeros_like(Gam))
    pre = x_norm * (zeta + beta_w)  # w_sᵀx for w_s = w_{s,0} + β x̂ + Σ Γ_j E_j
    act = (pre > 0).to(W0.dtype) * a
    g = alpha * (act @ W0 + (act * beta_w).sum(dim=1, keepdim=True) * xh
                 + torch.einsum("cm,cmt,ctd->cd", act, Gam_w, E))
    return g, beta_w, Gam_w


def _frank_wolfe(G, xh, zeta, a, W0, alpha, R, on_m, off_m, steps, theta):
    """Frank–Wolfe for min ‖g‖ over the hull of the achievable set, tracking g only; returns the last
    iterate, θ (the weight of "on" per neuron) and the best dual bound (a certified lower bound)."""
    lower = torch.zeros(G.shape[0], dtype=G.dtype, device=G.device)
    for _ in range(steps):
        S, choice = _best_vertex(G, xh, zeta, a, W0, alpha, R, on_m, off_m, 1.0)
        Gn = torch.linalg.vector_norm(G, dim=1)
        # weak duality: ⟨Ĝ, S⟩ = min over the hull of ⟨Ĝ, g⟩ ≤ ‖g‖ for every g of the hull
        bound = torch.where(Gn > 0, (G * S).sum(dim=1) / Gn.clamp_min(1e-300), torch.zeros_like(Gn))
        lower = torch.maximum(lower, bound.clamp_min(0.0))
        D = S - G
        gap = (G * (G - S)).sum(dim=1)
        tau = (gap / (D * D).sum(dim=1).clamp_min(1e-300)).clamp(0.0, 1.0)
        G = G + tau[:, None] * D
        theta = theta + tau[:, None] * (choice[0].to(G.dtype) - theta)
    return G, theta, lower


def _pattern_descent(G, xh, zeta, a, W0, alpha, R, pattern, steps):
    """Frank–Wolfe with the activation pattern fixed, keeping every iterate as actual weights.

    Each on-neuron's deviation is a convex combination of cap points, stored as v = β x̂ + Σ_j Γ_j E_j
    with E_j the directions met on the way (one per step, each ⊥ x̂); convexity keeps it in the cap.
    One extra slot is left for :func:`_greedy_toggles`.
    """
    c, m = zeta.shape
    on_m, off_m = pattern, torch.zeros_like(pattern)
    beta = torch.zeros(c, m, dtype=G.dtype, device=G.device)
    Gam = torch.zeros(c, m, steps + 1, dtype=G.dtype, device=G.device)
    E = torch.zeros(c, steps + 1, W0.shape[1], dtype=G.dtype, device=G.device)
    for j in range(steps):
        S, (_, b_new, g_new, e_new) = _best_vertex(G, xh, zeta, a, W0, alpha, R, on_m, off_m, 1.0)
        if j == 0:
            tau = torch.ones(c, dtype=G.dtype, device=G.device)
        else:
            D = S - G
            tau = ((G * (G - S)).sum(dim=1) / (D * D).sum(dim=1).clamp_min(1e-300)).clamp(0.0, 1.0)
        t = tau[:, None]
        beta = (1 - t) * beta + t * b_new
        Gam = Gam * (1 - t)[..., None]
        Gam[:, :, j] = t * g_new
        E[:, j] = e_new
        G = G + t * (S - G)
    return beta, Gam, E


def _greedy_toggles(u, xh, zeta, a, W0, alpha, R, on_ok, off_ok, sig, beta, Gam, E, steps):
    """Improve a pattern one neuron at a time (per input, the toggle that lowers ‖g‖ most), keeping the
    on-neurons' deviations; a neuron switched on gets its best response to u (stored in E's last slot)."""
    b_u, g_u, e_u, _, _ = _cap_response(u, xh, zeta, a, R)
    E = E.clone()
    E[:, -1] = e_u
    beta = torch.where(sig, beta, b_u)
    Gam = torch.where(sig[..., None], Gam, torch.zeros_like(Gam))  # an off-neuron's deviation: g_u·e_u only
    Gam[:, :, -1] = torch.where(sig, Gam[:, :, -1], g_u)
    WE = torch.einsum("md,ctd->cmt", W0, E)
    EE = E @ E.transpose(1, 2)
    # ‖c_s‖² = α²‖w_{s,0} + v_s‖², with v_s = β x̂ + Γ E and E ⊥ x̂
    vv = beta**2 + torch.einsum("cmt,ctu,cmu->cm", Gam, EE, Gam)
    sq = alpha**2 * ((W0 * W0).sum(dim=1) + vv + 2 * beta * zeta + 2 * (Gam * WE).sum(dim=2))
    for _ in range(steps):
        sa = sig.to(u.dtype) * a
        G = alpha * (sa @ W0 + (sa * beta).sum(dim=1, keepdim=True) * xh + torch.einsum("cm,cmt,ctd->cd", sa, Gam, E))
        EG = torch.einsum("ctd,cd->ct", E, G)
        Gc = alpha * a * (G @ W0.T + beta * (G * xh).sum(dim=1, keepdim=True) + torch.einsum("cmt,ct->cm", Gam, EG))
        sign = torch.where(sig, -1.0, 1.0).to(u.dtype)  # toggling removes an on-neuron or adds an off one
        allowed = torch.where(sig, off_ok, on_ok)
        change = torch.where(allowed, 2 * sign * Gc + sq, torch.full_like(Gc, math.inf))  # Δ‖g‖²
        best, idx = change.min(dim=1)
        go = best < -1e-12 * (G * G).sum(dim=1).clamp_min(1e-300)
        if not bool(go.any()):
            break
        rows = torch.nonzero(go).flatten()
        sig = sig.clone()
        sig[rows, idx[rows]] = ~sig[rows, idx[rows]]
    return sig, beta, Gam, E


def _minimise(g0, xh, zeta, a, W0, alpha, R, on_ok, off_ok, init, steps, flips, x_norm):
    """The min search: relaxation with a certificate, rounding to candidate patterns, descent with each
    pattern fixed, greedy toggles; returns the best actual point's gradient and coefficients."""
    n = g0.shape[0]
    G, theta, lower = _frank_wolfe(g0.clone(), xh, zeta, a, W0, alpha, R, on_ok, off_ok, steps, init.to(g0.dtype))
    if flips:  # θ rounded at three thresholds, and the initial pattern; all searched as one batch
        patterns = [(theta >= t) & on_ok | ~off_ok for t in (0.5, 0.1, 0.9)] + [init]
    else:
        patterns = [init]
    k = len(patterns)
    rep = lambda t: t.repeat(k, *([1] * (t.ndim - 1)))  # noqa: E731
    pattern = torch.cat(patterns, dim=0)
    xh_k, zeta_k, on_k, off_k, xn_k = rep(xh), rep(zeta), rep(on_ok), rep(off_ok), rep(x_norm)
    beta, Gam, E = _pattern_descent(rep(G), xh_k, zeta_k, a, W0, alpha, R, pattern, steps)
    sig = pattern
    if flips:
        sa = pattern.to(g0.dtype) * a
        u = alpha * (sa @ W0 + (sa * beta).sum(dim=1, keepdim=True) * xh_k + torch.einsum("cm,cmt,ctd->cd", sa, Gam, E))
        sig, beta, Gam, E = _greedy_toggles(u, xh_k, zeta_k, a, W0, alpha, R, on_k, off_k, pattern, beta, Gam, E, steps)
    g, beta_w, Gam_w = _realise(sig, beta, Gam, E, xh_k, zeta_k, a, W0, alpha, R, xn_k)
    pick = torch.linalg.vector_norm(g, dim=1).reshape(k, n).argmin(dim=0) * n + torch.arange(n, device=g0.device)
    return g[pick], beta_w[pick], Gam_w[pick], E[pick], lower


def gradient_norm_search(
    model: TwoLayerReLU,
    x: torch.Tensor,
    radius: float,
    *,
    mode: str = "min",
    steps: int = 100,
    restarts: int = 4,
    flips: bool = True,
    generator: torch.Generator | None = None,
    return_weights: bool = False,
) -> GradientNormSearch:
    r"""Search the lazy ball for the weights that shrink (or grow) ‖∇ₓf(x; W)‖ the most.

    The gradient is g(W) = m^{-1/2} Σ_s a_s 1[w_sᵀx > 0] w_s: each neuron contributes either nothing
    (off, possible when w_{s,0}ᵀx ≤ R‖x‖) or m^{-1/2} a_s (w_{s,0} + v_s) with v_s in its *cap*
    {‖v‖ ≤ R, (w_{s,0} + v)ᵀx > 0} (on). The set of achievable gradients is a sum of one such set per
    neuron, and the best point along any direction is found neuron by neuron in closed form.

    - ``mode="min"``: Frank–Wolfe on the convex hull of that sum (each neuron may be "partly on"),
      whose duality gap gives a **certified lower bound** on inf_W ‖g(W)‖; then each neuron is
      rounded to on or off and the on-neurons' deviations are re-optimised by Frank–Wolfe with the
      pattern fixed. Every Frank–Wolfe vertex is an actual point of the ball; the best is returned.
    - ``mode="max"``: the ascent u ← S(u)/‖S(u)‖, S(u) the best point along u, which increases
      ‖S(u)‖ at every step, from the direction of ∇f(x; W₀) and ``restarts`` random directions.
      The certificate is the closed-form upper bound ‖∇f(x; W₀)‖ + :func:`gradient_change_bounds`.
    - ``flips=False`` keeps every neuron's activation at x as at W₀ (only the deviation term can
      act; a projected-gradient search on W sees only this). The certificate is then about that
      restricted set.

    Everything is batched over the inputs (no loop over neurons) and computed in float64.

    Parameters
    ----------
    model : TwoLayerReLU
        Only W₀ and a are used; the ball is B_{2,∞}(W₀, radius).
    x : torch.Tensor, shape (n, d)
        Non-zero inputs.
    radius : float
        R ≥ 0.
    mode : {"min", "max"}
    steps : int
        Frank–Wolfe iterations per phase (min) or ascent steps per start (max), ≥ 1.
    restarts : int
        Random starting directions for ``mode="max"`` besides ∇f(x; W₀), ≥ 0.
    flips : bool
        Allow activations to change (the full ball) or not.
    generator : torch.Generator, optional
        CPU generator for the random restarts.
    return_weights : bool
        Also return the weights found, (n, m, d) (memory n·m·d).

    Returns
    -------
    GradientNormSearch
        ``norm`` (found), ``certificate`` (proven bound on the other side), ``weights``.

    Examples
    --------
    >>> import torch, lazylib as ll
    >>> net = ll.TwoLayerReLU(20, 300, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    >>> x = torch.nn.functional.normalize(torch.randn(2, 20, generator=torch.Generator().manual_seed(1), dtype=torch.float64), dim=1)
    >>> low = ll.lemmas.gradient_norm_search(net, x, ll.lazy_radius(300, 2.0), steps=50)
    >>> g0 = ll.input_gradient(net, x).norm(dim=1)
    >>> bool((low.certificate <= low.norm).all() and (low.norm < g0).all())
    True

    Notes
    -----
    Book: the worst case of Lemma ``lem-gradient-norm`` (chapter 7).
    """
    _checks.model("model", model)
    x = _checks.inputs("x", x, model)
    radius = _checks.number("radius", radius, minimum=0.0)
    mode = _checks.choice("mode", mode, ("min", "max"))
    steps = _checks.positive_int("steps", steps)
    restarts = _checks.positive_int("restarts", restarts, minimum=0)
    flips = _flag("flips", flips)
    _checks.generator("generator", generator)
    return_weights = _flag("return_weights", return_weights)
    _nonzero_rows("x", x)
    R = float(radius)
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
        g0 = alpha * ((init.to(torch.float64) * a) @ W0)
        g0_norm = torch.linalg.vector_norm(g0, dim=1)
        n = xd.shape[0]

        if mode == "min":
            g, beta_w, Gam_w, E, certificate = _minimise(g0, xh, zeta, a, W0, alpha, R, on_ok, off_ok, init,
                                                         steps, flips, x_norm)
        else:
            rng = torch.randn(restarts, n, xd.shape[1], generator=generator, dtype=torch.float64).to(xd.device)
            starts = torch.cat([g0[None], rng], dim=0)  # (r + 1, n, d)
            rr = starts.shape[0]
            rep = lambda t: t.repeat(rr, *([1] * (t.ndim - 1)))  # noqa: E731
            u = starts.reshape(rr * n, -1)
            xh_r, zeta_r, on_r, off_r = rep(xh), rep(zeta), rep(on_ok), rep(off_ok)
            best_norm = torch.full((rr * n,), -1.0, dtype=torch.float64, device=xd.device)
            best_dir = u.clone()
            for _ in range(steps):  # ‖S(u)‖ never decreases: ‖S(S(u))‖ ≥ ⟨Ŝ(u), S(S(u))⟩ ≥ ⟨Ŝ(u), S(u)⟩
                S, _ = _best_vertex(u, xh_r, zeta_r, a, W0, alpha, R, on_r, off_r, -1.0)
                Sn = torch.linalg.vector_norm(S, dim=1)
                better = Sn > best_norm
                best_norm = torch.where(better, Sn, best_norm)
                best_dir = torch.where(better[:, None], u, best_dir)
                u = S
            pick = best_norm.reshape(rr, n).argmax(dim=0)
            best_dir = best_dir.reshape(rr, n, -1)[pick, torch.arange(n, device=xd.device)]
            _, (sig, beta, gam, e) = _best_vertex(best_dir, xh, zeta, a, W0, alpha, R, on_ok, off_ok, -1.0)
            E = e[:, None, :]
            g, beta_w, Gam_w = _realise(sig, beta, gam[..., None], E, xh, zeta, a, W0, alpha, R, x_norm)
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

    - ``count`` (tensor of shape (n,)): E|S(u)| = m·θ/π, the expected number of neurons that switch;
    - ``square_norm`` (tensor of shape (n,)): E‖∇f(x + u) − ∇f(x)‖² = d·θ/π.
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
    each norm is the square root of the largest eigenvalue of the smaller Gram matrix (float64).

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
        return _masked_operator_norm(model.W.detach(), switched) / _math.sqrt(model.m)


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
    radius: float | _torch.Tensor,
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
    radius : float or torch.Tensor of shape (n,)
        r ≥ 0, one for all inputs or one per input (each row is then searched exactly as with its own
        radius alone).
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
    n, d = x.shape
    if isinstance(radius, _torch.Tensor) and radius.ndim == 1:
        if radius.device != x.device:  # before the values are read
            raise ValueError(f"`radius` must be on the device of x ({x.device.type}); got a tensor on {radius.device.type}.")
        radii = _ck.tensor("radius", radius, ndim=1, shape=(n,), shape_text=f"({n},)").to(x.dtype)
        if bool((radii < 0).any()):
            raise ValueError("`radius` must be ≥ 0 in every entry; got negative entries.")
    else:
        radii = _torch.full((n,), _ck.number("radius", radius, minimum=0.0), dtype=x.dtype, device=x.device)
    restarts = _ck.positive_int("restarts", restarts, minimum=2)
    steps = _ck.positive_int("steps", steps)
    _ck.generator("generator", generator)
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
        rr = radii.repeat_interleave(restarts)[:, None]  # the radius of every (input, start) row
        u = rr * _torch.stack(starts, dim=1).reshape(n * restarts, d)
        z0r = z0.repeat_interleave(restarts, dim=0)
        a0r = active0.repeat_interleave(restarts, dim=0)
        wnorm = _torch.linalg.vector_norm(W, dim=1)

        def exact(z: _torch.Tensor) -> _torch.Tensor:  # z: pre-activations at x + u
            change = (z > 0).to(x.dtype) - a0r
            return _torch.linalg.vector_norm((change * coef) @ W, dim=1)

        best_u, best = u.clone(), exact(z0r + u @ W.T)
    if not bool((radii > 0).any()):
        return x.new_zeros(n, d), best.reshape(n, restarts)[:, 0].clone()
    moving = rr > 0
    taus = _torch.logspace(_math.log10(0.3), _math.log10(0.01), steps, dtype=_torch.float64).tolist()
    sizes = _torch.linspace(0.5, 0.05, steps, dtype=_torch.float64).tolist()
    tiny = _torch.finfo(x.dtype).tiny
    for k, (tau, size) in enumerate(zip(taus, sizes)):
        u = u.detach().requires_grad_(True)
        with _torch.enable_grad():
            z = z0r + u @ W.T
            soft = _torch.sigmoid(z / (tau * rr * wnorm).clamp_min(tiny))
            diff = ((soft - a0r) * coef) @ W
            objective = (diff * diff).sum()
            (grad,) = _torch.autograd.grad(objective, u)
        with _torch.no_grad():
            if k > 0:  # the exact value at the current point (the starts were evaluated above)
                value = exact(z.detach())
                better = value > best
                best = _torch.where(better, value, best)
                best_u = _torch.where(better[:, None], u.detach(), best_u)
            step = _torch.where(moving, _torch.nn.functional.normalize(grad, dim=1), _torch.zeros_like(grad))
            u = u.detach() + size * rr * step
            norms = _torch.linalg.vector_norm(u, dim=1, keepdim=True)
            u = u * _torch.clamp(rr / norms.clamp_min(tiny), max=1.0)
    with _torch.no_grad():
        value = exact(z0r + u @ W.T)
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
    keep = mask.gather(1, order).to(_torch.float64)
    rows = W[order].to(_torch.float64) * keep[:, :, None]
    # ‖A‖_op² is the largest eigenvalue of the smaller Gram matrix, A Aᵀ (k × k) or Aᵀ A (d × d):
    # a symmetric eigenproblem, much cheaper than an SVD of A.
    gram = rows @ rows.transpose(1, 2) if k <= W.shape[1] else rows.transpose(1, 2) @ rows
    top = _torch.linalg.eigvalsh(gram)[:, -1].clamp_min(0.0)
    return top.sqrt().to(W.dtype)


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


__all__ += ["naive_difference_bound"]


def naive_difference_bound(model: _TwoLayerReLU, x: _torch.Tensor, radius: float) -> _torch.Tensor:
    r"""The bound on sup_{‖u‖ ≤ r} ‖∇f(x + u) − ∇f(x)‖ that ignores which switch patterns are reachable.

    Every neuron that some u with ‖u‖ ≤ r can switch lies in T_r(x) = {s : |w_sᵀx| ≤ r‖w_s‖}
    (Proposition ``prop-difference-formula``). Letting every subset of T_r switch, with every sign,
    gives the deterministic bound

    .. math:: \sup_{\|u\| \le r} \|\nabla f(x+u) - \nabla f(x)\| \le \frac{1}{\sqrt m}\,
              \sqrt{|T_r(x)|}\;\|W_{T_r(x)}\|_{\mathrm{op}},

    which grows like √m for r of order 1/√d: the reason the uniform bound needs a counting argument.

    Parameters
    ----------
    model : TwoLayerReLU
    x : torch.Tensor, shape (n, d)
    radius : float
        r ≥ 0.

    Returns
    -------
    torch.Tensor, shape (n,)

    Examples
    --------
    >>> import torch, lazylib as ll
    >>> net = ll.TwoLayerReLU(4, 30, generator=torch.Generator().manual_seed(0))
    >>> ll.lemmas.naive_difference_bound(net, torch.ones(2, 4), 0.0).tolist()
    [0.0, 0.0]

    Notes
    -----
    Book: chapter 8, the section on the uniform bound.
    """
    _ck.model("model", model)
    x = _ck.inputs("x", x, model)
    radius = _ck.number("radius", radius, minimum=0.0)
    with _torch.no_grad():
        W = model.W.detach()
        near = (x @ W.T).abs() <= radius * _torch.linalg.vector_norm(W, dim=1)[None, :]
        count = near.sum(dim=1).to(x.dtype)
        return count.sqrt() * _masked_operator_norm(W, near) / _math.sqrt(model.m)


class DifferenceWindow(_NamedTuple):
    """Widths for which the uniform difference bound stays below half the typical gradient norm.

    Fields ``log10_low`` and ``log10_high`` (floats): log₁₀ of the smallest and largest width m in the
    window; both NaN when the window is empty.
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
