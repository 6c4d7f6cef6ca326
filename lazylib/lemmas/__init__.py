"""The quantities of the main theorem and its three control lemmas (book Part II, chapters 5–9).

One module per lemma, each named for what it computes:

- :mod:`lazylib.lemmas.theorem`: the theorem's width window (chapter 5) and its single step, whether it
  flips the sign, and the change of slope along the attack ray (chapter 9);
- :mod:`lazylib.lemmas.value`: Lemma A, the function value over the lazy ball (chapter 6);
- :mod:`lazylib.lemmas.gradient_norm`: Lemma B, the gradient norm over the lazy ball (chapter 7);
- :mod:`lazylib.lemmas.difference`: Lemma C for one displacement, the gradient difference
  ∇f(x + u) − ∇f(x) (chapter 8);
- :mod:`lazylib.lemmas.uniform_difference`: Lemma C uniformly over a small input ball (chapter 8).

Every public name of these modules is also here: ``ll.lemmas.value_bound``,
``from lazylib.lemmas import gradient_difference``. The quantities are defined for one network; an
:class:`lazylib.Ensemble` is refused (pass ``ensemble.member(k)``).
"""

from __future__ import annotations

from . import difference, gradient_norm, theorem, uniform_difference, value
from .difference import *  # noqa: F403  (each module's __all__ is its public names)
from .gradient_norm import *  # noqa: F403
from .theorem import *  # noqa: F403
from .uniform_difference import *  # noqa: F403
from .value import *  # noqa: F403

__all__ = [*theorem.__all__, *value.__all__, *gradient_norm.__all__, *difference.__all__,
           *uniform_difference.__all__]
