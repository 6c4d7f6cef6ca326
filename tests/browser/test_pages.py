"""A real browser opens every chapter page of the built book and checks what a reader would see:
typeset maths, proof and exercise blocks with hidden solutions, figures that loaded, the Binder and
Colab launch buttons, and no JavaScript errors.

MathJax is loaded by the pages from a CDN; requests for it are answered from a local copy of the
same version, and every other request that leaves the machine is refused and recorded, so the test
needs no network and notices any new external dependency.
"""

from __future__ import annotations

import mimetypes
import pathlib

import pytest

from .conftest import HTML, chapter_pages

MATHJAX_CDN = "https://cdn.jsdelivr.net/npm/mathjax@3/"


def _open(browser, mathjax_dir: pathlib.Path, page_path: pathlib.Path):
    page = browser.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"uncaught exception: {exc}"))
    page.on("console", lambda msg: problems.append(f"console error: {msg.text}") if msg.type == "error" else None)

    def route(r):
        url = r.request.url
        if url.startswith(MATHJAX_CDN):
            local = mathjax_dir / url[len(MATHJAX_CDN):].split("?")[0]
            if local.is_file():
                r.fulfill(path=str(local), content_type=mimetypes.guess_type(local.name)[0] or "application/octet-stream")
            else:
                problems.append(f"MathJax file missing locally: {url}")
                r.abort()
        elif url.startswith("file://") or url.startswith("data:"):
            r.continue_()
        else:
            problems.append(f"request leaving the machine: {url}")
            r.abort()

    page.route("**/*", route)
    page.goto(page_path.as_uri(), wait_until="load")
    page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=20_000)
    page.evaluate("() => MathJax.startup.promise")
    return page, problems


@pytest.mark.parametrize("page_path", chapter_pages(), ids=lambda p: p.stem)
def test_chapter_page_renders(browser, mathjax_dir, html_dir, page_path):
    assert page_path.exists(), f"{page_path.name} was not built"
    page, problems = _open(browser, mathjax_dir, page_path)
    try:
        # Maths: every math element was typeset, without a single MathJax error (e.g. an unknown macro).
        n_math = page.locator("main .math").count()
        n_typeset = page.locator("main mjx-container").count()
        assert n_math > 0 and n_typeset >= n_math, (n_math, n_typeset)
        assert page.locator("main mjx-merror").count() == 0, "MathJax could not typeset some formula"
        # Theorem-like blocks with proofs, and exercises whose solutions start hidden.
        assert page.locator("main div.proof").count() >= 1
        n_ex = page.locator("main div.exercise").count()
        assert n_ex >= 3
        solutions = page.locator("main div.solution.dropdown")
        assert solutions.count() >= 3
        body = solutions.first.locator("section, p").last
        assert not body.is_visible(), "a solution is visible before the reader opens it"
        # Figures loaded and carry alt text.
        images = page.evaluate(
            "() => Array.from(document.querySelectorAll('main img')).filter(i => i.src.includes('_images/'))"
            ".map(i => ({ok: i.complete && i.naturalWidth > 0, alt: i.alt, src: i.src}))"
        )
        assert images, "no figures on the page"
        assert all(i["ok"] for i in images), [i["src"] for i in images if not i["ok"]]
        assert all(i["alt"].strip() for i in images)
        # Launch buttons for Binder and Colab.
        assert page.locator('a[href*="mybinder.org/v2/gh/"]').count() >= 1
        assert page.locator('a[href*="colab.research.google.com/github/"]').count() >= 1
        binder = page.locator('a[href*="mybinder.org/v2/gh/"]').first.get_attribute("href")
        assert binder.endswith(f"book/{page_path.stem}.ipynb")
        assert not problems, problems
    finally:
        page.close()


def test_landing_page_renders(browser, mathjax_dir, html_dir):
    page, problems = _open(browser, mathjax_dir, HTML / "book" / "index.html")
    try:
        assert page.locator("main mjx-container").count() > 0
        links = page.locator("main a.reference.internal").count()
        assert links >= 2
        assert not problems, problems
    finally:
        page.close()
