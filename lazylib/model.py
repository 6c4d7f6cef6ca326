"""The two-layer ReLU network of the paper and its input gradient (book label ``def-network``).

f(x; a, W) = m^{-1/2} Σ_s a_s relu(w_sᵀx), with a_s ∈ {±1} drawn once and never trained and
w_{s,0} ~ N(0, I_d). W is stored as an (m, d) matrix whose rows are the neurons' weight vectors.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from . import _checks

__all__ = ["TwoLayerReLU", "input_gradient", "preactivations", "default_device"]


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
    d : int
        Input dimension.
    m : int
        Width (number of hidden neurons).
    generator : torch.Generator, optional
        Source of randomness for a and W₀. Draws happen on the CPU and are then moved to ``device``,
        so one seed gives the same network on every device.
    device, dtype : optional
        Where the weights live and their floating-point type (default: CPU, ``torch.get_default_dtype()``).
    output_scale : float, optional
        The factor α in front of the sum. Default m^{-1/2} (the paper's, "NTK" scaling); 1/m gives the
        mean-field scaling used in the book for comparison.

    Attributes
    ----------
    a : torch.Tensor, shape (m,)
        Output weights in {−1, +1} (a buffer: never trained).
    W : torch.nn.Parameter, shape (m, d)
        Hidden weights; row s is w_s.
    W0 : torch.Tensor, shape (m, d)
        The initial hidden weights (a buffer).

    Examples
    --------
    >>> import torch, lazylib as ll
    >>> net = ll.TwoLayerReLU(5, 100, generator=torch.Generator().manual_seed(0))
    >>> net(torch.ones(3, 5)).shape
    torch.Size([3])

    Notes
    -----
    Book: the network's definition, label ``def-network``; the lazy regime of chapter 4.
    """

    def __init__(
        self,
        d: int,
        m: int,
        *,
        generator: torch.Generator | None = None,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
        output_scale: float | None = None,
    ) -> None:
        super().__init__()
        d = _checks.positive_int("d", d)
        m = _checks.positive_int("m", m)
        _checks.generator("generator", generator)
        if dtype is not None and not (isinstance(dtype, torch.dtype) and dtype.is_floating_point):
            raise TypeError(f"`dtype` must be a floating-point torch.dtype; got {dtype!r}.")
        scale = 1.0 / math.sqrt(m) if output_scale is None else _checks.number(
            "output_scale", output_scale, minimum=0.0, strict=True
        )
        dtype = dtype or torch.get_default_dtype()
        device = _checks.device("device", device) or torch.device("cpu")
        if generator is not None and generator.device.type != "cpu":
            raise ValueError(f"`generator` must be a CPU generator; got one on {generator.device.type}.")
        w0 = torch.randn(m, d, generator=generator, dtype=torch.float64)
        signs = torch.randint(0, 2, (m,), generator=generator, dtype=torch.int64) * 2 - 1
        self.d, self.m, self.output_scale = d, m, float(scale)
        # Separate copies: W is trained in place and W0 must never see it (`.to` may return w0 itself).
        self.W = nn.Parameter(w0.to(device=device, dtype=dtype, copy=True))
        self.register_buffer("W0", w0.to(device=device, dtype=dtype, copy=True))
        self.register_buffer("a", signs.to(device=device, dtype=dtype))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """f(x; a, W) for each row of x: (n, d) → (n,)."""
        x = _checks.inputs("x", x, self)
        return torch.relu(x @ self.W.T) @ self.a * self.output_scale

    def extra_repr(self) -> str:
        return f"d={self.d}, m={self.m}, output_scale={self.output_scale:.4g}"


def preactivations(model: TwoLayerReLU, x: torch.Tensor) -> torch.Tensor:
    """Pre-activations w_sᵀx for every input and neuron, shape (n, m), no autograd graph.

    Examples
    --------
    >>> import torch, lazylib as ll
    >>> net = ll.TwoLayerReLU(4, 8, generator=torch.Generator().manual_seed(0))
    >>> ll.preactivations(net, torch.ones(2, 4)).shape
    torch.Size([2, 8])
    """
    _checks.model("model", model)
    x = _checks.inputs("x", x, model)
    with torch.no_grad():
        return x @ model.W.T


def input_gradient(model: TwoLayerReLU, x: torch.Tensor) -> torch.Tensor:
    r"""Input gradient ∇ₓf(x; a, W) for each row of x, in closed form.

    .. math:: \nabla_x f(x; a, W) = \alpha \sum_s a_s \,\mathbb 1[w_s^\top x > 0]\, w_s .

    Parameters
    ----------
    model : TwoLayerReLU
    x : torch.Tensor, shape (n, d)

    Returns
    -------
    torch.Tensor, shape (n, d)
        Agrees with autograd (which uses relu'(0) = 0, as here). No graph is recorded.

    Examples
    --------
    >>> import torch, lazylib as ll
    >>> net = ll.TwoLayerReLU(3, 50, generator=torch.Generator().manual_seed(1))
    >>> ll.input_gradient(net, torch.ones(2, 3)).shape
    torch.Size([2, 3])

    Notes
    -----
    Book: the closed-form gradient, label ``prop-gradient-closed-form``.
    """
    _checks.model("model", model)
    x = _checks.inputs("x", x, model)
    with torch.no_grad():
        active = (x @ model.W.T > 0).to(x.dtype)
        return (active * (model.a * model.output_scale)) @ model.W
