"""CPU against CUDA: same seed, same network; same results up to floating point.

Skipped where CUDA is absent. The comparisons run in float64, where the only differences are the
order of summation inside matrix products (relative error ~1e-15), so tolerances are 1e-9 relative;
float32 gets 1e-4. ``LAZYLIB_GPU_TEST_DEVICE=cpu`` runs the same comparisons CPU against CPU, a dry
run of this file on a machine without a GPU.
"""

from __future__ import annotations

import os

import pytest
import torch

import lazylib as ll
from conftest import gen, unit_rows

DEVICE = os.environ.get("LAZYLIB_GPU_TEST_DEVICE", "cuda")

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(DEVICE == "cuda" and not torch.cuda.is_available(), reason="CUDA is not available"),
]

D, M, N = 20, 300, 64
TOL64 = dict(rtol=1e-9, atol=1e-11)


def _pair(dtype=torch.float64, seed=0, d=D, m=M):
    cpu = ll.TwoLayerReLU(d, m, generator=gen(seed), dtype=dtype)
    dev = ll.TwoLayerReLU(d, m, generator=gen(seed), dtype=dtype, device=DEVICE)
    return cpu, dev


def _close(a: torch.Tensor, b: torch.Tensor, **tol):
    assert b.device.type == torch.device(DEVICE).type
    torch.testing.assert_close(b.cpu(), a, **(tol or TOL64))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_same_seed_gives_identical_weights_on_both_devices(dtype):
    cpu, dev = _pair(dtype)
    for name in ("W", "W0", "a"):
        t = getattr(dev, name)
        assert t.device.type == torch.device(DEVICE).type and t.dtype == dtype
        assert torch.equal(t.detach().cpu(), getattr(cpu, name).detach())  # drawn on the CPU: bitwise equal
    assert dev.W.data_ptr() != dev.W0.data_ptr()


def test_default_device_is_cuda():
    if DEVICE == "cuda":
        assert ll.default_device().type == "cuda"


def test_forward_gradient_and_geometry_agree():
    cpu, dev = _pair()
    x = unit_rows(N, D, seed=1)
    xd = x.to(DEVICE)
    _close(cpu(x).detach(), dev(xd).detach())
    _close(ll.input_gradient(cpu, x), ll.input_gradient(dev, xd))
    _close(ll.preactivations(cpu, x), ll.preactivations(dev, xd))
    _close(ll.linearization(cpu, x), ll.linearization(dev, xd))
    R = ll.lazy_radius(M, 2.0)
    for a, b in zip(ll.value_bounds(cpu, x, R), ll.value_bounds(dev, xd, R)):
        _close(a, b)
    _close(ll.value_extremiser(cpu, x[:4], R, which="inf"), ll.value_extremiser(dev, xd[:4], R, which="inf"))
    assert ll.deviation(dev) == ll.deviation(cpu) == 0.0


def test_flip_distance_agrees():
    cpu, dev = _pair(seed=1)
    x = unit_rows(N, D, seed=2)
    xd = x.to(DEVICE)
    t_cpu, t_dev = ll.flip_distance(cpu, x), ll.flip_distance(dev, xd)
    assert torch.equal(torch.isinf(t_cpu), torch.isinf(t_dev.cpu()))
    _close(t_cpu, t_dev)
    direction = torch.randn(N, D, generator=gen(3), dtype=torch.float64)
    _close(ll.flip_distance(cpu, x, direction), ll.flip_distance(dev, xd, direction.to(DEVICE)))


def test_flip_distance_float32_agrees():
    cpu, dev = _pair(torch.float32, seed=4)
    x = unit_rows(N, D, seed=5, dtype=torch.float32)
    _close(ll.flip_distance(cpu, x), ll.flip_distance(dev, x.to(DEVICE)), rtol=1e-4, atol=1e-5)


def test_attacks_and_metrics_agree():
    cpu, dev = _pair(seed=2)
    x = torch.rand(N, D, generator=gen(6), dtype=torch.float64)
    y = torch.where(x[:, 0] > 0.5, 1.0, -1.0).double()
    xd, yd = x.to(DEVICE), y.to(DEVICE)
    _close(ll.gradient_step(cpu, x, 0.2), ll.gradient_step(dev, xd, 0.2))
    _close(ll.fgm_l2(cpu, x, y, 0.3, clip=(0, 1)), ll.fgm_l2(dev, xd, yd, 0.3, clip=(0, 1)))
    # PGD with a random start: the start is drawn on the CPU generator, so both devices start alike
    _close(ll.pgd_l2(cpu, x, y, 0.3, steps=10, generator=gen(7)), ll.pgd_l2(dev, xd, yd, 0.3, steps=10, generator=gen(7)))
    assert ll.accuracy(cpu, x, y) == ll.accuracy(dev, xd, yd)
    eps = [0.0, 0.05, 0.2, 1.0]
    assert torch.equal(ll.robust_accuracy(cpu, x, y, eps), ll.robust_accuracy(dev, xd, yd, eps))
    pgd = ll.robust_accuracy(dev, xd, yd, eps, attack="pgd", steps=10)
    assert pgd.device.type == "cpu"
    torch.testing.assert_close(pgd, ll.robust_accuracy(cpu, x, y, eps, attack="pgd", steps=10), rtol=0, atol=1.5 / N)
    assert ll.logistic_loss(cpu, x, y) == pytest.approx(ll.logistic_loss(dev, xd, yd), rel=1e-12)
    _close(ll.loss_gradient(cpu, x, y), ll.loss_gradient(dev, xd, yd))


@pytest.mark.parametrize("batch_size", [None, 16])
def test_training_agrees(batch_size):
    cpu, dev = _pair(seed=3)
    x, y = ll.data.sphere(N, D, generator=gen(8), dtype=torch.float64)
    hc = ll.train(cpu, x, y, lr=1.0, epochs=10, batch_size=batch_size, C0=2.0, generator=gen(9), progress=False)
    hd = ll.train(dev, x.to(DEVICE), y.to(DEVICE), lr=1.0, epochs=10, batch_size=batch_size, C0=2.0,
                  generator=gen(9), progress=False)
    _close(cpu.W.detach(), dev.W.detach(), rtol=1e-8, atol=1e-10)
    assert torch.equal(dev.W0.cpu(), cpu.W0)
    assert hc.loss == pytest.approx(hd.loss, rel=1e-8)
    assert hc.deviation == pytest.approx(hd.deviation, rel=1e-8)
    assert hc.accuracy == hd.accuracy


def test_project_agrees():
    cpu, dev = _pair(seed=5)
    delta = 0.3 * torch.randn(M, D, generator=gen(10), dtype=torch.float64)
    with torch.no_grad():
        cpu.W.add_(delta)
        dev.W.add_(delta.to(DEVICE))
    ll.project_(cpu, 0.05)
    ll.project_(dev, 0.05)
    _close(cpu.W.detach(), dev.W.detach())


def test_data_on_the_device():
    x, y = ll.data.sphere(10, 4, generator=gen(0), device=DEVICE)
    assert x.device.type == y.device.type == torch.device(DEVICE).type
    x_cpu, _ = ll.data.sphere(10, 4, generator=gen(0))
    assert torch.equal(x.cpu(), x_cpu)


@pytest.mark.skipif(DEVICE != "cuda", reason="needs two different devices")
def test_mismatched_devices_are_named_errors():
    cpu, dev = _pair()
    x = unit_rows(3, D)
    y = torch.ones(3, dtype=torch.float64)
    W = dev.W.detach().clone()
    with pytest.raises(ValueError, match="`x`"):
        dev(x)
    with pytest.raises(ValueError, match="`x`"):
        ll.input_gradient(cpu, x.to(DEVICE))
    with pytest.raises(ValueError, match="`y`"):
        ll.accuracy(dev, x.to(DEVICE), y)
    with pytest.raises(ValueError, match="`direction`"):
        ll.flip_distance(dev, x.to(DEVICE), x)
    with pytest.raises(ValueError, match="`eta`"):
        ll.gradient_step(dev, x.to(DEVICE), torch.ones(3, dtype=torch.float64))
    with pytest.raises(ValueError, match="`x`"):
        ll.train(dev, x, y, lr=1.0, epochs=1)
    assert torch.equal(dev.W.detach(), W)
    with pytest.raises(ValueError, match="`generator`"):
        ll.TwoLayerReLU(3, 4, generator=torch.Generator(device=DEVICE))


def test_an_ensemble_agrees_on_both_devices_through_the_same_functions():
    seeds = [gen(s) for s in range(3)]
    cpu = ll.Ensemble(D, M, generators=seeds, dtype=torch.float64)
    dev = ll.Ensemble(D, M, generators=[gen(s) for s in range(3)], dtype=torch.float64, device=DEVICE)
    x = unit_rows(N, D, seed=1)
    y = torch.where(x[:, 0] > 0, 1.0, -1.0).double()
    xd, yd = x.to(DEVICE), y.to(DEVICE)
    hc = ll.train(cpu, x, y, lr=0.5, epochs=3, batch_size=16, C0=[1.0, 2.0, 4.0], generator=gen(5), progress=False)
    hd = ll.train(dev, xd, yd, lr=0.5, epochs=3, batch_size=16, C0=[1.0, 2.0, 4.0], generator=gen(5), progress=False)
    _close(cpu.W.detach(), dev.W.detach())
    assert [h.epochs for h in hc] == [h.epochs for h in hd]
    _close(cpu(x).detach(), dev(xd).detach())
    _close(ll.input_gradient(cpu, x), ll.input_gradient(dev, xd))
    torch.testing.assert_close(ll.deviation(dev), ll.deviation(cpu), **TOL64)
    _close(ll.flip_distance(cpu, x), ll.flip_distance(dev, xd))
    _close(ll.pgd_l2(cpu, x, y, 0.2, steps=5), ll.pgd_l2(dev, xd, yd, 0.2, steps=5))
    assert torch.equal(ll.accuracy(cpu, x, y), ll.accuracy(dev, xd, yd))
