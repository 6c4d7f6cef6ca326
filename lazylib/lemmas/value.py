"""Lemma A: the function value over the lazy ball (book chapter 6).

The paper's bound on |f(x; a, W)| over B_{2,∞}(W₀, C₀/√m) (Lemma ``lem-value``), the book's sharper form
(Proposition ``prop-value-sharp``), and the exact range of f over the ball for many random networks at
once, the certificate both bounds are checked against (Proposition ``prop-mean-worst-case``).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch

from .. import _checks

__all__ = ["value_bound", "value_bound_sharp", "ValueRange", "sample_value_range"]


def value_bound(gamma: float, C0: float, *, norm: float = 1.0) -> float:
    r"""Lemma A's bound on |f(x; a, W)| over the lazy ball, as the paper's summary states it.

    .. math:: \sup_{W \in B_{2,\infty}(W_0, C_0/\sqrt m)} |f(x; a, W)|
              \le \|x\|\,\bigl(2\sqrt{\log(2/\gamma)} + C_0\bigr)
              \quad\text{with probability at least } 1 - \gamma,

    stated in the paper for ‖x‖ = 1; f is positively homogeneous in x, so the bound scales with ‖x‖.

    Parameters
    ----------
    gamma : float
        Failure probability, in (0, 1).
    C0 : float
        Lazy-regime constant, ≥ 0.
    norm : float
        ‖x‖ ≥ 0.

    Examples
    --------
    >>> import math, lazylib as ll
    >>> ll.lemmas.value_bound(0.5, 1.0) == 2 * math.sqrt(math.log(4.0)) + 1.0
    True

    Notes
    -----
    Book: Lemma ``lem-value`` (chapter 6).
    """
    gamma = _checks.probability("gamma", gamma)
    C0 = _checks.number("C0", C0, minimum=0.0)
    norm = _checks.number("norm", norm, minimum=0.0)
    return norm * (2.0 * math.sqrt(math.log(2.0 / gamma)) + C0)


def value_bound_sharp(gamma: float, C0: float, m: int, *, norm: float = 1.0) -> float:
    r"""The book's sharper form of Lemma A, valid for every width m ≥ 1.

    .. math:: \sup_W |f(x; a, W)| \le \|x\|\Bigl(\sqrt{2\log(4/\gamma)} + \frac{C_0}{2}
              + C_0\sqrt{\frac{\log(4/\gamma)}{2m}}\Bigr)
              \quad\text{with probability at least } 1 - \gamma.

    The first term bounds |f(x; W₀)| (a sum of independent sub-Gaussian terms), the other two the
    exact worst-case movement over the ball, whose mean is C₀‖x‖/2 (Proposition
    ``prop-mean-worst-case``), by Hoeffding's inequality.

    Parameters
    ----------
    gamma : float
        Failure probability, in (0, 1).
    C0 : float
        Lazy-regime constant, ≥ 0.
    m : int
        Width, ≥ 1.
    norm : float
        ‖x‖ ≥ 0.

    Examples
    --------
    >>> import lazylib as ll
    >>> ll.lemmas.value_bound_sharp(0.05, 10.0, 1000) < ll.lemmas.value_bound(0.05, 10.0)
    True

    Notes
    -----
    Book: Proposition ``prop-value-sharp`` (chapter 6).
    """
    gamma = _checks.probability("gamma", gamma)
    C0 = _checks.number("C0", C0, minimum=0.0)
    m = _checks.positive_int("m", m)
    norm = _checks.number("norm", norm, minimum=0.0)
    L = math.log(4.0 / gamma)
    return norm * (math.sqrt(2.0 * L) + C0 / 2.0 + C0 * math.sqrt(L / (2.0 * m)))


class ValueRange(NamedTuple):
    """f at initialisation and its exact range over the lazy ball, one entry per network.

    Fields ``f0``, ``inf`` and ``sup`` (each a tensor of shape (n_nets,)): f(x; W₀), inf_W f(x; W) and
    sup_W f(x; W) over W ∈ B_{2,∞}(W₀, C₀/√m).
    """

    f0: torch.Tensor
    inf: torch.Tensor
    sup: torch.Tensor

    @property
    def sup_abs(self) -> torch.Tensor:
        """sup_W |f(x; W)| = max(sup f, −inf f), shape (n_nets,)."""
        return torch.maximum(self.sup, -self.inf)


def sample_value_range(
    m: int,
    C0: float,
    n_nets: int,
    *,
    norm: float = 1.0,
    generator: torch.Generator | None = None,
    dtype: torch.dtype = torch.float64,
) -> ValueRange:
    r"""Exact range of f(x; ·) over the lazy ball for ``n_nets`` independent random initialisations.

    For a fixed input x, f(x; W₀) and the extremes of f over B_{2,∞}(W₀, R) depend on W₀ only through
    the pre-activations z_s = w_{s,0}ᵀx, which are independent N(0, ‖x‖²) whatever the dimension d.
    So the networks are drawn in that reduced form (z and the signs a, per network), and the exact
    extremes of ``lazylib.value_bounds`` are evaluated for each:

    .. math:: \sup_W f = \tfrac{1}{\sqrt m}\sum_s a_s\,\sigma(z_s + a_s R\|x\|), \qquad
              \inf_W f = \tfrac{1}{\sqrt m}\sum_s a_s\,\sigma(z_s - a_s R\|x\|), \qquad R = C_0/\sqrt m.

    Network k equals ``TwoLayerReLU(1, m)`` with weights z[k]/‖x‖ at the input (‖x‖,), so the
    result agrees with ``value_bounds`` on such networks exactly (a test checks it), and in
    distribution with networks of any dimension d.

    Parameters
    ----------
    m : int
        Width, ≥ 1.
    C0 : float
        Lazy-regime constant, ≥ 0.
    n_nets : int
        Number of independent networks, ≥ 1.
    norm : float
        ‖x‖ ≥ 0.
    generator : torch.Generator, optional
        CPU generator for the draws.
    dtype : torch.dtype
        Floating-point type of the result (the draws are made in float64).

    Returns
    -------
    ValueRange
        ``f0``, ``inf``, ``sup`` (and the property ``sup_abs``), each of shape (n_nets,).

    Examples
    --------
    >>> import torch, lazylib as ll
    >>> r = ll.lemmas.sample_value_range(100, 10.0, 2000, generator=torch.Generator().manual_seed(0))
    >>> bool((r.inf <= r.f0).all() and (r.f0 <= r.sup).all())
    True
    >>> round(float((r.sup - r.f0).mean()), 1)  # the mean worst-case movement is C0/2
    5.0

    Notes
    -----
    Book: the certificate of Lemma ``lem-value`` and Proposition ``prop-mean-worst-case`` (chapter 6).
    """
    m = _checks.positive_int("m", m)
    C0 = _checks.number("C0", C0, minimum=0.0)
    n_nets = _checks.positive_int("n_nets", n_nets)
    norm = _checks.number("norm", norm, minimum=0.0)
    _checks.cpu_generator("generator", generator)
    if not (isinstance(dtype, torch.dtype) and dtype.is_floating_point):
        raise TypeError(f"`dtype` must be a floating-point torch.dtype; got {dtype!r}.")
    shift = C0 / math.sqrt(m) * norm
    chunk = max(1, (1 << 22) // m)
    f0s, los, his = [], [], []
    for start in range(0, n_nets, chunk):  # chunks of networks bound the memory; each chunk is one batch
        k = min(chunk, n_nets - start)
        z = torch.randn(k, m, generator=generator, dtype=torch.float64) * norm
        a = (torch.randint(0, 2, (k, m), generator=generator, dtype=torch.int64) * 2 - 1).to(torch.float64)
        scale = 1.0 / math.sqrt(m)
        f0s.append((a * torch.relu(z)).sum(dim=1) * scale)
        his.append((a * torch.relu(z + a * shift)).sum(dim=1) * scale)
        los.append((a * torch.relu(z - a * shift)).sum(dim=1) * scale)
    return ValueRange(torch.cat(f0s).to(dtype), torch.cat(los).to(dtype), torch.cat(his).to(dtype))
