"""Logistic-loss SGD on the hidden weights, optionally kept in the lazy ball, optionally adversarial.

Book: projected training, label ``alg-projected-sgd`` (chapter 4); projected adversarial training,
label ``alg-projected-adversarial-training`` (chapter 11).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field

import torch

from . import _checks
from .attacks import _clip_range, fgm_l2, pgd_l2
from .lazy import deviation, lazy_radius, project_
from .model import TwoLayerReLU

__all__ = ["train", "TrainHistory", "logistic_loss", "loss_gradient"]


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
        With ``constraint="stop"``: the epoch (1-based) in which W left the ball; the model was then
        restored to its weights at the end of the previous epoch. None when the run went the distance.
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


def logistic_loss(model: TwoLayerReLU, x: torch.Tensor, y: torch.Tensor) -> float:
    """Mean logistic loss log(1 + exp(−y f(x))).

    Examples
    --------
    >>> import torch, lazylib as ll
    >>> net = ll.TwoLayerReLU(3, 10, generator=torch.Generator().manual_seed(0))
    >>> round(ll.logistic_loss(net, torch.zeros(4, 3), torch.ones(4)), 6)  # f = 0 gives log 2
    0.693147
    """
    _checks.model("model", model)
    x = _checks.inputs("x", x, model)
    y = _checks.labels("y", y, x)
    with torch.no_grad():
        return float(torch.nn.functional.softplus(-y.to(x.dtype) * model(x)).to(torch.float64).mean())


def _loss_gradient(model: TwoLayerReLU, x: torch.Tensor, yf: torch.Tensor) -> torch.Tensor:
    z = x @ model.W.T
    f = torch.relu(z) @ model.a * model.output_scale
    dloss_df = -yf * torch.sigmoid(-yf * f) / x.shape[0]
    return ((z > 0).to(x.dtype) * dloss_df[:, None] * (model.a * model.output_scale)).T @ x


def loss_gradient(model: TwoLayerReLU, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    r"""Gradient of the mean logistic loss with respect to W, in closed form, shape (m, d).

    .. math:: \nabla_{w_s} L = \frac1n \sum_i -y_i\,\sigma(-y_i f(x_i))\;\alpha a_s\,\mathbb 1[w_s^\top x_i > 0]\,x_i

    (σ here the logistic sigmoid). Agrees with autograd; two matrix products per call.

    Examples
    --------
    >>> import torch, lazylib as ll
    >>> net = ll.TwoLayerReLU(3, 10, generator=torch.Generator().manual_seed(0))
    >>> ll.loss_gradient(net, torch.ones(4, 3), torch.ones(4)).shape
    torch.Size([10, 3])
    """
    _checks.model("model", model)
    x = _checks.inputs("x", x, model)
    y = _checks.labels("y", y, x)
    with torch.no_grad():
        return _loss_gradient(model, x, y.to(x.dtype))


def _progress_enabled(progress: bool | None) -> bool:
    if progress is not None:
        return bool(progress)
    if os.environ.get("LAZYLIB_PROGRESS", "").lower() in {"0", "false", "off", "no"}:
        return False
    return sys.stderr.isatty() or "ipykernel" in sys.modules


def _attack_options(attack, eps, attack_steps, attack_step_size, clip, x):
    """Validate adversarial-training options (shared by ``train`` and ``train_ensemble``); returns
    (attack, eps, attack_steps, attack_step_size, clip box or None)."""
    if attack is None:
        if eps is not None or clip is not None:
            raise ValueError(f"`attack` must be 'pgd' or 'fgm' when `eps` or `clip` is given; got {attack!r}.")
        return None, None, attack_steps, attack_step_size, None
    attack = _checks.choice("attack", attack, ("pgd", "fgm"))
    if eps is None:
        raise TypeError("`eps` must be a finite number ≥ 0 when `attack` is given; got None.")
    eps = _checks.number("eps", eps, minimum=0.0)
    attack_steps = _checks.positive_int("attack_steps", attack_steps)
    if attack_step_size is not None:
        attack_step_size = _checks.number("attack_step_size", attack_step_size, minimum=0.0)
    return attack, eps, attack_steps, attack_step_size, _clip_range(clip, x)


def train(
    model: TwoLayerReLU,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    lr: float,
    epochs: int,
    batch_size: int | None = None,
    C0: float | None = None,
    radius: float | None = None,
    constraint: str = "project",
    project_every: str = "step",
    generator: torch.Generator | None = None,
    progress: bool | None = None,
    attack: str | None = None,
    eps: float | None = None,
    attack_steps: int = 100,
    attack_step_size: float | None = None,
    clip: tuple[float, float] | None = None,
    evaluate: bool = True,
) -> TrainHistory:
    """Train W by SGD on the logistic loss log(1 + exp(−y f(x))), in place; a and W₀ stay fixed.

    Parameters
    ----------
    model : TwoLayerReLU
        Trained in place.
    x : torch.Tensor, shape (n, d)
    y : torch.Tensor, shape (n,)
        Labels in {−1, +1}.
    lr : float
        Step size > 0.
    epochs : int
        Passes over the data, ≥ 1.
    batch_size : int, optional
        Mini-batch size; None for full-batch gradient descent. Batches are drawn from a fresh random
        permutation each epoch (the last one may be smaller).
    C0 : float, optional
        Hold W in the lazy ball B_{2,∞}(W₀, C₀/√m). Give ``radius`` instead for an absolute radius.
    radius : float, optional
        An absolute per-neuron radius (the authors' "gap" of Figure 4); not together with ``C0``.
    constraint : {"project", "stop"}
        ``"project"``: project W back onto the ball (after every step, or every epoch with
        ``project_every="epoch"``). ``"stop"``: the authors' Figure 1–2 protocol: after each epoch
        measure the deviation and stop as soon as it exceeds the radius, restoring the weights of the
        previous epoch so that the returned network is inside the ball.
    project_every : {"step", "epoch"}
        When ``constraint="project"`` projects.
    generator : torch.Generator, optional
        Shuffling randomness (CPU generator).
    progress : bool, optional
        Show a progress bar; by default only in a terminal or notebook, never when the environment
        variable ``LAZYLIB_PROGRESS=0`` (as in the book's executed pages).
    attack : {None, "pgd", "fgm"}
        Adversarial training: every mini-batch is replaced by adversarial examples against the current
        network before the gradient step. ``"pgd"``: :func:`lazylib.pgd_l2` with budget ``eps``,
        ``attack_steps`` steps of ``attack_step_size`` (default 2.5·ε/steps) and ``clip``, started at
        the clean batch (the authors' Section 5.2 protocol uses 100 steps and clip (0, 1)).
        ``"fgm"``: :func:`lazylib.fgm_l2`, one normalised gradient step of length ε. The recorded loss
        and accuracy stay those of the clean training set.
    eps : float
        The attack's ℓ2 budget ε ≥ 0; required with ``attack``.
    attack_steps : int
        PGD steps (default 100).
    attack_step_size : float, optional
        PGD step length (default 2.5·ε/attack_steps).
    clip : (float, float), optional
        Box the adversarial examples are clipped to (the inputs must lie in it).
    evaluate : bool
        Record the clean training loss and accuracy after every epoch (one more pass over the
        data). False records only the deviation, which is all the stop rule needs.

    Returns
    -------
    TrainHistory
        Loss, accuracy and deviation after every epoch.

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

    Notes
    -----
    Book: Algorithm ``alg-projected-sgd`` (chapter 4); with an attack, Algorithm
    ``alg-projected-adversarial-training`` (chapter 11).
    """
    _checks.model("model", model)
    x = _checks.inputs("x", x, model)
    y = _checks.labels("y", y, x)
    lr = _checks.number("lr", lr, minimum=0.0, strict=True)
    epochs = _checks.positive_int("epochs", epochs)
    if batch_size is not None:
        batch_size = _checks.positive_int("batch_size", batch_size)
    constraint = _checks.choice("constraint", constraint, ("project", "stop"))
    project_every = _checks.choice("project_every", project_every, ("step", "epoch"))
    _checks.generator("generator", generator)
    if progress is not None and not isinstance(progress, bool):
        raise TypeError(f"`progress` must be True, False or None; got {progress!r}.")
    if C0 is not None and radius is not None:
        raise ValueError(f"`C0` and `radius` must not both be given; got C0={C0!r} and radius={radius!r}.")
    R = lazy_radius(model.m, C0) if C0 is not None else (
        None if radius is None else _checks.number("radius", radius, minimum=0.0)
    )
    attack, eps, attack_steps, attack_step_size, _ = _attack_options(
        attack, eps, attack_steps, attack_step_size, clip, x
    )
    if not isinstance(evaluate, bool):
        raise TypeError(f"`evaluate` must be True or False; got {evaluate!r}.")

    from tqdm.auto import tqdm

    n = x.shape[0]
    yf = y.to(x.dtype)
    bs = n if batch_size is None else min(batch_size, n)
    history = TrainHistory(radius=R)
    bar = tqdm(range(1, epochs + 1), desc="training", disable=not _progress_enabled(progress), delay=1.0, leave=False)
    with torch.no_grad():
        last_inside = model.W.detach().clone() if (R is not None and constraint == "stop") else None
        for epoch in bar:
            if bs == n:
                batches = [None]
            else:
                perm = torch.randperm(n, generator=generator).to(x.device)
                batches = list(torch.split(perm, bs))
            for idx in batches:
                xb, yb = (x, yf) if idx is None else (x[idx], yf[idx])
                if attack == "pgd":
                    xb = pgd_l2(model, xb, yb, eps, steps=attack_steps, step_size=attack_step_size, clip=clip)
                elif attack == "fgm":
                    xb = fgm_l2(model, xb, yb, eps, clip=clip)
                model.W.sub_(lr * _loss_gradient(model, xb, yb))
                if R is not None and constraint == "project" and project_every == "step":
                    project_(model, R)
            if R is not None and constraint == "project" and project_every == "epoch":
                project_(model, R)
            dev = deviation(model)
            if R is not None and constraint == "stop":
                if dev > R:
                    model.W.copy_(last_inside)
                    history.stopped_epoch = epoch
                    break
                last_inside.copy_(model.W)
            history.deviation.append(dev)
            if evaluate:
                f = model(x)
                history.loss.append(float(torch.nn.functional.softplus(-yf * f).to(torch.float64).mean()))
                history.accuracy.append(float((yf * f > 0).to(torch.float64).mean()))
                bar.set_postfix(loss=f"{history.loss[-1]:.3g}", refresh=False)
    bar.close()
    return history
