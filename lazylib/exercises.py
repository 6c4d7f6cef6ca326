"""Self-checks for the book's exercises, which tell right from wrong without holding the answers.

Every computational exercise ends in a cell ``check("lazy-4.2", answer)``, which answers "correct" or
"not yet" with a hint that points at the idea without giving the number away. Answers of the wrong type
get a message saying what was expected.

This module is what students install, so it holds no reference answer and computes none: the reference
computations live in the instructor's source (``instructor/references.py`` in the book's repository,
not part of the installed package). What is stored here, per exercise, is a *grid* that fits the
exercise's tolerance, a random salt, and a salted digest (PBKDF2-HMAC-SHA256) of the grid point of the
reference; ``python -m instructor.make_keys`` computes them from the references and rewrites the block
between the ``ANSWER KEYS`` markers below. ``check`` maps the student's answer to its grid point ``k``
and accepts it when the digest of ``k − 1``, ``k`` or ``k + 1`` equals the stored one.

The three grids, with ``⌊·⌉`` meaning ``floor(· + 1/2)``, ``ref`` the reference and ``h``/``δ`` the step:

``"linear"`` (exercises with an absolute tolerance ``atol``; ``h = 1.25·atol``)
    ``k = ⌊a/h⌉``. The answer ``a`` is accepted exactly when ``|⌊a/h⌉ − ⌊ref/h⌉| ≤ 1``: every ``a``
    with ``|a − ref| < h`` is accepted (so every ``a`` within the tolerance ``|a − ref| ≤ atol``), and
    every ``a`` with ``|a − ref| ≥ 2h = 2.5·atol`` is rejected.
``"log"`` (exercises with a relative tolerance ``rtol``; ``δ = 1.25·rtol``)
    ``k = (sign a, ⌊log|a|/δ⌉)``. The answer is accepted exactly when it has the sign of ``ref`` and
    ``|⌊log|a|/δ⌉ − ⌊log|ref|/δ⌉| ≤ 1``: every ``a`` with ``|log(a/ref)| < δ`` is accepted (so every
    ``a`` within ``|a − ref| ≤ atol + rtol·|ref|``, as the key generator verifies), and every ``a``
    with ``|log(a/ref)| ≥ 2δ`` is rejected (so every ``a`` off by 3 tolerances or more).
``"integer"`` (whole-number answers)
    ``k = ⌊a⌉``; accepted exactly when ``k = ref``, that is ``ref − 1/2 ≤ a < ref + 1/2``.

A digest cannot be inverted, and the slow hash makes trying grid points offline costly. It cannot hide
an answer that has few possible values (a fraction of 200 test points, a whole number): those, like
any right-or-wrong self-check, can be found by trying values; graded work is therefore scored by the
instructor's grader (``python -m instructor.grade``) against the references themselves.

Examples
--------
>>> from lazylib.exercises import check
>>> check("lazy-4.3", "four")
lazy-4.3: expected a number (a float or a one-element tensor); got str.
>>> check("lazy-4.3", -1.0)  # doctest: +ELLIPSIS
lazy-4.3: not yet. Hint: every row moved by the same vector; ...
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from numbers import Real
from typing import Any

__all__ = ["check", "Feedback", "Exercise", "EXERCISES", "labels", "grid_point", "digest"]

#: PBKDF2 iterations of one digest: about 3 ms, so a check (three digests) stays quick while trying
#: many grid points offline is slow.
ITERATIONS = 10_000
GRIDS = ("linear", "log", "integer")


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
    """One checkable exercise (it holds no answer).

    Attributes
    ----------
    label : str
        The key students pass to :func:`check` (chapter number and position, e.g. ``"lazy-4.2"``).
    chapter : str
        The notebook the exercise belongs to.
    rtol, atol : float
        The tolerance the exercise asks for, ``|answer − reference| ≤ atol + rtol·|reference|``; the
        grader applies it exactly, the self-check through its grid (see the module's notes).
    hint : str
        Shown on a wrong answer; never contains the answer.
    """

    label: str
    chapter: str
    rtol: float
    atol: float
    hint: str

    @property
    def grid(self) -> str:
        """The grid of the self-check: ``"linear"``, ``"log"`` or ``"integer"``."""
        return _KEYS[self.label][0]

    @property
    def step(self) -> float:
        """The grid's step (``h`` or ``δ``; 1 for ``"integer"``)."""
        return _KEYS[self.label][1]


EXERCISES: dict[str, Exercise] = {}


def _register(ex: Exercise) -> None:
    EXERCISES[ex.label] = ex


def labels() -> list[str]:
    """Every registered exercise label, in book order."""
    return list(EXERCISES)


def grid_point(grid: str, step: float, value: float) -> tuple[int, int]:
    """The grid point ``(sign, k)`` of a finite ``value`` (sign is 0 except on the ``"log"`` grid).

    Examples
    --------
    >>> grid_point("linear", 0.5, 1.3)
    (0, 3)
    >>> grid_point("integer", 1.0, 41.6)
    (0, 42)
    >>> grid_point("log", 0.01, -1.0)
    (-1, 0)
    """
    if grid == "linear":
        return 0, math.floor(value / step + 0.5)
    if grid == "integer":
        return 0, math.floor(value + 0.5)
    if grid == "log":
        if value == 0:
            return 0, 0
        return (1 if value > 0 else -1), math.floor(math.log(abs(value)) / step + 0.5)
    raise ValueError(f"`grid` must be one of {GRIDS}; got {grid!r}.")


def digest(label: str, grid: str, point: tuple[int, int], salt: str) -> str:
    """The salted digest of a grid point (hex), as stored in the answer keys."""
    message = f"{label}|{grid}|{point[0]}|{point[1]}".encode()
    return hashlib.pbkdf2_hmac("sha256", message, bytes.fromhex(salt), ITERATIONS).hex()[:32]


def _matches(label: str, value: float) -> bool:
    """Whether ``value`` (finite) lies on the reference's grid point or one of its two neighbours."""
    grid, step, salt, stored = _KEYS[label]
    sign, k = grid_point(grid, step, value)
    if grid == "log" and sign == 0:
        return False
    shifts = (0,) if grid == "integer" else (0, -1, 1)
    return any(digest(label, grid, (sign, k + s), salt) == stored for s in shifts)


def _as_number(answer: Any) -> float | str:
    """The answer as a float, or a message saying why it cannot be one."""
    if hasattr(answer, "numel") and hasattr(answer, "item"):  # a torch tensor
        if answer.numel() != 1:
            return f"expected a number (a float or a one-element tensor); got a tensor of shape {tuple(answer.shape)}"
        if answer.dtype.is_complex or str(answer.dtype) == "torch.bool":
            return f"expected real numbers; got dtype {answer.dtype}"
        answer = answer.detach().cpu().item()
    elif hasattr(answer, "size") and hasattr(answer, "item") and hasattr(answer, "dtype"):  # numpy
        if answer.size != 1:
            return f"expected a number (a float or a one-element tensor); got an array of shape {tuple(answer.shape)}"
        answer = answer.item()
    if isinstance(answer, bool) or not isinstance(answer, Real):
        return f"expected a number (a float or a one-element tensor); got {type(answer).__name__}"
    return float(answer)


def check(label: str, answer: Any) -> Feedback:
    """Check an exercise's answer; returns a :class:`Feedback` that displays its verdict.

    Parameters
    ----------
    label : str
        The exercise's label, as printed in the book (e.g. ``"lazy-4.2"``).
    answer : float, int or one-element torch.Tensor
        The student's answer.

    Raises
    ------
    ValueError
        For a label that names no exercise (the message lists the known labels of that chapter).

    Examples
    --------
    >>> check("lazy-4.3", float("nan"))
    lazy-4.3: the answer holds NaN or inf; expected finite numbers.
    """
    if not isinstance(label, str):
        raise TypeError(f"`label` must be an exercise label such as 'lazy-4.1'; got {type(label).__name__}.")
    if label not in EXERCISES:
        prefix = label.split(".")[0]
        near = [k for k in EXERCISES if k.startswith(prefix)] or list(EXERCISES)
        raise ValueError(f"`label` must be a known exercise label, one of {near}; got {label!r}.")
    ex = EXERCISES[label]
    got = _as_number(answer)
    if isinstance(got, str):
        return Feedback(label, False, f"{label}: {got}.")
    if not math.isfinite(got):
        return Feedback(label, False, f"{label}: the answer holds NaN or inf; expected finite numbers.")
    if _matches(label, got):
        return Feedback(label, True, f"{label}: correct.")
    return Feedback(label, False, f"{label}: not yet. Hint: {ex.hint}")


# ----------------------------------------------------------------------------------------------
# The exercises, in book order: label, chapter, tolerance and hint (the answers are not here).


_register(Exercise(
    label="intro-1.1",
    chapter="01_introduction",
    rtol=1e-6,
    atol=1e-9,
    hint="move x along −sign(f)·w/‖w‖; f changes by ‖w‖ per unit of distance, and it must lose |f(x)|.",
))

_register(Exercise(
    label="intro-1.2",
    chapter="01_introduction",
    rtol=1e-3,
    atol=1e-6,
    hint="use ll.flip_distance on the chapter's network and all test images, then torch.median "
         "(the median of the 200 distances, not the mean).",
))

_register(Exercise(
    label="intro-1.3",
    chapter="01_introduction",
    rtol=0.0,
    atol=1e-9,
    hint="ll.robust_accuracy with attack='gradient' takes ε directly; ε = 1/√d with d = 784. A point "
         "counts only if it is correctly classified and its flip distance exceeds ε.",
))

_register(Exercise(
    label="lazy-4.1",
    chapter="04_lazy_regime",
    rtol=1e-6,
    atol=1e-9,
    hint="bound the loss gradient of one neuron by α‖x‖ (|ℓ'| ≤ 1), then add up the T steps; "
         "C₀ is the bound on ‖w_s − w_{s,0}‖ multiplied by √m.",
))

_register(Exercise(
    label="lazy-4.2",
    chapter="04_lazy_regime",
    rtol=5e-3,
    atol=0.0,
    hint="for a unit-norm x, w_{s,0}ᵀx is a standard normal; a neuron is switchable when it lies in "
         "[−R, R] with R = C₀/√m, and P(|Z| ≤ R) = erf(R/√2). Multiply by the number of neurons.",
))

_register(Exercise(
    label="lazy-4.3",
    chapter="04_lazy_regime",
    rtol=1e-4,
    atol=1e-6,
    hint="every row moved by the same vector; compute its norm, compare with R, and note that the "
         "projection shortens each row's displacement to length R along the same direction.",
))

_register(Exercise(
    label="lazy-4.4",
    chapter="04_lazy_regime",
    rtol=0.0,
    atol=0.01,
    hint="in the mean-field scaling each neuron's gradient has size about 1/m and the step size is m·η, "
         "so how far a neuron moves does not depend on m; multiply by √m.",
))

_register(Exercise(
    label="robust-2.1",
    chapter="02_robust_error",
    rtol=1e-6,
    atol=1e-9,
    hint="the worst perturbation of norm ε lowers the margin y(wᵀx + b) by exactly ε‖w‖; the point stays "
         "robust as long as the margin minus that amount is positive.",
))

_register(Exercise(
    label="robust-2.2",
    chapter="02_robust_error",
    rtol=0.0,
    atol=1e-9,
    hint="use ll.least_squares_classifier(x_train, y_train, ridge=1.0) on the 28×28 unit-norm images in "
         "float64, then ll.linear_robust_accuracy on the test images with eps=0.25 (no attack is needed).",
))

_register(Exercise(
    label="robust-2.3",
    chapter="02_robust_error",
    rtol=1e-6,
    atol=0.0,
    hint="D = ‖x‖·|u₁| with u uniform on the sphere; E|u₁| = Γ(d/2)/(√π Γ((d+1)/2)). Use math.lgamma "
         "(Γ itself overflows) and do not forget the factor ‖x‖.",
))

_register(Exercise(
    label="robust-2.4",
    chapter="02_robust_error",
    rtol=1e-6,
    atol=0.0,
    hint="with k = 0 the upper Clopper–Pearson bound is the p at which seeing no event at all has "
         "probability α/2: solve (1 − p)^n = α/2.",
))

_register(Exercise(
    label="robust-2.5",
    chapter="02_robust_error",
    rtol=0.0,
    atol=0.5,
    hint="the Hoeffding half-width is √(log(2/α)/(2n)); set it equal to the target and solve for n, "
         "then round up to a whole number of test points.",
))

_register(Exercise(
    label="random-3.1",
    chapter="03_random_networks",
    rtol=1e-6,
    atol=0.0,
    hint="expand (Σ_s X_s)⁴ for independent, symmetric X_s: only the terms X_s⁴ and X_s²X_t² survive, "
         "and E relu(Z)⁴ is half of E Z⁴. Mind the factor m^{-2} and the scale ‖x‖⁴.",
))

_register(Exercise(
    label="random-3.2",
    chapter="03_random_networks",
    rtol=0.0,
    atol=0.5,
    hint="the squared relative spread of ‖∇f‖² is 2/d + (1 + 2/d)/m; require it to be at most 0.2² "
         "and solve for the smallest whole m.",
))

_register(Exercise(
    label="random-3.3",
    chapter="03_random_networks",
    rtol=0.0,
    atol=1e-9,
    hint="take η = −sign f(x)·(1/√d)/‖∇f(x)‖ for each input (so the step has length exactly 1/√d), use "
         "ll.gradient_step, and count the inputs whose sign changed (a zero counts as a change).",
))

_register(Exercise(
    label="random-3.4",
    chapter="03_random_networks",
    rtol=1e-6,
    atol=0.0,
    hint="a neuron switches by distance t when z and z + t·c have opposite signs; for independent standard "
         "normals z, c the pair (z, c) is rotation invariant, so compute the angle of the region.",
))

_register(Exercise(
    label="value-6.1",
    chapter="06_lemma_value",
    rtol=1e-6,
    atol=1e-9,
    hint="each neuron moves f by a term in [0, R‖x‖]/√m whose mean, averaged over the sign a_s, is half its "
         "range; add up m of them, with R = C₀/√m, and keep the factor ‖x‖.",
))

_register(Exercise(
    label="value-6.2",
    chapter="06_lemma_value",
    rtol=1e-3,
    atol=0.0,
    hint="with one neuron |f(x; W₀)| = relu(z) with z = w_{1,0}ᵀx standard normal; the event |f| ≥ 2 is an "
         "event about z alone. Use math.erfc for the normal tail.",
))

_register(Exercise(
    label="value-6.3",
    chapter="06_lemma_value",
    rtol=0.0,
    atol=1e-9,
    hint="call ll.lemmas.sample_value_range(16, 1.0, 20000, generator=torch.Generator().manual_seed(3)), take its "
         "sup_abs, and count the fraction strictly above ll.lemmas.value_bound_sharp(0.5, 1.0, 16).",
))

_register(Exercise(
    label="value-6.4",
    chapter="06_lemma_value",
    rtol=1e-9,
    atol=1e-12,
    hint="copy the weights from ll.value_extremiser(net, x, R, which='sup')[0] into net.W (inside torch.no_grad()) "
         "and evaluate net(x); R = C₀/√m with C₀ = 10.",
))

_register(Exercise(
    label="gradnorm-7.1",
    chapter="07_lemma_gradient_norm",
    rtol=1e-6,
    atol=1e-9,
    hint="take expectations in the exact law of ‖∇f(x; W₀)‖²: the mean of k/m, of a chi-square variable with "
         "d − 1 degrees of freedom, and of f(x̂; W₀)². The norm of x plays no role.",
))

_register(Exercise(
    label="gradnorm-7.2",
    chapter="07_lemma_gradient_norm",
    rtol=1e-6,
    atol=1e-9,
    hint="only neurons that can be active contribute to the deviation term, each with a vector of norm at most "
         "R/√m; multiply by their number, with R = C₀/√m.",
))

_register(Exercise(
    label="gradnorm-7.3",
    chapter="07_lemma_gradient_norm",
    rtol=1e-8,
    atol=1e-10,
    hint="select the rows of W₀ with |w_{s,0}ᵀx| ≤ R‖x‖, take their spectral norm (torch.linalg.matrix_norm with "
         "ord=2), and multiply by √(N/m) where N is the number of rows selected.",
))

_register(Exercise(
    label="gradnorm-7.4",
    chapter="07_lemma_gradient_norm",
    rtol=1e-8,
    atol=1e-10,
    hint="with the activations frozen only the active neurons can change the gradient, each through its own "
         "deviation of norm at most R, scaled by 1/√m. In which single direction should all of them move?",
))

_register(Exercise(
    label="theorem-5.1",
    chapter="05_main_theorem",
    rtol=1e-3,
    atol=0.0,
    hint="evaluate the upper end of the window, C₄·exp(d^0.24) with C₄ = 1, at MNIST's input dimension "
         "(28 × 28 pixels).",
))

_register(Exercise(
    label="theorem-5.2",
    chapter="05_main_theorem",
    rtol=1e-6,
    atol=1e-9,
    hint="the first-order flip proposition: the step removes C₂ from |f| to first order and the gradient's "
         "variation can give back at most C₂·Δ/‖∇f‖; solve for the C₂ at which the two balance.",
))

_register(Exercise(
    label="theorem-5.3",
    chapter="05_main_theorem",
    rtol=1e-4,
    atol=0.0,
    hint="write t = log d and compare exp(0.24 t) with 2t; the window is empty between the two roots of "
         "that equation, and you want the larger root (bisection, or ll.lemmas.window_threshold).",
))

_register(Exercise(
    label="theorem-5.4",
    chapter="05_main_theorem",
    rtol=0.0,
    atol=1e-9,
    hint="for each input take η = −sign f(x)·C₂/‖∇f(x)‖² with C₂ = 1, move with ll.gradient_step, and count "
         "the inputs whose sign changed (use the inputs ll.data.sphere(100, 784, ...) draws with seed 6).",
))

_register(Exercise(
    label="reproduce-10.1",
    chapter="10_reproducing_the_paper",
    rtol=1e-6,
    atol=1e-9,
    hint="only the diagonal terms of the double sum survive the average over the signs a_s; each is "
         "E[1(wᵀx > 0)‖w‖²], and w ↦ −w shows that the indicator keeps exactly half of E‖w‖².",
))

_register(Exercise(
    label="reproduce-10.2",
    chapter="10_reproducing_the_paper",
    rtol=0.0,
    atol=5e-3,
    hint="results.mean('flip_distance.median', by='d', m=1000, C0=10.0) gives one value per d; keep "
         "d ≥ 100 (four dimensions) and pass them to ll.power_law_fit; the answer is the fit's slope.",
))

_register(Exercise(
    label="reproduce-10.3",
    chapter="10_reproducing_the_paper",
    rtol=1e-3,
    atol=0.0,
    hint="a vector of d equal entries p has Euclidean norm p·√d; set that equal to c/√d and solve for p.",
))

_register(Exercise(
    label="reproduce-10.4",
    chapter="10_reproducing_the_paper",
    rtol=0.0,
    atol=1e-2,
    hint="average the three seeds' 'robust_accuracy_scaled' lists point by point, then call "
         "ll.reproduce.crossing(results.provenance['scaled_eps'], curve, curve[0] / 2).",
))

_register(Exercise(
    label="advtrain-11.1",
    chapter="11_adversarial_training",
    rtol=1e-6,
    atol=1e-9,
    hint="the supremum is taken neuron by neuron; a neuron with the helpful sign gains E[relu(z + R) − relu(z)], "
         "the other kind E[relu(z) − relu(z − R)]; average the two with E relu(z + c) = cΦ(c) + φ(c), then sum over m.",
))

_register(Exercise(
    label="advtrain-11.2",
    chapter="11_adversarial_training",
    rtol=1e-3,
    atol=0.0,
    hint="set the margin gain C0/2 equal to the margin that survives the step, ε·√(d/2), and solve for C0.",
))

_register(Exercise(
    label="advtrain-11.3",
    chapter="11_adversarial_training",
    rtol=1e-3,
    atol=0.0,
    hint="adv.mean('robust_accuracy_pgd', by='C0', d=100, eps=0.4); then crossing on the logarithms of C0 "
         "with level max/2 and rising=True; exponentiate the result.",
))

_register(Exercise(
    label="advtrain-11.4",
    chapter="11_adversarial_training",
    rtol=1e-3,
    atol=0.0,
    hint="rad.mean('robust_accuracy_pgd', by='radius', m=4000), the same crossing in log r, then multiply "
         "the radius by √m.",
))

_register(Exercise(
    label="beyond-12.1",
    chapter="12_beyond_lazy",
    rtol=1e-6,
    atol=1e-9,
    hint="y·f(x + δ) = y·f(x) + y·wᵀδ, and Cauchy–Schwarz bounds wᵀδ below by −‖w‖·‖δ‖.",
))

_register(Exercise(
    label="beyond-12.2",
    chapter="12_beyond_lazy",
    rtol=1e-6,
    atol=1e-9,
    hint="the two networks differ by a positive constant factor; what does that factor do to the sign of f "
         "and to the direction of its gradient?",
))

_register(Exercise(
    label="beyond-12.3",
    chapter="12_beyond_lazy",
    rtol=0.0,
    atol=5e-3,
    hint="adv.mean('flip_distance_median', by='d', C0=64.0, eps=0.2) gives three values; ll.power_law_fit of "
         "them against d; the answer is the slope.",
))

_register(Exercise(
    label="beyond-12.4",
    chapter="12_beyond_lazy",
    rtol=1e-3,
    atol=0.0,
    hint="the condition is |Z| ≤ ε‖w_s‖ for a standard normal Z; with ε = 2/√d and ‖w_s‖ = √d, use "
         "P(|Z| ≤ t) = erf(t/√2).",
))

_register(Exercise(
    label="graddiff-8.1",
    chapter="08_lemma_gradient_difference",
    rtol=1e-3,
    atol=0.0,
    hint="a neuron switches when the line {w : wᵀy = 0} separates x from x + u in the plane they span; the "
         "probability is the angle between x and x + u divided by π. For u ⊥ x, what is that angle?",
))

_register(Exercise(
    label="graddiff-8.2",
    chapter="08_lemma_gradient_difference",
    rtol=1e-3,
    atol=0.0,
    hint="the lemma gives E‖Δ‖² = dθ/π; at initialisation E‖∇f‖² = d/2 (each neuron is active with probability "
         "1/2). For u ⊥ x the angle is θ = arctan(‖u‖/‖x‖).",
))

_register(Exercise(
    label="graddiff-8.3",
    chapter="08_lemma_gradient_difference",
    rtol=1e-4,
    atol=1e-7,
    hint="u = −sign f(x)·r·∇f/‖∇f‖ with r = 2/√196, one row per input; ll.lemmas.gradient_difference(net, x, u) "
         "gives one difference per input; average the 64 of them.",
))

_register(Exercise(
    label="graddiff-8.4",
    chapter="08_lemma_gradient_difference",
    rtol=0.0,
    atol=0.01,
    hint="K grows like √(d·log m) and √(2θ/π) like d^(−1/4) for r = c/√d; require their product to stay below a "
         "fixed fraction of √d and solve for log m.",
))

_register(Exercise(
    label="together-9.1",
    chapter="09_putting_together",
    rtol=1e-6,
    atol=1e-9,
    hint="the flip lemma's step has length 2A/B; the theorem's step with constant C₂ has length C₂/‖∇f‖. "
         "Equate the two lengths.",
))

_register(Exercise(
    label="together-9.2",
    chapter="09_putting_together",
    rtol=0.0,
    atol=1e-9,
    hint="draw and train exactly as stated (points with seed 5, network with seed 6, lr 100, 40 full-batch epochs, "
         "C0 = 40), then ll.lemmas.flip_fraction on the 200 training points with C2 = 2.",
))

_register(Exercise(
    label="together-9.3",
    chapter="09_putting_together",
    rtol=1e-4,
    atol=1e-7,
    hint="the step first reaches the decision boundary when C₂/‖∇f‖ equals the exact flip distance; "
         "ll.lemmas.critical_C2 gives that C₂ per point. Take the largest over the 200 points.",
))

_register(Exercise(
    label="together-9.4",
    chapter="09_putting_together",
    rtol=1e-3,
    atol=0.0,
    hint="Lemma A gives A = 2√(log(2/γ)) + C₀ for a unit input; the flip lemma's step is 2A/B.",
))


# BEGIN ANSWER KEYS (generated by `python -m instructor.make_keys`; do not edit by hand)
# label: (grid, step, salt, digest of the reference's grid point)
_KEYS: dict[str, tuple[str, float, str, str]] = {
    "intro-1.1": ("log", 1.2499999999999999e-06, "879a663274f8cca67b85127a919a03b6", "12d7d4833cd4ed93e480daa3bea4daaf"),
    "intro-1.2": ("log", 0.00125, "6e2c451ee55a28ddabd2a88f348c2803", "b9ecd16ce5a9e76b03c7f0e2f8af9c33"),
    "intro-1.3": ("linear", 1.25e-09, "62f74a36b8a1a856a531ce658470d1f9", "3f89ea99aad96ab5786597beb22dd642"),
    "lazy-4.1": ("log", 1.2499999999999999e-06, "1945abaa817b8c8e9522e540e7252fcb", "fb520a058966274d18dfdf22083ae258"),
    "lazy-4.2": ("log", 0.00625, "8375fdade71ed1b55a16bab66c4f83b8", "68be9cab69d221d1bf1dc9aebb3592c8"),
    "lazy-4.3": ("log", 0.000125, "22acf62e8485f4cf270a3af4f939df1c", "36842884b236e126b99751036ac3fd9b"),
    "lazy-4.4": ("linear", 0.0125, "e572c553932f33163d069f8ed6f611e0", "2330bbf80b81123921c923f667b0dbac"),
    "robust-2.1": ("log", 1.2499999999999999e-06, "fb9d7cc13cb2f2c204dc32c3e1415e96", "b106f48827af0895ba0c1df7d6864c25"),
    "robust-2.2": ("linear", 1.25e-09, "16b2be248efb463e22bd2250d06ec6cd", "5b1c0fde0257cec597d8621448f9fe1d"),
    "robust-2.3": ("log", 1.2499999999999999e-06, "45f9f666724792ef1e7851daf6e3d494", "92440155581aeb59f4ef2bd138e63ed1"),
    "robust-2.4": ("log", 1.2499999999999999e-06, "4a8709468ef4eea468cfb7553b672d17", "76bb7e55e59affd2b19f68ae378f0e0d"),
    "robust-2.5": ("integer", 1.0, "ec345996249084d3bc24a1397679dcb4", "73658adff3ff8008e98b839bc9965a3c"),
    "random-3.1": ("log", 1.2499999999999999e-06, "1d4b6008a026400444fe9520417ee813", "d3ad28c4814ce6362fb930300e8a6667"),
    "random-3.2": ("integer", 1.0, "cc2b0863cdfbbadc970440354f605670", "5b1246835b507af35ecb6206fdd09b17"),
    "random-3.3": ("linear", 1.25e-09, "49dcc8cbbf3b72a82e55c4d8fcc038d6", "5256639eebdadf070a04e0a9ca8a488e"),
    "random-3.4": ("log", 1.2499999999999999e-06, "4afa35bdd9a46d134cfca376d80f779f", "29a7aa10b18df2b46bb03b131d45f396"),
    "value-6.1": ("log", 1.2499999999999999e-06, "0a24503996d9f4ad6fb9add4fe979983", "489aebd776186296c7cfc3541c1cc5e3"),
    "value-6.2": ("log", 0.00125, "0182a0aaf4bd4822b698ad7c25dffbc9", "4249834289058cc491ae74312adc55d9"),
    "value-6.3": ("linear", 1.25e-09, "ad377dce051a53ad9edb74c62ce45092", "1b730396ae61ec74ed4c30ddb934c0c1"),
    "value-6.4": ("log", 1.25e-09, "8278ac82a89aa14e5b0c3726b678111b", "0664fbad7ec26431df95b544bac52ace"),
    "gradnorm-7.1": ("log", 1.2499999999999999e-06, "c4f70edc85d4f9991790f72afd2b7513", "3b7139b8eb26df3f0c42e8918bee0389"),
    "gradnorm-7.2": ("log", 1.2499999999999999e-06, "3e8a30f974d7281e0dd9d4f6e55f0207", "51f68ef8bd47fb3ff50b781c33ffa0b3"),
    "gradnorm-7.3": ("log", 1.25e-08, "64273ff76ebd53a5feae8d697a58fb4b", "5996a6998bd4abeb3fd5046059dd6177"),
    "gradnorm-7.4": ("log", 1.25e-08, "2f8c6d76128ff0dd90d89c2bca7ffd03", "e59a277f78fcdf452f5d7ad2d39ffadd"),
    "theorem-5.1": ("log", 0.00125, "bf73e70df9e34a00dd927475b53bac75", "e6cf1334626c7159aaf77cb9700e3258"),
    "theorem-5.2": ("log", 1.2499999999999999e-06, "0edebec061cd450fae359c81c9afa99d", "4a6c4b3fe3e711349bf25cfb1cf10ae4"),
    "theorem-5.3": ("log", 0.000125, "7c875c05961fe88e6a7abae253765717", "b8c173f357974ef469d9d57c39229f3f"),
    "theorem-5.4": ("linear", 1.25e-09, "31c2b6680bbc2d25164c669b904c925b", "ce58553e2eb7b6cd7fc078296a88e0ba"),
    "reproduce-10.1": ("log", 1.2499999999999999e-06, "896c4a55b55ae3b339a58a5dcc0a718a", "86c02f5415853e4d55e05cc943d5e828"),
    "reproduce-10.2": ("linear", 0.00625, "d8bfc36cf88eb3ff8ec12d7849dcb30e", "b9423f421f3dd3adc24a122f59764fac"),
    "reproduce-10.3": ("log", 0.00125, "4673f06d764ca3c4787c20a0d1d02b5b", "20189771c496e57fa77ed2272103e621"),
    "reproduce-10.4": ("linear", 0.0125, "189b91ae95cebbee9a071d44eb90f61f", "93bd4abefb89fc0ea4405128683f7f68"),
    "advtrain-11.1": ("log", 1.2499999999999999e-06, "e31eb87a5d10a5ebb5793345671ba72c", "299c9c1c887f136c9968fbfe107698be"),
    "advtrain-11.2": ("log", 0.00125, "225d1a57752cea0710135a1935401ad3", "73608f46a665184a3231baa0daa48a8e"),
    "advtrain-11.3": ("log", 0.00125, "4faec644d18c69abb112cf985f33efd1", "ae4487ca2832ffbf35c2c7f0758d43f6"),
    "advtrain-11.4": ("log", 0.00125, "10b01144a0a0ef1eaed1adf567246280", "eae3d6be8562016c6b2d3ad0b39eda8b"),
    "beyond-12.1": ("log", 1.2499999999999999e-06, "ab26788e1c2fde9521199efc3f90cf54", "cc5b7b9d314b4731a2e7899ae701d867"),
    "beyond-12.2": ("log", 1.2499999999999999e-06, "b15a11d3008c53fceaab92571e68dac3", "714787707f66b8e02694ff9300a5c187"),
    "beyond-12.3": ("linear", 0.00625, "8658992a787dc396108e7dcda14a124f", "dd90e34b0577b6ee8309f90436dd5b8d"),
    "beyond-12.4": ("log", 0.00125, "48d23dd910f699b4ecbf06d0c9ce4fc3", "4f7fee51200a349c7027c8d92a546994"),
    "graddiff-8.1": ("log", 0.00125, "890e4a18270c2b473b53b5e482ecd4fe", "be2d1b07ab2233671471b6c151d8cfcc"),
    "graddiff-8.2": ("log", 0.00125, "44cea267d505bb9c0566421dcbe39152", "cdf80a11e70d0724ae488ab651de9ced"),
    "graddiff-8.3": ("log", 0.000125, "261e98a7e1bf704c337fb27e46e58fc1", "afba21c155f0e7b5cae4551e0d113da6"),
    "graddiff-8.4": ("linear", 0.0125, "e84532ca4355793be0bbe70d765fae01", "16e95f6afdbf958a775f40f5e4c088dd"),
    "together-9.1": ("log", 1.2499999999999999e-06, "87ff4ba8b0eb23cd942241415fda1a51", "25e53e26c60d5217ec499d5b94d31cc4"),
    "together-9.2": ("linear", 1.25e-09, "262dbec118c5c66e20cd590022981f25", "08c64427d4793f604fc5ddfcf86dbed7"),
    "together-9.3": ("log", 0.000125, "a973c5e2080358164d2e7a01e2da70c3", "514039e28ee11e15ac56c3807a500b03"),
    "together-9.4": ("log", 0.00125, "d5eda7288d0dd2538879b0a424abbff0", "ea0eae606c23b58ee01b3983113c3338"),
}
# END ANSWER KEYS
