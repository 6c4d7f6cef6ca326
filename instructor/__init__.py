"""Instructor-only tools for the book's coursework: reference answers, answer keys and the grader.

Not part of the installed ``lazylib`` package (``pyproject.toml`` packages only ``lazylib``); run its
commands from a clone of the repository: ``python -m instructor.make_keys``, ``python -m instructor.grade``.
"""
