"""Helpers shared by the lemma modules: the pairs (x, u) of Lemma C, the neurons that switch between x and
x + u, and the spectral norm of selected rows of a weight matrix (Lemma B's flip term, Lemma C's rows)."""

from __future__ import annotations

import torch

from .. import _checks
from ..model import TwoLayerReLU

__all__: list[str] = []


def input_pair(model: TwoLayerReLU, x: torch.Tensor, u: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Validate a batch of inputs x and displacements u of the same shape (n, d)."""
    x = _checks.model_inputs(model, x)
    return x, _checks.rows_of("u", u, model, x)


def activation_change(W: torch.Tensor, x: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    """χ_s(x + u) − χ_s(x) ∈ {−1, 0, +1} under the weights W (m, d), for every input and neuron; (n, m)."""
    return ((x + u) @ W.T > 0).to(x.dtype) - (x @ W.T > 0).to(x.dtype)


def masked_operator_norm(W: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Spectral norm of the rows of W (m, d) selected by each row of ``mask`` (n, m), batched; (n,).

    The rows are gathered into a zero-padded batch and ‖A‖_op² is the largest eigenvalue of the smaller Gram
    matrix (float64, returned in W's dtype), in chunks of inputs that bound the memory.
    """
    n, d = mask.shape[0], W.shape[1]
    out = torch.zeros(n, dtype=torch.float64, device=W.device)
    k = int(mask.sum(dim=1).max()) if mask.numel() else 0
    if k == 0:
        return out.to(W.dtype)
    chunk = max(1, (1 << 23) // (k * d))
    for start in range(0, n, chunk):
        sel = mask[start:start + chunk]
        # Indices of the selected rows first (stable sort of the mask); the padding rows are zeroed.
        order = torch.argsort(sel.to(torch.int8), dim=1, descending=True, stable=True)[:, :k]
        keep = sel.gather(1, order).to(torch.float64)
        rows = W[order].to(torch.float64) * keep[:, :, None]  # (c, k, d)
        gram = rows @ rows.transpose(1, 2) if k <= d else rows.transpose(1, 2) @ rows
        out[start:start + chunk] = torch.linalg.eigvalsh(gram)[:, -1].clamp_min(0.0).sqrt()
    return out.to(W.dtype)


def rows_bound(W: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """√k·‖W_S‖_op, S the k rows of W selected by each row of ``mask``: it bounds ‖Σ_{s∈S} ±w_s‖; (n,)."""
    return mask.sum(dim=1).to(W.dtype).sqrt() * masked_operator_norm(W, mask)
