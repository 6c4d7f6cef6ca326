"""lazylib: the library behind the interactive textbook on "Adversarial Robustness is at Odds with
Lazy Training" (Wang, Ullah, Mianjy and Arora, NeurIPS 2022).

Import as ``import lazylib as ll``. Modules are named after the mathematics they compute:
``model`` (the network and its input gradient), ``lazy`` (the lazy ball), ``train`` (projected SGD),
``attacks`` (single step, exact flip distance, FGM, PGD), ``metrics`` (accuracy, robust accuracy),
``data``, ``plotting``, ``widgets`` and ``exercises``.
"""

from . import data, exercises, lemmas, notebook, plotting, widgets
from . import proof_chain  # chapters 8-9: Lemma C's uniform bound and the theorem's explicit constants
from . import tangent_kernel  # chapter 4: the linearised model, its tangent kernel and lazy interpolation
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

# Part I (chapters 2-3): linear classifiers, confidence intervals, Lipschitz certificates, random networks.
from . import estimation, linear, lipschitz, random_networks
from .estimation import binomial_interval, interval_coverage
from .linear import (
    boundary_distance,
    least_squares_classifier,
    linear_network,
    linear_robust_accuracy,
    linear_worst_perturbation,
    random_linear_distance_cdf,
    random_linear_distance_density,
    random_linear_distance_mean,
)
from .lipschitz import certified_radius, certified_robust_accuracy, lipschitz_bound
from .random_networks import (
    InitEnsemble,
    RayLinearization,
    gradient_norm_moments,
    init_ensemble,
    linear_flip_prediction,
    output_normal_bound,
    ray_linearization,
    ray_values,
)

__version__ = "0.2.0"

__all__ = [
    "TwoLayerReLU",
    "TrainHistory",
    "accuracy",
    "data",
    "default_device",
    "deviation",
    "exercises",
    "lemmas",
    "proof_chain",
    "tangent_kernel",
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
    # Part I (chapters 2-3)
    "InitEnsemble",
    "RayLinearization",
    "binomial_interval",
    "boundary_distance",
    "certified_radius",
    "certified_robust_accuracy",
    "estimation",
    "gradient_norm_moments",
    "init_ensemble",
    "interval_coverage",
    "least_squares_classifier",
    "linear",
    "linear_flip_prediction",
    "linear_network",
    "linear_robust_accuracy",
    "linear_worst_perturbation",
    "lipschitz",
    "lipschitz_bound",
    "output_normal_bound",
    "random_linear_distance_cdf",
    "random_linear_distance_density",
    "random_linear_distance_mean",
    "random_networks",
    "ray_linearization",
    "ray_values",
    "__version__",
]


# ---- Part III (chapters 10-12): batched ensembles and the experiment commands ----
from . import ensemble, reproduce  # noqa: E402
from .ensemble import Ensemble, train_ensemble  # noqa: E402
from .reproduce import sweep  # noqa: E402

__all__ += ["Ensemble", "ensemble", "reproduce", "sweep", "train_ensemble"]
# ---- end of Part III ----
