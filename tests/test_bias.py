"""The network of the authors' scripts: a trained hidden bias and a frozen output bias (``bias=True``).

One network and an ensemble go through the same functions; each test compares with autograd on a plain
re-implementation, with brute force along rays, or with the bias-free network it must reduce to.
"""

from __future__ import annotations

import inspect
import math

import pytest
import torch

import lazylib as ll

D, M = 7, 40


def _net(seed=0, m=M, dtype=torch.float64):
    return ll.TwoLayerReLU(D, m, generator=torch.Generator().manual_seed(seed), bias=True, dtype=dtype)


def _ens(seeds=(0, 1, 2), m=M, dtype=torch.float64):
    return ll.Ensemble(D, m, generators=[torch.Generator().manual_seed(s) for s in seeds], bias=True, dtype=dtype)


def _data(n=30, seed=5, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, D, generator=g, dtype=torch.float64).to(dtype)
    y = torch.where(x[:, 0] + 0.3 * x[:, 1] > 0.65, 1.0, -1.0).to(dtype)
    return x, y


def _reference(W, b, a, c, x):
    """f written out plainly, differentiable in W, b and x."""
    return torch.relu(x @ W.T + b) @ a / math.sqrt(W.shape[0]) + c


def test_draws_extend_the_bias_free_network():
    plain = ll.TwoLayerReLU(D, M, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    net = _net(3)
    assert torch.equal(net.W0, plain.W0) and torch.equal(net.a, plain.a)
    assert net.has_bias and not plain.has_bias
    assert torch.equal(net.b, net.b0) and net.b.requires_grad and not net.b0.requires_grad
    assert abs(float(net.c)) == pytest.approx(1 / math.sqrt(M))
    assert "bias=True" in repr(net)


def test_output_bias_signs_are_random_and_biases_standard_normal():
    nets = [ll.TwoLayerReLU(3, 500, generator=torch.Generator().manual_seed(s), bias=True, dtype=torch.float64)
            for s in range(40)]
    signs = torch.tensor([float(torch.sign(n.c)) for n in nets])
    assert 5 <= int((signs > 0).sum()) <= 35  # Binomial(40, 1/2): outside [5, 35] has probability < 1e-6
    b = torch.cat([n.b0 for n in nets])  # 20 000 N(0, 1) draws: mean sd 0.007, variance sd 0.01
    assert abs(float(b.mean())) < 0.05 and abs(float(b.var()) - 1) < 0.07


def test_forward_and_input_gradient_match_autograd():
    net = _net()
    x, _ = _data()
    xr = x.clone().requires_grad_(True)
    f = _reference(net.W.detach(), net.b.detach(), net.a, net.c, xr)
    (grad,) = torch.autograd.grad(f.sum(), xr)
    torch.testing.assert_close(net(x), f.detach(), rtol=0, atol=1e-12)
    torch.testing.assert_close(ll.input_gradient(net, x), grad, rtol=0, atol=1e-12)
    torch.testing.assert_close(ll.preactivations(net, x), x @ net.W.detach().T + net.b.detach())


def test_ensemble_members_agree_with_single_networks():
    ens = _ens()
    x, y = _data()
    for k in range(ens.K):
        net = _net(k)
        torch.testing.assert_close(ens(x)[k], net(x))
        torch.testing.assert_close(ll.input_gradient(ens, x)[k], ll.input_gradient(net, x))
        torch.testing.assert_close(ll.flip_distance(ens, x)[k], ll.flip_distance(net, x))
        member = ens.member(k)
        assert torch.equal(member.b, net.b) and torch.equal(member.c, net.c)
    stacked = ll.Ensemble.from_models([_net(k) for k in range(3)])
    assert torch.equal(stacked.b, ens.b) and torch.equal(stacked.c, ens.c)


def test_deviation_and_projection_treat_each_neuron_as_w_and_b():
    net = _net()
    g = torch.Generator().manual_seed(9)
    with torch.no_grad():
        net.W.add_(torch.randn(M, D, generator=g, dtype=torch.float64))
        net.b.add_(torch.randn(M, generator=g, dtype=torch.float64))
    rows = torch.cat([net.W - net.W0, (net.b - net.b0)[:, None]], dim=1).detach()
    assert ll.deviation(net) == pytest.approx(float(rows.norm(dim=1).max()), rel=1e-12)
    R = float(rows.norm(dim=1).median())
    inside = rows.norm(dim=1) <= R
    before_W, before_b = net.W.detach().clone(), net.b.detach().clone()
    ll.project_(net, R)
    assert ll.deviation(net) <= R * (1 + 1e-12)
    assert torch.equal(net.W[inside], before_W[inside]) and torch.equal(net.b[inside], before_b[inside])
    # The projection of an outside neuron is the nearest point of its ball: along the same direction.
    moved = torch.cat([net.W - net.W0, (net.b - net.b0)[:, None]], dim=1).detach()
    torch.testing.assert_close(moved[~inside], rows[~inside] * (R / rows[~inside].norm(dim=1, keepdim=True)))


def test_one_sgd_step_is_the_autograd_step_on_w_and_b():
    net = _net()
    x, y = _data()
    W, b = net.W.detach().clone().requires_grad_(True), net.b.detach().clone().requires_grad_(True)
    loss = torch.nn.functional.softplus(-y * _reference(W, b, net.a, net.c, x)).mean()
    gW, gb = torch.autograd.grad(loss, (W, b))
    ll.train(net, x, y, lr=0.3, epochs=1, progress=False)
    torch.testing.assert_close(net.W.detach(), W.detach() - 0.3 * gW, rtol=0, atol=1e-12)
    torch.testing.assert_close(net.b.detach(), b.detach() - 0.3 * gb, rtol=0, atol=1e-12)
    assert torch.equal(net.c, _net().c)  # the output bias is frozen
    assert ll.logistic_loss(net, x, y) < float(loss.detach())


def test_ensemble_training_equals_training_each_member():
    x, y = _data(60)
    ens = _ens()
    gens = [torch.Generator().manual_seed(10 + k) for k in range(3)]
    hist = ll.train(ens, x, y, lr=0.5, epochs=4, batch_size=16, C0=[0.5, 2.0, 50.0], constraint="stop",
                    generator=gens, progress=False)
    for k, C0 in enumerate([0.5, 2.0, 50.0]):
        net = _net(k)
        h = ll.train(net, x, y, lr=0.5, epochs=4, batch_size=16, C0=C0, constraint="stop",
                     generator=torch.Generator().manual_seed(10 + k), progress=False)
        torch.testing.assert_close(ens.W[k], net.W)
        torch.testing.assert_close(ens.b[k], net.b)
        assert hist[k].stopped_epoch == h.stopped_epoch and hist[k].epochs == h.epochs


@pytest.mark.parametrize("restore", [True, False])
def test_stop_rule_restores_or_keeps_the_epoch_that_left(restore):
    x, y = _data(60)
    net = _net()
    C0 = 1.0
    h = ll.train(net, x, y, lr=2.0, epochs=50, batch_size=8, C0=C0, constraint="stop", restore=restore,
                 generator=torch.Generator().manual_seed(0), progress=False)
    R = C0 / math.sqrt(M)
    assert h.stopped_epoch is not None
    if restore:
        assert ll.deviation(net) <= R and h.epochs == h.stopped_epoch - 1
        assert all(dev <= R for dev in h.deviation)
    else:
        assert ll.deviation(net) > R and h.epochs == h.stopped_epoch
        assert h.deviation[-1] == pytest.approx(ll.deviation(net)) and all(dev <= R for dev in h.deviation[:-1])
        assert h.loss[-1] == pytest.approx(ll.logistic_loss(net, x, y))


def test_flip_distance_is_exact_along_the_ray():
    for model in (_net(), _ens()):
        x, _ = _data(20)
        t = ll.flip_distance(model, x)
        sgn = torch.sign(model(x))
        u = torch.nn.functional.normalize(-sgn[..., None] * ll.input_gradient(model, x), dim=-1)
        finite = torch.isfinite(t)
        assert bool(finite.any())
        tt = torch.where(finite, t, torch.zeros_like(t))[..., None]
        after = torch.sign(model(x + (tt + 1e-7) * u)) if model.K is None else torch.stack(
            [torch.sign(model.member(k)(x + (tt[k] + 1e-7) * u[k])) for k in range(model.K)])
        assert bool((after != sgn)[finite].all())
        # Brute force: no sign change on a fine grid before t.
        grid = torch.linspace(0, 1, 400, dtype=torch.float64)
        for idx in zip(*torch.nonzero(finite, as_tuple=True)):
            net = model if model.K is None else model.member(int(idx[0]))
            i = int(idx[-1])
            xi, ui, ti = (x[i], u[i], float(t[i])) if model.K is None else (x[i], u[idx[0], i], float(t[idx]))
            pts = xi + (grid[:, None] * ti * (1 - 1e-9)) * ui
            assert bool((torch.sign(net(pts)) == torch.sign(net(xi[None]))).all())


def test_attacks_and_accuracy_use_the_biases():
    net = _net()
    x, y = _data()
    eps = 0.4
    adv = ll.fgm_l2(net, x, y, eps)
    xr = x.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(_reference(net.W.detach(), net.b.detach(), net.a, net.c, xr).sum(), xr)
    torch.testing.assert_close(adv, x - eps * y[:, None] * torch.nn.functional.normalize(grad, dim=1))
    pgd = ll.pgd_l2(net, x, y, eps, steps=10, clip=(0.0, 1.0))
    assert bool(((pgd - x).norm(dim=1) <= eps + 1e-12).all())
    assert bool((y * net(pgd) <= y * net(x) + 1e-12).all())
    clean = float((y * net(x) > 0).double().mean())
    assert ll.accuracy(net, x, y) == clean
    assert ll.robust_accuracy(net, x, y, 0.0) == clean
    # A point survives the single step of budget eps exactly when its flip distance exceeds eps.
    t = ll.flip_distance(net, x)
    assert ll.robust_accuracy(net, x, y, eps) == float(((y * net(x) > 0) & (t > eps)).double().mean())


def test_adversarial_training_with_biases_runs_and_stays_in_the_ball():
    x, y = _data(40)
    ens = _ens()
    ll.train(ens, x, y, lr=0.5, epochs=2, batch_size=16, C0=1.0, attack="pgd", eps=0.2, attack_steps=3,
             clip=(0.0, 1.0), project_every="epoch", progress=False)
    assert bool((ll.deviation(ens) <= 1.0 / math.sqrt(M) + 1e-12).all())


SUPPORTED = {"accuracy", "deviation", "fgm_l2", "flip_distance", "gradient_step", "input_gradient",
             "logistic_loss", "pgd_l2", "preactivations", "project_", "robust_accuracy", "train", "train_ensemble"}


def _model_functions():
    import importlib
    import pkgutil

    names = ["lazylib"] + [f"lazylib.{m.name}" for m in pkgutil.iter_modules(ll.__path__) if m.name != "__main__"]
    names += [f"lazylib.lemmas.{m.name}" for m in pkgutil.iter_modules(ll.lemmas.__path__)]
    seen = {}
    for module_name in names:
        module = importlib.import_module(module_name)
        for name in getattr(module, "__all__", []):
            f = getattr(module, name)
            if inspect.isfunction(f) and f not in seen:
                params = list(inspect.signature(f).parameters)
                if params and params[0] == "model":
                    seen[f] = name
    return sorted(seen.items(), key=lambda item: item[1])


@pytest.mark.parametrize("function,name", _model_functions(), ids=lambda v: v if isinstance(v, str) else "")
def test_functions_of_the_bias_free_network_refuse_biases(function, name):
    """Every public function taking a model either supports biases or says it does not (never a wrong answer)."""
    if name in SUPPORTED:
        return
    x, _ = _data(4)
    net = _net()
    params = inspect.signature(function).parameters
    args = [net] + [x if p == "x" else 0.1 for p, v in list(params.items())[1:]
                    if v.default is inspect.Parameter.empty and v.kind == v.POSITIONAL_OR_KEYWORD]
    kwargs = {p: 1 for p, v in params.items() if v.default is inspect.Parameter.empty and v.kind == v.KEYWORD_ONLY}
    with pytest.raises(ValueError, match="network without biases"):
        function(*args, **kwargs)


def test_bad_inputs():
    with pytest.raises(TypeError, match="`bias` must be True or False"):
        ll.TwoLayerReLU(3, 4, bias="yes")
    with pytest.raises(ValueError, match="biases"):
        ll.Ensemble.from_models([_net(0), ll.TwoLayerReLU(D, M, dtype=torch.float64)])
    x, y = _data()
    with pytest.raises(TypeError, match="`restore` must be True or False"):
        ll.train(_net(), x, y, lr=0.1, epochs=1, C0=1.0, constraint="stop", restore=1)
