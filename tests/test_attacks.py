"""Attacks: the single gradient step, the exact flip distance (against a brute-force line search),
FGM and PGD in ℓ2."""

from __future__ import annotations

import math

import pytest
import torch

import lazylib as ll
from conftest import D, gen, make_model, make_net, members, per_member, perturb_, unit_rows


def _f(net: ll.TwoLayerReLU, pts: torch.Tensor) -> torch.Tensor:
    """f written out directly (no library call), for the brute-force search."""
    return torch.relu(pts @ net.W.detach().T) @ net.a * net.output_scale


def _autograd_direction(net: ll.TwoLayerReLU, x: torch.Tensor) -> torch.Tensor:
    """u = −sign f(x) · ∇f/‖∇f‖ with ∇f from autograd."""
    xr = x.clone().requires_grad_(True)
    f = net(xr)
    (g,) = torch.autograd.grad(f.sum(), xr)
    return -torch.sign(f.detach())[:, None] * torch.nn.functional.normalize(g, dim=1)


@torch.no_grad()
def _brute_force_flip(net, x, u, *, T: float, h: float, chunk: int = 400) -> torch.Tensor:
    """First grid point t = k·h ≤ T at which sign f(x + t·u) differs from sign f(x); inf if none.

    Walks the grid in chunks so the memory stays at n·chunk·m numbers."""
    u = torch.nn.functional.normalize(u, dim=1)
    s0 = torch.sign(_f(net, x))
    found = torch.full((len(x),), math.inf, dtype=x.dtype)
    n_grid = int(math.ceil(T / h)) + 1
    for k0 in range(0, n_grid, chunk):
        ts = torch.arange(k0, min(k0 + chunk, n_grid), dtype=x.dtype) * h  # (c,)
        pts = x[:, None, :] + ts[None, :, None] * u[:, None, :]  # (n, c, d)
        flipped = torch.sign(_f(net, pts.reshape(-1, net.d)).reshape(len(x), -1)) != s0[:, None]
        first = torch.where(flipped.any(dim=1), ts[flipped.to(torch.int8).argmax(dim=1)], torch.full_like(found, math.inf))
        found = torch.minimum(found, first)
        if bool(torch.isfinite(found).all()):
            break
    return found


def _check_against_brute_force(net, x, t, u, *, T, h):
    brute = _brute_force_flip(net, x, u, T=T, h=h)
    hit = torch.isfinite(brute)
    # the first flip is at or before the first grid point showing one, and after the previous grid point
    assert bool((t[hit] <= brute[hit] + 1e-12).all())
    assert bool((brute[hit] - t[hit] <= h + 1e-12).all()), (brute[hit] - t[hit]).max()
    # where the grid saw no flip up to T, the exact answer lies beyond the grid (or is inf)
    assert bool((t[~hit] > T - h).all())
    return brute


def _check_sign_change(net, x, t, u):
    """f keeps its sign just before t and has lost it just after (transversal crossings)."""
    u = torch.nn.functional.normalize(u, dim=1)
    fin = torch.isfinite(t) & (t > 0)
    x, t, u = x[fin], t[fin], u[fin]
    s0 = torch.sign(_f(net, x))
    tiny = 1e-7 * t.clamp_min(1.0)
    before = torch.sign(_f(net, x + (t - tiny)[:, None] * u))
    after = torch.sign(_f(net, x + (t + tiny)[:, None] * u))
    assert bool((before == s0).all())
    assert bool((after != s0).all())
    return int(fin.sum())


# ---------------------------------------------------------------------------------------------------
# The single gradient step
# ---------------------------------------------------------------------------------------------------


def test_gradient_step_formula(net64, x64):
    g = ll.input_gradient(net64, x64)
    torch.testing.assert_close(ll.gradient_step(net64, x64, 0.3), x64 + 0.3 * g, rtol=0, atol=0)
    assert torch.equal(ll.gradient_step(net64, x64, 0.0), x64)
    eta = torch.linspace(-1, 1, len(x64), dtype=torch.float64)
    torch.testing.assert_close(ll.gradient_step(net64, x64, eta), x64 + eta[:, None] * g, rtol=0, atol=0)
    torch.testing.assert_close(ll.gradient_step(net64, x64, torch.tensor(0.3, dtype=torch.float64)), x64 + 0.3 * g, rtol=0, atol=0)


def test_gradient_step_of_the_theorem_flips_at_the_flip_distance(net64, x64):
    # The theorem's step η = −sign f · C₂/‖∇f‖² moves by ‖δ‖ = C₂/‖∇f‖ along the attack ray; with
    # C₂ = (t + δ)·‖∇f‖ that is just past the exact flip distance t.
    t = ll.flip_distance(net64, x64)
    f, g = net64(x64).detach(), ll.input_gradient(net64, x64)
    fin = torch.isfinite(t)
    assert fin.sum() >= len(x64) // 2
    step = t + 1e-7
    C2 = step * g.norm(dim=1)
    eta = -torch.sign(f) * C2 / g.norm(dim=1) ** 2
    x_adv = ll.gradient_step(net64, x64, torch.where(fin, eta, torch.zeros_like(eta)))
    torch.testing.assert_close((x_adv - x64).norm(dim=1)[fin], step[fin], rtol=1e-10, atol=1e-12)
    assert bool((torch.sign(net64(x_adv)) != torch.sign(f))[fin].all())


# ---------------------------------------------------------------------------------------------------
# Exact flip distance
# ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("K", [None, 2])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_flip_distance_matches_brute_force_line_search(seed, K):
    model = perturb_(make_model(K, seed=seed), 0.1, seed=seed)
    x = unit_rows(16, D, seed=seed + 40)
    T_all = ll.flip_distance(model, x)
    assert T_all.shape == ((16,) if K is None else (K, 16)) and T_all.dtype == torch.float64
    for net, t in zip(members(model), per_member(T_all, K)):
        assert bool((t >= 0).all())
        u = _autograd_direction(net, x)
        fin = t[torch.isfinite(t)]
        T = min(5.0, 1.1 * float(fin.max()) + 0.05) if len(fin) else 2.0
        _check_against_brute_force(net, x, t, u, T=T, h=2e-4)
        assert _check_sign_change(net, x, t, u) >= 8


@pytest.mark.parametrize("seed", [0, 1])
def test_flip_distance_along_an_explicit_direction(seed):
    net = make_net(seed=seed)
    x = unit_rows(16, D, seed=seed + 50)
    direction = 3.0 * torch.randn(16, D, generator=gen(seed + 60), dtype=torch.float64)  # not unit: t is a distance
    t = ll.flip_distance(net, x, direction)
    brute = _check_against_brute_force(net, x, t, direction, T=2.0, h=4e-4)
    _check_sign_change(net, x, t, direction)
    # random directions: some flip within the window, some never flip at all
    assert bool(torch.isfinite(brute).any())
    # scaling the direction does not change the distance
    torch.testing.assert_close(ll.flip_distance(net, x, direction / 7.0), t, rtol=1e-12, atol=1e-12)


def test_flip_distance_default_direction_equals_explicit_gradient_direction(net64, x64):
    u = _autograd_direction(net64, x64)
    torch.testing.assert_close(ll.flip_distance(net64, x64), ll.flip_distance(net64, x64, u), rtol=1e-12, atol=1e-12)


def test_flip_distance_single_neuron_closed_form():
    # m = 1, a = +1: f(x) = relu(wᵀx); along −w/‖w‖ it reaches 0 at t = wᵀx/‖w‖.
    net = make_net(d=3, m=1, seed=0)
    with torch.no_grad():
        net.a.fill_(1.0)
    w = net.W.detach()[0]
    x = torch.stack([w / w.norm() * 0.7, w / w.norm() * 0.2 + torch.tensor([0.1, -0.2, 0.3], dtype=torch.float64)])
    assert bool((net(x) > 0).all())
    torch.testing.assert_close(ll.flip_distance(net, x), (x @ w) / w.norm(), rtol=1e-12, atol=1e-14)


def test_flip_distance_counts_a_neuron_at_its_kink_that_switches_on():
    # Neuron A sits exactly at its kink (w_Aᵀx = 0) and the ray switches it on at once: f = 1 − t
    # along u = e_1 (times the output scale), so the flip is at t = 1, though no breakpoint lies ahead.
    net = make_net(d=2, m=2, seed=0)
    with torch.no_grad():
        net.W.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0]], dtype=torch.float64))
        net.a.copy_(torch.tensor([-1.0, 1.0], dtype=torch.float64))
    x = torch.tensor([[0.0, 1.0]], dtype=torch.float64)
    assert float(ll.preactivations(net, x)[0, 0]) == 0.0
    t = ll.flip_distance(net, x, torch.tensor([[1.0, 0.0]], dtype=torch.float64))
    assert float(t[0]) == pytest.approx(1.0, rel=1e-14)
    # moving away from it (u = −e_1) leaves it off: f stays 1, never flips
    assert math.isinf(float(ll.flip_distance(net, x, torch.tensor([[-1.0, 0.0]], dtype=torch.float64))[0]))


def test_flip_distance_is_inf_where_the_ray_never_flips():
    # With every a_s = +1, f is convex; walking up the gradient from f > 0 only increases f.
    net = make_net(seed=4)
    with torch.no_grad():
        net.a.fill_(1.0)
    x = unit_rows(10, D, seed=5)
    x = x[net(x) > 0]
    assert len(x) >= 3
    up = ll.input_gradient(net, x)
    t = ll.flip_distance(net, x, up)
    assert bool(torch.isinf(t).all())
    assert bool(torch.isinf(_brute_force_flip(net, x, up, T=5.0, h=1e-2)).all())
    # zero direction rows also give inf
    assert bool(torch.isinf(ll.flip_distance(net, x, torch.zeros_like(x))).all())


def test_flip_distance_zero_where_f_is_zero(net64):
    x = torch.cat([torch.zeros(1, D, dtype=torch.float64), unit_rows(3, D)])
    t = ll.flip_distance(net64, x)
    assert float(t[0]) == 0.0
    assert bool((t[1:] > 0).all())


def test_flip_distance_is_positively_homogeneous(net64, x64):
    # f(c·x) = c·f(x) and ∇f(c·x) = ∇f(x), so the flip distance from c·x is c times that from x
    t = ll.flip_distance(net64, x64)
    torch.testing.assert_close(ll.flip_distance(net64, 4.0 * x64), 4.0 * t, rtol=1e-10, atol=1e-12)


def test_flip_distance_uses_the_current_W(net64, x64):
    before = ll.flip_distance(net64, x64)
    perturb_(net64, 0.5)
    after = ll.flip_distance(net64, x64)
    assert not torch.allclose(before, after)
    _check_against_brute_force(net64, x64, after, _autograd_direction(net64, x64), T=1.1 * float(after[torch.isfinite(after)].max()), h=2e-4)


def test_flip_distance_float32_agrees_with_float64(x64):
    t64 = ll.flip_distance(make_net(d=D, m=200), x64)
    t32 = ll.flip_distance(make_net(d=D, m=200, dtype=torch.float32), x64.float())
    assert t32.dtype == torch.float32
    torch.testing.assert_close(t32.double(), t64, rtol=1e-4, atol=1e-5)


# ---------------------------------------------------------------------------------------------------
# FGM
# ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("K", [None, 3])
def test_fgm_is_the_normalised_gradient_step(xy64, K):
    x, y = xy64
    eps = 0.3
    model = make_model(K)
    adv = ll.fgm_l2(model, x, y, eps)
    for net, a in zip(members(model), per_member(adv, K)):
        g = ll.input_gradient(net, x)
        expected = x - eps * y[:, None] * g / g.norm(dim=1, keepdim=True)
        torch.testing.assert_close(a, expected, rtol=1e-12, atol=1e-13)
    torch.testing.assert_close((adv - x).norm(dim=-1), torch.full(adv.shape[:-1], eps, dtype=torch.float64), rtol=1e-12, atol=0)
    assert not adv.requires_grad


def test_fgm_eps_zero_and_zero_gradient(net64, xy64):
    x, y = xy64
    assert torch.equal(ll.fgm_l2(net64, x, y, 0.0), x)
    z = torch.zeros(2, D, dtype=torch.float64)  # ∇f(0) = 0: no direction, no move
    assert torch.equal(ll.fgm_l2(net64, z, torch.tensor([1.0, -1.0], dtype=torch.float64), 0.5), z)


def test_fgm_accepts_integer_labels(net64, xy64):
    x, y = xy64
    torch.testing.assert_close(ll.fgm_l2(net64, x, y.long(), 0.2), ll.fgm_l2(net64, x, y, 0.2))


@pytest.mark.parametrize("eps", [0.0, 0.05, 0.5, 3.0])
def test_fgm_with_clip_stays_in_ball_and_box(eps):
    net = make_net(seed=2)
    x = torch.rand(30, D, generator=gen(3), dtype=torch.float64)
    y = torch.where(torch.rand(30, generator=gen(4)) > 0.5, 1.0, -1.0).double()
    adv = ll.fgm_l2(net, x, y, eps, clip=(0.0, 1.0))
    assert bool(((adv - x).norm(dim=1) <= eps * (1 + 1e-12) + 1e-15).all())
    assert bool(((adv >= 0) & (adv <= 1)).all())


# ---------------------------------------------------------------------------------------------------
# PGD
# ---------------------------------------------------------------------------------------------------


def _box_data(n=30, seed=3):
    x = torch.rand(n, D, generator=gen(seed), dtype=torch.float64)
    y = torch.where(torch.rand(n, generator=gen(seed + 1)) > 0.5, 1.0, -1.0).double()
    return x, y


@pytest.mark.parametrize("K", [None, 3])
@pytest.mark.parametrize("clip", [None, (0.0, 1.0)])
@pytest.mark.parametrize("seed", [None, 11])
@pytest.mark.parametrize("eps", [0.0, 0.1, 1.0])
def test_pgd_stays_in_ball_and_box(clip, seed, eps, K):
    net = make_model(K, seed=1)
    x, y = _box_data()
    x_before = x.clone()
    adv = ll.pgd_l2(net, x, y, eps, steps=15, clip=clip, generator=None if seed is None else gen(seed))
    assert adv.shape == (x.shape if K is None else (K, *x.shape)) and not adv.requires_grad
    assert bool(((adv - x).norm(dim=-1) <= eps * (1 + 1e-12) + 1e-15).all())
    if clip is not None:
        assert bool(((adv >= clip[0]) & (adv <= clip[1])).all())
    assert torch.equal(x, x_before)
    if eps == 0.0:
        assert torch.equal(adv, x.expand_as(adv))


@pytest.mark.parametrize("K", [None, 3])
@pytest.mark.parametrize("clip", [None, (0.0, 1.0)])
def test_pgd_never_raises_the_margin_above_its_start(clip, K):
    net = make_model(K, seed=1)
    x, y = _box_data()
    adv = ll.pgd_l2(net, x, y, 0.4, steps=20, clip=clip)
    assert bool((y * net(adv) <= y * net(x)).all())


@pytest.mark.parametrize("attack", ["fgm", "pgd"])
def test_attacks_on_an_ensemble_are_the_attacks_on_each_member(attack):
    ens = make_model(3, seed=1)
    x, y = _box_data()
    run = {"fgm": lambda model, x, y: ll.fgm_l2(model, x, y, 0.3, clip=(0.0, 1.0)),
           "pgd": lambda model, x, y: ll.pgd_l2(model, x, y, 0.3, steps=8, clip=(0.0, 1.0))}[attack]
    shared = run(ens, x, y)
    xk, yk = torch.stack([x, x.flip(0), x]), torch.stack([y, y.flip(0), -y])  # one batch per member
    own = run(ens, xk, yk)
    for k, net in enumerate(ens.members()):
        torch.testing.assert_close(shared[k], run(net, x, y), rtol=0, atol=1e-13)
        torch.testing.assert_close(own[k], run(net, xk[k], yk[k]), rtol=0, atol=1e-13)


def _reference_pgd(net, x, y, eps, steps, step_size):
    """PGD written plainly, one point at a time, with autograd gradients; returns every iterate."""
    out = []
    for i in range(len(x)):
        p, its = x[i].clone(), [x[i].clone()]
        for _ in range(steps):
            q = p.clone().requires_grad_(True)
            (g,) = torch.autograd.grad(net(q[None])[0], q)
            if g.norm() > 0:
                p = p - step_size * y[i] * g / g.norm()
            delta = p - x[i]
            if delta.norm() > eps:
                p = x[i] + delta * (eps / delta.norm())
            its.append(p.clone())
        out.append(torch.stack(its))
    return out


def test_pgd_returns_the_best_iterate_of_the_plain_algorithm(net64, xy64):
    # A step as large as the ball makes the iterates bounce, so the last is often not the best.
    x, y = xy64
    x, y = x[:12], y[:12]
    eps, steps = 0.3, 6
    adv = ll.pgd_l2(net64, x, y, eps, steps=steps, step_size=eps)
    not_last = 0
    for i, its in enumerate(_reference_pgd(net64, x, y, eps, steps, eps)):
        margins = y[i] * net64(its).detach()
        best = int(margins.argmin())
        torch.testing.assert_close(adv[i], its[best], rtol=1e-10, atol=1e-12)
        not_last += best != steps
    assert not_last >= 1  # the case that distinguishes "best" from "last" does occur here


def test_pgd_more_steps_of_the_same_size_never_weaker(net64, xy64):
    # Without a random start the first k iterates of a longer run are those of the shorter run, and
    # the best iterate is returned, so the margin cannot go up.
    x, y = xy64
    short = ll.pgd_l2(net64, x, y, 0.3, steps=5, step_size=0.05)
    long = ll.pgd_l2(net64, x, y, 0.3, steps=25, step_size=0.05)
    assert bool((y * net64(long) <= y * net64(short) + 1e-15).all())


def test_pgd_single_full_step_is_fgm_or_the_start(net64, xy64):
    x, y = xy64
    eps = 0.2
    pgd = ll.pgd_l2(net64, x, y, eps, steps=1, step_size=eps)
    fgm = ll.fgm_l2(net64, x, y, eps)
    is_fgm = torch.isclose(pgd, fgm, rtol=1e-12, atol=1e-13).all(dim=1)
    is_x = (pgd == x).all(dim=1)
    assert bool((is_fgm | is_x).all())
    # it takes the FGM point exactly where that lowers the margin
    lowered = y * net64(fgm) < y * net64(x)
    assert torch.equal(is_fgm & ~is_x, lowered)


def test_pgd_default_step_size_is_the_authors(net64, xy64):
    x, y = xy64
    torch.testing.assert_close(
        ll.pgd_l2(net64, x, y, 0.4, steps=8), ll.pgd_l2(net64, x, y, 0.4, steps=8, step_size=2.5 * 0.4 / 8), rtol=0, atol=0
    )


def test_pgd_randomness_is_explicit(net64, xy64):
    x, y = xy64
    a = ll.pgd_l2(net64, x, y, 0.3, steps=5, generator=gen(1))
    b = ll.pgd_l2(net64, x, y, 0.3, steps=5, generator=gen(1))
    c = ll.pgd_l2(net64, x, y, 0.3, steps=5, generator=gen(2))
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert torch.equal(ll.pgd_l2(net64, x, y, 0.3, steps=5), ll.pgd_l2(net64, x, y, 0.3, steps=5))


@pytest.mark.statistical
def test_pgd_random_start_is_uniform_in_the_ball(net64):
    # With step_size = 0 every iterate is the start, so PGD returns its random start. For a uniform
    # point of the d-ball, r = ‖δ‖/ε has P(r ≤ s) = s^d: E r = d/(d+1), Var r = d/(d+2) − (d/(d+1))²
    # (sd 0.12 at d = 6); over n = 3000 starts we allow 5 standard errors. The mean direction is 0
    # (each coordinate of δ/ε has variance E r²/d, so standard error √(E r²/(d·n))).
    n, eps = 3000, 0.2
    x = unit_rows(n, D, seed=13)
    y = torch.ones(n, dtype=torch.float64)
    start = ll.pgd_l2(net64, x, y, eps, steps=1, step_size=0.0, generator=gen(14))
    r = (start - x).norm(dim=1) / eps
    mean_r, var_r = D / (D + 1), D / (D + 2) - (D / (D + 1)) ** 2
    assert abs(float(r.mean()) - mean_r) < 5 * math.sqrt(var_r / n)
    se_coord = math.sqrt(D / (D + 2) / D / n)
    assert float(((start - x) / eps).mean(dim=0).abs().max()) < 5 * se_coord
    assert float(r.max()) <= 1 + 1e-12


def test_pgd_finds_the_flip_along_the_gradient_ray(net64, xy64):
    # Labels = the network's own predictions; with ε twice the exact flip distance along the gradient
    # ray and steps small enough to walk that ray, PGD reaches the other side for every point.
    x, _ = xy64
    y = torch.sign(net64(x).detach())
    t = ll.flip_distance(net64, x)
    pick = torch.isfinite(t)
    x, y, t = x[pick], y[pick], t[pick]
    eps = 2 * float(t.max())
    adv = ll.pgd_l2(net64, x, y, eps, steps=200, step_size=eps / 100)
    assert bool((y * net64(adv) <= 0).all())


def test_attacks_leave_inputs_and_model_unchanged(net64, xy64):
    x, y = xy64
    snap = [t.clone() for t in (x, y, net64.W.detach(), net64.W0, net64.a)]
    ll.gradient_step(net64, x, 0.1)
    ll.flip_distance(net64, x)
    ll.flip_distance(net64, x, torch.ones_like(x))
    ll.fgm_l2(net64, x, y, 0.1)
    ll.pgd_l2(net64, x, y, 0.1, steps=3, generator=gen(0))
    for before, now in zip(snap, (x, y, net64.W.detach(), net64.W0, net64.a)):
        assert torch.equal(before, now)
    assert net64.W.grad is None


def _reference_ray_pieces(W, coef, z, f0, u):
    # The walk of flip_distance written out on its own, as it stood before it was shared with the
    # linearised model's walk (tangent_kernel.linearized_flip_distance): the shared walk must equal it bitwise.
    c = u @ W.mT
    active0 = (z > 0) | ((z == 0) & (c > 0))
    s0 = (active0.to(u.dtype) * c) @ coef if coef.ndim == 1 else (active0.to(u.dtype) * c * coef.unsqueeze(-2)).sum(-1)
    tau = -z / c
    tau = tau.masked_fill_(~(tau > 0), float("inf"))
    tau, order = torch.sort(tau, dim=-1)
    finite = tau < float("inf")
    jump = (coef.unsqueeze(-2) * c.abs()).gather(-1, order).masked_fill_(~finite, 0.0)
    tau_max = torch.where(finite, tau, torch.zeros_like(tau)).amax(dim=-1, keepdim=True)
    tau = torch.where(finite, tau, tau_max)
    start = torch.cat([torch.zeros_like(tau[..., :1]), tau[..., :-1]], dim=-1)
    slope_after = s0[..., None] + torch.cumsum(jump, dim=-1)
    slope_before = torch.cat([s0[..., None], slope_after[..., :-1]], dim=-1)
    value_at = f0[..., None] + torch.cumsum(slope_before * (tau - start), dim=-1)
    return tau, tau_max, start, slope_before, slope_after, value_at


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("m", [1, 7, 300])
def test_shared_ray_walk_is_bitwise_the_flip_distance_walk(dtype, m):
    from lazylib.attacks import _ray_pieces

    g = torch.Generator().manual_seed(m)
    for K in (None, 3):
        W = torch.randn(*(() if K is None else (K,)), m, 6, generator=g, dtype=dtype)
        coef = (torch.randint(0, 2, (*W.shape[:-2], m), generator=g) * 2 - 1).to(dtype) / m**0.5
        x = torch.randn(*W.shape[:-2], 40, 6, generator=g, dtype=dtype)
        u = torch.nn.functional.normalize(torch.randn(x.shape, generator=g, dtype=dtype), dim=-1)
        z = x @ W.mT
        z[..., 0, 0] = 0.0  # a neuron exactly at its kink
        f0 = (torch.relu(z) @ coef) if K is None else (torch.relu(z) * coef.unsqueeze(-2)).sum(-1)
        got = _ray_pieces(W, coef, z.clone(), f0, u)
        want = _reference_ray_pieces(W, coef, z.clone(), f0, u)
        assert len(got) == len(want)
        for a, b in zip(got, want):
            assert torch.equal(a, b)
