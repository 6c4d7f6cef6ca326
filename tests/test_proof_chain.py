"""The explicit proof chain: Lemma C's uniform bound and the theorem's constants (lazylib.proof_chain)."""

from __future__ import annotations

import math

import pytest
import torch

import lazylib as ll
from lazylib import proof_chain as pc

from conftest import gen


def test_lemma_c_bound_is_the_sum_of_its_three_terms_and_grows_with_r():
    prev = None
    for r in (0.0, 0.01, 0.05, 0.2, 0.5):
        b = pc.lemma_c_bound(10**8, 10**4, 10.0, r, 0.1)
        assert b.total == pytest.approx(b.initial + b.transfer + b.deviation, rel=1e-12)
        assert 0 <= b.switching <= 10**8 and 0 <= b.switchable <= 10**8
        if prev is not None:
            assert b.total >= prev.total and b.switching >= prev.switching
        prev = b
    # the slab count does not depend on r; it is about 1.25 * sqrt(2/pi) * C0 * sqrt(m) for large m
    assert pc.lemma_c_bound(10**12, 100, 10.0, 0.1, 0.1).switchable / 10**6 == pytest.approx(
        1.25 * math.sqrt(2 / math.pi) * 10.0, rel=0.05)


def test_lemma_c_bound_without_a_lazy_ball_has_no_transfer_or_deviation_term():
    b = pc.lemma_c_bound(10**6, 100, 0.0, 0.1, 0.1)
    assert b.switchable == 0 and b.transfer == 0.0 and b.deviation == 0.0 and b.total == b.initial


def test_lemma_c_bound_formulas_at_one_point():
    m, d, C0, r, gamma = 10**6, 400, 2.0, 0.1, 0.2
    b = pc.lemma_c_bound(m, d, C0, r, gamma)
    g = gamma / 5
    L = math.log(m / g)
    assert b.row_norm == pytest.approx(math.sqrt(d + 2 * math.sqrt(d * L) + 2 * L))
    K = 2 * math.sqrt(2 * ((d + 1) * (1 + math.log(m / (d + 1))) + d * math.log(5) + math.log(1 / g)))
    assert b.K == pytest.approx(K)
    mu = m * r * (2 / math.pi + 0.25 * math.sqrt(2 / math.pi)) / (1 - r)
    lam = d * math.log1p(2 * b.row_norm / 0.25) + math.log(1 / g)
    assert b.switching == math.floor(mu + math.sqrt(2 * mu * lam) + 2 * lam / 3)
    assert b.op_switching == pytest.approx(pc.subset_operator_norm(b.switching, m, d, g / 2))


@pytest.mark.statistical
def test_lemma_c_events_hold_on_random_networks():
    """The events of the proof, measured on draws where the bounds are not vacuous in the counts."""
    d, m, C0, r, gamma = 50, 20000, 1.0, 0.02, 0.1
    b = pc.lemma_c_bound(m, d, C0, r, gamma)
    assert b.switching < m and b.switchable < m
    net = ll.TwoLayerReLU(d, m, generator=gen(3), dtype=torch.float64)
    x = torch.nn.functional.normalize(torch.randn(1, d, generator=gen(4), dtype=torch.float64), dim=1)
    assert float(net.W0.norm(dim=1).max()) <= b.row_norm
    u = r * torch.nn.functional.normalize(torch.randn(64, d, generator=gen(5), dtype=torch.float64), dim=1)
    xs = x.expand(64, d)
    counts = ll.lemmas.activation_changes(net, xs, u)
    assert int(counts.max()) <= b.switching
    y = torch.nn.functional.normalize(xs + u, dim=1)
    slab = (ll.preactivations(net, y).abs() <= C0 / math.sqrt(m)).sum(dim=1)
    assert int(slab.max()) <= b.switchable
    diff = ll.lemmas.gradient_difference(net, xs, u)
    assert float(diff.max()) <= b.total


def test_theorem_constants_at_mnist_sizes_fail_at_lemma_b_and_hold_in_high_dimension():
    c = pc.theorem_constants(1000, 784, 10.0, 0.1)
    assert not c.holds and c.failing == "Lemma B's lower bound is 0"
    big = pc.theorem_constants(10**50, 10**16, 10.0, 0.1)
    assert big.holds and big.failing == "" and big.difference < big.B / 2
    assert big.C2 == pytest.approx(2 * big.A) and big.r == pytest.approx(big.C2 / big.B)
    assert big.A == pytest.approx(ll.lemmas.value_bound_sharp(0.1 / 3, 10.0, 10**50))


def test_theorem_window_is_empty_at_mnist_and_an_interval_in_high_dimension():
    assert math.isnan(pc.theorem_window(784, 10.0, 0.1).log10_low)
    w = pc.theorem_window(10**16, 10.0, 0.1, step=0.5)
    assert w.contiguous and 16 < w.log10_low < 60
    assert pc.theorem_constants(int(10 ** w.log10_low), 10**16, 10.0, 0.1).holds


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda: pc.lemma_c_bound(0, 10, 1.0, 0.1, 0.1), ValueError, "`m`"),
        (lambda: pc.lemma_c_bound(10, 10, -1.0, 0.1, 0.1), ValueError, "`C0`"),
        (lambda: pc.lemma_c_bound(10, 10, 1.0, 1.0, 0.1), ValueError, "`r`"),
        (lambda: pc.lemma_c_bound(10, 10, 1.0, 0.1, 1.5), ValueError, "`gamma`"),
        (lambda: pc.lemma_c_bound(10, 10, 1.0, float("nan"), 0.1), ValueError, "`r`"),
        (lambda: pc.lemma_c_bound(10, "10", 1.0, 0.1, 0.1), TypeError, "`d`"),
        (lambda: pc.subset_operator_norm(11, 10, 3, 0.1), ValueError, "`k`"),
        (lambda: pc.subset_operator_norm(1, 10, 3, 0.0), ValueError, "`gamma`"),
        (lambda: pc.theorem_constants(10, 1, 1.0, 0.1), ValueError, "`d`"),
        (lambda: pc.theorem_constants(10, 10, 1.0, None), TypeError, "`gamma`"),
        (lambda: pc.theorem_window(10, 1.0, 0.1, log10_max=400), ValueError, "`log10_max`"),
        (lambda: pc.theorem_window(10, 1.0, 0.1, step=0), ValueError, "`step`"),
    ],
)
def test_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
