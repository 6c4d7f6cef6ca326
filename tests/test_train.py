"""Logistic loss, its closed-form gradient, and (projected) SGD training."""

from __future__ import annotations

import math

import pytest
import torch

import lazylib as ll
from conftest import D, M, gen, make_model, make_net, perturb_, unit_rows


def _snapshot(net):
    return net.W.detach().clone(), net.W0.clone(), net.a.clone()


def _set_W(net, W):
    with torch.no_grad():
        net.W.copy_(W)


# ---------------------------------------------------------------------------------------------------
# Loss and its gradient
# ---------------------------------------------------------------------------------------------------


def test_logistic_loss_is_mean_softplus_of_minus_margin(net64, xy64):
    x, y = xy64
    f = net64(x).detach()
    expected = float(torch.log1p(torch.exp(-y * f)).mean())
    assert ll.logistic_loss(net64, x, y) == pytest.approx(expected, rel=1e-13)
    assert ll.logistic_loss(net64, torch.zeros(4, D, dtype=torch.float64), torch.ones(4)) == pytest.approx(math.log(2))


def test_logistic_loss_is_stable_for_large_margins(net64):
    x = 1e4 * unit_rows(3, D)
    y = torch.sign(net64(x).detach())
    assert 0.0 <= ll.logistic_loss(net64, x, y) < 1e-10
    assert math.isfinite(ll.logistic_loss(net64, x, -y)) and ll.logistic_loss(net64, x, -y) > 10


def _autograd_loss_gradient(net, x, y):
    W = net.W.detach().clone().requires_grad_(True)
    f = torch.relu(x @ W.T) @ net.a * net.output_scale
    loss = torch.nn.functional.softplus(-y * f).mean()
    (g,) = torch.autograd.grad(loss, W)
    return g


@pytest.mark.parametrize("K", [None, 3])
@pytest.mark.parametrize("seed", range(3))
def test_loss_gradient_matches_autograd(seed, xy64, K):
    x, y = xy64
    model = perturb_(make_model(K, seed=seed), 0.3, seed=seed)
    g = ll.loss_gradient(model, x, y)
    assert g.shape == ((M, D) if K is None else (K, M, D)) and not g.requires_grad
    for k, net in enumerate([model] if K is None else model.members()):
        torch.testing.assert_close(g if K is None else g[k], _autograd_loss_gradient(net, x, y), rtol=1e-12, atol=1e-14)
    if K is not None:
        loss = ll.logistic_loss(model, x, y)
        assert loss.shape == (K,) and loss.tolist() == pytest.approx([ll.logistic_loss(n, x, y) for n in model.members()], rel=1e-14)


def test_loss_gradient_finite_differences_away_from_kinks():
    # Central differences of the loss in a few random directions of W, with a step small enough that
    # no preactivation changes sign (checked).
    net = make_net(seed=4)
    x = unit_rows(10, D, seed=12)
    y = torch.where(x[:, 0] > 0, 1.0, -1.0).double()
    g = ll.loss_gradient(net, x, y)
    h = 1e-6
    for k in range(4):
        V = torch.randn(M, D, generator=gen(20 + k), dtype=torch.float64)
        W = net.W.detach().clone()
        signs = []
        vals = []
        for sgn in (+1, -1):
            _set_W(net, W + sgn * h * V)
            signs.append(ll.preactivations(net, x) > 0)
            vals.append(ll.logistic_loss(net, x, y))
        _set_W(net, W)
        assert torch.equal(signs[0], signs[1]) and torch.equal(signs[0], ll.preactivations(net, x) > 0)
        fd = (vals[0] - vals[1]) / (2 * h)
        assert fd == pytest.approx(float((g * V).sum()), rel=1e-6, abs=1e-9)


def test_loss_gradient_accepts_integer_labels(net64, xy64):
    x, y = xy64
    torch.testing.assert_close(ll.loss_gradient(net64, x, y.long()), ll.loss_gradient(net64, x, y))


# ---------------------------------------------------------------------------------------------------
# Training
# ---------------------------------------------------------------------------------------------------


def test_one_full_batch_epoch_is_one_gradient_step(net64, xy64):
    x, y = xy64
    expected = net64.W.detach() - 0.7 * ll.loss_gradient(net64, x, y)
    h = ll.train(net64, x, y, lr=0.7, epochs=1, progress=False)
    torch.testing.assert_close(net64.W.detach(), expected, rtol=1e-14, atol=1e-15)
    assert h.epochs == 1 and h.radius is None and h.stopped_epoch is None


def test_full_batch_training_lowers_the_loss_and_history_is_consistent(net64, xy64):
    x, y = xy64
    start = ll.logistic_loss(net64, x, y)
    h = ll.train(net64, x, y, lr=1.0, epochs=60, progress=False)
    assert isinstance(h, ll.TrainHistory)
    assert h.epochs == len(h.loss) == len(h.accuracy) == len(h.deviation) == 60
    # small steps of full-batch gradient descent on this smooth-enough loss decrease it every epoch
    assert all(b <= a + 1e-12 for a, b in zip(h.loss, h.loss[1:]))
    assert h.loss[-1] < start - 0.2
    assert h.loss[-1] == pytest.approx(ll.logistic_loss(net64, x, y), rel=1e-12)
    assert h.accuracy[-1] == ll.accuracy(net64, x, y)
    assert h.deviation[-1] == pytest.approx(ll.deviation(net64), rel=1e-12)
    assert h.accuracy[-1] > 0.9


def test_training_changes_W_only(net64, xy64):
    x, y = xy64
    W, W0, a = _snapshot(net64)
    x_before, y_before = x.clone(), y.clone()
    ll.train(net64, x, y, lr=1.0, epochs=5, batch_size=16, generator=gen(0), progress=False)
    assert not torch.equal(net64.W.detach(), W)
    assert torch.equal(net64.W0, W0) and torch.equal(net64.a, a)
    assert torch.equal(x, x_before) and torch.equal(y, y_before)
    assert net64.W.data_ptr() != net64.W0.data_ptr()
    assert net64.W.grad is None


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_W0_does_not_move_with_W_in_any_dtype(dtype, xy64):
    # Regression: with dtype=float64 `.to` returned W0 itself and the "initial" weights trained along.
    x, y = xy64
    net = make_net(dtype=dtype)
    W0 = net.W0.clone()
    ll.train(net, x.to(dtype), y, lr=2.0, epochs=5, progress=False)
    assert torch.equal(net.W0, W0)
    assert ll.deviation(net) > 0


@pytest.mark.parametrize("K", [None, 3])
@pytest.mark.parametrize("batch_size", [None, 7])
@pytest.mark.parametrize("project_every", ["step", "epoch"])
@pytest.mark.parametrize("C0", [0.5, 2.0])
def test_training_with_C0_never_leaves_the_ball(batch_size, project_every, C0, xy64, K):
    x, y = xy64
    net = make_model(K, seed=1)
    R = ll.lazy_radius(M, C0)
    hist = ll.train(net, x, y, lr=5.0, epochs=8, batch_size=batch_size, C0=C0, project_every=project_every,
                    generator=gen(2), progress=False)
    assert isinstance(hist, ll.TrainHistory) if K is None else len(hist) == K
    for h in [hist] if K is None else hist:
        assert h.radius == pytest.approx(R)
        assert h.epochs == 8
        assert all(dev <= R * (1 + 1e-12) for dev in h.deviation)
        # with this large step size the constraint is active: some neuron sits on the boundary
        assert max(h.deviation) == pytest.approx(R, rel=1e-9)
    assert float(torch.as_tensor(ll.deviation(net), dtype=torch.float64).max()) <= R * (1 + 1e-12)


def test_training_with_absolute_radius(xy64):
    x, y = xy64
    net = make_net(seed=1)
    h = ll.train(net, x, y, lr=5.0, epochs=4, radius=0.05, progress=False)
    assert h.radius == 0.05
    assert all(dev <= 0.05 * (1 + 1e-12) for dev in h.deviation)


def test_C0_zero_keeps_W_at_W0(net64, xy64):
    x, y = xy64
    ll.train(net64, x, y, lr=1.0, epochs=3, C0=0.0, progress=False)
    torch.testing.assert_close(net64.W.detach(), net64.W0, rtol=0, atol=1e-15)


def test_constraint_stop_restores_the_last_epoch_inside_the_ball(xy64):
    x, y = xy64
    C0, lr = 1.0, 3.0
    R = ll.lazy_radius(M, C0)
    net = make_net(seed=3)
    h = ll.train(net, x, y, lr=lr, epochs=50, C0=C0, constraint="stop", progress=False)
    assert h.stopped_epoch is not None and h.stopped_epoch > 1
    assert h.epochs == h.stopped_epoch - 1  # the epoch that left the ball is not recorded
    assert ll.deviation(net) <= R
    assert all(dev <= R for dev in h.deviation)
    # the returned network is the one after epoch stopped_epoch − 1 of an unconstrained run
    ref = make_net(seed=3)
    ll.train(ref, x, y, lr=lr, epochs=h.stopped_epoch - 1, progress=False)
    assert torch.equal(net.W.detach(), ref.W.detach())
    ll.train(ref, x, y, lr=lr, epochs=1, progress=False)
    assert ll.deviation(ref) > R


@pytest.mark.parametrize("K", [None, 3])
def test_constraint_stop_in_the_first_epoch_returns_the_initial_network(xy64, K):
    x, y = xy64
    net = make_model(K)
    W = net.W.detach().clone()
    hist = ll.train(net, x, y, lr=100.0, epochs=5, C0=0.01, constraint="stop", progress=False)
    for h in [hist] if K is None else hist:
        assert h.stopped_epoch == 1 and h.epochs == 0
    assert torch.equal(net.W.detach(), W)


def test_constraint_stop_runs_the_distance_when_the_ball_is_large(net64, xy64):
    x, y = xy64
    h = ll.train(net64, x, y, lr=0.1, epochs=5, C0=100.0, constraint="stop", progress=False)
    assert h.stopped_epoch is None and h.epochs == 5


def test_training_is_deterministic_given_the_generator(xy64):
    x, y = xy64
    runs = []
    for seed in (0, 0, 1):
        net = make_net(seed=5)
        h = ll.train(net, x, y, lr=1.0, epochs=4, batch_size=8, C0=3.0, generator=gen(seed), progress=False)
        runs.append((net.W.detach().clone(), h))
    assert torch.equal(runs[0][0], runs[1][0]) and runs[0][1] == runs[1][1]
    assert not torch.equal(runs[0][0], runs[2][0])  # another shuffle, another path


def test_batch_size_at_least_n_is_full_batch(xy64):
    x, y = xy64
    a, b = make_net(seed=6), make_net(seed=6)
    ll.train(a, x, y, lr=1.0, epochs=3, progress=False)
    ll.train(b, x, y, lr=1.0, epochs=3, batch_size=len(x) + 10, generator=gen(0), progress=False)
    assert torch.equal(a.W.detach(), b.W.detach())


def test_minibatch_epoch_visits_every_point_once(xy64):
    # With lr → tiny, one epoch of SGD moves W by lr·Σ_batches ∇L_batch ≈ lr·(n/bs)·∇L: every point once.
    x, y = xy64
    net = make_net(seed=7)
    W = net.W.detach().clone()
    lr = 1e-7
    ll.train(net, x, y, lr=lr, epochs=1, batch_size=len(x) // 4, generator=gen(1), progress=False)
    step = (W - net.W.detach()) / lr
    torch.testing.assert_close(step, 4 * ll.loss_gradient(make_net(seed=7), x, y), rtol=1e-4, atol=1e-8)


def test_progress_bar_can_be_forced_on(net64, xy64, capsys):
    x, y = xy64
    h = ll.train(net64, x, y, lr=0.1, epochs=2, progress=True)
    assert h.epochs == 2
