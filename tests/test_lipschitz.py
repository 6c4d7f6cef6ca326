"""Lipschitz certificates (lazylib.lipschitz): valid lower bounds, sandwiched below every attack."""

from __future__ import annotations

import math

import pytest
import torch

import lazylib as ll
from conftest import D, gen, make_net, perturb_, unit_rows

NAN = float("nan")


def test_lipschitz_bound_is_the_spectral_formula_and_bounds_every_slope():
    net = perturb_(make_net(d=8, m=60, seed=1), 0.2)
    L = ll.lipschitz_bound(net)
    W = net.W.detach()
    assert L == pytest.approx(net.output_scale * math.sqrt(net.m) * float(torch.linalg.svdvals(W)[0]), rel=1e-12)
    # every gradient, and every difference quotient, is at most L
    x = torch.randn(400, 8, generator=gen(2), dtype=torch.float64)
    assert float(ll.input_gradient(net, x).norm(dim=1).max()) <= L
    x2 = x + 0.3 * torch.randn(400, 8, generator=gen(3), dtype=torch.float64)
    quotients = (net(x2) - net(x)).abs().detach() / (x2 - x).norm(dim=1)
    assert float(quotients.max()) <= L * (1 + 1e-12)


def test_lipschitz_bound_scaling_for_random_networks():
    """For Gaussian W₀ the bound is about √m + √d (the spectral norm), far above the gradient norm √(d/2)."""
    for d, m in ((50, 400), (200, 200)):
        net = ll.TwoLayerReLU(d, m, generator=gen(4), dtype=torch.float64)
        assert ll.lipschitz_bound(net) == pytest.approx(math.sqrt(m) + math.sqrt(d), rel=0.1)


def test_lipschitz_bound_of_the_linear_network_is_twice_the_truth():
    w = torch.tensor([3.0, 4.0], dtype=torch.float64)
    assert ll.lipschitz_bound(ll.linear_network(w)) == pytest.approx(2 * 5.0, rel=1e-12)


def test_certified_radius_is_below_the_true_radius_of_a_linear_classifier():
    w = torch.randn(6, generator=gen(5), dtype=torch.float64)
    net = ll.linear_network(w)
    x = unit_rows(100, 6, seed=6)
    y = torch.sign(x @ w)
    y[:10] = -y[:10]
    radius = ll.certified_radius(net, x, y)
    true = torch.where(y * (x @ w) > 0, ll.boundary_distance(w, x), torch.zeros(100, dtype=torch.float64))
    assert bool((radius <= true + 1e-15).all()) and bool((radius[:10] == 0).all())
    assert torch.allclose(radius, true / 2, atol=1e-14)  # the bound 2‖w‖ is loose by exactly 2 here


def test_ensemble_certificates_are_the_members_certificates():
    """One network and an ensemble go through the same functions: member k's results are row k."""
    ens = ll.Ensemble(D, 40, generators=[gen(11), gen(12), gen(13)], dtype=torch.float64)
    with torch.no_grad():
        ens.W.add_(0.2 * torch.randn(ens.W.shape, generator=gen(14), dtype=torch.float64))
    x = unit_rows(60, D, seed=15)
    y = torch.where(torch.rand(60, generator=gen(16)) < 0.5, -1.0, 1.0).to(torch.float64)
    eps = [0.0, 0.02, 0.1]
    L, radius = ll.lipschitz_bound(ens), ll.certified_radius(ens, x, y)
    curve, at = ll.certified_robust_accuracy(ens, x, y, eps), ll.certified_robust_accuracy(ens, x, y, 0.02)
    assert L.shape == (3,) and L.dtype == torch.float64 and L.device.type == "cpu"
    assert radius.shape == (3, 60) and curve.shape == (3, 3) and torch.equal(at, curve[:, 1])
    for k, member in enumerate(ens.members()):
        assert float(L[k]) == pytest.approx(ll.lipschitz_bound(member), rel=1e-12)
        assert torch.allclose(radius[k], ll.certified_radius(member, x, y), rtol=1e-12, atol=0)
        assert curve[k].tolist() == ll.certified_robust_accuracy(member, x, y, eps).tolist()
    assert torch.equal(curve[:, 0], ll.accuracy(ens, x, y))


def test_certified_accuracy_below_every_attack_and_equal_to_clean_at_zero():
    net = perturb_(make_net(d=D, m=40, seed=7), 0.3)
    x = unit_rows(120, D, seed=8)
    y = torch.sign(net(x).detach())
    y[:15] = -y[:15]
    eps = [0.0, 0.01, 0.05, 0.1, 0.3]
    cert = ll.certified_robust_accuracy(net, x, y, eps)
    assert isinstance(cert, torch.Tensor) and cert.dtype == torch.float64 and cert.shape == (5,)
    assert float(cert[0]) == ll.accuracy(net, x, y)
    assert bool((cert[1:] <= cert[:-1]).all())
    for attack, kw in (("gradient", {}), ("pgd", {"steps": 30})):
        assert bool((cert <= ll.robust_accuracy(net, x, y, eps, attack=attack, **kw)).all())
    # pointwise: a certified point survives PGD at that budget
    r = ll.certified_radius(net, x, y)
    adv = ll.pgd_l2(net, x, y, 0.1, steps=50)
    survived = y * net(adv).detach() > 0
    assert bool(survived[r > 0.1].all())
    scalar = ll.certified_robust_accuracy(net, x, y, 0.05)
    assert isinstance(scalar, float) and scalar == float(cert[2])


def test_float32_models():
    net = ll.TwoLayerReLU(5, 30, generator=gen(9))
    x = torch.randn(10, 5, generator=gen(10))
    y = torch.sign(net(x).detach())
    assert ll.certified_radius(net, x, y).dtype == torch.float32
    assert isinstance(ll.lipschitz_bound(net), float)


# ---------------------------------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------------------------------

NET = make_net(d=3, m=5)
X = unit_rows(4, 3, seed=11)
Y = torch.tensor([1.0, -1.0, 1.0, -1.0], dtype=torch.float64)


@pytest.mark.parametrize(
    "fn, kwargs, exc, match",
    [
        (ll.lipschitz_bound, dict(model=None), TypeError, "`model`"),
        (ll.lipschitz_bound, dict(model=torch.nn.Linear(3, 1)), TypeError, "`model`"),
        (ll.certified_radius, dict(model="net", x=X, y=Y), TypeError, "`model`"),
        (ll.certified_radius, dict(model=NET, x=X.float(), y=Y), TypeError, "`x`"),
        (ll.certified_radius, dict(model=NET, x=X[:, :2], y=Y), ValueError, "`x`"),
        (ll.certified_radius, dict(model=NET, x=torch.full((4, 3), NAN, dtype=torch.float64), y=Y), ValueError, "`x`"),
        (ll.certified_radius, dict(model=NET, x=X, y=Y[:2]), ValueError, "`y`"),
        (ll.certified_radius, dict(model=NET, x=X, y=Y * 2), ValueError, "`y`"),
        (ll.certified_robust_accuracy, dict(model=NET, x=X, y=Y, eps=-0.1), ValueError, "`eps`"),
        (ll.certified_robust_accuracy, dict(model=NET, x=X, y=Y, eps=[0.1, NAN]), ValueError, "`eps`"),
        (ll.certified_robust_accuracy, dict(model=NET, x=X, y=Y, eps="0.1"), TypeError, "`eps`"),
        (ll.certified_robust_accuracy, dict(model=NET, x=X, y=Y.tolist(), eps=0.1), TypeError, "`y`"),
        (ll.certified_robust_accuracy, dict(model=NET, x=X[0], y=Y, eps=0.1), ValueError, "`x`"),
        (ll.certified_robust_accuracy, dict(model=None, x=X, y=Y, eps=0.1), TypeError, "`model`"),
    ],
)
def test_bad_input(fn, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        fn(**kwargs)
