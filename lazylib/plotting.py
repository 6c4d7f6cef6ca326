"""Figures for the book: arrays in, a matplotlib figure out, in one legible style.

Every public function but :func:`style` returns a new ``matplotlib.figure.Figure``.

Conventions: several series come as a mapping from legend labels to their data, drawn in the
mapping's order; arrays are 1-D (lists, NumPy arrays or tensors). ``xlabel`` and ``ylabel`` are the
axis labels, with units where the quantity has them; ``logx`` and ``logy`` make the axes
logarithmic; ``title`` is optional. ``errors`` maps a series' label to symmetric error bars (a 1-D
array like its y values), and ``hlines`` maps labels to horizontal reference levels, drawn dotted,
each in the legend.

Colours are the Okabe–Ito palette, which stays distinguishable under the common forms of colour
blindness; every series also gets its own marker, so the figures read in greyscale too.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING, Iterator, Mapping, Sequence

import numpy as np

from . import _checks

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["PALETTE", "MARKERS", "style", "line_plot", "histogram_plot", "curves_plot", "image_grid",
           "band_plot", "paired_scatter_plot", "factor_bar_plot", "legend_below_plot", "xy_plot", "panels_plot"]

PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"]
MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*"]

_RC = {
    "figure.figsize": (6.4, 4.0), "figure.dpi": 100, "savefig.dpi": 120,
    "font.size": 12, "axes.titlesize": 13, "axes.labelsize": 12, "legend.fontsize": 11,
    "xtick.labelsize": 11, "ytick.labelsize": 11,
    "axes.grid": True, "grid.alpha": 0.3, "axes.spines.top": False, "axes.spines.right": False,
    "lines.linewidth": 2.0, "lines.markersize": 6,
}


@contextmanager
def style() -> Iterator[None]:
    """Context in which figures use the book's style (font sizes, palette, grid).

    Only the style's own settings are changed and restored; unlike ``matplotlib.rc_context`` this
    leaves the backend's state alone, so notebook front ends keep showing figures.
    """
    import matplotlib
    from cycler import cycler

    rc = dict(_RC)
    rc["axes.prop_cycle"] = cycler(color=PALETTE)
    saved = {key: matplotlib.rcParams[key] for key in rc}
    matplotlib.rcParams.update(rc)
    try:
        yield
    finally:
        matplotlib.rcParams.update(saved)


@contextmanager
def _figure(*args, **kwargs):
    """``plt.subplots(*args, **kwargs)`` in the book's style; the layout is tightened on leaving."""
    import matplotlib.pyplot as plt

    with style():
        fig, axes = plt.subplots(*args, **kwargs)
        yield fig, axes
        fig.tight_layout()


def _look(i: int) -> tuple[str, str]:
    """Colour and marker of the i-th series."""
    return PALETTE[i % len(PALETTE)], MARKERS[i % len(MARKERS)]


def _as_array(name: str, values: object) -> np.ndarray:
    import torch

    if isinstance(values, torch.Tensor):
        values = values.detach().cpu().numpy()
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"`{name}` must be a 1-D array of numbers; got {type(values).__name__} holding non-numbers.") from None
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"`{name}` must be a non-empty 1-D array; got shape {arr.shape}.")
    return arr


def _mapping(name: str, value: object, of: str) -> None:
    """TypeError unless ``value`` is a non-empty mapping (``of`` says what it maps labels to)."""
    if not isinstance(value, Mapping) or not value:
        raise TypeError(f"`{name}` must be a non-empty mapping label {of}; got {type(value).__name__}.")


def _series(label: str, ys: object, xs: np.ndarray) -> np.ndarray:
    """``series[label]`` as an array of the shape of x."""
    ys = _as_array(f"series[{label!r}]", ys)
    if ys.shape != xs.shape:
        raise ValueError(f"`series[{label!r}]` must have shape {xs.shape}; got {ys.shape}.")
    return ys


def _pair(name: str, label: str, pair: object, kind: str = "(x, y) of 1-D arrays",
          mismatch: str = "have x and y of the same length; got {0.size} and {1.size}") -> tuple[np.ndarray, ...]:
    """``name[label]`` as two 1-D arrays of one length; ``mismatch`` formats the two arrays."""
    if not isinstance(pair, (tuple, list)) or len(pair) != 2:
        raise TypeError(f"`{name}[{label!r}]` must be a pair {kind}; got {type(pair).__name__}.")
    xs, ys = _as_array(f"{name}[{label!r}][0]", pair[0]), _as_array(f"{name}[{label!r}][1]", pair[1])
    if xs.shape != ys.shape:
        raise ValueError(f"`{name}[{label!r}]` must " + mismatch.format(xs, ys) + ".")
    return xs, ys


def _error(errors: Mapping | None, label: str) -> np.ndarray | None:
    return None if not errors or label not in errors else _as_array(f"errors[{label!r}]", errors[label])


def _errorbar(ax, xs, ys, label, err, fit, logx, **kw) -> None:
    """One series with optional error bars and a dashed power law ``fit = (slope, intercept[, x_min, x_max])``."""
    ax.errorbar(xs, ys, yerr=err, label=label, capsize=3 if err is not None else 0, **kw)
    if fit:
        slope, intercept, *span = fit
        lo, hi = (span[0], span[1]) if len(span) == 2 else (xs.min(), xs.max())
        grid = np.geomspace(lo, hi, 50) if logx else np.linspace(lo, hi, 50)
        ax.plot(grid, np.exp(intercept) * grid**slope, "--", color=kw["color"], linewidth=1.3,
                label=f"fit: slope {slope:.2f}")


def _hlines(ax, hlines: Mapping[str, float] | None) -> None:
    """Dotted grey horizontal reference levels, each in the legend."""
    for label, level in (hlines or {}).items():
        ax.axhline(level, color="0.35", linestyle=":", linewidth=1.5, label=label)


def _log_axes(ax, xs, logx, logy, *, most=10, subs=(1.0, 2.0, 5.0), always=True) -> None:
    """Log axes with plain-number labels; ticks at the x values ``xs`` when there are 2 to ``most``.

    With ``always`` false the x labels are plain only in that case.
    """
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    plain = FuncFormatter(lambda v, _: f"{v:g}")
    if logx:
        ax.set_xscale("log")
        xs = np.unique(np.concatenate([np.ravel(np.asarray(x, dtype=float)) for x in xs]))
        xs = xs[(xs > 0) & (np.isfinite(xs) | always)].tolist()
        if 2 <= len(xs) <= most:
            ax.set_xticks(xs)
        if always or 2 <= len(xs) <= most:
            ax.xaxis.set_major_formatter(plain)
            ax.xaxis.set_minor_formatter(NullFormatter())
    if logy:
        ax.set_yscale("log")
        ax.yaxis.set_major_locator(LogLocator(subs=subs))
        ax.yaxis.set_major_formatter(plain)
        ax.yaxis.set_minor_formatter(NullFormatter())


def _finish(ax, *, xlabel: str, ylabel: str, title: str | None = None, logx: bool = False,
            logy: bool = False, legend: bool = True, **legend_kw) -> None:
    """The common end of a figure's axes: log scales, axis labels, title, legend."""
    if logx:
        ax.set_xscale("log")
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    if legend:
        ax.legend(frameon=False, **legend_kw)


def line_plot(x: Sequence[float], series: Mapping[str, Sequence[float]], *, xlabel: str, ylabel: str,
              title: str | None = None, logx: bool = False, logy: bool = False,
              errors: Mapping[str, Sequence[float]] | None = None,
              fits: Mapping[str, tuple[float, float]] | None = None,
              hlines: Mapping[str, float] | None = None) -> Figure:
    """Several series against one x axis, with optional error bars, fitted power laws and levels.

    Parameters
    ----------
    series : mapping label → 1-D array of the same length as x
    fits : mapping label → (slope, intercept), optional
        Draws y = exp(intercept)·x^slope as a dashed line (a fit in log–log coordinates).
    """
    xs = _as_array("x", x)
    for name, mapping in (("series", series), ("errors", errors), ("fits", fits), ("hlines", hlines)):
        if mapping is not None and not isinstance(mapping, Mapping):
            raise TypeError(f"`{name}` must be a mapping from labels to values; got {type(mapping).__name__}.")
    if not series:
        raise ValueError("`series` must hold at least one series; got an empty mapping.")
    for label in errors or {}:
        if _error(errors, label).shape != xs.shape:
            raise ValueError(f"`errors[{label!r}]` must have shape {xs.shape}, like x; got {np.shape(errors[label])}.")
    with _figure() as (fig, ax):
        for i, (label, ys) in enumerate(series.items()):
            colour, marker = _look(i)
            _errorbar(ax, xs, _series(label, ys, xs), label, _error(errors, label), (fits or {}).get(label), logx,
                      color=colour, marker=marker)
        _hlines(ax, hlines)
        _finish(ax, xlabel=xlabel, ylabel=ylabel, title=title, logx=logx, logy=logy)
    return fig


def curves_plot(curves: Mapping[str, Sequence[float]], *, xlabel: str, ylabel: str, title: str | None = None,
                logy: bool = False, start: int = 1) -> Figure:
    """Curves of possibly different lengths against their index (e.g. a quantity per epoch).

    The index of each curve's first point is ``start``.
    """
    with _figure() as (fig, ax):
        for i, (label, ys) in enumerate(curves.items()):
            ys = _as_array(f"curves[{label!r}]", ys)
            ax.plot(np.arange(start, start + ys.size), ys, color=_look(i)[0], label=label)
        _finish(ax, xlabel=xlabel, ylabel=ylabel, title=title, logy=logy)
    return fig


def histogram_plot(values: Sequence[float], *, xlabel: str,
                   density: tuple[Sequence[float], Sequence[float]] | None = None,
                   density_label: str = "density", bins: int = 40, title: str | None = None) -> Figure:
    """A normalised histogram, optionally with a reference density curve (grid, values)."""
    vals = _as_array("values", values)
    with _figure() as (fig, ax):
        ax.hist(vals, bins=bins, density=True, color=PALETTE[5], edgecolor="white", label="measured")
        if density is not None:
            ax.plot(_as_array("density[0]", density[0]), _as_array("density[1]", density[1]),
                    color=PALETTE[1], label=density_label)
        _finish(ax, xlabel=xlabel, ylabel="probability density", title=title)
    return fig


def image_grid(images: Sequence[Sequence[float]], titles: Sequence[str], *, ncols: int | None = None,
               diverging: Sequence[bool] | None = None) -> Figure:
    """Flattened square images side by side, each with a title.

    Parameters
    ----------
    images : sequence of 1-D arrays of length size² (or a 2-D array, one image per row)
    titles : sequence of str, one per image
    ncols : int, optional
        Images per row (default: all in one row).
    diverging : sequence of bool, optional
        Per image: draw with a diverging colour map centred at 0 (for perturbations) instead of grey.
    """
    arrays = [_as_array(f"images[{i}]", im) for i, im in enumerate(images)]
    if not arrays:
        raise ValueError("`images` must hold at least one image; got none.")
    if len(titles) != len(arrays):
        raise ValueError(f"`titles` must have one title per image ({len(arrays)}); got {len(titles)}.")
    size = int(round(np.sqrt(arrays[0].size)))
    if any(a.size != size * size for a in arrays):
        raise ValueError(f"`images` must all be flattened square images of the same size; got sizes {[a.size for a in arrays]}.")
    ncols = ncols or len(arrays)
    nrows = int(np.ceil(len(arrays) / ncols))
    div = list(diverging) if diverging is not None else [False] * len(arrays)
    with _figure(nrows, ncols, figsize=(2.6 * ncols, 2.8 * nrows), squeeze=False) as (fig, axes):
        for ax in axes.ravel():
            ax.axis("off")
        for ax, arr, title, is_div in zip(axes.ravel(), arrays, titles, div):
            img = arr.reshape(size, size)
            lim = float(np.abs(img).max()) or 1.0
            ax.imshow(img, **(dict(cmap="RdBu_r", vmin=-lim, vmax=lim) if is_div else dict(cmap="gray_r")))
            ax.set_title(title, fontsize=11)
    return fig


# ---- Part I (chapters 2-3) ----


def band_plot(x: Sequence[float], series: Mapping[str, Sequence[float]], *, xlabel: str, ylabel: str,
              bands: Mapping[str, tuple[Sequence[float], Sequence[float]]] | None = None,
              title: str | None = None, logx: bool = False, logy: bool = False,
              hlines: Mapping[str, float] | None = None, step: bool = False, markers: bool = True) -> Figure:
    """Several series against one x axis, each with an optional shaded band (e.g. a confidence interval).

    Parameters
    ----------
    x, series
        As in :func:`line_plot`.
    bands : mapping label → (low, high), optional
        Lower and upper edges of a shaded band for the series of the same label (need not be
        symmetric about it).
    step : bool
        Draw the series as step functions (for quantities that change only at the x values, such as
        an empirical accuracy against a budget).
    markers : bool
        Mark the data points (turn off for densely sampled curves).

    Examples
    --------
    >>> import lazylib as ll
    >>> fig = ll.plotting.band_plot([0, 1, 2], {"a": [1.0, 0.5, 0.2]}, bands={"a": ([0.9, 0.4, 0.1], [1.0, 0.6, 0.3])},
    ...                             xlabel="budget", ylabel="accuracy")
    >>> len(fig.axes)
    1
    """
    xs = _as_array("x", x)
    _mapping("series", series, "→ 1-D array")
    bands = dict(bands or {})
    unknown = [k for k in bands if k not in series]
    if unknown:
        raise ValueError(f"`bands` must name series that exist ({list(series)}); got {unknown}.")
    with _figure() as (fig, ax):
        for i, (label, ys) in enumerate(series.items()):
            ys = _series(label, ys, xs)
            colour, marker = _look(i)
            if step:
                ax.step(xs, ys, where="post", color=colour, label=label)
            else:
                ax.plot(xs, ys, color=colour, marker=marker if markers else None, label=label)
            if label in bands:
                low, high = bands[label]
                low, high = _as_array(f"bands[{label!r}][0]", low), _as_array(f"bands[{label!r}][1]", high)
                if low.shape != xs.shape or high.shape != xs.shape:
                    raise ValueError(f"`bands[{label!r}]` must hold two arrays of shape {xs.shape}; "
                                     f"got {low.shape} and {high.shape}.")
                ax.fill_between(xs, low, high, color=colour, alpha=0.2, linewidth=0, step="post" if step else None)
        _hlines(ax, hlines)
        _finish(ax, xlabel=xlabel, ylabel=ylabel, title=title, logx=logx, logy=logy)
    return fig


# ---- Part II, chapters 8-9 (Lemma C and the flip) ----


def paired_scatter_plot(groups: Mapping[str, tuple[Sequence[float], Sequence[float]]], *, xlabel: str,
                        ylabel: str, title: str | None = None, logx: bool = False, logy: bool = False,
                        diagonal: str | None = "y = x") -> Figure:
    """Points (x, y) of one or more groups, with an optional y = x reference line.

    For comparing a prediction with a measurement point by point (e.g. a predicted step length against
    the exact flip distance): on the diagonal the two agree.

    Parameters
    ----------
    groups : mapping label → (x values, y values), each pair of 1-D arrays of one length
    diagonal : str or None
        Legend label of the y = x line; None draws no line.

    Examples
    --------
    >>> import lazylib as ll
    >>> fig = ll.plotting.paired_scatter_plot({"points": ([1.0, 2.0], [1.1, 1.9])}, xlabel="predicted", ylabel="exact")
    >>> len(fig.axes)
    1
    """
    _mapping("groups", groups, "→ (x, y)")
    pairs = {label: _pair("groups", label, pair, "(x values, y values)",
                          "hold two arrays of one length; got {0.shape} and {1.shape}")
             for label, pair in groups.items()}
    with _figure() as (fig, ax):
        for i, (label, (xs, ys)) in enumerate(pairs.items()):
            colour, marker = _look(i)
            ax.scatter(xs, ys, s=18, color=colour, marker=marker, alpha=0.75, label=label)
        if diagonal is not None:
            finite = np.concatenate([np.concatenate(p) for p in pairs.values()])
            finite = finite[np.isfinite(finite) & ((finite > 0) if (logx or logy) else True)]
            lo, hi = float(finite.min()), float(finite.max())
            ax.plot([lo, hi], [lo, hi], "--", color="0.35", linewidth=1.3, label=diagonal)
        _finish(ax, xlabel=xlabel, ylabel=ylabel, title=title, logx=logx, logy=logy)
    return fig


def legend_below_plot(curves: Mapping[str, tuple[Sequence[float], Sequence[float]]], *, xlabel: str,
                      ylabel: str, title: str | None = None, logx: bool = False, logy: bool = False,
                      hlines: Mapping[str, float] | None = None, styles: Mapping[str, Mapping] | None = None,
                      ncol: int = 2) -> Figure:
    """Curves ``curves[label] = (x, y)`` with the legend in columns below the axes, clear of the data.

    For figures with many series, where a legend inside the axes would cover some of them. Log axes
    get plain-number tick labels.

    Parameters
    ----------
    curves : mapping label → (x, y)
        Pairs of 1-D arrays of one length per curve; NaN values leave gaps.
    styles : mapping label → dict, optional
        Extra matplotlib keyword arguments per curve (e.g. ``{"linestyle": "--", "marker": ""}``).
    ncol : int
        Columns of the legend.

    Examples
    --------
    >>> import lazylib as ll
    >>> fig = ll.plotting.legend_below_plot({"a": ([1, 2], [3, 4]), "b": ([1, 3], [2, 2])}, xlabel="x", ylabel="y")
    >>> len(fig.axes)
    1
    """
    _mapping("curves", curves, "→ (x, y)")
    _checks.positive_int("ncol", ncol)
    pairs = {label: _pair("curves", label, xy, mismatch="hold x and y of one length; got {0.size} and {1.size}")
             for label, xy in curves.items()}
    rows = -(-(len(pairs) + len(hlines or {})) // ncol)
    with _figure(figsize=(6.4, 3.9 + 0.32 * rows)) as (fig, ax):
        for i, (label, (xs, ys)) in enumerate(pairs.items()):
            colour, marker = _look(i)
            ax.plot(xs, ys, label=label, **{"color": colour, "marker": marker, **(styles or {}).get(label, {})})
        _hlines(ax, hlines)
        _log_axes(ax, [xs for xs, _ in pairs.values()], logx, logy, most=8, subs=(1.0, 2.0, 3.0, 5.0), always=False)
        _finish(ax, xlabel=xlabel, ylabel=ylabel, title=title, loc="upper center", bbox_to_anchor=(0.5, -0.17),
                ncol=ncol, fontsize=10)
    return fig


def factor_bar_plot(factors: Mapping[str, float], *, xlabel: str, title: str | None = None, logx: bool = True,
                    reference: float | None = 1.0) -> Figure:
    """Horizontal bars, one per named factor (e.g. how many times a bound exceeds the measured value).

    Parameters
    ----------
    factors : mapping label → positive number
        Drawn top to bottom in the mapping's order, each bar labelled with its value.
    logx : bool
        Logarithmic axis (the default: factors are compared by ratio).
    reference : float or None
        A vertical reference line (1: bound and measurement agree).

    Examples
    --------
    >>> import lazylib as ll
    >>> fig = ll.plotting.factor_bar_plot({"a": 2.0, "b": 30.0}, xlabel="bound / measured")
    >>> len(fig.axes)
    1
    """
    _mapping("factors", factors, "→ number")
    labels = list(factors)
    values = _as_array("factors", [factors[k] for k in labels])
    if not np.all(np.isfinite(values)) or (logx and np.any(values <= 0)):
        raise ValueError(f"`factors` must hold finite{' positive' if logx else ''} numbers; got {values.tolist()}.")
    # Wide enough for the labels, so that the bars keep most of the width.
    width = 6.4 + 0.075 * max(len(label) for label in labels)
    with _figure(figsize=(width, 0.55 * len(labels) + 1.4)) as (fig, ax):
        pos = np.arange(len(labels))[::-1]
        ax.barh(pos, values, color=[_look(i)[0] for i in range(len(labels))], height=0.6)
        for p, v in zip(pos, values):
            ax.text(v, p, f" {v:.3g}", va="center", ha="left", fontsize=10)
        ax.set_yticks(pos)
        ax.set_yticklabels(labels)
        if logx:
            ax.set_xscale("log")
        if reference is not None:
            ax.axvline(reference, color="0.35", linestyle=":", linewidth=1.5)
        ax.set_xlim(right=float(values.max()) * (4.0 if logx else 1.25))
        ax.grid(axis="y", visible=False)
        _finish(ax, xlabel=xlabel, ylabel="", title=title, legend=False)
    return fig


# ---- Part III (chapters 10-12): curves with their own x values, several panels in one figure ----


def _draw_curves(ax, curves, *, errors=None, fits=None, hlines=None, logx=False, logy=False,
                 xlabel="", ylabel="", title=None, legend=True, styles=None):
    """One :func:`xy_plot` panel on ``ax``."""
    for i, (label, xy) in enumerate(curves.items()):
        xs, ys = _pair("curves", label, xy)
        colour, marker = _look(i)
        kw = {"color": colour, "marker": marker, "markersize": 4 if xs.size > 20 else 6,
              **(styles or {}).get(label, {})}
        _errorbar(ax, xs, ys, label, _error(errors, label), (fits or {}).get(label), logx, **kw)
    _hlines(ax, hlines)
    _log_axes(ax, [xy[0] for xy in curves.values()], logx, logy)
    _finish(ax, xlabel=xlabel, ylabel=ylabel, title=title, legend=legend, fontsize=9 if len(curves) > 4 else None)


def xy_plot(curves: Mapping[str, tuple[Sequence[float], Sequence[float]]], *, xlabel: str, ylabel: str,
            title: str | None = None, logx: bool = False, logy: bool = False,
            errors: Mapping[str, Sequence[float]] | None = None,
            fits: Mapping[str, tuple[float, float]] | None = None,
            hlines: Mapping[str, float] | None = None, styles: Mapping[str, Mapping] | None = None) -> Figure:
    """Several curves, each with its own x values: ``curves[label] = (x, y)``.

    Parameters
    ----------
    curves : mapping label → (x, y)
        1-D arrays of equal length per curve (lengths may differ between curves).
    fits : mapping label → (slope, intercept) or (slope, intercept, x_min, x_max), optional
        Dashed power law y = exp(intercept)·x^slope over the curve's x range (or over [x_min, x_max],
        the range it was fitted on).
    styles : mapping label → dict, optional
        Extra matplotlib keyword arguments per curve (e.g. ``{"linestyle": "--"}``).

    Examples
    --------
    >>> import lazylib as ll
    >>> fig = ll.plotting.xy_plot({"a": ([1, 2], [3, 4]), "b": ([1, 2, 3], [1, 0, 1])}, xlabel="x", ylabel="y")
    >>> len(fig.axes)
    1
    """
    _mapping("curves", curves, "-> (x, y)")
    with _figure() as (fig, ax):
        _draw_curves(ax, curves, errors=errors, fits=fits, hlines=hlines, logx=logx, logy=logy,
                     xlabel=xlabel, ylabel=ylabel, title=title, styles=styles)
    return fig


def panels_plot(panels: Sequence[Mapping], *, ncols: int = 2, panel_size: tuple[float, float] = (4.6, 3.4)) -> Figure:
    """Several :func:`xy_plot` panels side by side in one figure.

    Parameters
    ----------
    panels : sequence of mappings
        Each holds the keyword arguments of :func:`xy_plot` for one panel (``curves``, ``xlabel``,
        ``ylabel`` and optionally ``title``, ``logx``, ``logy``, ``errors``, ``fits``, ``hlines``,
        ``styles``, ``legend``).
    ncols : int
        Panels per row.

    Examples
    --------
    >>> import lazylib as ll
    >>> p = dict(curves={"a": ([1, 2], [3, 4])}, xlabel="x", ylabel="y")
    >>> len(ll.plotting.panels_plot([p, p, p], ncols=2).axes)
    4
    """
    if isinstance(panels, Mapping) or not isinstance(panels, Sequence) or not panels:
        raise TypeError(f"`panels` must be a non-empty sequence of panel mappings; got {type(panels).__name__}.")
    _checks.positive_int("ncols", ncols)
    ncols = min(ncols, len(panels))
    nrows = int(np.ceil(len(panels) / ncols))
    with _figure(nrows, ncols, figsize=(panel_size[0] * ncols, panel_size[1] * nrows), squeeze=False) as (fig, axes):
        for ax in axes.ravel()[len(panels):]:
            ax.axis("off")
        for ax, panel in zip(axes.ravel(), panels):
            panel = dict(panel)
            for key in ("curves", "xlabel", "ylabel"):
                if key not in panel:
                    raise ValueError(f"`panels` must give every panel `{key}`; got keys {sorted(panel)}.")
            _draw_curves(ax, panel.pop("curves"), **panel)
    return fig
