"""Coursework from the book's chapters: student notebooks, and a check that every solution passes.

Usage (from the repository root)::

    python -m lazylib.coursework student OUTDIR   # student notebooks: solutions removed, stubs in place
    python -m lazylib.coursework check            # run every exercise's reference solution through its check
    python -m lazylib.coursework sync-install-cells   # rewrite every chapter's Colab install cell
    python -m lazylib.coursework release X.Y.Z     # set the version, sync install cells, commit, tag vX.Y.Z

Exercises follow the book's pattern (CONTRIBUTING.md): an ``exercise`` block titled with its check
label, a hidden solution between ``solution-start`` and ``solution-end`` markers (Markdown and code
cells), and a visible ``check("KEY", answer)`` cell after it. The student version replaces each
solution by one code cell that raises ``NotImplementedError`` naming the exercise, and clears every
output, so nothing of the solution is left.

Proof exercises (their title key starts with ``proof-``, e.g. ``proof-8.1``) ask for a written
argument: their hidden solution is Markdown only and they have no ``check`` cell; the student version
replaces the solution by a Markdown cell in which to write the proof.
"""

from __future__ import annotations

import argparse
import copy
import os
import pathlib
import re
import sys
from dataclasses import dataclass
from typing import Any

__all__ = ["ExerciseCells", "is_proof", "find_exercises", "student_notebook", "install_cell_source",
           "repository_url", "check_chapter", "release", "main"]

_EXERCISE = re.compile(r":::\{exercise\}\s*(?P<key>\S+)?[^\n]*\n(?::[^\n]*\n)*?:label:\s*(?P<label>\S+)")
_SOL_START = re.compile(r":::\{solution-start\}\s*(?P<label>\S+)")
_SOL_END = re.compile(r":::\{solution-end\}")
_SOL_BLOCK = re.compile(r"(?ms)^(?P<fence>:{3,})\{solution\}.*?^(?P=fence)\s*$\n?")
_CHECK = re.compile(r"""^\s*check\(\s*["'](?P<key>[^"']+)["']""")
STUB_TAG = "exercise-stub"
PROOF_PREFIX = "proof-"


def is_proof(key: str) -> bool:
    """Whether an exercise key names a written (proof) exercise, which has no computed answer."""
    return key.startswith(PROOF_PREFIX)


def install_cell_source(url: str, version: str) -> str:
    """The first code cell of every chapter: install lazylib on Colab, only when it is missing."""
    return (
        "# Makes the chapter runnable on Colab: installs lazylib (at the book's version) only when it is missing.\n"
        "try:\n"
        "    import lazylib  # noqa: F401\n"
        "except ImportError:\n"
        f'    %pip install --quiet "lazylib[data,widgets] @ git+{url}@v{version}"'
    )


def repository_url(root: pathlib.Path) -> str:
    """The repository URL, kept in one place: ``repository.url`` of the book's ``_config.yml``."""
    import yaml

    config = yaml.safe_load((pathlib.Path(root) / "_config.yml").read_text())
    return str(config["repository"]["url"]).rstrip("/")


@dataclass
class ExerciseCells:
    """Where one exercise lives in a notebook."""

    key: str
    label: str
    statement: int
    solution: tuple[int, int] | None  # indices of the solution-start and solution-end cells
    check: int | None


def _source(cell: Any) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def find_exercises(nb: Any) -> list[ExerciseCells]:
    """The exercises of a notebook with the indices of their cells, in order.

    Raises
    ------
    ValueError
        When a solution block is not closed, names an unknown exercise, or an exercise has no title key.
    """
    found: dict[str, ExerciseCells] = {}
    by_key: dict[str, ExerciseCells] = {}
    open_start: tuple[str, int] | None = None
    for i, cell in enumerate(nb.cells):
        text = _source(cell)
        if cell.cell_type == "markdown":
            for mt in _EXERCISE.finditer(text):
                if not mt.group("key"):
                    raise ValueError(f"cell {i}: exercise {mt.group('label')} has no check label in its title.")
                ex = ExerciseCells(mt.group("key"), mt.group("label"), i, None, None)
                found[ex.label], by_key[ex.key] = ex, ex
            ms = _SOL_START.search(text)
            if ms:
                if open_start is not None:
                    raise ValueError(f"cell {i}: solution-start inside the open solution of {open_start[0]}.")
                if ms.group("label") not in found:
                    raise ValueError(f"cell {i}: solution-start for unknown exercise {ms.group('label')}.")
                open_start = (ms.group("label"), i)
            if _SOL_END.search(text):
                if open_start is None:
                    raise ValueError(f"cell {i}: solution-end without solution-start.")
                found[open_start[0]].solution = (open_start[1], i)
                open_start = None
        elif cell.cell_type == "code" and open_start is None:
            mc = _CHECK.match(text)
            if mc and mc.group("key") in by_key:
                by_key[mc.group("key")].check = i
    if open_start is not None:
        raise ValueError(f"the solution of {open_start[0]} is never closed (no solution-end).")
    return list(found.values())


def _stub(key: str) -> str:
    return (
        f"# Exercise {key}: write your solution here and store the result in `answer`.\n"
        f'raise NotImplementedError("Exercise {key} is not solved yet: replace this cell with your solution.")'
    )


def student_notebook(nb: Any) -> Any:
    """A copy of ``nb`` for students: every solution replaced by a stub cell, every output cleared."""
    import nbformat

    exercises = find_exercises(nb)
    starts = {ex.solution[0]: ex for ex in exercises if ex.solution}
    ends = {ex.solution[1] for ex in exercises if ex.solution}
    out = copy.deepcopy(nb)
    cells = []
    skipping = False
    for i, cell in enumerate(nb.cells):
        if i in starts:
            key = starts[i].key
            stub = (nbformat.v4.new_markdown_cell(f"*Exercise {key}: write your proof here.*")
                    if is_proof(key) else nbformat.v4.new_code_cell(_stub(key)))
            stub.metadata["tags"] = [STUB_TAG]
            cells.append(stub)
            skipping = True
            continue
        if skipping:
            skipping = i not in ends
            continue
        cell = copy.deepcopy(cell)
        if cell.cell_type == "markdown":
            text = _SOL_BLOCK.sub("", _source(cell))
            if not text.strip():
                continue
            cell.source = text
        elif cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        cells.append(cell)
    out.cells = cells
    out.metadata.setdefault("lazylib", {})["student"] = True
    return out


def _text_of(outputs: list[Any]) -> str:
    parts = []
    for o in outputs:
        if o.get("output_type") == "stream":
            parts.append(o.get("text", ""))
        elif "data" in o:
            parts.append(str(o["data"].get("text/plain", "")))
        elif o.get("output_type") == "error":
            parts.append(f"{o.get('ename')}: {o.get('evalue')}")
    return "".join(parts)


def check_chapter(path: pathlib.Path, *, timeout: int = 900) -> list[str]:
    """Execute a chapter cell by cell; at each exercise first run the student's stub (it must raise
    ``NotImplementedError``: the student notebook runs up to there), then the reference solution, then
    the check, which must answer "correct". Returns one line per exercise; raises ``AssertionError``
    with the reason on the first failure.
    """
    import nbformat
    from nbclient import NotebookClient

    from . import exercises as registry

    nb = nbformat.read(path, as_version=4)
    found = find_exercises(nb)
    chapter = pathlib.Path(path).stem
    expected = {label for label, ex in registry.EXERCISES.items() if ex.chapter == chapter}
    keys = {ex.key for ex in found if not is_proof(ex.key)}
    if expected != keys:
        raise AssertionError(f"{chapter}: exercises in the notebook {sorted(keys)} differ from the registry {sorted(expected)}.")
    report = []
    for ex in found:
        if is_proof(ex.key):
            if ex.solution is None or ex.check is not None:
                raise AssertionError(f"{chapter}: proof exercise {ex.key} needs a hidden solution and no check cell.")
            cells = nb.cells[ex.solution[0]:ex.solution[1] + 1]
            if any(c.cell_type != "markdown" for c in cells):
                raise AssertionError(f"{chapter}: the solution of proof exercise {ex.key} must be Markdown only.")
            report.append(f"{chapter}: {ex.key} is a proof exercise with a written, hidden solution")
        elif ex.solution is None or ex.check is None:
            raise AssertionError(f"{chapter}: exercise {ex.key} needs a hidden solution and a check cell after it.")
    starts = {ex.solution[0]: ex for ex in found if ex.solution and not is_proof(ex.key)}
    checks = {ex.check: ex for ex in found if ex.check is not None}
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(pathlib.Path(path).parent)}})
    with client.setup_kernel():
        for i, cell in enumerate(nb.cells):
            if i in starts:
                stub = nbformat.v4.new_code_cell(_stub(starts[i].key))
                client.execute_cell(stub, i)
                got = _text_of(stub.outputs)
                if not got.startswith("NotImplementedError"):
                    raise AssertionError(f"{chapter}: the student stub of {starts[i].key} did not raise NotImplementedError: {got!r}")
            if cell.cell_type != "code":
                continue
            client.execute_cell(cell, i)
            errors = [o for o in cell.outputs if o.get("output_type") == "error"]
            if errors:
                raise AssertionError(f"{chapter}: cell {i} failed: {_text_of(errors)}")
            if i in checks:
                verdict = _text_of(cell.outputs).strip()
                key = checks[i].key
                if not verdict.startswith(f"{key}: correct."):
                    raise AssertionError(f"{chapter}: the reference solution of {key} fails its check: {verdict!r}")
                report.append(f"{chapter}: {key} correct (student stub raises NotImplementedError)")
    return report


def _chapters(book: pathlib.Path, names: list[str]) -> list[pathlib.Path]:
    if names:
        return [pathlib.Path(n) for n in names]
    return sorted(p for p in book.glob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)


def _sync_install_cells(root: pathlib.Path, book: pathlib.Path, version: str, *, report: bool = True) -> int:
    """Write the install cell of ``version`` into every chapter whose first code cell differs; the count."""
    import nbformat

    cell_source = install_cell_source(repository_url(root), version)
    changed = 0
    for path in _chapters(book, []):
        nb = nbformat.read(path, as_version=4)
        first = next(c for c in nb.cells if c.cell_type == "code")
        if _source(first) != cell_source:
            first.source = cell_source
            nbformat.write(nb, path)
            changed += 1
            if report:
                print(f"updated the install cell of {path}")
    return changed


def _version_tuple(version: str) -> tuple[int, int, int]:
    match = re.fullmatch(r"(\d+)\.(\d+)\.(\d+)", version)
    if match is None:
        raise ValueError(f"`version` must be X.Y.Z (three integers); got {version!r}.")
    return tuple(int(g) for g in match.groups())  # type: ignore[return-value]


def release(root: pathlib.Path, version: str) -> str:
    """Release ``version``: write it into ``lazylib/__init__.py``, sync every chapter's install cell,
    commit "Release vX.Y.Z" and create the annotated tag ``vX.Y.Z`` (the tag the install cells pin).

    Refuses a dirty working tree, a version that is not newer than the current one, and an existing tag.
    Returns the tag's name.
    """
    import subprocess

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True).stdout

    new = _version_tuple(version)
    init = root / "lazylib" / "__init__.py"
    text = init.read_text()
    current = re.search(r'^__version__ = "([^"]+)"$', text, flags=re.M)
    if current is None:
        raise ValueError(f"{init} must declare `__version__ = \"X.Y.Z\"`; none found.")
    if new <= _version_tuple(current.group(1)):
        raise ValueError(f"`version` must be newer than the current {current.group(1)}; got {version!r}.")
    if git("status", "--porcelain", "--untracked-files=no").strip():
        raise ValueError("the working tree must be clean (commit or stash first); `git status` lists changes.")
    tag = f"v{version}"
    if git("tag", "--list", tag).strip():
        raise ValueError(f"the tag {tag} must not exist yet; it does.")
    init.write_text(text[: current.start(1)] + version + text[current.end(1) :])
    book = root / "book"
    _sync_install_cells(root, book, version, report=False)
    git("add", "lazylib/__init__.py", *(str(p.relative_to(root)) for p in _chapters(book, [])))
    git("commit", "-q", "-m", f"Release {tag}")
    git("tag", "-a", tag, "-m", f"Release {tag}")
    return tag


def main(argv: list[str] | None = None) -> int:
    """Command line: ``student OUTDIR``, ``check [CHAPTER ...]``, ``sync-install-cells``, ``release X.Y.Z``."""
    import nbformat

    parser = argparse.ArgumentParser(prog="python -m lazylib.coursework", description=__doc__.split("\n\n")[0])
    parser.add_argument("--book", default="book", help="folder holding the chapters (default: book)")
    sub = parser.add_subparsers(dest="command", required=True)
    p_student = sub.add_parser("student", help="write student notebooks (solutions removed) to OUTDIR")
    p_student.add_argument("outdir")
    p_check = sub.add_parser("check", help="run every exercise's reference solution through its check")
    p_check.add_argument("chapters", nargs="*")
    sub.add_parser("sync-install-cells", help="rewrite every chapter's install cell from _config.yml")
    p_release = sub.add_parser("release", help="set the version, sync install cells, commit and tag vX.Y.Z")
    p_release.add_argument("version", help="the new version, X.Y.Z, newer than the current one")
    args = parser.parse_args(argv)
    book = pathlib.Path(args.book)
    if not book.is_dir():
        parser.error(f"`--book` must be a folder of chapters; got {str(book)!r}, which is not a folder.")

    if args.command == "student":
        outdir = pathlib.Path(args.outdir)
        outdir.mkdir(parents=True, exist_ok=True)
        for path in _chapters(book, []):
            nb = student_notebook(nbformat.read(path, as_version=4))
            nbformat.write(nb, outdir / path.name)
            n = sum(1 for c in nb.cells if STUB_TAG in c.metadata.get("tags", []))
            print(f"{outdir / path.name}: {n} exercise(s) to solve")
        return 0
    if args.command == "check":
        os.environ.setdefault("LAZYLIB_PROGRESS", "0")
        os.environ.setdefault("LAZYLIB_WIDGETS", "static")
        os.environ["MPLBACKEND"] = "Agg"
        total = 0
        for path in _chapters(book, args.chapters):
            for line in check_chapter(path):
                print(line, flush=True)
                total += 1
        print(f"{total} exercise(s): every reference solution passes its check")
        return 0
    root = book.resolve().parent
    if args.command == "release":
        try:
            tag = release(root, args.version)
        except ValueError as err:
            parser.error(str(err))
        print(f"committed 'Release {tag}' and tagged {tag}; push with `git push origin main {tag}`")
        return 0
    from . import __version__

    changed = _sync_install_cells(root, book, __version__)
    print(f"{changed} chapter(s) updated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
