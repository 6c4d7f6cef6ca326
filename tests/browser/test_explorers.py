"""The explorers on the published pages: every explorer cell has its interactive static form, the
form stays light, and a reader can move its controls with the keyboard and the mouse, with no kernel,
no JavaScript error and no request outside the built site."""

from __future__ import annotations

import json
import pathlib
import re

import nbformat
import pytest

from .conftest import HTML, ROOT, chapter_pages
from .test_pages import _open

CHAPTERS = sorted((ROOT / "book").glob("[0-9][0-9]_*.ipynb"))
EXPLORER_CALL = re.compile(r"\bexplorer\(")
FORM = re.compile(r'<figure class="ll-explorer" data-ll-explorer="1".*?</figure>\s*(?:<script>[^<]*</script>)?', re.S)
LIMIT = 3 * 2**20  # bytes of explorer forms per page


def _explorer_cells(nb) -> list:
    return [c for c in nb.cells if c.cell_type == "code"
            and any(EXPLORER_CALL.search(line.split("#", 1)[0]) for line in c.source.splitlines())]


def _forms(outputs) -> list[str]:
    return [o["data"]["text/html"] for o in outputs
            if o.get("output_type") == "display_data" and 'data-ll-explorer="1"' in o.get("data", {}).get("text/html", "")]


@pytest.mark.parametrize("notebook", CHAPTERS, ids=lambda p: p.stem)
def test_every_explorer_cell_has_its_static_form_in_the_saved_outputs(notebook):
    nb = nbformat.read(notebook, as_version=4)
    cells = _explorer_cells(nb)
    for cell in cells:
        forms = _forms(cell.outputs)
        assert len(forms) == 1, f"an explorer cell without its static form (re-execute the chapter): {cell.source!r}"
        png = [o["data"]["image/png"] for o in cell.outputs if "text/html" in o.get("data", {})][0]
        # The default view (the one shown first) is the figure's own PNG, the one other builders show.
        assert re.search(r'<img data-ll-view="[0-9,]+" alt="[^"]*" src="data:image/png;base64,' + re.escape(png) + '"',
                         forms[0])


@pytest.mark.parametrize("page", chapter_pages(), ids=lambda p: p.stem)
def test_every_explorer_cell_has_its_static_form_on_the_page(html_dir, page):
    nb = nbformat.read(ROOT / "book" / f"{page.stem}.ipynb", as_version=4)
    text = page.read_text(encoding="utf-8")
    forms = FORM.findall(text)
    assert len(forms) == len(_explorer_cells(nb)) == text.count('data-ll-explorer="1"')
    weight = sum(len(f.encode()) for f in forms)
    print(f"{page.stem}: explorer forms {weight / 1e6:.2f} MB")
    assert weight <= LIMIT, f"{page.stem}: {weight / 1e6:.2f} MB of explorer views"
    # Rendered from text/html: the figure's PNG is not on the page a second time as an image file.
    assert text.count('data:image/png;base64,') == sum(f.count('data:image/png;base64,') for f in forms)
    assert "cdn" not in "".join(re.findall(r"<script>[^<]*</script>", "".join(forms))).lower()


def _state(page):
    return page.evaluate("""() => {
        const fig = document.querySelector('[data-ll-explorer]');
        const shown = Array.from(fig.querySelectorAll('img[data-ll-view]')).filter(i => !i.hidden);
        const box = shown.length === 1 ? shown[0].getBoundingClientRect() : null;
        return {keys: shown.map(i => i.dataset.llView), src: shown.map(i => i.src), alt: shown.map(i => i.alt),
                visible: box !== null && box.width > 0 && box.height > 0 && shown[0].complete && shown[0].naturalWidth > 0,
                values: Array.from(fig.querySelectorAll('[data-ll-control]')).map(c => c.value),
                valuetext: Array.from(fig.querySelectorAll('[data-ll-control]')).map(c => c.getAttribute('aria-valuetext')),
                status: fig.querySelector('.ll-explorer-status').textContent};
    }""")


def _grid_page() -> pathlib.Path:
    """The first chapter whose explorer has a range control and a full grid of views."""
    for path in chapter_pages():
        if path.exists() and 'type="range"' in (text := path.read_text(encoding="utf-8")) and \
                "one for each combination" in text:
            return path
    pytest.skip("no built chapter with a grid explorer")


def test_explorer_moves_with_keyboard_and_mouse(browser, mathjax_dir, html_dir):
    page_path = _grid_page()
    page, problems = _open(browser, mathjax_dir, page_path)
    try:
        fig = page.locator("[data-ll-explorer]").first
        fig.scroll_into_view_if_needed()
        slider = fig.locator('input[type="range"]').first
        assert slider.is_visible(), "the controls stay hidden: the page's script did not run"
        default = _state(page)
        n = int(slider.get_attribute("max")) + 1
        name = slider.get_attribute("data-ll-name")
        labels = json.loads(slider.get_attribute("data-ll-labels"))
        d0 = int(slider.get_attribute("data-ll-default"))
        assert default["visible"] and len(default["keys"]) == 1
        assert default["keys"][0] == ",".join(default["values"])
        assert f"{name} = {labels[str(d0)]}" in default["alt"][0] and "Controls:" in default["alt"][0]

        def expect(index: int) -> dict:
            state = _state(page)
            key = default["values"].copy()
            key[0] = str(index)
            assert state["keys"] == [",".join(key)], state["keys"]
            assert state["visible"]
            assert state["valuetext"][0] == f"{name} = {labels[str(index)]}"
            assert f"{name} = {labels[str(index)]}" in state["status"] and f"{name} = {labels[str(index)]}" in state["alt"][0]
            assert (state["src"] == default["src"]) == (index == d0)
            return state

        # Keyboard: focus the control, one step right, then back.
        step = 1 if d0 + 1 < n else -1
        slider.focus()
        page.keyboard.press("ArrowRight" if step == 1 else "ArrowLeft")
        expect(d0 + step)
        page.keyboard.press("ArrowLeft" if step == 1 else "ArrowRight")
        assert expect(d0)["src"] == default["src"]
        page.keyboard.press("End")
        expect(n - 1)
        page.keyboard.press("Home")
        expect(0)
        # Mouse: click the track at the last option, then at the default's position.
        box = slider.bounding_box()
        thumb = 16.0  # Chromium's default range thumb width (px)

        def x_of(index: int) -> float:
            return box["x"] + thumb / 2 + (box["width"] - thumb) * index / (n - 1)

        page.mouse.click(x_of(n - 1), box["y"] + box["height"] / 2)
        expect(n - 1)
        page.mouse.click(x_of(d0), box["y"] + box["height"] / 2)
        assert expect(d0)["src"] == default["src"]
        assert _state(page) == default
        assert not problems, problems
    finally:
        page.close()


def test_one_at_a_time_explorer_returns_the_others_to_their_defaults(browser, mathjax_dir, html_dir):
    """Where only one control moves at a time, moving a second one returns the first to its default."""
    for path in chapter_pages():
        if path.exists() and "moving a control returns the others" in path.read_text(encoding="utf-8"):
            break
    else:
        pytest.skip("no built chapter with a one-at-a-time explorer")
    page, problems = _open(browser, mathjax_dir, path)
    try:
        fig = page.locator("[data-ll-explorer]").first
        fig.scroll_into_view_if_needed()
        controls = fig.locator("[data-ll-control]")
        assert controls.count() >= 2
        default = _state(page)
        moved = []
        for i in range(2):
            c = controls.nth(i)
            c.focus()
            before = c.input_value()
            page.keyboard.press("ArrowDown" if c.evaluate("e => e.tagName") == "SELECT" else "ArrowRight")
            if c.input_value() == before:
                page.keyboard.press("ArrowUp" if c.evaluate("e => e.tagName") == "SELECT" else "ArrowLeft")
            assert c.input_value() != before
            moved.append(c.input_value())
            state = _state(page)
            assert len(state["keys"]) == 1 and state["visible"] and state["src"] != default["src"]
            expected = default["values"].copy()
            expected[i] = moved[i]
            assert state["values"] == expected and state["keys"] == [",".join(expected)]
        assert not problems, problems
    finally:
        page.close()


def test_without_scripts_the_page_shows_the_default_figure_only(browser, html_dir):
    """A reader whose browser runs no script sees today's figure, and no controls that do nothing."""
    path = _grid_page()
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    outside: list[str] = []
    page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(("file://", "data:"))
               else (outside.append(r.request.url), r.abort()))
    try:
        page.goto(path.as_uri(), wait_until="load")
        fig = page.locator("[data-ll-explorer]").first
        fig.scroll_into_view_if_needed()
        shown = fig.locator("img[data-ll-view]:visible")
        assert shown.count() == 1
        assert shown.first.get_attribute("data-ll-view") == ",".join(
            c.get_attribute("data-ll-default") for c in fig.locator("[data-ll-control]").all())
        assert not fig.locator("[data-ll-control]").first.is_visible()
        assert not fig.locator("figcaption").is_visible()
        assert not outside, outside
    finally:
        context.close()
