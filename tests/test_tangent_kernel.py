"""The tangent kernel, its infinite-width limit, the minimum-norm lazy interpolant and the exact flip
distance of the linearised model (chapter 4): reference checks against autograd and brute force,
properties, a statistical check of the limit, and bad inputs."""

from __future__ import annotations

import math

import pytest
import torch

import lazylib as ll

tk = ll.tangent_kernel
F64 = torch.float64


def _net(d=8, m=60, seed=0, dtype=F64):
    return ll.TwoLayerReLU(d, m, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def _x(n, d, seed=1, dtype=F64):
    return torch.randn(n, d, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def test_tangent_kernel_is_the_inner_product_of_weight_gradients():
    net, x = _net(), _x(5, 8)
    grads = []
    for i in range(5):
        W = net.W0.clone().requires_grad_(True)
        f = (torch.relu(x[i] @ W.T) @ net.a) * net.output_scale
        grads.append(torch.autograd.grad(f, W)[0].flatten())
    G = torch.stack(grads)
    assert torch.allclose(tk.tangent_kernel(net, x), G @ G.T, atol=1e-12)
    y = _x(3, 8, seed=2)
    K = tk.tangent_kernel(net, x, y)
    assert K.shape == (5, 3)
    assert torch.allclose(K, tk.tangent_kernel(net, y, x).T)


def test_tangent_kernel_gram_is_positive_semidefinite():
    net, x = _net(m=30), _x(12, 8)
    assert float(torch.linalg.eigvalsh(tk.tangent_kernel(net, x)).min()) > -1e-10


def test_limit_kernel_closed_form_values():
    x = torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [2.0, 0.0]], dtype=F64)
    K = tk.limit_kernel(x)
    assert torch.allclose(torch.diag(K), torch.tensor([0.5, 0.5, 0.5, 2.0], dtype=F64))
    assert float(K[0, 1]) == 0.0          # orthogonal: x·x' = 0
    assert abs(float(K[0, 2])) < 1e-15    # opposite: (π − π) = 0
    assert abs(float(K[0, 3]) - 1.0) < 1e-15  # parallel: θ = 0, K = x·x'/2
    assert float(tk.limit_kernel(torch.zeros(1, 2, dtype=F64), x)[0, 0]) == 0.0


def test_finite_kernel_concentrates_at_the_limit():
    # Each entry is an average of m independent terms in [−1, 1] for unit inputs (Hoeffding): with
    # m = 40 000 the deviation exceeds 0.03 with probability at most 2exp(−m·0.03²/2) < 1e-7 per entry.
    d = 6
    net = ll.TwoLayerReLU(d, 40_000, generator=torch.Generator().manual_seed(3), dtype=F64)
    x = torch.nn.functional.normalize(_x(5, d, seed=4), dim=1)
    assert float((tk.tangent_kernel(net, x) - tk.limit_kernel(x)).abs().max()) < 0.03


def test_min_norm_interpolant_interpolates_and_respects_the_row_bound():
    net, x = _net(m=200), _x(10, 8)
    t = torch.linspace(-1, 1, 10, dtype=F64)
    fit, c = tk.min_norm_interpolant(net, x, t)
    assert torch.allclose(ll.linearization(fit, x), t, atol=1e-9)
    assert torch.equal(fit.W0, net.W0) and torch.equal(fit.a, net.a)
    assert torch.equal(net.W.detach(), net.W0)  # the input network is untouched
    rows = (fit.W - fit.W0).detach().norm(dim=1)
    assert float(rows.max()) <= net.output_scale * float(c.abs().sum()) * float(x.norm(dim=1).max()) * (1 + 1e-12)


def test_min_norm_interpolant_is_the_closest_interpolant():
    # Adding any displacement orthogonal to every tangent feature keeps the interpolation and moves
    # further from W0 (Pythagoras); a brute-force check over random orthogonal displacements.
    net, x = _net(m=40), _x(6, 8)
    t = torch.ones(6, dtype=F64)
    fit, _ = tk.min_norm_interpolant(net, x, t)
    active = (x @ net.W0.T > 0).to(F64)
    features = (net.output_scale * net.a[None, :, None] * active[:, :, None] * x[:, None, :]).reshape(6, -1)
    q, _ = torch.linalg.qr(features.T)
    base = (fit.W - fit.W0).detach().flatten()
    gen = torch.Generator().manual_seed(5)
    for _ in range(20):
        v = torch.randn(base.shape, generator=gen, dtype=F64)
        v = v - q @ (q.T @ v)
        other = net.W0 + (base + 0.1 * v).reshape(net.W0.shape)
        moved = ll.TwoLayerReLU(8, 40, generator=torch.Generator().manual_seed(0), dtype=F64)
        with torch.no_grad():
            moved.W.copy_(other)
        assert torch.allclose(ll.linearization(moved, x), t, atol=1e-9)
        assert float((other - net.W0).norm()) > float(base.norm())


def test_min_norm_interpolant_keeps_dtype_and_rejects_a_singular_gram():
    net32, x32 = _net(dtype=torch.float32), _x(4, 8, dtype=torch.float32)
    fit, c = tk.min_norm_interpolant(net32, x32, torch.ones(4))
    assert fit.W.dtype == torch.float32 and c.dtype == F64
    x = _x(3, 8)
    with pytest.raises(ValueError, match="invertible tangent Gram matrix"):
        tk.min_norm_interpolant(_net(), torch.cat([x, x[:1]]), torch.ones(4, dtype=F64))


def test_linearized_flip_distance_equals_flip_distance_at_initialisation():
    net = _net(d=20, m=300)
    x = torch.nn.functional.normalize(_x(50, 20), dim=1)
    assert torch.allclose(tk.linearized_flip_distance(net, x), ll.flip_distance(net, x), rtol=1e-10, atol=1e-12)
    u = _x(50, 20, seed=9)
    assert torch.allclose(tk.linearized_flip_distance(net, x, u), ll.flip_distance(net, x, u), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_linearized_flip_distance_matches_a_fine_grid(seed):
    # Away from W0 the linearised model jumps where an activation of W0 changes; a grid of step
    # 1e-4 along each ray finds the first sign change to within one step.
    net, x = _net(m=50, seed=seed), _x(20, 8, seed=seed + 10)
    fit, _ = tk.min_norm_interpolant(net, x[:6], torch.tensor([1.0, -1, 1, -1, 1, -1], dtype=F64))
    u = torch.nn.functional.normalize(_x(20, 8, seed=seed + 20), dim=1)
    t = tk.linearized_flip_distance(fit, x, u)
    grid = torch.linspace(0, 20, 200_001, dtype=F64)
    for i in range(20):
        values = ll.linearization(fit, x[i] + grid[:, None] * u[i])
        flipped = (torch.sign(values) != torch.sign(values[0])).nonzero()
        if len(flipped):
            assert abs(float(t[i]) - float(grid[flipped[0, 0]])) <= 1.5e-4
        else:
            assert float(t[i]) > 20


def test_linearized_flip_distance_default_direction_and_edge_cases():
    net, x = _net(m=80), _x(10, 8)
    fit, _ = tk.min_norm_interpolant(net, x[:5], torch.ones(5, dtype=F64))
    t = tk.linearized_flip_distance(fit, x)
    on = (x @ fit.W0.T > 0).to(F64)
    g = ((on * fit.a * fit.output_scale) @ fit.W).detach()
    f = ll.linearization(fit, x)
    u = -torch.sign(f)[:, None] * g
    assert torch.allclose(t, tk.linearized_flip_distance(fit, x, u))
    finite = torch.isfinite(t)
    after = ll.linearization(fit, x[finite] + (t[finite] + 1e-7)[:, None] * torch.nn.functional.normalize(u[finite], dim=1))
    assert bool((torch.sign(after) != torch.sign(f[finite])).all())
    zero = tk.linearized_flip_distance(fit, x[:2], torch.zeros(2, 8, dtype=F64))
    assert bool(torch.isinf(zero).all())


def test_bad_inputs():
    net = _net()
    with pytest.raises(TypeError, match="`model` must be a lazylib.TwoLayerReLU"):
        tk.tangent_kernel("net", _x(2, 8))
    with pytest.raises(ValueError, match="`x1` must have shape"):
        tk.tangent_kernel(net, _x(2, 7))
    with pytest.raises(ValueError, match="`x2` must have shape"):
        tk.tangent_kernel(net, _x(2, 8), _x(2, 5))
    with pytest.raises(TypeError, match="`x1` must be a torch.Tensor"):
        tk.limit_kernel([[1.0]])
    with pytest.raises(ValueError, match="`x2` must have 2 columns"):
        tk.limit_kernel(_x(2, 2), _x(2, 3))
    with pytest.raises(ValueError, match="`targets` must have shape"):
        tk.min_norm_interpolant(net, _x(3, 8), torch.ones(4, dtype=F64))
    with pytest.raises(ValueError, match="`targets` must be finite"):
        tk.min_norm_interpolant(net, _x(2, 8), torch.tensor([1.0, math.inf], dtype=F64))
    with pytest.raises(TypeError, match="`x` must have the model's dtype"):
        tk.linearized_flip_distance(net, _x(2, 8, dtype=torch.float32))
    with pytest.raises(ValueError, match="`direction` must have shape"):
        tk.linearized_flip_distance(net, _x(2, 8), _x(3, 8))


def test_linearized_walk_values_match_the_linearised_model_at_its_breakpoints():
    # The walk shared with flip_distance, given the value jumps of the linearised model: just before and
    # just after every breakpoint its values are those of ll.linearization on the ray.
    from lazylib.attacks import _walk

    net = ll.TwoLayerReLU(8, 40, generator=torch.Generator().manual_seed(0), dtype=F64)
    with torch.no_grad():
        net.W.add_(0.2 * torch.randn(40, 8, generator=torch.Generator().manual_seed(1), dtype=F64))
    x = torch.randn(5, 8, generator=torch.Generator().manual_seed(2), dtype=F64)
    u = torch.nn.functional.normalize(torch.randn(5, 8, generator=torch.Generator().manual_seed(3), dtype=F64), dim=1)
    coef = (net.a * net.output_scale).detach()
    W, W0 = net.W.detach(), net.W0
    z0, z, c0, c = x @ W0.T, x @ W.T, u @ W0.T, u @ W.T
    on = (z0 > 0) | ((z0 == 0) & (c0 > 0))
    k = torch.sign(c0) * coef
    tau, _, start, slope_before, slope_after, before, jump = _walk(
        z0, c0, (on.to(F64) * c) @ coef, (on.to(F64) * z) @ coef, k * c, (k, z, c))
    assert torch.equal(start[:, 1:], tau[:, :-1])
    h = 1e-7
    for i in range(5):
        real = tau[i] > start[i]  # the padded pieces repeat the last breakpoint
        left = ll.linearization(net, x[i] + (tau[i][real] - h)[:, None] * u[i])
        right = ll.linearization(net, x[i] + (tau[i][real] + h)[:, None] * u[i])
        assert torch.allclose(left, before[i][real], atol=1e-5)
        assert torch.allclose(right, (before + jump)[i][real], atol=1e-5)
        assert torch.allclose(slope_after[i][:-1], slope_before[i][1:])
