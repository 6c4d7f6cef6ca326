"""Shared fixtures and helpers for the lazylib test suite.

Reference checks run in float64 on small networks (d, m of a few dozen) so that the whole suite stays
fast on a laptop CPU; the statistical tests (marked ``statistical``) use larger draws with fixed seeds.
"""

from __future__ import annotations

import os

os.environ.setdefault("MPLBACKEND", "Agg")  # before anything imports matplotlib.pyplot
os.environ.setdefault("LAZYLIB_PROGRESS", "0")

import pytest
import torch

import lazylib as ll

# The tensors here are small: one intra-op thread avoids thread spin-up and contention, which on a
# shared 2-core machine cost more than the arithmetic itself.
torch.set_num_threads(1)

D, M = 6, 40  # the small network most reference tests use


def gen(seed: int) -> torch.Generator:
    """A fresh CPU generator with a fixed seed."""
    return torch.Generator().manual_seed(seed)


def make_net(d: int = D, m: int = M, seed: int = 0, dtype: torch.dtype = torch.float64, **kw) -> ll.TwoLayerReLU:
    return ll.TwoLayerReLU(d, m, generator=gen(seed), dtype=dtype, **kw)


def unit_rows(n: int, d: int, seed: int = 1, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """n points uniform on the unit sphere S^{d-1}."""
    return torch.nn.functional.normalize(torch.randn(n, d, generator=gen(seed), dtype=torch.float64), dim=1).to(dtype)


def perturb_(net: ll.TwoLayerReLU, scale: float, seed: int = 7) -> ll.TwoLayerReLU:
    """Move W away from W0 by a Gaussian step of the given per-entry scale (in place)."""
    with torch.no_grad():
        net.W.add_(scale * torch.randn(net.W.shape, generator=gen(seed), dtype=torch.float64).to(net.W.dtype))
    return net


def make_model(K: int | None, seed: int = 0) -> ll.TwoLayerReLU:
    """One float64 network (K = None), or an ensemble of K whose member k is make_net(seed=seed + k)."""
    if K is None:
        return make_net(seed=seed)
    return ll.Ensemble(D, M, generators=[gen(seed + k) for k in range(K)], dtype=torch.float64)


def members(model: ll.TwoLayerReLU) -> list[ll.TwoLayerReLU]:
    return [model] if model.K is None else model.members()


def per_member(values, K):
    """Row k of a result with a leading ensemble axis (the whole result for one network)."""
    return [values] if K is None else list(values)


def reference_forward(net: ll.TwoLayerReLU, x: torch.Tensor, W: torch.Tensor | None = None) -> torch.Tensor:
    """f(x; a, W) written as the paper's sum over neurons, with an explicit loop (slow, obviously right)."""
    W = net.W.detach() if W is None else W
    out = torch.zeros(x.shape[0], dtype=x.dtype)
    for s in range(net.m):
        out = out + net.a[s] * torch.relu(x @ W[s])
    return out * net.output_scale


@pytest.fixture
def net64() -> ll.TwoLayerReLU:
    """A small float64 network (d=6, m=40)."""
    return make_net()


@pytest.fixture
def x64() -> torch.Tensor:
    """Twelve float64 unit-norm inputs in d=6."""
    return unit_rows(12, D)


@pytest.fixture
def xy64(net64: ll.TwoLayerReLU) -> tuple[torch.Tensor, torch.Tensor]:
    """Inputs with labels from a linear teacher (both classes present), float64, d=6."""
    x = unit_rows(60, D, seed=3)
    y = torch.where(x[:, 0] + 0.5 * x[:, 1] > 0, 1.0, -1.0).to(torch.float64)
    assert (y == 1).any() and (y == -1).any()
    return x, y
