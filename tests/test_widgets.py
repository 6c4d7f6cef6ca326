"""Explorers: working sliders in a live notebook; on a static page, the default figure and an HTML form
with precomputed views and keyboard-operable controls."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import base64
import functools
import html
import random
import re

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

import lazylib as ll


def _record(monkeypatch):
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj, *a, **k: shown.append(obj))
    return shown


def _line(m, C0=1.0):
    return ll.plotting.line_plot([1, 2, 3], {"y": [m, C0, m * C0]}, xlabel="x", ylabel="y")


def _static_form(monkeypatch, draw, **controls):
    """Run the explorer in static mode; return (the displayed object, its text/html form)."""
    monkeypatch.setenv("LAZYLIB_WIDGETS", "static")
    pages = []
    monkeypatch.setattr("IPython.display.display", lambda obj, *a, **k: pages.append((obj, obj._repr_html_())))
    assert ll.widgets.explorer(draw, **controls) is None
    assert len(pages) == 1
    return pages[0]


def _views(page):
    return re.findall(r'<img data-ll-view="([0-9,]+)"( hidden)? alt="([^"]*)" src="data:image/png;base64,([^"]+)"',
                      page)


def test_static_mode_shows_the_default_figure_first(monkeypatch):
    calls = []

    def draw(m, C0):
        calls.append((m, C0))
        return _line(m, C0)

    fig, page = _static_form(monkeypatch, draw, m=([10, 20], 20), C0=([1.0, 2.0], 1.0))
    assert isinstance(fig, Figure)
    assert calls[0] == (20, 1.0) and sorted(calls) == [(10, 1.0), (10, 2.0), (20, 1.0), (20, 2.0)]
    assert "_repr_html_" not in fig.__dict__  # the HTML form was attached for the display call only


def test_static_form_structure(monkeypatch):
    """Controls (range for numbers, select otherwise), one view per combination, alt text, the script."""
    def draw(m, kind):
        """Three points that move with m."""
        return _line(m, 2.0 if kind == "b" else 1.0)

    _, page = _static_form(monkeypatch, draw, m=([10, 20, 30], 20), kind=(["a", "b"], "a"))
    views = _views(page)
    assert [v[0] for v in views] == ["1,0", "0,0", "0,1", "1,1", "2,0", "2,1"]  # default first, then the grid
    assert [bool(v[1]) for v in views] == [False] + [True] * 5  # only the default is visible without a script
    for key, _, alt, data in views:
        m_i, k_i = map(int, key.split(","))
        assert alt == f"Three points that move with m. Shown for m = {[10, 20, 30][m_i]}, kind = {'ab'[k_i]}. Controls: m, kind."
        assert base64.b64decode(data)[:8] == b"\x89PNG\r\n\x1a\n"
    assert len({v[3] for v in views}) == 6  # six different images
    assert re.search(r'<label>m\s*<input type="range" min="0" max="2" step="1" value="1" data-ll-control="1" '
                     r'data-ll-name="m" data-ll-default="1"', page)
    assert 'aria-valuetext="m = 20"' in page
    assert re.search(r'<label>kind\s*<select data-ll-control="1" data-ll-name="kind" data-ll-default="0"', page)
    assert '<option value="0" selected>a</option>' in page and '<option value="1">b</option>' in page
    assert 'aria-live="polite"' in page and 'role="group"' in page
    assert page.count("<script>") == 1 and page.endswith("</script>")
    script = page[page.index("<script>") + 8:-9]
    assert "<" not in script  # the build keeps one copy of identical inline scripts (book/_ext/unique_scripts.py)
    assert "http" not in page.replace("data:image/png", "")  # nothing fetched from anywhere
    assert "6 precomputed views, one for each combination" in html.unescape(page)


def test_the_default_view_is_the_displayed_png(monkeypatch):
    """The default view's image is the figure's own PNG, as the notebook shows it."""
    from IPython.core.pylabtools import print_figure

    fig, page = _static_form(monkeypatch, lambda m: _line(m), m=([1, 2, 3], 2))
    default = [v for v in _views(page) if not v[1]]
    assert len(default) == 1 and default[0][0] == "1"
    assert base64.b64decode(default[0][3]) == print_figure(fig, "png", bbox_inches="tight")


def test_static_form_is_deterministic_and_leaves_random_states(monkeypatch):
    def draw(m):
        torch.rand(1), np.random.rand(), random.random()  # draws that consume the global generators
        return _line(m)

    def run():
        torch.manual_seed(0), np.random.seed(0), random.seed(0)
        _, page = _static_form(monkeypatch, draw, m=([1, 2, 3, 4], 2))
        return page, (torch.rand(1).item(), np.random.rand(), random.random())

    page1, after1 = run()
    page2, after2 = run()
    assert page1 == page2
    torch.manual_seed(0), np.random.seed(0), random.seed(0)
    draw(2)  # the default view alone
    assert after1 == (torch.rand(1).item(), np.random.rand(), random.random())


def test_one_at_a_time_when_the_grid_is_too_big(monkeypatch):
    _, page = _static_form(monkeypatch, lambda a, b, c: _line(a + b, c), max_views=7,
                           a=([1, 2, 3], 1), b=([10, 20, 30], 30), c=([0.5, 1.5, 2.5], 0.5))
    keys = [v[0] for v in _views(page)]
    assert keys == ["0,2,0", "1,2,0", "2,2,0", "0,0,0", "0,1,0", "0,2,1", "0,2,2"]
    assert "moving a control returns the others to their defaults" in page


@pytest.mark.parametrize(
    "sizes, defaults, max_views, kept, n_views, mode",
    [
        ([6, 6], [2, 2], 36, [list(range(6))] * 2, 36, "grid"),
        ([6, 6], [2, 2], 35, [list(range(6))] * 2, 11, "one at a time"),
        ([4, 6], [2, 4], 9, [list(range(4)), list(range(6))], 9, "one at a time"),
        ([4, 6], [2, 4], 6, [list(range(4)), [0, 4, 5]], 6, "one at a time"),
        ([3, 3, 3], [1, 1, 0], 3, [[0, 1], [0, 1], [0]], 3, "one at a time"),
        ([3], [1], 2, [[0, 1]], 2, "one at a time"),
        ([5], [0], 3, [[0, 2, 4]], 3, "one at a time"),
        ([5], [1], 2, [[1, 4]], 2, "one at a time"),
        ([5], [3], 2, [[0, 3]], 2, "one at a time"),
        ([3, 3], [1, 1], 1, [[1], [1]], 1, "one at a time"),
        ([1, 1, 1], [0, 0, 0], 1, [[0], [0], [0]], 1, "grid"),
    ],
)
def test_thinning_rule(sizes, defaults, max_views, kept, n_views, mode):
    got_kept, views, got_mode = ll.widgets.static_views(sizes, defaults, max_views)
    assert got_kept == kept and len(views) == n_views and got_mode == mode
    assert views[0] == tuple(defaults) and len(set(views)) == len(views)
    for j, ks in enumerate(got_kept):
        assert defaults[j] in ks and ks == sorted(set(ks))  # the default is always kept
        assert {v[j] for v in views} == set(ks)  # every kept option appears in some view


def test_thinning_keeps_the_default_for_every_budget():
    for n in range(1, 9):
        for default in range(n):
            for budget in range(1, 12):
                first = ll.widgets.static_views([n, 3], [default, 1], budget)
                kept, views, _ = first
                assert len(views) <= budget and views[0] == (default, 1)
                assert default in kept[0] and 1 in kept[1]
                assert ll.widgets.static_views([n, 3], [default, 1], budget) == first


def test_figure_functions_carry_their_budget():
    for name in ll.widgets.__all__:
        obj = getattr(ll.widgets, name)
        if name.endswith("_figure"):
            assert isinstance(obj.max_views, int) and 1 <= obj.max_views <= 36, name


def test_budget_of_a_partial_is_the_wrapped_functions(monkeypatch):
    def draw(results, m):
        return _line(m)

    draw.max_views = 2
    _, page = _static_form(monkeypatch, functools.partial(draw, None), m=([1, 2, 3], 2))
    assert len(_views(page)) == 2


def test_live_mode_redraws_when_a_slider_moves(monkeypatch):
    pytest.importorskip("ipywidgets")
    monkeypatch.delenv("LAZYLIB_WIDGETS", raising=False)
    _record(monkeypatch)
    calls = []

    def draw(m):
        calls.append(m)
        return ll.plotting.line_plot([1, 2, 3], {"y": [m, m, m]}, xlabel="x", ylabel="y")

    box = ll.widgets.explorer(draw, m=([10, 20, 30], 10))
    slider = box.children[0].children[0]
    assert list(slider.options) == [10, 20, 30] and slider.value == 10
    slider.value = 30
    assert calls == [10, 30]


@pytest.mark.parametrize(
    "controls, exc, match",
    [
        ({}, ValueError, "controls"),
        ({"m": [1, 2]}, TypeError, "`m`"),
        ({"m": (3, 3)}, TypeError, "`m`"),
        ({"m": ([], 1)}, ValueError, "`m`"),
        ({"m": ([1, 2], 3)}, ValueError, "`m`"),
        ({"m": ([1, 2, 1], 1)}, ValueError, "distinct"),
        ({"m": ([1, 2], 1), "max_views": 0}, ValueError, "`max_views`"),
        ({"m": ([1, 2], 1), "max_views": 2.0}, TypeError, "`max_views`"),
        ({"m": ([1, 2], 1), "max_views": True}, TypeError, "`max_views`"),
    ],
)
def test_explorer_rejects_bad_controls(controls, exc, match):
    with pytest.raises(exc, match=match):
        ll.widgets.explorer(lambda **kw: None, **controls)


def test_explorer_rejects_a_non_callable():
    with pytest.raises(TypeError, match="`draw`"):
        ll.widgets.explorer("not a function", m=([1], 1))


def test_static_mode_rejects_a_draw_without_a_figure(monkeypatch):
    monkeypatch.setenv("LAZYLIB_WIDGETS", "static")
    _record(monkeypatch)
    with pytest.raises(TypeError, match="must return a matplotlib figure"):
        ll.widgets.explorer(lambda m: None, m=([1, 2], 1))


@pytest.mark.parametrize(
    "args, exc",
    [(([2], [2], 4), ValueError), (([2, 2], [0], 4), ValueError), (([0], [0], 4), ValueError), (([2], [0], 0), ValueError)],
)
def test_static_views_rejects_bad_input(args, exc):
    with pytest.raises(exc):
        ll.widgets.static_views(*args)


def test_lazy_ball_figure_draws_and_validates():
    fig = ll.widgets.lazy_ball_figure(m=50, C0=3.0, d=10, seed=1)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert ax.get_xlabel() and ax.get_ylabel()
    for kwargs, match in [({"m": 0}, "`m`"), ({"d": 1}, "`d`"), ({"C0": -1.0}, "`C0`"), ({"seed": 1.5}, "`seed`")]:
        with pytest.raises((TypeError, ValueError), match=match):
            ll.widgets.lazy_ball_figure(**kwargs)
