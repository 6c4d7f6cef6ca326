"""Bad input: every public function, for each argument, raises TypeError or ValueError naming the
argument in backticks (the project's one message template), and leaves its inputs untouched.

The table is generated: each function has a default call; each case replaces one argument by a bad
value. Shared families of bad values (models, inputs x, labels y, budgets, sizes, generators) are
applied to every function that takes that argument.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import pytest
import torch

import lazylib as ll
from conftest import gen

NAN, INF = float("nan"), float("inf")
D, M, N = 4, 8, 5


@dataclass
class Ctx:
    net: ll.TwoLayerReLU
    x: torch.Tensor
    y: torch.Tensor

    def snapshot(self) -> list[torch.Tensor]:
        return [t.detach().clone() for t in (self.x, self.y, self.net.W, self.net.W0, self.net.a)]

    def unchanged(self, snap: list[torch.Tensor]) -> bool:
        now = (self.x, self.y, self.net.W.detach(), self.net.W0, self.net.a)
        return all(torch.equal(a, b) for a, b in zip(snap, now))


def _ctx(K: int | None = None) -> Ctx:
    """One network, or (K given) an ensemble of K: every function that takes one takes the other."""
    if K is None:
        net = ll.TwoLayerReLU(D, M, generator=gen(0), dtype=torch.float64)
    else:
        net = ll.Ensemble(D, M, generators=[gen(10 + k) for k in range(K)], dtype=torch.float64)
    with torch.no_grad():  # a trained-looking W, so "unchanged" means something for project_ and train
        net.W.add_(0.3 * torch.randn(net.W.shape, generator=gen(1), dtype=torch.float64))
    x = torch.rand(N, D, generator=gen(2), dtype=torch.float64)  # in [0, 1]: valid for clip=(0, 1)
    y = torch.tensor([1.0, -1.0, 1.0, 1.0, -1.0], dtype=torch.float64)
    return Ctx(net, x, y)


# Each public function: how to call it with good arguments (a dict of keyword arguments from a context).
FUNCTIONS: dict[str, tuple[Callable[..., Any], Callable[[Ctx], dict]]] = {
    "TwoLayerReLU": (ll.TwoLayerReLU, lambda c: dict(d=3, m=5, generator=gen(0))),
    "TwoLayerReLU.forward": (lambda model, x: model(x), lambda c: dict(model=c.net, x=c.x)),
    "input_gradient": (ll.input_gradient, lambda c: dict(model=c.net, x=c.x)),
    "preactivations": (ll.preactivations, lambda c: dict(model=c.net, x=c.x)),
    "lazy_radius": (ll.lazy_radius, lambda c: dict(m=10, C0=1.0)),
    "deviation": (ll.deviation, lambda c: dict(model=c.net)),
    "project_": (ll.project_, lambda c: dict(model=c.net, radius=0.01)),
    "value_bounds": (ll.value_bounds, lambda c: dict(model=c.net, x=c.x, radius=0.1)),
    "value_extremiser": (ll.value_extremiser, lambda c: dict(model=c.net, x=c.x, radius=0.1, which="sup")),
    "linearization": (ll.linearization, lambda c: dict(model=c.net, x=c.x)),
    "gradient_step": (ll.gradient_step, lambda c: dict(model=c.net, x=c.x, eta=0.1)),
    "flip_distance": (ll.flip_distance, lambda c: dict(model=c.net, x=c.x, direction=torch.ones_like(c.x))),
    "fgm_l2": (ll.fgm_l2, lambda c: dict(model=c.net, x=c.x, y=c.y, eps=0.1, clip=(0.0, 1.0))),
    "pgd_l2": (ll.pgd_l2, lambda c: dict(model=c.net, x=c.x, y=c.y, eps=0.1, steps=3, step_size=0.05,
                                         clip=(0.0, 1.0), generator=gen(0))),
    "accuracy": (ll.accuracy, lambda c: dict(model=c.net, x=c.x, y=c.y)),
    "robust_accuracy": (ll.robust_accuracy, lambda c: dict(model=c.net, x=c.x, y=c.y, eps=[0.0, 0.1])),
    "robust_accuracy[pgd]": (ll.robust_accuracy, lambda c: dict(model=c.net, x=c.x, y=c.y, eps=0.1, attack="pgd",
                                                               steps=3, step_size=0.05, clip=(0.0, 1.0),
                                                               generator=gen(0))),
    "logistic_loss": (ll.logistic_loss, lambda c: dict(model=c.net, x=c.x, y=c.y)),
    "loss_gradient": (ll.loss_gradient, lambda c: dict(model=c.net, x=c.x, y=c.y)),
    "train": (ll.train, lambda c: dict(model=c.net, x=c.x, y=c.y, lr=0.1, epochs=2, batch_size=2, C0=1.0,
                                       constraint="project", project_every="step", generator=gen(0),
                                       progress=False)),
    "train[radius]": (ll.train, lambda c: dict(model=c.net, x=c.x, y=c.y, lr=0.1, epochs=2, radius=0.1,
                                               constraint="stop", progress=False)),
    "power_law_fit": (ll.power_law_fit, lambda c: dict(x=[1.0, 2.0, 4.0], y=[1.0, 3.0, 5.0])),
    "data.mnist_pair": (ll.data.mnist_pair, lambda c: dict(digits=(0, 1), size=5)),
    "data.sphere": (ll.data.sphere, lambda c: dict(n=10, d=3, generator=gen(0), labels="linear")),
    "data.resize_images": (ll.data.resize_images, lambda c: dict(images=torch.rand(2, 6, 6), size=3)),
}
FUNCTIONS.update({
    "lipschitz_bound": (ll.lipschitz_bound, lambda c: dict(model=c.net)),
    "certified_radius": (ll.certified_radius, lambda c: dict(model=c.net, x=c.x, y=c.y)),
    "certified_robust_accuracy": (ll.certified_robust_accuracy,
                                  lambda c: dict(model=c.net, x=c.x, y=c.y, eps=[0.0, 0.1])),
})
if hasattr(ll, "switchable_neurons"):
    FUNCTIONS["switchable_neurons"] = (ll.switchable_neurons, lambda c: dict(model=c.net, x=c.x, radius=0.1))


# ---- Part III (ensembles, the experiment commands, the full MNIST): default calls for the table ----
def _idx_file() -> str:
    import os
    import tempfile

    path = os.path.join(tempfile.mkdtemp(), "tiny-idx1-ubyte")
    with open(path, "wb") as fh:
        fh.write(bytes([0, 0, 8, 1, 0, 0, 0, 2, 7, 9]))
    return path


FUNCTIONS.update({
    "Ensemble": (ll.Ensemble, lambda c: dict(d=3, m=5, generators=[gen(0), gen(1)])),
    "train_ensemble": (ll.train_ensemble, lambda c: dict(ens=ll.Ensemble.from_models([c.net, c.net]), x=c.x, y=c.y,
                                                         lr=0.1, epochs=2, batch_size=2, C0=1.0, generator=gen(0),
                                                         progress=False)),
    "sweep": (ll.sweep, lambda c: dict(task=abs, points=[-1, 2], progress=False)),
    "data.fetch_mnist": (ll.data.fetch_mnist, lambda c: dict(data_dir=".",
                                                             files={})),
    "data.read_idx": (ll.data.read_idx, lambda c: dict(path=_idx_file())),
})
# ---- end of Part III ----


def _meta(shape, dtype=torch.float64):
    return torch.empty(shape, dtype=dtype, device="meta")  # "another device" that exists on every machine


def _with(t: torch.Tensor, value: float) -> torch.Tensor:
    t = t.clone()
    t.view(-1)[1] = value
    return t


# Families of bad values: (label, builder(ctx) -> bad value, exception type).
BAD_MODEL = [
    ("None", lambda c: None, TypeError),
    ("string", lambda c: "net", TypeError),
    ("nn.Linear", lambda c: torch.nn.Linear(D, 1), TypeError),
    ("tensor", lambda c: c.net.W.detach(), TypeError),
]
BAD_X = [
    ("list", lambda c: c.x.tolist(), TypeError),
    ("numpy", lambda c: c.x.numpy(), TypeError),
    ("int", lambda c: c.x.round().long(), TypeError),
    ("float32-vs-float64-model", lambda c: c.x.float(), TypeError),
    ("complex", lambda c: c.x.to(torch.complex128), TypeError),
    ("1-D", lambda c: c.x[0], ValueError),
    ("3-D", lambda c: c.x[None], ValueError),
    ("wrong-d", lambda c: c.x[:, :3], ValueError),
    ("empty", lambda c: c.x[:0], ValueError),
    ("nan", lambda c: _with(c.x, NAN), ValueError),
    ("inf", lambda c: _with(c.x, INF), ValueError),
    ("-inf", lambda c: _with(c.x, -INF), ValueError),
    ("other-device", lambda c: _meta((N, D)), ValueError),
]
BAD_Y = [
    ("list", lambda c: c.y.tolist(), TypeError),
    ("numpy", lambda c: c.y.numpy(), TypeError),
    ("bool", lambda c: c.y > 0, TypeError),
    ("complex", lambda c: c.y.to(torch.complex64), TypeError),
    ("too-short", lambda c: c.y[:-1], ValueError),
    ("2-D", lambda c: c.y[:, None], ValueError),
    ("zero-one", lambda c: (c.y > 0).double(), ValueError),
    ("two", lambda c: 2 * c.y, ValueError),
    ("half", lambda c: 0.5 * c.y, ValueError),
    ("nan", lambda c: _with(c.y, NAN), ValueError),
    ("other-device", lambda c: _meta((N,)), ValueError),
]
BAD_NONNEG = [  # finite numbers ≥ 0: eps, radius, C0, step_size
    ("negative", lambda c: -0.1, ValueError),
    ("nan", lambda c: NAN, ValueError),
    ("inf", lambda c: INF, ValueError),
    ("string", lambda c: "0.1", TypeError),
    ("None", lambda c: None, TypeError),
    ("bool", lambda c: True, TypeError),
    ("complex", lambda c: 1j, TypeError),
]
BAD_POSINT = [  # integers ≥ 1: d, m, steps, epochs, batch_size, n, size
    ("zero", lambda c: 0, ValueError),
    ("negative", lambda c: -3, ValueError),
    ("float", lambda c: 2.5, TypeError),
    ("whole-float", lambda c: 2.0, TypeError),
    ("string", lambda c: "3", TypeError),
    ("bool", lambda c: True, TypeError),
    ("None", lambda c: None, TypeError),
]
BAD_GENERATOR = [
    ("int", lambda c: 0, TypeError),
    ("string", lambda c: "seed", TypeError),
    ("numpy", lambda c: np.random.default_rng(0), TypeError),
]
BAD_CLIP = [  # (low, high) pairs; x lies in [0, 1]
    ("reversed", lambda c: (1.0, 0.0), ValueError, "`clip`"),
    ("equal", lambda c: (0.5, 0.5), ValueError, "`clip`"),
    ("one-number", lambda c: 1.0, TypeError, "`clip`"),
    ("triple", lambda c: (0.0, 0.5, 1.0), TypeError, "`clip`"),
    ("string", lambda c: "01", TypeError, "`clip`"),
    ("nan-high", lambda c: (0.0, NAN), ValueError, "`clip[1]`"),
    ("string-low", lambda c: ("0", 1.0), TypeError, "`clip[0]`"),
    ("x-outside", lambda c: (0.0, 0.5), ValueError, "`x`"),
]


# Arguments for which None is a valid value (the default), so the families' "None" case is skipped.
OPTIONAL = {"step_size", "C0", "radius", "batch_size", "generator"}


def _family(fname: str, arg: str, family, match: str | None = None) -> list:
    return [pytest.param(fname, arg, b, exc, match or f"`{arg}`", id=f"{fname}-{arg}-{label}")
            for label, b, exc in family if not (label == "None" and arg in OPTIONAL)]


def _cases() -> list:
    cases = []
    for fname, (_, defaults) in FUNCTIONS.items():
        args = defaults(_ctx())
        if "model" in args and fname != "TwoLayerReLU.forward":
            cases += _family(fname, "model", BAD_MODEL)
        if "x" in args and isinstance(args["x"], torch.Tensor):
            cases += _family(fname, "x", BAD_X)
        if "y" in args and isinstance(args["y"], torch.Tensor):
            cases += _family(fname, "y", BAD_Y)
        for arg in ("eps", "radius", "C0", "step_size"):
            if arg in args:
                cases += _family(fname, arg, BAD_NONNEG)
        for arg in ("d", "m", "steps", "epochs", "batch_size", "n", "size"):
            if arg in args:
                cases += _family(fname, arg, BAD_POSINT)
        if "generator" in args:
            cases += _family(fname, "generator", BAD_GENERATOR)
        if "clip" in args:
            cases += [pytest.param(fname, "clip", b, exc, m, id=f"{fname}-clip-{label}") for label, b, exc, m in BAD_CLIP]
    return cases


def _one(fname, arg, label, value, exc, match=None):
    return pytest.param(fname, arg, (lambda c, v=value: v) if not callable(value) else value, exc,
                        match or f"`{arg}`", id=f"{fname}-{arg}-{label}")


SPECIFIC = [
    # the network
    _one("TwoLayerReLU", "dtype", "int", torch.int64, TypeError),
    _one("TwoLayerReLU", "dtype", "string", "float64", TypeError),
    _one("TwoLayerReLU", "output_scale", "zero", 0.0, ValueError),
    _one("TwoLayerReLU", "output_scale", "negative", -1.0, ValueError),
    _one("TwoLayerReLU", "output_scale", "nan", NAN, ValueError),
    _one("TwoLayerReLU", "output_scale", "string", "a", TypeError),
    _one("TwoLayerReLU", "device", "unknown", "nonsense", ValueError),
    _one("TwoLayerReLU", "device", "float", 3.5, TypeError),
    # value_extremiser's choice
    _one("value_extremiser", "which", "max", "max", ValueError),
    _one("value_extremiser", "which", "None", None, ValueError),
    _one("value_extremiser", "which", "upper-case", "SUP", ValueError),
    # gradient_step's eta: a number or one per point
    _one("gradient_step", "eta", "nan", NAN, ValueError),
    _one("gradient_step", "eta", "inf", INF, ValueError),
    _one("gradient_step", "eta", "string", "0.1", TypeError),
    _one("gradient_step", "eta", "None", None, TypeError),
    _one("gradient_step", "eta", "wrong-length", lambda c: torch.ones(N + 1, dtype=torch.float64), ValueError),
    _one("gradient_step", "eta", "int-tensor", lambda c: torch.ones(N, dtype=torch.int64), TypeError),
    _one("gradient_step", "eta", "nan-tensor", lambda c: _with(torch.ones(N, dtype=torch.float64), NAN), ValueError),
    _one("gradient_step", "eta", "2-D", lambda c: torch.ones(N, 1, dtype=torch.float64), TypeError),
    _one("gradient_step", "eta", "other-device", lambda c: _meta((N,)), ValueError),
    # flip_distance's direction
    _one("flip_distance", "direction", "extra-row", lambda c: torch.ones(N + 1, D, dtype=torch.float64), ValueError),
    _one("flip_distance", "direction", "wrong-d", lambda c: torch.ones(N, D + 1, dtype=torch.float64), ValueError),
    _one("flip_distance", "direction", "1-D", lambda c: torch.ones(D, dtype=torch.float64), ValueError),
    _one("flip_distance", "direction", "int", lambda c: torch.ones(N, D, dtype=torch.int64), TypeError),
    _one("flip_distance", "direction", "float32", lambda c: torch.ones(N, D), TypeError),
    _one("flip_distance", "direction", "nan", lambda c: _with(torch.ones(N, D, dtype=torch.float64), NAN), ValueError),
    _one("flip_distance", "direction", "list", lambda c: [[1.0] * D] * N, TypeError),
    _one("flip_distance", "direction", "other-device", lambda c: _meta((N, D)), ValueError),
    # robust_accuracy: budgets and the attack
    _one("robust_accuracy", "eps", "negative-in-list", [0.1, -0.1], ValueError),
    _one("robust_accuracy", "eps", "nan-in-list", [0.1, NAN], ValueError),
    _one("robust_accuracy", "eps", "string-in-list", [0.1, "a"], TypeError),
    _one("robust_accuracy", "eps", "empty-list", [], ValueError),
    _one("robust_accuracy", "eps", "nested-list", [[0.1]], TypeError),
    _one("robust_accuracy", "eps", "2-D-tensor", lambda c: torch.ones(2, 2), ValueError),
    _one("robust_accuracy", "eps", "2-D-array", lambda c: np.ones((2, 2)), TypeError),
    _one("robust_accuracy", "eps", "nan-tensor", lambda c: torch.tensor([0.1, NAN]), ValueError),
    _one("robust_accuracy", "eps", "complex-tensor", lambda c: torch.tensor([0.1, 0.2], dtype=torch.complex64), TypeError),
    _one("robust_accuracy", "eps", "bool-tensor", lambda c: torch.tensor([True]), TypeError),
    _one("robust_accuracy", "eps", "dict", {"eps": 0.1}, TypeError),
    _one("robust_accuracy", "attack", "fgsm", "fgsm", ValueError),
    _one("robust_accuracy", "attack", "None", None, ValueError),
    # the PGD options are checked for the gradient attack too (never silently ignored)
    _one("robust_accuracy", "steps", "zero", 0, ValueError),
    _one("robust_accuracy", "steps", "string", "10", TypeError),
    _one("robust_accuracy", "step_size", "negative", -0.1, ValueError),
    _one("robust_accuracy", "generator", "int", 0, TypeError),
    _one("robust_accuracy", "clip", "reversed", (1.0, 0.0), ValueError),
    # training
    _one("train", "lr", "zero", 0.0, ValueError),
    _one("train", "lr", "negative", -0.1, ValueError),
    _one("train", "lr", "nan", NAN, ValueError),
    _one("train", "lr", "string", "0.1", TypeError),
    _one("train", "lr", "None", None, TypeError),
    _one("train", "radius", "with-C0", 0.5, ValueError, "`C0` and `radius`"),
    _one("train", "constraint", "clip", "clip", ValueError),
    _one("train", "constraint", "None", None, ValueError),
    _one("train", "project_every", "batch", "batch", ValueError),
    _one("train", "progress", "string", "yes", TypeError),
    # power_law_fit
    _one("power_law_fit", "x", "2-D", [[1.0, 2.0, 3.0]], ValueError),
    _one("power_law_fit", "x", "too-short", [1.0, 2.0], ValueError),
    _one("power_law_fit", "x", "zero", [0.0, 1.0, 2.0], ValueError),
    _one("power_law_fit", "x", "negative", [-1.0, 1.0, 2.0], ValueError),
    _one("power_law_fit", "x", "nan", [NAN, 1.0, 2.0], ValueError),
    _one("power_law_fit", "x", "inf", [INF, 1.0, 2.0], ValueError),
    _one("power_law_fit", "x", "all-equal", [2.0, 2.0, 2.0], ValueError),
    _one("power_law_fit", "x", "strings", ["1", "2", "4"], TypeError),
    _one("power_law_fit", "x", "None", None, TypeError),
    _one("power_law_fit", "x", "string", "124", TypeError),
    _one("power_law_fit", "y", "wrong-length", [1.0, 2.0, 3.0, 4.0], ValueError),
    _one("power_law_fit", "y", "negative", [1.0, -2.0, 3.0], ValueError),
    _one("power_law_fit", "y", "tensor-2-D", lambda c: torch.ones(3, 1), ValueError),
    # mnist_pair: everything is checked before the images are read
    _one("data.mnist_pair", "digits", "one", (0,), TypeError),
    _one("data.mnist_pair", "digits", "string", "01", TypeError),
    _one("data.mnist_pair", "digits", "int", 1, TypeError),
    _one("data.mnist_pair", "digits", "same", (3, 3), ValueError),
    _one("data.mnist_pair", "digits", "ten", (0, 10), ValueError),
    _one("data.mnist_pair", "digits", "negative", (-1, 1), ValueError),
    _one("data.mnist_pair", "digits", "float", (0, 1.5), ValueError),
    _one("data.mnist_pair", "digits", "bool", (True, 0), ValueError),
    _one("data.mnist_pair", "size", "too-big", 29, ValueError),
    _one("data.mnist_pair", "unit_norm", "int", 1, TypeError),
    _one("data.mnist_pair", "unit_norm", "string", "yes", TypeError),
    _one("data.mnist_pair", "test_fraction", "zero", 0.0, ValueError),
    _one("data.mnist_pair", "test_fraction", "one", 1.0, ValueError),
    _one("data.mnist_pair", "test_fraction", "negative", -0.2, ValueError),
    _one("data.mnist_pair", "test_fraction", "nan", NAN, ValueError),
    _one("data.mnist_pair", "test_fraction", "string", "0.2", TypeError),
    _one("data.mnist_pair", "source", "web", "web", ValueError),
    _one("data.mnist_pair", "split_seed", "negative", -1, ValueError),
    _one("data.mnist_pair", "split_seed", "float", 1.5, TypeError),
    _one("data.mnist_pair", "dtype", "int", torch.int64, TypeError),
    _one("data.mnist_pair", "dtype", "string", "float32", TypeError),
    _one("data.mnist_pair", "device", "unknown", "nonsense", ValueError),
    _one("data.mnist_pair", "device", "int-list", [0], TypeError),
    # sphere
    _one("data.sphere", "labels", "circle", "circle", ValueError),
    _one("data.sphere", "dtype", "int", torch.int32, TypeError),
    _one("data.sphere", "device", "unknown", "nonsense", ValueError),
    # resize_images
    _one("data.resize_images", "images", "list", lambda c: [[[0.0]]], TypeError),
    _one("data.resize_images", "images", "int", lambda c: torch.ones(2, 6, 6, dtype=torch.int64), TypeError),
    _one("data.resize_images", "images", "2-D", lambda c: torch.ones(6, 6), ValueError),
    _one("data.resize_images", "images", "4-D", lambda c: torch.ones(2, 1, 6, 6), ValueError),
    _one("data.resize_images", "images", "not-square", lambda c: torch.ones(2, 6, 5), ValueError),
    _one("data.resize_images", "images", "zero-size", lambda c: torch.ones(2, 0, 0), ValueError),
    _one("data.resize_images", "images", "nan", lambda c: _with(torch.ones(2, 6, 6), NAN), ValueError),
]

CASES = _cases() + SPECIFIC
# The functions that take a network take an ensemble of K networks through the same code and the same
# checks: every case of theirs runs again with an ensemble (K = 3) in place of the network.
TAKES_A_MODEL = {fname for fname, (_, defaults) in FUNCTIONS.items() if "model" in defaults(_ctx())}
ENSEMBLE_CASES = [pytest.param(*case.values, 3, id=f"{case.id}-K3") for case in CASES if case.values[0] in TAKES_A_MODEL]


@pytest.mark.parametrize("fname, arg, bad, exc, match, K",
                         [pytest.param(*case.values, None, id=case.id) for case in CASES] + ENSEMBLE_CASES)
def test_bad_argument_raises_a_named_error_and_changes_nothing(fname, arg, bad, exc, match, K):
    fn, defaults = FUNCTIONS[fname]
    c = _ctx(K)
    kwargs = defaults(c)
    kwargs[arg] = bad(c)
    snap = c.snapshot()
    with pytest.raises(exc, match=re.escape(match)) as info:
        fn(**kwargs)
    assert type(info.value) in (TypeError, ValueError)  # never a bare RuntimeError / AssertionError
    assert c.unchanged(snap), "an input was modified before the error"


@pytest.mark.parametrize("fname, K", [(f, None) for f in sorted(FUNCTIONS)] + [(f, 3) for f in sorted(TAKES_A_MODEL)])
def test_good_default_calls_run(fname, K):
    """The table's default calls are valid, so every failure above is due to the one bad argument."""
    fn, defaults = FUNCTIONS[fname]
    fn(**defaults(_ctx(K)))


def _names_with_bad_input_tests_elsewhere() -> set[str]:
    """Public names used inside a test (its body or its parametrize table) that expects an error,
    in the other test files: the Part I-III modules keep their bad-input tests beside their other tests."""
    import ast
    import pathlib

    covered: set[str] = set()
    for path in pathlib.Path(__file__).parent.glob("test_*.py"):
        if path.name == pathlib.Path(__file__).name:
            continue
        tree = ast.parse(path.read_text())
        tables = {  # module-level tables of cases, e.g. BAD = {"name": (ll.fn, {...}), ...}
            target.id: stmt.value
            for stmt in tree.body if isinstance(stmt, ast.Assign)
            for target in stmt.targets if isinstance(target, ast.Name)
        }
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef) or not node.name.startswith("test"):
                continue
            parts = [node, *node.decorator_list]
            text = "\n".join(ast.unparse(part) for part in parts)
            if "pytest.raises" not in text:
                continue
            used = {sub.id for part in parts for sub in ast.walk(part) if isinstance(sub, ast.Name)}
            parts += [table for name, table in tables.items() if name in used]
            for part in parts:
                for sub in ast.walk(part):
                    if isinstance(sub, ast.Attribute):
                        covered.add(sub.attr)
                    elif isinstance(sub, ast.Name):
                        covered.add(sub.id)
    return covered


def test_every_public_function_is_in_the_table():
    """A new public function must get its bad-input cases: here, or in a test of its own module's
    test file that expects the error."""
    skip = {"data", "exercises", "plotting", "notebook", "widgets", "__version__", "default_device",
            "TrainHistory", "PowerLawFit"}
    public = {
        name for name in ll.__all__
        if name not in skip and callable(getattr(ll, name))
        and not (isinstance(getattr(ll, name), type) and not issubclass(getattr(ll, name), torch.nn.Module))
    }
    covered = {name for name in FUNCTIONS if "." not in name and "[" not in name}
    missing = public - covered - _names_with_bad_input_tests_elsewhere()
    assert missing == set(), f"public functions without bad-input tests: {sorted(missing)}"
    for name in ll.data.__all__:
        assert f"data.{name}" in FUNCTIONS or name in _names_with_bad_input_tests_elsewhere()


def test_model_on_meta_and_cpu_input_is_a_device_error():
    net = ll.TwoLayerReLU(D, M, generator=gen(0), dtype=torch.float64, device="meta")
    with pytest.raises(ValueError, match="`x`.*device"):
        net(torch.ones(2, D, dtype=torch.float64))


def test_messages_follow_the_template():
    """"`name` must …; got …." as the design asks."""
    c = _ctx()
    with pytest.raises(ValueError) as info:
        ll.fgm_l2(c.net, c.x, c.y, -0.1)
    assert str(info.value) == "`eps` must be a finite number ≥ 0; got -0.1."
    with pytest.raises(ValueError) as info:
        ll.accuracy(c.net, torch.ones(3, 2, 2, dtype=torch.float64), c.y)
    assert str(info.value) == f"`x` must have shape (n, {D}); got (3, 2, 2)."
    with pytest.raises(TypeError) as info:
        ll.accuracy(c.net, c.x.float(), c.y)
    assert str(info.value) == "`x` must have the model's dtype torch.float64; got dtype torch.float32."


def test_training_error_after_good_arguments_leaves_W_untouched():
    # every check runs before the first step: a bad last argument must not leave a half-trained network
    c = _ctx()
    snap = c.snapshot()
    with pytest.raises(TypeError, match="`progress`"):
        ll.train(c.net, c.x, c.y, lr=10.0, epochs=3, C0=0.1, progress="yes")
    with pytest.raises(ValueError, match="`C0`"):
        ll.train(c.net, c.x, c.y, lr=10.0, epochs=3, C0=-1.0)
    assert c.unchanged(snap)
    with pytest.raises(ValueError, match="`radius`"):
        ll.project_(c.net, -1.0)
    assert c.unchanged(snap)
