"""Random two-layer ReLU networks at initialisation (lazylib.random_networks): the ensemble sampler
against the model class, the closed-form moments against sampling, the ray linearisation against
brute force, and bad input."""

from __future__ import annotations

import math

import pytest
import torch

import lazylib as ll
from lazylib import estimation
from conftest import gen, make_net, perturb_, reference_forward, unit_rows

NAN, INF = float("nan"), float("inf")


# ---------------------------------------------------------------------------------------------------
# init_ensemble
# ---------------------------------------------------------------------------------------------------


def test_init_ensemble_matches_consecutive_models():
    d, m, n = 7, 30, 12
    x = torch.randn(d, generator=gen(0), dtype=torch.float64)
    ens = ll.init_ensemble(x, m, n, generator=gen(1))
    g = gen(1)
    values, norms = [], []
    for _ in range(n):
        net = ll.TwoLayerReLU(d, m, generator=g, dtype=torch.float64)
        values.append(float(reference_forward(net, x[None])))
        norms.append(float(ll.input_gradient(net, x[None]).norm()))
    assert torch.allclose(ens.values, torch.tensor(values, dtype=torch.float64), atol=1e-12)
    assert torch.allclose(ens.gradient_norms, torch.tensor(norms, dtype=torch.float64), atol=1e-12)
    assert ens.values.dtype == torch.float64 and ens.values.shape == (n,)


def test_init_ensemble_chunks_do_not_change_the_result():
    """Large m·d splits the networks into chunks; the draws must not depend on it."""
    x = torch.ones(300, dtype=torch.float64) / math.sqrt(300)
    big = ll.init_ensemble(x, 20_000, 3, generator=gen(2))  # one network per chunk
    g = gen(2)
    for k in range(3):
        net = ll.TwoLayerReLU(300, 20_000, generator=g, dtype=torch.float64)
        assert float(big.values[k]) == pytest.approx(float(net(x[None]).detach()), abs=1e-10)


def test_init_ensemble_float32_input_and_gradient_scale_invariance():
    x = torch.randn(9, generator=gen(3))
    a = ll.init_ensemble(x, 50, 20, generator=gen(4))
    b = ll.init_ensemble(3.0 * x.double(), 50, 20, generator=gen(4))
    # f is 1-homogeneous in x, ∇f is 0-homogeneous: same networks, values ×3, gradient norms equal
    assert torch.allclose(b.values, 3.0 * a.values, rtol=1e-6)
    assert torch.allclose(b.gradient_norms, a.gradient_norms, rtol=1e-12)


@pytest.mark.statistical
@pytest.mark.parametrize("m", [1, 3, 40])
def test_output_moments(m):
    """E f = 0, E f² = ‖x‖²/2, E f⁴ = ‖x‖⁴ (3/4 + 3/(4m)), within 4 standard errors."""
    n, r = 40_000, 1.7
    x = torch.zeros(3, dtype=torch.float64)
    x[0] = r
    f = ll.init_ensemble(x, m, n, generator=gen(5 + m)).values
    var_f2 = r**4 * (0.5 + 0.75 / m)  # Var f² = E f⁴ − (E f²)²
    assert abs(float(f.mean())) < 4 * r * math.sqrt(0.5 / n)
    assert abs(float((f**2).mean()) - r**2 / 2) < 4 * math.sqrt(var_f2 / n)
    e4 = r**4 * (0.75 + 0.75 / m)
    se4 = float((f**4).std()) / math.sqrt(n)
    assert abs(float((f**4).mean()) - e4) < 5 * se4


@pytest.mark.statistical
@pytest.mark.parametrize("d, m", [(1, 1), (5, 1), (20, 3), (50, 64)])
def test_gradient_norm_moments_against_sampling(d, m):
    n = 6000
    x = unit_rows(1, d, seed=9)[0] * 2.5  # the law of ‖∇f‖ does not depend on ‖x‖
    g2 = ll.init_ensemble(x, m, n, generator=gen(10 + d + m)).gradient_norms ** 2
    mean, var = ll.gradient_norm_moments(d, m)
    assert abs(float(g2.mean()) - mean) < 4 * math.sqrt(var / n)
    centred = g2 - g2.mean()
    se_var = math.sqrt(float((centred**4).mean() - centred.pow(2).mean() ** 2) / n)
    assert abs(float(g2.var()) - var) < 4 * se_var


def test_gradient_norm_moments_closed_form_for_one_neuron():
    """m = 1: ‖∇f‖² = 1[wᵀx > 0]‖w‖², so E = d/2 and E(·)² = (d² + 2d)/2."""
    for d in (1, 2, 10, 784):
        mean, var = ll.gradient_norm_moments(d, 1)
        assert mean == d / 2 and var == pytest.approx((d * d + 2 * d) / 2 - d * d / 4)
    mean, var = ll.gradient_norm_moments(100, 10**9)
    assert var == pytest.approx(50.0, rel=1e-6)  # the floor d/2: ∇f → N(0, I/2), ‖∇f‖² → χ²_d / 2


@pytest.mark.statistical
def test_output_normal_bound_holds_and_is_loose():
    n = 4000
    x = torch.tensor([0.6, 0.8], dtype=torch.float64)
    for m in (4, 64):
        f = ll.init_ensemble(x, m, n, generator=gen(20 + m)).values
        ks = estimation.kolmogorov_distance(f, std=math.sqrt(0.5))
        assert ks <= ll.output_normal_bound(m) + estimation.dkw_radius(n, confidence=0.999)
    assert ll.output_normal_bound(1) == pytest.approx(0.4748 * 4 / math.sqrt(math.pi))
    assert ll.output_normal_bound(400) == pytest.approx(ll.output_normal_bound(100) / 2)


# ---------------------------------------------------------------------------------------------------
# linear_flip_prediction
# ---------------------------------------------------------------------------------------------------


def test_linear_flip_prediction_is_the_distance_to_the_tangent_hyperplane():
    net = perturb_(make_net(d=10, m=80, seed=11), 0.1)
    x = torch.randn(30, 10, generator=gen(12), dtype=torch.float64)
    g = ll.input_gradient(net, x)
    f = net(x).detach()
    # Euler: f(x) = ⟨∇f(x), x⟩, so |f|/‖∇f‖ is the distance from x to {z: ⟨∇f(x), z⟩ = 0}
    assert torch.allclose((g * x).sum(dim=1), f, atol=1e-12)
    pred = ll.linear_flip_prediction(net, x)
    assert torch.allclose(pred, (g * x).sum(dim=1).abs() / g.norm(dim=1), atol=1e-12)
    # exact for a linear function
    w = torch.randn(10, generator=gen(13), dtype=torch.float64)
    assert torch.allclose(ll.linear_flip_prediction(ll.linear_network(w), x), ll.boundary_distance(w, x), atol=1e-12)
    # the flip distance is never shorter than the prediction by more than the first breakpoint allows:
    # before any neuron switches, f is exactly linear along the ray
    t = ll.flip_distance(net, x)
    first = ll.ray_linearization(net, x, pred).switched == 0
    assert torch.allclose(t[first], pred[first], rtol=1e-10)


def test_linear_flip_prediction_is_zero_where_f_is_zero():
    net = make_net(d=3, m=4, seed=0)
    x = torch.zeros(2, 3, dtype=torch.float64)
    assert torch.equal(ll.linear_flip_prediction(net, x), torch.zeros(2, dtype=torch.float64))


# ---------------------------------------------------------------------------------------------------
# ray_linearization
# ---------------------------------------------------------------------------------------------------


def _brute_ray(net, x, t, u):
    """The error and the switched neurons, neuron by neuron with explicit loops (slow, obviously right)."""
    W, a = net.W.detach(), net.a
    n = x.shape[0]
    err, sw = torch.zeros(n, dtype=x.dtype), torch.zeros(n, dtype=torch.long)
    for i in range(n):
        f0 = reference_forward(net, x[i:i + 1])[0]
        ft = reference_forward(net, x[i:i + 1] + t[i] * u[i:i + 1])[0]
        slope = 0.0
        for s in range(net.m):
            z, c = float(W[s] @ x[i]), float(W[s] @ u[i])
            on0 = z > 0 or (z == 0 and c > 0)
            slope += float(a[s]) * c * on0
            sw[i] += on0 != (z + float(t[i]) * c > 0)
        err[i] = abs(float(ft - f0) - float(t[i]) * slope * net.output_scale)
    return err, sw


def test_ray_linearization_against_brute_force_and_bound():
    net = perturb_(make_net(d=6, m=40, seed=14), 0.2)
    x = unit_rows(15, 6, seed=15)
    u = torch.nn.functional.normalize(torch.randn(15, 6, generator=gen(16), dtype=torch.float64), dim=1)
    t = torch.linspace(0.05, 1.5, 15, dtype=torch.float64)
    r = ll.ray_linearization(net, x, t, direction=u)
    err, sw = _brute_ray(net, x, t, u)
    assert torch.allclose(r.error, err, atol=1e-12)
    assert torch.equal(r.switched, sw)
    assert bool((r.error <= r.bound + 1e-12).all())
    assert bool(((r.switched == 0) <= (r.bound == 0)).all())  # no switch: exactly linear, bound 0


def test_ray_linearization_default_direction_and_scalar_t():
    net = make_net(d=20, m=300, seed=17)
    x = unit_rows(25, 20, seed=18)
    f = net(x).detach()
    g = ll.input_gradient(net, x)
    u = -torch.sign(f)[:, None] * torch.nn.functional.normalize(g, dim=1)
    a = ll.ray_linearization(net, x, 0.2)
    b = ll.ray_linearization(net, x, torch.full((25,), 0.2, dtype=torch.float64), direction=u)
    assert torch.allclose(a.error, b.error, atol=1e-13) and torch.equal(a.switched, b.switched)
    # along the default direction the slope is −‖∇f‖ sign f: the linear prediction is |f| − t‖∇f‖
    ft = net(x + 0.2 * u).detach()
    assert torch.allclose(a.error, (torch.sign(f) * ft - (f.abs() - 0.2 * g.norm(dim=1))).abs(), atol=1e-12)
    assert torch.equal(ll.ray_linearization(net, x, 0.0).error, torch.zeros(25, dtype=torch.float64))


@pytest.mark.statistical
def test_switched_neurons_match_the_arctan_count_for_an_independent_direction():
    """For u ⟂ x (both unit, fixed), (wᵀx, wᵀu) is a standard normal pair, and a neuron switches by
    distance t with probability arctan(t)/π: the count is Binomial(m, arctan(t)/π)."""
    d, m = 30, 4000
    net = ll.TwoLayerReLU(d, m, generator=gen(19), dtype=torch.float64)
    x = unit_rows(40, d, seed=20)
    u = unit_rows(40, d, seed=21)
    u = torch.nn.functional.normalize(u - (u * x).sum(dim=1, keepdim=True) * x, dim=1)
    for t in (0.05, 0.2, 1.0):
        counts = ll.ray_linearization(net, x, t, direction=u).switched.double()
        p = math.atan(t) / math.pi
        # the 40 counts share one network, so their mean has at most the spread of one count
        assert abs(float(counts.mean()) - m * p) < 4 * math.sqrt(m * p * (1 - p))


def test_ray_values_against_forward_passes_and_the_linearisation():
    net = perturb_(make_net(d=8, m=60, seed=23), 0.1)
    x = unit_rows(7, 8, seed=24)
    t = torch.linspace(-0.5, 2.0, 26, dtype=torch.float64)
    values = ll.ray_values(net, x, t)
    f = net(x).detach()
    u = -torch.sign(f)[:, None] * torch.nn.functional.normalize(ll.input_gradient(net, x), dim=1)
    for k, tk in enumerate(t.tolist()):
        assert torch.allclose(values[:, k], reference_forward(net, x + tk * u), atol=1e-12)
    # consistent with ray_linearization: value = f + t * slope ± error
    r = ll.ray_linearization(net, x, 1.0)
    slope_pred = torch.sign(f) * values[:, t.tolist().index(1.0)] - (f.abs() - ll.input_gradient(net, x).norm(dim=1))
    assert torch.allclose(slope_pred.abs(), r.error, atol=1e-12)
    # an explicit direction, and the shapes
    v = unit_rows(7, 8, seed=25)
    assert ll.ray_values(net, x, t[:3], direction=3 * v).shape == (7, 3)
    at = torch.tensor([0.7], dtype=torch.float64)
    assert torch.allclose(ll.ray_values(net, x, at, direction=3 * v)[:, 0], net(x + 0.7 * v).detach(), atol=1e-12)


def test_ray_values_first_sign_change_is_the_flip_distance():
    net = make_net(d=15, m=200, seed=26)
    x = unit_rows(20, 15, seed=27)
    t_star = ll.flip_distance(net, x)
    f0 = net(x).detach()
    # per point: on a fine grid of [0, 1.001 t*] the first sign change happens in the last grid cell
    finite = torch.isfinite(t_star)
    assert int(finite.sum()) >= 15
    for i in torch.nonzero(finite)[:, 0].tolist():
        ts = torch.linspace(0, float(t_star[i]) * 1.001, 2001, dtype=torch.float64)
        vals = ll.ray_values(net, x[i:i + 1], ts)[0]
        changed = torch.sign(vals) != torch.sign(f0[i])
        first = int(changed.to(torch.int8).argmax())
        assert bool(changed.any()) and ts[first] >= t_star[i] * (1 - 1e-9)


# ---------------------------------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------------------------------

NET = make_net(d=3, m=5)
X = unit_rows(4, 3, seed=22)


@pytest.mark.parametrize(
    "fn, kwargs, exc, match",
    [
        (ll.init_ensemble, dict(x=[1.0, 0.0], m=3, n_networks=2), TypeError, "`x`"),
        (ll.init_ensemble, dict(x=torch.ones(2, 2), m=3, n_networks=2), ValueError, "`x`"),
        (ll.init_ensemble, dict(x=torch.zeros(0), m=3, n_networks=2), ValueError, "`x`"),
        (ll.init_ensemble, dict(x=torch.tensor([1, 0]), m=3, n_networks=2), TypeError, "`x`"),
        (ll.init_ensemble, dict(x=torch.tensor([NAN, 0.0]), m=3, n_networks=2), ValueError, "`x`"),
        (ll.init_ensemble, dict(x=torch.ones(2), m=0, n_networks=2), ValueError, "`m`"),
        (ll.init_ensemble, dict(x=torch.ones(2), m=2.0, n_networks=2), TypeError, "`m`"),
        (ll.init_ensemble, dict(x=torch.ones(2), m=3, n_networks=0), ValueError, "`n_networks`"),
        (ll.init_ensemble, dict(x=torch.ones(2), m=3, n_networks="2"), TypeError, "`n_networks`"),
        (ll.init_ensemble, dict(x=torch.ones(2), m=3, n_networks=2, generator=0), TypeError, "`generator`"),
        (ll.gradient_norm_moments, dict(d=0, m=3), ValueError, "`d`"),
        (ll.gradient_norm_moments, dict(d=3, m=-1), ValueError, "`m`"),
        (ll.gradient_norm_moments, dict(d=3.0, m=3), TypeError, "`d`"),
        (ll.output_normal_bound, dict(m=0), ValueError, "`m`"),
        (ll.output_normal_bound, dict(m=None), TypeError, "`m`"),
        (ll.linear_flip_prediction, dict(model=None, x=X), TypeError, "`model`"),
        (ll.linear_flip_prediction, dict(model=NET, x=X.float()), TypeError, "`x`"),
        (ll.linear_flip_prediction, dict(model=NET, x=X[:, :2]), ValueError, "`x`"),
        (ll.ray_linearization, dict(model="net", x=X, t=0.1), TypeError, "`model`"),
        (ll.ray_linearization, dict(model=NET, x=X[0], t=0.1), ValueError, "`x`"),
        (ll.ray_linearization, dict(model=NET, x=X, t=-0.1), ValueError, "`t`"),
        (ll.ray_linearization, dict(model=NET, x=X, t=INF), ValueError, "`t`"),
        (ll.ray_linearization, dict(model=NET, x=X, t="0.1"), TypeError, "`t`"),
        (ll.ray_linearization, dict(model=NET, x=X, t=torch.ones(3, dtype=torch.float64)), ValueError, "`t`"),
        (ll.ray_linearization, dict(model=NET, x=X, t=-torch.ones(4, dtype=torch.float64)), ValueError, "`t`"),
        (ll.ray_linearization, dict(model=NET, x=X, t=torch.full((4,), NAN, dtype=torch.float64)), ValueError, "`t`"),
        (ll.ray_linearization, dict(model=NET, x=X, t=0.1, direction=torch.zeros(4, 3, dtype=torch.float64)),
         ValueError, "`direction`"),
        (ll.ray_linearization, dict(model=NET, x=X, t=0.1, direction=X[:2]), ValueError, "`direction`"),
        (ll.ray_linearization, dict(model=NET, x=X, t=0.1, direction=X.float()), TypeError, "`direction`"),
    ],
)
def test_bad_input(fn, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        fn(**kwargs)


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        (dict(model=None, x=X, t=torch.zeros(2, dtype=torch.float64)), TypeError, "`model`"),
        (dict(model=NET, x=X.float(), t=torch.zeros(2, dtype=torch.float64)), TypeError, "`x`"),
        (dict(model=NET, x=X, t=0.5), TypeError, "`t`"),
        (dict(model=NET, x=X, t=[0.5]), TypeError, "`t`"),
        (dict(model=NET, x=X, t=torch.zeros(2, 2, dtype=torch.float64)), ValueError, "`t`"),
        (dict(model=NET, x=X, t=torch.zeros(0, dtype=torch.float64)), ValueError, "`t`"),
        (dict(model=NET, x=X, t=torch.tensor([0.1, NAN], dtype=torch.float64)), ValueError, "`t`"),
        (dict(model=NET, x=X, t=torch.tensor([1, 2])), TypeError, "`t`"),
        (dict(model=NET, x=X, t=torch.zeros(2, dtype=torch.float64), direction=X[:1]), ValueError, "`direction`"),
        (dict(model=NET, x=X, t=torch.zeros(2, dtype=torch.float64), direction=0 * X), ValueError, "`direction`"),
    ],
)
def test_ray_values_bad_input(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        ll.ray_values(**kwargs)


def test_ray_linearization_rejects_points_where_the_default_direction_is_undefined():
    with pytest.raises(ValueError, match="`direction`"):
        ll.ray_linearization(NET, torch.zeros(1, 3, dtype=torch.float64), 0.1)
