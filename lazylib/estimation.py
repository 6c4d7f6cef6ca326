"""Estimating an accuracy from a finite test set: confidence intervals for a binomial proportion.

A (robust) accuracy measured on n independent test points is k/n with k ~ Binomial(n, p), where p is
the accuracy on the whole data distribution. Three intervals for p:

- **Clopper–Pearson** (exact): the p for which k is not in either α/2 tail. Its coverage is at least
  1 − α for *every* p (conservative); the bounds are quantiles of Beta distributions.
- **Wilson** (score): inverts the normal approximation of the score test; shorter, with coverage
  close to 1 − α on average over p but dipping below it at some p.
- **Hoeffding**: k/n ± √(log(2/α)/(2n)); distribution-free and simple, and the widest of the three.

:func:`interval_coverage` computes the exact coverage of each, by summing the binomial law.
:func:`kolmogorov_distance` and :func:`dkw_radius` compare a sample with a normal law, with the
Dvoretzky–Kiefer–Wolfowitz bound on the sampling error of an empirical distribution function.

Conventions: ``n`` is the number of trials (test points, or the sample size), ≥ 1; ``confidence`` is
1 − α, in (0, 1); ``method`` is one of ``METHODS``, the three intervals above (formulas in
:func:`binomial_interval`). Given one count or proportion a function returns floats; given a 1-D
sequence or tensor of them, float64 CPU tensors of its length.

Book: chapter 2, section "Estimating robust error from a finite sample" (label
``prop-clopper-pearson``).
"""

from __future__ import annotations

import math
from numbers import Integral
from typing import Any, Callable, Sequence

import torch

from . import _checks

__all__ = ["binomial_interval", "interval_coverage", "METHODS", "kolmogorov_distance", "dkw_radius"]

METHODS = ("clopper-pearson", "wilson", "hoeffding")


# ----------------------------------------------------------------------------------------------
# The regularised incomplete beta function I_x(a, b) and its inverse in x (float64, batched)


def _betacf(a: torch.Tensor, b: torch.Tensor, x: torch.Tensor, iters: int = 300) -> torch.Tensor:
    """Continued fraction of I_x(a, b) (modified Lentz), valid for x < (a + 1)/(a + b + 2)."""
    tiny = 1e-300

    def away_from_0(v: torch.Tensor) -> torch.Tensor:
        return torch.where(v.abs() < tiny, torch.full_like(v, tiny), v)

    def lentz(aa: torch.Tensor, dd: torch.Tensor, c: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return 1.0 / away_from_0(1.0 + aa * dd), away_from_0(1.0 + aa / c)

    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c = torch.ones_like(x)
    dd = 1.0 / away_from_0(1.0 - qab * x / qap)
    h = dd.clone()
    for k in range(1, iters + 1):
        m2 = 2 * k
        dd, c = lentz(k * (b - k) * x / ((qam + m2) * (a + m2)), dd, c)
        h = h * dd * c
        dd, c = lentz(-(a + k) * (qab + k) * x / ((a + m2) * (qap + m2)), dd, c)
        delta = dd * c
        h = h * delta
        if bool(((delta - 1.0).abs() < 1e-15).all()):
            break
    return h


def _betainc(a: Any, b: Any, x: Any) -> torch.Tensor:
    """Regularised incomplete beta function I_x(a, b) for a, b > 0 and x in [0, 1] (broadcast, float64).

    I_x(a, b) = P(B ≤ x) for B ~ Beta(a, b). Continued fraction, with the symmetry
    I_x(a, b) = 1 − I_{1−x}(b, a) where it converges faster.
    """
    a, b, x = torch.broadcast_tensors(*(torch.as_tensor(v, dtype=torch.float64) for v in (a, b, x)))
    inner = (x > 0) & (x < 1)
    xs = torch.where(inner, x, torch.full_like(x, 0.5))
    log_front = (torch.lgamma(a + b) - torch.lgamma(a) - torch.lgamma(b)
                 + a * torch.log(xs) + b * torch.log1p(-xs))
    front = torch.exp(log_front)
    direct = xs < (a + 1.0) / (a + b + 2.0)
    # One continued fraction per entry, evaluated in whichever orientation converges.
    aa, bb, xx = torch.where(direct, a, b), torch.where(direct, b, a), torch.where(direct, xs, 1.0 - xs)
    cf = _betacf(aa, bb, xx)
    value = torch.where(direct, front * cf / a, 1.0 - front * cf / b).clamp(0.0, 1.0)
    return torch.where(inner, value, torch.where(x >= 1, torch.ones_like(x), torch.zeros_like(x)))


def _betainc_inverse(a: Any, b: Any, q: Any, iters: int = 64) -> torch.Tensor:
    """The x in [0, 1] with I_x(a, b) = q, by bisection (I_x is increasing in x); broadcast, float64."""
    a, b, q = torch.broadcast_tensors(*(torch.as_tensor(v, dtype=torch.float64) for v in (a, b, q)))
    lo, hi = torch.zeros_like(q), torch.ones_like(q)
    for _ in range(iters):
        mid = 0.5 * (lo + hi)
        below = _betainc(a, b, mid) < q
        lo, hi = torch.where(below, mid, lo), torch.where(below, hi, mid)
    return 0.5 * (lo + hi)


# ----------------------------------------------------------------------------------------------
# Validation


def _counts(value: Any, n: int) -> tuple[torch.Tensor, bool]:
    """Success counts 0 ≤ k ≤ n: an int, a 1-D sequence of ints or a 1-D integer tensor."""
    expected = f"an integer or a 1-D sequence of integers between 0 and n = {n}"
    if isinstance(value, torch.Tensor):
        if value.ndim > 1:
            raise ValueError(f"`successes` must be {expected}; got shape {tuple(value.shape)}.")
        if value.dtype.is_floating_point or value.dtype.is_complex or value.dtype == torch.bool:
            raise TypeError(f"`successes` must be {expected}; got dtype {value.dtype}.")
        scalar, vals = value.ndim == 0, value.detach().reshape(-1).cpu().tolist()
    elif isinstance(value, Integral) and not isinstance(value, bool):
        scalar, vals = True, [int(value)]
    elif isinstance(value, Sequence) and not isinstance(value, str):
        scalar, vals = False, list(value)
        for v in vals:
            if isinstance(v, bool) or not isinstance(v, Integral):
                raise TypeError(f"`successes` must be {expected}; got an entry {v!r}.")
    else:
        raise TypeError(f"`successes` must be {expected}; got {type(value).__name__}.")
    if not vals:
        raise ValueError(f"`successes` must be {expected}; got an empty sequence.")
    bad = [v for v in vals if not 0 <= v <= n]
    if bad:
        raise ValueError(f"`successes` must be {expected}; got {bad[0]!r}.")
    return torch.tensor(vals, dtype=torch.float64), scalar


def _proportions(value: Any) -> tuple[torch.Tensor, bool]:
    expected = "a number in [0, 1] or a 1-D sequence of them"
    if isinstance(value, torch.Tensor):
        if value.ndim > 1 or value.dtype.is_complex or value.dtype == torch.bool:
            raise TypeError(f"`p` must be {expected}; got a tensor of shape {tuple(value.shape)}, dtype {value.dtype}.")
        scalar, vals = value.ndim == 0, value.detach().reshape(-1).cpu().tolist()
    elif isinstance(value, Sequence) and not isinstance(value, str):
        scalar, vals = False, list(value)
    else:
        scalar, vals = True, [value]
    if not vals:
        raise ValueError(f"`p` must be {expected}; got an empty sequence.")
    out = []
    for v in vals:
        v = _checks.number("p", v, minimum=0.0)
        if v > 1.0:
            raise ValueError(f"`p` must be {expected}; got {v!r}.")
        out.append(v)
    return torch.tensor(out, dtype=torch.float64), scalar


# ----------------------------------------------------------------------------------------------
# Public functions


def _interval(k: torch.Tensor, n: int, conf: float, method: str) -> tuple[torch.Tensor, torch.Tensor]:
    alpha = 1.0 - conf
    phat = k / n
    if method == "clopper-pearson":
        low = torch.where(k > 0, _betainc_inverse(k.clamp_min(1), n - k + 1, alpha / 2), torch.zeros_like(k))
        high = torch.where(k < n, _betainc_inverse(k + 1, (n - k).clamp_min(1), 1 - alpha / 2), torch.ones_like(k))
    elif method == "wilson":
        z = float(torch.special.ndtri(torch.tensor(1 - alpha / 2, dtype=torch.float64)))
        denom = 1 + z * z / n
        centre = (phat + z * z / (2 * n)) / denom
        half = z / denom * torch.sqrt(phat * (1 - phat) / n + z * z / (4 * n * n))
        low, high = (centre - half).clamp_min(0.0), (centre + half).clamp_max(1.0)
        # At k = 0 and k = n the ends are exactly 0 and 1 in exact arithmetic; rounding must not move them.
        low = torch.where(k == 0, torch.zeros_like(low), low)
        high = torch.where(k == n, torch.ones_like(high), high)
    else:  # hoeffding
        half = math.sqrt(math.log(2 / alpha) / (2 * n))
        low, high = (phat - half).clamp_min(0.0), (phat + half).clamp_max(1.0)
    return low, high


def binomial_interval(
    successes: int | Sequence[int] | torch.Tensor, n: int, *, confidence: float = 0.95,
    method: str = "clopper-pearson",
) -> tuple[float, float] | tuple[torch.Tensor, torch.Tensor]:
    r"""Confidence interval for a proportion p from k ~ Binomial(n, p) successes.

    Parameters
    ----------
    successes : int, 1-D sequence of int or 1-D integer tensor
        Number(s) of successes k, each between 0 and n (for an accuracy: the correctly classified,
        or robust, test points).
    method : {"clopper-pearson", "wilson", "hoeffding"}
        ``"clopper-pearson"``: [B⁻¹(α/2; k, n−k+1), B⁻¹(1−α/2; k+1, n−k)] with B⁻¹ the Beta quantile
        (0 and 1 at the ends k = 0 and k = n); coverage ≥ 1 − α for every p. ``"wilson"``: the score
        interval (p̂ + z²/2n ± z √(p̂(1−p̂)/n + z²/4n²)) / (1 + z²/n), z the 1 − α/2 normal quantile.
        ``"hoeffding"``: p̂ ± √(log(2/α)/(2n)), clipped to [0, 1].

    Returns
    -------
    (low, high)
        The ends of the interval(s).

    Examples
    --------
    >>> import lazylib as ll
    >>> low, high = ll.binomial_interval(0, 200)   # no errors seen in 200 trials
    >>> low, round(high, 4)
    (0.0, 0.0183)
    >>> [round(v, 3) for v in ll.binomial_interval(150, 200, method="wilson")]
    [0.686, 0.805]

    Book: Proposition ``prop-clopper-pearson`` (chapter 2).
    """
    n = _checks.positive_int("n", n)
    k, scalar = _counts(successes, n)
    conf = _checks.probability("confidence", confidence)
    method = _checks.choice("method", method, METHODS)
    low, high = _interval(k, n, conf, method)
    if scalar:
        return float(low[0]), float(high[0])
    return low, high


def interval_coverage(n: int, p: float | Sequence[float] | torch.Tensor, *, confidence: float = 0.95,
                      method: str = "clopper-pearson") -> float | torch.Tensor:
    r"""Exact coverage probability P_p(low(K) ≤ p ≤ high(K)) of a binomial interval, K ~ Binomial(n, p).

    Computed by summing the binomial probabilities of the k whose interval contains p (no simulation).

    Parameters
    ----------
    p : float or 1-D sequence of floats
        True proportion(s) in [0, 1].

    Examples
    --------
    >>> import lazylib as ll
    >>> ll.interval_coverage(200, 0.9) >= 0.95          # Clopper–Pearson never under-covers
    True
    >>> round(ll.interval_coverage(200, 0.9, method="wilson"), 3)
    0.956

    Book: the coverage check after Proposition ``prop-clopper-pearson`` (chapter 2).
    """
    n = _checks.positive_int("n", n)
    ps, scalar = _proportions(p)
    conf = _checks.probability("confidence", confidence)
    method = _checks.choice("method", method, METHODS)
    k = torch.arange(n + 1, dtype=torch.float64)
    low, high = _interval(k, n, conf, method)
    # log of the binomial probabilities, with 0·log 0 = 0 at p ∈ {0, 1}
    log_choose = torch.lgamma(torch.tensor(n + 1.0, dtype=torch.float64)) - torch.lgamma(k + 1) - torch.lgamma(n - k + 1)
    P = ps[:, None]
    log_p = torch.where(k[None] > 0, k[None] * torch.log(P.clamp_min(1e-300)), torch.zeros_like(P * k))
    log_q = torch.where(k[None] < n, (n - k[None]) * torch.log1p(-P.clamp_max(1 - 1e-16)), torch.zeros_like(P * k))
    pmf = torch.exp(log_choose[None] + log_p + log_q)
    pmf = torch.where(((P == 0) & (k[None] > 0)) | ((P == 1) & (k[None] < n)), torch.zeros_like(pmf), pmf)
    covered = (low[None] <= P) & (P <= high[None])
    result = (pmf * covered).sum(dim=1).clamp(0.0, 1.0)
    return float(result[0]) if scalar else result


def kolmogorov_distance(
    samples: torch.Tensor, *, std: float = 1.0, cdf: Callable[[torch.Tensor], torch.Tensor] | None = None
) -> float:
    r"""sup_t |F_n(t) − F(t)|: the Kolmogorov distance between a sample's empirical CDF and a law F.

    By default F is the CDF of N(0, σ²), Φ(t/σ).

    Parameters
    ----------
    samples : torch.Tensor, shape (n,)
        Finite values, n ≥ 1.
    std : float
        σ > 0 of the default normal law.
    cdf : callable, optional
        Another continuous law: maps a float64 tensor of points to the CDF's values there (for example
        ``functools.partial(ll.random_linear_distance_cdf, d=50)``). ``std`` is then ignored.

    Returns
    -------
    float
        Computed exactly from the sorted sample (the supremum is attained at a sample point, from
        one side or the other).

    Examples
    --------
    >>> import torch, lazylib as ll
    >>> ll.estimation.kolmogorov_distance(torch.tensor([0.0]))   # F_1 jumps from 0 to 1 where Φ = 1/2
    0.5

    Book: the check of Proposition ``prop-init-distribution`` (chapter 3).
    """
    x = _checks.tensor("samples", samples, ndim=1, shape_text="(n,)")
    if x.shape[0] == 0:
        raise ValueError("`samples` must have shape (n,) with n ≥ 1; got (0,).")
    std = _checks.number("std", std, minimum=0.0, strict=True)
    if cdf is not None and not callable(cdf):
        raise TypeError(f"`cdf` must be a callable mapping a tensor of points to CDF values, or None; got {type(cdf).__name__}.")
    s = torch.sort(x.detach().to("cpu", torch.float64)).values
    n = s.shape[0]
    if cdf is None:
        phi = 0.5 * torch.erfc(-s / (std * math.sqrt(2.0)))
    else:
        phi = torch.as_tensor(cdf(s), dtype=torch.float64).reshape(-1)
        if phi.shape != s.shape or not bool(((phi >= 0) & (phi <= 1)).all()):
            raise ValueError(f"`cdf` must return one value in [0, 1] per point ({n}); got shape {tuple(phi.shape)} "
                             "or values outside [0, 1].")
    i = torch.arange(1, n + 1, dtype=torch.float64)
    return float(torch.maximum(i / n - phi, phi - (i - 1) / n).max())


def dkw_radius(n: int, *, confidence: float = 0.999) -> float:
    r"""√(log(2/α)/(2n)): with probability ≥ 1 − α the empirical CDF of n i.i.d. draws is within this
    distance of the true CDF everywhere (Dvoretzky–Kiefer–Wolfowitz, with Massart's constant).

    Examples
    --------
    >>> import lazylib as ll
    >>> round(ll.estimation.dkw_radius(4000), 4)
    0.0308

    Book: the check of Proposition ``prop-init-distribution`` (chapter 3).
    """
    n = _checks.positive_int("n", n)
    conf = _checks.probability("confidence", confidence)
    return math.sqrt(math.log(2.0 / (1.0 - conf)) / (2.0 * n))
