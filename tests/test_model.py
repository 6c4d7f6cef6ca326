"""The network f(x; a, W) = m^{-1/2} Σ a_s relu(w_sᵀx) and its closed-form input gradient."""

from __future__ import annotations

import math

import pytest
import torch

import lazylib as ll
from conftest import D, M, gen, make_model, make_net, members, perturb_, reference_forward, unit_rows


# ---------------------------------------------------------------------------------------------------
# Construction
# ---------------------------------------------------------------------------------------------------


def test_attributes_shapes_and_kinds(net64):
    assert net64.d == D and net64.m == M
    assert isinstance(net64.W, torch.nn.Parameter) and net64.W.shape == (M, D)
    assert net64.W0.shape == (M, D) and not isinstance(net64.W0, torch.nn.Parameter)
    assert net64.a.shape == (M,)
    assert set(net64.a.tolist()) <= {-1.0, 1.0}
    # only W is trained; a and W0 are buffers (saved, never optimised)
    assert [name for name, _ in net64.named_parameters()] == ["W"]
    assert {"W0", "a"} <= set(dict(net64.named_buffers()))
    assert {"W", "W0", "a"} <= set(net64.state_dict())
    assert torch.equal(net64.W.detach(), net64.W0)
    assert net64.output_scale == pytest.approx(1 / math.sqrt(M))
    assert "d=6" in repr(net64) and "m=40" in repr(net64)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, None])
def test_W_and_W0_are_separate_tensors(dtype):
    # Regression: `.to(float64)` of a float64 tensor returns the tensor itself, so W and W0 once shared
    # memory and training moved W0 along with W.
    net = ll.TwoLayerReLU(4, 8, generator=gen(0), dtype=dtype)
    assert net.W.data_ptr() != net.W0.data_ptr()
    assert net.W.dtype == net.W0.dtype == net.a.dtype == (dtype or torch.get_default_dtype())
    before = net.W0.clone()
    with torch.no_grad():
        net.W.add_(1.0)
    assert torch.equal(net.W0, before)
    assert not torch.equal(net.W.detach(), net.W0)


def test_same_seed_same_network_and_float32_is_rounded_float64():
    a, b = make_net(seed=5), make_net(seed=5)
    assert torch.equal(a.W0, b.W0) and torch.equal(a.a, b.a)
    c = make_net(seed=6)
    assert not torch.equal(a.W0, c.W0)
    # draws happen in float64 and are then cast: the float32 network is the rounded float64 one
    f32 = make_net(seed=5, dtype=torch.float32)
    assert torch.equal(f32.W0, a.W0.to(torch.float32))
    assert torch.equal(f32.a, a.a.to(torch.float32))


def test_no_generator_uses_global_rng_and_does_not_seed_it():
    with torch.random.fork_rng(devices=[]):  # leave the global generator as we found it
        torch.manual_seed(123)
        state = torch.get_rng_state()
        net = ll.TwoLayerReLU(3, 5)
        assert net.W.shape == (5, 3)
        assert not torch.equal(torch.get_rng_state(), state)  # it drew from the global generator…
        torch.manual_seed(123)
        again = ll.TwoLayerReLU(3, 5)
        assert torch.equal(net.W0, again.W0)  # …and reproducibly so


def test_generator_is_consumed_but_not_reseeded():
    g = gen(0)
    first = ll.TwoLayerReLU(3, 5, generator=g)
    second = ll.TwoLayerReLU(3, 5, generator=g)
    assert not torch.equal(first.W0, second.W0)


def test_output_scale_option():
    net = make_net(output_scale=1.0 / M)
    ntk = make_net()
    x = unit_rows(5, D)
    assert net.output_scale == pytest.approx(1.0 / M)
    torch.testing.assert_close(net(x), ntk(x) / math.sqrt(M), rtol=1e-12, atol=1e-14)


def test_default_device(monkeypatch):
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert ll.default_device().type == expected
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert ll.default_device() == torch.device("cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert ll.default_device().type == "cuda"


def test_device_argument_accepts_strings_and_devices():
    for dev in ("cpu", torch.device("cpu")):
        net = ll.TwoLayerReLU(2, 3, generator=gen(0), device=dev)
        assert net.W.device.type == net.W0.device.type == net.a.device.type == "cpu"


# ---------------------------------------------------------------------------------------------------
# Forward pass
# ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("K", [None, 3])
def test_forward_matches_the_sum_over_neurons(K, x64):
    model = perturb_(make_model(K), 0.3)
    out = model(x64)
    assert out.shape == (x64.shape[0],) if K is None else (K, x64.shape[0])
    for k, net in enumerate(members(model)):
        torch.testing.assert_close(out if K is None else out[k], reference_forward(net, x64), rtol=1e-12, atol=1e-13)


def test_forward_is_positively_homogeneous_and_zero_at_zero(net64, x64):
    torch.testing.assert_close(net64(2.5 * x64), 2.5 * net64(x64), rtol=1e-12, atol=1e-13)
    assert torch.equal(net64(torch.zeros(3, D, dtype=torch.float64)), torch.zeros(3, dtype=torch.float64))


def test_forward_single_row_and_float32(x64):
    net = make_net(dtype=torch.float32)
    out = net(x64[:1].float())
    assert out.shape == (1,) and out.dtype == torch.float32
    torch.testing.assert_close(out.double(), make_net()(x64[:1]), rtol=1e-5, atol=1e-6)


def test_forward_records_a_graph_in_W(net64, x64):
    (grad,) = torch.autograd.grad(net64(x64).sum(), net64.W)
    assert grad.shape == (M, D)


@pytest.mark.parametrize("K", [None, 3])
def test_preactivations(K, x64):
    model = make_model(K)
    z = ll.preactivations(model, x64)
    assert z.shape == ((x64.shape[0], M) if K is None else (K, x64.shape[0], M)) and not z.requires_grad
    for k, net in enumerate(members(model)):
        torch.testing.assert_close(z if K is None else z[k], x64 @ net.W.detach().T, rtol=0, atol=0)


# ---------------------------------------------------------------------------------------------------
# Input gradient: closed form against autograd and finite differences
# ---------------------------------------------------------------------------------------------------


def _autograd_input_gradient(net: ll.TwoLayerReLU, x: torch.Tensor) -> torch.Tensor:
    x = x.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(net(x).sum(), x)
    return g


@pytest.mark.parametrize("K", [None, 3])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_input_gradient_matches_autograd(seed, K):
    net = perturb_(make_model(K, seed=seed), 0.2, seed=seed + 10)
    x = unit_rows(20, D, seed=seed + 20) * 3.0
    if K is not None:  # one batch per member, so that the gradient of the sum is every member's own
        x = torch.stack([unit_rows(20, D, seed=seed + 20 + k) * 3.0 for k in range(K)])
    g = ll.input_gradient(net, x)
    assert g.shape == x.shape and not g.requires_grad
    torch.testing.assert_close(g, _autograd_input_gradient(net, x), rtol=1e-12, atol=1e-13)
    if K is not None:  # and inputs shared by the members give each member's gradient
        shared = ll.input_gradient(net, x[0])
        for k, member in enumerate(net.members()):
            torch.testing.assert_close(shared[k], ll.input_gradient(member, x[0]), rtol=1e-13, atol=1e-15)


def test_input_gradient_at_a_kink_uses_relu_prime_zero_like_autograd(net64):
    # x = 0 puts every neuron at its kink; a row orthogonal to w_1 puts neuron 1 there.
    w1 = net64.W.detach()[1]
    v = torch.randn(D, generator=gen(4), dtype=torch.float64)
    on_kink = v - (v @ w1) / (w1 @ w1) * w1
    x = torch.stack([torch.zeros(D, dtype=torch.float64), on_kink])
    assert ll.preactivations(net64, x)[1, 1].abs() < 1e-12
    torch.testing.assert_close(ll.input_gradient(net64, x), _autograd_input_gradient(net64, x), rtol=1e-12, atol=1e-12)
    assert torch.equal(ll.input_gradient(net64, x[:1]), torch.zeros(1, D, dtype=torch.float64))


def test_input_gradient_is_the_closed_form(net64, x64):
    W = net64.W.detach()
    active = (x64 @ W.T > 0).double()
    expected = torch.stack([(active[i] * net64.a) @ W for i in range(len(x64))]) / math.sqrt(M)
    torch.testing.assert_close(ll.input_gradient(net64, x64), expected, rtol=1e-12, atol=1e-13)


class _ClosedFormF(torch.autograd.Function):
    """f(x) whose backward is lazylib's closed-form input gradient, for torch.autograd.gradcheck."""

    @staticmethod
    def forward(ctx, x, net):
        ctx.save_for_backward(x)
        ctx.net = net
        with torch.no_grad():
            return net(x)

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        return grad_out[:, None] * ll.input_gradient(ctx.net, x), None


def test_input_gradient_gradcheck_away_from_kinks():
    net = perturb_(make_net(seed=3), 0.1)
    x = unit_rows(8, D, seed=9)
    # gradcheck perturbs each coordinate by 1e-6; keep every preactivation far from 0 so no neuron switches
    assert ll.preactivations(net, x).abs().min() > 1e-3
    x.requires_grad_(True)
    assert torch.autograd.gradcheck(lambda x: _ClosedFormF.apply(x, net), (x,), eps=1e-6, atol=1e-7, rtol=1e-6)


def test_input_gradient_float32_close_to_float64(x64):
    g32 = ll.input_gradient(make_net(dtype=torch.float32), x64.float())
    assert g32.dtype == torch.float32
    torch.testing.assert_close(g32.double(), ll.input_gradient(make_net(), x64), rtol=1e-5, atol=1e-5)


def test_functions_do_not_modify_their_inputs(net64, x64):
    W, W0, a, x = net64.W.detach().clone(), net64.W0.clone(), net64.a.clone(), x64.clone()
    net64(x64)
    ll.input_gradient(net64, x64)
    ll.preactivations(net64, x64)
    assert torch.equal(net64.W.detach(), W) and torch.equal(net64.W0, W0) and torch.equal(net64.a, a)
    assert torch.equal(x64, x)
