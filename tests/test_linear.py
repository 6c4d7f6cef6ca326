"""Linear classifiers (lazylib.linear): exact robust error against attacks and brute force, the law of
the distance to a random linear classifier's boundary, and bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import lazylib as ll
from conftest import gen, unit_rows

NAN, INF = float("nan"), float("inf")


@pytest.fixture
def problem():
    """A float64 linear classifier with bias, 300 points in d = 5 and noisy labels."""
    w = torch.randn(5, generator=gen(0), dtype=torch.float64)
    x = torch.randn(300, 5, generator=gen(1), dtype=torch.float64)
    b = 0.3
    y = torch.sign(x @ w + b)
    flip = torch.rand(300, generator=gen(2)) < 0.1
    return w, b, x, torch.where(flip, -y, y)


# ---------------------------------------------------------------------------------------------------
# boundary_distance, linear_worst_perturbation, linear_robust_accuracy
# ---------------------------------------------------------------------------------------------------


def test_boundary_distance_is_the_distance_to_the_hyperplane(problem):
    w, b, x, _ = problem
    dist = ll.boundary_distance(w, x, bias=b)
    # The foot of the perpendicular lies on the hyperplane and is at that distance.
    foot = x - ((x @ w + b) / (w @ w))[:, None] * w
    assert torch.allclose(foot @ w + b, torch.zeros(300, dtype=torch.float64), atol=1e-12)
    assert torch.allclose((x - foot).norm(dim=1), dist, atol=1e-12)
    # Scale invariance in (w, b) and the 2-D example of the docstring.
    assert torch.allclose(ll.boundary_distance(3.0 * w, x, bias=3.0 * b), dist, atol=1e-12)
    assert float(ll.boundary_distance(torch.tensor([3.0, 4.0]), torch.tensor([[1.0, 1.0]]))) == pytest.approx(1.4)


def test_worst_perturbation_minimises_the_margin_over_the_ball(problem):
    w, b, x, y = problem
    eps = 0.4
    adv = ll.linear_worst_perturbation(w, x, y, eps, bias=b)
    assert torch.allclose((adv - x).norm(dim=1), torch.full((300,), eps, dtype=torch.float64), atol=1e-12)
    worst = y * (adv @ w + b)
    assert torch.allclose(worst, y * (x @ w + b) - eps * w.norm(), atol=1e-12)
    # Brute force: 20 000 random points of each sphere of radius eps never do better.
    u = torch.nn.functional.normalize(torch.randn(20_000, 5, generator=gen(3), dtype=torch.float64), dim=1)
    margins = y[:, None] * ((x @ w + b)[:, None] + eps * (u @ w)[None, :])
    assert bool((margins.min(dim=1).values >= worst - 1e-12).all())
    # ... and random search gets within a few percent of the drop ε‖w‖ (d = 5, 20 000 directions).
    assert float((margins.min(dim=1).values - worst).max()) < 0.05 * eps * float(w.norm())


def test_robust_accuracy_equals_the_attacks_on_the_linear_network():
    """Without bias, a linear classifier is a TwoLayerReLU; the exact flip distance and PGD agree with the formula."""
    w = torch.randn(8, generator=gen(4), dtype=torch.float64)
    x = unit_rows(200, 8, seed=5)
    y = torch.sign(x @ w)
    y[:20] = -y[:20]
    net = ll.linear_network(w)
    eps = [0.0, 0.05, 0.1, 0.2, 0.4, 0.8]
    exact = ll.linear_robust_accuracy(w, x, y, eps)
    assert torch.equal(exact, ll.robust_accuracy(net, x, y, eps))
    pgd = ll.robust_accuracy(net, x, y, eps, attack="pgd", steps=5)
    assert torch.allclose(pgd, exact, atol=1 / 200 + 1e-12)  # at most a point at a tie may differ
    assert float(exact[0]) == ll.accuracy(net, x, y) == pytest.approx(0.9)
    assert bool((exact[1:] <= exact[:-1]).all())


def test_robust_accuracy_scalar_and_threshold(problem):
    w, b, x, y = problem
    margin = y * (x @ w + b) / w.norm()
    for eps in (0.0, 0.1, 0.5, 2.0):
        acc = ll.linear_robust_accuracy(w, x, y, eps, bias=b)
        assert isinstance(acc, float) and acc == pytest.approx(float((margin > eps).double().mean()), abs=0)
    # A point exactly on the boundary is an error, as in 1[y f(x) <= 0].
    on = torch.tensor([[1.0, -1.0]], dtype=torch.float64)
    assert ll.linear_robust_accuracy(torch.tensor([1.0, 1.0], dtype=torch.float64), on, torch.tensor([1.0]).double(), 0.0) == 0.0


def test_linear_network_is_exactly_linear():
    w = torch.randn(6, generator=gen(6), dtype=torch.float64)
    net = ll.linear_network(w)
    x = torch.randn(50, 6, generator=gen(7), dtype=torch.float64)
    assert net.m == 2 and net.output_scale == 1.0 and torch.equal(net.W.detach(), net.W0)
    assert torch.allclose(net(x).detach(), x @ w, atol=1e-13)
    assert torch.allclose(ll.input_gradient(net, x), w.expand(50, 6), atol=0)
    assert torch.allclose(ll.flip_distance(net, x), ll.boundary_distance(w, x), rtol=1e-12)
    # no global random state is consumed
    state = torch.random.get_rng_state()
    ll.linear_network(w)
    assert torch.equal(state, torch.random.get_rng_state())
    assert ll.linear_network(w.float()).W.dtype == torch.float32


def test_least_squares_classifier_solves_the_normal_equations():
    x = torch.randn(40, 6, generator=gen(8), dtype=torch.float64)
    y = torch.sign(x[:, 0] + 0.2 * x[:, 1])
    for lam in (1e-3, 1.0, 10.0):
        w = ll.least_squares_classifier(x, y, ridge=lam)
        grad = x.T @ (x @ w - y) + lam * w  # gradient of ½‖Xw − y‖² + ½λ‖w‖²
        assert float(grad.abs().max()) < 1e-10
    assert ll.linear_robust_accuracy(ll.least_squares_classifier(x, y, ridge=1e-3), x, y, 0.0) >= 0.9


# ---------------------------------------------------------------------------------------------------
# The distance to a random linear classifier's boundary
# ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("d", [2, 3, 5, 40, 1000])
def test_random_linear_density_integrates_to_one_and_matches_the_cdf(d):
    r = torch.linspace(0, 1, 200_001, dtype=torch.float64)
    if d == 2:
        r = r[:-1]  # the density is infinite at r = 1 when d = 2
    dens = ll.random_linear_distance_density(r, d)
    cdf = ll.random_linear_distance_cdf(r, d)
    integral = torch.cumulative_trapezoid(dens, r)
    tol = 2e-3 if d == 2 else 1e-6  # d = 2: an integrable singularity at r = 1 that the trapezoid cuts off
    assert float((integral - cdf[1:]).abs().max()) < tol
    mean = float(torch.trapezoid(r * dens, r))
    assert mean == pytest.approx(ll.random_linear_distance_mean(d), abs=tol)


def test_random_linear_closed_forms_in_low_dimension():
    # d = 2: u₁ = cos θ, θ uniform; d = 3: u₁ uniform on [−1, 1] (Archimedes).
    r = torch.tensor([0.1, 0.5, 0.9], dtype=torch.float64)
    assert torch.allclose(ll.random_linear_distance_cdf(r, 2), 1 - 2 * torch.arccos(r) / math.pi, atol=1e-12)
    assert torch.allclose(ll.random_linear_distance_cdf(r, 3), r, atol=1e-12)
    assert ll.random_linear_distance_mean(2) == pytest.approx(2 / math.pi, rel=1e-12)
    assert ll.random_linear_distance_mean(3) == pytest.approx(0.5, rel=1e-12)
    assert ll.random_linear_distance_cdf(-0.5, 10) == 0.0 and ll.random_linear_distance_cdf(1.5, 10) == 1.0
    assert ll.random_linear_distance_density(1.5, 10) == 0.0 and ll.random_linear_distance_density(-0.1, 10) == 0.0


def test_random_linear_mean_bounds_and_gaussian_limit():
    for d in (2, 3, 10, 100, 10_000):
        mean = ll.random_linear_distance_mean(d)
        assert math.sqrt(2 / (math.pi * (d + 1))) < mean < math.sqrt(2 / (math.pi * (d - 1)))
    d = 10_000  # √d|u₁| → |N(0, 1)|: CDF close to erf(c/√2)
    c = torch.tensor([0.3, 1.0, 2.0], dtype=torch.float64)
    assert torch.allclose(ll.random_linear_distance_cdf(c / math.sqrt(d), d), torch.erf(c / math.sqrt(2)), atol=1e-4)


@pytest.mark.statistical
def test_random_linear_law_against_sampling():
    d, n = 50, 20_000
    x = unit_rows(n, d, seed=9)
    w = torch.randn(d, generator=gen(10), dtype=torch.float64)
    dist = ll.boundary_distance(w, 2.0 * x) / 2.0  # the law scales with ‖x‖
    # mean: within 4 standard errors of the closed form
    assert abs(float(dist.mean()) - ll.random_linear_distance_mean(d)) < 4 * float(dist.std()) / math.sqrt(n)
    # E D² = ‖x‖²/d exactly; Var(d·u₁²) = 2(d − 1)/(d + 2)
    assert abs(float((d * dist**2).mean()) - 1) < 4 * math.sqrt(2 * (d - 1) / (d + 2) / n)
    # the whole law: Kolmogorov distance within the DKW radius (α = 0.001)
    s = torch.sort(dist).values
    F = ll.random_linear_distance_cdf(s, d)
    i = torch.arange(1, n + 1, dtype=torch.float64)
    ks = float(torch.maximum(i / n - F, F - (i - 1) / n).max())
    assert ks < ll.estimation.dkw_radius(n, confidence=0.999)


def test_random_linear_accepts_sequences_and_tensors():
    assert isinstance(ll.random_linear_distance_cdf([0.1, 0.2], 5), torch.Tensor)
    t = ll.random_linear_distance_density(torch.tensor([[0.1, 0.2]]), 5)
    assert t.shape == (1, 2) and t.dtype == torch.float64


# ---------------------------------------------------------------------------------------------------
# Bad input (every public function, every argument)
# ---------------------------------------------------------------------------------------------------

W = torch.tensor([1.0, 2.0, -1.0], dtype=torch.float64)
X = torch.tensor([[0.5, 0.1, 0.2], [-1.0, 0.3, 0.0]], dtype=torch.float64)
Y = torch.tensor([1.0, -1.0], dtype=torch.float64)


def _meta(shape):
    return torch.empty(shape, dtype=torch.float64, device="meta")


BAD_W = [
    ("list", [1.0, 2.0, -1.0], TypeError),
    ("int", torch.tensor([1, 2, -1]), TypeError),
    ("2-D", W[None], ValueError),
    ("empty", torch.zeros(0, dtype=torch.float64), ValueError),
    ("zero", torch.zeros(3, dtype=torch.float64), ValueError),
    ("nan", torch.tensor([1.0, NAN, 0.0], dtype=torch.float64), ValueError),
    ("inf", torch.tensor([1.0, INF, 0.0], dtype=torch.float64), ValueError),
]
BAD_X = [
    ("list", X.tolist(), TypeError),
    ("float32", X.float(), TypeError),
    ("1-D", X[0], ValueError),
    ("wrong-d", X[:, :2], ValueError),
    ("empty", X[:0], ValueError),
    ("nan", torch.tensor([[NAN, 0.0, 0.0]], dtype=torch.float64), ValueError),
    ("other-device", _meta((2, 3)), ValueError),
]
BAD_Y = [
    ("list", [1.0, -1.0], TypeError),
    ("short", Y[:1], ValueError),
    ("zero-one", torch.tensor([1.0, 0.0], dtype=torch.float64), ValueError),
    ("bool", Y > 0, TypeError),
]
BAD_EPS = [("negative", -0.1, ValueError), ("nan", NAN, ValueError), ("string", "0.1", TypeError), ("None", None, TypeError)]
BAD_BIAS = [("nan", NAN, ValueError), ("inf", INF, ValueError), ("string", "0", TypeError)]

FUNCTIONS = {
    "boundary_distance": (ll.boundary_distance, dict(w=W, x=X, bias=0.1)),
    "linear_robust_accuracy": (ll.linear_robust_accuracy, dict(w=W, x=X, y=Y, eps=[0.0, 0.1], bias=0.1)),
    "linear_worst_perturbation": (ll.linear_worst_perturbation, dict(w=W, x=X, y=Y, eps=0.1, bias=0.1)),
    "linear_network": (ll.linear_network, dict(w=W)),
}


def _cases():
    out = []
    for name, (_, good) in FUNCTIONS.items():
        for arg, family in (("w", BAD_W), ("x", BAD_X), ("y", BAD_Y), ("eps", BAD_EPS), ("bias", BAD_BIAS)):
            if arg in good:
                out += [pytest.param(name, arg, value, exc, id=f"{name}-{arg}-{label}") for label, value, exc in family]
    return out


@pytest.mark.parametrize("name, arg, value, exc", _cases())
def test_bad_input_names_the_argument(name, arg, value, exc):
    fn, good = FUNCTIONS[name]
    kwargs = dict(good, **{arg: value})
    before = [t.clone() for t in (W, X, Y)]
    with pytest.raises(exc, match=f"`{arg}`"):
        fn(**kwargs)
    assert all(torch.equal(a, b) for a, b in zip(before, (W, X, Y)))


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        (dict(x=X.tolist(), y=Y), TypeError, "`x`"),
        (dict(x=X[:, :0], y=Y), ValueError, "`x`"),
        (dict(x=torch.tensor([[NAN, 1.0]]), y=torch.tensor([1.0])), ValueError, "`x`"),
        (dict(x=X, y=torch.tensor([1.0, 2.0], dtype=torch.float64)), ValueError, "`y`"),
        (dict(x=X, y=Y, ridge=0.0), ValueError, "`ridge`"),
        (dict(x=X, y=Y, ridge=-1.0), ValueError, "`ridge`"),
        (dict(x=X, y=Y, ridge="1"), TypeError, "`ridge`"),
    ],
)
def test_least_squares_bad_input(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        ll.least_squares_classifier(**kwargs)


@pytest.mark.parametrize("fn", [ll.random_linear_distance_cdf, ll.random_linear_distance_density])
@pytest.mark.parametrize(
    "r, d, exc, match",
    [
        (0.1, 1, ValueError, "`d`"),
        (0.1, 2.0, TypeError, "`d`"),
        (0.1, None, TypeError, "`d`"),
        (NAN, 5, ValueError, "`r`"),
        ("0.1", 5, TypeError, "`r`"),
        ([], 5, ValueError, "`r`"),
        ([0.1, INF], 5, ValueError, "`r`"),
        (torch.tensor([0.1, NAN]), 5, ValueError, "`r`"),
        (torch.tensor([True]), 5, TypeError, "`r`"),
    ],
)
def test_random_linear_law_bad_input(fn, r, d, exc, match):
    with pytest.raises(exc, match=match):
        fn(r, d)


@pytest.mark.parametrize("d, exc", [(1, ValueError), (0, ValueError), (2.5, TypeError), ("3", TypeError)])
def test_random_linear_mean_bad_input(d, exc):
    with pytest.raises(exc, match="`d`"):
        ll.random_linear_distance_mean(d)


def test_numpy_inputs_are_rejected_with_a_clear_message():
    with pytest.raises(TypeError, match="`w`"):
        ll.boundary_distance(np.array([1.0, 2.0]), torch.zeros(1, 2))
