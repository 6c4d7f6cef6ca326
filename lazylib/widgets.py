"""Interactive explorers for the chapters (ipywidgets), with a static fallback.

An explorer is a figure function ``draw(**values) -> Figure`` and a few controls, each a list of
allowed values with a default. In a live notebook (Jupyter, Binder, Colab) :func:`explorer` shows
sliders and redraws on every change. When the book's pages are executed for saving, or where
ipywidgets is missing, it shows the default view as an ordinary figure, so the static page is never
blank and the saved output holds no widget state. The environment variable
``LAZYLIB_WIDGETS=static`` (set by the book's execute and test commands) selects the static view.

Book: the explorers of every chapter.
"""

from __future__ import annotations

import math
import os
from typing import Any, Callable, Sequence

import torch

__all__ = ["explorer", "static_mode", "lazy_ball_figure"]


def static_mode() -> bool:
    """True when explorers should show only their default figure."""
    if os.environ.get("LAZYLIB_WIDGETS", "").lower() == "static":
        return True
    try:
        import ipywidgets  # noqa: F401
    except ImportError:
        return True
    return False


def explorer(draw: Callable[..., Any], **controls: tuple[Sequence[Any], Any]) -> Any:
    """Show ``draw(**values)`` with one slider per control.

    Parameters
    ----------
    draw : callable
        Takes one keyword argument per control and returns a matplotlib figure.
    **controls : (options, default)
        For each keyword of ``draw``: the values the slider offers and the one shown first.

    Returns
    -------
    The ipywidgets container in a live session, None in static mode.

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
    if not controls:
        raise ValueError("`controls` must name at least one control; got none.")
    defaults = {}
    for name, spec in controls.items():
        if not isinstance(spec, tuple) or len(spec) != 2:
            raise TypeError(f"`{name}` must be a pair (options, default); got {spec!r}.")
        options, default = list(spec[0]), spec[1]
        if not options:
            raise ValueError(f"`{name}` must offer at least one option; got none.")
        if default not in options:
            raise ValueError(f"`{name}` must have its default among its options {options}; got {default!r}.")
        defaults[name] = default

    from IPython.display import display

    import matplotlib.pyplot as plt

    if static_mode():
        fig = draw(**defaults)
        display(fig)
        plt.close(fig)
        return None

    import ipywidgets as w

    sliders = {
        name: w.SelectionSlider(options=list(spec[0]), value=spec[1], description=name,
                                continuous_update=False, style={"description_width": "initial"})
        for name, spec in controls.items()
    }
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


def lazy_ball_figure(m: int = 400, C0: float = 10.0, d: int = 100, seed: int = 0):
    """How far f can move inside the lazy ball, against its linearisation, along a path of inputs.

    Draws, along the great circle between two random unit inputs, f(x; W₀), the exact range
    [inf, sup] of f(x; W) over W ∈ B_{2,∞}(W₀, C₀/√m) (``value_bounds``), and for one random W on the
    ball's boundary, f and its linearisation. Used by chapter 4's explorer.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    from . import _checks
    from .lazy import lazy_radius, linearization, value_bounds
    from .model import TwoLayerReLU
    from .plotting import PALETTE, style

    m, d = _checks.positive_int("m", m), _checks.positive_int("d", d, minimum=2)
    C0 = _checks.number("C0", C0, minimum=0.0)
    seed = _checks.positive_int("seed", seed, minimum=0)
    g = torch.Generator().manual_seed(seed)
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
    with style():
        fig, ax = plt.subplots()
        ax.fill_between(t, lo.numpy(), hi.numpy(), color=PALETTE[5], alpha=0.3, label="range over the lazy ball")
        ax.plot(t, f0.numpy(), color=PALETTE[6], label=r"$f(x; W_0)$")
        ax.plot(t, f_moved.numpy(), color=PALETTE[1], label="f at a random W on the boundary")
        ax.plot(t, f_lin.numpy(), "--", color=PALETTE[2], label="its linearisation")
        ax.set_xlabel("angle along the path between two unit inputs (radians)")
        ax.set_ylabel("network output f(x)")
        ax.set_title(f"d = {d}, m = {m}, C0 = {C0:g}: radius {R:.3f} per neuron")
        ax.legend(frameon=False, fontsize=9)
        fig.tight_layout()
    return fig
