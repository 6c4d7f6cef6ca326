"""The lazy ball B_{2,∞}(W₀, R): radius, deviation, projection, exact value bounds, linearisation."""

from __future__ import annotations

import math

import pytest
import torch

import lazylib as ll
from conftest import D, M, gen, make_model, make_net, members, per_member, perturb_, reference_forward, unit_rows


def _rowwise_projection(W: torch.Tensor, W0: torch.Tensor, R: float) -> torch.Tensor:
    """w_s ← w_{s,0} + (w_s − w_{s,0}) · min(1, R/‖w_s − w_{s,0}‖), one row at a time."""
    out = W.clone()
    for s in range(W.shape[0]):
        delta = W[s] - W0[s]
        norm = float(delta.norm())
        if norm > R:
            out[s] = W0[s] + delta * (R / norm)
    return out


def _set_W(net: ll.TwoLayerReLU, W: torch.Tensor) -> ll.TwoLayerReLU:
    with torch.no_grad():
        net.W.copy_(W)
    return net


def _random_ball_points(net: ll.TwoLayerReLU, R: float, k: int, seed: int) -> torch.Tensor:
    """k weight matrices in B_{2,∞}(W₀, R): random directions per neuron, radii in [0, R] with a third
    of the draws on the boundary (where the extremes are attained)."""
    g = gen(seed)
    dirs = torch.nn.functional.normalize(torch.randn(k, net.m, net.d, generator=g, dtype=torch.float64), dim=2)
    radii = R * torch.rand(k, net.m, 1, generator=g, dtype=torch.float64)
    radii[: k // 3] = R
    return net.W0.unsqueeze(0) + dirs * radii


def _f_batch(net: ll.TwoLayerReLU, x: torch.Tensor, Ws: torch.Tensor) -> torch.Tensor:
    """f(x_i; W_k) for every weight matrix W_k (k, m, d) and input x_i: shape (k, n)."""
    z = torch.einsum("kmd,nd->knm", Ws, x)
    return torch.relu(z) @ net.a * net.output_scale


# ---------------------------------------------------------------------------------------------------
# Radius and deviation
# ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("m, C0", [(1, 0.0), (100, 10.0), (400, 3.0), (7, 2.5)])
def test_lazy_radius(m, C0):
    assert ll.lazy_radius(m, C0) == pytest.approx(C0 / math.sqrt(m), rel=1e-15)


@pytest.mark.parametrize("K", [None, 3])
def test_deviation_of_every_member(K):
    model = perturb_(make_model(K), 0.05)
    dev = ll.deviation(model)
    assert isinstance(dev, float) if K is None else (dev.dtype == torch.float64 and dev.shape == (K,))
    for d, net in zip(per_member(dev, K), members(model)):
        expected = max(float((net.W.detach()[s] - net.W0[s]).norm()) for s in range(M))
        assert float(d) == pytest.approx(expected, rel=1e-14)


def test_deviation_is_the_largest_row_distance(net64):
    assert ll.deviation(net64) == 0.0
    perturb_(net64, 0.05)
    expected = max(float((net64.W.detach()[s] - net64.W0[s]).norm()) for s in range(M))
    assert ll.deviation(net64) == pytest.approx(expected, rel=1e-14)
    with torch.no_grad():
        net64.W[3] = net64.W0[3] + torch.tensor([3.0, 4.0, 0, 0, 0, 0], dtype=torch.float64)
    assert ll.deviation(net64) == pytest.approx(5.0, rel=1e-14)


# ---------------------------------------------------------------------------------------------------
# Projection onto the ball
# ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("K", [None, 3])
@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("R", [0.0, 0.05, 0.3, 10.0])
def test_project_matches_rowwise_formula_and_lands_in_ball(seed, R, K):
    net = perturb_(make_model(K, seed=seed), 0.2, seed=seed + 100)
    W, W0, a = net.W.detach().clone(), net.W0.clone(), net.a.clone()
    out = ll.project_(net, R)
    assert out is net
    for Wk, W0k, new in zip(per_member(W, K), per_member(W0, K), per_member(net.W.detach(), K)):
        torch.testing.assert_close(new, _rowwise_projection(Wk, W0k, R), rtol=1e-13, atol=1e-14)
    assert float(torch.as_tensor(ll.deviation(net), dtype=torch.float64).max()) <= R * (1 + 1e-12) + 1e-15
    assert torch.equal(net.W0, W0) and torch.equal(net.a, a)
    assert net.W.data_ptr() != net.W0.data_ptr()


def test_project_takes_one_radius_per_member():
    ens = perturb_(make_model(3), 0.2)
    radii = [0.05, 0.3, 0.0]
    nets = ens.members()
    ll.project_(ens, radii)
    for k, (net, R) in enumerate(zip(nets, radii)):
        torch.testing.assert_close(ens.W[k].detach(), ll.project_(net, R).W.detach(), rtol=0, atol=1e-15)


def test_project_radius_zero_returns_W0(net64):
    perturb_(net64, 1.0)
    ll.project_(net64, 0.0)
    torch.testing.assert_close(net64.W.detach(), net64.W0, rtol=0, atol=1e-15)


@pytest.mark.parametrize("seed", range(3))
def test_project_is_idempotent(seed):
    net = perturb_(make_net(seed=seed), 0.3, seed=seed)
    ll.project_(net, 0.1)
    once = net.W.detach().clone()
    ll.project_(net, 0.1)
    torch.testing.assert_close(net.W.detach(), once, rtol=0, atol=1e-15)


def test_project_leaves_points_inside_the_ball_unchanged(net64):
    perturb_(net64, 0.01)
    W = net64.W.detach().clone()
    ll.project_(net64, 10 * ll.deviation(net64))
    # unchanged up to the rounding of W0 + (W - W0)
    torch.testing.assert_close(net64.W.detach(), W, rtol=0, atol=4 * torch.finfo(torch.float64).eps * W.abs().max())


@pytest.mark.parametrize("seed", range(5))
def test_project_is_non_expansive(seed):
    # The Euclidean projection onto a convex set is 1-Lipschitz; here per row, so also in (2,∞).
    R = 0.15
    a, b = make_net(seed=seed), make_net(seed=seed)
    perturb_(a, 0.3, seed=seed + 1)
    perturb_(b, 0.3, seed=seed + 2)
    Wa, Wb = a.W.detach().clone(), b.W.detach().clone()
    ll.project_(a, R)
    ll.project_(b, R)
    Pa, Pb = a.W.detach(), b.W.detach()
    assert float((Pa - Pb).norm()) <= float((Wa - Wb).norm()) * (1 + 1e-12)
    row_in, row_out = (Wa - Wb).norm(dim=1), (Pa - Pb).norm(dim=1)
    assert bool((row_out <= row_in * (1 + 1e-12) + 1e-15).all())


def test_project_is_the_nearest_point_of_the_ball(net64):
    # Against random points of the ball: none is closer to W than the projection.
    perturb_(net64, 0.4)
    W = net64.W.detach().clone()
    R = 0.2
    ll.project_(net64, R)
    best = float((net64.W.detach() - W).norm())
    others = _random_ball_points(net64, R, 200, seed=3)
    assert float((others - W).flatten(1).norm(dim=1).min()) >= best


# ---------------------------------------------------------------------------------------------------
# Exact value bounds over the ball
# ---------------------------------------------------------------------------------------------------


def test_value_bounds_radius_zero_is_f_at_W0(net64, x64):
    lo, hi = ll.value_bounds(net64, x64, 0.0)
    f0 = net64(x64).detach()
    torch.testing.assert_close(lo, f0, rtol=1e-12, atol=1e-13)
    torch.testing.assert_close(hi, f0, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("K", [None, 2])
@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("C0", [0.5, 3.0])
def test_value_bounds_contain_f_at_random_points_of_the_ball(seed, C0, K):
    model = make_model(K, seed=seed)
    x = torch.cat([unit_rows(6, D, seed=seed + 30), 2.0 * unit_rows(3, D, seed=seed + 31)])
    R = ll.lazy_radius(M, C0)
    LO, HI = ll.value_bounds(model, x, R)
    assert LO.shape == HI.shape == ((len(x),) if K is None else (K, len(x)))
    for net, lo, hi in zip(members(model), per_member(LO, K), per_member(HI, K)):
        assert bool((lo <= hi).all())
        values = _f_batch(net, x, _random_ball_points(net, R, 3000, seed=seed))
        tol = 1e-12
        assert bool((values >= lo - tol).all()) and bool((values <= hi + tol).all())
        # and the sampled values get reasonably close to the bounds from inside (the bounds are not loose)
        width = hi - lo
        assert bool((values.max(0).values >= hi - 0.5 * width).all())
        assert bool((values.min(0).values <= lo + 0.5 * width).all())


def test_value_bounds_take_one_radius_per_member():
    ens, x = make_model(3), unit_rows(5, D)
    radii = [0.0, 0.1, 0.4]
    lo, hi = ll.value_bounds(ens, x, radii)
    for k, (net, R) in enumerate(zip(ens.members(), radii)):
        ref = ll.value_bounds(net, x, R)
        torch.testing.assert_close(lo[k], ref[0], rtol=1e-13, atol=1e-15)
        torch.testing.assert_close(hi[k], ref[1], rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("which", ["sup", "inf"])
def test_value_extremiser_attains_the_bound_and_lies_in_the_ball(net64, which):
    x = torch.cat([unit_rows(7, D, seed=11), 3.0 * unit_rows(2, D, seed=12)])
    R = ll.lazy_radius(M, 2.0)
    lo, hi = ll.value_bounds(net64, x, R)
    E = ll.value_extremiser(net64, x, R, which=which)
    assert E.shape == (len(x), M, D)
    dev = (E - net64.W0.unsqueeze(0)).norm(dim=2)
    assert bool((dev <= R * (1 + 1e-12)).all())
    attained = torch.stack([reference_forward(net64, x[i : i + 1], E[i])[0] for i in range(len(x))])
    torch.testing.assert_close(attained, hi if which == "sup" else lo, rtol=1e-12, atol=1e-12)


def test_value_extremiser_default_is_sup_and_zero_input_gives_W0(net64):
    x = torch.cat([unit_rows(2, D), torch.zeros(1, D, dtype=torch.float64)])
    R = 0.3
    torch.testing.assert_close(ll.value_extremiser(net64, x, R), ll.value_extremiser(net64, x, R, which="sup"))
    assert torch.equal(ll.value_extremiser(net64, x, R)[2], net64.W0)
    lo, hi = ll.value_bounds(net64, x, R)
    assert float(lo[2]) == float(hi[2]) == 0.0


def test_value_bounds_use_W0_not_the_current_W(net64, x64):
    R = 0.2
    before = ll.value_bounds(net64, x64, R)
    perturb_(net64, 1.0)
    after = ll.value_bounds(net64, x64, R)
    assert torch.equal(before[0], after[0]) and torch.equal(before[1], after[1])


def test_value_bounds_widen_with_the_radius_and_obey_the_lipschitz_bound(net64, x64):
    f0 = net64(x64).detach()
    prev_lo, prev_hi = f0, f0
    for C0 in (0.1, 0.5, 1.0, 4.0):
        lo, hi = ll.value_bounds(net64, x64, ll.lazy_radius(M, C0))
        assert bool((lo <= prev_lo + 1e-13).all()) and bool((hi >= prev_hi - 1e-13).all())
        # relu is 1-Lipschitz: |f(W) − f(W0)| ≤ m^{-1/2} Σ_s R‖x‖ = C0‖x‖ (Lemma (a))
        assert bool((hi - f0 <= C0 * x64.norm(dim=1) + 1e-12).all())
        assert bool((f0 - lo <= C0 * x64.norm(dim=1) + 1e-12).all())
        prev_lo, prev_hi = lo, hi


def test_value_bounds_are_positively_homogeneous_in_x(net64, x64):
    R = 0.3
    lo, hi = ll.value_bounds(net64, x64, R)
    lo2, hi2 = ll.value_bounds(net64, 2 * x64, R)
    torch.testing.assert_close(lo2, 2 * lo, rtol=1e-12, atol=1e-13)
    torch.testing.assert_close(hi2, 2 * hi, rtol=1e-12, atol=1e-13)


# ---------------------------------------------------------------------------------------------------
# Linearisation around W0
# ---------------------------------------------------------------------------------------------------


def test_linearization_equals_f_at_W0(net64, x64):
    torch.testing.assert_close(ll.linearization(net64, x64), net64(x64).detach(), rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("scale", [1e-3, 0.1, 1.0])
def test_linearization_is_the_first_order_taylor_expansion(net64, x64, scale):
    # f(x; W0) + <∇_W f(x; W0), W − W0>, with the gradient from autograd at W0
    W0 = net64.W0.clone().requires_grad_(True)
    z = x64 @ W0.T
    f0 = torch.relu(z) @ net64.a * net64.output_scale
    jac = torch.stack([torch.autograd.grad(f0[i], W0, retain_graph=True)[0] for i in range(len(x64))])
    perturb_(net64, scale)
    delta = (net64.W - net64.W0).detach()
    expected = f0.detach() + (jac * delta).sum(dim=(1, 2))
    torch.testing.assert_close(ll.linearization(net64, x64), expected, rtol=1e-12, atol=1e-12)


def test_linearization_is_affine_in_W_and_exact_when_no_neuron_switches(net64, x64):
    lin0 = ll.linearization(net64, x64)
    delta = 0.05 * torch.randn(M, D, generator=gen(2), dtype=torch.float64)
    _set_W(net64, net64.W0 + delta)
    lin1 = ll.linearization(net64, x64)
    _set_W(net64, net64.W0 + 2 * delta)
    lin2 = ll.linearization(net64, x64)
    torch.testing.assert_close(lin2 - lin0, 2 * (lin1 - lin0), rtol=1e-10, atol=1e-12)
    # Tiny move: if no preactivation changes sign, f is exactly linear in W there.
    tiny = 1e-9 * delta
    _set_W(net64, net64.W0 + tiny)
    same = ((x64 @ net64.W0.T > 0) == (x64 @ net64.W.detach().T > 0)).all(dim=1)
    assert bool(same.all())
    torch.testing.assert_close(ll.linearization(net64, x64), net64(x64).detach(), rtol=1e-12, atol=1e-13)


# ---------------------------------------------------------------------------------------------------
# Neurons that can switch inside the ball (added with chapter 4; tested when present)
# ---------------------------------------------------------------------------------------------------


@pytest.mark.skipif(not hasattr(ll, "switchable_neurons"), reason="ll.switchable_neurons not in this version")
def test_switchable_neurons_counts_the_band(net64, x64):
    R = 0.4
    counts = ll.switchable_neurons(net64, x64, R)
    z0 = x64 @ net64.W0.T
    expected = (z0.abs() <= R * x64.norm(dim=1, keepdim=True)).sum(dim=1)
    assert torch.equal(counts, expected)
    assert ll.switchable_neurons(net64, x64, 0.0).sum() == 0
    assert bool((ll.switchable_neurons(net64, x64, 2 * R) >= counts).all())
    # a neuron outside the band keeps its activation at both extremisers
    for which in ("sup", "inf"):
        E = ll.value_extremiser(net64, x64, R, which=which)
        z = torch.einsum("nmd,nd->nm", E, x64)
        outside = z0.abs() > R * x64.norm(dim=1, keepdim=True)
        assert bool(((z > 0) == (z0 > 0))[outside].all())
