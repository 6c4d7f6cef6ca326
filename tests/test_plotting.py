"""Figures: arrays in, a labelled matplotlib Figure out (Agg backend, figures closed after each test)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

import lazylib as ll  # noqa: E402
from lazylib import plotting  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _axes(fig):
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 1
    return fig.axes[0]


def test_line_plot_labels_series_fits_and_levels():
    x = [25, 100, 400, 784]
    fig = plotting.line_plot(
        x,
        {"measured": torch.tensor([0.14, 0.07, 0.035, 0.025]), "other": np.array([0.2, 0.1, 0.05, 0.04])},
        xlabel="input dimension d",
        ylabel="median flip distance",
        title="Flip distance",
        logx=True,
        logy=True,
        errors={"measured": [0.01, 0.005, 0.003, 0.002]},
        fits={"measured": (-0.5, 0.0)},
        hlines={"reference": 0.1},
    )
    ax = _axes(fig)
    assert ax.get_xlabel() == "input dimension d" and ax.get_ylabel() == "median flip distance"
    assert ax.get_title() == "Flip distance"
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert {"measured", "other", "reference", "fit: slope -0.50"} <= set(labels)
    # series get different colours and markers (readable in greyscale)
    bars = {c.get_label(): c.lines[0] for c in ax.containers}
    assert set(bars) == {"measured", "other"}
    assert len({ln.get_color() for ln in bars.values()}) == 2 and len({ln.get_marker() for ln in bars.values()}) == 2
    assert bars["measured"].get_color() == plotting.PALETTE[0]
    fig.canvas.draw()  # renders without error


def test_line_plot_linear_axes_and_no_title():
    fig = plotting.line_plot([1, 2, 3], {"a": [1, 4, 9]}, xlabel="x", ylabel="y")
    ax = _axes(fig)
    assert ax.get_xscale() == ax.get_yscale() == "linear"
    assert ax.get_title() == ""
    assert ax.get_xlabel() == "x" and ax.get_ylabel() == "y"


def test_curves_plot_different_lengths_and_start():
    fig = plotting.curves_plot(
        {"C0=1": [0.7, 0.5, 0.4], "C0=4": torch.tensor([0.7, 0.4, 0.2, 0.1, 0.05])},
        xlabel="epoch", ylabel="training loss", title="Loss", logy=True, start=1,
    )
    ax = _axes(fig)
    assert ax.get_xlabel() == "epoch" and ax.get_ylabel() == "training loss" and ax.get_title() == "Loss"
    assert ax.get_yscale() == "log"
    lines = ax.get_lines()
    assert [len(ln.get_xdata()) for ln in lines] == [3, 5]
    assert list(lines[1].get_xdata()) == [1, 2, 3, 4, 5]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["C0=1", "C0=4"]


def test_curves_plot_from_a_training_history():
    x, y = ll.data.sphere(40, 5, generator=torch.Generator().manual_seed(0))
    net = ll.TwoLayerReLU(5, 50, generator=torch.Generator().manual_seed(1))
    h = ll.train(net, x, y, lr=1.0, epochs=4, progress=False)
    fig = plotting.curves_plot({"loss": h.loss, "deviation": h.deviation}, xlabel="epoch", ylabel="value")
    assert len(_axes(fig).get_lines()) == 2


def test_histogram_plot_with_density():
    values = np.random.default_rng(0).normal(0, np.sqrt(0.5), 500)
    grid = np.linspace(-3, 3, 100)
    dens = np.exp(-grid**2) / np.sqrt(np.pi)
    fig = plotting.histogram_plot(values, xlabel="f(x; W0)", density=(grid, dens), density_label="N(0, 1/2)",
                                  bins=30, title="Output at init")
    ax = _axes(fig)
    assert ax.get_xlabel() == "f(x; W0)" and ax.get_ylabel() == "probability density"
    assert ax.get_title() == "Output at init"
    assert len(ax.patches) == 30
    # normalised: the bars integrate to one
    area = sum(p.get_width() * p.get_height() for p in ax.patches)
    assert area == pytest.approx(1.0, rel=1e-9)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["measured", "N(0, 1/2)"]


def test_histogram_plot_accepts_a_tensor():
    fig = plotting.histogram_plot(torch.randn(100, generator=torch.Generator().manual_seed(0)), xlabel="value")
    assert _axes(fig).get_xlabel() == "value"


@pytest.mark.skipif(not hasattr(plotting, "image_grid"), reason="plotting.image_grid not in this version")
def test_image_grid_titles_layout_and_colour_maps():
    imgs = np.random.default_rng(0).random((5, 49))
    fig = plotting.image_grid(imgs, [f"image {i}" for i in range(5)], ncols=3, diverging=[False, True, False, False, False])
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 6  # 2 rows of 3, the spare one blank
    shown = [ax for ax in fig.axes if ax.images]
    assert [ax.get_title() for ax in shown] == [f"image {i}" for i in range(5)]
    assert shown[0].images[0].get_array().shape == (7, 7)
    assert shown[1].images[0].get_cmap().name == "RdBu_r" and shown[0].images[0].get_cmap().name == "gray_r"
    lo, hi = shown[1].images[0].get_clim()
    assert lo == -hi  # diverging maps are centred at 0
    # one row by default; a list of tensors works too
    fig = plotting.image_grid([torch.zeros(16), torch.ones(16)], ["a", "b"])
    assert len(fig.axes) == 2


def test_style_context_restores_rcparams():
    before = dict(matplotlib.rcParams)
    with plotting.style():
        assert matplotlib.rcParams["axes.prop_cycle"].by_key()["color"] == plotting.PALETTE
    assert matplotlib.rcParams["font.size"] == before["font.size"]
    assert matplotlib.rcParams["axes.prop_cycle"] == before["axes.prop_cycle"]


def test_palette_and_markers():
    assert len(plotting.PALETTE) == len(set(plotting.PALETTE)) == len(plotting.MARKERS) == 8


# ---------------------------------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------------------------------

LP = dict(xlabel="x", ylabel="y")


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda: plotting.line_plot([[1, 2], [3, 4]], {"a": [1, 2]}, **LP), ValueError, "`x`"),
        (lambda: plotting.line_plot([], {"a": []}, **LP), ValueError, "`x`"),
        (lambda: plotting.line_plot([1, 2, 3], {"a": [1, 2]}, **LP), ValueError, "`series['a']`"),
        (lambda: plotting.line_plot([1, 2, 3], {"a": [[1, 2, 3]]}, **LP), ValueError, "`series['a']`"),
        (lambda: plotting.line_plot([1, 2, 3], {"a": [1, 2, 3]}, errors={"a": [[1]]}, **LP), ValueError, "`errors['a']`"),
        (lambda: plotting.curves_plot({"a": [[1, 2]]}, **LP), ValueError, "`curves['a']`"),
        (lambda: plotting.curves_plot({"a": []}, **LP), ValueError, "`curves['a']`"),
        (lambda: plotting.histogram_plot([], xlabel="v"), ValueError, "`values`"),
        (lambda: plotting.histogram_plot(np.ones((3, 3)), xlabel="v"), ValueError, "`values`"),
        (lambda: plotting.histogram_plot([1.0, 2.0], xlabel="v", density=([[0.0]], [1.0])), ValueError, "`density[0]`"),
        (lambda: plotting.histogram_plot([1.0, 2.0], xlabel="v", density=([0.0], [])), ValueError, "`density[1]`"),
        (lambda: plotting.image_grid([np.ones(4)], ["a", "b"]), ValueError, "`titles`"),
        (lambda: plotting.image_grid([np.ones(4), np.ones(9)], ["a", "b"]), ValueError, "`images`"),
        (lambda: plotting.image_grid([np.ones(5)], ["a"]), ValueError, "`images`"),
        (lambda: plotting.image_grid([np.ones((2, 2))], ["a"]), ValueError, "`images[0]`"),
        (lambda: plotting.panels_plot([dict(curves={"a": ([1, 2], [1, 2])})], ncols=0), ValueError,
         "`ncols` must be an integer ≥ 1; got 0."),
        (lambda: plotting.panels_plot([dict(curves={"a": ([1, 2], [1, 2])})], ncols="2"), TypeError,
         "`ncols` must be an integer ≥ 1; got '2'."),
    ],
    ids=["line-x-2D", "line-x-empty", "line-series-length", "line-series-2D", "line-errors-2D", "curves-2D",
         "curves-empty", "hist-empty", "hist-2D", "hist-density-x-2D", "hist-density-y-empty",
         "grid-titles", "grid-sizes", "grid-not-square", "grid-2D-image", "panels-ncols-0", "panels-ncols-str"],
)
def test_plotting_bad_input_names_the_argument(call, exc, match):
    with pytest.raises(exc, match=__import__("re").escape(match)):
        call()


# Bad input that once reached numpy or matplotlib and gave their messages, which
# did not name the argument.
def test_plotting_non_numeric_x_names_x():
    with pytest.raises((TypeError, ValueError), match="`x`"):
        plotting.line_plot(["a", "b"], {"s": [1, 2]}, **LP)


def test_plotting_series_not_a_mapping_names_series():
    with pytest.raises(TypeError, match="`series`"):
        plotting.line_plot([1, 2], [1, 2], **LP)


def test_plotting_errors_of_wrong_length_names_errors():
    with pytest.raises(ValueError, match="`errors"):
        plotting.line_plot([1, 2, 3], {"a": [1, 2, 3]}, errors={"a": [0.1, 0.1]}, **LP)


@pytest.mark.skipif(not hasattr(plotting, "image_grid"), reason="plotting.image_grid not in this version")
def test_plotting_image_grid_without_images_names_images():
    with pytest.raises(ValueError, match="`images`"):
        plotting.image_grid([], [])
