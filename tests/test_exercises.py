"""The exercise self-checks: every exercise accepts its reference and every answer within its tolerance,
rejects answers three tolerances away and wrong types, and holds no answer (the references are computed
by the instructor's ``instructor/references.py``, which the installed package does not contain). The
exercises' data file ``lazylib/exercises.json`` holds exactly the chapters' exercises and only their
registration data and keys, in the layout ``python -m instructor.make_keys`` writes."""

from __future__ import annotations

import dataclasses
import json
import math
import pathlib
import re
import sys

import nbformat
import numpy as np
import pytest
import torch

from lazylib import exercises
from lazylib.exercises import check

ROOT = pathlib.Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # the instructor's tools live next to the package, not inside it
    sys.path.insert(0, str(ROOT))

from instructor import make_keys, references  # noqa: E402

LABELS = exercises.labels()
DATA_FILE = ROOT / "lazylib" / "exercises.json"


def tolerance(label: str) -> float:
    ex = exercises.EXERCISES[label]
    return ex.atol + ex.rtol * abs(references.reference(label))


def test_every_exercise_has_a_reference_and_a_key():
    assert LABELS == references.labels()
    assert set(exercises._KEYS) == set(LABELS)
    assert len(LABELS) == len(set(LABELS)) >= 40


@pytest.mark.parametrize("key", LABELS)
def test_reference_and_answers_within_the_tolerance_pass(key):
    ref = references.reference(key)
    tol = tolerance(key)
    fb = check(key, ref)
    assert fb.correct and bool(fb) and repr(fb) == f"{key}: correct."
    inside = 0.999 * tol if exercises.EXERCISES[key].grid == "integer" else tol
    for value in (ref + inside, ref - inside, ref + 0.5 * tol, ref - 0.5 * tol):
        assert check(key, value), (key, value)
    assert check(key, torch.tensor([ref], dtype=torch.float64))  # a one-element tensor
    assert check(key, np.float64(ref))


@pytest.mark.parametrize("key", LABELS)
def test_answers_outside_the_tolerance_get_a_hint_without_the_answer(key):
    ex = exercises.EXERCISES[key]
    ref, tol = references.reference(key), tolerance(key)
    wrong = [ref + 3 * tol, ref - 3 * tol, ref * 1.5 + 1.0]
    if abs(ref) > 3 * tol:
        wrong += [-ref, 0.0]
    for value in wrong:
        fb = check(key, value)
        assert not fb.correct and repr(fb) == f"{key}: not yet. Hint: {ex.hint}", (key, value)
    for digits in (2, 3, 4):
        if abs(ref) > 1e-9:
            assert f"{ref:.{digits}f}" not in ex.hint


@pytest.mark.parametrize("key", LABELS)
def test_wrong_type_gets_a_clear_message(key):
    for bad in ("a string", None, [1.0, 2.0], True, torch.zeros(2), torch.tensor([1 + 1j])):
        fb = check(key, bad)
        assert not fb.correct and "expected" in repr(fb), (key, bad)
    for bad in (float("nan"), float("inf"), torch.tensor(float("-inf"))):
        fb = check(key, bad)
        assert not fb.correct and "NaN or inf" in repr(fb)


def test_exercises_hold_no_answer():
    fields = {f.name for f in dataclasses.fields(exercises.Exercise)}
    assert fields == {"label", "chapter", "rtol", "atol", "hint"}
    for key, ex in exercises.EXERCISES.items():
        assert not hasattr(ex, "reference")
        grid, step, salt, stored = exercises._KEYS[key]
        ref = references.reference(key)
        if abs(ref) > 1e-6:
            assert not math.isclose(step, abs(ref), rel_tol=1e-2)  # the grid step does not reveal the answer
        assert len(stored) == 32 and len(salt) == 32
    text = (ROOT / "lazylib" / "exercises.py").read_text()
    # it computes nothing: no reference code, and it imports neither torch nor the rest of lazylib
    assert "reference=" not in text and "import torch" not in text and "from ." not in text


def test_committed_keys_match_the_references():
    assert make_keys.main(["--check"]) == 0


def _data() -> dict:
    return json.loads(DATA_FILE.read_text(encoding="utf-8"))


def test_the_data_file_holds_the_registrations_and_keys_only():
    data = _data()
    assert list(data) == ["comment", "order", "exercises"]
    assert data["order"] == LABELS  # labels() and EXERCISES follow the file's book order
    items = data["exercises"]
    assert [ex["label"] for ex in items] == sorted(LABELS)  # one object per exercise, sorted by label
    for item in items:
        assert list(item) == ["label", "chapter", "rtol", "atol", "hint", "key"], item["label"]
        assert list(item["key"]) == ["grid", "step", "salt", "digest"], item["label"]
        ex = exercises.EXERCISES[item["label"]]
        assert (item["chapter"], item["rtol"], item["atol"], item["hint"]) == (ex.chapter, ex.rtol, ex.atol, ex.hint)
        key = item["key"]
        assert (key["grid"], key["step"], key["salt"], key["digest"]) == exercises._KEYS[item["label"]]
        assert key["grid"] == ex.grid and key["step"] == ex.step
        assert key["grid"] in exercises.GRIDS


def test_make_keys_writes_the_data_file_byte_for_byte():
    text = DATA_FILE.read_text(encoding="utf-8")
    assert make_keys.render(json.loads(text)) == text
    assert "1.2499999999999999e-06" in text and 1.25 * 1e-6 == 1.2499999999999999e-06  # floats read back exactly
    # an exercise written without its key (make_keys adds it) and an 'order' that misses a label
    data = json.loads(text)
    del data["exercises"][0]["key"]
    assert "key" not in json.loads(make_keys.render(data))["exercises"][0]
    data["order"] = data["order"][1:]
    with pytest.raises(ValueError, match="'order'"):
        make_keys.render(data)
    data = json.loads(text)
    data["exercises"][0]["answer"] = 1.0
    with pytest.raises(ValueError, match="unknown"):
        make_keys.render(data)


def test_make_keys_sets_keys_in_a_copy_of_the_data_file(tmp_path):
    copy = tmp_path / "exercises.json"
    copy.write_text(DATA_FILE.read_text(encoding="utf-8"), encoding="utf-8")
    assert not make_keys.write_keys(dict(exercises._KEYS), copy)  # the committed keys: nothing changes
    label = LABELS[0]
    key = make_keys.make_key(label, 1.0, 1e-6, 0.0, salt="00" * 16)
    assert make_keys.write_keys({label: key}, copy)
    item = next(ex for ex in json.loads(copy.read_text(encoding="utf-8"))["exercises"] if ex["label"] == label)
    assert tuple(item["key"].values()) == key
    with pytest.raises(ValueError, match="no exercise"):
        make_keys.write_keys({"lazy-9.9": key}, copy)


CHECK_CELL = re.compile(r"""^\s*check\(\s*["']([^"']+)["']""", re.M)


def test_the_data_file_has_exactly_the_chapters_exercises():
    """The labels in the data file are the labels the chapters' exercises and check cells use, each with
    the chapter it appears in."""
    from lazylib import coursework

    used: dict[str, set[str]] = {}
    for path in sorted((ROOT / "book").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        keys = {ex.key for ex in coursework.find_exercises(nb) if not coursework.is_proof(ex.key)}
        keys |= {k for c in nb.cells if c.cell_type == "code" for k in CHECK_CELL.findall(c.source)}
        for key in keys:
            used.setdefault(key, set()).add(path.stem)
    registered = {item["label"]: {item["chapter"]} for item in _data()["exercises"]}
    assert registered == used


def test_acceptance_interval_of_each_grid():
    # linear: accepted iff |⌊a/h⌉ − ⌊ref/h⌉| ≤ 1; certain inside |a − ref| < h, rejected from 2h on.
    key = make_keys.make_key("t-1", 0.3, 0.0, 0.01, salt="00" * 16)
    assert key[:2] == ("linear", 0.0125)
    assert all(make_keys.accepts("t-1", key, 0.3 + s) for s in (-0.0124, -0.01, 0.0, 0.01, 0.0124))
    assert not any(make_keys.accepts("t-1", key, 0.3 + s) for s in (-0.025, 0.025, -0.03, 0.03))
    # log: same sign and |⌊log|a|/δ⌉ − ⌊log|ref|/δ⌉| ≤ 1; certain inside |log(a/ref)| < δ.
    key = make_keys.make_key("t-2", -2.0, 1e-3, 0.0, salt="00" * 16)
    assert key[:2] == ("log", 1.25e-3)
    assert all(make_keys.accepts("t-2", key, -2.0 * math.exp(s)) for s in (-1.24e-3, 0.0, 1.24e-3))
    assert not any(make_keys.accepts("t-2", key, v) for v in (-2.0 * math.exp(2.5e-3), -2.0 * math.exp(-2.5e-3), 2.0, 0.0))
    # integer: accepted iff ⌊a⌉ = ref.
    key = make_keys.make_key("t-3", 51.0, 0.0, 0.5, salt="00" * 16)
    assert key[:2] == ("integer", 1.0)
    assert all(make_keys.accepts("t-3", key, v) for v in (50.5, 51.0, 51.49))
    assert not any(make_keys.accepts("t-3", key, v) for v in (50.49, 51.5, 52.0))


def test_grid_choice_refuses_a_step_that_would_reveal_the_answer():
    with pytest.raises(ValueError, match="no answer grid"):
        make_keys.choose_grid(0.0, 1e-3, 1e-9)  # relative tolerance around zero
    with pytest.raises(ValueError, match="no answer grid"):
        make_keys.choose_grid(1e-6, 1e-3, 1e-6)  # atol dominates a relative tolerance
    with pytest.raises(ValueError, match="`grid`"):
        exercises.grid_point("cubic", 1.0, 1.0)


def test_unknown_label_and_bad_label_type():
    with pytest.raises(ValueError, match="`label`"):
        check("lazy-9.9", 1.0)
    with pytest.raises(TypeError, match="`label`"):
        check(4.2, 1.0)
