"""The proof map (book/proof_map.ipynb) lists every labelled statement of chapters 2 to 9 with a status.

A new ``prf:`` statement (definition, theorem, lemma, proposition, corollary, algorithm) with a label in
one of those chapters must get a row in the map's table, or this test fails; every row's status is one of
the allowed words, and every row names a statement that exists.
"""

from __future__ import annotations

import pathlib
import re

import nbformat
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
MAP = ROOT / "book" / "proof_map.ipynb"
CHAPTERS = sorted(p for p in (ROOT / "book").glob("0[2-9]_*.ipynb"))
STATUSES = {
    "the paper's statement",
    "proved here",
    "proved here, the paper's statement",
    "cited standard result",
    "measured only",
    "assumption",
    "definition",
}
# An opening fence of a prf directive, then its option lines (":label: ...", ":class: ...", ...).
_DIRECTIVE = re.compile(r"^:{3,}\{prf:(\w+)\}[^\n]*\n((?:[ \t]*:[\w-]+:[^\n]*\n)*)", re.M)
_LABEL = re.compile(r":label:\s*(\S+)")
_STATEMENT = re.compile(r"^(def|thm|lem|prop|cor|alg)-")
# A row: | {prf:ref}`label` | title | chapter | status | what the proof uses |
_ROW = re.compile(r"^\|\s*\{prf:ref\}`([^`<>]+)`\s*\|[^|]*\|\s*([^|]*?)\s*\|\s*([^|]*?)\s*\|")


def labelled_statements(source: str) -> list[str]:
    """Labels of the prf statements (not proofs) opened in a Markdown source, in order."""
    labels = []
    for match in _DIRECTIVE.finditer(source + "\n"):
        found = _LABEL.search(match.group(2))
        if match.group(1) != "proof" and found and _STATEMENT.match(found.group(1)):
            labels.append(found.group(1))
    return labels


def chapter_statements() -> list[tuple[str, str]]:
    out = []
    for path in CHAPTERS:
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "markdown":
                out.extend((path.stem, label) for label in labelled_statements(cell.source))
    return out


def map_rows() -> list[tuple[str, str, str]]:
    rows = []
    for cell in nbformat.read(MAP, as_version=4).cells:
        if cell.cell_type == "markdown":
            rows.extend(m.groups() for m in map(_ROW.match, cell.source.splitlines()) if m)
    return rows


def test_parser_finds_statements_and_skips_proofs_and_exercises():
    source = (
        ":::{prf:lemma} A (the book's)\n:label: lem-a\n\nText.\n:::\n\n"
        "::::{prf:theorem} B\n:class: dropdown\n:label: thm-b\n:::\n"
        ":::{prf:proof}\n:label: lem-not-a-statement\n:::\n"
        ":::{exercise} key-1.1\n:label: ex-x\n:::\n"
        ":::{prf:remark} R\n:label: rem-r\n:::\n"
    )
    assert labelled_statements(source) == ["lem-a", "thm-b"]


def test_the_chapters_have_statements():
    labels = [label for _, label in chapter_statements()]
    assert len(labels) >= 40 and len(set(labels)) == len(labels)
    for label in ("thm-main", "lem-value", "lem-gradient-norm", "lem-gradient-difference", "thm-explicit", "cor-main-proved"):
        assert label in labels


def test_every_labelled_statement_has_a_row():
    rows = {label for label, _, _ in map_rows()}
    missing = [f"{chapter}: {label}" for chapter, label in chapter_statements() if label not in rows]
    assert not missing, f"statements without a row in the proof map: {missing}"


def test_rows_follow_the_book_and_name_existing_statements():
    statements = chapter_statements()
    rows = map_rows()
    assert [label for label, _, _ in rows] == [label for _, label in statements]
    for (label, chapter, _), (stem, _) in zip(rows, statements):
        assert f"<{stem}>" in chapter, f"{label}: chapter column {chapter!r} does not link {stem}"


@pytest.mark.parametrize("label,chapter,status", map_rows())
def test_every_status_is_allowed(label, chapter, status):
    assert status in STATUSES, f"{label}: status {status!r} is not one of {sorted(STATUSES)}"


def test_the_main_theorem_and_its_proof():
    status = {label: s for label, _, s in map_rows()}
    assert status["thm-main"] == "the paper's statement"
    assert status["thm-explicit"] == status["cor-main-proved"] == "proved here"
