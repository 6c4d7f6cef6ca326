"""The quantities of the main theorem and its three control lemmas (book Part II, chapters 5–9).

Section 1 (chapters 5–7): the width window of the theorem, Lemma A (the function value over the lazy
ball) and Lemma B (the gradient norm over the lazy ball). Section 2 (chapters 8–9): Lemma C (the
gradient difference over a small input ball) and the combination into the flip.
"""

from __future__ import annotations

__all__: list[str] = []

# ----------------------------------------------------------------------------------------------
# Section 1: the theorem's window, Lemma A and Lemma B (chapters 5, 6, 7)


# ----------------------------------------------------------------------------------------------
# Section 2: Lemma C and the combination (chapters 8, 9)
