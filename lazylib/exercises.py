"""Self-checks for the book's exercises.

Every computational exercise ends in a cell ``check("lazy-4.2", answer)``. The check compares the
answer with a reference computed here (from the library, with the exercise's fixed seeds, or from a
closed form), with a tolerance that fits the quantity, and answers "correct" or "not yet" with a hint
that points at the idea without giving the number away. Answers of the wrong type or shape get a
message saying what was expected.

Examples
--------
>>> from lazylib.exercises import check
>>> check("lazy-4.3", 4.0)
lazy-4.3: correct.
>>> check("lazy-4.3", "four")
lazy-4.3: expected a number (a float or a one-element tensor); got str.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from numbers import Real
from typing import Any, Callable

import torch

__all__ = ["check", "Feedback", "Exercise", "EXERCISES", "labels"]


@dataclass(frozen=True)
class Feedback:
    """The verdict of :func:`check`; shows as its message in a notebook, true when correct."""

    label: str
    correct: bool
    message: str

    def __bool__(self) -> bool:
        return self.correct

    def __repr__(self) -> str:
        return self.message


@dataclass(frozen=True)
class Exercise:
    """One checkable exercise.

    Attributes
    ----------
    label : str
        The key students pass to :func:`check` (chapter number and position, e.g. ``"lazy-4.2"``).
    chapter : str
        The notebook the exercise belongs to.
    reference : callable
        Computes the expected answer (a float or a 1-D tensor).
    shape : tuple of int, or None
        None for a scalar answer, else the expected shape of a tensor answer.
    rtol, atol : float
        Tolerance: ``|answer − reference| ≤ atol + rtol·|reference|`` entrywise.
    hint : str
        Shown on a wrong answer; never contains the answer.
    """

    label: str
    chapter: str
    reference: Callable[[], Any]
    shape: tuple[int, ...] | None
    rtol: float
    atol: float
    hint: str


EXERCISES: dict[str, Exercise] = {}


def _register(ex: Exercise) -> None:
    EXERCISES[ex.label] = ex


def labels() -> list[str]:
    """Every registered exercise label, in book order."""
    return list(EXERCISES)


def _as_answer(ex: Exercise, answer: Any) -> torch.Tensor | str:
    """The answer as a float64 tensor, or a message saying why it cannot be one."""
    if ex.shape is None:
        if isinstance(answer, torch.Tensor) and answer.numel() == 1:
            answer = answer.item()
        if isinstance(answer, bool) or not isinstance(answer, Real):
            return f"expected a number (a float or a one-element tensor); got {type(answer).__name__}"
        return torch.tensor(float(answer), dtype=torch.float64)
    if isinstance(answer, (list, tuple)):
        try:
            answer = torch.tensor(answer, dtype=torch.float64)
        except (TypeError, ValueError):
            return f"expected numbers of shape {ex.shape}; got a {type(answer).__name__} that is not all numbers"
    if not isinstance(answer, torch.Tensor):
        try:
            import numpy as np

            if isinstance(answer, np.ndarray):
                answer = torch.from_numpy(answer)
        except ImportError:  # pragma: no cover
            pass
    if not isinstance(answer, torch.Tensor):
        return f"expected a tensor or list of shape {ex.shape}; got {type(answer).__name__}"
    if tuple(answer.shape) != ex.shape:
        return f"expected shape {ex.shape}; got {tuple(answer.shape)}"
    if answer.dtype.is_complex or answer.dtype == torch.bool:
        return f"expected real numbers; got dtype {answer.dtype}"
    return answer.detach().to("cpu", torch.float64)


def check(label: str, answer: Any) -> Feedback:
    """Check an exercise's answer; returns a :class:`Feedback` that displays its verdict.

    Parameters
    ----------
    label : str
        The exercise's label, as printed in the book (e.g. ``"lazy-4.2"``).
    answer : float, list or torch.Tensor
        The student's answer, in the form the exercise asks for.

    Raises
    ------
    ValueError
        For a label that names no exercise (the message lists the known labels of that chapter).
    """
    if not isinstance(label, str):
        raise TypeError(f"`label` must be an exercise label such as 'lazy-4.1'; got {type(label).__name__}.")
    if label not in EXERCISES:
        prefix = label.split(".")[0]
        near = [k for k in EXERCISES if k.startswith(prefix)] or list(EXERCISES)
        raise ValueError(f"`label` must be a known exercise label, one of {near}; got {label!r}.")
    ex = EXERCISES[label]
    got = _as_answer(ex, answer)
    if isinstance(got, str):
        return Feedback(label, False, f"{label}: {got}.")
    if not bool(torch.isfinite(got).all()):
        return Feedback(label, False, f"{label}: the answer holds NaN or inf; expected finite numbers.")
    ref = torch.as_tensor(ex.reference(), dtype=torch.float64)
    ok = bool(((got - ref).abs() <= ex.atol + ex.rtol * ref.abs()).all())
    if ok:
        return Feedback(label, True, f"{label}: correct.")
    return Feedback(label, False, f"{label}: not yet. Hint: {ex.hint}")


# ----------------------------------------------------------------------------------------------
# Chapter 1: introduction


@lru_cache(maxsize=1)
def _intro_setting():
    """The network and test data of chapter 1 (seed 1, d = 784, m = 1000, C₀ = 10), trained once."""
    from .data import mnist_pair
    from .model import TwoLayerReLU
    from .train import train

    x_train, y_train, x_test, y_test = mnist_pair((0, 1), size=28, unit_norm=True)
    net = TwoLayerReLU(784, 1000, generator=torch.Generator().manual_seed(1))
    train(net, x_train, y_train, lr=2.0, epochs=40, C0=10.0, progress=False)
    return net, x_test, y_test


def _intro_median_flip() -> float:
    from .attacks import flip_distance

    net, x_test, _ = _intro_setting()
    return float(flip_distance(net, x_test).median())


def _intro_robust_at_one_over_sqrt_d() -> float:
    from .metrics import robust_accuracy

    net, x_test, y_test = _intro_setting()
    return float(robust_accuracy(net, x_test, y_test, 1 / math.sqrt(784)))


_register(Exercise(
    label="intro-1.1",
    chapter="01_introduction",
    reference=lambda: 7.0 / 5.0,
    shape=None,
    rtol=1e-6,
    atol=1e-9,
    hint="move x along −sign(f)·w/‖w‖; f changes by ‖w‖ per unit of distance, and it must lose |f(x)|.",
))

_register(Exercise(
    label="intro-1.2",
    chapter="01_introduction",
    reference=_intro_median_flip,
    shape=None,
    rtol=1e-3,
    atol=1e-6,
    hint="use ll.flip_distance on the chapter's network and all test images, then torch.median "
         "(the median of the 200 distances, not the mean).",
))

_register(Exercise(
    label="intro-1.3",
    chapter="01_introduction",
    reference=_intro_robust_at_one_over_sqrt_d,
    shape=None,
    rtol=0.0,
    atol=1e-9,
    hint="ll.robust_accuracy with attack='gradient' takes ε directly; ε = 1/√d with d = 784. A point "
         "counts only if it is correctly classified and its flip distance exceeds ε.",
))


# ----------------------------------------------------------------------------------------------
# Chapter 4: the lazy regime


def _switchable_expected() -> float:
    m, C0 = 1600, 10.0
    R = C0 / math.sqrt(m)
    return m * math.erf(R / math.sqrt(2.0))


_register(Exercise(
    label="lazy-4.1",
    chapter="04_lazy_regime",
    reference=lambda: 0.5 * 40 * 1.0,
    shape=None,
    rtol=1e-6,
    atol=1e-9,
    hint="bound the loss gradient of one neuron by α‖x‖ (|ℓ'| ≤ 1), then add up the T steps; "
         "C₀ is the bound on ‖w_s − w_{s,0}‖ multiplied by √m.",
))

_register(Exercise(
    label="lazy-4.2",
    chapter="04_lazy_regime",
    reference=_switchable_expected,
    shape=None,
    rtol=5e-3,
    atol=0.0,
    hint="for a unit-norm x, w_{s,0}ᵀx is a standard normal; a neuron is switchable when it lies in "
         "[−R, R] with R = C₀/√m, and P(|Z| ≤ R) = erf(R/√2). Multiply by the number of neurons.",
))

_register(Exercise(
    label="lazy-4.3",
    chapter="04_lazy_regime",
    reference=lambda: 4.0,
    shape=None,
    rtol=1e-4,
    atol=1e-6,
    hint="every row moved by the same vector; compute its norm, compare with R, and note that the "
         "projection shortens each row's displacement to length R along the same direction.",
))

_register(Exercise(
    label="lazy-4.4",
    chapter="04_lazy_regime",
    reference=lambda: 0.5,
    shape=None,
    rtol=0.0,
    atol=0.01,
    hint="in the mean-field scaling each neuron's gradient has size about 1/m and the step size is m·η, "
         "so how far a neuron moves does not depend on m; multiply by √m.",
))


# ----------------------------------------------------------------------------------------------
# Chapter 2: robust loss and robust error (labels robust-2.k)


@lru_cache(maxsize=1)
def _robust_least_squares_accuracy() -> float:
    """Exact robust accuracy at ε = 0.25 of the ridge least-squares classifier on MNIST 0 vs 1 (28×28, unit norm)."""
    from .data import mnist_pair
    from .linear import least_squares_classifier, linear_robust_accuracy

    x_train, y_train, x_test, y_test = mnist_pair((0, 1), size=28, unit_norm=True, dtype=torch.float64)
    w = least_squares_classifier(x_train, y_train, ridge=1.0)
    return float(linear_robust_accuracy(w, x_test, y_test, 0.25))


_register(Exercise(
    label="robust-2.1",
    chapter="02_robust_error",
    reference=lambda: 2.0 / 3.0,
    shape=None,
    rtol=1e-6,
    atol=1e-9,
    hint="the worst perturbation of norm ε lowers the margin y(wᵀx + b) by exactly ε‖w‖; the point stays "
         "robust as long as the margin minus that amount is positive.",
))

_register(Exercise(
    label="robust-2.2",
    chapter="02_robust_error",
    reference=_robust_least_squares_accuracy,
    shape=None,
    rtol=0.0,
    atol=1e-9,
    hint="use ll.least_squares_classifier(x_train, y_train, ridge=1.0) on the 28×28 unit-norm images in "
         "float64, then ll.linear_robust_accuracy on the test images with eps=0.25 (no attack is needed).",
))

_register(Exercise(
    label="robust-2.3",
    chapter="02_robust_error",
    reference=lambda: 2.0 * math.exp(math.lgamma(200.0) - math.lgamma(200.5)) / math.sqrt(math.pi),
    shape=None,
    rtol=1e-6,
    atol=0.0,
    hint="D = ‖x‖·|u₁| with u uniform on the sphere; E|u₁| = Γ(d/2)/(√π Γ((d+1)/2)). Use math.lgamma "
         "(Γ itself overflows) and do not forget the factor ‖x‖.",
))

_register(Exercise(
    label="robust-2.4",
    chapter="02_robust_error",
    reference=lambda: 1.0 - 0.025 ** (1.0 / 200.0),
    shape=None,
    rtol=1e-6,
    atol=0.0,
    hint="with k = 0 the upper Clopper–Pearson bound is the p at which seeing no event at all has "
         "probability α/2: solve (1 − p)^n = α/2.",
))

_register(Exercise(
    label="robust-2.5",
    chapter="02_robust_error",
    reference=lambda: float(math.ceil(math.log(2.0 / 0.05) / (2.0 * 0.01**2))),
    shape=None,
    rtol=0.0,
    atol=0.5,
    hint="the Hoeffding half-width is √(log(2/α)/(2n)); set it equal to the target and solve for n, "
         "then round up to a whole number of test points.",
))


# ----------------------------------------------------------------------------------------------
# Chapter 3: random two-layer ReLU networks (labels random-3.k)


@lru_cache(maxsize=1)
def _random_single_step_fraction() -> float:
    """Fraction of 300 unit inputs whose sign one step of length 1/√d flips (d = 400, m = 2000, seeds 11, 12)."""
    from .attacks import gradient_step
    from .data import sphere
    from .model import TwoLayerReLU, input_gradient

    d = 400
    net = TwoLayerReLU(d, 2000, generator=torch.Generator().manual_seed(11))
    x, _ = sphere(300, d, generator=torch.Generator().manual_seed(12))
    with torch.no_grad():
        f = net(x)
        eta = -torch.sign(f) / math.sqrt(d) / input_gradient(net, x).norm(dim=1)
        return float((torch.sign(net(gradient_step(net, x, eta))) != torch.sign(f)).to(torch.float64).mean())


_register(Exercise(
    label="random-3.1",
    chapter="03_random_networks",
    reference=lambda: 2.0**4 * (0.75 + 0.75 / 10),
    shape=None,
    rtol=1e-6,
    atol=0.0,
    hint="expand (Σ_s X_s)⁴ for independent, symmetric X_s: only the terms X_s⁴ and X_s²X_t² survive, "
         "and E relu(Z)⁴ is half of E Z⁴. Mind the factor m^{-2} and the scale ‖x‖⁴.",
))

_register(Exercise(
    label="random-3.2",
    chapter="03_random_networks",
    reference=lambda: 51.0,
    shape=None,
    rtol=0.0,
    atol=0.5,
    hint="the squared relative spread of ‖∇f‖² is 2/d + (1 + 2/d)/m; require it to be at most 0.2² "
         "and solve for the smallest whole m.",
))

_register(Exercise(
    label="random-3.3",
    chapter="03_random_networks",
    reference=_random_single_step_fraction,
    shape=None,
    rtol=0.0,
    atol=1e-9,
    hint="take η = −sign f(x)·(1/√d)/‖∇f(x)‖ for each input (so the step has length exactly 1/√d), use "
         "ll.gradient_step, and count the inputs whose sign changed (a zero counts as a change).",
))

_register(Exercise(
    label="random-3.4",
    chapter="03_random_networks",
    reference=lambda: 1000.0 * math.atan(0.1) / math.pi,
    shape=None,
    rtol=1e-6,
    atol=0.0,
    hint="a neuron switches by distance t when z and z + t·c have opposite signs; for independent standard "
         "normals z, c the pair (z, c) is rotation invariant, so compute the angle of the region.",
))


# ----------------------------------------------------------------------------------------------
# Chapters 5-7 (Part II: the theorem, Lemma A, Lemma B)


@lru_cache(maxsize=1)
def _value_sharp_failure() -> float:
    from .lemmas import sample_value_range, value_bound_sharp

    worst = sample_value_range(16, 1.0, 20_000, generator=torch.Generator().manual_seed(3)).sup_abs
    return float((worst > value_bound_sharp(0.5, 1.0, 16)).to(torch.float64).mean())


def _value_extremiser_sup() -> float:
    from .lazy import lazy_radius, value_bounds
    from .model import TwoLayerReLU

    net = TwoLayerReLU(30, 200, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    x = torch.ones(1, 30, dtype=torch.float64) / math.sqrt(30)
    return float(value_bounds(net, x, lazy_radius(200, 10.0))[1])


_register(Exercise(
    label="value-6.1",
    chapter="06_lemma_value",
    reference=lambda: 10.0,
    shape=None,
    rtol=1e-6,
    atol=1e-9,
    hint="each neuron moves f by a term in [0, R‖x‖]/√m whose mean, averaged over the sign a_s, is half its "
         "range; add up m of them, with R = C₀/√m, and keep the factor ‖x‖.",
))

_register(Exercise(
    label="value-6.2",
    chapter="06_lemma_value",
    reference=lambda: 0.5 * math.erfc(2.0 / math.sqrt(2.0)),
    shape=None,
    rtol=1e-3,
    atol=0.0,
    hint="with one neuron |f(x; W₀)| = relu(z) with z = w_{1,0}ᵀx standard normal; the event |f| ≥ 2 is an "
         "event about z alone. Use math.erfc for the normal tail.",
))

_register(Exercise(
    label="value-6.3",
    chapter="06_lemma_value",
    reference=_value_sharp_failure,
    shape=None,
    rtol=0.0,
    atol=1e-9,
    hint="call ll.lemmas.sample_value_range(16, 1.0, 20000, generator=torch.Generator().manual_seed(3)), take its "
         "sup_abs, and count the fraction strictly above ll.lemmas.value_bound_sharp(0.5, 1.0, 16).",
))

_register(Exercise(
    label="value-6.4",
    chapter="06_lemma_value",
    reference=_value_extremiser_sup,
    shape=None,
    rtol=1e-9,
    atol=1e-12,
    hint="copy the weights from ll.value_extremiser(net, x, R, which='sup')[0] into net.W (inside torch.no_grad()) "
         "and evaluate net(x); R = C₀/√m with C₀ = 10.",
))


def _gradnorm_flip_bound() -> float:
    from .lazy import lazy_radius
    from .lemmas import gradient_change_bounds
    from .model import TwoLayerReLU

    net = TwoLayerReLU(100, 500, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    x = torch.ones(1, 100, dtype=torch.float64) / 10.0
    return float(gradient_change_bounds(net, x, lazy_radius(500, 5.0)).flip)


def _gradnorm_frozen_closed_form() -> float:
    from .model import TwoLayerReLU, input_gradient

    net = TwoLayerReLU(196, 1000, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    x = torch.ones(1, 196, dtype=torch.float64) / 14.0
    active = int((x @ net.W0.T > 0).sum())
    return max(0.0, float(input_gradient(net, x).norm()) - 4.0 * active / 1000)


_register(Exercise(
    label="gradnorm-7.1",
    chapter="07_lemma_gradient_norm",
    reference=lambda: 392.0,
    shape=None,
    rtol=1e-6,
    atol=1e-9,
    hint="take expectations in the exact law of ‖∇f(x; W₀)‖²: the mean of k/m, of a chi-square variable with "
         "d − 1 degrees of freedom, and of f(x̂; W₀)². The norm of x plays no role.",
))

_register(Exercise(
    label="gradnorm-7.2",
    chapter="07_lemma_gradient_norm",
    reference=lambda: 10.0 / math.sqrt(1000) * 530 / math.sqrt(1000),
    shape=None,
    rtol=1e-6,
    atol=1e-9,
    hint="only neurons that can be active contribute to the deviation term, each with a vector of norm at most "
         "R/√m; multiply by their number, with R = C₀/√m.",
))

_register(Exercise(
    label="gradnorm-7.3",
    chapter="07_lemma_gradient_norm",
    reference=_gradnorm_flip_bound,
    shape=None,
    rtol=1e-8,
    atol=1e-10,
    hint="select the rows of W₀ with |w_{s,0}ᵀx| ≤ R‖x‖, take their spectral norm (torch.linalg.matrix_norm with "
         "ord=2), and multiply by √(N/m) where N is the number of rows selected.",
))

_register(Exercise(
    label="gradnorm-7.4",
    chapter="07_lemma_gradient_norm",
    reference=_gradnorm_frozen_closed_form,
    shape=None,
    rtol=1e-8,
    atol=1e-10,
    hint="with the activations frozen only the active neurons can change the gradient, each through its own "
         "deviation of norm at most R, scaled by 1/√m. In which single direction should all of them move?",
))


def _theorem_flip_fraction() -> float:
    from .attacks import gradient_step
    from .data import sphere
    from .model import TwoLayerReLU, input_gradient

    net = TwoLayerReLU(784, 2000, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    x, _ = sphere(100, 784, generator=torch.Generator().manual_seed(6), dtype=torch.float64)
    with torch.no_grad():
        f = net(x)
        eta = -torch.sign(f) / input_gradient(net, x).pow(2).sum(dim=1)
        moved = net(gradient_step(net, x, eta))
    return float((torch.sign(moved) != torch.sign(f)).to(torch.float64).mean())


def _theorem_window_threshold() -> float:
    from .lemmas import window_threshold

    return window_threshold(2.0)


_register(Exercise(
    label="theorem-5.1",
    chapter="05_main_theorem",
    reference=lambda: math.exp(784**0.24),
    shape=None,
    rtol=1e-3,
    atol=0.0,
    hint="evaluate the upper end of the window, C₄·exp(d^0.24) with C₄ = 1, at MNIST's input dimension "
         "(28 × 28 pixels).",
))

_register(Exercise(
    label="theorem-5.2",
    chapter="05_main_theorem",
    reference=lambda: 1.5 / (1.0 - 2.0 / 10.0),
    shape=None,
    rtol=1e-6,
    atol=1e-9,
    hint="the first-order flip proposition: the step removes C₂ from |f| to first order and the gradient's "
         "variation can give back at most C₂·Δ/‖∇f‖; solve for the C₂ at which the two balance.",
))

_register(Exercise(
    label="theorem-5.3",
    chapter="05_main_theorem",
    reference=_theorem_window_threshold,
    shape=None,
    rtol=1e-4,
    atol=0.0,
    hint="write t = log d and compare exp(0.24 t) with 2t; the window is empty between the two roots of "
         "that equation, and you want the larger root (bisection, or ll.lemmas.window_threshold).",
))

_register(Exercise(
    label="theorem-5.4",
    chapter="05_main_theorem",
    reference=_theorem_flip_fraction,
    shape=None,
    rtol=0.0,
    atol=1e-9,
    hint="for each input take η = −sign f(x)·C₂/‖∇f(x)‖² with C₂ = 1, move with ll.gradient_step, and count "
         "the inputs whose sign changed (use the inputs ll.data.sphere(100, 784, ...) draws with seed 6).",
))


# ---- Part III (chapters 10-12): reproducing the experiments, adversarial training, beyond laziness ----


@lru_cache(maxsize=4)
def _saved(name: str):
    """Saved results of ``python -m lazylib reproduce NAME`` (reduced grid), read once."""
    from .reproduce import load

    return load(name, create_missing=True)


def _reproduce_flip_exponent() -> float:
    from .metrics import power_law_fit

    ds, mean, _ = _saved("scaling").mean("flip_distance.median", by="d", m=1000, C0=10.0)
    keep = [i for i, d in enumerate(ds) if d >= 100]
    return power_law_fit([ds[i] for i in keep], [mean[i] for i in keep]).slope


def _reproduce_half_budget() -> float:
    from .reproduce import crossing

    results = _saved("scaling")
    grid = results.provenance["scaled_eps"]
    rows = results.where(d=784, m=1000, C0=10.0)
    curve = [sum(r["robust_accuracy_scaled"][i] for r in rows) / len(rows) for i in range(len(grid))]
    return crossing(grid, curve, curve[0] / 2)


_register(Exercise(
    label="reproduce-10.1",
    chapter="10_reproducing_the_paper",
    reference=lambda: 196 / 2,
    shape=None,
    rtol=1e-6,
    atol=1e-9,
    hint="only the diagonal terms of the double sum survive the average over the signs a_s; each is "
         "E[1(wᵀx > 0)‖w‖²], and w ↦ −w shows that the indicator keeps exactly half of E‖w‖².",
))

_register(Exercise(
    label="reproduce-10.2",
    chapter="10_reproducing_the_paper",
    reference=_reproduce_flip_exponent,
    shape=None,
    rtol=0.0,
    atol=5e-3,
    hint="results.mean('flip_distance.median', by='d', m=1000, C0=10.0) gives one value per d; keep "
         "d ≥ 100 (four dimensions) and pass them to ll.power_law_fit; the answer is the fit's slope.",
))

_register(Exercise(
    label="reproduce-10.3",
    chapter="10_reproducing_the_paper",
    reference=lambda: 2.5 / 784,
    shape=None,
    rtol=1e-3,
    atol=0.0,
    hint="a vector of d equal entries p has Euclidean norm p·√d; set that equal to c/√d and solve for p.",
))

_register(Exercise(
    label="reproduce-10.4",
    chapter="10_reproducing_the_paper",
    reference=_reproduce_half_budget,
    shape=None,
    rtol=0.0,
    atol=1e-2,
    hint="average the three seeds' 'robust_accuracy_scaled' lists point by point, then call "
         "ll.reproduce.crossing(results.provenance['scaled_eps'], curve, curve[0] / 2).",
))
def _advtrain_threshold(name: str, **where) -> float:
    """Where the seed-averaged PGD robust accuracy first reaches half its maximum, interpolated in log."""
    from .reproduce import crossing

    key = "C0" if name == "advtrain" else "radius"
    xs, mu, _ = _saved(name).mean("robust_accuracy_pgd", by=key, **where)
    return math.exp(crossing([math.log(v) for v in xs], mu, max(mu) / 2, rising=True))


_register(Exercise(
    label="advtrain-11.1",
    chapter="11_adversarial_training",
    reference=lambda: 8.0 / 2,
    shape=None,
    rtol=1e-6,
    atol=1e-9,
    hint="the supremum is taken neuron by neuron; a neuron with the helpful sign gains E[relu(z + R) − relu(z)], "
         "the other kind E[relu(z) − relu(z − R)]; average the two with E relu(z + c) = cΦ(c) + φ(c), then sum over m.",
))

_register(Exercise(
    label="advtrain-11.2",
    chapter="11_adversarial_training",
    reference=lambda: 2 * 0.2 * math.sqrt(196 / 2),
    shape=None,
    rtol=1e-3,
    atol=0.0,
    hint="set the margin gain C0/2 equal to the margin that survives the step, ε·√(d/2), and solve for C0.",
))

_register(Exercise(
    label="advtrain-11.3",
    chapter="11_adversarial_training",
    reference=lambda: _advtrain_threshold("advtrain", d=100, eps=0.4),
    shape=None,
    rtol=1e-3,
    atol=0.0,
    hint="adv.mean('robust_accuracy_pgd', by='C0', d=100, eps=0.4); then crossing on the logarithms of C0 "
         "with level max/2 and rising=True; exponentiate the result.",
))

_register(Exercise(
    label="advtrain-11.4",
    chapter="11_adversarial_training",
    reference=lambda: _advtrain_threshold("radius", m=4000) * math.sqrt(4000),
    shape=None,
    rtol=1e-3,
    atol=0.0,
    hint="rad.mean('robust_accuracy_pgd', by='radius', m=4000), the same crossing in log r, then multiply "
         "the radius by √m.",
))
def _beyond_adv_exponent() -> float:
    from .metrics import power_law_fit

    ds, med, _ = _saved("advtrain").mean("flip_distance_median", by="d", C0=64.0, eps=0.2)
    return power_law_fit(ds, med).slope


_register(Exercise(
    label="beyond-12.1",
    chapter="12_beyond_lazy",
    reference=lambda: 7.0 - 0.5 * 5.0,
    shape=None,
    rtol=1e-6,
    atol=1e-9,
    hint="y·f(x + δ) = y·f(x) + y·wᵀδ, and Cauchy–Schwarz bounds wᵀδ below by −‖w‖·‖δ‖.",
))

_register(Exercise(
    label="beyond-12.2",
    chapter="12_beyond_lazy",
    reference=lambda: 1.0,
    shape=None,
    rtol=1e-6,
    atol=1e-9,
    hint="the two networks differ by a positive constant factor; what does that factor do to the sign of f "
         "and to the direction of its gradient?",
))

_register(Exercise(
    label="beyond-12.3",
    chapter="12_beyond_lazy",
    reference=_beyond_adv_exponent,
    shape=None,
    rtol=0.0,
    atol=5e-3,
    hint="adv.mean('flip_distance_median', by='d', C0=64.0, eps=0.2) gives three values; ll.power_law_fit of "
         "them against d; the answer is the slope.",
))

_register(Exercise(
    label="beyond-12.4",
    chapter="12_beyond_lazy",
    reference=lambda: math.erf(2 / math.sqrt(2)),
    shape=None,
    rtol=1e-3,
    atol=0.0,
    hint="the condition is |Z| ≤ ε‖w_s‖ for a standard normal Z; with ε = 2/√d and ‖w_s‖ = √d, use "
         "P(|Z| ≤ t) = erf(t/√2).",
))
# ---- end of Part III ----


# ----------------------------------------------------------------------------------------------
# Chapters 8 and 9: Lemma C (the gradient difference) and putting it together


@lru_cache(maxsize=1)
def _graddiff_attack_mean() -> float:
    """Mean gradient difference along the attack direction, length 2/√d (exercise graddiff-8.3)."""
    from .data import sphere
    from .lemmas import gradient_difference
    from .model import TwoLayerReLU, input_gradient

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
    from .data import sphere
    from .model import TwoLayerReLU
    from .train import train

    x, y = sphere(200, 196, generator=torch.Generator().manual_seed(5), labels="linear")
    net = TwoLayerReLU(196, 1000, generator=torch.Generator().manual_seed(6))
    train(net, x, y, lr=100.0, epochs=40, C0=40.0, progress=False)
    return net, x


def _together_fraction() -> float:
    from .lemmas import flip_fraction

    net, x = _together_setting()
    return float(flip_fraction(net, x, 2.0))


def _together_largest_critical() -> float:
    from .lemmas import critical_C2

    net, x = _together_setting()
    return float(critical_C2(net, x).max())


_register(Exercise(
    label="graddiff-8.1",
    chapter="08_lemma_gradient_difference",
    reference=lambda: 3000 * math.atan(0.1) / math.pi,
    shape=None,
    rtol=1e-3,
    atol=0.0,
    hint="a neuron switches when the line {w : wᵀy = 0} separates x from x + u in the plane they span; the "
         "probability is the angle between x and x + u divided by π. For u ⊥ x, what is that angle?",
))

_register(Exercise(
    label="graddiff-8.2",
    chapter="08_lemma_gradient_difference",
    reference=lambda: 2 * math.atan(2 / 28) / math.pi,
    shape=None,
    rtol=1e-3,
    atol=0.0,
    hint="the lemma gives E‖Δ‖² = dθ/π; at initialisation E‖∇f‖² = d/2 (each neuron is active with probability "
         "1/2). For u ⊥ x the angle is θ = arctan(‖u‖/‖x‖).",
))

_register(Exercise(
    label="graddiff-8.3",
    chapter="08_lemma_gradient_difference",
    reference=_graddiff_attack_mean,
    shape=None,
    rtol=1e-4,
    atol=1e-7,
    hint="u = −sign f(x)·r·∇f/‖∇f‖ with r = 2/√196, one row per input; ll.lemmas.gradient_difference(net, x, u) "
         "gives one difference per input; average the 64 of them.",
))

_register(Exercise(
    label="graddiff-8.4",
    chapter="08_lemma_gradient_difference",
    reference=lambda: 0.5,
    shape=None,
    rtol=0.0,
    atol=0.01,
    hint="K grows like √(d·log m) and √(2θ/π) like d^(−1/4) for r = c/√d; require their product to stay below a "
         "fixed fraction of √d and solve for log m.",
))

_register(Exercise(
    label="together-9.1",
    chapter="09_putting_together",
    reference=lambda: 2 * 1.5 * 12.0 / 10.0,
    shape=None,
    rtol=1e-6,
    atol=1e-9,
    hint="the flip lemma's step has length 2A/B; the theorem's step with constant C₂ has length C₂/‖∇f‖. "
         "Equate the two lengths.",
))

_register(Exercise(
    label="together-9.2",
    chapter="09_putting_together",
    reference=_together_fraction,
    shape=None,
    rtol=0.0,
    atol=1e-9,
    hint="draw and train exactly as stated (points with seed 5, network with seed 6, lr 100, 40 full-batch epochs, "
         "C0 = 40), then ll.lemmas.flip_fraction on the 200 training points with C2 = 2.",
))

_register(Exercise(
    label="together-9.3",
    chapter="09_putting_together",
    reference=_together_largest_critical,
    shape=None,
    rtol=1e-4,
    atol=1e-7,
    hint="the step first reaches the decision boundary when C₂/‖∇f‖ equals the exact flip distance; "
         "ll.lemmas.critical_C2 gives that C₂ per point. Take the largest over the 200 points.",
))

_register(Exercise(
    label="together-9.4",
    chapter="09_putting_together",
    reference=lambda: 2 * (2 * math.sqrt(math.log(2 / 0.05)) + 10.0) / (0.5 * math.sqrt(784 / 2)),
    shape=None,
    rtol=1e-3,
    atol=0.0,
    hint="Lemma A gives A = 2√(log(2/γ)) + C₀ for a unit input; the flip lemma's step is 2A/B.",
))
