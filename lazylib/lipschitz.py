"""Lipschitz certificates: guaranteed lower bounds on robust accuracy.

If f is L-Lipschitz in ℓ2, no perturbation of norm ε can move f by more than Lε, so a point whose
margin y f(x) exceeds Lε is robust at budget ε: its robustness radius is at least y f(x)/L. Attacks
bound the robust accuracy from above, certificates from below; the true value lies between.

For the two-layer network f(x) = α Σ_s a_s relu(w_sᵀx), relu is 1-Lipschitz entrywise, so
|f(x) − f(x')| ≤ α‖a‖ ‖W(x − x')‖ ≤ α‖a‖ ‖W‖₂ ‖x − x'‖ with ‖W‖₂ the spectral norm.

Conventions: each function takes one network without biases, or an :class:`lazylib.Ensemble` of them
(every result then gains a leading K axis, one entry per member: L becomes a float64 CPU tensor (K,));
L is :func:`lipschitz_bound`; ``x`` holds inputs (n, d) and ``y`` labels (n,) in {−1, +1}; ``eps`` is
one budget ε ≥ 0, giving a float, or a 1-D sequence of budgets, giving a float64 CPU tensor (len(eps),).

Book: chapter 2 (label ``prop-margin-bounds``).
"""

from __future__ import annotations

from typing import Sequence

import torch

from . import _checks
from .metrics import _fraction_above
from .model import TwoLayerReLU

__all__ = ["lipschitz_bound", "certified_radius", "certified_robust_accuracy"]


def lipschitz_bound(model: TwoLayerReLU) -> float | torch.Tensor:
    r"""An upper bound on the ℓ2 Lipschitz constant of x ↦ f(x; a, W): α ‖a‖₂ ‖W‖₂.

    With the paper's α = m^{-1/2} and a ∈ {±1}^m this is the spectral norm ‖W‖₂, about √m + √d for a
    Gaussian W₀, far above the typical gradient norm √(d/2): the certificate is valid but loose.

    Examples
    --------
    >>> import torch, lazylib as ll
    >>> net = ll.TwoLayerReLU(20, 50, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    >>> x = torch.randn(100, 20, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    >>> bool((ll.input_gradient(net, x).norm(dim=1) <= ll.lipschitz_bound(net)).all())
    True

    Book: Proposition ``prop-margin-bounds`` (chapter 2).
    """
    _checks.model("model", model, ensemble=True)
    with torch.no_grad():
        spectral = torch.linalg.matrix_norm(model.W.to(torch.float64), ord=2)
        L = model.output_scale * torch.linalg.vector_norm(model.a.to(torch.float64), dim=-1) * spectral
    return float(L) if model.K is None else L.cpu()


def certified_radius(model: TwoLayerReLU, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    r"""A guaranteed lower bound on each point's robustness radius: max(0, y f(x)) / L.

    No perturbation shorter than this radius can make the margin y f non-positive. Shape (n,), 0 for
    misclassified points.

    Examples
    --------
    >>> import torch, lazylib as ll
    >>> net = ll.TwoLayerReLU(5, 30, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    >>> x = torch.randn(8, 5, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    >>> y = torch.sign(net(x)).detach()
    >>> bool((ll.certified_radius(net, x, y) <= ll.flip_distance(net, x)).all())
    True

    Book: Proposition ``prop-margin-bounds`` (chapter 2).
    """
    margin, L = _margin(model, x, y), lipschitz_bound(model)
    return margin.clamp_min(0.0) / (L if model.K is None else L.to(margin.device, margin.dtype)[:, None])


def certified_robust_accuracy(model: TwoLayerReLU, x: torch.Tensor, y: torch.Tensor,
                              eps: float | Sequence[float] | torch.Tensor) -> float | torch.Tensor:
    r"""Fraction of points certified robust at budget ε: y f(x) > L ε.

    A lower bound on the true robust accuracy, for every ε; :func:`lazylib.robust_accuracy` (an attack)
    gives an upper bound. Equal to the clean accuracy at ε = 0.

    Examples
    --------
    >>> import torch, lazylib as ll
    >>> net = ll.TwoLayerReLU(5, 30, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    >>> x = torch.randn(40, 5, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    >>> y = torch.sign(net(x)).detach()
    >>> low = ll.certified_robust_accuracy(net, x, y, [0.0, 0.1, 1.0])
    >>> high = ll.robust_accuracy(net, x, y, [0.0, 0.1, 1.0])
    >>> bool((low <= high).all())
    True

    Book: Proposition ``prop-margin-bounds`` (chapter 2).
    """
    margin = _margin(model, x, y)
    eps_t, scalar = _checks.budgets("eps", eps)
    L = lipschitz_bound(model)
    result = _fraction_above(margin, (L if model.K is None else L[:, None]) * eps_t)
    if not scalar:
        return result
    return float(result[0]) if model.K is None else result[..., 0]


def _margin(model: TwoLayerReLU, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The margins y f(x), (n,), after checking the model, x and the labels y."""
    x = _checks.model_inputs(model, x, ensemble=True)
    y = _checks.labels("y", y, x)
    with torch.no_grad():
        return y.to(x.dtype) * model(x)
