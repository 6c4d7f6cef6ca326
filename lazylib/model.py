"""The two-layer ReLU network of the paper and its input gradient (book label ``def-network``).

f(x; a, W) = m^{-1/2} Σ_s a_s relu(w_sᵀx), with a_s ∈ {±1} drawn once and never trained and
w_{s,0} ~ N(0, I_d). W is stored as an (m, d) matrix whose rows are the neurons' weight vectors.

With ``bias=True`` the network is the one the authors' scripts train: a hidden bias b_s ~ N(0, 1),
trained with W, and a frozen output bias c = ±m^{-1/2}, f(x) = m^{-1/2} Σ_s a_s relu(w_sᵀx + b_s) + c.
Functions that support it say so; the others are defined for the paper's bias-free network and
raise ``ValueError`` on a network with biases.

The functions of Parts I and III (:mod:`lazylib.model`, :mod:`lazylib.lazy`, :mod:`lazylib.attacks`,
:mod:`lazylib.metrics`, :mod:`lazylib.lipschitz`, :mod:`lazylib.train`) also take an :class:`Ensemble`:
K networks of one shape stored with a leading axis, W and W₀ of shape (K, m, d) and a of shape (K, m).
The same code serves both, batched over that axis; results gain a leading K axis. Inputs ``x`` are
(n, d); an ensemble takes them shared, (n, d), or one batch per member, (K, n, d). The per-network
quantities (:mod:`lazylib.lemmas`, :mod:`lazylib.random_networks`, :mod:`lazylib.tangent_kernel`)
refuse an ensemble with ``ValueError``: pass ``ensemble.member(k)``.
"""

from __future__ import annotations

import math
from typing import Sequence

import torch
from torch import nn

from . import _checks

__all__ = ["TwoLayerReLU", "Ensemble", "input_gradient", "preactivations", "default_device"]

_CHUNK = 1 << 22  # elements of the largest (K, n, m) pre-activation block at once (16 MiB in float32)


def default_device() -> torch.device:
    """CUDA when it is available, the CPU otherwise.

    Examples
    --------
    >>> import lazylib as ll
    >>> ll.default_device().type in {"cpu", "cuda"}
    True
    """
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


class TwoLayerReLU(nn.Module):
    r"""Two-layer ReLU network with fixed ±1 output weights, in the paper's scaling.

    .. math:: f(x; a, W) = \alpha \sum_{s=1}^m a_s \,\mathrm{relu}(w_s^\top x), \qquad \alpha = m^{-1/2}.

    Parameters
    ----------
    d, m : int
        Input dimension and width (number of hidden neurons).
    generator : torch.Generator, optional
        Source of a and W₀, drawn on the CPU and then moved to ``device``, so one seed gives the same
        network on every device.
    device, dtype : optional
        Where the weights live and their floating-point type (default: CPU, ``torch.get_default_dtype()``).
    output_scale : float, optional
        α: default m^{-1/2} (the paper's "NTK" scaling); 1/m gives the book's mean-field comparison.
    bias : bool
        Add the biases of the authors' scripts: b ~ N(0, I_m), trained with W (its initial value kept in
        ``b0``), and a frozen c = ±α of random sign, drawn after a and W₀ (a seed gives the same W₀ and a).

    Attributes
    ----------
    a : torch.Tensor, shape (m,)
        Output weights in {−1, +1} (a buffer: never trained).
    W : torch.nn.Parameter, shape (m, d)
        The hidden weights, the only trained parameter (with b); row s is w_s.
    W0 : torch.Tensor, shape (m, d)
        The initial hidden weights (a buffer).
    b : torch.nn.Parameter, shape (m,), or None
        With ``bias=True`` the hidden bias; None otherwise. ``b0`` (its initial value, shape (m,)) and
        ``c`` (the output bias, shape ()) are buffers, None without biases.

    Examples
    --------
    >>> import torch, lazylib as ll
    >>> net = ll.TwoLayerReLU(5, 100, generator=torch.Generator().manual_seed(0))
    >>> net(torch.ones(3, 5)).shape
    torch.Size([3])
    >>> biased = ll.TwoLayerReLU(5, 100, generator=torch.Generator().manual_seed(0), bias=True)
    >>> bool(torch.equal(biased.W0, net.W0)), biased.b.shape, round(abs(float(biased.c)), 6)
    (True, torch.Size([100]), 0.1)

    Book: the network's definition, label ``def-network``; the lazy regime of chapter 4.
    """

    K: int | None = None  # number of members of an Ensemble; None for one network

    def __init__(self, d: int, m: int, *, generator: torch.Generator | None = None,
                 device: torch.device | str | None = None, dtype: torch.dtype | None = None,
                 output_scale: float | None = None, bias: bool = False) -> None:
        d = _checks.positive_int("d", d)
        m = _checks.positive_int("m", m)
        _checks.generator("generator", generator)
        _checks.float_dtype("dtype", dtype, none=True)
        scale = (1.0 / math.sqrt(m) if output_scale is None
                 else _checks.number("output_scale", output_scale, minimum=0.0, strict=True))
        dtype = dtype or torch.get_default_dtype()
        device = _checks.device("device", device) or torch.device("cpu")
        if generator is not None and generator.device.type != "cpu":
            raise ValueError(f"`generator` must be a CPU generator; got one on {generator.device.type}.")
        _checks.flag("bias", bias)
        w0 = torch.randn(m, d, generator=generator, dtype=torch.float64)
        signs = torch.randint(0, 2, (m,), generator=generator, dtype=torch.int64) * 2 - 1
        # Separate copies: W is trained in place and W0 must never see it (`.to` may return w0 itself).
        own = dict(device=device, dtype=dtype, copy=True)
        weights = [w0.to(**own), w0.to(**own), signs.to(device=device, dtype=dtype)]
        if bias:
            b0 = torch.randn(m, generator=generator, dtype=torch.float64)
            c = torch.tensor(scale * float(torch.randint(0, 2, (), generator=generator) * 2 - 1),
                             dtype=torch.float64)
            weights += [b0.to(**own), b0.to(**own), c.to(**own)]
        _build(self, None, d, m, float(scale), *weights)

    @property
    def has_bias(self) -> bool:
        """Whether the network carries the hidden and output biases of the authors' scripts."""
        return self.b is not None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """f(x; a, W) for each row of x: (n, d) → (n,) ((K, n) for an ensemble)."""
        x = _checks.inputs("x", x, self)
        return _forward(self.W, self.a, self.output_scale, x, self.b, self.c)

    def extra_repr(self) -> str:
        k = "" if self.K is None else f"K={self.K}, "
        bias = ", bias=True" if self.has_bias else ""
        return f"{k}d={self.d}, m={self.m}, output_scale={self.output_scale:.4g}{bias}"


class Ensemble(TwoLayerReLU):
    r"""K two-layer ReLU networks f_k(x) = α Σ_s a_{k,s} relu(w_{k,s}ᵀx) of one width, stored as one batch.

    Every function runs on all members at once (module docstring).

    Parameters
    ----------
    d, m, device, dtype, output_scale, bias
        As for :class:`TwoLayerReLU`, shared by the members.
    generators : sequence of torch.Generator
        One CPU generator per member; member k is drawn exactly as
        ``TwoLayerReLU(d, m, generator=generators[k])`` would draw it.

    Attributes
    ----------
    K : int
        Number of members.
    W : torch.nn.Parameter, shape (K, m, d)
        ``W[k]`` is member k's W; a (K, m), W0 (K, m, d) and the biases gain the leading axis K likewise.

    Examples
    --------
    >>> import torch, lazylib as ll
    >>> ens = ll.Ensemble(5, 20, generators=[torch.Generator().manual_seed(s) for s in (0, 1, 2)])
    >>> ens(torch.ones(4, 5)).shape
    torch.Size([3, 4])
    >>> net = ll.TwoLayerReLU(5, 20, generator=torch.Generator().manual_seed(1))
    >>> bool(torch.equal(ens.member(1).W, net.W))
    True

    Book: the sweeps of chapters 10–12.
    """

    def __init__(self, d: int, m: int, *, generators: Sequence[torch.Generator],
                 device: torch.device | str | None = None, dtype: torch.dtype | None = None,
                 output_scale: float | None = None, bias: bool = False) -> None:
        d = _checks.positive_int("d", d)
        m = _checks.positive_int("m", m)
        _sequence_of("generators", generators, torch.Generator, "torch.Generator, one per member")
        self._adopt([TwoLayerReLU(d, m, generator=g, device=device, dtype=dtype, output_scale=output_scale,
                                  bias=bias) for g in generators])

    def _adopt(self, nets: Sequence[TwoLayerReLU]) -> "Ensemble":
        """Build this bare module from the networks ``nets``, their weights stacked (copies); returns it."""
        with torch.no_grad():
            stacked = [torch.stack([w.detach() for w in ws]) for ws in zip(*map(_weights, nets))]
        return _build(self, len(nets), nets[0].d, nets[0].m, nets[0].output_scale, *stacked)

    @classmethod
    def from_models(cls, models: Sequence[TwoLayerReLU]) -> "Ensemble":
        """Stack networks of the same shape, dtype, device and output scale (their weights are copied).

        Examples
        --------
        >>> import torch, lazylib as ll
        >>> nets = [ll.TwoLayerReLU(3, 8, generator=torch.Generator().manual_seed(s)) for s in range(4)]
        >>> ll.Ensemble.from_models(nets).K
        4
        """
        _sequence_of("models", models, TwoLayerReLU, "lazylib.TwoLayerReLU")
        key = [(n.K, n.d, n.m, n.output_scale, n.has_bias, n.W.dtype, n.W.device) for n in models]
        if any(k != key[0] or k[0] is not None for k in key):
            raise ValueError("`models` must be single networks sharing d, m, output_scale, biases, dtype and "
                             f"device; got (d={models[0].d}, m={models[0].m}) with others of another shape, "
                             "scale, dtype or device.")
        return cls.__new__(cls)._adopt(models)

    def member(self, k: int) -> TwoLayerReLU:
        """A copy of member k, as a :class:`TwoLayerReLU` (changing it leaves the ensemble alone)."""
        k = _checks.positive_int("k", k, minimum=0)
        if k >= self.K:
            raise ValueError(f"`k` must be an integer between 0 and {self.K - 1}; got {k}.")
        weights = [w.detach()[k].clone() for w in _weights(self)]
        return _build(TwoLayerReLU.__new__(TwoLayerReLU), None, self.d, self.m, self.output_scale, *weights)

    def members(self) -> list[TwoLayerReLU]:
        """Every member as a separate :class:`TwoLayerReLU` (copies)."""
        return [self.member(k) for k in range(self.K)]


def _weights(net: TwoLayerReLU) -> list[torch.Tensor]:
    """The weights in the order of :func:`_build`: W, W₀, a, and b, b₀, c with biases."""
    return [getattr(net, n) for n in ("W", "W0", "a", "b", "b0", "c")[:6 if net.has_bias else 3]]


def _build(net: TwoLayerReLU, K: int | None, d: int, m: int, scale: float, W: torch.Tensor, W0: torch.Tensor,
           a: torch.Tensor, b: torch.Tensor | None = None, b0: torch.Tensor | None = None,
           c: torch.Tensor | None = None) -> TwoLayerReLU:
    """Initialise the bare module ``net`` (K None for one network) and return it. The weights are adopted as
    they are (callers pass copies): W and b trained, W₀, a, b₀ and c buffers; b, b₀, c None without biases."""
    nn.Module.__init__(net)
    net.K, net.d, net.m, net.output_scale = K, d, m, scale
    net.W = nn.Parameter(W)
    net.register_buffer("W0", W0)
    net.register_buffer("a", a)
    net.register_parameter("b", None if b is None else nn.Parameter(b))
    net.register_buffer("b0", b0)
    net.register_buffer("c", c)
    return net


def _sequence_of(name: str, value: object, kind: type, text: str) -> None:
    if isinstance(value, kind) or not isinstance(value, Sequence) or not value:
        raise TypeError(f"`{name}` must be a non-empty sequence of {text}; got {type(value).__name__}.")
    for v in value:
        if not isinstance(v, kind):
            raise TypeError(f"`{name}` must be a non-empty sequence of {text}; "
                            f"got an element of type {type(v).__name__}.")


# ------------------------------------------------------------------------------------------------
# Kernels shared by the whole library: W of shape (m, d) or (K, m, d), a of shape (m,) or (K, m).
# No validation here; every public function validates first.


def _readout(h: torch.Tensor, a: torch.Tensor, scale: float = 1.0,
             c: torch.Tensor | None = None) -> torch.Tensor:
    """α Σ_s a_s h_s (+ c) over the last axis: h (n, m) with a (m,), or h (K, n, m) with a (K, m), c (K,)."""
    out = h @ a * scale if a.ndim == 1 else (h * (a * scale).unsqueeze(-2)).sum(-1)
    return out if c is None else out + c[..., None]


def _pre(x: torch.Tensor, W: torch.Tensor, b: torch.Tensor | None = None) -> torch.Tensor:
    """Pre-activations w_sᵀx (+ b_s): x (n, d) or (K, n, d), W (m, d) or (K, m, d) → (n, m) or (K, n, m)."""
    z = x @ W.mT
    return z if b is None else z + b.unsqueeze(-2)


def _by_rows(fn, W: torch.Tensor, x: torch.Tensor, d: torch.Tensor | None = None) -> torch.Tensor:
    """fn(x, d) on blocks of rows of x (and of d unless None) so that a (K, rows, m) block stays below
    ``_CHUNK`` elements, joined on the last axis."""
    rows = max(1, _CHUNK // max(1, W.shape[:-1].numel()))
    if x.shape[-2] <= rows:
        return fn(x, d)
    xs = x.split(rows, dim=-2)
    ds = [None] * len(xs) if d is None else d.split(rows, dim=-2)
    return torch.cat([fn(xb, db) for xb, db in zip(xs, ds)], dim=-1)


def _forward(W: torch.Tensor, a: torch.Tensor, scale: float, x: torch.Tensor,
             b: torch.Tensor | None = None, c: torch.Tensor | None = None) -> torch.Tensor:
    """f(x) for x (n, d) or (K, n, d), evaluated in blocks of rows so that memory stays bounded."""
    return _by_rows(lambda xb, _: _readout(torch.relu(_pre(xb, W, b)), a, scale, c), W, x)


def _unit(v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Rows of v scaled to unit norm (zero rows stay zero) and the norms."""
    norms = torch.linalg.vector_norm(v, dim=-1)
    safe = norms.clamp_min(torch.finfo(v.dtype).tiny)
    return torch.where((norms > 0)[..., None], v / safe[..., None], torch.zeros_like(v)), norms


def _input_gradient(W: torch.Tensor, coef: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """∇ₓf at the points whose pre-activations are z, (n, m) or (K, n, m); coef = α·a."""
    return ((z > 0).to(z.dtype) * coef.unsqueeze(-2)) @ W


def preactivations(model: TwoLayerReLU, x: torch.Tensor) -> torch.Tensor:
    """Pre-activations w_sᵀx (+ b_s) for every input and neuron, shape (n, m), with no graph.

    Examples
    --------
    >>> import torch, lazylib as ll
    >>> net = ll.TwoLayerReLU(4, 8, generator=torch.Generator().manual_seed(0))
    >>> ll.preactivations(net, torch.ones(2, 4)).shape
    torch.Size([2, 8])
    """
    _checks.model("model", model, biases=True, ensemble=True)
    x = _checks.inputs("x", x, model)
    with torch.no_grad():
        return _pre(x, model.W, model.b)


def input_gradient(model: TwoLayerReLU, x: torch.Tensor) -> torch.Tensor:
    r"""Input gradient ∇ₓf(x; a, W) for each row of x, in closed form.

    .. math:: \nabla_x f(x; a, W) = \alpha \sum_s a_s \,\mathbb 1[w_s^\top x > 0]\, w_s .

    Shape (n, d), with no graph; agrees with autograd (which uses relu'(0) = 0, as here). With biases the
    indicator is 1[w_sᵀx + b_s > 0].

    Examples
    --------
    >>> import torch, lazylib as ll
    >>> net = ll.TwoLayerReLU(3, 50, generator=torch.Generator().manual_seed(1))
    >>> ll.input_gradient(net, torch.ones(2, 3)).shape
    torch.Size([2, 3])

    Book: the closed-form gradient, label ``prop-gradient-closed-form``.
    """
    z = preactivations(model, x)
    with torch.no_grad():
        return _input_gradient(model.W, model.a * model.output_scale, z)
