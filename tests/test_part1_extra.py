"""Tests for lazylib.random_networks.ray_minimum (chapter 3, narrow networks): reference, property, bad input."""

import pytest
import torch

import lazylib as ll
from lazylib.random_networks import ray_minimum


def _setup(d, m, n, seed):
    gen = torch.Generator().manual_seed(seed)
    net = ll.TwoLayerReLU(d, m, generator=gen, dtype=torch.float64)
    x, _ = ll.data.sphere(n, d, generator=gen, dtype=torch.float64)
    return net, x


def test_reference_brute_force_at_breakpoints():
    # Reference: evaluate sign f(x) * f(x + t u) directly at 0 and at every breakpoint, for each input.
    net, x = _setup(8, 6, 40, 0)
    f0 = net(x).detach()
    keep = f0 != 0
    net_x = x[keep]
    f0 = f0[keep]
    u = -torch.sign(f0)[:, None] * torch.nn.functional.normalize(ll.input_gradient(net, net_x), dim=1)
    r = ray_minimum(net, net_x)
    for i in range(len(net_x)):
        z, c = net.W.detach() @ net_x[i], net.W.detach() @ u[i]
        tau = -z / c
        tau = tau[tau > 0]
        ts = torch.cat([torch.zeros(1, dtype=torch.float64), tau])
        vals = torch.sign(f0[i]) * ll.ray_values(net, net_x[i:i + 1], ts)[0]
        coef = (net.a * net.output_scale).detach()
        if float(torch.sign(f0[i]) * (torch.relu(c) @ coef)) < 0:  # the last piece heads to -inf
            assert r.value[i] == float("-inf") and r.t[i] == float("inf")
        else:
            assert abs(float(r.value[i]) - float(vals.min())) < 1e-12
            assert abs(float(ll.ray_values(net, net_x[i:i + 1], r.t[i:i + 1])[0, 0] * torch.sign(f0[i]))
                       - float(r.value[i])) < 1e-12


def test_width_one_reaches_exactly_zero():
    # Property: for m = 1 the single active neuron switches off exactly where f reaches 0, at t_lin.
    net, x = _setup(20, 1, 200, 1)
    f0 = net(x).detach()
    active = f0 != 0
    r = ray_minimum(net, x)
    assert bool((r.value[active].abs() < 1e-12).all())
    assert torch.allclose(r.t[active], ll.linear_flip_prediction(net, x[active]), rtol=1e-12)
    assert bool((r.value[~active] == 0).all() and (r.t[~active] == 0).all())


def test_consistent_with_flip_distance():
    # Property: a clearly negative minimum means the ray crosses, a clearly positive one that it never does.
    net, x = _setup(30, 4, 500, 2)
    f0 = net(x).detach()
    r = ray_minimum(net, x)
    t_star = ll.flip_distance(net, x)
    tol = 1e-9 * f0.abs().clamp_min(1e-300)
    crosses = r.value < -tol
    never = r.value > tol
    assert bool(torch.isfinite(t_star[crosses]).all())
    assert bool(torch.isinf(t_star[never]).all())
    assert bool((r.value <= f0.abs() + 1e-15).all())  # the minimum is at most the value at t = 0
    assert int(never.sum()) > 0 and int(crosses.sum()) > 0


def test_given_direction_and_float32():
    net, x = _setup(10, 50, 20, 3)
    u = torch.randn(20, 10, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    r = ray_minimum(net, x, direction=u)
    grid = torch.linspace(0, 50, 20001, dtype=torch.float64)
    scan = torch.sign(net(x).detach())[:, None] * ll.ray_values(net, x, grid, direction=u)
    finite = torch.isfinite(r.value)
    assert bool((r.value[finite] <= scan[finite].min(dim=1).values + 1e-12).all())
    net32 = ll.TwoLayerReLU(10, 50, generator=torch.Generator().manual_seed(5))
    r32 = ray_minimum(net32, x.float())
    assert r32.value.dtype == torch.float32 and r32.t.shape == (20,)


def test_bad_input():
    net, x = _setup(5, 3, 4, 6)
    with pytest.raises(ValueError, match="`direction` must have non-zero rows"):
        ray_minimum(net, x, direction=torch.zeros(4, 5, dtype=torch.float64))
    with pytest.raises(ValueError, match="`direction` must have shape"):
        ray_minimum(net, x, direction=torch.ones(3, 5, dtype=torch.float64))
    with pytest.raises((TypeError, ValueError)):
        ray_minimum(net, torch.ones(4, 7, dtype=torch.float64))
    with pytest.raises((TypeError, ValueError)):
        ray_minimum("net", x)


def test_reach_distance_equals_flip_distance_without_ties():
    # Reference: for wide networks there are no exact ties, and atol = 0 reproduces flip_distance.
    net, x = _setup(50, 400, 100, 7)
    t_star = ll.flip_distance(net, x)
    from lazylib.random_networks import reach_distance
    assert torch.allclose(reach_distance(net, x, atol=0.0), t_star, rtol=1e-10)
    # Property: a larger tolerance can only reach earlier, and f is within atol of 0 there.
    t_tol = reach_distance(net, x, atol=1e-3)
    assert bool((t_tol <= t_star + 1e-12).all())
    u = -torch.sign(net(x).detach())[:, None] * torch.nn.functional.normalize(ll.input_gradient(net, x), dim=1)
    at = torch.stack([ll.ray_values(net, x[i:i + 1], t_tol[i:i + 1], direction=u[i:i + 1])[0, 0] for i in range(10)])
    assert torch.allclose(at.abs(), torch.full_like(at, 1e-3), atol=1e-9)


def test_reach_distance_narrow_ties():
    # Property: for m = 1, f reaches 0 exactly at t_lin and never crosses; reach_distance finds it,
    # and the rays it calls never-reaching have a positive minimum.
    from lazylib.random_networks import reach_distance
    net, x = _setup(30, 1, 300, 8)
    active = net(x).detach() != 0
    assert torch.allclose(reach_distance(net, x[active], atol=1e-9), ll.linear_flip_prediction(net, x[active]),
                          rtol=1e-12)
    net, x = _setup(30, 4, 500, 9)
    t = reach_distance(net, x, atol=1e-9)
    low = ray_minimum(net, x)
    assert bool((low.value[torch.isinf(t)] > 1e-9).all())
    assert bool((low.value[torch.isfinite(t)] <= 1e-9).all())
    with pytest.raises(ValueError, match="`atol`"):
        reach_distance(net, x, atol=-1.0)
