"""K networks of one shape, trained and evaluated at once: the names the sweeps of chapters 10–12 use.

An :class:`Ensemble` is a :class:`lazylib.TwoLayerReLU` with a leading axis: W and W₀ of shape
(K, m, d), a of shape (K, m). Every function of the library takes it and runs on all members at once
with batched matrix products, so this module only gathers the names the chapters call through
``ll.ensemble``; each is the library's one implementation:

* :func:`input_gradient`, :func:`deviation`, :func:`project_` (one radius or K of them),
  :func:`pgd_l2`, :func:`accuracy`, :func:`flip_distance`: results with a leading K axis;
* :func:`train_ensemble`: :func:`lazylib.train` on an ensemble (per-member C₀ or radius, one shuffling
  generator or K of them), returning one history per member.

Book: chapters 10–12 (the paper's experiments), and the benchmark ``benchmarks/ensemble.py``.

Examples
--------
>>> import torch, lazylib as ll
>>> ens = ll.Ensemble(3, 10, generators=[torch.Generator().manual_seed(s) for s in (0, 1)])
>>> ll.ensemble.input_gradient(ens, torch.ones(4, 3)).shape, ll.ensemble.deviation(ens).tolist()
(torch.Size([2, 4, 3]), [0.0, 0.0])
"""

from __future__ import annotations

from .attacks import flip_distance, pgd_l2
from .lazy import deviation, project_
from .metrics import accuracy
from .model import Ensemble, input_gradient
from .train import train_ensemble

__all__ = ["Ensemble", "train_ensemble", "input_gradient", "deviation", "project_", "pgd_l2", "accuracy",
           "flip_distance"]
