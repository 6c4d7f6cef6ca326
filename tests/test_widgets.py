"""Explorers: static figure where no live front end is wanted, working sliders where it is."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import pytest
from matplotlib.figure import Figure

import lazylib as ll


def _record(monkeypatch):
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj, *a, **k: shown.append(obj))
    return shown


def test_static_mode_shows_the_default_figure(monkeypatch):
    monkeypatch.setenv("LAZYLIB_WIDGETS", "static")
    shown = _record(monkeypatch)
    calls = []

    def draw(m, C0):
        calls.append((m, C0))
        return ll.plotting.line_plot([1, 2, 3], {"y": [1, 2, 3]}, xlabel="x", ylabel="y")

    assert ll.widgets.explorer(draw, m=([10, 20], 20), C0=([1.0, 2.0], 1.0)) is None
    assert calls == [(20, 1.0)]
    assert len(shown) == 1 and isinstance(shown[0], Figure)


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
        ({"m": ([], 1)}, ValueError, "`m`"),
        ({"m": ([1, 2], 3)}, ValueError, "`m`"),
    ],
)
def test_explorer_rejects_bad_controls(controls, exc, match):
    with pytest.raises(exc, match=match):
        ll.widgets.explorer(lambda **kw: None, **controls)


def test_explorer_rejects_a_non_callable():
    with pytest.raises(TypeError, match="`draw`"):
        ll.widgets.explorer("not a function", m=([1], 1))


def test_lazy_ball_figure_draws_and_validates():
    fig = ll.widgets.lazy_ball_figure(m=50, C0=3.0, d=10, seed=1)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert ax.get_xlabel() and ax.get_ylabel()
    for kwargs, match in [({"m": 0}, "`m`"), ({"d": 1}, "`d`"), ({"C0": -1.0}, "`C0`"), ({"seed": 1.5}, "`seed`")]:
        with pytest.raises((TypeError, ValueError), match=match):
            ll.widgets.lazy_ball_figure(**kwargs)
