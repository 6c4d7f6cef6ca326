"""Coursework: student notebooks, the Colab install cell, and the launch settings."""

from __future__ import annotations

import pathlib

import nbformat
import pytest
import yaml

import lazylib
from lazylib import coursework

ROOT = pathlib.Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "book").glob("*.ipynb"))
# Chapters proper (NN_name): they end with exercises; other pages (the proof map) have none.
NUMBERED = [p for p in CHAPTERS if p.name[:2].isdigit()]


def _synthetic() -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("x = 1", outputs=[nbformat.v4.new_output("stream", text="1\n")]),
        nbformat.v4.new_markdown_cell(":::{exercise} demo-1.1\n:label: ex-demo\n:nonumber:\n\nCompute.\n:::"),
        nbformat.v4.new_markdown_cell(":::{solution-start} ex-demo\n:class: dropdown\n:::\n\nSECRET REASONING"),
        nbformat.v4.new_code_cell("answer = 42  # SECRET CODE"),
        nbformat.v4.new_markdown_cell(":::{solution-end}\n:::"),
        nbformat.v4.new_code_cell('check("demo-1.1", answer)'),
        nbformat.v4.new_markdown_cell("Text.\n\n:::{solution} ex-demo\n:class: dropdown\nINLINE SECRET\n:::\nMore text."),
    ]
    return nb


def test_find_exercises_locates_statement_solution_and_check():
    (ex,) = coursework.find_exercises(_synthetic())
    assert (ex.key, ex.label, ex.statement, ex.solution, ex.check) == ("demo-1.1", "ex-demo", 1, (2, 4), 5)


def test_student_notebook_removes_every_solution_and_output():
    nb = _synthetic()
    student = coursework.student_notebook(nb)
    text = "\n".join(c.source for c in student.cells)
    assert "SECRET" not in text
    assert "More text." in text and 'check("demo-1.1", answer)' in text
    stubs = [c for c in student.cells if coursework.STUB_TAG in c.metadata.get("tags", [])]
    assert len(stubs) == 1 and 'NotImplementedError("Exercise demo-1.1' in stubs[0].source
    assert all(not c.get("outputs") for c in student.cells if c.cell_type == "code")
    assert nb.cells[3].source == "answer = 42  # SECRET CODE"  # the input is left untouched


@pytest.mark.parametrize(
    "cells, match",
    [
        ([":::{solution-start} ex-nowhere\n:::"], "unknown exercise"),
        ([":::{exercise} k-1.1\n:label: ex-a\n:::", ":::{solution-start} ex-a\n:::"], "never closed"),
        ([":::{solution-end}\n:::"], "without solution-start"),
        ([":::{exercise}\n:label: ex-b\n:::"], "no check label"),
    ],
)
def test_find_exercises_rejects_malformed_notebooks(cells, match):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(c) for c in cells]
    with pytest.raises(ValueError, match=match):
        coursework.find_exercises(nb)


@pytest.mark.parametrize("path", NUMBERED, ids=lambda p: p.stem)
def test_student_version_of_each_chapter_has_no_solution(path):
    nb = nbformat.read(path, as_version=4)
    found = coursework.find_exercises(nb)
    assert len(found) >= 3, "every chapter has at least three exercises"
    student = coursework.student_notebook(nb)
    student_sources = {c.source for c in student.cells}
    for ex in found:
        assert ex.solution is not None, ex.key
        assert (ex.check is None) if coursework.is_proof(ex.key) else (ex.check is not None), ex.key
        start, end = ex.solution
        for cell in nb.cells[start:end + 1]:
            assert cell.source not in student_sources, f"{ex.key}: solution cell left in the student notebook"
    n_stubs = sum(coursework.STUB_TAG in c.metadata.get("tags", []) for c in student.cells)
    assert n_stubs == len(found)


@pytest.mark.parametrize("path", NUMBERED, ids=lambda p: p.stem)
def test_every_exercise_is_registered_with_a_check(path):
    keys = {ex.key for ex in coursework.find_exercises(nbformat.read(path, as_version=4))
            if not coursework.is_proof(ex.key)}
    registered = {k for k, ex in lazylib.exercises.EXERCISES.items() if ex.chapter == path.stem}
    assert keys == registered


def test_student_command_writes_every_chapter(tmp_path):
    assert coursework.main(["--book", str(ROOT / "book"), "student", str(tmp_path)]) == 0
    written = sorted(p.name for p in tmp_path.glob("*.ipynb"))
    assert written == [p.name for p in CHAPTERS]


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_first_code_cell_is_the_install_cell(path):
    nb = nbformat.read(path, as_version=4)
    first = next(c for c in nb.cells if c.cell_type == "code")
    expected = coursework.install_cell_source(coursework.repository_url(ROOT), lazylib.__version__)
    assert first.source == expected, "run `python -m lazylib.coursework sync-install-cells`"
    assert not first.outputs, "the install cell prints nothing where lazylib is installed"
    assert f"@v{lazylib.__version__}\"" in first.source, "the install cell pins the tag v + lazylib.__version__"


def test_the_pinned_tag_declares_the_same_version():
    """The tag every install cell pins (v + __version__) exists and its tree declares that version."""
    import shutil
    import subprocess

    tag = f"v{lazylib.__version__}"
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip(f"not a git checkout: cannot check that the tag {tag} exists")
    listed = subprocess.run(["git", "tag", "--list", tag], cwd=ROOT, capture_output=True, text=True).stdout
    if not listed.strip():
        pytest.skip(f"the tag {tag} pinned by the install cells is absent from this checkout "
                    f"(make it with `python -m lazylib.coursework release X.Y.Z`, or fetch tags)")
    init = subprocess.run(["git", "show", f"{tag}:lazylib/__init__.py"], cwd=ROOT, capture_output=True,
                          text=True, check=True).stdout
    assert f'__version__ = "{lazylib.__version__}"' in init, f"the tag {tag} declares another version"


def test_launch_settings_agree_with_the_notebooks():
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    launch = config["launch_buttons"]
    assert launch["binderhub_url"].startswith("https://") and launch["colab_url"].startswith("https://")
    repo = config["repository"]
    assert repo["url"].startswith("https://github.com/")
    assert repo["branch"] == "main"
    # Colab opens notebooks from GitHub by path: every chapter in the table of contents is an .ipynb.
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [ch["file"] for part in toc["parts"] for ch in part["chapters"]]
    chapters = [f for f in files if (ROOT / f"{f}.ipynb").exists()]
    assert sorted(f"{f}.ipynb" for f in chapters) == sorted(str(p.relative_to(ROOT)) for p in CHAPTERS)
    # Binder builds its environment from requirements.txt, which installs lazylib from the checkout.
    requirements = (ROOT / "requirements.txt").read_text().split()
    assert "-e" in requirements and "." in requirements
    assert (ROOT / "runtime.txt").read_text().strip() == "python-3.11"


def test_repository_url_lives_only_in_the_config():
    url = coursework.repository_url(ROOT)
    tracked = [p for p in ROOT.rglob("*") if p.is_file() and p.suffix in {".py", ".md", ".toml", ".txt", ".yml", ".sh"}
               and not any(part in {".venv", "_build", ".git", "node_modules"} for part in p.parts)]
    holders = sorted(str(p.relative_to(ROOT)) for p in tracked if url in p.read_text(errors="ignore"))
    assert holders == ["_config.yml"]


def test_proof_exercises_get_a_markdown_stub_and_need_no_check():
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell(":::{exercise} proof-1.1\n:label: ex-proof\n:nonumber:\n\nProve it.\n:::"),
        nbformat.v4.new_markdown_cell(":::{solution-start} ex-proof\n:class: dropdown\n:::\n\nSECRET PROOF"),
        nbformat.v4.new_markdown_cell(":::{solution-end}\n:::"),
    ]
    (ex,) = coursework.find_exercises(nb)
    assert coursework.is_proof(ex.key) and ex.check is None and ex.solution == (1, 2)
    student = coursework.student_notebook(nb)
    text = "\n".join(c.source for c in student.cells)
    assert "SECRET" not in text and "write your proof here" in text
    (stub,) = [c for c in student.cells if coursework.STUB_TAG in c.metadata.get("tags", [])]
    assert stub.cell_type == "markdown"
