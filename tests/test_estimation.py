"""Confidence intervals for accuracies (lazylib.estimation): reference values, coverage, bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import lazylib as ll
from lazylib import estimation
from conftest import gen

NAN, INF = float("nan"), float("inf")


# ---------------------------------------------------------------------------------------------------
# The incomplete beta function behind Clopper–Pearson and the sphere law
# ---------------------------------------------------------------------------------------------------


def test_betainc_against_scipy():
    special = pytest.importorskip("scipy.special")
    a = np.array([0.5, 1.0, 2.5, 10.0, 100.0, 0.5, 200.0, 1.0, 3.0])
    b = np.array([0.5, 3.0, 7.5, 1.0, 100.0, 500.0, 1.0, 2000.0, 3.0])
    for x in [1e-8, 1e-3, 0.1, 0.37, 0.5, 0.8, 0.999, 1 - 1e-9]:
        mine = estimation._betainc(torch.tensor(a), torch.tensor(b), x).numpy()
        # 1e-11: near x = 1 with b = 1/2 the slope of I_x is ~(1 − x)^{-1/2}, which magnifies the
        # rounding of 1 − x itself (at x = 1 − 1e-9 about 3e4 × 1e-16).
        assert np.abs(mine - special.betainc(a, b, x)).max() < 1e-11


def test_betainc_against_binomial_sums():
    """I_p(k+1, n−k) = P(Binomial(n, p) ≥ k+1), a finite sum needing no library."""
    n = 30
    for p in (0.05, 0.3, 0.5, 0.9):
        for k in range(n):
            tail = sum(math.comb(n, j) * p**j * (1 - p) ** (n - j) for j in range(k + 1, n + 1))
            assert float(estimation._betainc(k + 1, n - k, p)) == pytest.approx(tail, abs=1e-13)


def test_betainc_ends_and_inverse():
    assert float(estimation._betainc(2.0, 3.0, 0.0)) == 0.0 and float(estimation._betainc(2.0, 3.0, 1.0)) == 1.0
    q = torch.tensor([1e-6, 0.025, 0.5, 0.975, 1 - 1e-6], dtype=torch.float64)
    x = estimation._betainc_inverse(3.0, 7.0, q)
    assert torch.allclose(estimation._betainc(3.0, 7.0, x), q, atol=1e-12)


# ---------------------------------------------------------------------------------------------------
# binomial_interval
# ---------------------------------------------------------------------------------------------------


def test_clopper_pearson_against_beta_quantiles():
    stats = pytest.importorskip("scipy.stats")
    for n in (1, 7, 200, 1000):
        k = np.arange(n + 1)
        low, high = ll.binomial_interval(list(range(n + 1)), n, confidence=0.9)
        ref_low = np.where(k > 0, stats.beta.ppf(0.05, np.maximum(k, 1), n - k + 1), 0.0)
        ref_high = np.where(k < n, stats.beta.ppf(0.95, k + 1, np.maximum(n - k, 1)), 1.0)
        assert np.abs(low.numpy() - ref_low).max() < 1e-10
        assert np.abs(high.numpy() - ref_high).max() < 1e-10


def test_clopper_pearson_closed_forms_at_the_ends():
    """k = 0: (1 − p)^n = α/2 gives the upper end; k = n mirrors it."""
    n, alpha = 200, 0.05
    low, high = ll.binomial_interval(0, n)
    assert low == 0.0 and high == pytest.approx(1 - (alpha / 2) ** (1 / n), rel=1e-12)
    low, high = ll.binomial_interval(n, n)
    assert high == 1.0 and low == pytest.approx((alpha / 2) ** (1 / n), rel=1e-12)


def test_wilson_against_the_formula_and_a_known_value():
    # Textbook example (Agresti & Coull 1998 style): k = 15, n = 20, 95%.
    low, high = ll.binomial_interval(15, 20, method="wilson")
    z = 1.959963984540054
    p, n = 0.75, 20
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    assert (low, high) == pytest.approx((centre - half, centre + half), abs=1e-12)
    assert (round(low, 4), round(high, 4)) == (0.5313, 0.8881)


def test_hoeffding_is_symmetric_clipped_and_widest():
    low, high = ll.binomial_interval(100, 200, method="hoeffding")
    half = math.sqrt(math.log(2 / 0.05) / 400)
    assert (low, high) == pytest.approx((0.5 - half, 0.5 + half), abs=1e-14)
    assert ll.binomial_interval(0, 10, method="hoeffding")[0] == 0.0
    assert ll.binomial_interval(10, 10, method="hoeffding")[1] == 1.0
    for method in ("clopper-pearson", "wilson"):
        lo, hi = ll.binomial_interval(100, 200, method=method)
        assert hi - lo < high - low


@pytest.mark.parametrize("method", estimation.METHODS)
def test_interval_properties(method):
    n = 50
    low, high = ll.binomial_interval(torch.arange(n + 1), n, method=method)
    phat = torch.arange(n + 1, dtype=torch.float64) / n
    assert low.dtype == torch.float64 and low.shape == (n + 1,)
    assert bool((low >= 0).all() and (high <= 1).all() and (low <= phat).all() and (phat <= high).all())
    assert bool((low[1:] >= low[:-1]).all() and (high[1:] >= high[:-1]).all())  # monotone in k
    # symmetric under k -> n - k
    assert torch.allclose(low, 1 - high.flip(0), atol=1e-10)
    # higher confidence, wider interval
    low99, high99 = ll.binomial_interval(torch.arange(n + 1), n, confidence=0.99, method=method)
    assert bool((low99 <= low + 1e-12).all() and (high99 >= high - 1e-12).all())
    # a scalar call returns floats equal to the batch entries
    lo, hi = ll.binomial_interval(17, n, method=method)
    assert isinstance(lo, float) and lo == pytest.approx(float(low[17]), abs=1e-15)
    assert hi == pytest.approx(float(high[17]), abs=1e-15)


def test_interval_width_shrinks_like_one_over_sqrt_n():
    widths = []
    for n in (100, 400, 1600, 6400):
        lo, hi = ll.binomial_interval(n // 2, n, method="wilson")
        widths.append(hi - lo)
    fit = ll.power_law_fit([100, 400, 1600, 6400], widths)
    assert fit.slope == pytest.approx(-0.5, abs=0.01)


# ---------------------------------------------------------------------------------------------------
# interval_coverage
# ---------------------------------------------------------------------------------------------------


def test_coverage_against_simulation():
    n, p = 40, 0.83
    k = torch.distributions.Binomial(n, torch.tensor(p)).sample((200_000,))  # global RNG is seeded below
    for method in estimation.METHODS:
        low, high = ll.binomial_interval(torch.arange(n + 1), n, method=method)
        kk = k.long()
        simulated = float(((low[kk] <= p) & (p <= high[kk])).double().mean())
        exact = ll.interval_coverage(n, p, method=method)
        assert abs(simulated - exact) < 4 * math.sqrt(exact * (1 - exact) / 200_000) + 1e-9


@pytest.fixture(autouse=True)
def _seed_global_rng():
    state = torch.random.get_rng_state()
    torch.manual_seed(0)
    yield
    torch.random.set_rng_state(state)


def test_clopper_pearson_never_under_covers():
    """The theorem of the chapter (prop-clopper-pearson): coverage ≥ 1 − α at every p."""
    for n in (5, 37, 200):
        ps = torch.linspace(0, 1, 801, dtype=torch.float64)
        cov = ll.interval_coverage(n, ps, confidence=0.9)
        assert float(cov.min()) >= 0.9 - 1e-12


def test_wilson_under_covers_somewhere_and_hoeffding_over_covers():
    ps = torch.linspace(0.001, 0.999, 999, dtype=torch.float64)
    assert float(ll.interval_coverage(200, ps, method="wilson").min()) < 0.95
    assert float(ll.interval_coverage(200, ps[100:-100], method="hoeffding").min()) >= 0.95


def test_coverage_at_the_ends_and_sums():
    # at p = 0 only k = 0 occurs, whose interval starts at 0: covered by every method
    for method in estimation.METHODS:
        assert ll.interval_coverage(30, 0.0, method=method) == pytest.approx(1.0, abs=1e-15)
        assert ll.interval_coverage(30, 1.0, method=method) == pytest.approx(1.0, abs=1e-15)
    cov = ll.interval_coverage(30, [0.2, 0.5])
    assert isinstance(cov, torch.Tensor) and cov.shape == (2,)
    assert isinstance(ll.interval_coverage(30, torch.tensor(0.5)), float)


# ---------------------------------------------------------------------------------------------------
# kolmogorov_distance and dkw_radius
# ---------------------------------------------------------------------------------------------------


def test_kolmogorov_distance_against_scipy_and_brute_force():
    stats = pytest.importorskip("scipy.stats")
    x = 1.3 * torch.randn(500, generator=gen(3), dtype=torch.float64) + 0.1
    mine = estimation.kolmogorov_distance(x, std=1.3)
    ref = stats.kstest(x.numpy(), stats.norm(scale=1.3).cdf).statistic
    assert mine == pytest.approx(ref, abs=1e-12)
    # brute force: the empirical CDF against Φ on a fine grid (from both sides of each jump)
    grid = torch.linspace(-6, 6, 200_001, dtype=torch.float64)
    ecdf = torch.searchsorted(torch.sort(x).values, grid, right=True).double() / 500
    phi = 0.5 * torch.erfc(-grid / (1.3 * math.sqrt(2)))
    assert float((ecdf - phi).abs().max()) <= mine + 1e-12


def test_kolmogorov_distance_with_another_law():
    import functools

    u = torch.rand(3000, generator=gen(5), dtype=torch.float64)
    uniform = functools.partial(torch.clamp, min=0.0, max=1.0)  # the CDF of U(0, 1)
    assert estimation.kolmogorov_distance(u, cdf=uniform) <= estimation.dkw_radius(3000)
    # the sphere law of chapter 2: |u₁| for d = 3 is uniform on [0, 1]
    law = functools.partial(ll.random_linear_distance_cdf, d=3)
    assert estimation.kolmogorov_distance(u, cdf=law) == pytest.approx(estimation.kolmogorov_distance(u, cdf=uniform), abs=1e-12)
    assert estimation.kolmogorov_distance(u ** 2, cdf=uniform) > 0.2
    with pytest.raises(TypeError, match="`cdf`"):
        estimation.kolmogorov_distance(u, cdf=0.5)
    with pytest.raises(ValueError, match="`cdf`"):
        estimation.kolmogorov_distance(u, cdf=lambda t: 2 * t)
    with pytest.raises(ValueError, match="`cdf`"):
        estimation.kolmogorov_distance(u, cdf=lambda t: t[:3])


def test_kolmogorov_distance_is_small_for_normal_samples_and_dkw_holds():
    n = 4000
    x = 0.7 * torch.randn(n, generator=gen(4), dtype=torch.float64)
    assert estimation.kolmogorov_distance(x, std=0.7) <= estimation.dkw_radius(n, confidence=0.999)
    assert estimation.kolmogorov_distance(x, std=1.4) > 0.1  # the wrong scale is detected
    assert estimation.dkw_radius(4 * n) == pytest.approx(estimation.dkw_radius(n) / 2)


# ---------------------------------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        (dict(successes=-1, n=10), ValueError, "`successes`"),
        (dict(successes=11, n=10), ValueError, "`successes`"),
        (dict(successes=2.0, n=10), TypeError, "`successes`"),
        (dict(successes=True, n=10), TypeError, "`successes`"),
        (dict(successes="3", n=10), TypeError, "`successes`"),
        (dict(successes=[1, 2.5], n=10), TypeError, "`successes`"),
        (dict(successes=[], n=10), ValueError, "`successes`"),
        (dict(successes=torch.tensor([1.0]), n=10), TypeError, "`successes`"),
        (dict(successes=torch.ones(2, 2, dtype=torch.long), n=10), ValueError, "`successes`"),
        (dict(successes=3, n=0), ValueError, "`n`"),
        (dict(successes=3, n=10.0), TypeError, "`n`"),
        (dict(successes=3, n=10, confidence=1.0), ValueError, "`confidence`"),
        (dict(successes=3, n=10, confidence=0.0), ValueError, "`confidence`"),
        (dict(successes=3, n=10, confidence=NAN), ValueError, "`confidence`"),
        (dict(successes=3, n=10, confidence="95%"), TypeError, "`confidence`"),
        (dict(successes=3, n=10, method="exact"), ValueError, "`method`"),
    ],
)
def test_binomial_interval_bad_input(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        ll.binomial_interval(**kwargs)


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        (dict(n=0, p=0.5), ValueError, "`n`"),
        (dict(n=2.5, p=0.5), TypeError, "`n`"),
        (dict(n=10, p=1.5), ValueError, "`p`"),
        (dict(n=10, p=-0.1), ValueError, "`p`"),
        (dict(n=10, p=NAN), ValueError, "`p`"),
        (dict(n=10, p="half"), TypeError, "`p`"),
        (dict(n=10, p=[]), ValueError, "`p`"),
        (dict(n=10, p=torch.ones(2, 2)), TypeError, "`p`"),
        (dict(n=10, p=0.5, confidence=2.0), ValueError, "`confidence`"),
        (dict(n=10, p=0.5, method="wald"), ValueError, "`method`"),
    ],
)
def test_interval_coverage_bad_input(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        ll.interval_coverage(**kwargs)


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        (dict(samples=[0.1, 0.2]), TypeError, "`samples`"),
        (dict(samples=torch.tensor([1, 2])), TypeError, "`samples`"),
        (dict(samples=torch.zeros(2, 2)), ValueError, "`samples`"),
        (dict(samples=torch.zeros(0)), ValueError, "`samples`"),
        (dict(samples=torch.tensor([0.0, NAN])), ValueError, "`samples`"),
        (dict(samples=torch.zeros(3), std=0.0), ValueError, "`std`"),
        (dict(samples=torch.zeros(3), std=INF), ValueError, "`std`"),
    ],
)
def test_kolmogorov_distance_bad_input(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        estimation.kolmogorov_distance(**kwargs)


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        (dict(n=0), ValueError, "`n`"),
        (dict(n=1.5), TypeError, "`n`"),
        (dict(n=10, confidence=1.0), ValueError, "`confidence`"),
        (dict(n=10, confidence=None), TypeError, "`confidence`"),
    ],
)
def test_dkw_radius_bad_input(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        estimation.dkw_radius(**kwargs)
