"""The explicit proof chain of the main theorem: Lemma C's uniform bound and the theorem's constants.

Lemma C bounds ‖∇f(x + u; W) − ∇f(x; W)‖ with probability 1 − γ for every W in the lazy ball and every
‖u‖ ≤ r, with explicit constants (:func:`lemma_c_bound`); with Lemma A
(:func:`lazylib.lemmas.value_bound_sharp`) and Lemma B (:func:`lazylib.lemmas.gradient_norm_bounds`) it
gives the book's explicit theorem (:func:`theorem_constants`), whose widths :func:`theorem_window` scans.

Every function here is a closed form in (m, d, C₀, r, γ): nothing is random. m ≥ 1 is a width and d ≥ 1
an input dimension (d ≥ 2 for the theorem, whose Lemma B needs it), γ ∈ (0, 1) a failure probability and
C₀ ≥ 0 the lazy-regime constant.

Book: Lemma ``lem-gradient-difference`` (chapter 8), Theorem ``thm-explicit`` (chapter 9) and the
proof map.
"""

from __future__ import annotations

import math
from typing import NamedTuple

from . import _checks
from .lemmas import gradient_norm_bounds, value_bound_sharp

__all__ = ["LemmaCBound", "lemma_c_bound", "subset_operator_norm", "TheoremConstants", "theorem_constants",
    "TheoremWindow", "theorem_window"]

_KAPPA = 0.25  # mesh of the nets in units of the perturbation they must resolve (see lemma_c_bound)


def _bernstein_count(mean: float, log_count: float) -> float:
    """Level that a sum of independent indicators with mean ≤ ``mean`` exceeds with probability
    ≤ exp(−log_count): mean + √(2·mean·Λ) + 2Λ/3 (Bernstein's inequality)."""
    return mean + math.sqrt(2.0 * mean) * math.sqrt(log_count) + 2.0 * log_count / 3.0


def subset_operator_norm(k: int, m: int, d: int, gamma: float) -> float:
    """A bound √k + √d + √(2(k log(em/k) + log(1/γ))) on ‖W_{0,N}‖_op for every set N of k of the m rows at
    once, with probability ≥ 1 − γ (Gordon, Gaussian concentration, a union over the sets); 0 for k = 0.

    The set size k is between 0 and m.

    Examples
    --------
    >>> import lazylib as ll
    >>> ll.proof_chain.subset_operator_norm(0, 100, 10, 0.1)
    0.0
    >>> ll.proof_chain.subset_operator_norm(50, 100, 10, 0.1) > 50 ** 0.5 + 10 ** 0.5
    True

    Book: the proof of Lemma ``lem-gradient-difference`` (chapter 8).
    """
    m = _checks.positive_int("m", m)
    d = _checks.positive_int("d", d)
    k = _checks.positive_int("k", k, minimum=0)
    if k > m:
        raise ValueError(f"`k` must be an integer between 0 and m = {m}; got {k}.")
    gamma = _checks.probability("gamma", gamma)
    return _op_norm(k, float(m), d, gamma)


def _op_norm(k: float, m: float, d: int, gamma: float) -> float:
    """:func:`subset_operator_norm` for a float width, unchecked."""
    if k <= 0:
        return 0.0
    return (math.sqrt(k) + math.sqrt(d)
            + math.sqrt(2.0 * (k * math.log(math.e * m / k) + math.log(1.0 / gamma))))


class LemmaCBound(NamedTuple):
    """Lemma C's bound and its ingredients (all deterministic functions of m, d, C₀, r, γ).

    - ``total``: Γ, the bound on ‖∇f(x + u; W) − ∇f(x; W)‖ for all W in the ball and ‖u‖ ≤ r;
    - ``initial``: K·op(k*)/√m, the difference at W₀ (term I of the proof);
    - ``transfer``: 2·√n*·op(n*)/√m, the neurons whose activation the ball can change (term II);
    - ``deviation``: C₀·min(m, k* + 2n*)/m, the weights' own movement (term III);
    - ``K``: the union-bound factor over activation patterns and a 1/2-net of directions;
    - ``switching``: k*, the most neurons any ‖u‖ ≤ r switches at W₀;
    - ``switchable``: n*, the most neurons in the slab |w_{s,0}ᵀŷ| ≤ R of any direction ŷ;
    - ``row_norm``: ω, the bound on every ‖w_{s,0}‖;
    - ``op_switching``, ``op_switchable``: op(k*) and op(n*), the operator-norm bounds of those rows.
    """

    total: float
    initial: float
    transfer: float
    deviation: float
    K: float
    switching: int
    switchable: int
    row_norm: float
    op_switching: float
    op_switchable: float


def _lemma_c(m: float, d: int, C0: float, r: float, gamma: float) -> LemmaCBound:
    """Lemma C's bound for a (possibly astronomically large) width m given as a float."""
    g5 = gamma / 5.0
    kappa = _KAPPA
    R = C0 / math.sqrt(m)
    # (E1) every row norm: Laurent–Massart for χ²_d and a union over the m rows.
    L_row = math.log(m / g5)
    omega = math.sqrt(d + 2.0 * math.sqrt(d * L_row) + 2.0 * L_row)
    # (E2) switching neurons at W0: an ε-net of the ball of radius r, ε = κr/ω, and Bernstein per net point.
    p_switch = min(1.0, r * (2.0 / math.pi + kappa * math.sqrt(2.0 / math.pi)) / (1.0 - r))
    log_net_u = d * math.log1p(2.0 * omega / kappa) + math.log(1.0 / g5)
    k_star = min(m, math.floor(_bernstein_count(m * p_switch, log_net_u)))
    # (E3) switchable neurons at any y = x + u: an ε'-net of the sphere, ε' = κR/ω.
    if R > 0:
        p_slab = math.erf((1.0 + kappa) * R / math.sqrt(2.0))
        log_net_y = d * math.log1p(2.0 * omega / (kappa * R)) + math.log(1.0 / g5)
        n_star = min(m, math.floor(_bernstein_count(m * p_slab, log_net_y)))
    else:
        n_star = 0
    # (E4) operator norms of every set of k* and of n* rows (γ/10 each).
    op_k = _op_norm(k_star, m, d, g5 / 2.0)
    op_n = _op_norm(n_star, m, d, g5 / 2.0)
    # (E5) Hoeffding over the output signs, for every activation pattern and every point of a 1/2-net.
    log_patterns = m * math.log(2.0) if m <= d + 1 else (d + 1) * (1.0 + math.log(m / (d + 1)))
    K = 2.0 * math.sqrt(2.0 * (log_patterns + d * math.log(5.0) + math.log(1.0 / g5)))
    sm = math.sqrt(m)
    initial = K * op_k / sm
    transfer = 2.0 * math.sqrt(n_star) * op_n / sm
    deviation = C0 * min(m, k_star + 2 * n_star) / m
    total = initial + transfer + deviation
    return LemmaCBound(total, initial, transfer, deviation, K, int(k_star), int(n_star), omega, op_k, op_n)


def lemma_c_bound(m: int, d: int, C0: float, r: float, gamma: float) -> LemmaCBound:
    r"""Lemma C: the bound Γ on ‖∇ₓf(x + u; W) − ∇ₓf(x; W)‖ for every W in the lazy ball and every ‖u‖ ≤ r,
    at ‖x‖ = 1, with probability at least 1 − γ, with the constants of the book's statement.

    With R = C₀/√m and 0 ≤ r < 1,

    .. math:: \Gamma = \frac{K\,\mathrm{op}(k^\star) + 2\sqrt{n^\star}\,\mathrm{op}(n^\star)}{\sqrt m}
              + \frac{C_0\,\min(m,\ k^\star + 2n^\star)}{m},

    where, with γ' = γ/5 and κ = 1/4:

    - ω = (d + 2√(dL) + 2L)^{1/2}, L = log(m/γ'), bounds every ‖w_{s,0}‖;
    - k* = ⌊μ + √(2μΛ) + 2Λ/3⌋ ∧ m with μ = m·r(2/π + κ√(2/π))/(1 − r) and
      Λ = d·log(1 + 2ω/κ) + log(1/γ'): no ‖u‖ ≤ r switches more than k* neurons at W₀;
    - n* = ⌊μ' + √(2μ'Λ') + 2Λ'/3⌋ ∧ m with μ' = m·erf((1 + κ)R/√2) and
      Λ' = d·log(1 + 2ω/(κR)) + log(1/γ'): no hyperplane's slab |w_{s,0}ᵀŷ| ≤ R holds more than n*;
    - op(k) = √k + √d + √(2(k log(em/k) + log(2/γ'))) (:func:`subset_operator_norm`);
    - K = 2√(2((d + 1)·log(em/(d + 1)) + d·log 5 + log(1/γ'))) (m log 2 in place of the pattern
      term when m ≤ d + 1).

    Examples
    --------
    >>> import lazylib as ll
    >>> b = ll.proof_chain.lemma_c_bound(10**6, 1000, 10.0, 0.1, 0.1)
    >>> round(b.total, 6) == round(b.initial + b.transfer + b.deviation, 6)
    True
    >>> b.switching < 10**6 and b.switchable < 10**6
    True

    Book: Lemma ``lem-gradient-difference`` (chapter 8).
    """
    m = _checks.positive_int("m", m)
    d = _checks.positive_int("d", d)
    C0 = _checks.number("C0", C0, minimum=0.0)
    r = _checks.number("r", r, minimum=0.0)
    if r >= 1:
        raise ValueError(f"`r` must be a number in [0, 1); got {r!r}.")
    gamma = _checks.probability("gamma", gamma)
    return _lemma_c(float(m), d, C0, r, gamma)


class TheoremConstants(NamedTuple):
    """The constants of the book's explicit theorem at one (m, d, C₀, γ), each lemma at γ/3.

    ``A`` (Lemma A's bound on |f|), ``B`` (Lemma B's lower bound on ‖∇f‖), ``C2`` = 2A,
    ``r`` = C₂/B (the longest step, the radius Lemma C is needed at), ``c`` = r√d, ``difference``
    (Lemma C's Γ at radius r), ``holds`` (B > 0, r < 1 and Γ < B/2: the theorem's conclusion is proved
    at these sizes) and ``failing`` (the first link of the chain that fails, "" when it holds).
    """

    A: float
    B: float
    C2: float
    r: float
    c: float
    difference: float
    holds: bool
    failing: str


def _chain(m: int, d: int, C0: float, gamma: float) -> TheoremConstants:
    g3 = gamma / 3.0
    A = value_bound_sharp(g3, C0, m)
    B = gradient_norm_bounds(m, d, C0, g3).lower
    C2 = 2.0 * A
    r = C2 / B if B > 0 else math.inf
    c = r * math.sqrt(d)
    if B <= 0 or r >= 1:
        failing = "Lemma B's lower bound is 0" if B <= 0 else "the radius 2A/B is at least 1"
        return TheoremConstants(A, B, C2, r, c, float("nan"), False, failing)
    gamma_c = _lemma_c(float(m), d, C0, r, g3).total
    holds = gamma_c < B / 2.0
    return TheoremConstants(A, B, C2, r, c, gamma_c, holds, "" if holds else "Lemma C's bound exceeds B/2")


def theorem_constants(m: int, d: int, C0: float, gamma: float) -> TheoremConstants:
    """The book's explicit theorem at given sizes: A, B, C₂ = 2A, r = 2A/B, Lemma C's Γ(r), whether Γ < B/2.

    A is :func:`lazylib.lemmas.value_bound_sharp`, B the lower end of
    :func:`lazylib.lemmas.gradient_norm_bounds` and Γ :func:`lemma_c_bound`, each at γ/3; d ≥ 2. When
    B > 0, r < 1 and Γ(r) < B/2, Theorem ``thm-explicit`` states: with probability at least 1 − γ, the
    step of length C₂/‖∇f(x; W)‖ against the sign of f flips f(x; W) for every W of the lazy ball.

    Examples
    --------
    >>> import lazylib as ll
    >>> ll.proof_chain.theorem_constants(1000, 784, 10.0, 0.1).holds  # MNIST's sizes: not proved
    False

    Book: Theorem ``thm-explicit`` (chapter 9) and the proof map.
    """
    m = _checks.positive_int("m", m)
    d = _checks.positive_int("d", d, minimum=2)
    C0 = _checks.number("C0", C0, minimum=0.0)
    gamma = _checks.probability("gamma", gamma)
    return _chain(m, d, C0, gamma)


class TheoremWindow(NamedTuple):
    """The widths at which the explicit theorem is proved, for one d.

    ``log10_low`` and ``log10_high`` (log₁₀ of the smallest and largest width of the scan where
    it holds; NaN when none), ``contiguous`` (the widths where it holds form one interval of the
    scan) and ``capped`` (it still holds at the scan's largest width, 10^``log10_max``).
    """

    log10_low: float
    log10_high: float
    contiguous: bool
    capped: bool


def theorem_window(d: int, C0: float, gamma: float, *, log10_max: float = 300.0,
                   step: float = 0.05) -> TheoremWindow:
    """Scan the widths m = 10^k (k from log₁₀ d to ``log10_max`` in steps ``step``) for the explicit theorem.

    Returns the smallest and largest width of the scan at which :func:`theorem_constants` holds. The
    largest log₁₀ m scanned, ``log10_max``, is at most 300 (so that m is a float), the grid step ``step``
    > 0, and d ≥ 2.

    Examples
    --------
    >>> import lazylib as ll, math
    >>> math.isnan(ll.proof_chain.theorem_window(784, 10.0, 0.1).log10_low)  # empty at MNIST's d
    True

    Book: chapter 8 (the window of the argument) and the proof map.
    """
    d = _checks.positive_int("d", d, minimum=2)
    C0 = _checks.number("C0", C0, minimum=0.0)
    gamma = _checks.probability("gamma", gamma)
    log10_max = _checks.number("log10_max", log10_max, minimum=0.0)
    if log10_max > 300:
        raise ValueError(f"`log10_max` must be a number in [0, 300]; got {log10_max!r}.")
    step = _checks.number("step", step, minimum=0.0, strict=True)
    start = math.log10(d)
    n = int(math.floor((log10_max - start) / step)) + 1 if log10_max >= start else 0
    ks = [start + i * step for i in range(n)]
    holds = [_chain(int(round(10.0 ** k)), d, C0, gamma).holds for k in ks]
    if not any(holds):
        return TheoremWindow(float("nan"), float("nan"), True, False)
    first, last = holds.index(True), n - 1 - holds[::-1].index(True)
    return TheoremWindow(ks[first], ks[last], all(holds[first:last + 1]), last == n - 1)
