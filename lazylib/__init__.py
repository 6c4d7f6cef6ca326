"""lazylib: the library behind the interactive textbook on "Adversarial Robustness is at Odds with
Lazy Training" (Wang, Ullah, Mianjy and Arora, NeurIPS 2022).

Import as ``import lazylib as ll``. Modules are named after the mathematics they compute:
``model`` (the network and its input gradient), ``lazy`` (the lazy ball), ``train`` (projected SGD),
``attacks`` (single step, exact flip distance, FGM, PGD), ``metrics`` (accuracy, robust accuracy),
``data``, ``plotting``, ``widgets`` and ``exercises``.
"""

from . import data, exercises, lemmas, notebook, plotting, widgets
from .attacks import fgm_l2, flip_distance, gradient_step, pgd_l2
from .lazy import (
    deviation,
    lazy_radius,
    linearization,
    project_,
    switchable_neurons,
    value_bounds,
    value_extremiser,
)
from .metrics import PowerLawFit, accuracy, power_law_fit, robust_accuracy
from .model import TwoLayerReLU, default_device, input_gradient, preactivations
from .train import TrainHistory, logistic_loss, loss_gradient, train

__version__ = "0.1.0"

__all__ = [
    "TwoLayerReLU",
    "TrainHistory",
    "accuracy",
    "data",
    "default_device",
    "deviation",
    "exercises",
    "lemmas",
    "fgm_l2",
    "flip_distance",
    "gradient_step",
    "input_gradient",
    "lazy_radius",
    "linearization",
    "logistic_loss",
    "notebook",
    "loss_gradient",
    "pgd_l2",
    "plotting",
    "power_law_fit",
    "PowerLawFit",
    "preactivations",
    "project_",
    "robust_accuracy",
    "switchable_neurons",
    "train",
    "value_bounds",
    "value_extremiser",
    "widgets",
    "__version__",
]
