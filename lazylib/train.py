"""Logistic-loss SGD on the hidden weights, optionally kept in the lazy ball, optionally adversarial.

One trainer serves one network and an :class:`lazylib.Ensemble` of K networks: the K members take
their steps together, as batched matrix products (no loop over members), each with its own lazy-ball
radius and, if wanted, its own shuffling order.

Conventions: ``x`` holds inputs (n, d) and ``y`` labels (n,) in {−1, +1}. For an ensemble the loss
and the gradient (K, m, d) carry a leading K axis, and the per-member options (``C0``, ``radius``,
``generator``) take one value for every member or K of them, one per member.

Book: projected training, label ``alg-projected-sgd`` (chapter 4); projected adversarial training,
label ``alg-projected-adversarial-training`` (chapter 11); the sweeps of chapters 10–12.
"""

from __future__ import annotations

import math
import os
import sys
from dataclasses import dataclass, field
from typing import Any, Sequence

import torch

from . import _checks
from .attacks import _clip_range, _fgm, _pgd
from .model import TwoLayerReLU, _forward

__all__ = ["train", "train_ensemble", "TrainHistory", "logistic_loss", "loss_gradient"]


@dataclass
class TrainHistory:
    """What :func:`train` measured after every epoch, on the whole training set.

    Attributes
    ----------
    loss, accuracy, deviation : list of float
        Mean logistic loss, accuracy and ‖W − W₀‖_{2,∞} after each completed epoch (loss and
        accuracy stay empty when training ran with ``evaluate=False``).
    radius : float or None
        The lazy-ball radius the run was held to (None without a constraint).
    stopped_epoch : int or None
        With ``constraint="stop"``: the epoch (1-based) in which W left the ball (the model then keeps
        the weights that ``restore`` of :func:`train` says); None when the run went the distance.
    """

    loss: list[float] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)
    deviation: list[float] = field(default_factory=list)
    radius: float | None = None
    stopped_epoch: int | None = None

    @property
    def epochs(self) -> int:
        """Number of completed epochs recorded."""
        return max(len(self.loss), len(self.deviation))


def logistic_loss(model: TwoLayerReLU, x: torch.Tensor, y: torch.Tensor) -> float | torch.Tensor:
    """Mean logistic loss log(1 + exp(−y f(x))) (for an ensemble, a float64 CPU tensor (K,)).

    Examples
    --------
    >>> import torch, lazylib as ll
    >>> net = ll.TwoLayerReLU(3, 10, generator=torch.Generator().manual_seed(0))
    >>> round(ll.logistic_loss(net, torch.zeros(4, 3), torch.ones(4)), 6)  # f = 0 gives log 2
    0.693147
    """
    _checks.model("model", model, biases=True, ensemble=True)
    x = _checks.inputs("x", x, model)
    y = _checks.labels("y", y, x)
    with torch.no_grad():
        loss = torch.nn.functional.softplus(-y.to(x.dtype) * model(x)).to(torch.float64).mean(dim=-1)
    return float(loss) if model.K is None else loss.cpu()


def loss_gradient(model: TwoLayerReLU, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    r"""Gradient of the mean logistic loss with respect to W, in closed form, shape (m, d).

    .. math:: \nabla_{w_s} L = \frac1n \sum_i -y_i\,\sigma(-y_i f(x_i))\;\alpha a_s\,\mathbb 1[w_s^\top x_i > 0]\,x_i

    (σ the logistic sigmoid). Agrees with autograd; two matrix products.

    Examples
    --------
    >>> import torch, lazylib as ll
    >>> net = ll.TwoLayerReLU(3, 10, generator=torch.Generator().manual_seed(0))
    >>> ll.loss_gradient(net, torch.ones(4, 3), torch.ones(4)).shape
    torch.Size([10, 3])
    """
    _checks.model("model", model, ensemble=True)
    x = _checks.inputs("x", x, model)
    y = _checks.labels("y", y, x)
    with torch.no_grad():
        state = _Packed(model)  # a network without biases: the packed inputs are x
        g = (x.T @ state.backward(x, y.to(x.dtype))).view(model.d, state.K, model.m).permute(1, 2, 0)
        return g[0].contiguous() if model.K is None else g.contiguous()


def _progress_enabled(progress: bool | None) -> bool:
    if progress is not None:
        return bool(progress)
    quiet = os.environ.get("LAZYLIB_PROGRESS", "").lower() in {"0", "false", "off", "no"}
    return not quiet and (sys.stderr.isatty() or "ipykernel" in sys.modules)


def _adversary(attack, eps, attack_steps, attack_step_size, clip, x, scale):
    """Validate the attack options; returns None or the attack, a function of (W, a, b, c, xb, yb)."""
    if attack is None:
        if eps is not None or clip is not None:
            raise ValueError(f"`attack` must be 'pgd' or 'fgm' when `eps` or `clip` is given; got {attack!r}.")
        return None
    attack = _checks.choice("attack", attack, ("pgd", "fgm"))
    if eps is None:
        raise TypeError("`eps` must be a finite number ≥ 0 when `attack` is given; got None.")
    eps = _checks.number("eps", eps, minimum=0.0)
    steps = _checks.positive_int("attack_steps", attack_steps)
    step = (2.5 * eps / steps if attack_step_size is None
            else _checks.number("attack_step_size", attack_step_size, minimum=0.0))
    box = _clip_range(clip, x)
    if attack == "fgm":
        return lambda W, a, b, c, xb, yb: _fgm(W, a, scale, xb, yb, eps, box, b)
    return lambda W, a, b, c, xb, yb: _pgd(W, a, scale, xb, yb, eps, steps, step, box, None, b, c)


class _Packed:
    """The training state of the members still training, laid out for fast batched products.

    Weights are kept transposed and side by side, Wt of shape (d, K·m) (one network is K = 1): with the
    same mini-batch for every member, a step is then two ordinary matrix products, (b, d)·(d, K·m) and
    (d, b)·(b, K·m), and a few passes over one (b, K·m) block, instead of K small products.
    """

    def __init__(self, model: TwoLayerReLU) -> None:
        W, W0, a, c = model.W.detach(), model.W0, model.a, model.c
        self.bias = model.b is not None
        if self.bias:  # the hidden bias is the weight of a constant input 1, appended as a last column
            W = torch.cat([W, model.b.detach().unsqueeze(-1)], dim=-1)
            W0 = torch.cat([W0, model.b0.unsqueeze(-1)], dim=-1)
        if model.K is None:
            W, W0, a = W[None], W0[None], a[None]
            c = None if c is None else c[None]
        self.K, self.m, self.d = W.shape  # d counts the bias column
        self.Wt = W.permute(2, 0, 1).contiguous()  # (d, K, m)
        self.W0t = W0.permute(2, 0, 1).contiguous()
        self.a, self.scale = a.contiguous(), model.output_scale
        self.coef = (a * model.output_scale).contiguous()  # (K, m)
        self.c = None if c is None else c.contiguous()  # (K,) frozen output biases
        self._buffers: tuple[torch.Tensor, torch.Tensor] | None = None

    @property
    def flat(self) -> torch.Tensor:
        return self.Wt.view(self.d, self.K * self.m)

    def public(self, one: bool = False) -> tuple:
        """(W, a, b, c) in the public layout: copies of W (K, m, d) and b (K, m) or None; ``one``: member 0
        without the K axis."""
        W = self.Wt[: self.d - self.bias].permute(1, 2, 0).contiguous()
        params = (W, self.a, self.Wt[-1].clone() if self.bias else None, self.c)
        return tuple(None if p is None else p[0] for p in params) if one else params

    def select(self, keep: list[int]) -> None:
        """Keep only the members ``keep`` (positions among those still training)."""
        idx = torch.tensor(keep, dtype=torch.long, device=self.Wt.device)
        self.Wt, self.W0t = (t.index_select(1, idx).contiguous() for t in (self.Wt, self.W0t))
        self.a, self.coef = (t.index_select(0, idx).contiguous() for t in (self.a, self.coef))
        self.c = None if self.c is None else self.c.index_select(0, idx).contiguous()
        self.K, self._buffers = len(keep), None

    def _blocks(self, shape: tuple[int, ...], like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Two work blocks of ``shape`` for the pre-activations and the mask, kept from step to step: the
        (b, K·m) blocks are large, and allocating them afresh at every step costs more than the arithmetic."""
        n = math.prod(shape)
        if self._buffers is None or self._buffers[0].numel() < n or self._buffers[0].dtype != like.dtype:
            self._buffers = (like.new_empty(n), like.new_empty(n))
        return self._buffers[0][:n].view(shape), self._buffers[1][:n].view(shape)

    def backward(self, xb: torch.Tensor, yb: torch.Tensor) -> torch.Tensor:
        """∂L/∂(w_sᵀx_i) of the mean logistic loss L: (b, K·m) for a shared batch xb (b, d), (K, b, m) for
        (K, b, d); xb with its constant-1 column when there are biases."""
        K, m, b = self.K, self.m, xb.shape[-2]
        if xb.ndim == 2:  # one (b, K·m) product, seen per member as (b, K, m)
            z, active = self._blocks((b, K * m), xb)
            torch.matmul(xb, self.flat, out=z)
            z3, mask, coef, c, y = z.view(b, K, m), active.view(b, K, m), self.coef, self.c, yb[:, None]
        else:  # (K, b, m)
            z3, mask = self._blocks((K, b, m), xb)
            torch.bmm(xb, self.Wt.permute(1, 0, 2), out=z3)  # (K, b, d)·(K, d, m)
            active, coef, y = mask, self.coef[:, None, :], yb
            c = None if self.c is None else self.c[:, None]
        torch.gt(z3, 0, out=mask)  # relu'(z) as a float mask, in one pass
        f = torch.relu_(z3).mul_(coef).sum(-1)  # (b, K) or (K, b)
        if c is not None:
            f = f + c
        dloss = -y * torch.sigmoid(-y * f) / b  # d loss / d f
        mask.mul_(dloss[:, :, None]).mul_(coef)
        return active

    def step(self, xb: torch.Tensor, yb: torch.Tensor, lr: float) -> None:
        """One logistic-loss SGD step of every member, in place (xb (b, d) shared, or (K, b, d))."""
        if self.bias:  # the bias is the weight of a constant input 1
            xb = torch.cat([xb, xb.new_ones(*xb.shape[:-1], 1)], dim=-1)
        active = self.backward(xb, yb)
        if xb.ndim == 2:
            self.flat.addmm_(xb.T, active, alpha=-lr)
        else:
            self.Wt.permute(1, 0, 2).baddbmm_(xb.transpose(1, 2), active, alpha=-lr)

    def _displacement(self) -> tuple[torch.Tensor, torch.Tensor]:
        """W − W₀, (d, K·m), and its column norms (a sum of squares down the columns: much faster here
        than a strided norm reduction)."""
        delta = self.flat - self.W0t.view(self.d, -1)
        return delta, delta.square().sum(dim=0).sqrt_()

    def project(self, radius: torch.Tensor) -> None:
        delta, norms = self._displacement()
        R = radius.repeat_interleave(self.m)
        shrink = torch.clamp(R / norms.clamp_min(torch.finfo(delta.dtype).tiny), max=1.0)
        self.flat.copy_(self.W0t.view(self.d, -1) + delta * shrink)

    def deviation(self) -> torch.Tensor:
        return self._displacement()[1].view(self.K, self.m).amax(dim=1).to("cpu", torch.float64)


def _generators(generator: Any, K: int | None) -> tuple[torch.Generator | None, list[torch.Generator] | None]:
    """(shared generator, or one per member): an ensemble takes one generator or K of them."""
    if K is None or generator is None or isinstance(generator, torch.Generator):
        _checks.generator("generator", generator)
        return generator, None
    if not isinstance(generator, Sequence) or len(generator) != K:
        got = f"{len(generator)} of them" if isinstance(generator, Sequence) else type(generator).__name__
        raise TypeError(f"`generator` must be a torch.Generator, a sequence of {K} of them (one per member) "
                        f"or None; got {got}.")
    for g in generator:
        _checks.generator("generator", g)
    return None, list(generator)


def train(model: TwoLayerReLU, x: torch.Tensor, y: torch.Tensor, *, lr: float, epochs: int,
          batch_size: int | None = None, C0: float | Sequence[float] | None = None,
          radius: float | Sequence[float] | None = None, constraint: str = "project", restore: bool = True,
          project_every: str = "step", generator: torch.Generator | Sequence[torch.Generator] | None = None,
          progress: bool | None = None, attack: str | None = None, eps: float | None = None,
          attack_steps: int = 100, attack_step_size: float | None = None,
          clip: tuple[float, float] | None = None, evaluate: bool = True,
          ) -> TrainHistory | list[TrainHistory]:
    """Train W by SGD on the logistic loss log(1 + exp(−y f(x))), in place; a and W₀ stay fixed.

    Parameters
    ----------
    model : TwoLayerReLU or Ensemble
        Trained in place. An ensemble's members train together, as batched products: member k ends
        where training ``model.member(k)`` alone would have taken it, up to floating-point rounding.
        A network with biases trains its hidden bias b with W (the output bias stays frozen), and the
        ball constrains each neuron's (w_s, b_s), as in the authors' scripts. See :func:`train_ensemble`.
    x : torch.Tensor
        Shared by every member of an ensemble: (n, d) only.
    lr : float
        Step size > 0.
    epochs : int
        Passes over the data, ≥ 1.
    batch_size : int, optional
        Mini-batch size; None for full-batch gradient descent. Batches are drawn from a fresh random
        permutation each epoch (the last one may be smaller).
    C0, radius : float, optional
        Hold W in the lazy ball B_{2,∞}(W₀, C₀/√m), or give the absolute per-neuron ``radius`` instead
        (the authors' "gap" of Figure 4); not both.
    constraint : {"project", "stop"}
        ``"project"``: project W back onto the ball (after every step, or every epoch with
        ``project_every="epoch"``). ``"stop"``: the authors' Figure 1–2 protocol: after each epoch
        measure the deviation and stop as soon as it exceeds the radius (see ``restore``).
    restore : bool
        With ``constraint="stop"``: restore the weights of the previous epoch, so that the returned
        network is inside the ball (default), or, with False, keep the weights of the epoch that left
        it, as the authors' scripts do (the history then records that epoch too).
    project_every : {"step", "epoch"}
    generator : torch.Generator, optional
        Shuffling randomness (CPU generator). One generator for an ensemble: every member sees the
        same batches; K of them: member k shuffles with ``generator[k]``.
    progress : bool, optional
        Show a progress bar; by default only in a terminal or notebook, never when the environment
        variable ``LAZYLIB_PROGRESS=0`` (as in the book's executed pages).
    attack : {None, "pgd", "fgm"}
        Adversarial training: every mini-batch is replaced by adversarial examples against the current
        network before the gradient step. ``"pgd"``: :func:`lazylib.pgd_l2` with ℓ2 budget ``eps``
        (required, ≥ 0), ``attack_steps`` steps of ``attack_step_size`` (default 2.5·ε/steps) and the
        box ``clip``, started at the clean batch (the authors' Section 5.2 protocol uses 100 steps and
        clip (0, 1)). ``"fgm"``: :func:`lazylib.fgm_l2`, one normalised gradient step of length ε. The
        recorded loss and accuracy stay those of the clean training set.
    clip : (float, float), optional
        Box the adversarial examples are clipped to (the inputs must lie in it).
    evaluate : bool
        Record the clean training loss and accuracy after every epoch (one more pass over the
        data). False records only the deviation, which is all the stop rule needs.

    Returns
    -------
    TrainHistory, or for an ensemble a list of K of them

    Examples
    --------
    >>> import torch, lazylib as ll
    >>> g = torch.Generator().manual_seed(0)
    >>> x = torch.nn.functional.normalize(torch.randn(64, 5, generator=g), dim=1)
    >>> y = torch.sign(x[:, 0])
    >>> net = ll.TwoLayerReLU(5, 200, generator=g)
    >>> h = ll.train(net, x, y, lr=1.0, epochs=20, C0=2.0, progress=False)
    >>> ll.deviation(net) <= ll.lazy_radius(200, 2.0) + 1e-6
    True

    With ``attack="pgd"`` the same call runs projected adversarial training (chapter 11):

    >>> net = ll.TwoLayerReLU(5, 200, generator=torch.Generator().manual_seed(1))
    >>> h = ll.train(net, x, y, lr=1.0, epochs=2, C0=2.0, attack="pgd", eps=0.05, attack_steps=5,
    ...              progress=False)
    >>> h.epochs
    2

    Book: Algorithm ``alg-projected-sgd`` (chapter 4); with an attack, Algorithm
    ``alg-projected-adversarial-training`` (chapter 11).
    """
    _checks.model("model", model, biases=True, ensemble=True)
    x = _checks.inputs("x", x, model)
    if x.ndim != 2:
        raise ValueError(f"`x` must have shape (n, {model.d}), shared by every member; got {tuple(x.shape)}.")
    y = _checks.labels("y", y, x)
    lr = _checks.number("lr", lr, minimum=0.0, strict=True)
    epochs = _checks.positive_int("epochs", epochs)
    if batch_size is not None:
        batch_size = _checks.positive_int("batch_size", batch_size)
    constraint = _checks.choice("constraint", constraint, ("project", "stop"))
    restore = _checks.flag("restore", restore)
    project_every = _checks.choice("project_every", project_every, ("step", "epoch"))
    shared, gens = _generators(generator, model.K)
    _checks.flag("progress", progress, none=True)
    if C0 is not None and radius is not None:
        raise ValueError(f"`C0` and `radius` must not both be given; got C0={C0!r} and radius={radius!r}.")
    K = 1 if model.K is None else model.K
    R = None
    if C0 is not None:
        R = torch.as_tensor(_checks.per_member("C0", C0, model.K), dtype=torch.float64).reshape(K)
        R = R / math.sqrt(model.m)
    elif radius is not None:
        R = torch.as_tensor(_checks.per_member("radius", radius, model.K), dtype=torch.float64).reshape(K)
    adversary = _adversary(attack, eps, attack_steps, attack_step_size, clip, x, model.output_scale)
    evaluate = _checks.flag("evaluate", evaluate)

    from tqdm.auto import tqdm

    n = x.shape[0]
    yf = y.to(x.dtype)
    bs = n if batch_size is None else min(batch_size, n)
    one = model.K is None  # one network: the packed state has K = 1, and the public layout drops that axis
    histories = [TrainHistory(radius=None if R is None else float(R[k])) for k in range(K)]
    active = list(range(K))  # members still training (constraint="stop" retires members)
    bar = tqdm(range(1, epochs + 1), desc="training" if one else f"training {K} networks", leave=False,
               delay=1.0, disable=not _progress_enabled(progress))
    projection = project_every if R is not None and constraint == "project" else None
    stop = R is not None and constraint == "stop"
    with torch.no_grad():
        state = _Packed(model)
        Ra = None if R is None else R.to(x.device, x.dtype)  # for projecting; the stop test uses R
        last_inside = state.Wt.clone() if stop and restore else None

        def record(dev: torch.Tensor) -> None:
            if evaluate:
                W, a, b, c = state.public(one)
                f = _forward(W, a, state.scale, x, b, c).reshape(len(active), n)
            for j, k in enumerate(active):
                h = histories[k]
                h.deviation.append(float(dev[j]))
                if evaluate:
                    h.loss.append(float(torch.nn.functional.softplus(-yf * f[j]).to(torch.float64).mean()))
                    h.accuracy.append(float((yf * f[j] > 0).to(torch.float64).mean()))

        for epoch in bar:
            if bs == n:
                batches: Any = [None]
            elif gens is None:
                batches = torch.split(torch.randperm(n, generator=shared).to(x.device), bs)
            else:
                perms = torch.stack([torch.randperm(n, generator=gens[k]) for k in active]).to(x.device)
                batches = torch.split(perms, bs, dim=1)
            for idx in batches:
                xb, yb = (x, yf) if idx is None else (x[idx], yf[idx])
                if adversary is not None:
                    xb = adversary(*state.public(one), xb, yb)
                state.step(xb, yb, lr)
                if projection == "step":
                    state.project(Ra)
            if projection == "epoch":
                state.project(Ra)
            dev = state.deviation()
            if stop:
                left = [j for j, out in enumerate((dev > R).tolist()) if out]
                for j in left:
                    histories[active[j]].stopped_epoch = epoch
                    if restore:
                        state.Wt[:, j].copy_(last_inside[:, j])
                if not restore:  # the epoch that left the ball is kept, so it is recorded
                    record(dev)
                if left:  # retire the members that left their ball
                    keep = [j for j in range(len(active)) if j not in left]
                    _write_back(model, state, active)
                    state.select(keep)
                    R, dev = R[keep], dev[keep]
                    active = [active[j] for j in keep]
                    if not active:
                        break
                if restore:
                    last_inside = state.Wt.clone()
            if not (stop and not restore):
                record(dev)
            if one and evaluate:
                bar.set_postfix(loss=f"{histories[0].loss[-1]:.3g}", refresh=False)
        bar.close()
        if active:
            _write_back(model, state, active)
    return histories[0] if one else histories


def _write_back(model: TwoLayerReLU, state: _Packed, active: list[int]) -> None:
    """Copy the packed weights (and hidden biases) of the active members back into the model."""
    W, _, b, _ = state.public(model.K is None)
    for param, new in ((model.W, W), (model.b, b)):
        if new is not None and model.K is None:
            param.copy_(new)
        elif new is not None:
            param.data[active] = new


def train_ensemble(ens: TwoLayerReLU, x: torch.Tensor, y: torch.Tensor, **options: Any) -> list[TrainHistory]:
    """:func:`train` for an :class:`lazylib.Ensemble`: every member at once; one history per member.

    Examples
    --------
    >>> import torch, lazylib as ll
    >>> x = torch.nn.functional.normalize(torch.randn(64, 5, generator=torch.Generator().manual_seed(0)), dim=1)
    >>> ens = ll.Ensemble(5, 100, generators=[torch.Generator().manual_seed(s) for s in range(3)])
    >>> hist = ll.train_ensemble(ens, x, torch.sign(x[:, 0]), lr=1.0, epochs=5, C0=[1.0, 4.0, 9.0], progress=False)
    >>> [h.epochs for h in hist], [h.radius for h in hist]
    ([5, 5, 5], [0.1, 0.4, 0.9])

    Book: Algorithm ``alg-projected-sgd`` (chapter 4) for many networks; chapters 10–12.
    """
    if getattr(ens, "K", None) is None:
        _checks._fail(TypeError, "ens", "a lazylib.Ensemble", type(ens).__name__)
    return train(ens, x, y, **options)
