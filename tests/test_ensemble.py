"""Batched ensembles: K networks trained at once agree with K networks trained one by one.

Reference checks compare every batched function with the single-network function of the library,
member by member, in float64 (where the only differences are rounding: batched matrix products add
in a different order). Property tests check the lazy ball and the attack balls; bad-input tests check
every public argument.
"""

from __future__ import annotations

import math

import pytest
import torch

import lazylib as ll
from conftest import gen, unit_rows

D, M, N = 6, 30, 50
SEEDS = [0, 1, 2, 3]
C0S = [0.5, 1.0, 2.0, 8.0]
ATOL = 1e-11  # float64 rounding accumulated over a few hundred SGD steps (measured ~1e-14)


def _data(n=N, d=D, seed=5, box=False):
    x = unit_rows(n, d, seed=seed)
    if box:
        x = x.abs()  # in [0, 1], valid for clip=(0, 1)
    score = x[:, 0] - x[:, 1] if box else x[:, 0] + 0.3 * x[:, 1]
    y = torch.where(score > 0, 1.0, -1.0).to(torch.float64)
    assert (y == 1).any() and (y == -1).any()
    return x, y


def _ens(seeds=SEEDS, d=D, m=M, **kw):
    return ll.Ensemble(d, m, generators=[gen(s) for s in seeds], dtype=torch.float64, **kw)


def _net(seed, d=D, m=M, **kw):
    return ll.TwoLayerReLU(d, m, generator=gen(seed), dtype=torch.float64, **kw)


# ---------------------------------------------------------------------------------------------------
# Construction and the per-member functions
# ---------------------------------------------------------------------------------------------------


def test_members_are_drawn_exactly_as_single_networks():
    ens = _ens()
    assert (ens.K, ens.d, ens.m) == (len(SEEDS), D, M)
    for k, s in enumerate(SEEDS):
        net = _net(s)
        assert torch.equal(ens.W[k].detach(), net.W.detach())
        assert torch.equal(ens.W0[k], net.W0) and torch.equal(ens.a[k], net.a)


def test_from_models_and_member_round_trip_and_copies_are_independent():
    nets = [_net(s) for s in SEEDS]
    ens = ll.Ensemble.from_models(nets)
    back = ens.members()
    for a, b in zip(nets, back):
        assert torch.equal(a.W.detach(), b.W.detach()) and torch.equal(a.W0, b.W0) and torch.equal(a.a, b.a)
    with torch.no_grad():
        back[0].W.add_(1.0)
        nets[1].W.add_(1.0)
    assert torch.equal(ens.W[0].detach(), ens.W0[0]) and torch.equal(ens.W[1].detach(), ens.W0[1])


def test_output_scale_is_shared_with_the_members():
    ens = _ens(output_scale=1.0 / M)
    x = unit_rows(5, D)
    torch.testing.assert_close(ens(x)[2], _net(SEEDS[2], output_scale=1.0 / M)(x).detach(), rtol=1e-13, atol=1e-15)


def test_forward_matches_each_member_on_shared_and_per_member_inputs():
    ens = _ens()
    x = unit_rows(7, D)
    out = ens(x)
    assert out.shape == (len(SEEDS), 7)
    for k, s in enumerate(SEEDS):
        torch.testing.assert_close(out[k], _net(s)(x).detach(), rtol=1e-13, atol=1e-15)
    xk = torch.stack([unit_rows(7, D, seed=10 + k) for k in range(len(SEEDS))])
    out = ens(xk)
    for k, s in enumerate(SEEDS):
        torch.testing.assert_close(out[k], _net(s)(xk[k]).detach(), rtol=1e-13, atol=1e-15)


def test_input_gradient_matches_each_member_and_autograd():
    ens = _ens()
    x = unit_rows(9, D)
    g = ll.ensemble.input_gradient(ens, x)
    assert g.shape == (len(SEEDS), 9, D)
    for k, s in enumerate(SEEDS):
        torch.testing.assert_close(g[k], ll.input_gradient(_net(s), x), rtol=1e-13, atol=1e-15)
    xr = x.clone().requires_grad_(True)
    (auto,) = torch.autograd.grad(ens(xr)[1].sum(), xr)  # autograd through the batched forward
    torch.testing.assert_close(g[1], auto, rtol=1e-12, atol=1e-14)


def test_deviation_and_projection_match_each_member():
    ens = _ens()
    with torch.no_grad():
        ens.W.add_(0.3 * torch.randn(ens.W.shape, generator=gen(9), dtype=torch.float64))
    nets = ens.members()
    radii = [0.1, 0.2, 0.5, 5.0]
    torch.testing.assert_close(ll.ensemble.deviation(ens), torch.tensor([ll.deviation(n) for n in nets], dtype=torch.float64))
    ll.ensemble.project_(ens, radii)
    for k, (net, R) in enumerate(zip(nets, radii)):
        ll.project_(net, R)
        torch.testing.assert_close(ens.W[k].detach(), net.W.detach(), rtol=0, atol=1e-14)
        assert ll.ensemble.deviation(ens)[k] <= R + 1e-12
    before = ens.W.detach().clone()
    ll.ensemble.project_(ens, radii)  # idempotent
    torch.testing.assert_close(ens.W.detach(), before, rtol=0, atol=1e-14)
    ll.ensemble.project_(ens, 0.0)  # one radius for all
    assert torch.equal(ens.W.detach(), ens.W0)


@pytest.mark.parametrize("clip", [None, (0.0, 1.0)])
def test_pgd_matches_single_network_pgd_and_stays_in_both_balls(clip):
    ens = _ens()
    x, y = _data(12, box=True)
    adv = ll.ensemble.pgd_l2(ens, x, y, 0.3, steps=15, clip=clip)
    assert adv.shape == (len(SEEDS), 12, D)
    for k, s in enumerate(SEEDS):
        ref = ll.pgd_l2(_net(s), x, y, 0.3, steps=15, clip=clip)
        torch.testing.assert_close(adv[k], ref, rtol=0, atol=1e-12)
    assert float((adv - x).norm(dim=2).max()) <= 0.3 + 1e-12
    if clip:
        assert float(adv.min()) >= 0.0 and float(adv.max()) <= 1.0


def test_pgd_never_raises_the_margin_and_eps_zero_is_the_identity():
    ens = _ens()
    x, y = _data(12)
    adv = ll.ensemble.pgd_l2(ens, x, y, 0.2, steps=10)
    assert bool((y * ens(adv) <= y * ens(x) + 1e-12).all())
    assert torch.equal(ll.ensemble.pgd_l2(ens, x, y, 0.0, steps=3), x.expand(len(SEEDS), *x.shape))


def test_accuracy_and_flip_distance_match_each_member():
    ens = _ens()
    x, y = _data(20)
    acc = ll.ensemble.accuracy(ens, x, y)
    dist = ll.ensemble.flip_distance(ens, x)
    for k, s in enumerate(SEEDS):
        assert acc[k] == ll.accuracy(_net(s), x, y)
        torch.testing.assert_close(dist[k], ll.flip_distance(_net(s), x), rtol=1e-12, atol=1e-14)


# ---------------------------------------------------------------------------------------------------
# Training: batched equals one by one
# ---------------------------------------------------------------------------------------------------

CONFIGS = {
    "stop": dict(batch_size=8, constraint="stop"),
    "project-step": dict(batch_size=8),
    "project-epoch": dict(batch_size=7, project_every="epoch"),
    "full-batch": dict(),
    "pgd": dict(batch_size=16, attack="pgd", eps=0.1, attack_steps=5),
    "pgd-clip-epoch": dict(batch_size=16, attack="pgd", eps=0.2, attack_steps=4, attack_step_size=0.06,
                           clip=(0.0, 1.0), project_every="epoch"),
    "fgm": dict(batch_size=16, attack="fgm", eps=0.1, clip=(0.0, 1.0)),
}


@pytest.mark.parametrize("shared", [True, False], ids=["one-generator", "one-per-member"])
@pytest.mark.parametrize("config", sorted(CONFIGS))
def test_batched_training_equals_training_one_by_one(config, shared):
    kw = CONFIGS[config]
    x, y = _data(box=True)
    epochs = 25
    ens = _ens()
    C0s = [0.5, 1.0, 2.0, 100.0] if config == "stop" else C0S  # with "stop": three stop, one runs through
    generator = gen(99) if shared else [gen(100 + s) for s in SEEDS]
    hist = ll.train_ensemble(ens, x, y, lr=0.5, epochs=epochs, C0=C0s, generator=generator, progress=False, **kw)
    stopped = []
    for k, s in enumerate(SEEDS):
        net = _net(s)
        ref = ll.train(net, x, y, lr=0.5, epochs=epochs, C0=C0s[k], generator=gen(99 if shared else 100 + s),
                       progress=False, **kw)
        torch.testing.assert_close(ens.W[k].detach(), net.W.detach(), rtol=0, atol=ATOL)
        assert hist[k].stopped_epoch == ref.stopped_epoch and hist[k].epochs == ref.epochs
        assert hist[k].radius == pytest.approx(ref.radius, rel=1e-15)
        for a, b in ((hist[k].loss, ref.loss), (hist[k].accuracy, ref.accuracy), (hist[k].deviation, ref.deviation)):
            assert len(a) == len(b)
            torch.testing.assert_close(torch.tensor(a), torch.tensor(b), rtol=0, atol=ATOL)
        stopped.append(ref.stopped_epoch)
    if config == "stop":  # the check covers members that stop at different epochs and one that runs through
        assert len(set(stopped)) >= 3 and None in stopped


def test_absolute_radius_per_member_and_one_radius_for_all():
    x, y = _data()
    for radius in ([0.05, 0.1, 0.2, 0.4], 0.1):
        ens = _ens()
        ll.train_ensemble(ens, x, y, lr=0.5, epochs=10, batch_size=10, radius=radius, generator=gen(3), progress=False)
        radii = radius if isinstance(radius, list) else [radius] * len(SEEDS)
        for k, s in enumerate(SEEDS):
            net = _net(s)
            ll.train(net, x, y, lr=0.5, epochs=10, batch_size=10, radius=radii[k], generator=gen(3), progress=False)
            torch.testing.assert_close(ens.W[k].detach(), net.W.detach(), rtol=0, atol=ATOL)


def test_evaluate_false_gives_the_same_weights_and_records_only_the_deviation():
    x, y = _data()
    a, b = _ens(), _ens()
    ha = ll.train_ensemble(a, x, y, lr=0.5, epochs=12, batch_size=8, C0=C0S, constraint="stop", generator=gen(1),
                           progress=False)
    hb = ll.train_ensemble(b, x, y, lr=0.5, epochs=12, batch_size=8, C0=C0S, constraint="stop", generator=gen(1),
                           progress=False, evaluate=False)
    assert torch.equal(a.W, b.W)
    for p, q in zip(ha, hb):
        assert q.loss == [] and q.accuracy == [] and q.deviation == p.deviation and q.epochs == p.epochs
        assert q.stopped_epoch == p.stopped_epoch
    net = _net(SEEDS[0])
    h = ll.train(net, x, y, lr=0.5, epochs=12, batch_size=8, C0=C0S[0], constraint="stop", generator=gen(1),
                 progress=False, evaluate=False)
    assert h.loss == [] and h.epochs == ha[0].epochs and h.stopped_epoch == ha[0].stopped_epoch


@pytest.mark.parametrize("project_every", ["step", "epoch"])
def test_projected_training_never_leaves_any_ball(project_every):
    x, y = _data()
    ens = _ens()
    hist = ll.train_ensemble(ens, x, y, lr=2.0, epochs=15, batch_size=5, C0=C0S, project_every=project_every,
                             generator=gen(2), progress=False)
    for k, h in enumerate(hist):
        R = C0S[k] / math.sqrt(M)
        assert max(h.deviation) <= R * (1 + 1e-12)


def test_stop_rule_returns_networks_inside_their_balls():
    x, y = _data()
    ens = _ens()
    hist = ll.train_ensemble(ens, x, y, lr=2.0, epochs=30, batch_size=5, C0=C0S, constraint="stop",
                             generator=gen(2), progress=False)
    dev = ll.ensemble.deviation(ens)
    for k, h in enumerate(hist):
        assert dev[k] <= C0S[k] / math.sqrt(M) + 1e-15
        if h.stopped_epoch is not None:
            assert h.epochs == h.stopped_epoch - 1


def test_training_moves_only_W_and_lowers_the_loss():
    x, y = _data()
    ens = _ens()
    W0, a = ens.W0.clone(), ens.a.clone()
    hist = ll.train_ensemble(ens, x, y, lr=1.0, epochs=20, progress=False)
    assert torch.equal(ens.W0, W0) and torch.equal(ens.a, a)
    assert all(h.loss[-1] < h.loss[0] for h in hist)


def test_float32_ensemble_agrees_with_float32_networks_to_rounding():
    x, y = _data()
    x, y = x.float(), y.float()
    ens = ll.Ensemble(D, M, generators=[gen(s) for s in SEEDS])
    ll.train_ensemble(ens, x, y, lr=0.5, epochs=10, batch_size=10, C0=2.0, generator=gen(4), progress=False)
    for k, s in enumerate(SEEDS):
        net = ll.TwoLayerReLU(D, M, generator=gen(s))
        ll.train(net, x, y, lr=0.5, epochs=10, batch_size=10, C0=2.0, generator=gen(4), progress=False)
        torch.testing.assert_close(ens.W[k].detach(), net.W.detach(), rtol=0, atol=1e-5)


def test_progress_bar_can_be_forced_on(monkeypatch):
    import tqdm.auto

    seen = {}
    real = tqdm.auto.tqdm

    def spy(*args, **kwargs):
        seen.update(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(tqdm.auto, "tqdm", spy)
    x, y = _data()
    hist = ll.train_ensemble(_ens(), x, y, lr=0.5, epochs=2, progress=True)
    assert seen["disable"] is False and all(h.epochs == 2 for h in hist)
    ll.train_ensemble(_ens(), x, y, lr=0.5, epochs=2, progress=False)
    assert seen["disable"] is True


# ---------------------------------------------------------------------------------------------------
# Bad input: a TypeError or ValueError naming the argument, and nothing changed
# ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kwargs, exc, name", [
    (dict(d=0, m=5, generators=[gen(0)]), ValueError, "`d`"),
    (dict(d=3, m=2.5, generators=[gen(0)]), TypeError, "`m`"),
    (dict(d=3, m=5, generators=gen(0)), TypeError, "`generators`"),
    (dict(d=3, m=5, generators=[]), TypeError, "`generators`"),
    (dict(d=3, m=5, generators=[gen(0), 3]), TypeError, "`generators`"),
    (dict(d=3, m=5, generators=[gen(0)], dtype=torch.int32), TypeError, "`dtype`"),
    (dict(d=3, m=5, generators=[gen(0)], output_scale=-1.0), ValueError, "`output_scale`"),
])
def test_bad_construction(kwargs, exc, name):
    with pytest.raises(exc, match=name):
        ll.Ensemble(**kwargs)


def test_bad_from_models_and_member():
    with pytest.raises(TypeError, match="`models`"):
        ll.Ensemble.from_models([])
    with pytest.raises(TypeError, match="`models`"):
        ll.Ensemble.from_models([_net(0), "net"])
    with pytest.raises(ValueError, match="`models`"):
        ll.Ensemble.from_models([_net(0), _net(1, m=M + 1)])
    with pytest.raises(ValueError, match="`models`"):
        ll.Ensemble.from_models([_net(0), ll.TwoLayerReLU(D, M, generator=gen(1))])  # float64 with float32
    ens = _ens()
    with pytest.raises(ValueError, match="`k`"):
        ens.member(len(SEEDS))
    with pytest.raises(TypeError, match="`k`"):
        ens.member(1.0)


def _bad_inputs(ens):
    x = unit_rows(5, D)
    return [
        (x.tolist(), TypeError), (x.long(), TypeError), (x.float(), TypeError), (x[:, :3], ValueError),
        (x[0], ValueError), (x[None].expand(ens.K + 1, 5, D), ValueError), (x[:0], ValueError),
        (torch.full_like(x, float("nan")), ValueError),
        (torch.empty(5, D, dtype=torch.float64, device="meta"), ValueError),
    ]


@pytest.mark.parametrize("fn", ["forward", "input_gradient", "pgd_l2", "accuracy", "flip_distance", "train_ensemble"])
def test_bad_x_is_named_and_nothing_changes(fn):
    ens = _ens()
    y = torch.ones(5, dtype=torch.float64)
    calls = {
        "forward": lambda x: ens(x),
        "input_gradient": lambda x: ll.ensemble.input_gradient(ens, x),
        "pgd_l2": lambda x: ll.ensemble.pgd_l2(ens, x, y, 0.1, steps=2),
        "accuracy": lambda x: ll.ensemble.accuracy(ens, x, y),
        "flip_distance": lambda x: ll.ensemble.flip_distance(ens, x),
        "train_ensemble": lambda x: ll.train_ensemble(ens, x, y, lr=0.1, epochs=1, progress=False),
    }
    W = ens.W.detach().clone()
    for bad, exc in _bad_inputs(ens):
        with pytest.raises(exc, match="`x`"):
            calls[fn](bad)
    assert torch.equal(ens.W.detach(), W)


@pytest.mark.parametrize("fn", ["pgd_l2", "accuracy", "train_ensemble"])
@pytest.mark.parametrize("bad, exc", [
    ([1.0] * 5, TypeError), (torch.tensor([1.0, -1.0, 1.0, 1.0, 0.0], dtype=torch.float64), ValueError),
    (torch.ones(4, dtype=torch.float64), ValueError), (torch.ones(5, dtype=torch.bool), TypeError),
])
def test_bad_labels_are_named(fn, bad, exc):
    ens = _ens()
    x = unit_rows(5, D)
    calls = {
        "pgd_l2": lambda y: ll.ensemble.pgd_l2(ens, x, y, 0.1, steps=2),
        "accuracy": lambda y: ll.ensemble.accuracy(ens, x, y),
        "train_ensemble": lambda y: ll.train_ensemble(ens, x, y, lr=0.1, epochs=1, progress=False),
    }
    with pytest.raises(exc, match="`y`"):
        calls[fn](bad)


def test_not_a_network_is_named_and_train_ensemble_wants_an_ensemble():
    x = unit_rows(5, D)
    y = torch.ones(5, dtype=torch.float64)
    for call in (lambda: ll.ensemble.input_gradient("ens", x), lambda: ll.ensemble.deviation("ens"),
                 lambda: ll.ensemble.project_(None, 0.1), lambda: ll.ensemble.pgd_l2([], x, y, 0.1, steps=1),
                 lambda: ll.ensemble.accuracy(3, x, y), lambda: ll.ensemble.flip_distance(x, x)):
        with pytest.raises(TypeError, match="`model`"):
            call()
    with pytest.raises(TypeError, match="`ens`"):
        ll.train_ensemble(_net(0), x, y, lr=0.1, epochs=1)


def test_the_ensemble_names_are_the_library_functions():
    # One implementation: ll.ensemble only gathers names; each is the function that takes one network.
    for name in ("input_gradient", "deviation", "project_", "pgd_l2", "accuracy", "flip_distance"):
        assert getattr(ll.ensemble, name) is getattr(ll, name)
    assert ll.ensemble.Ensemble is ll.Ensemble and issubclass(ll.Ensemble, ll.TwoLayerReLU)


@pytest.mark.parametrize("kwargs, exc, name", [
    (dict(lr=0.0), ValueError, "`lr`"),
    (dict(lr="0.1"), TypeError, "`lr`"),
    (dict(epochs=0), ValueError, "`epochs`"),
    (dict(epochs=1.5), TypeError, "`epochs`"),
    (dict(batch_size=0), ValueError, "`batch_size`"),
    (dict(C0=-1.0), ValueError, "`C0`"),
    (dict(C0=[1.0, 2.0]), ValueError, "`C0`"),
    (dict(C0=[1.0, 2.0, float("nan"), 1.0]), ValueError, "`C0`"),
    (dict(C0="1"), TypeError, "`C0`"),
    (dict(radius=[0.1, 0.1, 0.1, -0.1]), ValueError, "`radius`"),
    (dict(C0=1.0, radius=0.1), ValueError, "`C0`"),
    (dict(constraint="clip"), ValueError, "`constraint`"),
    (dict(project_every="batch"), ValueError, "`project_every`"),
    (dict(generator=[gen(0)]), TypeError, "`generator`"),
    (dict(generator=[gen(0), gen(1), gen(2), 3]), TypeError, "`generator`"),
    (dict(generator=7), TypeError, "`generator`"),
    (dict(attack="cw", eps=0.1), ValueError, "`attack`"),
    (dict(attack="pgd"), TypeError, "`eps`"),
    (dict(attack="pgd", eps=-0.1), ValueError, "`eps`"),
    (dict(attack="pgd", eps=0.1, attack_steps=0), ValueError, "`attack_steps`"),
    (dict(attack="pgd", eps=0.1, attack_step_size=-1.0), ValueError, "`attack_step_size`"),
    (dict(attack="pgd", eps=0.1, clip=(0.0, 0.1)), ValueError, "`x`"),
    (dict(attack="pgd", eps=0.1, clip=(1.0, 0.0)), ValueError, "`clip`"),
    (dict(eps=0.1), ValueError, "`attack`"),
    (dict(clip=(0.0, 1.0)), ValueError, "`attack`"),
    (dict(progress="yes"), TypeError, "`progress`"),
    (dict(evaluate=1), TypeError, "`evaluate`"),
])
def test_bad_training_arguments_are_named_and_nothing_changes(kwargs, exc, name):
    ens = _ens()
    x, y = _data(box=True)
    args = dict(lr=0.1, epochs=2, progress=False)
    args.update(kwargs)
    W = ens.W.detach().clone()
    with pytest.raises(exc, match=name):
        ll.train_ensemble(ens, x, y, **args)
    assert torch.equal(ens.W.detach(), W)


@pytest.mark.parametrize("radius, exc", [(-0.1, ValueError), ([0.1, 0.2], ValueError), ("0.1", TypeError),
                                         ([0.1, 0.1, 0.1, float("inf")], ValueError)])
def test_bad_projection_radius(radius, exc):
    ens = _ens()
    with pytest.raises(exc, match="`radius`"):
        ll.ensemble.project_(ens, radius)


@pytest.mark.parametrize("kwargs, exc, name", [
    (dict(eps=-0.1), ValueError, "`eps`"), (dict(steps=0), ValueError, "`steps`"),
    (dict(step_size=-1.0), ValueError, "`step_size`"), (dict(clip=(0.0, 0.01)), ValueError, "`x`"),
])
def test_bad_pgd_arguments(kwargs, exc, name):
    ens = _ens()
    x, y = _data(5, box=True)
    args = dict(eps=0.1, steps=2)
    args.update(kwargs)
    with pytest.raises(exc, match=name):
        ll.ensemble.pgd_l2(ens, x, y, **args)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_training_matches_cpu():
    x, y = _data()
    cpu, cuda = _ens(), _ens(device="cuda")
    ll.train_ensemble(cpu, x, y, lr=0.5, epochs=5, batch_size=10, C0=C0S, generator=gen(1), progress=False)
    ll.train_ensemble(cuda, x.cuda(), y.cuda(), lr=0.5, epochs=5, batch_size=10, C0=C0S, generator=gen(1), progress=False)
    torch.testing.assert_close(cuda.W.detach().cpu(), cpu.W.detach(), rtol=0, atol=1e-10)


# ---------------------------------------------------------------------------------------------------
# Public names the chapters and the README use
# ---------------------------------------------------------------------------------------------------

# The names of the network, lazy-ball, attack, metric, training and ensemble modules that the book and
# the README call (one code path serves one network and an ensemble; these names must keep working).
NAMES_USED = [
    "TwoLayerReLU", "Ensemble", "input_gradient", "preactivations", "lazy_radius", "deviation", "project_",
    "value_bounds", "value_extremiser", "linearization", "switchable_neurons", "gradient_step", "flip_distance",
    "fgm_l2", "pgd_l2", "accuracy", "robust_accuracy", "power_law_fit", "train", "train_ensemble",
    "ensemble.accuracy", "ensemble.deviation", "ensemble.input_gradient", "ensemble.pgd_l2",
    "ensemble.flip_distance", "ensemble.project_", "ensemble.train_ensemble", "ensemble.Ensemble",
]
ROOT = __import__("pathlib").Path(__file__).resolve().parents[1]


def _names_in_book() -> set[str]:
    import json
    import re

    pattern = re.compile(r"\bll\.([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)")
    names = set(pattern.findall((ROOT / "README.md").read_text()))
    for path in sorted((ROOT / "book").glob("*.ipynb")):
        for cell in json.loads(path.read_text())["cells"]:
            if cell["cell_type"] == "code":
                names |= set(pattern.findall("".join(cell["source"])))
    return names


def _resolve(name: str):
    obj = ll
    for part in name.split("."):
        obj = getattr(obj, part)
    return obj


@pytest.mark.parametrize("name", NAMES_USED)
def test_public_names_used_by_the_book_work(name):
    assert not name.split(".")[-1].startswith("_") and callable(_resolve(name))


def test_the_list_covers_what_the_book_uses_of_these_modules():
    modules = {"model", "lazy", "attacks", "metrics", "train", "ensemble"}
    ours = {name for name in _names_in_book()
            if name.startswith("ensemble.") or getattr(_resolve(name), "__module__", "").split(".")[-1] in modules}
    assert ours <= set(NAMES_USED), sorted(ours - set(NAMES_USED))
    for name in _names_in_book():  # and every ll.… name in the book resolves
        _resolve(name)


# ---------------------------------------------------------------------------------------------------
# Per-network quantities: a clear refusal, never a shape error from inside torch
# ---------------------------------------------------------------------------------------------------

_X, _U = unit_rows(4, D, seed=21), 0.1 * unit_rows(4, D, seed=22)
PER_NETWORK = [
    (ll.lemmas.gradient_difference, (_X, _U)),
    (ll.lemmas.activation_changes, (_X, _U)),
    (ll.lemmas.lazy_difference_gap, (_X, _U)),
    (ll.lemmas.lazy_difference_bound, (_X, _U, 0.1)),
    (ll.lemmas.switched_operator_norm, (_X, _U)),
    (ll.lemmas.naive_difference_bound, (_X, 0.1)),
    (ll.lemmas.gradient_difference_search, (_X, 0.1)),
    (ll.lemmas.gradient_decomposition, (_X,)),
    (ll.lemmas.gradient_change_bounds, (_X, 0.1)),
    (ll.lemmas.gradient_norm_search, (_X, 0.1)),
    (ll.lemmas.theorem_eta, (_X, 1.0)),
    (ll.lemmas.step_flips, (_X, 1.0)),
    (ll.lemmas.flip_fraction, (_X, 1.0)),
    (ll.lemmas.critical_C2, (_X,)),
    (ll.lemmas.ray_slope_change, (_X, 0.1)),
    (ll.random_networks.linear_flip_prediction, (_X,)),
    (ll.random_networks.ray_linearization, (_X, 0.1)),
    (ll.random_networks.ray_values, (_X, torch.full((4,), 0.1, dtype=torch.float64))),
    (ll.random_networks.ray_minimum, (_X,)),
    (ll.random_networks.reach_distance, (_X, 1e-9)),
    (ll.tangent_kernel.tangent_kernel, (_X,)),
    (ll.tangent_kernel.min_norm_interpolant, (_X, torch.ones(4, dtype=torch.float64))),
    (ll.tangent_kernel.linearized_flip_distance, (_X,)),
]


@pytest.mark.parametrize("fn, args", PER_NETWORK, ids=[fn.__name__ for fn, _ in PER_NETWORK])
def test_per_network_quantities_refuse_an_ensemble_by_name(fn, args):
    """The lemma quantities, the random-network rays and the tangent kernel are defined for one network:
    an ensemble is refused with the library's message (take a member), and member k is accepted."""
    ens = _ens()
    with pytest.raises(ValueError, match=r"`model` must be one network .*member\(k\).*an Ensemble of 4"):
        fn(ens, *args)
    fn(ens.member(1), *args)


def test_per_network_list_is_complete():
    """Every public function of these modules whose first argument is a network is in the table above."""
    import inspect

    listed = {fn for fn, _ in PER_NETWORK}
    for module in (ll.lemmas, ll.random_networks, ll.tangent_kernel):
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isfunction(obj) and next(iter(inspect.signature(obj).parameters)) == "model":
                assert obj in listed, name
