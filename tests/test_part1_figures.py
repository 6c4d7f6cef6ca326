"""Figures of chapters 2 and 3: plotting.band_plot and the explorers' figure functions."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

import lazylib as ll  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_band_plot_draws_series_bands_and_levels():
    x = [0.0, 1.0, 2.0, 3.0]
    fig = ll.plotting.band_plot(
        x,
        {"attack": torch.tensor([1.0, 0.8, 0.4, 0.1]), "certificate": np.array([1.0, 0.3, 0.0, 0.0])},
        bands={"attack": ([0.95, 0.7, 0.3, 0.05], [1.0, 0.9, 0.5, 0.2])},
        hlines={"clean": 1.0},
        xlabel="budget",
        ylabel="accuracy",
        title="t",
        step=True,
    )
    assert isinstance(fig, Figure) and len(fig.axes) == 1
    ax = fig.axes[0]
    assert ax.get_xlabel() == "budget" and ax.get_ylabel() == "accuracy" and ax.get_title() == "t"
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["attack", "certificate", "clean"]
    assert len(ax.collections) == 1  # one shaded band
    fig = ll.plotting.band_plot(x, {"a": x}, xlabel="x", ylabel="y", logx=False, logy=True)
    assert fig.axes[0].get_yscale() == "log"


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        (dict(series={}), TypeError, "`series`"),
        (dict(series=[1.0, 2.0]), TypeError, "`series`"),
        (dict(series={"a": [1.0]}), ValueError, "`series"),
        (dict(series={"a": [1.0, 2.0]}, bands={"b": ([0, 0], [1, 1])}), ValueError, "`bands`"),
        (dict(series={"a": [1.0, 2.0]}, bands={"a": ([0.0], [1.0, 1.0])}), ValueError, "`bands"),
    ],
)
def test_band_plot_bad_input(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        ll.plotting.band_plot([0.0, 1.0], xlabel="x", ylabel="y", **kwargs)


def test_band_plot_rejects_bad_x():
    with pytest.raises(ValueError, match="`x`"):
        ll.plotting.band_plot([], {"a": []}, xlabel="x", ylabel="y")


def test_random_linear_figure_reports_exact_and_measured_accuracy():
    fig = ll.widgets.random_linear_figure(d=50, eps=0.1, seed=1)
    ax = fig.axes[0]
    title = ax.get_title()
    exact = 1 - ll.random_linear_distance_cdf(0.1, 50)
    assert f"(exact {exact:.3f})" in title and "d = 50" in title
    assert ax.get_ylabel() == "probability density" and "distance" in ax.get_xlabel()
    # deterministic: the same seed draws the same figure
    assert ll.widgets.random_linear_figure(d=50, eps=0.1, seed=1).axes[0].get_title() == title


def test_random_network_figure_has_two_labelled_panels():
    fig = ll.widgets.random_network_figure(d=30, m=50, seed=2)
    assert len(fig.axes) == 2
    left, right = fig.axes
    assert "ray" in left.get_title() and "median" in right.get_title()
    assert all(ax.get_xlabel() and ax.get_ylabel() for ax in fig.axes)
    assert len(left.get_lines()) == 11  # five curves, five linear predictions, the zero line


@pytest.mark.parametrize(
    "fn, kwargs, exc, match",
    [
        (ll.widgets.random_linear_figure, dict(d=1), ValueError, "`d`"),
        (ll.widgets.random_linear_figure, dict(eps=-1.0), ValueError, "`eps`"),
        (ll.widgets.random_linear_figure, dict(seed=-1), ValueError, "`seed`"),
        (ll.widgets.random_linear_figure, dict(d=10.5), TypeError, "`d`"),
        (ll.widgets.random_network_figure, dict(d=1), ValueError, "`d`"),
        (ll.widgets.random_network_figure, dict(m=0), ValueError, "`m`"),
        (ll.widgets.random_network_figure, dict(seed="0"), TypeError, "`seed`"),
    ],
)
def test_explorer_figures_bad_input(fn, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        fn(**kwargs)


def test_explorer_static_mode_shows_the_default(monkeypatch):
    monkeypatch.setenv("LAZYLIB_WIDGETS", "static")
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda fig: shown.append(fig))
    assert ll.widgets.explorer(ll.widgets.random_linear_figure, d=([10, 100], 100), eps=([0.05], 0.05)) is None
    assert len(shown) == 1 and isinstance(shown[0], Figure)
