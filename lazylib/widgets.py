"""Interactive explorers for the chapters: live sliders in a notebook, precomputed views on the page.

An explorer is a figure function ``draw(**values) -> Figure`` and a few controls, each a list of
allowed values with a default. In a live notebook (Jupyter, Binder, Colab) :func:`explorer` shows
sliders and redraws on every change. In static mode (``LAZYLIB_WIDGETS=static``, set by the book's
execute and test commands, or where ipywidgets is missing) it shows the default figure as an ordinary
image and, with it, an HTML form: other views drawn by the same ``draw`` (chosen by
:func:`static_views` within the budget ``draw.max_views`` that this module's figure functions carry
for their cost and image size, else :data:`DEFAULT_MAX_VIEWS`), a labelled control per keyword and a
few lines of inline JavaScript that swap the views. So the published page lets a reader move each
control without a kernel, and the saved output holds no widget state. The ``*_figure`` functions
are such ``draw`` functions: each returns a new ``matplotlib.figure.Figure``.

Conventions: a figure function's keywords are its explorer's controls. ``d`` is the input dimension
(≥ 2), ``m`` the width, ``C0`` the lazy-ball constant C₀ ≥ 0 (radius C₀/√m per neuron) and ``seed``
an integer ≥ 0 that seeds the figure's random draws. The Part III figures take ``results``,
the :class:`lazylib.reproduce.Results` of ``python -m lazylib reproduce NAME``, and accept only the
widths, C₀ values and budgets ``eps`` saved in them.

Book: the explorers of every chapter.
"""

from __future__ import annotations

import base64
import functools
import html
import itertools
import json
import math
import os
import random
from typing import TYPE_CHECKING, Any, Callable, Sequence

import numpy as np
import torch

from . import _checks
from .attacks import flip_distance
from .data import sphere
from .estimation import _betainc_inverse
from .lazy import lazy_radius, linearization, value_bounds
from .lemmas import (flip_fraction, gradient_difference, gradient_difference_moments,
                     gradient_difference_search, gradient_norm_search, sample_value_range, value_bound,
                     value_bound_sharp, window_threshold)
from .linear import boundary_distance, random_linear_distance_cdf, random_linear_distance_density
from .metrics import accuracy, power_law_fit
from .model import TwoLayerReLU, input_gradient
from .plotting import MARKERS, PALETTE, _figure, _finish, panels_plot, xy_plot
from .train import train

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["explorer", "static_mode", "static_views", "DEFAULT_MAX_VIEWS", "lazy_ball_figure",
           "random_linear_figure", "random_network_figure", "gradient_difference_figure",
           "flip_fraction_figure", "width_window_figure", "value_bound_figure", "gradient_norm_figure",
           "scaling_figure", "transition_figure", "attack_gap_figure"]

#: Views precomputed for an explorer whose ``draw`` declares no budget of its own.
DEFAULT_MAX_VIEWS = 16


def _generator(seed: Any) -> torch.Generator:
    """A generator seeded with ``seed``, an integer ≥ 0."""
    return torch.Generator().manual_seed(_checks.positive_int("seed", seed, minimum=0))


def static_mode() -> bool:
    """True when explorers should show their precomputed static form rather than live sliders."""
    if os.environ.get("LAZYLIB_WIDGETS", "").lower() == "static":
        return True
    try:
        import ipywidgets  # noqa: F401
    except ImportError:
        return True
    return False


def _check_controls(controls: dict[str, Any]) -> dict[str, tuple[list[Any], int]]:
    """Validate ``name=(options, default)`` pairs; return name -> (options, index of the default)."""
    if not controls:
        raise ValueError("`controls` must name at least one control; got none.")
    checked = {}
    for name, spec in controls.items():
        if not isinstance(spec, tuple) or len(spec) != 2:
            raise TypeError(f"`{name}` must be a pair (options, default); got {spec!r}.")
        try:
            options = list(spec[0])
        except TypeError:
            raise TypeError(f"`{name}` must have a list of options; got {spec[0]!r}.") from None
        default = spec[1]
        if not options:
            raise ValueError(f"`{name}` must offer at least one option; got none.")
        if default not in options:
            raise ValueError(f"`{name}` must have its default among its options {options}; got {default!r}.")
        if any(a == b for a, b in itertools.combinations(options, 2)):
            raise ValueError(f"`{name}` must offer distinct options; got {options}.")
        checked[name] = (options, options.index(default))
    return checked


def _thin(n: int, default: int, keep: int) -> list[int]:
    """``keep`` of the indices 0..n-1, evenly spaced, always holding ``default``."""
    if keep >= n:
        return list(range(n))
    if keep == 1:
        return [default]
    picked = [math.floor(i * (n - 1) / (keep - 1) + 0.5) for i in range(keep)]  # halves round up
    if default not in picked:  # the nearest inner pick (the upper one on a tie) moves onto the default
        movable = range(1, keep - 1) if keep > 2 else range(keep)
        nearest = min(movable, key=lambda i: (abs(picked[i] - default), -picked[i]))
        picked[nearest] = default
    return sorted(picked)


def static_views(sizes: Sequence[int], defaults: Sequence[int], max_views: int = DEFAULT_MAX_VIEWS):
    """The views (at most ``max_views``) an explorer precomputes for its static form: a deterministic rule.

    Parameters
    ----------
    sizes, defaults : sequence of int
        Number of options of each control (≥ 1) and index of its default (``0 <= defaults[i] < sizes[i]``).

    Returns
    -------
    kept : list of list of int
        For each control, the indices of the options offered on the page (sorted; always holding
        the default).
    views : list of tuple of int
        The option indices of each precomputed view, the default view first, then in the order of
        ``itertools.product`` (full grid) or control by control (one at a time).
    mode : {"grid", "one at a time"}
        Every combination of the kept options, or one control varied with the others at their defaults.

    Notes
    -----
    Every combination if there are at most ``max_views``; otherwise one control at a time around
    the defaults, with all options if ``1 + Σ (sizes[i] - 1) <= max_views``, else thinning the
    control with the most kept options (the last such one on a tie: controls come most important
    first) by one option at a time, to evenly spaced options holding the default (the nearest inner
    pick moves onto the default; with two picks, the nearer end, the upper one on a tie, so the
    lower end stays), until the views fit.

    Examples
    --------
    >>> kept, views, mode = static_views([6, 6], [2, 2], max_views=36)
    >>> mode, len(views)
    ('grid', 36)
    >>> kept, views, mode = static_views([5, 5, 5], [3, 3, 1], max_views=16)
    >>> mode, len(views), views[:3]
    ('one at a time', 13, [(3, 3, 1), (0, 3, 1), (1, 3, 1)])
    >>> static_views([5, 5, 5], [3, 3, 1], max_views=7)[0]
    [[0, 3, 4], [0, 3, 4], [0, 1, 4]]
    """
    sizes, defaults = [int(s) for s in sizes], [int(i) for i in defaults]
    max_views = _checks.positive_int("max_views", max_views)
    if len(sizes) != len(defaults) or not sizes:
        raise ValueError(f"`sizes` and `defaults` must have the same positive length; "
                         f"got {sizes}, {defaults}.")
    for n, i in zip(sizes, defaults):
        if n < 1 or not 0 <= i < n:
            raise ValueError(f"every default index must lie in 0..size-1; "
                             f"got sizes {sizes}, defaults {defaults}.")
    start = tuple(defaults)
    if math.prod(sizes) <= max_views:
        kept = [list(range(n)) for n in sizes]
        views = [start] + [v for v in itertools.product(*kept) if v != start]
        return kept, views, "grid"
    counts = list(sizes)
    while 1 + sum(c - 1 for c in counts) > max_views:
        widest = max(range(len(counts)), key=lambda j: (counts[j], j))
        counts[widest] -= 1
    kept = [_thin(n, i, c) for n, i, c in zip(sizes, defaults, counts)]
    views = [start] + [start[:j] + (k,) + start[j + 1:] for j, indices in enumerate(kept) for k in indices
                       if k != defaults[j]]
    return kept, views, "one at a time"


def _unwrap(draw: Callable[..., Any]) -> Callable[..., Any]:
    """The function a (possibly nested) ``functools.partial`` wraps."""
    while isinstance(draw, functools.partial):
        draw = draw.func
    return draw


def _label(value: Any) -> str:
    return format(value, "g") if isinstance(value, float) else str(value)


def _summary(draw: Callable[..., Any]) -> str:
    """The first paragraph of the figure function's docstring, on one line (the figure's description)."""
    doc = (getattr(_unwrap(draw), "__doc__", None) or "").strip()
    text = " ".join(doc.split("\n\n")[0].split()).replace("``", "")
    return (text if text.endswith(".") else text + ".") if text else "A figure."


def _png(fig) -> bytes:
    """The PNG bytes of ``fig`` as the notebook shows it: the running IPython's formatter if it has one."""
    from IPython import get_ipython
    from IPython.core.pylabtools import print_figure

    shell = get_ipython()
    data = shell.display_formatter.formatters["image/png"](fig) if shell is not None else None
    if data is None:
        data = print_figure(fig, "png", bbox_inches="tight")
    if isinstance(data, str):
        data = base64.b64decode(data)
    return bytes(data)


# The page's own script: wires every explorer of the page once (identical copies are harmless). It
# holds no "<" character, so the book's build keeps one copy per page (book/_ext/unique_scripts.py).
_SCRIPT = """(function () {
  function each(list, f) { Array.prototype.forEach.call(list, f); }
  function wire(fig) {
    if (fig.getAttribute("data-ll-ready")) { return; }
    fig.setAttribute("data-ll-ready", "1");
    var controls = fig.querySelectorAll("[data-ll-control]");
    var views = {};
    each(fig.querySelectorAll("img[data-ll-view]"), function (img) { views[img.getAttribute("data-ll-view")] = img; });
    var status = fig.querySelector(".ll-explorer-status");
    function key() { var k = []; each(controls, function (c) { k.push(c.value); }); return k.join(","); }
    function text(c) { return JSON.parse(c.getAttribute("data-ll-labels"))[Number(c.value)]; }
    function show(moved) {
      if (!views[key()]) {
        each(controls, function (c) { if (c !== moved) { c.value = c.getAttribute("data-ll-default"); } });
      }
      var k = key(), parts = [];
      each(controls, function (c) {
        var said = c.getAttribute("data-ll-name") + " = " + text(c);
        parts.push(said);
        if (c.type === "range") { c.setAttribute("aria-valuetext", said); }
        var out = fig.querySelector("output[data-ll-output-for='" + c.getAttribute("data-ll-name") + "']");
        if (out) { out.textContent = text(c); }
      });
      Object.keys(views).forEach(function (v) { views[v].hidden = v !== k; });
      fig.setAttribute("data-ll-shown", k);
      status.textContent = "Showing " + parts.join(", ") + ".";
    }
    each(controls, function (c) {
      c.addEventListener("input", function () { show(c); });
      c.addEventListener("change", function () { show(c); });
    });
    each(fig.querySelectorAll("[data-ll-needs-script]"), function (e) { e.hidden = false; });
    show(null);
  }
  function all() { each(document.querySelectorAll("[data-ll-explorer]"), wire); }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", all); } else { all(); }
})();"""


def _static_html(summary: str, names: list[str], options: list[list[Any]], defaults: list[int],
                 kept: list[list[int]], views: list[tuple[int, ...]], mode: str, pngs: list[bytes]) -> str:
    """The HTML of an explorer's static form (see :func:`explorer`)."""
    esc = html.escape
    default_text = ", ".join(f"{n} = {_label(o[i])}" for n, o, i in zip(names, options, defaults))
    control_list = ", ".join(names)
    # Controls: hidden until the script runs, so a page without scripts shows just the default figure.
    lines = ['<figure class="ll-explorer" data-ll-explorer="1" style="margin: 1em 0">',
             '<div data-ll-needs-script="1" hidden><div class="ll-explorer-controls" role="group" '
             f'aria-label="{esc(f"Explorer controls: {control_list}")}" '
             'style="display: flex; flex-wrap: wrap; gap: 0.4em 2em; margin-bottom: 0.5em">']
    for name, opts, default, indices in zip(names, options, defaults, kept):
        labels = [_label(opts[k]) for k in indices]
        # The control's value is the option's index in the full list, as in the views' keys.
        attrs = (f'data-ll-control="1" data-ll-name="{esc(name)}" data-ll-default="{default}" '
                 f'data-ll-labels="{esc(json.dumps({str(k): t for k, t in zip(indices, labels)}))}"')
        numeric = all(isinstance(opts[k], (int, float)) and not isinstance(opts[k], bool) for k in indices)
        lines.append('<span class="ll-explorer-control" style="display: inline-flex; align-items: center; '
                     f'gap: 0.5em"><label>{esc(name)}')
        if numeric and len(indices) == len(opts):
            lines += [f'<input type="range" min="0" max="{len(opts) - 1}" step="1" value="{default}" {attrs} '
                      f'aria-valuetext="{esc(f"{name} = {_label(opts[default])}")}"></label>',
                      f'<output data-ll-output-for="{esc(name)}">{esc(_label(opts[default]))}</output>']
        else:
            choices = [f'<option value="{k}"{" selected" if k == default else ""}>{esc(text)}</option>'
                       for k, text in zip(indices, labels)]
            lines += [f'<select {attrs}>', *choices, "</select></label>"]
        lines.append("</span>")
    lines.append("</div></div>")
    for view, png in zip(views, pngs):
        values = ", ".join(f"{n} = {_label(o[i])}" for n, o, i in zip(names, options, view))
        alt = f"{summary} Shown for {values}. Controls: {control_list}."
        hidden = "" if view == views[0] else " hidden"
        src = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
        lines.append(f'<img data-ll-view="{",".join(map(str, view))}"{hidden} alt="{esc(alt)}" src="{src}" '
                     'style="max-width: 100%; width: 80%">')
    note = [f"{len(views)} precomputed views, one for each ",
            "combination of the values offered." if mode == "grid"
            else f"value of one control with the others at their defaults ({default_text}); moving a control "
            "returns the others to their defaults."]
    left_out = [f"{n} {', '.join(_label(o[k]) for k in range(len(o)) if k not in ks)}"
                for n, o, ks in zip(names, options, kept) if len(ks) < len(o)]
    if left_out:
        note.append(f" Left out here, offered in a live notebook: {'; '.join(left_out)}.")
    lines += ['<figcaption data-ll-needs-script="1" hidden style="font-size: 0.9em">'
              '<span class="ll-explorer-status" aria-live="polite"></span> '
              f'{esc("".join(note))}</figcaption>',
              "</figure>", f"<script>{_SCRIPT}</script>"]
    return "\n".join(lines)


def _static_explorer(draw: Callable[..., Any], checked: dict[str, tuple[list[Any], int]], max_views: int):
    """Draw every view of the static form; return the default figure (open) and the form's HTML."""
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    names = list(checked)
    options, defaults = (list(column) for column in zip(*checked.values()))
    kept, views, mode = static_views([len(o) for o in options], defaults, max_views)

    def figure(view: tuple[int, ...]):
        fig = draw(**{n: o[i] for n, o, i in zip(names, options, view)})
        if not isinstance(fig, Figure):
            raise TypeError(f"`draw` must return a matplotlib figure; got {type(fig).__name__}.")
        return fig

    default_fig = figure(views[0])  # drawn first, exactly as the live explorer draws it
    pngs = [_png(default_fig)]
    # The other views leave every global random state as the default view alone left it.
    py_state, np_state = random.getstate(), np.random.get_state()
    with torch.random.fork_rng(devices=[]):
        try:
            for view in views[1:]:
                fig = figure(view)
                try:
                    pngs.append(_png(fig))
                finally:
                    plt.close(fig)
        finally:
            random.setstate(py_state)
            np.random.set_state(np_state)
    return default_fig, _static_html(_summary(draw), names, options, defaults, kept, views, mode, pngs)


def explorer(draw: Callable[..., Any], *, max_views: int | None = None,
             **controls: tuple[Sequence[Any], Any]) -> Any:
    """Show ``draw(**values)`` with one slider per control; on a static page, precomputed views.

    Parameters
    ----------
    max_views : int, optional
        Most views precomputed for the static form (see :func:`static_views`). Default: the
        ``max_views`` attribute of ``draw`` (of the function a ``functools.partial`` wraps), else
        :data:`DEFAULT_MAX_VIEWS`.
    **controls : (options, default)
        For each keyword of ``draw``: the distinct values the slider offers and the one shown first.

    Returns
    -------
    The ipywidgets container in a live session, None in static mode.

    Notes
    -----
    In static mode the default figure is displayed as a plain figure would be (one ``display`` call,
    the same PNG), carrying the ``text/html`` form of the module docstring: keyboard-operable controls
    (a range input for numbers, a select otherwise) and the views as PNG images whose alt text is the
    first paragraph of ``draw``'s docstring, the values shown and the controls' names. HTML pages render
    that form, builders without HTML (LaTeX) the PNG. Global random states after the call are those the
    default figure alone leaves.

    Examples
    --------
    >>> import lazylib as ll
    >>> ll.widgets.explorer(lambda n: None, n=([1, 2], 3))
    Traceback (most recent call last):
    ...
    ValueError: `n` must have its default among its options [1, 2]; got 3.
    """
    if not callable(draw):
        raise TypeError(f"`draw` must be a callable returning a figure; got {type(draw).__name__}.")
    checked = _check_controls(controls)
    max_views = _checks.positive_int("max_views", getattr(_unwrap(draw), "max_views", DEFAULT_MAX_VIEWS) if max_views is None
                                 else max_views)

    import matplotlib.pyplot as plt
    from IPython.display import display

    if static_mode():
        fig, page = _static_explorer(draw, checked, max_views)
        fig._repr_html_ = lambda: page  # one output: the PNG and text/plain as before, plus the HTML form
        try:
            display(fig)
        finally:
            del fig._repr_html_
            plt.close(fig)
        return None

    import ipywidgets as w

    sliders = {name: w.SelectionSlider(options=list(spec[0]), value=spec[1], description=name,
                                       continuous_update=False, style={"description_width": "initial"})
               for name, spec in controls.items()}
    out = w.Output()

    def redraw(_: Any = None) -> None:
        with out:
            out.clear_output(wait=True)
            fig = draw(**{name: s.value for name, s in sliders.items()})
            display(fig)
            plt.close(fig)

    for s in sliders.values():
        s.observe(redraw, names="value")
    redraw()
    box = w.VBox([w.HBox(list(sliders.values())), out])
    display(box)
    return box


def lazy_ball_figure(m: int = 400, C0: float = 10.0, d: int = 100, seed: int = 0) -> Figure:
    """How far f can move inside the lazy ball, against its linearisation, along a path of inputs.

    Draws, along the great circle between two random unit inputs, f(x; W₀), the exact range
    [inf, sup] of f(x; W) over W ∈ B_{2,∞}(W₀, C₀/√m) (``value_bounds``), and for one random W on the
    ball's boundary, f and its linearisation. Used by chapter 4's explorer.
    """
    m, d = _checks.positive_int("m", m), _checks.positive_int("d", d, minimum=2)
    C0 = _checks.number("C0", C0, minimum=0.0)
    g = _generator(seed)
    net = TwoLayerReLU(d, m, generator=g, dtype=torch.float64)
    ends = torch.nn.functional.normalize(torch.randn(2, d, generator=g, dtype=torch.float64), dim=1)
    angle = torch.linspace(0, 1, 201, dtype=torch.float64)[:, None] * math.acos(float(ends[0] @ ends[1]))
    other = torch.nn.functional.normalize(ends[1] - (ends[1] @ ends[0]) * ends[0], dim=0)
    path = torch.cos(angle) * ends[0] + torch.sin(angle) * other
    R = lazy_radius(m, C0)
    lo, hi = value_bounds(net, path, R)
    with torch.no_grad():
        f0 = net(path)
        step = torch.nn.functional.normalize(torch.randn(m, d, generator=g, dtype=torch.float64), dim=1)
        net.W.add_(R * step)
        f_moved, f_lin = net(path), linearization(net, path)
    t = angle[:, 0].numpy()
    with _figure() as (fig, ax):
        ax.fill_between(t, lo.numpy(), hi.numpy(), color=PALETTE[5], alpha=0.3,
                        label="range over the lazy ball")
        ax.plot(t, f0.numpy(), color=PALETTE[6], label=r"$f(x; W_0)$")
        ax.plot(t, f_moved.numpy(), color=PALETTE[1], label="f at a random W on the boundary")
        ax.plot(t, f_lin.numpy(), "--", color=PALETTE[2], label="its linearisation")
        _finish(ax, xlabel="angle along the path between two unit inputs (radians)",
                ylabel="network output f(x)",
                title=f"d = {d}, m = {m}, C0 = {C0:g}: radius {R:.3f} per neuron", fontsize=9)
    return fig


# ---- Part I (chapters 2-3) ----

def random_linear_figure(d: int = 100, eps: float = 0.05, seed: int = 0) -> Figure:
    """Distances from 2000 unit inputs to the boundary of one random linear classifier in dimension d.

    A histogram of |wᵀx|/‖w‖ for x uniform on the unit sphere and w ~ N(0, I_d), the part within ε
    (the points a perturbation of norm ε flips) in a second colour, and the exact density of
    Proposition ``prop-random-linear``. The title compares the measured robust accuracy at ε with the
    exact one. Used by chapter 2's explorer.
    """
    d = _checks.positive_int("d", d, minimum=2)
    eps = _checks.number("eps", eps, minimum=0.0)
    g = _generator(seed)
    x, _ = sphere(2000, d, generator=g, dtype=torch.float64)
    w = torch.randn(d, generator=g, dtype=torch.float64)
    dist = boundary_distance(w, x)
    measured = float((dist > eps).to(torch.float64).mean())
    exact = 1.0 - float(random_linear_distance_cdf(eps, d))
    upper = min(1.0, max(1.3 * eps, float(torch.quantile(dist, 0.995))))
    grid = torch.linspace(0.0, upper, 300, dtype=torch.float64)
    bins = torch.linspace(0.0, upper, 41, dtype=torch.float64).numpy()
    with _figure() as (fig, ax):
        ax.hist([dist[dist <= eps].numpy(), dist[dist > eps].numpy()], bins=bins, stacked=True, density=True,
                color=[PALETTE[1], PALETTE[5]], edgecolor="white",
                label=[r"flipped by a perturbation of norm $\varepsilon$", "robust at this budget"])
        ax.plot(grid.numpy(), random_linear_distance_density(grid, d).numpy(), color=PALETTE[6],
                label="exact density")
        ax.axvline(eps, color="0.3", linestyle="--", linewidth=1.5)
        ax.set_xlim(0.0, upper)
        _finish(ax, xlabel=r"distance to the boundary $|w^\top x|/\|w\|$ (inputs of norm 1)",
                ylabel="probability density",
                title=f"d = {d}, ε = {eps:g}: robust accuracy {measured:.3f} (exact {exact:.3f})",
                fontsize=10)
    return fig


def random_network_figure(d: int = 400, m: int = 1000, seed: int = 0) -> Figure:
    """The single-step attack on random two-layer ReLU networks of input dimension d and width m.

    Left: for five unit inputs, sign f(x)·f(x + t·u) along the gradient ray u = −sign f(x)∇f/‖∇f‖
    (solid) and its linear prediction |f(x)| − t‖∇f(x)‖ (dashed), against t√d. Right: the exact flip
    distance t* (``flip_distance``) times √d for 20 inputs on each of 20 independent networks (leaving
    out inputs where no neuron is active, so f = 0 and there is no ray), with the density of the
    distance to the boundary of a random linear classifier (√d|u₁|, chapter 2), which the linear
    prediction follows for wide networks. Used by chapter 3's explorer.
    """
    d, m = _checks.positive_int("d", d, minimum=2), _checks.positive_int("m", m)
    g = _generator(seed)
    root_d = math.sqrt(d)
    nets, xs, dists, nonzero = [], [], [], []
    for _ in range(20):
        net = TwoLayerReLU(d, m, generator=g, dtype=torch.float64)
        x, _ = sphere(20, d, generator=g, dtype=torch.float64)
        nets.append(net)
        xs.append(x)
        dists.append(flip_distance(net, x))
        with torch.no_grad():
            nonzero.append(net(x) != 0)  # where no neuron is active, f = 0 and there is no gradient ray
    active = torch.cat(nonzero)
    scaled = torch.cat(dists)[active] * root_d
    finite = scaled[torch.isfinite(scaled)]
    never = 1.0 - finite.numel() / max(1, scaled.numel())
    zero = 1.0 - float(active.to(torch.float64).mean())
    limit_median = math.sqrt(float(_betainc_inverse(0.5, (d - 1) / 2, 0.5))) * root_d
    net, x = nets[0], xs[0][:5]
    with torch.no_grad():
        f0 = net(x)
        grad = input_gradient(net, x)
        gnorm = grad.norm(dim=1)
        u = -torch.sign(f0)[:, None] * grad / gnorm.clamp_min(1e-300)[:, None]
        tau = torch.linspace(0.0, 3.0, 301, dtype=torch.float64)
        path = x[:, None, :] + (tau / root_d)[None, :, None] * u[:, None, :]
        along = torch.sign(f0)[:, None] * net(path.reshape(-1, d)).reshape(5, -1)
    with _figure(1, 2, figsize=(11.5, 4.3)) as (fig, (ax1, ax2)):
        for i in range(5):
            colour = PALETTE[i % len(PALETTE)]
            ax1.plot(tau.numpy(), along[i].numpy(), color=colour)
            ax1.plot(tau.numpy(), (f0[i].abs() - tau / root_d * gnorm[i]).numpy(), "--", color=colour,
                     linewidth=1.2)
        ax1.axhline(0.0, color="0.3", linewidth=1.0)
        ax1.set_ylim(-1.5, float(f0.abs().max()) * 1.15 + 0.05)
        _finish(ax1, xlabel=r"distance along the ray $\times\sqrt{d}$ (inputs of norm 1)",
                ylabel=r"$\mathrm{sign}\,f(x)\cdot f(x + t u)$", legend=False)
        ax1.set_title("f along the gradient ray (dashed: linear)", fontsize=12)
        upper = min(6.0, max(3.5, float(finite.max()))) if finite.numel() else 3.5
        bins = torch.linspace(0.0, upper, 36).numpy()
        ax2.hist(finite.clamp_max(upper).numpy(), bins=bins, density=True, color=PALETTE[5],
                 edgecolor="white", label="exact flip distance")
        grid = torch.linspace(0.0, upper, 300, dtype=torch.float64)
        ax2.plot(grid.numpy(), (random_linear_distance_density(grid / root_d, d) / root_d).numpy(),
                 color=PALETTE[1], label="random linear classifier (chapter 2)")
        title = (f"median {float(finite.median()):.2f} (linear law {limit_median:.2f})" if finite.numel()
                 else "no flips")
        if never > 0:
            title += f"; {100 * never:.0f}% never flip"
        if zero > 0:
            title += f"; f = 0 at {100 * zero:.0f}%"
        ax2.set_title(title, fontsize=12)
        _finish(ax2, xlabel=r"flip distance $t^\star\sqrt{d}$ (inputs of norm 1)",
                ylabel="probability density", fontsize=10)
        fig.suptitle(f"random networks, d = {d}, m = {m}", fontsize=13)
    return fig


# ---- Part II, chapters 8-9 (Lemma C and the flip) ----

def gradient_difference_figure(d: int = 400, m: int = 2000, c: float = 4.0, seed: int = 0) -> Figure:
    """How much the input gradient of a random network changes over a ball of radius up to c/√d.

    For 16 random unit inputs, draws against t√d (t the length of the displacement): the mean of
    ‖∇f(x + u) − ∇f(x)‖/‖∇f(x)‖ along the attack direction and along random directions, the
    prediction √(2θ/π) of Lemma ``lem-difference-fixed`` (the root mean square ratio), and the worst
    case found by ``ll.lemmas.gradient_difference_search`` at three radii (on 8 of the inputs), with
    the level 1/2 that the flip lemma needs. Used by chapter 8's explorer.
    """
    d, m = _checks.positive_int("d", d, minimum=2), _checks.positive_int("m", m)
    c = _checks.number("c", c, minimum=0.0, strict=True)
    gen = _generator(seed)
    net = TwoLayerReLU(d, m, generator=gen)
    n = 16
    x = torch.nn.functional.normalize(torch.randn(n, d, generator=gen), dim=1)
    rand_dir = torch.nn.functional.normalize(torch.randn(n, d, generator=gen), dim=1)
    with torch.no_grad():
        grad = input_gradient(net, x)
        gnorm = grad.norm(dim=1)
        attack_dir = -torch.sign(net(x))[:, None] * grad / gnorm[:, None]
    ts = [c * k / (12 * math.sqrt(d)) for k in range(1, 13)]
    attack, rand, pred = [], [], []
    for t in ts:
        attack.append(float((gradient_difference(net, x, t * attack_dir) / gnorm).mean()))
        rand.append(float((gradient_difference(net, x, t * rand_dir) / gnorm).mean()))
        mom = gradient_difference_moments(x, t * rand_dir, m)
        pred.append(float((2 * mom.square_norm / d).sqrt().mean()))  # E‖Δ‖²/E‖∇f‖² = 2θ/π
    search = []
    for t in ts[3::4]:  # the search is the expensive part: 8 of the 16 inputs
        _, best = gradient_difference_search(net, x[:8], t, restarts=4, steps=30, generator=gen)
        search.append(float((best / gnorm[:8]).mean()))
    scaled = [t * math.sqrt(d) for t in ts]
    with _figure() as (fig, ax):
        ax.plot(scaled, attack, color=PALETTE[0], marker=MARKERS[0], label="attack direction")
        ax.plot(scaled, rand, color=PALETTE[1], marker=MARKERS[1], label="random direction")
        ax.plot(scaled, pred, "--", color=PALETTE[2], label=r"lemma: $\sqrt{2\theta/\pi}$")
        ax.plot(scaled[3::4], search, linestyle="none", color=PALETTE[3], marker=MARKERS[3],
                markersize=9, label="worst direction found")
        ax.axhline(0.5, color="0.35", linestyle=":", linewidth=1.5, label="1/2 (flip lemma)")
        ax.set_ylim(bottom=0)
        _finish(ax, xlabel=r"displacement length $\|u\|\sqrt{d}$ (unit inputs)",
                ylabel=r"$\|\nabla f(x+u) - \nabla f(x)\| \,/\, \|\nabla f(x)\|$",
                title=f"random network, d = {d}, m = {m}", fontsize=10, loc="upper center",
                bbox_to_anchor=(0.5, -0.17), ncol=2)
        fig.set_size_inches(6.4, 4.9)
    return fig


def flip_fraction_figure(d: int = 400, m: int = 1000, C0: float = 40.0, seed: int = 0) -> Figure:
    """Fraction of points whose sign the theorem's step flips, against C₂, for a lazily trained network.

    Trains a width-m network by projected full-batch gradient descent (40 steps of size 100, lazy
    ball of constant C₀) on 200 uniform points of the unit sphere in ℝ^d with labels from a random
    linear rule, then draws, at those points and for C₂ from 0 to 6, the fraction flipped by the step
    δ = η∇f with |η| = C₂/‖∇f‖² (``ll.lemmas.flip_fraction``) and the first-order prediction
    P(|f(x)| < C₂). The points are nearly orthogonal, so the step size is large (each point's output
    moves almost alone) and C₀ must be large enough for the ball to fit them. Used by chapter 9's explorer.
    """
    d, m = _checks.positive_int("d", d, minimum=2), _checks.positive_int("m", m)
    C0 = _checks.number("C0", C0, minimum=0.0)
    gen = _generator(seed)
    x, y = sphere(200, d, generator=gen, labels="linear")
    net = TwoLayerReLU(d, m, generator=gen)
    train(net, x, y, lr=100.0, epochs=40, C0=C0, progress=False)
    grid = torch.linspace(0, 6, 61)
    measured = flip_fraction(net, x, grid)
    with torch.no_grad():
        f = net(x).abs()
    linear = (f[None, :] < grid[:, None]).double().mean(dim=1)
    with _figure() as (fig, ax):
        ax.plot(grid.numpy(), measured.numpy(), color=PALETTE[0], label="flipped by the step (exact)")
        ax.plot(grid.numpy(), linear.numpy(), "--", color=PALETTE[1], label=r"first order: $P(|f(x)| < C_2)$")
        ax.set_ylim(-0.02, 1.02)
        _finish(ax, xlabel=r"step constant $C_2$ (step length $C_2/\|\nabla f\|$)",
                ylabel="fraction of points flipped",
                title=f"d = {d}, m = {m}, C0 = {C0:g}: training accuracy {accuracy(net, x, y):.2f}",
                fontsize=10, loc="lower right")
    return fig


# ---- Chapters 5-7 (Part II: the theorem, Lemma A, Lemma B) ----

def width_window_figure(k: float = 1.0, C4: float = 1.0, C_low: float = 1.0) -> Figure:
    """The main theorem's width window against the input dimension, on log-log axes.

    Draws the upper end C₄·exp(d^{0.24}) of the window and an illustrative lower end C_low·d^k (the
    paper's summary says only "polynomially large in d"), shades the widths in between where the
    window is non-empty, and marks MNIST's d = 784 and the threshold d* of
    ``lemmas.window_threshold``. Used by chapter 5's explorer.

    ``k`` > 0 is the exponent of the illustrative lower end, ``C4`` > 0 and ``C_low`` > 0 the constants
    of the two ends.
    """
    k = _checks.number("k", k, minimum=0.0, strict=True)
    C4 = _checks.number("C4", C4, minimum=0.0, strict=True)
    C_low = _checks.number("C_low", C_low, minimum=0.0, strict=True)
    d_star = window_threshold(k, C_low=C_low, C4=C4)
    log_d = np.linspace(1.0, max(8.0, np.log10(d_star) + 1.0), 400)
    d = 10.0**log_d
    log_up = np.log10(C4) + d**0.24 / np.log(10.0)
    log_low = np.log10(C_low) + k * log_d
    with _figure() as (fig, ax):
        ax.plot(log_d, log_up, color=PALETTE[0], label=r"upper end $C_4\,e^{d^{0.24}}$")
        ax.plot(log_d, log_low, color=PALETTE[1], label=rf"illustrative lower end $C_{{low}}\,d^{{{k:g}}}$")
        ax.fill_between(log_d, log_low, log_up, where=log_up >= log_low, color=PALETTE[2], alpha=0.25,
                        label="window non-empty")
        ax.axvline(np.log10(784.0), color="0.3", linestyle=":", linewidth=1.5, label="MNIST, d = 784")
        if d_star > 1.0:
            ax.axvline(np.log10(d_star), color=PALETTE[3], linestyle="--", linewidth=1.5,
                       label=f"open for all d beyond {d_star:.3g}")
        ax.set_ylim(0.0, max(float(log_low.max()), 12.0))
        _finish(ax, xlabel=r"input dimension $\log_{10} d$", ylabel=r"width $\log_{10} m$ (neurons)",
                title=f"k = {k:g}, C4 = {C4:g}, C_low = {C_low:g}", fontsize=9, loc="upper left")
    return fig


def value_bound_figure(m: int = 256, C0: float = 10.0, gamma: float = 0.05, seed: int = 0) -> Figure:
    """The exact worst case of |f| over the lazy ball for 4000 random networks, against Lemma A.

    A histogram of sup_W |f(x; W)| over W ∈ B_{2,∞}(W₀, C₀/√m), one value per independent
    initialisation (``lemmas.sample_value_range``, input of norm 1), with the paper's bound
    2√(log(2/γ)) + C₀, the book's sharper bound and the empirical (1 − γ)-quantile, the smallest
    level that a bound failing with probability γ could have. Used by chapter 6's explorer.
    """
    m = _checks.positive_int("m", m)
    C0 = _checks.number("C0", C0, minimum=0.0)
    gamma = _checks.number("gamma", gamma, minimum=0.0, strict=True)
    if gamma >= 1:
        raise ValueError(f"`gamma` must be a number in (0, 1); got {gamma!r}.")
    worst = sample_value_range(m, C0, 4000, generator=_generator(seed)).sup_abs
    paper, sharp = value_bound(gamma, C0), value_bound_sharp(gamma, C0, m)
    quantile = float(torch.quantile(worst, 1.0 - gamma))
    failed = float((worst > sharp).to(torch.float64).mean())
    with _figure() as (fig, ax):
        bins = torch.linspace(0.0, paper * 1.08, 61).numpy()
        ax.hist(worst.numpy(), bins=bins, density=True, color=PALETTE[5], label="worst case, one per network")
        ax.axvline(quantile, color=PALETTE[6], linestyle=":", linewidth=2,
                   label=f"(1 − γ)-quantile {quantile:.2f}")
        ax.axvline(sharp, color=PALETTE[2], linestyle="--", linewidth=2, label=f"book's bound {sharp:.2f}")
        ax.axvline(paper, color=PALETTE[1], linewidth=2, label=f"paper's bound {paper:.2f}")
        ax.set_xlim(0.0, paper * 1.08)
        ax.set_title(f"m = {m}, C0 = {C0:g}, γ = {gamma:g}: book's bound exceeded by {100 * failed:.2f}%",
                     fontsize=11)
        _finish(ax, xlabel=r"largest $|f(x;W)|$ over the lazy ball ($\|x\| = 1$)",
                ylabel="probability density", fontsize=9)
    return fig


def gradient_norm_figure(d: int = 196, m: int = 1000, seed: int = 0) -> Figure:
    """How far the lazy ball can shrink and grow the input gradient, against the ball's size C₀.

    For four unit inputs and one random network, and C₀ from 0.25 to 16: the mean of ‖∇f(x; W₀)‖,
    the smallest and largest ‖∇f(x; W)‖ found by ``lemmas.gradient_norm_search`` (actual points of
    the ball), the certified lower bound on the smallest, the closed-form upper bound
    ‖∇f(x; W₀)‖ + ``gradient_change_bounds`` on the largest, and √(d/2). Used by chapter 7's explorer.
    """
    d, m = _checks.positive_int("d", d, minimum=2), _checks.positive_int("m", m)
    g = _generator(seed)
    net = TwoLayerReLU(d, m, generator=g, dtype=torch.float64)
    x, _ = sphere(4, d, generator=g, dtype=torch.float64)
    C0s = [0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0]
    g0 = float(input_gradient(net, x).norm(dim=1).mean())
    radii = [lazy_radius(m, C0) for C0 in C0s]
    searches = [(gradient_norm_search(net, x, R, mode="min", steps=60),
                 gradient_norm_search(net, x, R, mode="max", steps=30, restarts=2, generator=g))
                for R in radii]
    rows = {"found min": [float(lo.norm.mean()) for lo, _ in searches],
            "certified min": [float(lo.certificate.mean()) for lo, _ in searches],
            "found max": [float(hi.norm.mean()) for _, hi in searches],
            "certified max": [float(hi.certificate.mean()) for _, hi in searches]}
    with _figure() as (fig, ax):
        ax.fill_between(C0s, rows["found min"], rows["found max"], color=PALETTE[5], alpha=0.3,
                        label="range found in the ball")
        for i, key in enumerate(rows):
            ax.plot(C0s, rows[key], color=PALETTE[i], marker=MARKERS[i],
                    linestyle="-" if "found" in key else "--", label=key)
        ax.axhline(g0, color=PALETTE[6], linewidth=1.5, label=r"$\|\nabla f(x;W_0)\|$")
        ax.axhline(math.sqrt(d / 2), color="0.4", linestyle=":", linewidth=1.5, label=r"$\sqrt{d/2}$")
        ax.set_xscale("log", base=2)
        ax.set_ylim(0.0, min(max(rows["certified max"]), 3.0 * max(rows["found max"])) * 1.05)
        _finish(ax, xlabel=r"lazy-ball constant $C_0$ (radius $C_0/\sqrt{m}$)",
                ylabel=r"$\|\nabla_x f(x;W)\|$ (mean over 4 inputs)", title=f"d = {d}, m = {m}", fontsize=8,
                ncol=2)
    return fig


# ---- Part III (chapters 10-12): explorers over the saved results of ``python -m lazylib reproduce`` ----
_SCALING_QUANTITIES = {
    "gradient norm": ("grad_norm.mean", r"mean $\|\nabla_x f\|$ (correct test images)", 0.5),
    "flip distance": ("flip_distance.median", "median exact flip distance", -0.5),
    "eta": ("eta.median", r"median $\eta$ = distance / $\|\nabla_x f\|$", -1.0),
}


def _results(results, names: tuple[str, ...], eps: float | None = None) -> None:
    """TypeError unless ``results`` are the saved Results of one of ``names``; ValueError unless ``eps``
    is saved."""
    from .reproduce import Results

    if not isinstance(results, Results) or results.name not in names:
        raise TypeError(f"`results` must be the Results of the {' or '.join(map(repr, names))} experiment; "
                        f"got {type(results).__name__}.")
    if eps is not None and not any(math.isclose(float(eps), e) for e in results.values("eps")):
        raise ValueError(f"`eps` must be one of the saved budgets {results.values('eps')}; got {eps!r}.")


def scaling_figure(results, m: int = 1000, C0: float = 10.0, quantity: str = "flip distance") -> Figure:
    """The ``scaling`` experiment at one width and one C₀: a quantity against d, and the robust accuracy.

    Left: the chosen quantity (mean over seeds) against d on log-log axes, with the power law fitted
    over d ≥ 100 and its slope; the dotted line is the slope the theory predicts (1/2 for the gradient
    norm, −1/2 for the flip distance, −1 for η) through the last point. Right: the single-step robust
    accuracy against the budget ε√d, one curve per d. Used by chapter 10's explorer.

    ``results`` are those of ``scaling``; ``quantity`` is "gradient norm", "flip distance" or "eta".
    """
    _results(results, ("scaling",))
    quantity = _checks.choice("quantity", quantity, tuple(_SCALING_QUANTITIES))
    if m not in results.values("m"):
        raise ValueError(f"`m` must be one of the saved widths {results.values('m')}; got {m!r}.")
    if float(C0) not in results.values("C0"):
        raise ValueError(f"`C0` must be one of the saved values {results.values('C0')}; got {C0!r}.")
    key, label, theory = _SCALING_QUANTITIES[quantity]
    ds, mean, sem = results.mean(key, by="d", m=m, C0=float(C0))
    big = [i for i, d in enumerate(ds) if d >= 100]
    fit = power_law_fit([ds[i] for i in big], [mean[i] for i in big])
    ref = [mean[-1] * (d / ds[-1]) ** theory for d in ds]
    slope = f"slope {theory:g} (theory)"
    left = dict(curves={"measured": (ds, mean), slope: (ds, ref)}, errors={"measured": sem},
                fits={"measured": (fit.slope, fit.intercept, 100, ds[-1])},
                styles={slope: dict(linestyle=":", marker=None, color="0.4")},
                xlabel="input dimension d (pixels)", ylabel=label, logx=True, logy=True,
                title=f"m = {m}, C0 = {float(C0):g} (fit over d ≥ 100)")
    curves = {f"d = {d}": results.scaled_accuracy(d=d, m=m, C0=float(C0)) for d in ds}
    right = dict(curves=curves, xlabel=r"single-step budget $\varepsilon\sqrt{d}$ (image norm 1)",
                 ylabel="robust test accuracy", title="one exact gradient step")
    return panels_plot([left, right], ncols=2)


def transition_figure(results, eps: float = 0.2, normalise: bool = False, attack: str = "pgd") -> Figure:
    """Robust accuracy after projected adversarial training against the allowed deviation.

    One curve per (d, m) at budget ε: against C₀ (``advtrain``) or the per-neuron radius (``radius``),
    or, with ``normalise``, against C₀ / (ε√d) (for ``radius``: radius·√m / (ε√d)), the scale at which
    chapter 11 predicts the transition. Used by chapter 11's explorer.

    ``results`` are those of ``advtrain`` or ``radius``; ``attack`` picks the robust accuracy shown,
    "pgd" or "single_step".
    """
    _results(results, ("advtrain", "radius"))
    _checks.flag("normalise", normalise)
    attack = _checks.choice("attack", attack, ("pgd", "single_step"))
    _results(results, ("advtrain", "radius"), eps)
    value = f"robust_accuracy_{attack}"
    curves, errors = {}, {}
    for d in results.values("d"):
        for m in results.values("m"):
            xs, mu, se = results.mean(value, by="C0_effective", d=d, m=m, eps=float(eps))
            if not xs:
                continue
            if normalise:
                xs = [x / (float(eps) * math.sqrt(d)) for x in xs]
            elif results.name == "radius":
                xs = [x / math.sqrt(m) for x in xs]
            label = f"d = {d}, m = {m}"
            curves[label], errors[label] = (xs, mu), se
    if normalise:
        xlabel = r"allowed deviation $C_0 / (\varepsilon\sqrt{d})$" if results.name == "advtrain" else \
            r"radius $\times\sqrt{m}\,/\,(\varepsilon\sqrt{d})$"
    else:
        xlabel = (r"$C_0$ (lazy-ball radius $\times\sqrt{m}$)" if results.name == "advtrain"
                  else "radius per neuron")
    name = "PGD" if attack == "pgd" else "one exact gradient step"
    return xy_plot(curves, errors=errors, xlabel=xlabel, ylabel=f"robust test accuracy ({name})", logx=True,
                   title=f"adversarial training and test at ε = {float(eps):g}")


def attack_gap_figure(results, eps: float = 0.2) -> Figure:
    """Robust accuracy under PGD and under one exact gradient step, against C₀, for every d at budget ε.

    Solid lines: PGD (the attack used in training, clipped to [0, 1]); dashed: the single exact step
    along the gradient (no clipping). Used by chapter 12's explorer.
    """
    _results(results, ("advtrain", "radius"), eps)
    curves, styles = {}, {}
    for i, d in enumerate(results.values("d")):
        for attack, dash in (("pgd", "-"), ("single_step", "--")):
            xs, mu, _ = results.mean(f"robust_accuracy_{attack}", by="C0_effective", d=d, eps=float(eps))
            label = f"d = {d}, " + ("PGD" if attack == "pgd" else "one step")
            curves[label] = (xs, mu)
            styles[label] = dict(linestyle=dash, color=PALETTE[i % len(PALETTE)])
    return xy_plot(curves, styles=styles, xlabel=r"$C_0$ (lazy-ball radius $\times\sqrt{m}$)",
                   ylabel="robust test accuracy", logx=True, title=f"budget ε = {float(eps):g}")


# Views precomputed for each figure function's explorer on the static page (see ``static_views``):
# every combination where the figures are quick and small enough (under about 3 MB of images per
# page), one control at a time elsewhere; the chapters' execution budget (90 s) bounds the slow ones.
for _draw in (random_network_figure, lazy_ball_figure, flip_fraction_figure, width_window_figure,
              value_bound_figure, scaling_figure, transition_figure, attack_gap_figure):
    _draw.max_views = DEFAULT_MAX_VIEWS
del _draw
random_linear_figure.max_views = 36
gradient_norm_figure.max_views = 3  # each view runs two gradient searches per C0
gradient_difference_figure.max_views = 4  # chapter 8 spends most of its budget on its own computations
