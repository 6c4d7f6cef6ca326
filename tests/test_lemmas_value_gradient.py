"""Part II, chapters 5-7: the theorem's width window, Lemma A (function value) and Lemma B (gradient
norm) in ``lazylib.lemmas`` (modules ``theorem``, ``value`` and ``gradient_norm``).

Reference checks against brute force (explicit loops over neurons, exhaustive enumeration of tiny
lazy balls, dense scans), property checks, statistical checks with fixed seeds and tolerances from
the number of samples, and bad input for every public function of the section.
"""

from __future__ import annotations

import math

import pytest
import torch

import lazylib as ll
from lazylib import lemmas

NAN, INF = float("nan"), float("inf")


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _net(d: int, m: int, seed: int = 0, dtype: torch.dtype = torch.float64) -> ll.TwoLayerReLU:
    return ll.TwoLayerReLU(d, m, generator=_gen(seed), dtype=dtype)


def _unit(n: int, d: int, seed: int = 1) -> torch.Tensor:
    return torch.nn.functional.normalize(torch.randn(n, d, generator=_gen(seed), dtype=torch.float64), dim=1)


def _ball_points(net: ll.TwoLayerReLU, R: float, k: int, seed: int) -> torch.Tensor:
    """k weight matrices of B_{2,∞}(W₀, R), half of the rows on the boundary."""
    g = _gen(seed)
    dirs = torch.nn.functional.normalize(torch.randn(k, net.m, net.d, generator=g, dtype=torch.float64), dim=2)
    radii = R * torch.rand(k, net.m, 1, generator=g, dtype=torch.float64).pow(1 / net.d)
    radii[: k // 2] = R
    return net.W0.unsqueeze(0) + dirs * radii


def _with_W(net: ll.TwoLayerReLU, W: torch.Tensor) -> ll.TwoLayerReLU:
    with torch.no_grad():
        net.W.copy_(W)
    return net


def _grad_loop(net: ll.TwoLayerReLU, x: torch.Tensor, W: torch.Tensor) -> torch.Tensor:
    """∇ₓf(x; W) as the paper's sum over neurons, one neuron at a time."""
    g = torch.zeros(x.shape[0], net.d, dtype=torch.float64)
    for s in range(net.m):
        g += net.a[s] * (x @ W[s] > 0).double()[:, None] * W[s][None, :]
    return g * net.output_scale


# ---------------------------------------------------------------------------------------------------
# The width window (chapter 5)
# ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("d", [1, 25, 196, 784, 10_000, 100_000])
def test_width_upper_limit_formula(d):
    assert lemmas.width_upper_limit(d) == pytest.approx(math.exp(d**0.24), rel=1e-14)
    assert lemmas.width_upper_limit(d, C4=3.5) == pytest.approx(3.5 * math.exp(d**0.24), rel=1e-14)


def test_width_upper_limit_values_quoted_in_the_book():
    assert lemmas.width_upper_limit(784) == pytest.approx(141.2, abs=0.05)
    assert lemmas.width_upper_limit(10**4) == pytest.approx(9.14e3, rel=1e-3)
    assert lemmas.width_upper_limit(10**5) == pytest.approx(7.64e6, rel=1e-3)


def test_width_upper_limit_is_increasing_and_overflows_to_inf():
    values = [lemmas.width_upper_limit(d) for d in (1, 10, 100, 1000, 10**6)]
    assert all(a < b for a, b in zip(values, values[1:]))
    assert lemmas.width_upper_limit(10**13) == INF


def _window_open(d: float, k: float, C_low: float, C4: float) -> bool:
    return math.log(C_low) + k * math.log(d) <= math.log(C4) + d**0.24


@pytest.mark.parametrize("k, C_low, C4", [(1.0, 1.0, 1.0), (2.0, 1.0, 1.0), (3.0, 1.0, 1.0), (1.0, 10.0, 1.0),
                                          (1.5, 1.0, 100.0), (0.5, 1.0, 1.0), (0.1, 1.0, 1.0)])
def test_window_threshold_against_a_dense_scan(k, C_low, C4):
    d_star = lemmas.window_threshold(k, C_low=C_low, C4=C4)
    assert d_star >= 1.0
    # brute force: the last d (on a fine log grid up to 10^9) where the window is empty
    grid = torch.logspace(0, 9, 200_001, dtype=torch.float64)
    logs = math.log(C_low) + k * grid.log() - (math.log(C4) + grid**0.24)
    empty = grid[logs > 0]
    if empty.numel() == 0:
        assert d_star == 1.0
    else:
        last_empty = float(empty.max())
        assert d_star == pytest.approx(last_empty, rel=2e-4)  # the grid's spacing is 1e-4 in log10
        assert _window_open(d_star * (1 + 1e-9), k, C_low, C4)
        assert _window_open(10 * d_star, k, C_low, C4)
        assert not _window_open(d_star * (1 - 1e-6), k, C_low, C4)


def test_window_threshold_grows_with_the_exponent():
    values = [lemmas.window_threshold(k) for k in (1.0, 2.0, 3.0, 4.0)]
    assert all(a < b for a, b in zip(values, values[1:]))
    assert 10_000 < values[0] < 12_000  # d ≈ 1.08·10⁴ for m between d and exp(d^0.24)


# ---------------------------------------------------------------------------------------------------
# Lemma A (chapter 6)
# ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("gamma, C0, norm", [(0.5, 1.0, 1.0), (0.05, 10.0, 1.0), (0.01, 0.0, 2.5), (0.9, 3.0, 0.0)])
def test_value_bound_formulas(gamma, C0, norm):
    assert lemmas.value_bound(gamma, C0, norm=norm) == pytest.approx(norm * (2 * math.sqrt(math.log(2 / gamma)) + C0), rel=1e-14)
    m = 300
    L = math.log(4 / gamma)
    sharp = norm * (math.sqrt(2 * L) + C0 / 2 + C0 * math.sqrt(L / (2 * m)))
    assert lemmas.value_bound_sharp(gamma, C0, m, norm=norm) == pytest.approx(sharp, rel=1e-14)


def test_value_bounds_decrease_with_gamma_and_sharp_is_sharper_for_wide_networks():
    gammas = [0.01, 0.05, 0.2, 0.6]
    paper = [lemmas.value_bound(g, 10.0) for g in gammas]
    sharp = [lemmas.value_bound_sharp(g, 10.0, 1000) for g in gammas]
    assert all(a > b for a, b in zip(paper, paper[1:])) and all(a > b for a, b in zip(sharp, sharp[1:]))
    assert all(s < p for s, p in zip(sharp, paper))


def _replay_value_range(m: int, C0: float, n_nets: int, seed: int, norm: float = 1.0):
    """The same draws as sample_value_range, evaluated with ll.value_bounds on one d = 1 network each."""
    g = _gen(seed)
    z = torch.randn(n_nets, m, generator=g, dtype=torch.float64) * norm
    a = (torch.randint(0, 2, (n_nets, m), generator=g, dtype=torch.int64) * 2 - 1).double()
    f0, lo, hi = [], [], []
    R = ll.lazy_radius(m, C0)
    for k in range(n_nets):
        net = _net(1, m)
        with torch.no_grad():  # w_{s,0} = z_s/‖x‖ at the input x = (‖x‖,) gives the pre-activations z_s
            net.W0.copy_(z[k][:, None] / norm)
            net.W.copy_(z[k][:, None] / norm)
            net.a.copy_(a[k])
        x = torch.tensor([[norm]], dtype=torch.float64)
        l, h = ll.value_bounds(net, x, R)
        f0.append(float(net(x).detach()))
        lo.append(float(l))
        hi.append(float(h))
    return (torch.tensor(f0, dtype=torch.float64), torch.tensor(lo, dtype=torch.float64),
            torch.tensor(hi, dtype=torch.float64))


@pytest.mark.parametrize("m, C0, norm", [(1, 1.0, 1.0), (7, 10.0, 1.0), (50, 3.0, 2.0), (200, 0.0, 0.5)])
def test_sample_value_range_equals_value_bounds_on_the_same_networks(m, C0, norm):
    r = lemmas.sample_value_range(m, C0, 12, norm=norm, generator=_gen(5))
    f0, lo, hi = _replay_value_range(m, C0, 12, seed=5, norm=norm)
    torch.testing.assert_close(r.f0, f0, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(r.inf, lo, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(r.sup, hi, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(r.sup_abs, torch.maximum(hi, -lo), rtol=1e-12, atol=1e-12)


def test_sample_value_range_properties():
    r = lemmas.sample_value_range(64, 4.0, 3000, norm=1.5, generator=_gen(2))
    assert r.f0.shape == r.inf.shape == r.sup.shape == (3000,)
    assert bool((r.inf <= r.f0).all() and (r.f0 <= r.sup).all())
    # each neuron moves f by at most R‖x‖/√m, so the whole range is within C₀‖x‖ of f(x; W₀)
    assert float((r.sup - r.f0).max()) <= 4.0 * 1.5 + 1e-12 and float((r.f0 - r.inf).max()) <= 4.0 * 1.5 + 1e-12
    zero = lemmas.sample_value_range(64, 0.0, 50, generator=_gen(2))
    assert torch.equal(zero.inf, zero.f0) and torch.equal(zero.sup, zero.f0)
    again = lemmas.sample_value_range(64, 4.0, 3000, norm=1.5, generator=_gen(2))
    assert torch.equal(again.sup, r.sup)
    assert lemmas.sample_value_range(8, 1.0, 5, generator=_gen(0), dtype=torch.float32).sup.dtype == torch.float32


def test_sample_value_range_chunks_give_the_same_law_as_one_batch():
    # m·n_nets above the chunk size: the draws come in several chunks; their statistics must agree.
    r = lemmas.sample_value_range(2048, 10.0, 4100, generator=_gen(9))
    move = r.sup - r.f0
    se = float(move.std()) / math.sqrt(move.numel())
    assert abs(float(move.mean()) - 5.0) < 4 * se


@pytest.mark.statistical
@pytest.mark.parametrize("m", [1, 10, 1000])
def test_mean_worst_case_movement_is_C0_over_2(m):
    """E[sup f − f(W₀)] = E[f(W₀) − inf f] = C₀‖x‖/2 exactly, for every m (Proposition prop-mean-worst-case)."""
    r = lemmas.sample_value_range(m, 6.0, 40_000, norm=1.0, generator=_gen(m))
    for move in (r.sup - r.f0, r.f0 - r.inf):
        se = float(move.std()) / math.sqrt(move.numel())
        assert abs(float(move.mean()) - 3.0) < 4 * se


@pytest.mark.statistical
def test_sample_value_range_has_the_law_of_real_networks_in_any_dimension():
    """d does not enter: networks of dimension 5 give the same distribution of the extremes."""
    m, C0, K = 30, 5.0, 3000
    reduced = lemmas.sample_value_range(m, C0, K, generator=_gen(11))
    x = _unit(1, 5, seed=3)
    R = ll.lazy_radius(m, C0)
    real_hi = []
    for k in range(K):
        net = _net(5, m, seed=10_000 + k)
        real_hi.append(float(ll.value_bounds(net, x, R)[1]))
    real_hi = torch.tensor(real_hi, dtype=torch.float64)
    # two-sample Kolmogorov–Smirnov statistic against its 0.1% critical value 1.95·√(2/K)
    both = torch.cat([reduced.sup, real_hi]).sort().values
    cdf1 = torch.searchsorted(reduced.sup.sort().values, both, right=True) / K
    cdf2 = torch.searchsorted(real_hi.sort().values, both, right=True) / K
    assert float((cdf1 - cdf2).abs().max()) < 1.95 * math.sqrt(2 / K)


@pytest.mark.statistical
@pytest.mark.parametrize("m, C0", [(4, 1.0), (64, 10.0), (1024, 3.0)])
@pytest.mark.parametrize("gamma", [0.05, 0.3])
def test_lemma_a_bounds_fail_with_probability_at_most_gamma(m, C0, gamma):
    K = 20_000
    r = lemmas.sample_value_range(m, C0, K, generator=_gen(int(100 * gamma) + m))
    tol = 4 * math.sqrt(gamma * (1 - gamma) / K)  # four binomial standard deviations at the allowed rate
    for bound in (lemmas.value_bound(gamma, C0), lemmas.value_bound_sharp(gamma, C0, m)):
        assert float((r.sup_abs > bound).double().mean()) <= gamma + tol


# ---------------------------------------------------------------------------------------------------
# Lemma B (chapter 7): the decomposition and its closed-form bounds
# ---------------------------------------------------------------------------------------------------


def test_gradient_decomposition_against_an_explicit_loop():
    net = _net(6, 40, seed=1)
    W = _ball_points(net, 0.4, 1, seed=2)[0]
    _with_W(net, W)
    x = _unit(9, 6, seed=4)
    parts = lemmas.gradient_decomposition(net, x)
    g0 = _grad_loop(net, x, net.W0)
    torch.testing.assert_close(parts.initial, g0, rtol=1e-12, atol=1e-12)
    dev = torch.zeros_like(g0)
    flip = torch.zeros_like(g0)
    for s in range(net.m):
        chi = (x @ W[s] > 0).double()[:, None]
        chi0 = (x @ net.W0[s] > 0).double()[:, None]
        dev += net.a[s] * chi * (W[s] - net.W0[s])[None] * net.output_scale
        flip += net.a[s] * (chi - chi0) * net.W0[s][None] * net.output_scale
    torch.testing.assert_close(parts.deviation, dev, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(parts.flip, flip, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(parts.initial + parts.deviation + parts.flip, ll.input_gradient(net, x), rtol=1e-12, atol=1e-12)


def test_gradient_decomposition_at_initialisation_has_no_deviation_or_flip():
    net = _net(5, 30, seed=3)
    x = _unit(4, 5)
    parts = lemmas.gradient_decomposition(net, x)
    assert torch.equal(parts.deviation, torch.zeros_like(parts.deviation))
    assert torch.equal(parts.flip, torch.zeros_like(parts.flip))
    torch.testing.assert_close(parts.initial, ll.input_gradient(net, x))


def _brute_change_bounds(net, x, R):
    dev, flip, P, N = [], [], [], []
    for i in range(x.shape[0]):
        z = net.W0 @ x[i]
        reach = R * float(x[i].norm())
        p = int((z > -reach).sum())
        S = (z.abs() <= reach).nonzero().flatten()
        op = float(torch.linalg.matrix_norm(net.W0[S], ord=2)) if len(S) else 0.0
        dev.append(R * p / math.sqrt(net.m))
        flip.append(math.sqrt(len(S) / net.m) * op)
        P.append(p)
        N.append(len(S))
    return dev, flip, P, N


@pytest.mark.parametrize("d, m, C0", [(6, 40, 2.0), (30, 200, 10.0), (3, 500, 0.0)])
def test_gradient_change_bounds_against_brute_force(d, m, C0):
    net = _net(d, m, seed=d)
    x = _unit(7, d, seed=m) * torch.linspace(0.5, 2.0, 7, dtype=torch.float64)[:, None]  # norms other than 1
    R = ll.lazy_radius(m, C0)
    b = lemmas.gradient_change_bounds(net, x, R)
    dev, flip, P, N = _brute_change_bounds(net, x, R)
    torch.testing.assert_close(b.deviation, torch.tensor(dev, dtype=torch.float64), rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(b.flip, torch.tensor(flip, dtype=torch.float64), rtol=1e-9, atol=1e-12)
    assert b.possibly_active.tolist() == P and b.switchable.tolist() == N
    assert torch.equal(b.switchable, ll.switchable_neurons(net, x, R))
    torch.testing.assert_close(b.total, b.deviation + b.flip)


def test_gradient_change_bounds_hold_at_random_points_of_the_ball_and_ignore_the_current_W():
    d, m, C0 = 8, 60, 6.0
    net = _net(d, m, seed=4)
    x = _unit(10, d, seed=5)
    R = ll.lazy_radius(m, C0)
    b = lemmas.gradient_change_bounds(net, x, R)
    for W in _ball_points(net, R, 40, seed=6):
        parts = lemmas.gradient_decomposition(_with_W(net, W), x)
        assert bool((parts.deviation.norm(dim=1) <= b.deviation + 1e-12).all())
        assert bool((parts.flip.norm(dim=1) <= b.flip + 1e-12).all())
    moved = lemmas.gradient_change_bounds(net, x, R)  # net.W has moved; the bounds are about W₀
    assert torch.equal(moved.deviation, b.deviation) and torch.equal(moved.flip, b.flip)
    zero = lemmas.gradient_change_bounds(net, x, 0.0)
    assert float(zero.total.abs().max()) == 0.0


def test_gradient_norm_bounds_formula_and_limits():
    m, d, C0, gamma = 4000, 784, 1.0, 0.1
    b = lemmas.gradient_norm_bounds(m, d, C0, gamma)
    L = math.log(9 / gamma)
    R = C0 / math.sqrt(m)
    sp = math.sqrt(L / (2 * m))
    init_lo = math.sqrt((0.5 - sp) * (d - 1 - 2 * math.sqrt((d - 1) * L)))
    p = math.erf(R / math.sqrt(2))
    Np = m * p + math.sqrt(2 * m * p * L) + 2 * L / 3
    flip = math.sqrt(Np / m) * (math.sqrt(Np) * (1 + R) + math.sqrt(d - 1) + math.sqrt(2 * L))
    dev = C0 * (0.5 * (1 + math.erf(R / math.sqrt(2))) + sp)
    assert b.initial_lower == pytest.approx(init_lo, rel=1e-13)
    assert b.flip == pytest.approx(flip, rel=1e-13) and b.deviation == pytest.approx(dev, rel=1e-13)
    assert b.lower == pytest.approx(init_lo - dev - flip, rel=1e-13)
    assert b.upper == pytest.approx(b.initial_upper + dev + flip, rel=1e-13)
    assert 0 < b.lower < math.sqrt(d / 2) < b.upper
    # vacuous for a large ball in low dimension: the lower end is clipped at zero
    assert lemmas.gradient_norm_bounds(1000, 196, 10.0, 0.1).lower == 0.0
    # Θ(√d): for fixed C₀ and γ the interval approaches √(d/2) from both sides as d and m grow
    huge = lemmas.gradient_norm_bounds(10**12, 10**8, 1.0, 0.1)
    assert 0.95 < huge.lower / math.sqrt(10**8 / 2) < 1 < huge.upper / math.sqrt(10**8 / 2) < 1.05


@pytest.mark.statistical
def test_gradient_norm_bounds_hold_with_probability_at_least_one_minus_gamma():
    """Certified range ‖g₀‖ ± gradient_change_bounds inside the lemma's interval for ≥ 1 − γ of draws."""
    m, d, C0, gamma, K = 400, 300, 0.5, 0.3, 150
    b = lemmas.gradient_norm_bounds(m, d, C0, gamma)
    assert b.lower > 0
    x = _unit(1, d, seed=7)
    R = ll.lazy_radius(m, C0)
    fails = 0
    for k in range(K):
        net = _net(d, m, seed=500 + k)
        g0 = float(ll.input_gradient(net, x).norm())
        t = float(lemmas.gradient_change_bounds(net, x, R).total)
        fails += not (b.lower <= g0 - t and g0 + t <= b.upper)
    assert fails / K <= gamma + 4 * math.sqrt(gamma * (1 - gamma) / K)


@pytest.mark.statistical
def test_initial_gradient_norm_law():
    """‖∇f(x; W₀)‖² = (k/m)·χ²_{d−1} + f(x̂; W₀)²: mean d/2, and gᵀx̂ = f(x̂) exactly (Euler)."""
    d, m, K = 40, 60, 3000
    x = _unit(1, d, seed=8) * 3.0
    sq, euler = [], []
    for k in range(K):
        net = _net(d, m, seed=20_000 + k)
        g = ll.input_gradient(net, x)
        sq.append(float(g.pow(2).sum()))
        euler.append(float(g @ x[0] / 3.0 - net(x / 3.0).detach()))
    sq = torch.tensor(sq, dtype=torch.float64)
    assert abs(float(sq.mean()) - d / 2) < 4 * float(sq.std()) / math.sqrt(K)
    assert max(abs(e) for e in euler) < 1e-12


# ---------------------------------------------------------------------------------------------------
# Lemma B: the worst-case search
# ---------------------------------------------------------------------------------------------------


def _achievable(net: ll.TwoLayerReLU, x: torch.Tensor, R: float, k: int, seed: int) -> list[torch.Tensor]:
    """Per neuron, k random points of its disk of deviations (d = 2, half of them on the boundary circle),
    mapped to the neuron's contribution m^{-1/2} a_s 1[w_sᵀx > 0] w_s."""
    g = _gen(seed)
    out = []
    for s in range(net.m):
        ang = 2 * math.pi * torch.rand(k, generator=g, dtype=torch.float64)
        rad = R * torch.rand(k, generator=g, dtype=torch.float64).sqrt()
        rad[: k // 2] = R
        w = net.W0[s][None] + torch.stack([rad * ang.cos(), rad * ang.sin()], dim=1)
        out.append(net.output_scale * net.a[s] * (w @ x > 0).double()[:, None] * w)
    return out


def _brute_extremes(net, x, R, k=1500, seed=0):
    """min and max of ‖c_1 + c_2‖ over all pairs of sampled contributions (m = 2): points of the ball."""
    c1, c2 = _achievable(net, x, R, k, seed)
    norms = (c1[:, None, :] + c2[None, :, :]).norm(dim=2)
    return float(norms.min()), float(norms.max())


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("R", [0.3, 1.0])
def test_gradient_norm_search_matches_exhaustive_search_on_tiny_balls(seed, R):
    """d = 2, m = 2: every pair of 1500 × 1500 sampled points of the two neurons' disks is tried."""
    net = _net(2, 2, seed=seed)
    x = _unit(1, 2, seed=seed + 10)
    bmin, bmax = _brute_extremes(net, x[0], R, seed=seed)
    lo = lemmas.gradient_norm_search(net, x, R, mode="min", steps=400)
    hi = lemmas.gradient_norm_search(net, x, R, mode="max", steps=50, restarts=8, generator=_gen(seed))
    # The sampled points lie in the ball, so bmin ≥ inf and bmax ≤ sup; the search is allowed to be
    # worse than the samples only by their resolution: a disk of 1500 points leaves gaps of about
    # R·√(π/750) per neuron, scaled by 1/√m.
    tol = 2 * R * math.sqrt(math.pi / 750) / math.sqrt(2)
    assert float(lo.certificate) <= bmin + 1e-9                  # certified lower bound
    assert float(lo.norm) <= bmin + tol                           # as good as the exhaustive samples
    assert float(hi.norm) >= bmax - tol
    assert float(hi.certificate) >= bmax - 1e-9                   # certified upper bound


@pytest.mark.parametrize("mode", ["min", "max"])
@pytest.mark.parametrize("flips", [True, False])
def test_gradient_norm_search_returns_points_of_the_ball_with_the_reported_norm(mode, flips):
    d, m, C0 = 12, 150, 8.0
    net = _net(d, m, seed=2)
    x = _unit(5, d, seed=3) * torch.tensor([1.0, 2.0, 0.5, 1.0, 3.0], dtype=torch.float64)[:, None]
    R = ll.lazy_radius(m, C0)
    r = lemmas.gradient_norm_search(net, x, R, mode=mode, flips=flips, steps=60, generator=_gen(1), return_weights=True)
    assert r.weights.shape == (5, m, d)
    g0 = ll.input_gradient(net, x).norm(dim=1)
    for i in range(5):
        probe = _with_W(_net(d, m, seed=2), r.weights[i])
        assert ll.deviation(probe) <= R * (1 + 1e-12)
        assert float(ll.input_gradient(probe, x[i:i + 1]).norm()) == pytest.approx(float(r.norm[i]), rel=1e-10)
        if not flips:
            assert torch.equal(x[i] @ r.weights[i].T > 0, x[i] @ net.W0.T > 0)
    if mode == "min":
        assert bool((r.certificate <= r.norm + 1e-10).all()) and bool((r.norm <= g0 + 1e-12).all())
    else:
        assert bool((r.certificate >= r.norm - 1e-10).all()) and bool((r.norm >= g0 - 1e-12).all())


def test_gradient_norm_search_can_cancel_the_gradient_when_the_ball_is_large():
    """d = 60 with C₀ = 10: the relaxation reaches 0 and the search finds actual weights near it."""
    d, m, C0 = 60, 400, 10.0
    net = _net(d, m, seed=4)
    x = _unit(6, d, seed=5)
    R = ll.lazy_radius(m, C0)
    full = lemmas.gradient_norm_search(net, x, R, steps=150, return_weights=True)
    assert float(full.certificate.max()) == 0.0
    assert float(full.norm.max()) < 1e-3 * float(ll.input_gradient(net, x).norm(dim=1).min())
    for i in range(6):  # the weights found (after rounding and toggling neurons) are points of the ball
        probe = _with_W(_net(d, m, seed=4), full.weights[i])
        assert ll.deviation(probe) <= R * (1 + 1e-12)
        assert float(ll.input_gradient(probe, x[i:i + 1]).norm()) == pytest.approx(float(full.norm[i]), rel=1e-6, abs=1e-12)


def test_gradient_norm_search_sandwich_is_tight_and_flips_matter():
    d, m, C0 = 60, 400, 2.0
    net = _net(d, m, seed=4)
    x = _unit(6, d, seed=5)
    R = ll.lazy_radius(m, C0)
    full = lemmas.gradient_norm_search(net, x, R, steps=150)
    frozen = lemmas.gradient_norm_search(net, x, R, steps=150, flips=False)
    assert bool((full.norm <= frozen.norm + 1e-9).all())           # more freedom, smaller minimum
    assert bool((full.certificate > 0).all())
    assert float(((full.norm - full.certificate) / full.norm).max()) < 0.02
    # frozen activations: the minimum is the closed form max(0, ‖g₀‖ − R·k/√m) unless a cap binds
    g0 = ll.input_gradient(net, x).norm(dim=1)
    k = (x @ net.W0.T > 0).sum(dim=1).double()
    assert bool((frozen.norm >= (g0 - R * k / math.sqrt(m)).clamp_min(0) - 1e-9).all())
    # and the closed-form bounds of the decomposition enclose everything found
    b = lemmas.gradient_change_bounds(net, x, R)
    hi = lemmas.gradient_norm_search(net, x, R, mode="max", steps=40, generator=_gen(0))
    assert bool((full.norm >= g0 - b.total - 1e-9).all()) and bool((hi.norm <= g0 + b.total + 1e-9).all())


def test_gradient_norm_search_radius_zero_float32_and_determinism():
    net = _net(10, 80, seed=6, dtype=torch.float32)
    x = _unit(3, 10, seed=7).float()
    g0 = ll.input_gradient(net, x).double().norm(dim=1)
    for mode in ("min", "max"):
        r = lemmas.gradient_norm_search(net, x, 0.0, mode=mode, steps=5, generator=_gen(0))
        torch.testing.assert_close(r.norm, g0, rtol=1e-6, atol=1e-6)
        assert r.norm.dtype == torch.float64 and r.weights is None
    a = lemmas.gradient_norm_search(net, x, 0.3, mode="max", steps=10, restarts=3, generator=_gen(4))
    b = lemmas.gradient_norm_search(net, x, 0.3, mode="max", steps=10, restarts=3, generator=_gen(4))
    assert torch.equal(a.norm, b.norm)


# ---------------------------------------------------------------------------------------------------
# Bad input: every public function of the section, each argument
# ---------------------------------------------------------------------------------------------------

BAD_POSINT = [(0, ValueError), (-2, ValueError), (2.5, TypeError), (2.0, TypeError), ("3", TypeError), (True, TypeError),
              (None, TypeError)]
BAD_NONNEG = [(-0.1, ValueError), (NAN, ValueError), (INF, ValueError), ("1", TypeError), (None, TypeError),
              (True, TypeError)]
BAD_PROB = [(0.0, ValueError), (1.0, ValueError), (-0.2, ValueError), (1.5, ValueError), (NAN, ValueError),
            ("0.1", TypeError), (None, TypeError)]
BAD_POSITIVE = [(0.0, ValueError), (-1.0, ValueError), (NAN, ValueError), (INF, ValueError), ("1", TypeError)]


def _ctx():
    net = _net(4, 8, seed=0)
    x = torch.rand(5, 4, generator=_gen(1), dtype=torch.float64) + 0.1
    return net, x


def _calls():
    """(name, function, good keyword arguments)."""
    net, x = _ctx()
    return [
        ("width_upper_limit", lemmas.width_upper_limit, dict(d=10, C4=1.0)),
        ("window_threshold", lemmas.window_threshold, dict(k=1.0, C_low=1.0, C4=1.0)),
        ("value_bound", lemmas.value_bound, dict(gamma=0.1, C0=1.0, norm=1.0)),
        ("value_bound_sharp", lemmas.value_bound_sharp, dict(gamma=0.1, C0=1.0, m=10, norm=1.0)),
        ("sample_value_range", lemmas.sample_value_range, dict(m=10, C0=1.0, n_nets=5, norm=1.0, generator=_gen(0))),
        ("gradient_decomposition", lemmas.gradient_decomposition, dict(model=net, x=x)),
        ("gradient_change_bounds", lemmas.gradient_change_bounds, dict(model=net, x=x, radius=0.1)),
        ("gradient_norm_bounds", lemmas.gradient_norm_bounds, dict(m=10, d=5, C0=1.0, gamma=0.1)),
        ("gradient_norm_search", lemmas.gradient_norm_search,
         dict(model=net, x=x, radius=0.1, mode="min", steps=2, restarts=1, flips=True, generator=_gen(0),
              return_weights=False)),
    ]


_FAMILIES = {
    "d": BAD_POSINT, "m": BAD_POSINT, "n_nets": BAD_POSINT, "steps": BAD_POSINT,
    "C0": BAD_NONNEG, "norm": BAD_NONNEG, "radius": BAD_NONNEG,
    "gamma": BAD_PROB,
    "C4": BAD_POSITIVE, "k": BAD_POSITIVE, "C_low": BAD_POSITIVE,
}


def _bad_x_values(x):
    bad = x.clone()
    bad[1, 2] = NAN
    inf = x.clone()
    inf[0, 0] = INF
    zero = x.clone()
    zero[2] = 0.0
    return [(x.tolist(), TypeError), (x.float(), TypeError), (x.long(), TypeError), (x[0], ValueError),
            (x[:, :3], ValueError), (x[:0], ValueError), (bad, ValueError), (inf, ValueError),
            (torch.empty(5, 4, dtype=torch.float64, device="meta"), ValueError)], zero


def _cases():
    cases = []
    for name, fn, good in _calls():
        for arg in good:
            for value, exc in _FAMILIES.get(arg, []):
                cases.append(pytest.param(name, arg, value, exc, id=f"{name}-{arg}-{value!r}"))
        if "model" in good:
            for value in (None, "net", torch.nn.Linear(4, 1)):
                cases.append(pytest.param(name, "model", value, TypeError, id=f"{name}-model-{type(value).__name__}"))
        if "x" in good:
            bad_x, _ = _bad_x_values(good["x"])
            for i, (value, exc) in enumerate(bad_x):
                cases.append(pytest.param(name, "x", value, exc, id=f"{name}-x-{i}"))
        if "generator" in good:
            for value in (0, "seed", 1.5):
                cases.append(pytest.param(name, "generator", value, TypeError, id=f"{name}-generator-{value!r}"))
    cases += [
        pytest.param("window_threshold", "k", None, TypeError, id="window_threshold-k-None"),
        pytest.param("gradient_norm_bounds", "d", 1, ValueError, id="gradient_norm_bounds-d-1"),
        pytest.param("gradient_norm_search", "mode", "MIN", ValueError, id="search-mode-upper"),
        pytest.param("gradient_norm_search", "mode", None, ValueError, id="search-mode-None"),
        pytest.param("gradient_norm_search", "restarts", -1, ValueError, id="search-restarts-negative"),
        pytest.param("gradient_norm_search", "restarts", 1.5, TypeError, id="search-restarts-float"),
        pytest.param("gradient_norm_search", "flips", 1, TypeError, id="search-flips-int"),
        pytest.param("gradient_norm_search", "flips", "yes", TypeError, id="search-flips-str"),
        pytest.param("gradient_norm_search", "return_weights", None, TypeError, id="search-return_weights-None"),
        pytest.param("sample_value_range", "dtype", torch.int64, TypeError, id="sample-dtype-int"),
        pytest.param("sample_value_range", "dtype", "float64", TypeError, id="sample-dtype-str"),
    ]
    return cases


@pytest.mark.parametrize("fname, arg, value, exc", _cases())
def test_bad_argument_raises_a_named_error_and_changes_nothing(fname, arg, value, exc):
    name, fn, good = next(c for c in _calls() if c[0] == fname)
    kwargs = dict(good)
    snapshot = [t.detach().clone() for t in kwargs.values() if isinstance(t, torch.Tensor)]
    model = kwargs.get("model")
    W_before = model.W.detach().clone() if isinstance(model, ll.TwoLayerReLU) else None
    kwargs[arg] = value
    with pytest.raises(exc, match=f"`{arg}`"):
        fn(**kwargs)
    assert all(torch.equal(a, b) for a, b in zip(snapshot, [t for t in good.values() if isinstance(t, torch.Tensor)]))
    if W_before is not None:
        assert torch.equal(W_before, model.W.detach())


def test_search_rejects_zero_inputs_with_a_clear_message():
    net, x = _ctx()
    _, zero = _bad_x_values(x)
    with pytest.raises(ValueError, match="`x` must have non-zero rows"):
        lemmas.gradient_norm_search(net, zero, 0.1)


@pytest.mark.parametrize("fname", [c[0] for c in _calls()])
def test_good_default_calls_run(fname):
    name, fn, good = next(c for c in _calls() if c[0] == fname)
    fn(**good)


def test_section_exports():
    for name in ("width_upper_limit", "window_threshold", "value_bound", "value_bound_sharp", "sample_value_range",
                 "gradient_decomposition", "gradient_change_bounds", "gradient_norm_bounds", "gradient_norm_search"):
        assert name in lemmas.__all__ and callable(getattr(ll.lemmas, name))


# ---------------------------------------------------------------------------------------------------
# The explorers' figure functions (ll.widgets) of chapters 5-7
# ---------------------------------------------------------------------------------------------------


def test_width_window_figure_draws_the_window_and_validates():
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = ll.widgets.width_window_figure(k=2.0, C4=10.0, C_low=0.5)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert ax.get_xlabel() and ax.get_ylabel()
    upper = ax.lines[0].get_ydata()
    x = ax.lines[0].get_xdata()
    assert upper[-1] == pytest.approx(math.log10(10.0) + (10 ** x[-1]) ** 0.24 / math.log(10), rel=1e-9)
    for kwargs, match in [({"k": 0.0}, "`k`"), ({"C4": -1.0}, "`C4`"), ({"C_low": "1"}, "`C_low`")]:
        with pytest.raises((TypeError, ValueError), match=match):
            ll.widgets.width_window_figure(**kwargs)


def test_value_bound_figure_shows_the_bounds_and_validates():
    from matplotlib.figure import Figure

    fig = ll.widgets.value_bound_figure(m=64, C0=2.0, gamma=0.1, seed=1)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    levels = sorted(float(line.get_xdata()[0]) for line in ax.lines)  # the three vertical lines
    assert levels[-1] == pytest.approx(lemmas.value_bound(0.1, 2.0))
    assert lemmas.value_bound_sharp(0.1, 2.0, 64) in [pytest.approx(v) for v in levels]
    for kwargs, match in [({"m": 0}, "`m`"), ({"C0": -1.0}, "`C0`"), ({"gamma": 1.0}, "`gamma`"),
                          ({"gamma": 0.0}, "`gamma`"), ({"seed": 1.5}, "`seed`")]:
        with pytest.raises((TypeError, ValueError), match=match):
            ll.widgets.value_bound_figure(**kwargs)


def test_gradient_norm_figure_draws_ranges_and_validates():
    from matplotlib.figure import Figure

    fig = ll.widgets.gradient_norm_figure(d=20, m=100, seed=2)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    curves = {line.get_label(): line.get_ydata() for line in ax.lines}
    lo, cert, hi, cmax = (curves[k] for k in ("found min", "certified min", "found max", "certified max"))
    assert all(c <= v + 1e-9 for c, v in zip(cert, lo)) and all(v <= c + 1e-9 for v, c in zip(hi, cmax))
    assert all(a <= b for a, b in zip(lo, hi))
    for kwargs, match in [({"d": 1}, "`d`"), ({"m": 0}, "`m`"), ({"seed": -1}, "`seed`")]:
        with pytest.raises((TypeError, ValueError), match=match):
            ll.widgets.gradient_norm_figure(**kwargs)
