"""Lemma C and the flip (``lazylib.lemmas``, modules ``difference``, ``uniform_difference`` and
``theorem``): the gradient difference over a small input ball, its expectation at initialisation, the
uniform bound, the adversarial search, the lazy-ball transfer, the exact slope change along the attack
ray and the theorem's step.

Reference tests compare with loops over neurons written as in the book's formulas (float64, small
networks); property tests check the inequalities the chapters assert; bad-input tests check that
every argument is validated with a named message and that nothing is modified on error.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import torch

import lazylib as ll
from conftest import gen, make_net, perturb_, unit_rows

L = ll.lemmas
NAN, INF = float("nan"), float("inf")


def _pair(n: int = 12, d: int = 6, r: float = 0.4, seed: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    """n unit inputs and n displacements of length r."""
    return unit_rows(n, d, seed=seed), r * unit_rows(n, d, seed=seed + 50)


def _loop_difference(net: ll.TwoLayerReLU, x: torch.Tensor, u: torch.Tensor, W: torch.Tensor | None = None) -> torch.Tensor:
    """∇f(x+u) − ∇f(x) = m^{-1/2} Σ_{s ∈ S(u)} a_s σ_s w_s, one neuron at a time (vectors, (n, d))."""
    W = net.W.detach() if W is None else W
    out = torch.zeros_like(x)
    for i in range(x.shape[0]):
        for s in range(net.m):
            before, after = float(W[s] @ x[i]) > 0, float(W[s] @ (x[i] + u[i])) > 0
            if before != after:
                out[i] += net.a[s] * (1.0 if after else -1.0) * W[s]
    return out * net.output_scale


def _loop_ray_slope_change(net: ll.TwoLayerReLU, x: torch.Tensor, length: float) -> torch.Tensor:
    """sup_{t < L} |φ'(t) − φ'(0)| from the breakpoints t_s = −w_sᵀx / w_sᵀu found one by one, with the
    slope evaluated by the closed-form gradient at the midpoint of every piece."""
    out = torch.zeros(x.shape[0], dtype=x.dtype)
    for i in range(x.shape[0]):
        xi = x[i:i + 1]
        g = ll.input_gradient(net, xi)[0]
        u = -torch.sign(net(xi).detach()[0]) * g / g.norm()
        W = net.W.detach()
        breaks = sorted(float(-(W[s] @ xi[0]) / (W[s] @ u)) for s in range(net.m)
                        if float(W[s] @ u) != 0 and float(-(W[s] @ xi[0]) / (W[s] @ u)) > 0)
        slope0 = float(g @ u)
        best = 0.0
        for k, b in enumerate(breaks):
            if b >= length:
                break
            nxt = breaks[k + 1] if k + 1 < len(breaks) else b + 1.0  # the slope is constant on (b, nxt)
            mid = 0.5 * (b + nxt)
            slope = float(ll.input_gradient(net, xi + mid * u[None])[0] @ u)
            best = max(best, abs(slope - slope0))
        out[i] = best
    return out


# ---------------------------------------------------------------------------------------------------
# The difference formula (Proposition prop-difference-formula)
# ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("r", [0.05, 0.4, 3.0])
def test_gradient_difference_matches_closed_form_and_neuron_loop(seed, r):
    net = perturb_(make_net(seed=seed), 0.1, seed=seed + 10)
    x, u = _pair(r=r, seed=seed + 1)
    direct = (ll.input_gradient(net, x + u) - ll.input_gradient(net, x)).norm(dim=1)
    loop = _loop_difference(net, x, u).norm(dim=1)
    got = L.gradient_difference(net, x, u)
    torch.testing.assert_close(got, direct, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(got, loop, rtol=1e-12, atol=1e-12)


def test_gradient_difference_agrees_with_autograd_gradients():
    net = make_net(seed=3)
    x, u = _pair(r=0.5, seed=4)

    def autograd_grad(points):
        p = points.clone().requires_grad_(True)
        (g,) = torch.autograd.grad(net(p).sum(), p)
        return g

    expected = (autograd_grad(x + u) - autograd_grad(x)).norm(dim=1)
    torch.testing.assert_close(L.gradient_difference(net, x, u), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("seed", range(3))
def test_switching_neurons_satisfy_the_inclusion_and_counts_match_a_loop(seed):
    net = make_net(seed=seed)
    x, u = _pair(r=0.8, seed=seed + 2)
    zx, zu = ll.preactivations(net, x), ll.preactivations(net, u)
    switched = (ll.preactivations(net, x + u) > 0) != (zx > 0)
    assert bool((zx.abs()[switched] <= zu.abs()[switched] + 1e-12).all())
    W = net.W.detach()
    loop = torch.tensor([sum(int((float(W[s] @ (x[i] + u[i])) > 0) != (float(W[s] @ x[i]) > 0))
                             for s in range(net.m)) for i in range(x.shape[0])])
    assert torch.equal(L.activation_changes(net, x, u), loop)
    assert L.activation_changes(net, x, u).dtype == torch.int64


def test_no_displacement_no_change_and_reflection_switches_everything():
    net = make_net(seed=5)
    x = unit_rows(4, 6, seed=6)
    assert L.gradient_difference(net, x, torch.zeros_like(x)).abs().max() == 0
    assert int(L.activation_changes(net, x, torch.zeros_like(x)).max()) == 0
    # x + u = −x: every neuron with w_sᵀx ≠ 0 (all, almost surely) switches
    assert bool((L.activation_changes(net, x, -2 * x) == net.m).all())


@pytest.mark.parametrize("seed", range(3))
def test_switched_operator_norm_matches_per_row_svd_and_bounds_the_difference(seed):
    net = perturb_(make_net(seed=seed), 0.05, seed=seed + 3)
    x, u = _pair(r=0.6, seed=seed + 7)
    switched = (ll.preactivations(net, x + u) > 0) != (ll.preactivations(net, x) > 0)
    expected = torch.stack([
        torch.linalg.matrix_norm(net.W.detach()[switched[i]], ord=2) if switched[i].any() else torch.tensor(0.0, dtype=torch.float64)
        for i in range(x.shape[0])
    ]) / math.sqrt(net.m)
    got = L.switched_operator_norm(net, x, u)
    torch.testing.assert_close(got, expected, rtol=1e-10, atol=1e-12)
    # Proposition (iii): ‖Δ‖ ≤ √|S| · ‖W_S‖_op / √m
    count = L.activation_changes(net, x, u).double()
    assert bool((L.gradient_difference(net, x, u) <= count.sqrt() * got * (1 + 1e-12) + 1e-12).all())
    assert torch.equal(L.switched_operator_norm(net, x, torch.zeros_like(u)), torch.zeros(x.shape[0], dtype=torch.float64))


# ---------------------------------------------------------------------------------------------------
# The fixed-direction lemma (lem-difference-fixed)
# ---------------------------------------------------------------------------------------------------


def test_switch_angle_special_cases_and_acos_reference():
    x = torch.tensor([[1.0, 0.0, 0.0]] * 4, dtype=torch.float64)
    u = torch.tensor([[0.0, 0.0, 0.0], [-1.0, 1.0, 0.0], [-2.0, 0.0, 0.0], [2.0, 0.0, 0.0]], dtype=torch.float64)
    torch.testing.assert_close(L.switch_angle(x, u), torch.tensor([0.0, math.pi / 2, math.pi, 0.0], dtype=torch.float64),
                               rtol=0, atol=1e-12)
    x, u = _pair(n=30, d=5, r=0.7, seed=11)
    y = x + u
    ref = torch.acos((x * y).sum(1) / (x.norm(dim=1) * y.norm(dim=1)))
    torch.testing.assert_close(L.switch_angle(x, u), ref, rtol=1e-9, atol=1e-9)


def test_switch_angle_is_bounded_by_arcsin_of_the_displacement():
    # ‖x‖ = 1, ‖u‖ = r < 1: θ ≤ arcsin r, with equality for u tangent to the sphere of radius r around x
    for r in (0.01, 0.3, 0.9):
        x, u = _pair(n=200, d=7, r=r, seed=12)
        assert float(L.switch_angle(x, u).max()) <= math.asin(r) + 1e-12
    x = torch.tensor([[1.0, 0.0]], dtype=torch.float64)
    r = 0.5
    tangent = torch.tensor([[-r * r, r * math.sqrt(1 - r * r)]], dtype=torch.float64)  # ⟨x + u, u⟩ = 0
    assert float(L.switch_angle(x, tangent)) == pytest.approx(math.asin(r), rel=1e-12)


def test_moments_are_the_closed_form():
    x, u = _pair(n=5, d=9, r=0.3, seed=13)
    theta = L.switch_angle(x, u)
    mom = L.gradient_difference_moments(x, u, 250)
    torch.testing.assert_close(mom.count, 250 * theta / math.pi)
    torch.testing.assert_close(mom.square_norm, 9 * theta / math.pi)
    assert isinstance(mom, L.DifferenceMoments)


@pytest.mark.statistical
@pytest.mark.parametrize("theta", [0.1, 0.6, 2.0])
def test_moments_match_monte_carlo_over_initialisations(theta):
    # K independent networks, one fixed (x, u) at angle θ; means within 5 standard errors.
    d, m, K = 10, 60, 3000
    x = torch.zeros(1, d, dtype=torch.float64)
    x[0, 0] = 1.0
    u = torch.zeros(1, d, dtype=torch.float64)
    u[0, 0], u[0, 1] = math.cos(theta) - 1.0, math.sin(theta)
    g = gen(100)
    counts, squares = [], []
    for _ in range(K):
        net = ll.TwoLayerReLU(d, m, generator=g, dtype=torch.float64)
        counts.append(float(L.activation_changes(net, x, u)[0]))
        squares.append(float(L.gradient_difference(net, x, u)[0]) ** 2)
    counts, squares = torch.tensor(counts), torch.tensor(squares)
    mom = L.gradient_difference_moments(x, u, m)
    for sample, target in ((counts, float(mom.count)), (squares, float(mom.square_norm))):
        se = float(sample.std()) / math.sqrt(K)
        assert abs(float(sample.mean()) - target) < 5 * se
        assert se < 0.05 * target  # the test has power


# ---------------------------------------------------------------------------------------------------
# The uniform lemma (lem-difference-uniform)
# ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("m, d", [(1, 1), (5, 1), (10, 3), (40, 6), (7, 20)])
def test_log_pattern_count_is_the_binomial_sum(m, d):
    expected = math.log(sum(math.comb(m, i) for i in range(0, min(d + 1, m) + 1)))
    assert L.log_pattern_count(m, d) == pytest.approx(expected, rel=1e-12)


def test_pattern_count_bounds_the_patterns_reachable_by_moving_the_input():
    # Brute force in d = 2: sample displacements u densely over a large disc, collect the distinct
    # activation patterns 1[w_sᵀ(x + u) > 0]; Sauer–Shelah says at most Σ_{i ≤ 3} C(m, i).
    for seed in range(3):
        net = make_net(d=2, m=7, seed=seed)
        x = unit_rows(1, 2, seed=seed + 1)
        r = torch.linspace(0, 30, 300, dtype=torch.float64)
        phi = torch.linspace(0, 2 * math.pi, 720, dtype=torch.float64)
        grid = torch.stack([(r[:, None] * torch.cos(phi)).flatten(), (r[:, None] * torch.sin(phi)).flatten()], 1)
        patterns = (ll.preactivations(net, x + grid) > 0)
        distinct = len({tuple(p.tolist()) for p in patterns})
        assert distinct <= math.exp(L.log_pattern_count(7, 2)) + 1e-9
        assert distinct > 7  # the brute force did explore many cells


def test_uniform_factor_formula_and_monotonicity():
    m, d, gamma = 500, 20, 0.05
    expected = 2 * math.sqrt(2 * (L.log_pattern_count(m, d) + d * math.log(5) + math.log(1 / gamma)))
    assert L.uniform_difference_factor(m, d, gamma) == pytest.approx(expected, rel=1e-14)
    assert L.uniform_difference_factor(2 * m, d, gamma) > L.uniform_difference_factor(m, d, gamma)
    assert L.uniform_difference_factor(m, d, gamma / 2) > L.uniform_difference_factor(m, d, gamma)


def test_uniform_bound_holds_for_random_attack_and_searched_directions():
    # The lemma: with probability ≥ 1 − γ over the signs, ‖Δ(u)‖ ≤ K·‖W_{S(u)}‖_op/√m for all u. With
    # γ = 1e-3 and 20 independent networks a failure would have probability below 2 %; the measured
    # ratio is far below 1, so the test is not flaky.
    worst = 0.0
    for seed in range(20):
        net = make_net(d=8, m=60, seed=seed)
        x = unit_rows(6, 8, seed=seed + 200)
        K = L.uniform_difference_factor(60, 8, 1e-3)
        us = [0.3 * unit_rows(6, 8, seed=seed + 300), L.gradient_difference_search(net, x, 0.3, restarts=4, steps=15,
                                                                                    generator=gen(seed))[0]]
        for u in us:
            ratio = L.gradient_difference(net, x, u) / (K * L.switched_operator_norm(net, x, u)).clamp_min(1e-300)
            worst = max(worst, float(ratio.max()))
    assert worst <= 1.0
    assert worst > 0.01  # the directions did switch neurons


@pytest.mark.parametrize("seed", range(3))
def test_naive_bound_matches_a_loop_and_dominates_every_searched_difference(seed):
    net = perturb_(make_net(d=5, m=40, seed=seed), 0.05, seed=seed + 1)
    x = unit_rows(6, 5, seed=seed + 2)
    r = 0.4
    W = net.W.detach()
    expected = []
    for i in range(6):
        rows = W[(W @ x[i]).abs() <= r * W.norm(dim=1)]
        expected.append(math.sqrt(len(rows)) * (float(torch.linalg.matrix_norm(rows, ord=2)) if len(rows) else 0.0))
    got = L.naive_difference_bound(net, x, r)
    torch.testing.assert_close(got, torch.tensor(expected, dtype=torch.float64) / math.sqrt(net.m), rtol=1e-10, atol=1e-12)
    _, best = L.gradient_difference_search(net, x, r, restarts=6, steps=20, generator=gen(seed))
    assert bool((best <= got * (1 + 1e-12)).all())
    random_u = r * unit_rows(6, 5, seed=seed + 9)
    assert bool((L.gradient_difference(net, x, random_u) <= got * (1 + 1e-12)).all())


# ---------------------------------------------------------------------------------------------------
# The adversarial search
# ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(12))
def test_search_finds_the_brute_force_supremum_in_two_dimensions(seed):
    # d = 2, m = 6: the difference is constant on the cells of an arrangement of 6 lines; a dense polar
    # grid over the disc visits every cell of non-negligible size. The search must reach its maximum.
    net = make_net(d=2, m=6, seed=seed)
    x = unit_rows(3, 2, seed=seed + 10)
    r = 0.8
    rad = torch.linspace(0, r, 200, dtype=torch.float64)
    phi = torch.linspace(0, 2 * math.pi, 800, dtype=torch.float64)
    grid = torch.stack([(rad[:, None] * torch.cos(phi)).flatten(), (rad[:, None] * torch.sin(phi)).flatten()], 1)
    brute = torch.stack([L.gradient_difference(net, x[i:i + 1].expand(len(grid), 2), grid).max() for i in range(3)])
    u, best = L.gradient_difference_search(net, x, r, restarts=12, steps=60, generator=gen(seed))
    assert bool((best >= brute * (1 - 1e-9)).all())
    assert bool((u.norm(dim=1) <= r * (1 + 1e-12)).all())


def test_search_returns_exact_values_in_the_ball_and_beats_the_attack_direction():
    net = make_net(d=10, m=200, seed=2)
    x = unit_rows(5, 10, seed=3)
    r = 0.3
    u, best = L.gradient_difference_search(net, x, r, restarts=5, steps=20, generator=gen(4))
    assert u.shape == x.shape and best.shape == (5,)
    assert bool((u.norm(dim=1) <= r * (1 + 1e-12)).all())
    assert torch.equal(best, L.gradient_difference(net, x, u))
    g = ll.input_gradient(net, x)
    attack = -torch.sign(net(x).detach())[:, None] * r * g / g.norm(dim=1, keepdim=True)
    assert bool((best >= L.gradient_difference(net, x, attack)).all())
    again = L.gradient_difference_search(net, x, r, restarts=5, steps=20, generator=gen(4))
    assert torch.equal(again[0], u)  # deterministic given the generator
    u0, best0 = L.gradient_difference_search(net, x, 0.0, restarts=2, steps=3)
    assert torch.equal(u0, torch.zeros_like(x)) and torch.equal(best0, torch.zeros(5, dtype=torch.float64))


def test_search_with_one_radius_per_input_equals_separate_searches():
    net = make_net(d=6, m=80, seed=3)
    x = unit_rows(4, 6, seed=4)
    radii = torch.tensor([0.0, 0.1, 0.4, 1.2], dtype=torch.float64)
    u, best = L.gradient_difference_search(net, x, radii, restarts=5, steps=15, generator=gen(5))
    assert bool((u.norm(dim=1) <= radii * (1 + 1e-12)).all())
    assert float(best[0]) == 0.0 and float(u[0].abs().max()) == 0.0
    for i, r in enumerate(radii.tolist()):
        u_i, best_i = L.gradient_difference_search(net, x, r, restarts=5, steps=15, generator=gen(5))
        torch.testing.assert_close(u[i], u_i[i], rtol=1e-12, atol=1e-14)
        torch.testing.assert_close(best[i], best_i[i], rtol=1e-12, atol=1e-14)


def test_search_follows_the_model_dtype():
    net = make_net(d=5, m=30, seed=1, dtype=torch.float32)
    x = unit_rows(2, 5, seed=2, dtype=torch.float32)
    u, best = L.gradient_difference_search(net, x, 0.2, restarts=2, steps=2)
    assert u.dtype == torch.float32 and best.dtype == torch.float32


# ---------------------------------------------------------------------------------------------------
# The lazy ball (prop-difference-lazy)
# ---------------------------------------------------------------------------------------------------


def _random_ball_point(net: ll.TwoLayerReLU, R: float, seed: int, boundary: bool) -> ll.TwoLayerReLU:
    g = gen(seed)
    dirs = torch.nn.functional.normalize(torch.randn(net.m, net.d, generator=g, dtype=torch.float64), dim=1)
    radii = R * (torch.ones(net.m, 1, dtype=torch.float64) if boundary else torch.rand(net.m, 1, generator=g, dtype=torch.float64))
    with torch.no_grad():
        net.W.copy_(net.W0 + dirs * radii)
    return net


def test_lazy_gap_is_zero_at_initialisation_and_matches_a_loop():
    net = make_net(d=6, m=40, seed=1)
    x, u = _pair(r=0.5, seed=2)
    assert L.lazy_difference_gap(net, x, u).abs().max() == 0
    _random_ball_point(net, 0.3, seed=3, boundary=False)
    expected = (_loop_difference(net, x, u) - _loop_difference(net, x, u, W=net.W0)).norm(dim=1)
    torch.testing.assert_close(L.lazy_difference_gap(net, x, u), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("R", [0.02, 0.2, 1.0])
def test_lazy_bound_dominates_the_gap_everywhere_in_the_ball(seed, R):
    net = _random_ball_point(make_net(d=6, m=80, seed=seed), R, seed=seed + 20, boundary=seed % 2 == 0)
    x, u = _pair(n=16, r=0.3, seed=seed + 30)
    gap = L.lazy_difference_gap(net, x, u)
    bound = L.lazy_difference_bound(net, x, u, R)
    assert bool((gap <= bound * (1 + 1e-12) + 1e-12).all())


def test_lazy_bound_vanishes_at_radius_zero_and_refuses_a_too_small_radius():
    net = make_net(d=6, m=40, seed=1)
    x, u = _pair(r=0.5, seed=2)
    assert L.lazy_difference_bound(net, x, u, 0.0).abs().max() == 0
    _random_ball_point(net, 0.3, seed=3, boundary=True)
    with pytest.raises(ValueError, match="`radius` must be at least the model's deviation"):
        L.lazy_difference_bound(net, x, u, 0.2)


# ---------------------------------------------------------------------------------------------------
# The window of the uniform bound
# ---------------------------------------------------------------------------------------------------


def _excess(d: int, c: float, gamma: float, m: float) -> float:
    theta = math.asin(min(c / math.sqrt(d), 1.0))
    K = 2 * math.sqrt(2 * ((d + 1) * math.log(math.e * m / (d + 1)) + d * math.log(5) + math.log(1 / gamma)))
    return K * (math.sqrt(2 * theta / math.pi) + math.sqrt(d / m)) - 0.5 * math.sqrt(d / 2)


def test_window_is_empty_at_image_sizes_and_its_ends_solve_the_inequality():
    assert all(math.isnan(v) for v in L.difference_window(784, 2.0, 0.1))
    d, c, gamma = 10**8, 1.0, 0.1
    lo, hi = L.difference_window(d, c, gamma)
    assert 0 < lo < hi
    inside = 10 ** (0.5 * (lo + hi))
    assert _excess(d, c, gamma, inside) < 0
    assert _excess(d, c, gamma, 10 ** (lo - 0.01)) > 0
    assert _excess(d, c, gamma, 10 ** (hi + 0.01)) > 0
    assert abs(_excess(d, c, gamma, 10**lo)) < 1e-6 * math.sqrt(d)


def test_window_shrinks_with_the_radius_and_its_top_grows_like_exp_sqrt_d():
    w1, w2 = L.difference_window(10**8, 1.0, 0.1), L.difference_window(10**8, 2.0, 0.1)
    assert w2.log10_high < w1.log10_high and w2.log10_low > w1.log10_low
    # log m_max ∝ √d (sub-exponential): the top's log grows by about √10 per decade of d
    tops = [L.difference_window(10**k, 1.0, 0.1).log10_high for k in (8, 9, 10)]
    ratios = [tops[1] / tops[0], tops[2] / tops[1]]
    assert all(abs(r - math.sqrt(10)) < 0.25 for r in ratios)


# ---------------------------------------------------------------------------------------------------
# The flip along the ray and the theorem's step
# ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(3))
def test_ray_slope_change_matches_a_breakpoint_loop(seed):
    net = perturb_(make_net(d=5, m=30, seed=seed), 0.05, seed=seed + 4)
    x = unit_rows(4, 5, seed=seed + 5)
    for length in (0.05, 0.5, 3.0):
        torch.testing.assert_close(L.ray_slope_change(net, x, length), _loop_ray_slope_change(net, x, length),
                                   rtol=1e-10, atol=1e-12)


def test_ray_slope_change_properties():
    net = make_net(d=8, m=100, seed=1)
    x = unit_rows(6, 8, seed=2)
    assert L.ray_slope_change(net, x, 0.0).abs().max() == 0
    values = [L.ray_slope_change(net, x, t) for t in (0.01, 0.1, 0.5, 2.0)]
    assert all(bool((b >= a).all()) for a, b in zip(values, values[1:]))  # non-decreasing in L
    per_point = L.ray_slope_change(net, x, torch.tensor([0.01, 0.1, 0.5, 2.0, 0.0, 1.0], dtype=torch.float64))
    torch.testing.assert_close(per_point[:4], torch.stack([v[i] for i, v in enumerate(values)]))
    # the directional change never exceeds the full gradient difference at the same points
    g = ll.input_gradient(net, x)
    u = -torch.sign(net(x).detach())[:, None] * g / g.norm(dim=1, keepdim=True)
    ts = torch.linspace(0, 0.5, 400, dtype=torch.float64)
    worst = torch.stack([L.gradient_difference(net, x, t * u) for t in ts]).max(dim=0).values
    assert bool((values[2] <= worst + 1e-12).all())


def test_flip_sandwich_of_the_ray_proposition():
    # |f|/(‖g‖ + D(t*)) ≤ t* ≤ |f|/(‖g‖ − D(t*)) when D(t*) < ‖g‖
    for seed in range(4):
        net = perturb_(make_net(d=20, m=300, seed=seed), 0.02, seed=seed + 1)
        x = unit_rows(30, 20, seed=seed + 2)
        f, gn = net(x).detach().abs(), ll.input_gradient(net, x).norm(dim=1)
        t = ll.flip_distance(net, x)
        ok = torch.isfinite(t)
        D = L.ray_slope_change(net, x[ok], t[ok])
        f, gn, t = f[ok], gn[ok], t[ok]
        assert bool((t >= f / (gn + D) * (1 - 1e-9)).all())
        small = D < gn
        assert bool((t[small] <= f[small] / (gn[small] - D[small]) * (1 + 1e-9)).all())


def test_theorem_eta_gives_steps_of_length_C2_over_the_gradient_norm():
    net = make_net(d=6, m=50, seed=1)
    x = unit_rows(8, 6, seed=2)
    eta = L.theorem_eta(net, x, 0.7)
    g = ll.input_gradient(net, x)
    step = ll.gradient_step(net, x, eta) - x
    torch.testing.assert_close(step.norm(dim=1) * g.norm(dim=1), torch.full((8,), 0.7, dtype=torch.float64))
    assert bool((torch.sign(eta) == -torch.sign(net(x).detach())).all())
    # at x = 0 no neuron is active: no gradient, no step
    assert float(L.theorem_eta(net, torch.zeros(1, 6, dtype=torch.float64), 1.0)[0]) == 0.0


def test_step_flips_matches_the_gradient_step_and_flip_fraction_is_its_mean():
    net = make_net(d=10, m=200, seed=3)
    x = unit_rows(25, 10, seed=4)
    grid = [0.0, 0.3, 1.0, 2.5]
    flips = L.step_flips(net, x, grid)
    assert flips.shape == (4, 25) and flips.dtype == torch.bool
    for k, c in enumerate(grid):
        moved = ll.gradient_step(net, x, L.theorem_eta(net, x, c))
        expected = torch.sign(net(moved).detach()) != torch.sign(net(x).detach())
        assert torch.equal(flips[k], expected)
        assert torch.equal(L.step_flips(net, x, c), expected)
        assert L.flip_fraction(net, x, c) == pytest.approx(float(expected.double().mean()))
    assert not bool(flips[0].any())  # C2 = 0 does not move x
    frac = L.flip_fraction(net, x, torch.tensor(grid))
    assert isinstance(frac, torch.Tensor) and frac.dtype == torch.float64 and frac.shape == (4,)


def test_critical_C2_is_the_first_flip():
    net = make_net(d=10, m=200, seed=5)
    x = unit_rows(25, 10, seed=6)
    crit = L.critical_C2(net, x)
    torch.testing.assert_close(crit, ll.flip_distance(net, x) * ll.input_gradient(net, x).norm(dim=1))
    grid = torch.linspace(0, 5, 101, dtype=torch.float64)
    flips = L.step_flips(net, x, grid)
    # a step that flips has reached the boundary: C2 ≥ the critical value
    assert bool((crit[None, :].expand_as(flips)[flips] <= grid[:, None].expand_as(flips)[flips] * (1 + 1e-9)).all())
    finite = torch.isfinite(crit)
    just_after = L.step_flips(net, x[finite], float(crit[finite].max()) * 0 + 0.0)
    assert not bool(just_after.any())
    for i in torch.nonzero(finite).flatten()[:5].tolist():
        assert bool(L.step_flips(net, x[i:i + 1], float(crit[i]) * (1 + 1e-6))[0])


# ---------------------------------------------------------------------------------------------------
# Figures of chapters 8 and 9
# ---------------------------------------------------------------------------------------------------


def test_figures_draw_and_reject_bad_sizes():
    import matplotlib.pyplot as plt

    fig = ll.widgets.gradient_difference_figure(d=12, m=40, c=2.0, seed=1)
    assert len(fig.axes) == 1
    plt.close(fig)
    fig = ll.widgets.flip_fraction_figure(d=8, m=30, C0=5.0, seed=1)
    assert len(fig.axes) == 1
    plt.close(fig)
    with pytest.raises(ValueError, match="`d`"):
        ll.widgets.gradient_difference_figure(d=1)
    with pytest.raises(ValueError, match="`c`"):
        ll.widgets.gradient_difference_figure(c=0.0)
    with pytest.raises(ValueError, match="`C0`"):
        ll.widgets.flip_fraction_figure(C0=-1.0)
    with pytest.raises(ValueError, match="`m`"):
        ll.widgets.flip_fraction_figure(m=0)
    fig = ll.plotting.paired_scatter_plot({"a": ([1.0, 2.0], [1.0, 2.5]), "b": ([0.5], [0.4])},
                                          xlabel="predicted", ylabel="exact", logx=True, logy=True)
    plt.close(fig)
    fig = ll.plotting.factor_bar_plot({"a": 2.0, "b": 40.0}, xlabel="factor")
    plt.close(fig)
    fig = ll.plotting.legend_below_plot({"a": ([1.0, 10.0, 100.0], [1.0, 0.5, NAN]), "b": ([1.0, 3.0], [0.2, 0.3])},
                                        xlabel="x", ylabel="y", logx=True, logy=True, hlines={"level": 0.5},
                                        styles={"b": {"linestyle": "--"}})
    assert len(fig.axes) == 1 and len(fig.axes[0].get_legend().get_texts()) == 3
    plt.close(fig)
    with pytest.raises(ValueError, match="`curves"):
        ll.plotting.legend_below_plot({"a": ([1.0, 2.0], [1.0])}, xlabel="x", ylabel="y")
    with pytest.raises(TypeError, match="`curves"):
        ll.plotting.legend_below_plot({"a": [1.0, 2.0, 3.0]}, xlabel="x", ylabel="y")
    with pytest.raises(ValueError, match="`ncol`"):
        ll.plotting.legend_below_plot({"a": ([1.0], [1.0])}, xlabel="x", ylabel="y", ncol=0)
    with pytest.raises(ValueError, match="`groups"):
        ll.plotting.paired_scatter_plot({"a": ([1.0, 2.0], [1.0])}, xlabel="x", ylabel="y")
    with pytest.raises(TypeError, match="`groups"):
        ll.plotting.paired_scatter_plot({"a": [1.0, 2.0, 3.0]}, xlabel="x", ylabel="y")
    with pytest.raises(TypeError, match="`groups`"):
        ll.plotting.paired_scatter_plot({}, xlabel="x", ylabel="y")
    with pytest.raises(ValueError, match="`factors`"):
        ll.plotting.factor_bar_plot({"a": 0.0}, xlabel="x")
    with pytest.raises(ValueError, match="`factors`"):
        ll.plotting.factor_bar_plot({"a": NAN}, xlabel="x")
    with pytest.raises(TypeError, match="`factors`"):
        ll.plotting.factor_bar_plot([1.0], xlabel="x")


# ---------------------------------------------------------------------------------------------------
# Bad input: every public function of this section, every argument
# ---------------------------------------------------------------------------------------------------

D, M, N = 4, 8, 5


def _ctx():
    net = ll.TwoLayerReLU(D, M, generator=gen(0), dtype=torch.float64)
    with torch.no_grad():
        net.W.add_(0.05 * torch.randn(M, D, generator=gen(1), dtype=torch.float64))
    x = unit_rows(N, D, seed=2)
    u = 0.2 * unit_rows(N, D, seed=3)
    return net, x, u


CALLS = {
    "gradient_difference": (L.gradient_difference, lambda n, x, u: dict(model=n, x=x, u=u)),
    "activation_changes": (L.activation_changes, lambda n, x, u: dict(model=n, x=x, u=u)),
    "switched_operator_norm": (L.switched_operator_norm, lambda n, x, u: dict(model=n, x=x, u=u)),
    "lazy_difference_gap": (L.lazy_difference_gap, lambda n, x, u: dict(model=n, x=x, u=u)),
    "lazy_difference_bound": (L.lazy_difference_bound, lambda n, x, u: dict(model=n, x=x, u=u, radius=0.5)),
    "gradient_difference_search": (L.gradient_difference_search,
                                   lambda n, x, u: dict(model=n, x=x, radius=0.2, restarts=2, steps=2, generator=gen(0))),
    "ray_slope_change": (L.ray_slope_change, lambda n, x, u: dict(model=n, x=x, length=0.1)),
    "naive_difference_bound": (L.naive_difference_bound, lambda n, x, u: dict(model=n, x=x, radius=0.3)),
    "theorem_eta": (L.theorem_eta, lambda n, x, u: dict(model=n, x=x, C2=1.0)),
    "step_flips": (L.step_flips, lambda n, x, u: dict(model=n, x=x, C2=[0.5, 1.0])),
    "flip_fraction": (L.flip_fraction, lambda n, x, u: dict(model=n, x=x, C2=1.0)),
    "critical_C2": (L.critical_C2, lambda n, x, u: dict(model=n, x=x)),
    "switch_angle": (L.switch_angle, lambda n, x, u: dict(x=x, u=u)),
    "gradient_difference_moments": (L.gradient_difference_moments, lambda n, x, u: dict(x=x, u=u, m=10)),
    "log_pattern_count": (L.log_pattern_count, lambda n, x, u: dict(m=10, d=3)),
    "uniform_difference_factor": (L.uniform_difference_factor, lambda n, x, u: dict(m=10, d=3, gamma=0.1)),
    "difference_window": (L.difference_window, lambda n, x, u: dict(d=100, c=1.0, gamma=0.1)),
}


def _with(t: torch.Tensor, value: float) -> torch.Tensor:
    t = t.clone()
    t.view(-1)[1] = value
    return t


def _meta(shape):
    return torch.empty(shape, dtype=torch.float64, device="meta")


BAD_TENSOR = [  # for x and u of the model-based functions
    ("list", lambda t: t.tolist(), TypeError),
    ("int", lambda t: t.round().long(), TypeError),
    ("float32", lambda t: t.float(), TypeError),
    ("1-D", lambda t: t[0], ValueError),
    ("wrong-d", lambda t: t[:, :3], ValueError),
    ("nan", lambda t: _with(t, NAN), ValueError),
    ("inf", lambda t: _with(t, INF), ValueError),
    ("other-device", lambda t: _meta(tuple(t.shape)), ValueError),
]
BAD_NONNEG = [("negative", -0.1, ValueError), ("nan", NAN, ValueError), ("inf", INF, ValueError),
              ("string", "0.1", TypeError), ("None", None, TypeError), ("bool", True, TypeError)]
BAD_POSINT = [("zero", 0, ValueError), ("float", 2.5, TypeError), ("string", "3", TypeError), ("None", None, TypeError)]
BAD_GAMMA = [("zero", 0.0, ValueError), ("one", 1.0, ValueError), ("nan", NAN, ValueError), ("string", "0.1", TypeError)]


def _cases():
    cases = []
    for name, (_, kw) in CALLS.items():
        args = kw(*_ctx())
        if "model" in args:
            for label, bad in (("None", None), ("string", "net"), ("linear", torch.nn.Linear(D, 1))):
                cases.append(pytest.param(name, "model", lambda c, b=bad: b, TypeError, id=f"{name}-model-{label}"))
        for arg in ("x", "u"):
            if arg in args and name not in ("switch_angle", "gradient_difference_moments"):
                for label, bad, exc in BAD_TENSOR:
                    cases.append(pytest.param(name, arg, lambda c, b=bad, a=arg: b(c[a]), exc, id=f"{name}-{arg}-{label}"))
        if "u" in args and name not in ("switch_angle", "gradient_difference_moments"):
            cases.append(pytest.param(name, "u", lambda c: c["u"][:-1], ValueError, id=f"{name}-u-fewer-rows"))
        for arg in ("radius", "C2", "length"):
            if arg in args:
                for label, bad, exc in BAD_NONNEG:
                    cases.append(pytest.param(name, arg, lambda c, b=bad: b, exc, id=f"{name}-{arg}-{label}"))
        for arg in ("m", "d", "steps"):
            if arg in args:
                for label, bad, exc in BAD_POSINT:
                    cases.append(pytest.param(name, arg, lambda c, b=bad: b, exc, id=f"{name}-{arg}-{label}"))
        if "gamma" in args:
            for label, bad, exc in BAD_GAMMA:
                cases.append(pytest.param(name, "gamma", lambda c, b=bad: b, exc, id=f"{name}-gamma-{label}"))
    for name in ("switch_angle", "gradient_difference_moments"):
        for arg in ("x", "u"):
            for label, bad, exc in (("list", lambda t: t.tolist(), TypeError), ("int", lambda t: t.long(), TypeError),
                                    ("1-D", lambda t: t[0], ValueError), ("nan", lambda t: _with(t, NAN), ValueError)):
                cases.append(pytest.param(name, arg, lambda c, b=bad, a=arg: b(c[a]), exc, id=f"{name}-{arg}-{label}"))
        cases += [
            pytest.param(name, "u", lambda c: c["u"][:, :3], ValueError, id=f"{name}-u-other-shape"),
            pytest.param(name, "x", lambda c: torch.zeros(N, D, dtype=torch.float64), ValueError, id=f"{name}-x-zero-row"),
            pytest.param(name, "u", lambda c: -c["x"], ValueError, id=f"{name}-u-cancels-x"),
            pytest.param(name, "u", lambda c: _meta((N, D)), ValueError, id=f"{name}-u-other-device"),
        ]
    cases += [
        pytest.param("gradient_difference_search", "restarts", lambda c: 1, ValueError, id="search-restarts-one"),
        pytest.param("gradient_difference_search", "restarts", lambda c: 2.0, TypeError, id="search-restarts-float"),
        pytest.param("gradient_difference_search", "generator", lambda c: 0, TypeError, id="search-generator-int"),
        pytest.param("gradient_difference_search", "radius", lambda c: torch.ones(N + 1, dtype=torch.float64), ValueError, id="search-radius-wrong-n"),
        pytest.param("gradient_difference_search", "radius", lambda c: -torch.ones(N, dtype=torch.float64), ValueError, id="search-radius-negative-tensor"),
        pytest.param("gradient_difference_search", "radius", lambda c: _with(torch.ones(N, dtype=torch.float64), NAN), ValueError, id="search-radius-nan-tensor"),
        pytest.param("gradient_difference_search", "radius", lambda c: torch.ones(N, dtype=torch.int64), TypeError, id="search-radius-int-tensor"),
        pytest.param("gradient_difference_search", "radius", lambda c: _meta((N,)), ValueError, id="search-radius-other-device"),
        pytest.param("ray_slope_change", "length", lambda c: torch.ones(N + 1, dtype=torch.float64), ValueError, id="ray-length-wrong-n"),
        pytest.param("ray_slope_change", "length", lambda c: -torch.ones(N, dtype=torch.float64), ValueError, id="ray-length-negative-tensor"),
        pytest.param("ray_slope_change", "length", lambda c: _with(torch.ones(N, dtype=torch.float64), NAN), ValueError, id="ray-length-nan-tensor"),
        pytest.param("ray_slope_change", "length", lambda c: _meta((N,)), ValueError, id="ray-length-other-device"),
        pytest.param("step_flips", "C2", lambda c: [0.5, -1.0], ValueError, id="flips-C2-negative-in-list"),
        pytest.param("step_flips", "C2", lambda c: [], ValueError, id="flips-C2-empty"),
        pytest.param("flip_fraction", "C2", lambda c: torch.ones(2, 2), ValueError, id="fraction-C2-2-D"),
        pytest.param("difference_window", "c", lambda c: 0.0, ValueError, id="window-c-zero"),
        pytest.param("difference_window", "c", lambda c: "1", TypeError, id="window-c-string"),
        pytest.param("lazy_difference_bound", "radius", lambda c: 0.001, ValueError, id="lazy-radius-too-small"),
    ]
    return cases


@pytest.mark.parametrize("name, arg, bad, exc", _cases())
def test_bad_argument_raises_a_named_error_and_changes_nothing(name, arg, bad, exc):
    fn, kw = CALLS[name]
    net, x, u = _ctx()
    kwargs = kw(net, x, u)
    kwargs[arg] = bad({"x": x, "u": u})
    snap = [t.detach().clone() for t in (x, u, net.W, net.W0, net.a)]
    with pytest.raises(exc, match=re.escape(f"`{arg}`")) as info:
        fn(**kwargs)
    assert type(info.value) in (TypeError, ValueError)
    assert all(torch.equal(a, b) for a, b in zip(snap, (x, u, net.W.detach(), net.W0, net.a)))


@pytest.mark.parametrize("name", sorted(CALLS))
def test_good_default_calls_run(name):
    fn, kw = CALLS[name]
    fn(**kw(*_ctx()))


def test_every_public_name_of_the_section_is_covered():
    section = {"gradient_difference", "activation_changes", "switch_angle", "gradient_difference_moments",
               "switched_operator_norm", "log_pattern_count", "uniform_difference_factor",
               "gradient_difference_search", "ray_slope_change", "theorem_eta", "step_flips", "flip_fraction",
               "critical_C2", "lazy_difference_gap", "lazy_difference_bound", "difference_window",
               "naive_difference_bound"}
    assert section <= set(L.__all__)
    assert section <= set(CALLS)
    assert np.all([callable(getattr(L, name)) for name in section])
