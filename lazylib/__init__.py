"""lazylib: the library behind the interactive textbook on "Adversarial Robustness is at Odds with
Lazy Training" (Wang, Ullah, Mianjy and Arora, NeurIPS 2022).

Import as ``import lazylib as ll``. Modules are named after the mathematics they compute; the functions
of the first group below are also available at the top level (``ll.flip_distance``, ``ll.train``, ...).

- The network and its regime: ``model``, ``lazy`` (the lazy ball), ``tangent_kernel`` (the linearised
  model), ``train`` (projected SGD, adversarial training), ``ensemble`` (K networks at once).
- Attacks and measurements: ``attacks`` (single step, exact flip distance, FGM, PGD), ``metrics``,
  ``linear``, ``lipschitz``, ``random_networks``, ``estimation`` (chapters 2-3).
- The proof: ``lemmas`` (chapters 6-8), ``proof_chain`` (chapters 8-9).
- The book around them: ``data``, ``reproduce`` (the experiments of chapters 10-12), ``plotting``,
  ``widgets``, ``exercises``, ``notebook``.
"""

from . import data, ensemble, estimation, exercises, lemmas, linear, lipschitz, notebook, plotting
from . import proof_chain, random_networks, reproduce, tangent_kernel, widgets
from .attacks import fgm_l2, flip_distance, gradient_step, pgd_l2
from .ensemble import Ensemble, train_ensemble
from .estimation import binomial_interval, interval_coverage
from .lazy import (
    deviation,
    lazy_radius,
    linearization,
    project_,
    switchable_neurons,
    value_bounds,
    value_extremiser,
)
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
from .metrics import PowerLawFit, accuracy, power_law_fit, robust_accuracy
from .model import TwoLayerReLU, default_device, input_gradient, preactivations
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
from .reproduce import sweep
from .train import TrainHistory, logistic_loss, loss_gradient, train

__version__ = "0.2.0"

# Every name imported above is public (the lower modules ``attacks``, ``lazy``, ``metrics``, ``model``
# and ``train`` are reached through their functions).
__all__ = sorted(
    name for name in dir() if not name.startswith("_") and name not in {"attacks", "lazy", "metrics", "model"}
) + ["__version__"]
