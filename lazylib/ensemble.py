"""K networks of the same shape trained at once, as one batched computation.

A sweep over seeds and lazy-ball sizes C₀ trains many networks of the same width on the same data.
:class:`Ensemble` stores K such networks as one batch of weights, W of shape (K, m, d), and
:func:`train_ensemble` runs :func:`lazylib.train`'s algorithm on all of them with batched matrix
products (no Python loop over models). Member k ends where ``ll.train`` would have taken it, with the
same seeds, up to floating-point rounding (the tests compare them in float64).

Per-member settings: the lazy-ball constant C₀ (or an absolute radius), and the shuffling generator.
The step size, epochs, batch size, constraint and attack are shared.

Book: chapters 10–12 (the paper's experiments), and the benchmark ``benchmarks/ensemble.py``.
"""

from __future__ import annotations

import math
from numbers import Real
from typing import Any, Sequence

import torch
from torch import nn

from . import _checks
from .model import TwoLayerReLU
from .train import TrainHistory, _attack_options, _progress_enabled

__all__ = [
    "Ensemble",
    "train_ensemble",
    "input_gradient",
    "deviation",
    "project_",
    "pgd_l2",
    "accuracy",
    "flip_distance",
]

_CHUNK = 1 << 22  # elements of the largest (K, n, m) pre-activation block evaluated at once (16 MiB in float32)


class Ensemble(nn.Module):
    r"""K two-layer ReLU networks f_k(x) = α Σ_s a_{k,s} relu(w_{k,s}ᵀx) of one width, stored as one batch.

    Parameters
    ----------
    d, m : int
        Input dimension and width, shared by the members.
    generators : sequence of torch.Generator
        One CPU generator per member; member k is drawn exactly as
        ``TwoLayerReLU(d, m, generator=generators[k])`` would draw it, so the same seeds give the
        same networks one by one or batched.
    device, dtype, output_scale : optional
        As for :class:`lazylib.TwoLayerReLU`.

    Attributes
    ----------
    K : int
        Number of members.
    a : torch.Tensor, shape (K, m)
        Output signs (a buffer).
    W : torch.nn.Parameter, shape (K, m, d)
        Hidden weights; ``W[k]`` is member k's matrix.
    W0 : torch.Tensor, shape (K, m, d)
        Initial hidden weights (a buffer).

    Examples
    --------
    >>> import torch, lazylib as ll
    >>> ens = ll.Ensemble(5, 20, generators=[torch.Generator().manual_seed(s) for s in (0, 1, 2)])
    >>> ens(torch.ones(4, 5)).shape
    torch.Size([3, 4])
    >>> net = ll.TwoLayerReLU(5, 20, generator=torch.Generator().manual_seed(1))
    >>> bool(torch.equal(ens.member(1).W, net.W))
    True

    Notes
    -----
    Book: the sweeps of chapters 10–12.
    """

    def __init__(
        self,
        d: int,
        m: int,
        *,
        generators: Sequence[torch.Generator],
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
        output_scale: float | None = None,
    ) -> None:
        d = _checks.positive_int("d", d)
        m = _checks.positive_int("m", m)
        if isinstance(generators, torch.Generator) or not isinstance(generators, Sequence) or not generators:
            raise TypeError(
                "`generators` must be a non-empty sequence of torch.Generator, one per member; "
                f"got {type(generators).__name__}."
            )
        for g in generators:
            if not isinstance(g, torch.Generator):
                raise TypeError(
                    f"`generators` must be a non-empty sequence of torch.Generator, one per member; "
                    f"got an element of type {type(g).__name__}."
                )
        members = [
            TwoLayerReLU(d, m, generator=g, device=device, dtype=dtype, output_scale=output_scale) for g in generators
        ]
        super().__init__()
        self._adopt(members)

    def _adopt(self, members: Sequence[TwoLayerReLU]) -> None:
        first = members[0]
        self.K, self.d, self.m, self.output_scale = len(members), first.d, first.m, first.output_scale
        with torch.no_grad():
            self.W = nn.Parameter(torch.stack([net.W.detach() for net in members]).clone())
            self.register_buffer("W0", torch.stack([net.W0 for net in members]).clone())
            self.register_buffer("a", torch.stack([net.a for net in members]).clone())

    @classmethod
    def from_models(cls, models: Sequence[TwoLayerReLU]) -> "Ensemble":
        """Stack existing networks of the same shape, dtype, device and output scale (their weights are copied).

        Examples
        --------
        >>> import torch, lazylib as ll
        >>> nets = [ll.TwoLayerReLU(3, 8, generator=torch.Generator().manual_seed(s)) for s in range(4)]
        >>> ll.Ensemble.from_models(nets).K
        4
        """
        if isinstance(models, TwoLayerReLU) or not isinstance(models, Sequence) or not models:
            raise TypeError(f"`models` must be a non-empty sequence of lazylib.TwoLayerReLU; got {type(models).__name__}.")
        for net in models:
            _checks.model("models", net)
        first = models[0]
        for net in models[1:]:
            same = (net.d, net.m, net.output_scale, net.W.dtype, net.W.device) == (
                first.d, first.m, first.output_scale, first.W.dtype, first.W.device)
            if not same:
                raise ValueError(
                    "`models` must share d, m, output_scale, dtype and device; got "
                    f"(d={first.d}, m={first.m}) and (d={net.d}, m={net.m}) or different scale, dtype or device."
                )
        ens = cls.__new__(cls)
        nn.Module.__init__(ens)
        ens._adopt(models)
        return ens

    def member(self, k: int) -> TwoLayerReLU:
        """A :class:`lazylib.TwoLayerReLU` holding a copy of member k's weights (changing it leaves the ensemble alone)."""
        k = _checks.positive_int("k", k, minimum=0)
        if k >= self.K:
            raise ValueError(f"`k` must be an integer between 0 and {self.K - 1}; got {k}.")
        net = TwoLayerReLU.__new__(TwoLayerReLU)
        nn.Module.__init__(net)
        net.d, net.m, net.output_scale = self.d, self.m, self.output_scale
        net.W = nn.Parameter(self.W.detach()[k].clone())
        net.register_buffer("W0", self.W0[k].clone())
        net.register_buffer("a", self.a[k].clone())
        return net

    def members(self) -> list[TwoLayerReLU]:
        """Every member as a separate :class:`lazylib.TwoLayerReLU` (copies)."""
        return [self.member(k) for k in range(self.K)]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """f_k(x) for every member: x of shape (n, d) (shared) or (K, n, d) (one batch per member) → (K, n)."""
        x = _inputs("x", x, self)
        return _forward(self.W, _coef(self), x)

    def extra_repr(self) -> str:
        return f"K={self.K}, d={self.d}, m={self.m}, output_scale={self.output_scale:.4g}"


# ------------------------------------------------------------------------------------------------
# Validation helpers


def _ensemble(name: str, value: Any) -> None:
    if not isinstance(value, Ensemble):
        _checks._fail(TypeError, name, "a lazylib.Ensemble", type(value).__name__)


def _inputs(name: str, value: Any, ens: Ensemble) -> torch.Tensor:
    """Inputs (n, d) shared by every member, or (K, n, d) one batch per member; model's dtype and device."""
    if not isinstance(value, torch.Tensor):
        _checks._fail(TypeError, name, "a torch.Tensor", type(value).__name__)
    if not value.dtype.is_floating_point:
        _checks._fail(TypeError, name, "a floating-point tensor", f"dtype {value.dtype}")
    text = f"(n, {ens.d}) or ({ens.K}, n, {ens.d})"
    ok = (value.ndim == 2 and value.shape[1] == ens.d) or (
        value.ndim == 3 and value.shape[0] == ens.K and value.shape[2] == ens.d)
    if not ok:
        _checks._fail(ValueError, name, f"have shape {text}", tuple(value.shape))
    if value.shape[-2] == 0:
        _checks._fail(ValueError, name, "a non-empty batch (n ≥ 1)", tuple(value.shape))
    if value.device != ens.W.device:
        _checks._fail(ValueError, name, f"be on the ensemble's device ({ens.W.device.type})", f"a tensor on {value.device.type}")
    if value.dtype != ens.W.dtype:
        _checks._fail(TypeError, name, f"have the ensemble's dtype {ens.W.dtype}", f"dtype {value.dtype}")
    if not bool(torch.isfinite(value).all()):
        _checks._fail(ValueError, name, "finite (no NaN or inf)", "a tensor with NaN or inf entries")
    return value


def _labels(name: str, value: Any, x: torch.Tensor) -> torch.Tensor:
    """Labels (n,) shared, or (K, n) per member, in {−1, +1}."""
    if isinstance(value, torch.Tensor) and value.ndim == 2 and x.ndim == 3:
        for row in value:
            _checks.labels(name, row, x[0])
        if value.shape[0] != x.shape[0]:
            _checks._fail(ValueError, name, f"have shape ({x.shape[0]}, {x.shape[1]}), one row per member", tuple(value.shape))
        return value
    return _checks.labels(name, value, x if x.ndim == 2 else x[0])


def _per_member(name: str, value: Any, K: int, *, minimum: float = 0.0, strict: bool = False) -> torch.Tensor:
    """A number, or a sequence/tensor of K numbers, each finite and ≥ minimum; float64 CPU tensor (K,)."""
    if isinstance(value, torch.Tensor) and value.ndim == 1:
        vals = value.detach().to("cpu").tolist()
    elif isinstance(value, (list, tuple)):
        vals = list(value)
    else:
        return torch.full((K,), _checks.number(name, value, minimum=minimum, strict=strict), dtype=torch.float64)
    if len(vals) != K:
        _checks._fail(ValueError, name, f"a number or {K} numbers, one per member", f"{len(vals)} numbers")
    return torch.tensor([_checks.number(name, v, minimum=minimum, strict=strict) for v in vals], dtype=torch.float64)


# ------------------------------------------------------------------------------------------------
# Batched kernels (no validation; every public function validates first)


def _coef(ens: Ensemble) -> torch.Tensor:
    return ens.a * ens.output_scale  # (K, m)


def _forward(W: torch.Tensor, coef: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """(K, n) outputs; x (n, d) or (K, n, d); evaluated in chunks of rows so memory stays bounded."""
    K, m, _ = W.shape
    n = x.shape[-2]
    rows = max(1, _CHUNK // max(1, K * m))
    out = []
    for start in range(0, n, rows):
        xb = x[..., start:start + rows, :]
        out.append((torch.relu(torch.matmul(xb, W.transpose(1, 2))) * coef[:, None, :]).sum(-1))
    return torch.cat(out, dim=1)


def _input_gradient(W: torch.Tensor, coef: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """∇ₓf_k at the points whose pre-activations are z (K, n, m): (K, n, d)."""
    return torch.bmm(torch.gt(z, 0, out=torch.empty_like(z)).mul_(coef[:, None, :]), W)


def _unit_rows(v: torch.Tensor) -> torch.Tensor:
    norms = torch.linalg.vector_norm(v, dim=-1, keepdim=True)
    safe = norms.clamp_min(torch.finfo(v.dtype).tiny)
    return torch.where(norms > 0, v / safe, torch.zeros_like(v))


def _pgd(W, coef, x, y, eps, steps, alpha, box):
    """Batched ``ll.pgd_l2`` (deterministic start): x (n, d) or (K, n, d), y (n,) or (K, n) → (K, n, d)."""
    K = W.shape[0]
    x = x.expand(K, *x.shape[-2:]) if x.ndim == 2 else x
    y = y.expand(K, y.shape[-1]) if y.ndim == 1 else y
    tiny = torch.finfo(x.dtype).tiny
    adv = x.clone()
    z = torch.bmm(adv, W.transpose(1, 2))
    best, best_margin = adv.clone(), y * (torch.relu(z) * coef[:, None, :]).sum(-1)
    for _ in range(steps):
        direction = _unit_rows(-y[..., None] * _input_gradient(W, coef, z))
        p = adv + alpha * direction
        delta = p - x
        norms = torch.linalg.vector_norm(delta, dim=-1, keepdim=True)
        p = x + delta * torch.clamp(eps / norms.clamp_min(tiny), max=1.0)
        adv = p.clamp(*box) if box else p
        z = torch.bmm(adv, W.transpose(1, 2))
        margin = y * (torch.relu(z) * coef[:, None, :]).sum(-1)
        better = margin < best_margin
        best = torch.where(better[..., None], adv, best)
        best_margin = torch.where(better, margin, best_margin)
    return best


class _Packed:
    """The training state of the active members, laid out for fast batched products.

    Weights are kept transposed and side by side, Wt of shape (d, K·m): with the same mini-batch for
    every member, a step is then two ordinary matrix products, (b, d)·(d, K·m) and (d, b)·(b, K·m),
    and a few passes over one (b, K·m) block, instead of K small products.
    """

    def __init__(self, W: torch.Tensor, W0: torch.Tensor, coef: torch.Tensor) -> None:
        self.K, self.m, self.d = W.shape
        self.Wt = W.permute(2, 0, 1).contiguous()  # (d, K, m)
        self.W0t = W0.permute(2, 0, 1).contiguous()
        self.coef = coef.contiguous()  # (K, m)

    @property
    def flat(self) -> torch.Tensor:
        return self.Wt.view(self.d, self.K * self.m)

    def per_member(self) -> torch.Tensor:
        """(K, d, m) view of the weights (no copy)."""
        return self.Wt.permute(1, 0, 2)

    def weights(self) -> torch.Tensor:
        """(K, m, d) copy of the weights, the public layout."""
        return self.Wt.permute(1, 2, 0).contiguous()

    def select(self, keep: list[int]) -> None:
        idx = torch.tensor(keep, dtype=torch.long, device=self.Wt.device)
        self.Wt = self.Wt.index_select(1, idx).contiguous()
        self.W0t = self.W0t.index_select(1, idx).contiguous()
        self.coef = self.coef.index_select(0, idx).contiguous()
        self.K = len(keep)

    def step(self, xb: torch.Tensor, yb: torch.Tensor, lr: float) -> None:
        """One logistic-loss SGD step of every member, in place (xb (b, d) shared, or (K, b, d))."""
        K, m, b = self.K, self.m, xb.shape[-2]
        if xb.ndim == 2:
            z = xb @ self.flat  # (b, K·m)
            active = torch.gt(z, 0, out=torch.empty_like(z))  # relu'(z) as a float mask, in one pass
            h = torch.relu_(z)
            f = h.mul_(self.coef.view(1, K * m)).view(b, K, m).sum(-1)  # (b, K)
            yk = yb[:, None]
            dloss = -yk * torch.sigmoid(-yk * f) / b  # d loss / d f, (b, K)
            active.view(b, K, m).mul_(dloss[:, :, None]).mul_(self.coef)
            self.flat.addmm_(xb.T, active, alpha=-lr)
        else:
            z = torch.bmm(xb, self.per_member())  # (K, b, m)
            active = torch.gt(z, 0, out=torch.empty_like(z))
            h = torch.relu_(z)
            f = h.mul_(self.coef[:, None, :]).sum(-1)  # (K, b)
            dloss = -yb * torch.sigmoid(-yb * f) / b
            active.mul_(dloss[:, :, None]).mul_(self.coef[:, None, :])
            self.per_member().baddbmm_(xb.transpose(1, 2), active, alpha=-lr)

    def project(self, radius: torch.Tensor) -> None:
        delta = self.flat - self.W0t.view(self.d, -1)
        # Row norms of the neurons' displacements; a sum of squares down the columns is much faster here
        # than a strided norm reduction.
        norms = delta.square().sum(dim=0, keepdim=True).sqrt_()  # (1, K·m)
        R = radius.repeat_interleave(self.m)[None, :]
        shrink = torch.clamp(R / norms.clamp_min(torch.finfo(delta.dtype).tiny), max=1.0)
        self.flat.copy_(self.W0t.view(self.d, -1) + delta * shrink)

    def deviation(self) -> torch.Tensor:
        norms = (self.flat - self.W0t.view(self.d, -1)).square().sum(dim=0).sqrt_()
        return norms.view(self.K, self.m).amax(dim=1).to("cpu", torch.float64)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(K, n) outputs on shared inputs x (n, d), in row chunks."""
        K, m = self.K, self.m
        rows = max(1, _CHUNK // max(1, K * m))
        out = []
        for start in range(0, x.shape[0], rows):
            h = torch.relu_(x[start:start + rows] @ self.flat)
            out.append(h.mul_(self.coef.view(1, K * m)).view(-1, K, m).sum(-1))
        return torch.cat(out, dim=0).T


def _project(W: torch.Tensor, W0: torch.Tensor, radius: torch.Tensor) -> None:
    """Row-wise projection of every member onto its ball B_{2,∞}(W0_k, radius_k), in place."""
    delta = W - W0
    norms = torch.linalg.vector_norm(delta, dim=2, keepdim=True)
    shrink = torch.clamp(radius[:, None, None] / norms.clamp_min(torch.finfo(delta.dtype).tiny), max=1.0)
    W.copy_(W0 + delta * shrink)


# ------------------------------------------------------------------------------------------------
# Public functions


def input_gradient(ens: Ensemble, x: torch.Tensor) -> torch.Tensor:
    """∇ₓf_k(x) for every member and input, closed form: (n, d) or (K, n, d) → (K, n, d).

    Examples
    --------
    >>> import torch, lazylib as ll
    >>> ens = ll.Ensemble(3, 10, generators=[torch.Generator().manual_seed(s) for s in (0, 1)])
    >>> ll.ensemble.input_gradient(ens, torch.ones(4, 3)).shape
    torch.Size([2, 4, 3])
    """
    _ensemble("ens", ens)
    x = _inputs("x", x, ens)
    with torch.no_grad():
        xk = x.expand(ens.K, *x.shape) if x.ndim == 2 else x
        return _input_gradient(ens.W, _coef(ens), torch.bmm(xk, ens.W.transpose(1, 2)))


def deviation(ens: Ensemble) -> torch.Tensor:
    """‖W_k − W_{k,0}‖_{2,∞} for every member, a float64 CPU tensor of shape (K,).

    Examples
    --------
    >>> import torch, lazylib as ll
    >>> ens = ll.Ensemble(3, 10, generators=[torch.Generator().manual_seed(s) for s in (0, 1)])
    >>> ll.ensemble.deviation(ens).tolist()
    [0.0, 0.0]
    """
    _ensemble("ens", ens)
    with torch.no_grad():
        return torch.linalg.vector_norm(ens.W - ens.W0, dim=2).amax(dim=1).to("cpu", torch.float64)


def project_(ens: Ensemble, radius: float | Sequence[float] | torch.Tensor) -> Ensemble:
    """Project every member onto its lazy ball B_{2,∞}(W_{k,0}, radius_k), in place; returns the ensemble.

    Parameters
    ----------
    radius : float, or K floats (one per member), each ≥ 0.

    Examples
    --------
    >>> import torch, lazylib as ll
    >>> ens = ll.Ensemble(3, 10, generators=[torch.Generator().manual_seed(s) for s in (0, 1)])
    >>> with torch.no_grad():
    ...     _ = ens.W.add_(1.0)
    >>> ll.ensemble.deviation(ll.ensemble.project_(ens, [0.1, 0.2])).tolist()  # doctest: +ELLIPSIS
    [0.1..., 0.2...]
    """
    _ensemble("ens", ens)
    R = _per_member("radius", radius, ens.K)
    with torch.no_grad():
        _project(ens.W, ens.W0, R.to(ens.W.device, ens.W.dtype))
    return ens


def pgd_l2(
    ens: Ensemble,
    x: torch.Tensor,
    y: torch.Tensor,
    eps: float,
    *,
    steps: int,
    step_size: float | None = None,
    clip: tuple[float, float] | None = None,
) -> torch.Tensor:
    """:func:`lazylib.pgd_l2` against every member at once (deterministic start): (K, n, d).

    Same algorithm as ``ll.pgd_l2`` without a generator: normalised steps on the margin y·f_k, projection
    onto the ε-ball, clipping, and the iterate with the smallest margin kept. Agrees with running
    ``ll.pgd_l2`` member by member up to floating-point rounding.

    Parameters
    ----------
    x : torch.Tensor, shape (n, d) or (K, n, d)
    y : torch.Tensor, shape (n,) or (K, n), labels in {−1, +1}
    eps, steps, step_size, clip
        As for :func:`lazylib.pgd_l2` (default step size 2.5·ε/steps).

    Examples
    --------
    >>> import torch, lazylib as ll
    >>> ens = ll.Ensemble(3, 20, generators=[torch.Generator().manual_seed(s) for s in (0, 1)])
    >>> x, y = torch.full((2, 3), 0.5), torch.tensor([1.0, -1.0])
    >>> adv = ll.ensemble.pgd_l2(ens, x, y, 0.3, steps=5, clip=(0.0, 1.0))
    >>> adv.shape, float((adv - x).norm(dim=2).max()) <= 0.3 + 1e-6
    (torch.Size([2, 2, 3]), True)
    """
    from .attacks import _clip_range

    _ensemble("ens", ens)
    x = _inputs("x", x, ens)
    y = _labels("y", y, x)
    eps = _checks.number("eps", eps, minimum=0.0)
    steps = _checks.positive_int("steps", steps)
    alpha = 2.5 * eps / steps if step_size is None else _checks.number("step_size", step_size, minimum=0.0)
    box = _clip_range(clip, x)
    with torch.no_grad():
        return _pgd(ens.W, _coef(ens), x, y.to(x.dtype), eps, steps, alpha, box)


def accuracy(ens: Ensemble, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Fraction of points with y·f_k(x) > 0, for every member: a float64 CPU tensor (K,).

    Examples
    --------
    >>> import torch, lazylib as ll
    >>> ens = ll.Ensemble(3, 20, generators=[torch.Generator().manual_seed(s) for s in (0, 1)])
    >>> x = torch.randn(6, 3, generator=torch.Generator().manual_seed(5))
    >>> ll.ensemble.accuracy(ens, x, torch.sign(ens(x)[0])).tolist()[0]
    1.0
    """
    _ensemble("ens", ens)
    x = _inputs("x", x, ens)
    y = _labels("y", y, x)
    with torch.no_grad():
        return (y.to(x.dtype) * ens(x) > 0).to(torch.float64).mean(dim=-1).cpu()


def flip_distance(ens: Ensemble, x: torch.Tensor) -> torch.Tensor:
    """Exact single-step flip distances (:func:`lazylib.flip_distance`) of every member: x (n, d) → (K, n).

    Examples
    --------
    >>> import torch, lazylib as ll
    >>> ens = ll.Ensemble(5, 50, generators=[torch.Generator().manual_seed(s) for s in (0, 1)])
    >>> ll.ensemble.flip_distance(ens, torch.ones(3, 5)).shape
    torch.Size([2, 3])
    """
    from .attacks import flip_distance as _flip

    _ensemble("ens", ens)
    x = _inputs("x", x, ens)
    if x.ndim != 2:
        raise ValueError(f"`x` must have shape (n, {ens.d}), shared by every member; got {tuple(x.shape)}.")
    return torch.stack([_flip(ens.member(k), x) for k in range(ens.K)])


def train_ensemble(
    ens: Ensemble,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    lr: float,
    epochs: int,
    batch_size: int | None = None,
    C0: float | Sequence[float] | None = None,
    radius: float | Sequence[float] | None = None,
    constraint: str = "project",
    project_every: str = "step",
    generator: torch.Generator | Sequence[torch.Generator] | None = None,
    attack: str | None = None,
    eps: float | None = None,
    attack_steps: int = 100,
    attack_step_size: float | None = None,
    clip: tuple[float, float] | None = None,
    progress: bool | None = None,
    evaluate: bool = True,
) -> list[TrainHistory]:
    """Train every member with :func:`lazylib.train`'s algorithm, all at once, in place.

    Member k ends as ``ll.train(ens.member(k), x, y, C0=C0[k], generator=..., ...)`` would leave it,
    up to floating-point rounding: batched matrix products replace the loop over models.

    Parameters
    ----------
    ens : Ensemble
        Trained in place.
    x : torch.Tensor, shape (n, d)
    y : torch.Tensor, shape (n,), labels in {−1, +1}
    lr, epochs, batch_size, constraint, project_every
        As for :func:`lazylib.train`, shared by every member.
    C0, radius : float or K floats, optional
        The lazy-ball constant (radius C₀/√m) or an absolute radius, one value for all or one per member.
    generator : torch.Generator, or K of them, optional
        Shuffling. One generator: every member sees the same batches, as if each were trained by
        ``ll.train`` with a generator in this generator's current state. K generators: member k
        shuffles with ``generator[k]``, exactly as ``ll.train(..., generator=generator[k])``.
    attack, eps, attack_steps, attack_step_size, clip
        Adversarial training, as for :func:`lazylib.train` (``attack="pgd"``: each batch is replaced
        by ``pgd_l2`` examples against each member; ``"fgm"``: one normalised gradient step of length ε).
    progress : bool, optional
        Progress bar over epochs (see :func:`lazylib.train`).
    evaluate : bool
        Record the training loss and accuracy after every epoch, as :func:`lazylib.train` does
        (False: only the deviation, which is all the stop rule needs; saves a pass over the data).

    Returns
    -------
    list of TrainHistory
        One per member.

    Examples
    --------
    >>> import torch, lazylib as ll
    >>> g = torch.Generator().manual_seed(0)
    >>> x = torch.nn.functional.normalize(torch.randn(64, 5, generator=g), dim=1)
    >>> y = torch.sign(x[:, 0])
    >>> ens = ll.Ensemble(5, 100, generators=[torch.Generator().manual_seed(s) for s in range(3)])
    >>> hist = ll.train_ensemble(ens, x, y, lr=1.0, epochs=5, C0=[1.0, 2.0, 4.0], progress=False)
    >>> [h.epochs for h in hist]
    [5, 5, 5]

    Notes
    -----
    Book: Algorithm ``alg-projected-sgd`` (chapter 4) for many networks; chapters 10–12.
    """
    from tqdm.auto import tqdm

    _ensemble("ens", ens)
    x = _checks.tensor("x", x, ndim=2, shape=(None, ens.d), shape_text=f"(n, {ens.d})", finite=False)
    x = _inputs("x", x, ens)
    y = _checks.labels("y", y, x)
    lr = _checks.number("lr", lr, minimum=0.0, strict=True)
    epochs = _checks.positive_int("epochs", epochs)
    if batch_size is not None:
        batch_size = _checks.positive_int("batch_size", batch_size)
    constraint = _checks.choice("constraint", constraint, ("project", "stop"))
    project_every = _checks.choice("project_every", project_every, ("step", "epoch"))
    if C0 is not None and radius is not None:
        raise ValueError(f"`C0` and `radius` must not both be given; got C0={C0!r} and radius={radius!r}.")
    K = ens.K
    if C0 is not None:
        R = _per_member("C0", C0, K) / math.sqrt(ens.m)
    elif radius is not None:
        R = _per_member("radius", radius, K)
    else:
        R = None
    if isinstance(generator, torch.Generator) or generator is None:
        gens: list[torch.Generator] | None = None
        shared = generator
    elif isinstance(generator, Sequence) and len(generator) == K:
        for g in generator:
            _checks.generator("generator", g)
        gens, shared = list(generator), None
    else:
        raise TypeError(
            f"`generator` must be a torch.Generator, a sequence of {K} of them (one per member) or None; "
            f"got {type(generator).__name__}."
        )
    _checks.generator("generator", shared)
    attack, eps, attack_steps, attack_step_size, box = _attack_options(
        attack, eps, attack_steps, attack_step_size, clip, x
    )
    if progress is not None and not isinstance(progress, bool):
        raise TypeError(f"`progress` must be True, False or None; got {progress!r}.")
    if not isinstance(evaluate, bool):
        raise TypeError(f"`evaluate` must be True or False; got {evaluate!r}.")

    n = x.shape[0]
    yf = y.to(x.dtype)
    bs = n if batch_size is None else min(batch_size, n)
    histories = [TrainHistory(radius=None if R is None else float(R[k])) for k in range(K)]
    active = list(range(K))  # members still training (constraint="stop" retires members)
    with torch.no_grad():
        state = _Packed(ens.W.detach(), ens.W0, _coef(ens))
        Ra = None if R is None else R.to(x.device, x.dtype)
        R_active = None if R is None else R.clone()  # float64, for the stop test (as ll.train compares floats)
        last_inside = state.Wt.clone() if (R is not None and constraint == "stop") else None
        bar = tqdm(range(1, epochs + 1), desc=f"training {K} networks", leave=False, delay=1.0,
                   disable=not _progress_enabled(progress))
        for epoch in bar:
            if bs == n:
                batches: list[Any] = [None]
            elif gens is None:
                batches = list(torch.split(torch.randperm(n, generator=shared).to(x.device), bs))
            else:
                perms = torch.stack([torch.randperm(n, generator=gens[k]) for k in active]).to(x.device)
                batches = list(torch.split(perms, bs, dim=1))
            for idx in batches:
                xb, yb = (x, yf) if idx is None else (x[idx], yf[idx])
                if attack is not None:
                    Wk = state.weights()
                    if attack == "pgd":
                        alpha = 2.5 * eps / attack_steps if attack_step_size is None else attack_step_size
                        xb = _pgd(Wk, state.coef, xb, yb, eps, attack_steps, alpha, box)
                    else:
                        xk = xb.expand(state.K, *xb.shape[-2:]) if xb.ndim == 2 else xb
                        yk = yb.expand(state.K, yb.shape[-1]) if yb.ndim == 1 else yb
                        grad = _input_gradient(Wk, state.coef, torch.bmm(xk, Wk.transpose(1, 2)))
                        xb = xk + eps * _unit_rows(-yk[..., None] * grad)
                        xb = xb.clamp(*box) if box else xb
                state.step(xb, yb, lr)
                if Ra is not None and constraint == "project" and project_every == "step":
                    state.project(Ra)
            if Ra is not None and constraint == "project" and project_every == "epoch":
                state.project(Ra)
            dev = state.deviation()
            keep = list(range(len(active)))
            if R_active is not None and constraint == "stop":
                out = (dev > R_active).tolist()
                for j, left in enumerate(out):
                    if left:
                        state.Wt[:, j].copy_(last_inside[:, j])
                        histories[active[j]].stopped_epoch = epoch
                keep = [j for j, left in enumerate(out) if not left]
                last_inside[:, keep] = state.Wt[:, keep]
            if len(keep) < len(active):  # retire the members that left their ball
                ens.W.data[active] = state.weights()
                state.select(keep)
                Ra = Ra[keep] if Ra is not None else None
                R_active = R_active[keep] if R_active is not None else None
                last_inside = last_inside[:, keep].contiguous() if last_inside is not None else None
                dev = dev[keep]
                active = [active[j] for j in keep]
                if not active:
                    break
            f = state.forward(x) if evaluate else None
            for j, k in enumerate(active):
                h = histories[k]
                h.deviation.append(float(dev[j]))
                if f is not None:
                    h.loss.append(float(torch.nn.functional.softplus(-yf * f[j]).to(torch.float64).mean()))
                    h.accuracy.append(float((yf * f[j] > 0).to(torch.float64).mean()))
        bar.close()
        if active:
            ens.W.data[active] = state.weights()
    return histories
