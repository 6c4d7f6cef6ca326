"""Grade a class's submitted notebooks against the hidden reference answers.

Usage (from the repository root, in the book's environment)::

    python -m instructor.grade ASSIGNMENT SUBMISSIONS --out OUTDIR [--timeout 600] [--jobs 2]
                               [--points instructor/points.toml] [--workdir DIR]

``ASSIGNMENT`` is the notebook handed out (made by ``python -m lazylib.coursework student HANDOUT``;
the chapter itself works too), or a folder of them; ``SUBMISSIONS`` a folder holding the students'
filled-in notebooks (``*.ipynb``, in sub-folders or not; each is matched to the assignment whose file
name it ends with, else to the one it shares most cells with). Writes

- ``OUTDIR/gradebook.csv``: one row per student file and exercise: ``student, exercise, points,
  max_points, feedback``;
- ``OUTDIR/totals.csv``: one row per student file: ``student, points, max_points``;
- ``OUTDIR/feedback/<student file>.md``: the summary to return to the student (points, verdict and
  hint per exercise, and what went wrong in the notebook); it never contains a reference answer;
- ``OUTDIR/executed/<student file>.ipynb``: the notebook as the grader ran it, for the instructor.

How a notebook is graded. It runs in a fresh kernel (``nbclient``), cell by cell, with one time limit for
the whole notebook, counted from the kernel's start; a cell that raises does not stop the run (later
exercises are still graded). The grader inserts two cells per exercise: after the exercise's statement,
one that deletes ``answer``; right before the exercise's check cell (or, where the student deleted it,
before the next exercise's statement or at the end), one that records the value ``answer`` then holds. The
recorded value is compared with the reference from ``instructor/references.py`` (computed here, in the
grader's process, never in the student's kernel) with the exercise's tolerance
``|answer − reference| ≤ atol + rtol·|reference|`` (``lazylib.exercises``). The student's own ``check``
cells play no part: deleting them, editing their labels or replacing ``check`` or ``lazylib`` in the
notebook changes nothing in the grade. An exercise's statement is found by its cell id (so an edited
title still counts), else by its ``:::{exercise} KEY`` title; its check cell likewise by id, else as a
``check("KEY", ...)`` cell. A notebook that cannot be read, runs past
its time limit or kills its kernel gets a row per exercise saying so, and the batch goes on.
"""

from __future__ import annotations

import argparse
import copy
import csv
import dataclasses
import json
import math
import os
import pathlib
import re
import secrets
import sys
import tempfile
import time
from typing import Any

__all__ = ["Key", "Row", "load_points", "reference_keys", "grade_submission", "grade", "main"]

ROOT = pathlib.Path(__file__).resolve().parent.parent
POINTS_TOML = pathlib.Path(__file__).resolve().parent / "points.toml"
GRADER_TAG = "lazylib-grader"
_TITLE = r":::\{{exercise\}}\s*{key}(?:\s|$)"


@dataclasses.dataclass(frozen=True)
class Key:
    """The hidden answer of one exercise: the reference, its tolerance, and the hint shown when wrong."""

    value: float
    rtol: float
    atol: float
    hint: str = ""

    def accepts(self, answer: float) -> bool:
        return math.isfinite(answer) and abs(answer - self.value) <= self.atol + self.rtol * abs(self.value)


@dataclasses.dataclass(frozen=True)
class Row:
    """One line of the gradebook."""

    student: str
    exercise: str
    points: float
    max_points: float
    feedback: str


def load_points(path: str | os.PathLike | None = None) -> dict[str, float]:
    """Points per exercise from a TOML file (default ``instructor/points.toml``): ``default`` and a
    ``[points]`` table of label = points. Returns the table with the default under the key ``"*"``."""
    try:
        import tomllib
    except ImportError:  # Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]

    data = tomllib.loads(pathlib.Path(path or POINTS_TOML).read_text())
    table = {str(k): float(v) for k, v in data.get("points", {}).items()}
    table["*"] = float(data.get("default", 1))
    return table


def reference_keys(labels: list[str]) -> dict[str, Key]:
    """The hidden keys of book exercises, from ``instructor/references.py`` and ``lazylib.exercises``."""
    from lazylib.exercises import EXERCISES

    from instructor.references import reference

    return {k: Key(reference(k), EXERCISES[k].rtol, EXERCISES[k].atol, EXERCISES[k].hint) for k in labels}


# --------------------------------------------------------------------------------------------------
# Preparing and running one notebook


def _source(cell: Any) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def _assignment_exercises(nb: Any) -> list[tuple[str, str | None, str | None]]:
    """(key, statement cell id, check cell id) of the computational exercises of an assignment, in order."""
    from lazylib.coursework import find_exercises, is_proof

    return [(ex.key, nb.cells[ex.statement].get("id"), nb.cells[ex.check].get("id") if ex.check is not None else None)
            for ex in find_exercises(nb) if not is_proof(ex.key)]


def _locate(nb: Any, exercises: list[tuple[str, str | None, str | None]]) -> dict[str, tuple[int, int | None]]:
    """Where each exercise is in a submission: (statement cell, check cell or None). The statement is found
    by its cell id, else by its title; the check cell by its id, else as a ``check("KEY", ...)`` cell,
    between the statement and the next exercise's statement."""
    starts: dict[str, int] = {}
    ids = {c.get("id"): i for i, c in enumerate(nb.cells) if c.get("id")}
    for key, statement_id, _ in exercises:
        if statement_id in ids and nb.cells[ids[statement_id]].cell_type == "markdown":
            starts[key] = ids[statement_id]
            continue
        title = re.compile(_TITLE.format(key=re.escape(key)))
        for i, cell in enumerate(nb.cells):
            if cell.cell_type == "markdown" and title.search(_source(cell)) and i not in starts.values():
                starts[key] = i
                break
    bounds = sorted(starts.values()) + [len(nb.cells)]
    found: dict[str, tuple[int, int | None]] = {}
    for key, _, check_id in exercises:
        if key not in starts:
            continue
        start = starts[key]
        end = bounds[bounds.index(start) + 1]
        call = re.compile(rf"""^\s*check\(\s*["']{re.escape(key)}["']""")
        check = next((i for i in range(start + 1, end) if nb.cells[i].cell_type == "code"
                      and ((check_id is not None and nb.cells[i].get("id") == check_id) or call.match(_source(nb.cells[i])))),
                     None)
        found[key] = (start, check)
    return found


def _reset_cell(key: str) -> Any:
    import nbformat

    cell = nbformat.v4.new_code_cell(f"# Added by the grader: exercise {key} starts with no `answer`.\n"
                                     "globals().pop('answer', None)")
    cell.metadata["tags"] = [GRADER_TAG]
    return cell


_RECORDER = '''# Added by the grader: records the value of `answer` for exercise {key}.
def _lazylib_grader_record(key, nonce):
    import json, numbers, sys
    record = {{"key": key}}
    if "answer" not in globals():
        record["status"] = "missing"
    else:
        a = globals()["answer"]
        try:
            if hasattr(a, "numel") and hasattr(a, "detach"):
                a = a.detach().cpu().item() if a.numel() == 1 else a
            elif hasattr(a, "size") and hasattr(a, "item") and hasattr(a, "dtype") and a.size == 1:
                a = a.item()
        except Exception:
            pass
        if isinstance(a, bool) or not isinstance(a, numbers.Real):
            shape = getattr(a, "shape", None)
            record.update(status="type", detail=type(a).__name__ + (f" of shape {{tuple(shape)}}" if shape is not None else ""))
        else:
            record.update(status="value", value=float(a).hex())
    sys.stdout.write(nonce + json.dumps(record) + "\\n")
    sys.stdout.flush()
_lazylib_grader_record({key!r}, {nonce!r})
del _lazylib_grader_record'''


def _recorder_cell(key: str, nonce: str) -> Any:
    import nbformat

    cell = nbformat.v4.new_code_cell(_RECORDER.format(key=key, nonce=nonce))
    cell.metadata["tags"] = [GRADER_TAG]
    return cell


def _instrument(nb: Any, located: dict[str, tuple[int, int | None]], nonce: str
                ) -> tuple[Any, dict[int, str | None], dict[int, str]]:
    """The notebook to run: after each located exercise's statement a cell that deletes ``answer``, and a
    recorder cell right before its check cell (or, without one, before the next exercise's statement or
    at the end). Returns it, the region (exercise key, or None before the first exercise) of each of its
    cells, and the indices of the recorder cells."""
    starts = {start: key for key, (start, _) in located.items()}
    bounds = sorted(starts) + [len(nb.cells)]
    record_at: dict[int, list[str]] = {}
    for key, (start, check) in located.items():
        at = check if check is not None else bounds[bounds.index(start) + 1]
        record_at.setdefault(at, []).append(key)
    cells, region, recorders = [], {}, {}
    current: str | None = None
    for i in range(len(nb.cells) + 1):
        for key in record_at.get(i, []):
            recorders[len(cells)] = key
            region[len(cells)] = key
            cells.append(_recorder_cell(key, nonce))
        if i == len(nb.cells):
            break
        if i in starts:
            current = starts[i]
            region[len(cells)] = current
            cells.append(nb.cells[i])
            region[len(cells)] = current
            cells.append(_reset_cell(current))
            continue
        region[len(cells)] = current
        cells.append(nb.cells[i])
    out = copy.deepcopy(nb)
    out.cells = cells
    if out.get("nbformat_minor", 5) < 5:  # cell ids exist from nbformat 4.5 on
        for cell in out.cells:
            cell.pop("id", None)
    return out, region, recorders


def _error_text(outputs: list[Any]) -> str | None:
    for o in outputs:
        if o.get("output_type") == "error":
            value = str(o.get("evalue", "")).strip().splitlines()
            return f"{o.get('ename')}: {value[0] if value else ''}".strip().rstrip(":")
    return None


def _record(outputs: list[Any], nonce: str) -> dict[str, Any] | None:
    for o in outputs:
        if o.get("output_type") == "stream":
            for line in o.get("text", "").splitlines():
                if line.startswith(nonce):
                    try:
                        return json.loads(line[len(nonce):])
                    except ValueError:
                        return None
    return None


@dataclasses.dataclass
class _Run:
    records: dict[str, dict[str, Any]]
    errors: dict[str | None, str]  # first error per region
    stopped: str | None  # why the run stopped early, if it did
    stopped_in: str | None  # the region it stopped in


def _execute(nb: Any, region: dict[int, str | None], recorders: dict[int, str], nonce: str, *,
             timeout: float, workdir: pathlib.Path) -> _Run:
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    run = _Run({}, {}, None, None)
    client = NotebookClient(nb, timeout=max(1, math.ceil(timeout)), kernel_name="python3", allow_errors=True,
                            shutdown_kernel="immediate", interrupt_on_timeout=False,
                            resources={"metadata": {"path": str(workdir)}})
    try:
        with client.setup_kernel():
            deadline = time.monotonic() + timeout  # the limit counts from a started kernel
            for i, cell in enumerate(nb.cells):
                if cell.cell_type != "code":
                    continue
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    run.stopped, run.stopped_in = "time", region.get(i)
                    break
                client.timeout = max(1, math.ceil(remaining))
                try:
                    client.execute_cell(cell, i)
                except CellTimeoutError:
                    run.stopped, run.stopped_in = "time", region.get(i)
                    break
                except DeadKernelError:
                    run.stopped, run.stopped_in = "died", region.get(i)
                    break
                if i in recorders:
                    rec = _record(cell.outputs, nonce)
                    if rec is None:
                        err = _error_text(cell.outputs) or "no record was written"
                        rec = {"key": recorders[i], "status": "unrecorded", "detail": err}
                    run.records[recorders[i]] = rec
                    continue
                err = _error_text(cell.outputs)
                if err and region.get(i) not in run.errors:
                    run.errors[region.get(i)] = f"cell {i + 1}: {err}" if region.get(i) is None else err
    except (CellTimeoutError, DeadKernelError) as exc:  # pragma: no cover - raised while starting or stopping
        run.stopped = run.stopped or ("time" if isinstance(exc, CellTimeoutError) else "died")
    except Exception as exc:  # the kernel could not start, or nbclient failed: say so, go on with the batch
        run.stopped = run.stopped or f"error: {type(exc).__name__}: {exc}"
    return run


# --------------------------------------------------------------------------------------------------
# Scoring


def _verdict(key: str, rec: dict[str, Any] | None, run: _Run, located: bool, hidden: Key, timeout: float
             ) -> tuple[bool, str]:
    if not located:
        return False, ("the exercise's statement cell is missing (deleted or rewritten), so its answer could not "
                       "be found; keep the exercise cells and write the solution below them")
    if rec is None:
        if run.stopped == "time":
            where = "in this exercise's cells" if run.stopped_in == key else "before reaching this exercise"
            return False, f"not graded: the notebook ran past its time limit of {timeout:g} s {where}"
        if run.stopped == "died":
            where = "in this exercise's cells" if run.stopped_in == key else "before reaching this exercise"
            return False, f"not graded: the kernel died {where} (for instance out of memory, or the code exited)"
        return False, f"not graded: the notebook could not be run ({run.stopped or 'no record'})"
    err = run.errors.get(key)
    status = rec.get("status")
    if status == "missing":
        if err and err.startswith("NotImplementedError"):
            return False, "not solved: the exercise's stub cell still raises NotImplementedError"
        return False, "no `answer` was set" + (f" (a cell raised {err})" if err else "")
    if status == "unrecorded":
        return False, f"the value of `answer` could not be recorded ({rec.get('detail')})"
    if status == "type":
        return False, f"`answer` is a {rec.get('detail')}; expected a number (a float or a one-element tensor)"
    value = float.fromhex(rec["value"])
    if not math.isfinite(value):
        return False, "`answer` is NaN or infinite; expected a finite number"
    if hidden.accepts(value):
        return True, "correct"
    return False, "not within the tolerance of the reference answer" + (f". Hint: {hidden.hint}" if hidden.hint else "")


def grade_submission(student: str, path: pathlib.Path, assignment: Any, keys: dict[str, Key],
                     points: dict[str, float], *, timeout: float = 600.0, workdir: pathlib.Path | None = None,
                     executed: pathlib.Path | None = None) -> tuple[list[Row], list[str]]:
    """Grade one submitted notebook: its gradebook rows and notebook-level notes for the student."""
    import nbformat

    exercises = _assignment_exercises(assignment)
    worth = {k: points.get(k, points.get("*", 1.0)) for k, _, _ in exercises}
    try:
        nb = nbformat.read(path, as_version=4)  # a notebook that is not fully valid still runs, as in Jupyter
        if not isinstance(nb.get("cells"), list):
            raise ValueError("it has no list of cells")
    except Exception as exc:
        reason = f"the notebook could not be read ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})"
        return [Row(student, k, 0.0, worth[k], f"not graded: {reason}") for k, _, _ in exercises], [reason]
    located = _locate(nb, exercises)
    nonce = "@@lazylib-grader-" + secrets.token_hex(8) + "@@"
    run_nb, region, recorders = _instrument(nb, located, nonce)
    with tempfile.TemporaryDirectory(prefix="lazylib-grade-") as scratch:
        run = _execute(run_nb, region, recorders, nonce, timeout=timeout, workdir=workdir or pathlib.Path(scratch))
    if executed is not None:
        executed.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(run_nb, executed)
    notes = []
    if run.stopped == "time":
        notes.append(f"The notebook ran past its time limit of {timeout:g} s and was stopped.")
    elif run.stopped == "died":
        notes.append("The kernel died while running the notebook.")
    elif run.stopped:
        notes.append(f"The notebook could not be run: {run.stopped}.")
    if None in run.errors:
        notes.append(f"A cell before the exercises raised an error ({run.errors[None]}); later cells may depend on it.")
    rows = []
    for key, _, _ in exercises:
        ok, feedback = _verdict(key, run.records.get(key), run, key in located, keys[key], timeout)
        rows.append(Row(student, key, worth[key] if ok else 0.0, worth[key], feedback))
    return rows, notes


def _match(path: pathlib.Path, assignments: dict[str, Any]) -> str | None:
    """The assignment a submission answers: the one whose file name it ends with, else the one it shares
    most cell ids with."""
    for name in sorted(assignments, key=len, reverse=True):
        if path.name.endswith(name):
            return name
    try:
        import nbformat

        ids = {c.get("id") for c in nbformat.read(path, as_version=4).cells}
    except Exception:
        return next(iter(assignments)) if len(assignments) == 1 else None
    best = max(assignments, key=lambda n: len(ids & {c.get("id") for c in assignments[n].cells}))
    return best if ids & {c.get("id") for c in assignments[best].cells} else None


def _safe(student: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", student.removesuffix(".ipynb")).strip("_") or "notebook"


def _write_feedback(path: pathlib.Path, student: str, assignment: str, rows: list[Row], notes: list[str]) -> None:
    got, total = sum(r.points for r in rows), sum(r.max_points for r in rows)
    lines = [f"# Feedback on {student}", "", f"Assignment: {assignment}", "",
             f"**Total: {got:g} / {total:g} points**", ""]
    if notes:
        lines += [f"- {n}" for n in notes] + [""]
    lines += ["| exercise | points | feedback |", "| --- | --- | --- |"]
    lines += [f"| {r.exercise} | {r.points:g} / {r.max_points:g} | {r.feedback.replace('|', '/')} |" for r in rows]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")


def _grade_one(args: tuple) -> tuple[str, str, list[Row], list[str]]:
    student, path, name, assignment, keys, points, timeout, workdir, executed = args
    rows, notes = grade_submission(student, path, assignment, keys, points, timeout=timeout, workdir=workdir,
                                   executed=executed)
    return student, name, rows, notes


def grade(assignment: str | os.PathLike, submissions: str | os.PathLike, outdir: str | os.PathLike, *,
          keys: dict[str, Key] | None = None, points: dict[str, float] | None = None, timeout: float = 600.0,
          workdir: str | os.PathLike | None = None, jobs: int = 1) -> list[Row]:
    """Grade every ``*.ipynb`` under ``submissions``; write the gradebook, totals and feedback to ``outdir``.

    ``keys`` default to the book's hidden references (``reference_keys``); ``points`` to
    ``instructor/points.toml``. Returns the gradebook rows.
    """
    import nbformat

    os.environ.setdefault("LAZYLIB_PROGRESS", "0")
    os.environ.setdefault("LAZYLIB_WIDGETS", "static")
    os.environ.setdefault("MPLBACKEND", "Agg")
    assignment, submissions, outdir = pathlib.Path(assignment), pathlib.Path(submissions), pathlib.Path(outdir)
    files = [assignment] if assignment.is_file() else sorted(assignment.glob("*.ipynb"))
    if not files:
        raise ValueError(f"`assignment` must be a notebook or a folder of notebooks; got {str(assignment)!r}.")
    handouts = {p.name: nbformat.read(p, as_version=4) for p in files}
    labels = [k for nb in handouts.values() for k, _, _ in _assignment_exercises(nb)]
    if keys is None:
        keys = reference_keys(labels)
    missing = [k for k in labels if k not in keys]
    if missing:
        raise ValueError(f"no hidden answer for exercise(s) {missing}; register them in instructor/references.py.")
    points = load_points() if points is None else points
    subs = sorted(p for p in submissions.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
    outdir.mkdir(parents=True, exist_ok=True)
    tasks, unmatched = [], []
    for path in subs:
        student = path.relative_to(submissions).as_posix()
        name = _match(path, handouts)
        if name is None:
            unmatched.append(student)
            continue
        executed = outdir / "executed" / f"{_safe(student)}.ipynb"
        tasks.append((student, path, name, handouts[name], keys, points, timeout,
                      pathlib.Path(workdir) if workdir else None, executed))
    if jobs > 1:
        import concurrent.futures
        import multiprocessing

        with concurrent.futures.ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
            results = list(pool.map(_grade_one, tasks))
    else:
        results = [_grade_one(t) for t in tasks]
    rows: list[Row] = []
    totals = []
    for student, name, student_rows, notes in results:
        rows += student_rows
        totals.append((student, sum(r.points for r in student_rows), sum(r.max_points for r in student_rows)))
        _write_feedback(outdir / "feedback" / f"{_safe(student)}.md", student, name, student_rows, notes)
    for student in unmatched:
        rows.append(Row(student, "", 0.0, 0.0, "not graded: this notebook matches no assignment"))
        totals.append((student, 0.0, 0.0))
    with open(outdir / "gradebook.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["student", "exercise", "points", "max_points", "feedback"])
        w.writerows([r.student, r.exercise, f"{r.points:g}", f"{r.max_points:g}", r.feedback] for r in rows)
    with open(outdir / "totals.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["student", "points", "max_points"])
        w.writerows([s, f"{p:g}", f"{m:g}"] for s, p, m in totals)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m instructor.grade", description=__doc__.split("\n\n")[0])
    parser.add_argument("assignment", help="the handed-out notebook (or a folder of them)")
    parser.add_argument("submissions", help="folder of submitted notebooks (searched recursively)")
    parser.add_argument("--out", required=True, help="folder for gradebook.csv, totals.csv, feedback/ and executed/")
    parser.add_argument("--timeout", type=float, default=600.0, help="time limit per notebook, in seconds (default 600)")
    parser.add_argument("--points", default=None, help="points file (default instructor/points.toml)")
    parser.add_argument("--workdir", default=None,
                        help="working directory of the kernels (default: a fresh empty folder per notebook)")
    parser.add_argument("--jobs", type=int, default=1, help="notebooks graded at the same time (default 1)")
    args = parser.parse_args(argv)
    if args.timeout <= 0:
        parser.error(f"`--timeout` must be a positive number of seconds; got {args.timeout}.")
    if args.jobs < 1:
        parser.error(f"`--jobs` must be at least 1; got {args.jobs}.")
    try:
        rows = grade(args.assignment, args.submissions, args.out, points=load_points(args.points),
                     timeout=args.timeout, workdir=args.workdir, jobs=args.jobs)
    except ValueError as err:
        parser.error(str(err))
    students = sorted({r.student for r in rows})
    print(f"graded {len(students)} notebook(s): {args.out}/gradebook.csv, {args.out}/totals.csv, {args.out}/feedback/")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
