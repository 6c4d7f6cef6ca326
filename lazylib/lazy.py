"""Geometry of the lazy regime: the ball B_{2,∞}(W₀, C₀/√m) and what f can do inside it.

Book: chapter 4 (the lazy regime, label ``def-lazy-regime``) and chapter 6 (Lemma A).

Each function takes one network or an :class:`lazylib.Ensemble` (results gain a leading K axis; a radius
may then be one number or K of them, member k's ball having radius radius[k]). Inputs ``x`` are (n, d),
or (K, n, d) for an ensemble. ``C0`` is the lazy regime's constant C₀ ≥ 0; ``radius`` is the radius
R ≥ 0 of the ball B_{2,∞}(W₀, R), e.g. ``lazy_radius(m, C0)``, always around W₀ whatever the current W.
"""

from __future__ import annotations

import math

import torch

from . import _checks
from .model import TwoLayerReLU, _readout, _unit

__all__ = ["lazy_radius", "deviation", "project_", "value_bounds", "value_extremiser", "linearization",
           "switchable_neurons"]


def lazy_radius(m: int, C0: float) -> float:
    """The lazy-ball radius C₀/√m, for a width m ≥ 1 and C₀ ≥ 0.

    Examples
    --------
    >>> import lazylib as ll
    >>> ll.lazy_radius(100, 10.0)
    1.0

    Book: Definition ``def-lazy-regime`` (chapter 4).
    """
    m = _checks.positive_int("m", m)
    C0 = _checks.number("C0", C0, minimum=0.0)
    return C0 / math.sqrt(m)


def _displacement(model: TwoLayerReLU) -> torch.Tensor:
    """Each neuron's displacement from initialisation, (…, m, d), with the bias's as a last column."""
    delta = model.W - model.W0
    return delta if model.b is None else torch.cat([delta, (model.b - model.b0).unsqueeze(-1)], dim=-1)


def deviation(model: TwoLayerReLU) -> float | torch.Tensor:
    """‖W − W₀‖_{2,∞} = max_s ‖w_s − w_{s,0}‖, the largest distance a neuron has moved.

    With biases a neuron's parameters are (w_s, b_s), as in the authors' scripts:
    max_s ‖(w_s − w_{s,0}, b_s − b_{s,0})‖. A float; for an ensemble a float64 CPU tensor (K,).

    Examples
    --------
    >>> import torch, lazylib as ll
    >>> net = ll.TwoLayerReLU(3, 10, generator=torch.Generator().manual_seed(0))
    >>> ll.deviation(net)
    0.0

    Book: the (2,∞) norm, label ``def-lazy-regime`` (chapter 4).
    """
    _checks.model("model", model, biases=True, ensemble=True)
    with torch.no_grad():
        dev = torch.linalg.vector_norm(_displacement(model), dim=-1).amax(dim=-1)
    return float(dev) if model.K is None else dev.to("cpu", torch.float64)


def _radius(model: TwoLayerReLU, radius: float | torch.Tensor) -> float | torch.Tensor:
    """A validated radius: a float, or for an ensemble a (K, 1, 1) tensor on the model's device and dtype."""
    R = _checks.per_member("radius", radius, model.K)
    return R if model.K is None else R.to(model.W.device, model.W.dtype)[:, None, None]


def _reach(model: TwoLayerReLU, x: torch.Tensor, radius: float | torch.Tensor) -> tuple[torch.Tensor, ...]:
    """w_{s,0}ᵀx, (…, n, m), and R‖x‖, (…, n, 1), the most the ball moves it; validates the radius."""
    R = _radius(model, radius)
    with torch.no_grad():
        return x @ model.W0.mT, R * torch.linalg.vector_norm(x, dim=-1, keepdim=True)


def project_(model: TwoLayerReLU, radius: float | torch.Tensor) -> TwoLayerReLU:
    """Project W onto B_{2,∞}(W₀, radius) in place, row by row; returns the model.

    w_s ← w_{s,0} + (w_s − w_{s,0}) · min(1, radius / ‖w_s − w_{s,0}‖): the Euclidean projection, as the
    ball is a product of one Euclidean ball per neuron. With biases, (w_s, b_s) is projected together,
    the ball of :func:`deviation`.

    Examples
    --------
    >>> import torch, lazylib as ll
    >>> net = ll.TwoLayerReLU(3, 10, generator=torch.Generator().manual_seed(0))
    >>> with torch.no_grad():
    ...     _ = net.W.add_(1.0)
    >>> ll.deviation(ll.project_(net, 0.5)) <= 0.5 + 1e-6
    True

    Book: projected training, label ``alg-projected-sgd`` (chapter 4).
    """
    _checks.model("model", model, biases=True, ensemble=True)
    radius = _radius(model, radius)
    with torch.no_grad():
        norms = torch.linalg.vector_norm(_displacement(model), dim=-1, keepdim=True)
        shrink = torch.clamp(radius / norms.clamp_min(torch.finfo(norms.dtype).tiny), max=1.0)
        model.W.copy_(model.W0 + (model.W - model.W0) * shrink)
        if model.b is not None:
            model.b.copy_(model.b0 + (model.b - model.b0) * shrink.squeeze(-1))
    return model


def value_bounds(model: TwoLayerReLU, x: torch.Tensor,
                 radius: float | torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Exact infimum and supremum of f(x; W) over the whole ball W ∈ B_{2,∞}(W₀, radius).

    Returns (inf, sup), each of shape (n,), taken neuron by neuron (the ball is a product of per-neuron
    balls and f a sum of per-neuron terms):

    .. math:: \sup_W f = \alpha \sum_s a_s\,\mathrm{relu}(w_{s,0}^\top x + a_s R\|x\|), \qquad
              \inf_W f = \alpha \sum_s a_s\,\mathrm{relu}(w_{s,0}^\top x - a_s R\|x\|).

    Both are attained, by :func:`value_extremiser`.

    Examples
    --------
    >>> import torch, lazylib as ll
    >>> net = ll.TwoLayerReLU(4, 200, generator=torch.Generator().manual_seed(0))
    >>> lo, hi = ll.value_bounds(net, torch.ones(1, 4) / 2, 0.0)
    >>> bool(torch.allclose(lo, hi))
    True

    Book: the exact worst case of Lemma A, label ``prop-exact-value-bounds`` (chapter 6).
    """
    z0, reach = _reach(model, _checks.model_inputs(model, x, ensemble=True), radius)
    with torch.no_grad():
        shift = reach * model.a.unsqueeze(-2)
        return tuple(_readout(torch.relu(z), model.a, model.output_scale) for z in (z0 - shift, z0 + shift))


def value_extremiser(model: TwoLayerReLU, x: torch.Tensor, radius: float | torch.Tensor, *,
                     which: str = "sup") -> torch.Tensor:
    """Weights in B_{2,∞}(W₀, radius) attaining the supremum (or infimum) of f at each input.

    Row s of the maximiser (``which="sup"``) for input x is w_{s,0} + a_s · radius · x/‖x‖, of the
    minimiser (``which="inf"``) w_{s,0} − a_s · radius · x/‖x‖. One weight matrix per input: shape
    (n, m, d), memory n·m·d.

    Examples
    --------
    >>> import torch, lazylib as ll
    >>> net = ll.TwoLayerReLU(4, 30, generator=torch.Generator().manual_seed(0))
    >>> ll.value_extremiser(net, torch.ones(2, 4), 0.1).shape
    torch.Size([2, 30, 4])

    Book: label ``prop-exact-value-bounds`` (chapter 6).
    """
    x = _checks.model_inputs(model, x, ensemble=True)
    radius = _radius(model, radius)
    radius = radius if model.K is None else radius[..., None]  # (K, 1, 1, 1)
    sign = 1.0 if _checks.choice("which", which, ("sup", "inf")) == "sup" else -1.0
    with torch.no_grad():
        unit = _unit(x)[0]
        return model.W0.unsqueeze(-3) + sign * radius * model.a[..., None, :, None] * unit[..., :, None, :]


def linearization(model: TwoLayerReLU, x: torch.Tensor) -> torch.Tensor:
    r"""The network's first-order Taylor expansion in W around W₀, evaluated at the current W.

    .. math:: f_{\mathrm{lin}}(x; W) = f(x; W_0) + \langle \nabla_W f(x; W_0), W - W_0\rangle
              = \alpha \sum_s a_s\, \mathbb 1[w_{s,0}^\top x > 0]\, w_s^\top x ,

    the second form because relu is positively homogeneous. Shape (n,).

    Examples
    --------
    >>> import torch, lazylib as ll
    >>> net = ll.TwoLayerReLU(4, 30, generator=torch.Generator().manual_seed(0))
    >>> x = torch.randn(5, 4, generator=torch.Generator().manual_seed(1))
    >>> bool(torch.allclose(ll.linearization(net, x), net(x)))  # equal at W = W0
    True

    Book: the linearised model, label ``def-linearization`` (chapter 4).
    """
    x = _checks.model_inputs(model, x, ensemble=True)
    with torch.no_grad():
        active0 = (x @ model.W0.mT > 0).to(x.dtype)
        return _readout(active0 * (x @ model.W.mT), model.a, model.output_scale)


def switchable_neurons(model: TwoLayerReLU, x: torch.Tensor, radius: float | torch.Tensor) -> torch.Tensor:
    """Per input, the number of neurons whose activation can change somewhere in the lazy ball.

    Neuron s can switch at x for some W ∈ B_{2,∞}(W₀, R) exactly when |w_{s,0}ᵀx| ≤ R‖x‖ (moving w_s
    by at most R changes w_sᵀx by at most R‖x‖). For a unit-norm x and random W₀ the expected count
    is m·P(|Z| ≤ R) = m·erf(R/√2) ≈ 0.8·C₀√m for small R. Integer counts (int64), shape (n,).

    Examples
    --------
    >>> import torch, lazylib as ll
    >>> net = ll.TwoLayerReLU(4, 30, generator=torch.Generator().manual_seed(0))
    >>> ll.switchable_neurons(net, torch.ones(2, 4), 0.0).tolist()
    [0, 0]

    Book: Proposition ``prop-linearization-gap`` (chapter 4) and Lemma B (chapter 7).
    """
    z0, reach = _reach(model, _checks.model_inputs(model, x, ensemble=True), radius)
    return (z0.abs() <= reach).sum(dim=-1)
