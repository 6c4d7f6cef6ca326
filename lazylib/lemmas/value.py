"""Lemma A: the function value over the lazy ball (book chapter 6).

The paper's bound on |f(x; a, W)| over B_{2,∞}(W₀, C₀/√m) (Lemma ``lem-value``), the book's sharper form
(Proposition ``prop-value-sharp``), and the exact range of f over the ball for many random networks at
once, the certificate both bounds are checked against (Proposition ``prop-mean-worst-case``).

The bounds hold with probability at least 1 − γ, γ ∈ (0, 1), for C₀ ≥ 0, width m ≥ 1 and ``norm`` = ‖x‖ ≥ 0
(f is positively homogeneous in x, so they scale with ‖x‖).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch

from .. import _checks

__all__ = ["value_bound", "value_bound_sharp", "ValueRange", "sample_value_range"]


def value_bound(gamma: float, C0: float, *, norm: float = 1.0) -> float:
    r"""Lemma A's bound ‖x‖·(2√log(2/γ) + C₀) on sup_W |f(x; a, W)| over the lazy ball (the paper's form).

    Examples
    --------
    >>> import math, lazylib as ll
    >>> ll.lemmas.value_bound(0.5, 1.0) == 2 * math.sqrt(math.log(4.0)) + 1.0
    True

    Book: Lemma ``lem-value`` (chapter 6).
    """
    gamma = _checks.probability("gamma", gamma)
    C0 = _checks.number("C0", C0, minimum=0.0)
    norm = _checks.number("norm", norm, minimum=0.0)
    return norm * (2.0 * math.sqrt(math.log(2.0 / gamma)) + C0)


def value_bound_sharp(gamma: float, C0: float, m: int, *, norm: float = 1.0) -> float:
    r"""The book's sharper Lemma A, ‖x‖·(√(2 log(4/γ)) + C₀/2 + C₀√(log(4/γ)/(2m))), for every m ≥ 1.

    Examples
    --------
    >>> import lazylib as ll
    >>> ll.lemmas.value_bound_sharp(0.05, 10.0, 1000) < ll.lemmas.value_bound(0.05, 10.0)
    True

    Book: Proposition ``prop-value-sharp`` (chapter 6).
    """
    gamma = _checks.probability("gamma", gamma)
    C0 = _checks.number("C0", C0, minimum=0.0)
    m = _checks.positive_int("m", m)
    norm = _checks.number("norm", norm, minimum=0.0)
    L = math.log(4.0 / gamma)
    return norm * (math.sqrt(2.0 * L) + C0 / 2.0 + C0 * math.sqrt(L / (2.0 * m)))


class ValueRange(NamedTuple):
    """f(x; W₀) and the exact inf_W f, sup_W f over the lazy ball: ``f0``, ``inf``, ``sup``, (n_nets,)."""

    f0: torch.Tensor
    inf: torch.Tensor
    sup: torch.Tensor

    @property
    def sup_abs(self) -> torch.Tensor:
        """sup_W |f(x; W)| = max(sup f, −inf f), shape (n_nets,)."""
        return torch.maximum(self.sup, -self.inf)


def sample_value_range(m: int, C0: float, n_nets: int, *, norm: float = 1.0,
                       generator: torch.Generator | None = None,
                       dtype: torch.dtype = torch.float64) -> ValueRange:
    r"""Exact range of f(x; ·) over the lazy ball for ``n_nets`` independent random initialisations.

    The range depends on W₀ only through z_s = w_{s,0}ᵀx ~ N(0, ‖x‖²), so each network is drawn as
    (z, a) and the extremes of ``lazylib.value_bounds`` are evaluated in closed form: network k equals
    ``TwoLayerReLU(1, m)`` with weights z[k]/‖x‖ at the input (‖x‖,), and agrees in distribution with
    networks of any dimension d. ``n_nets`` ≥ 1; the draws are made in float64 with the CPU ``generator``
    and the result has the floating-point ``dtype``.

    Examples
    --------
    >>> import torch, lazylib as ll
    >>> r = ll.lemmas.sample_value_range(100, 10.0, 2000, generator=torch.Generator().manual_seed(0))
    >>> bool((r.inf <= r.f0).all() and (r.f0 <= r.sup).all())
    True
    >>> round(float((r.sup - r.f0).mean()), 1)  # the mean worst-case movement is C0/2
    5.0

    Book: the certificate of Lemma ``lem-value`` and Proposition ``prop-mean-worst-case`` (chapter 6).
    """
    m = _checks.positive_int("m", m)
    C0 = _checks.number("C0", C0, minimum=0.0)
    n_nets = _checks.positive_int("n_nets", n_nets)
    norm = _checks.number("norm", norm, minimum=0.0)
    _checks.cpu_generator("generator", generator)
    _checks.float_dtype("dtype", dtype)
    shift = C0 / math.sqrt(m) * norm
    scale = 1.0 / math.sqrt(m)
    chunk = max(1, (1 << 22) // m)
    parts = []  # (f0, inf, sup) per chunk of networks: the chunks bound the memory
    for start in range(0, n_nets, chunk):
        k = min(chunk, n_nets - start)
        z = torch.randn(k, m, generator=generator, dtype=torch.float64) * norm
        a = (torch.randint(0, 2, (k, m), generator=generator, dtype=torch.int64) * 2 - 1).to(torch.float64)
        terms = (z, z - a * shift, z + a * shift)  # the pre-activations giving f(x; W₀), inf f and sup f
        parts.append([(a * torch.relu(t)).sum(dim=1) * scale for t in terms])
    return ValueRange(*(torch.cat(column).to(dtype) for column in zip(*parts)))
