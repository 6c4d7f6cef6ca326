"""The exercise checks: right answers pass, wrong ones get a hint without the answer, bad types a message."""

from __future__ import annotations

import pytest
import torch

from lazylib import exercises
from lazylib.exercises import check

CHEAP = [k for k in exercises.labels() if not k.startswith("intro-1.2") and not k.startswith("intro-1.3")]


@pytest.mark.parametrize("key", exercises.labels())
def test_reference_answer_passes(key):
    ex = exercises.EXERCISES[key]
    ref = ex.reference()
    fb = check(key, ref)
    assert fb.correct and bool(fb) and repr(fb) == f"{key}: correct."


@pytest.mark.parametrize("key", exercises.labels())
def test_wrong_answer_gets_a_hint_without_the_answer(key):
    ex = exercises.EXERCISES[key]
    ref = torch.as_tensor(ex.reference(), dtype=torch.float64)
    wrong = ref * 1.5 + 1.0
    fb = check(key, wrong if ex.shape else float(wrong))
    assert not fb.correct and "Hint:" in repr(fb)
    for digits in (2, 3, 4):
        for value in ref.reshape(-1).tolist():
            if abs(value) > 1e-9:
                assert f"{value:.{digits}f}" not in ex.hint


@pytest.mark.parametrize("key", exercises.labels())
def test_wrong_type_gets_a_clear_message(key):
    fb = check(key, "a string")
    assert not fb.correct and "expected" in repr(fb)
    fb = check(key, float("nan") if exercises.EXERCISES[key].shape is None else [float("nan")])
    assert not fb.correct


def test_tolerances_accept_small_rounding():
    ref = exercises.EXERCISES["lazy-4.2"].reference()
    assert check("lazy-4.2", round(ref, 1))
    assert not check("lazy-4.2", ref * 1.05)


def test_one_element_tensor_is_accepted():
    assert check("lazy-4.3", torch.tensor([4.0]))


def test_unknown_label_and_bad_label_type():
    with pytest.raises(ValueError, match="`label`"):
        check("lazy-9.9", 1.0)
    with pytest.raises(TypeError, match="`label`"):
        check(4.2, 1.0)
