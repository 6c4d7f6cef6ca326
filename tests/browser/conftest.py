"""Fixtures for the tests of the built book (run after `jupyter-book build`, by scripts/test.sh)."""

from __future__ import annotations

import os
import pathlib
import shutil

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
HTML = ROOT / "_build" / "html"


@pytest.fixture(scope="session")
def html_dir() -> pathlib.Path:
    if not (HTML / "book" / "index.html").exists():
        pytest.skip("the book is not built: run `bash scripts/build_book.sh` first")
    return HTML


def chapter_pages() -> list[pathlib.Path]:
    """The built page of every chapter notebook (NN_name; the proof map is checked on its own)."""
    return [HTML / "book" / f"{p.stem}.html" for p in sorted((ROOT / "book").glob("[0-9][0-9]_*.ipynb"))]


@pytest.fixture(scope="session")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    executable = os.environ.get("LAZYLIB_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not executable:
        pytest.skip("no Chromium on this machine (Debian package `chromium`; scripts/browser_deps.sh installs it as root)")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=executable,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )
        yield b
        b.close()


@pytest.fixture(scope="session")
def mathjax_dir() -> pathlib.Path:
    path = pathlib.Path(os.environ.get("LAZYLIB_MATHJAX_DIR", ROOT / ".venv/browser/node_modules/mathjax"))
    if not (path / "es5" / "tex-mml-chtml.js").exists():
        pytest.skip(f"MathJax 3 is not installed at {path} (scripts/browser_deps.sh installs it with npm)")
    return path
