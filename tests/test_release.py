"""The release command, on a throwaway copy of a small git repository."""

from __future__ import annotations

import pathlib
import shutil
import subprocess

import nbformat
import pytest

from lazylib import coursework

ROOT = pathlib.Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def _git(repo, *args):
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def repo(tmp_path):
    (tmp_path / "lazylib").mkdir()
    (tmp_path / "lazylib" / "__init__.py").write_text('"""Doc."""\n__version__ = "0.1.0"\n')
    shutil.copy(ROOT / "_config.yml", tmp_path / "_config.yml")
    (tmp_path / "book").mkdir()
    for name in ("01_a.ipynb", "02_b.ipynb"):
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_markdown_cell("# T"), nbformat.v4.new_code_cell("old install"),
                    nbformat.v4.new_code_cell("x = 1")]
        nbformat.write(nb, tmp_path / "book" / name)
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "config", "user.email", "t@example.org")
    _git(tmp_path, "config", "user.name", "T")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-q", "-m", "init")
    return tmp_path


def test_release_sets_version_syncs_cells_commits_and_tags(repo):
    assert coursework.main(["--book", str(repo / "book"), "release", "0.2.0"]) == 0
    assert '__version__ = "0.2.0"' in (repo / "lazylib" / "__init__.py").read_text()
    expected = coursework.install_cell_source(coursework.repository_url(repo), "0.2.0")
    for path in sorted((repo / "book").glob("*.ipynb")):
        first = next(c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code")
        assert first.source == expected and "@v0.2.0" in expected
    assert _git(repo, "log", "-1", "--format=%s").strip() == "Release v0.2.0"
    assert _git(repo, "cat-file", "-t", "v0.2.0").strip() == "tag"  # annotated
    assert '__version__ = "0.2.0"' in _git(repo, "show", "v0.2.0:lazylib/__init__.py")
    assert not _git(repo, "status", "--porcelain").strip()


@pytest.mark.parametrize("version", ["0.1.0", "0.0.9", "1.0", "v0.2.0"])
def test_release_refuses_a_version_not_newer_or_malformed(repo, version):
    with pytest.raises(SystemExit):
        coursework.main(["--book", str(repo / "book"), "release", version])
    assert '__version__ = "0.1.0"' in (repo / "lazylib" / "__init__.py").read_text()
    assert not _git(repo, "tag").strip()


def test_release_refuses_a_dirty_tree(repo):
    (repo / "book" / "01_a.ipynb").write_text((repo / "book" / "01_a.ipynb").read_text() + "\n")
    with pytest.raises(SystemExit):
        coursework.main(["--book", str(repo / "book"), "release", "0.2.0"])
    assert '__version__ = "0.1.0"' in (repo / "lazylib" / "__init__.py").read_text()
    assert not _git(repo, "tag").strip()
