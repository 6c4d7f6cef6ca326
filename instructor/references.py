"""The reference answers of the book's exercises: instructor-only, never part of the installed package.

Every computational exercise of the book (``check("KEY", answer)`` in a chapter) has its reference
answer computed here, from ``lazylib`` with the exercise's fixed seeds or from a closed form. These are
the computations that once lived in the installed package, unchanged (same seeds, same code).

The installed package only holds salted digests of the answers (``lazylib/exercises.json``, rewritten by
``python -m instructor.make_keys``), so students can check an answer without being able to read or
compute it there. The grader (``python -m instructor.grade``) scores submissions against the values
computed here.

This folder is not a package that ``pip install`` ships: ``pyproject.toml`` lists only ``lazylib``
under ``[tool.setuptools] packages`` (``tests/test_no_answers_in_wheel.py`` checks the built wheel).

Usage::

    python -m instructor.references            # print every label with its reference answer
    python -m instructor.references value-6.1  # one label
"""

from __future__ import annotations

import math
import sys
from functools import lru_cache
from typing import Callable

import torch

__all__ = ["REFERENCES", "reference", "labels"]


# ----------------------------------------------------------------------------------------------
# Chapter 1: introduction


@lru_cache(maxsize=1)
def _intro_setting():
    """The network and test data of chapter 1 (seed 1, d = 784, m = 1000, C₀ = 10), trained once."""
    from lazylib.data import mnist_pair
    from lazylib.model import TwoLayerReLU
    from lazylib.train import train

    x_train, y_train, x_test, y_test = mnist_pair((0, 1), size=28, unit_norm=True)
    net = TwoLayerReLU(784, 1000, generator=torch.Generator().manual_seed(1))
    train(net, x_train, y_train, lr=2.0, epochs=40, C0=10.0, progress=False)
    return net, x_test, y_test


def _intro_median_flip() -> float:
    from lazylib.attacks import flip_distance

    net, x_test, _ = _intro_setting()
    return float(flip_distance(net, x_test).median())


def _intro_robust_at_one_over_sqrt_d() -> float:
    from lazylib.metrics import robust_accuracy

    net, x_test, y_test = _intro_setting()
    return float(robust_accuracy(net, x_test, y_test, 1 / math.sqrt(784)))






# ----------------------------------------------------------------------------------------------
# Chapter 4: the lazy regime


def _switchable_expected() -> float:
    m, C0 = 1600, 10.0
    R = C0 / math.sqrt(m)
    return m * math.erf(R / math.sqrt(2.0))







# ----------------------------------------------------------------------------------------------
# Chapter 2: robust loss and robust error (labels robust-2.k)


@lru_cache(maxsize=1)
def _robust_least_squares_accuracy() -> float:
    """Exact robust accuracy at ε = 0.25 of the ridge least-squares classifier on MNIST 0 vs 1 (28×28, unit norm)."""
    from lazylib.data import mnist_pair
    from lazylib.linear import least_squares_classifier, linear_robust_accuracy

    x_train, y_train, x_test, y_test = mnist_pair((0, 1), size=28, unit_norm=True, dtype=torch.float64)
    w = least_squares_classifier(x_train, y_train, ridge=1.0)
    return float(linear_robust_accuracy(w, x_test, y_test, 0.25))








# ----------------------------------------------------------------------------------------------
# Chapter 3: random two-layer ReLU networks (labels random-3.k)


@lru_cache(maxsize=1)
def _random_single_step_fraction() -> float:
    """Fraction of 300 unit inputs whose sign one step of length 1/√d flips (d = 400, m = 2000, seeds 11, 12)."""
    from lazylib.attacks import gradient_step
    from lazylib.data import sphere
    from lazylib.model import TwoLayerReLU, input_gradient

    d = 400
    net = TwoLayerReLU(d, 2000, generator=torch.Generator().manual_seed(11))
    x, _ = sphere(300, d, generator=torch.Generator().manual_seed(12))
    with torch.no_grad():
        f = net(x)
        eta = -torch.sign(f) / math.sqrt(d) / input_gradient(net, x).norm(dim=1)
        return float((torch.sign(net(gradient_step(net, x, eta))) != torch.sign(f)).to(torch.float64).mean())







# ----------------------------------------------------------------------------------------------
# Chapters 5-7 (Part II: the theorem, Lemma A, Lemma B)


@lru_cache(maxsize=1)
def _value_sharp_failure() -> float:
    from lazylib.lemmas import sample_value_range, value_bound_sharp

    worst = sample_value_range(16, 1.0, 20_000, generator=torch.Generator().manual_seed(3)).sup_abs
    return float((worst > value_bound_sharp(0.5, 1.0, 16)).to(torch.float64).mean())


def _value_extremiser_sup() -> float:
    from lazylib.lazy import lazy_radius, value_bounds
    from lazylib.model import TwoLayerReLU

    net = TwoLayerReLU(30, 200, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    x = torch.ones(1, 30, dtype=torch.float64) / math.sqrt(30)
    return float(value_bounds(net, x, lazy_radius(200, 10.0))[1])







def _gradnorm_flip_bound() -> float:
    from lazylib.lazy import lazy_radius
    from lazylib.lemmas import gradient_change_bounds
    from lazylib.model import TwoLayerReLU

    net = TwoLayerReLU(100, 500, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    x = torch.ones(1, 100, dtype=torch.float64) / 10.0
    return float(gradient_change_bounds(net, x, lazy_radius(500, 5.0)).flip)


def _gradnorm_frozen_closed_form() -> float:
    from lazylib.model import TwoLayerReLU, input_gradient

    net = TwoLayerReLU(196, 1000, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    x = torch.ones(1, 196, dtype=torch.float64) / 14.0
    active = int((x @ net.W0.T > 0).sum())
    return max(0.0, float(input_gradient(net, x).norm()) - 4.0 * active / 1000)







def _theorem_flip_fraction() -> float:
    from lazylib.attacks import gradient_step
    from lazylib.data import sphere
    from lazylib.model import TwoLayerReLU, input_gradient

    net = TwoLayerReLU(784, 2000, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    x, _ = sphere(100, 784, generator=torch.Generator().manual_seed(6), dtype=torch.float64)
    with torch.no_grad():
        f = net(x)
        eta = -torch.sign(f) / input_gradient(net, x).pow(2).sum(dim=1)
        moved = net(gradient_step(net, x, eta))
    return float((torch.sign(moved) != torch.sign(f)).to(torch.float64).mean())


def _theorem_window_threshold() -> float:
    from lazylib.lemmas import window_threshold

    return window_threshold(2.0)







# ---- Part III (chapters 10-12): reproducing the experiments, adversarial training, beyond laziness ----


@lru_cache(maxsize=4)
def _saved(name: str):
    """Saved results of ``python -m lazylib reproduce NAME`` (reduced grid), read once."""
    from lazylib.reproduce import load

    return load(name, create_missing=True)


def _reproduce_flip_exponent() -> float:
    from lazylib.metrics import power_law_fit

    ds, mean, _ = _saved("scaling").mean("flip_distance.median", by="d", m=1000, C0=10.0)
    keep = [i for i, d in enumerate(ds) if d >= 100]
    return power_law_fit([ds[i] for i in keep], [mean[i] for i in keep]).slope


def _reproduce_half_budget() -> float:
    from lazylib.reproduce import crossing

    results = _saved("scaling")
    grid = results.provenance["scaled_eps"]
    rows = results.where(d=784, m=1000, C0=10.0)
    curve = [sum(r["robust_accuracy_scaled"][i] for r in rows) / len(rows) for i in range(len(grid))]
    return crossing(grid, curve, curve[0] / 2)





def _advtrain_threshold(name: str, **where) -> float:
    """Where the seed-averaged PGD robust accuracy first reaches half its maximum, interpolated in log."""
    from lazylib.reproduce import crossing

    key = "C0" if name == "advtrain" else "radius"
    xs, mu, _ = _saved(name).mean("robust_accuracy_pgd", by=key, **where)
    return math.exp(crossing([math.log(v) for v in xs], mu, max(mu) / 2, rising=True))





def _beyond_adv_exponent() -> float:
    from lazylib.metrics import power_law_fit

    ds, med, _ = _saved("advtrain").mean("flip_distance_median", by="d", C0=64.0, eps=0.2)
    return power_law_fit(ds, med).slope





# ---- end of Part III ----


# ----------------------------------------------------------------------------------------------
# Chapters 8 and 9: Lemma C (the gradient difference) and putting it together


@lru_cache(maxsize=1)
def _graddiff_attack_mean() -> float:
    """Mean gradient difference along the attack direction, length 2/√d (exercise graddiff-8.3)."""
    from lazylib.data import sphere
    from lazylib.lemmas import gradient_difference
    from lazylib.model import TwoLayerReLU, input_gradient

    x, _ = sphere(64, 196, generator=torch.Generator().manual_seed(4))
    net = TwoLayerReLU(196, 2000, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        g = input_gradient(net, x)
        u = -torch.sign(net(x))[:, None] * (2 / math.sqrt(196)) * g / g.norm(dim=1, keepdim=True)
    return float(gradient_difference(net, x, u).mean())


@lru_cache(maxsize=1)
def _together_setting():
    """Network and points of exercises together-9.2 and 9.3: 200 points of the sphere in ℝ^196 with linear
    labels (seed 5), a width-1000 network (seed 6) trained by 40 full-batch steps of size 100 with C₀ = 40."""
    from lazylib.data import sphere
    from lazylib.model import TwoLayerReLU
    from lazylib.train import train

    x, y = sphere(200, 196, generator=torch.Generator().manual_seed(5), labels="linear")
    net = TwoLayerReLU(196, 1000, generator=torch.Generator().manual_seed(6))
    train(net, x, y, lr=100.0, epochs=40, C0=40.0, progress=False)
    return net, x


def _together_fraction() -> float:
    from lazylib.lemmas import flip_fraction

    net, x = _together_setting()
    return float(flip_fraction(net, x, 2.0))


def _together_largest_critical() -> float:
    from lazylib.lemmas import critical_C2

    net, x = _together_setting()
    return float(critical_C2(net, x).max())











REFERENCES: dict[str, Callable[[], float]] = {
    "intro-1.1": lambda: 7.0 / 5.0,
    "intro-1.2": _intro_median_flip,
    "intro-1.3": _intro_robust_at_one_over_sqrt_d,
    "lazy-4.1": lambda: 0.5 * 40 * 1.0,
    "lazy-4.2": _switchable_expected,
    "lazy-4.3": lambda: 4.0,
    "lazy-4.4": lambda: 0.5,
    "robust-2.1": lambda: 2.0 / 3.0,
    "robust-2.2": _robust_least_squares_accuracy,
    "robust-2.3": lambda: 2.0 * math.exp(math.lgamma(200.0) - math.lgamma(200.5)) / math.sqrt(math.pi),
    "robust-2.4": lambda: 1.0 - 0.025 ** (1.0 / 200.0),
    "robust-2.5": lambda: float(math.ceil(math.log(2.0 / 0.05) / (2.0 * 0.01**2))),
    "random-3.1": lambda: 2.0**4 * (0.75 + 0.75 / 10),
    "random-3.2": lambda: 51.0,
    "random-3.3": _random_single_step_fraction,
    "random-3.4": lambda: 1000.0 * math.atan(0.1) / math.pi,
    "value-6.1": lambda: 10.0,
    "value-6.2": lambda: 0.5 * math.erfc(2.0 / math.sqrt(2.0)),
    "value-6.3": _value_sharp_failure,
    "value-6.4": _value_extremiser_sup,
    "gradnorm-7.1": lambda: 392.0,
    "gradnorm-7.2": lambda: 10.0 / math.sqrt(1000) * 530 / math.sqrt(1000),
    "gradnorm-7.3": _gradnorm_flip_bound,
    "gradnorm-7.4": _gradnorm_frozen_closed_form,
    "theorem-5.1": lambda: math.exp(784**0.24),
    "theorem-5.2": lambda: 1.5 / (1.0 - 2.0 / 10.0),
    "theorem-5.3": _theorem_window_threshold,
    "theorem-5.4": _theorem_flip_fraction,
    "reproduce-10.1": lambda: 196 / 2,
    "reproduce-10.2": _reproduce_flip_exponent,
    "reproduce-10.3": lambda: 2.5 / 784,
    "reproduce-10.4": _reproduce_half_budget,
    "advtrain-11.1": lambda: 8.0 / 2,
    "advtrain-11.2": lambda: 2 * 0.2 * math.sqrt(196 / 2),
    "advtrain-11.3": lambda: _advtrain_threshold("advtrain", d=100, eps=0.4),
    "advtrain-11.4": lambda: _advtrain_threshold("radius", m=4000) * math.sqrt(4000),
    "beyond-12.1": lambda: 7.0 - 0.5 * 5.0,
    "beyond-12.2": lambda: 1.0,
    "beyond-12.3": _beyond_adv_exponent,
    "beyond-12.4": lambda: math.erf(2 / math.sqrt(2)),
    "graddiff-8.1": lambda: 3000 * math.atan(0.1) / math.pi,
    "graddiff-8.2": lambda: 2 * math.atan(2 / 28) / math.pi,
    "graddiff-8.3": _graddiff_attack_mean,
    "graddiff-8.4": lambda: 0.5,
    "together-9.1": lambda: 2 * 1.5 * 12.0 / 10.0,
    "together-9.2": _together_fraction,
    "together-9.3": _together_largest_critical,
    "together-9.4": lambda: 2 * (2 * math.sqrt(math.log(2 / 0.05)) + 10.0) / (0.5 * math.sqrt(784 / 2)),
}

def labels() -> list[str]:
    """Every exercise label with a reference, in the order of ``lazylib.exercises.labels()``."""
    return list(REFERENCES)


@lru_cache(maxsize=None)
def reference(label: str) -> float:
    """The reference answer of exercise ``label`` (computed once per process)."""
    if label not in REFERENCES:
        raise ValueError(f"`label` must be an exercise label with a reference, one of {list(REFERENCES)}; got {label!r}.")
    return float(REFERENCES[label]())


def main(argv: list[str] | None = None) -> int:
    """Print the reference answers (all, or the labels given)."""
    import os

    os.environ.setdefault("LAZYLIB_PROGRESS", "0")
    for label in (argv if argv else labels()):
        print(f"{label}: {reference(label)!r}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
