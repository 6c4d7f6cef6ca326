"""The grader, end to end on a tiny synthetic chapter (not the book's): student version, synthetic
submissions (all correct, all wrong, one raising, one that runs forever, one without a check cell, one
with edited labels, one without a statement, one that replaces the checker, one saved without cell ids,
one unreadable), graded with
a short time limit; the gradebook is asserted exactly."""

from __future__ import annotations

import csv
import pathlib
import sys

import nbformat
import pytest

from lazylib import coursework

ROOT = pathlib.Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from instructor import grade as grader  # noqa: E402

pytestmark = pytest.mark.slow

KEYS = {
    "toy-1.1": grader.Key(6.0, 1e-6, 1e-9, "double x."),
    "toy-1.2": grader.Key(9.5, 1e-6, 0.0, "square x, then add a half."),
    "toy-1.3": grader.Key(7.0, 0.0, 0.5, "count them."),
}
POINTS = {"toy-1.1": 1.0, "toy-1.2": 2.0, "*": 1.0}
SOLUTIONS = {"toy-1.1": "answer = 2 * x", "toy-1.2": "answer = x ** 2 + 0.5", "toy-1.3": "answer = 7"}


def _chapter() -> nbformat.NotebookNode:
    """A chapter with three exercises in the book's pattern (statement, hidden solution, check cell)."""
    md, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell
    cells = [md("# 99. A toy chapter\n\nThree exercises."),
             code("x = 3.0\n\ndef check(key, answer):\n    print(f'{key}: checked')"),
             md("## Exercises")]
    for n, (key, solution) in enumerate(SOLUTIONS.items(), start=1):
        cells += [
            md(f":::{{exercise}} {key}\n:label: ex-toy-{n}\n:nonumber:\n\nCompute it; store it in `answer` and run "
               f'`check("{key}", answer)`.\n:::'),
            md(f":::{{solution-start}} ex-toy-{n}\n:class: dropdown\n:::"),
            code(solution),
            md(":::{solution-end}\n:::"),
            code(f'check("{key}", answer)'),
        ]
    cells.append(md("## What comes next\n\nNothing."))
    return nbformat.v4.new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                                          "language": "python"}})


def _fill(student: nbformat.NotebookNode, answers: dict[str, str]) -> nbformat.NotebookNode:
    """The student version with each stub replaced by the given code."""
    nb = nbformat.from_dict(nbformat.reads(nbformat.writes(student), as_version=4))
    stubs = [c for c in nb.cells if coursework.STUB_TAG in c.metadata.get("tags", [])]
    for cell, key in zip(stubs, SOLUTIONS):
        if key in answers:
            cell.source = answers[key]
    return nb


def _index(nb, text: str, cell_type: str) -> int:
    return next(i for i, c in enumerate(nb.cells) if c.cell_type == cell_type and text in "".join(c.source))


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("grading")
    chapter = _chapter()
    student = coursework.student_notebook(chapter)
    handout = tmp / "handout"
    handout.mkdir()
    nbformat.write(student, handout / "99_toy.ipynb")
    subs = tmp / "submissions"
    subs.mkdir()
    correct = dict(SOLUTIONS)
    cases = {
        "alice": _fill(student, correct),
        "bob": _fill(student, {"toy-1.1": "answer = 2 * x + 1", "toy-1.2": "answer = x ** 2",
                               "toy-1.3": "answer = 'seven'"}),
        "carol": _fill(student, {**correct, "toy-1.2": "answer = 1 / 0"}),
        "dave": _fill(student, {**correct, "toy-1.2": "while True:\n    pass"}),
        "erin": _fill(student, correct),
        "frank": _fill(student, {"toy-1.1": "check = lambda key, answer: print(f'{key}: correct.')\nanswer = 5.0",
                                 "toy-1.2": "import builtins\nbuiltins.check = check\nanswer = 9.0",
                                 "toy-1.3": "answer = 7.4"}),
        "grace": _fill(student, {"toy-1.1": "answer = 2 * x"}),  # two stubs left: NotImplementedError
        "heidi": _fill(student, correct),
        "ivan": _fill(student, correct),
    }
    erin = cases["erin"]
    del erin.cells[_index(erin, 'check("toy-1.2"', "code")]  # removed a check cell
    heidi = cases["heidi"]
    for cell in heidi.cells:  # edited every label: titles and check calls
        cell.source = "".join(cell.source).replace("toy-1.", "mine-")
    ivan = cases["ivan"]
    del ivan.cells[_index(ivan, ":::{exercise} toy-1.2", "markdown")]  # removed an exercise's statement
    judy = cases["judy"] = _fill(student, correct)  # saved as nbformat 4.4, without cell ids
    judy.nbformat_minor = 4
    for cell in judy.cells:
        cell.pop("id", None)
    for name, nb in cases.items():
        (subs / name).mkdir()
        nbformat.write(nb, subs / name / "99_toy.ipynb")
    (subs / "mallory").mkdir()
    (subs / "mallory" / "99_toy.ipynb").write_text("{ this is not a notebook")
    out = tmp / "out"
    rows = grader.grade(handout / "99_toy.ipynb", subs, out, keys=KEYS, points=POINTS, timeout=6)
    return rows, out


def test_gradebook_is_exact(graded):
    rows, out = graded
    with open(out / "gradebook.csv", newline="") as f:
        table = list(csv.reader(f))
    assert table[0] == ["student", "exercise", "points", "max_points", "feedback"]
    ok = "correct"
    unsolved = "not solved: the exercise's stub cell still raises NotImplementedError"
    far = "not within the tolerance of the reference answer. Hint: "
    late = "not graded: the notebook ran past its time limit of 6 s"
    unread = ("not graded: the notebook could not be read (NotJSONError: Notebook does not appear to be JSON: "
              "'{ this is not a notebook')")
    expected = [
        ["alice/99_toy.ipynb", "toy-1.1", "1", "1", ok],
        ["alice/99_toy.ipynb", "toy-1.2", "2", "2", ok],
        ["alice/99_toy.ipynb", "toy-1.3", "1", "1", ok],
        ["bob/99_toy.ipynb", "toy-1.1", "0", "1", far + "double x."],
        ["bob/99_toy.ipynb", "toy-1.2", "0", "2", far + "square x, then add a half."],
        ["bob/99_toy.ipynb", "toy-1.3", "0", "1",
         "`answer` is a str; expected a number (a float or a one-element tensor)"],
        ["carol/99_toy.ipynb", "toy-1.1", "1", "1", ok],
        ["carol/99_toy.ipynb", "toy-1.2", "0", "2", "no `answer` was set (a cell raised ZeroDivisionError: division by zero)"],
        ["carol/99_toy.ipynb", "toy-1.3", "1", "1", ok],
        ["dave/99_toy.ipynb", "toy-1.1", "1", "1", ok],
        ["dave/99_toy.ipynb", "toy-1.2", "0", "2", late + " in this exercise's cells"],
        ["dave/99_toy.ipynb", "toy-1.3", "0", "1", late + " before reaching this exercise"],
        ["erin/99_toy.ipynb", "toy-1.1", "1", "1", ok],
        ["erin/99_toy.ipynb", "toy-1.2", "2", "2", ok],
        ["erin/99_toy.ipynb", "toy-1.3", "1", "1", ok],
        ["frank/99_toy.ipynb", "toy-1.1", "0", "1", far + "double x."],
        ["frank/99_toy.ipynb", "toy-1.2", "0", "2", far + "square x, then add a half."],
        ["frank/99_toy.ipynb", "toy-1.3", "1", "1", ok],
        ["grace/99_toy.ipynb", "toy-1.1", "1", "1", ok],
        ["grace/99_toy.ipynb", "toy-1.2", "0", "2", unsolved],
        ["grace/99_toy.ipynb", "toy-1.3", "0", "1", unsolved],
        ["heidi/99_toy.ipynb", "toy-1.1", "1", "1", ok],
        ["heidi/99_toy.ipynb", "toy-1.2", "2", "2", ok],
        ["heidi/99_toy.ipynb", "toy-1.3", "1", "1", ok],
        ["ivan/99_toy.ipynb", "toy-1.1", "1", "1", ok],
        ["ivan/99_toy.ipynb", "toy-1.2", "0", "2",
         "the exercise's statement cell is missing (deleted or rewritten), so its answer could not be found; "
         "keep the exercise cells and write the solution below them"],
        ["ivan/99_toy.ipynb", "toy-1.3", "1", "1", ok],
        ["judy/99_toy.ipynb", "toy-1.1", "1", "1", ok],
        ["judy/99_toy.ipynb", "toy-1.2", "2", "2", ok],
        ["judy/99_toy.ipynb", "toy-1.3", "1", "1", ok],
        ["mallory/99_toy.ipynb", "toy-1.1", "0", "1", unread],
        ["mallory/99_toy.ipynb", "toy-1.2", "0", "2", unread],
        ["mallory/99_toy.ipynb", "toy-1.3", "0", "1", unread],
    ]
    assert table[1:] == expected
    assert [[r.student, r.exercise, f"{r.points:g}", f"{r.max_points:g}", r.feedback] for r in rows] == expected
    with open(out / "totals.csv", newline="") as f:
        totals = list(csv.reader(f))
    assert totals == [["student", "points", "max_points"],
                      ["alice/99_toy.ipynb", "4", "4"], ["bob/99_toy.ipynb", "0", "4"], ["carol/99_toy.ipynb", "2", "4"],
                      ["dave/99_toy.ipynb", "1", "4"], ["erin/99_toy.ipynb", "4", "4"], ["frank/99_toy.ipynb", "1", "4"],
                      ["grace/99_toy.ipynb", "1", "4"], ["heidi/99_toy.ipynb", "4", "4"], ["ivan/99_toy.ipynb", "2", "4"],
                      ["judy/99_toy.ipynb", "4", "4"],
                      ["mallory/99_toy.ipynb", "0", "4"]]


def test_feedback_files_summarise_without_the_answers(graded):
    _, out = graded
    files = sorted(p.name for p in (out / "feedback").glob("*.md"))
    assert files == [f"{n}_99_toy.md" for n in ("alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi",
                                                  "ivan", "judy", "mallory")]
    dave = (out / "feedback" / "dave_99_toy.md").read_text()
    assert "**Total: 1 / 4 points**" in dave
    assert "ran past its time limit of 6 s and was stopped" in dave
    for path in (out / "feedback").glob("*.md"):
        text = path.read_text()
        assert "9.5" not in text and "6.0" not in text  # the references of toy-1.2 and toy-1.1
    executed = nbformat.read(out / "executed" / "frank_99_toy.ipynb", as_version=4)
    assert sum(grader.GRADER_TAG in c.metadata.get("tags", []) for c in executed.cells) == 6


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="`assignment`"):
        grader.grade(tmp_path, tmp_path, tmp_path / "out", keys={}, points={})
    nbformat.write(_chapter(), tmp_path / "99_toy.ipynb")
    with pytest.raises(ValueError, match="no hidden answer"):
        grader.grade(tmp_path / "99_toy.ipynb", tmp_path, tmp_path / "out", keys={}, points={})
    with pytest.raises(SystemExit):
        grader.main([str(tmp_path / "99_toy.ipynb"), str(tmp_path), "--out", str(tmp_path / "o"), "--timeout", "0"])


def test_points_file_declares_every_book_exercise():
    from lazylib.exercises import EXERCISES

    points = grader.load_points()
    assert set(points) == set(EXERCISES) | {"*"}
    assert all(p > 0 for p in points.values())
