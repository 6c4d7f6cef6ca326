"""pytest hooks for the notebook run (pytest --nbval book/): report each chapter's execution time."""

from __future__ import annotations

import collections
import os
import pathlib

_durations: dict[str, float] = collections.defaultdict(float)


def pytest_configure(config):
    # Notebooks must show no progress bars; the saved outputs were made the same way.
    os.environ["LAZYLIB_PROGRESS"] = "0"
    # Explorers save their static form (default figure and precomputed views), as in the saved outputs.
    os.environ["LAZYLIB_WIDGETS"] = "static"
    # The explorers' embedded PNG data is compared as nbval compares PNG outputs (not at all); the test
    # commands pass this file explicitly, and a run that does not gets it here.
    if getattr(config.option, "nbval_sanitize_with", "unset") is None:
        config.option.nbval_sanitize_with = str(pathlib.Path(__file__).with_name("nbval_sanitize.cfg"))


def pytest_runtest_logreport(report):
    if report.nodeid.split("::")[0].endswith(".ipynb"):
        _durations[report.nodeid.split("::")[0]] += report.duration


def pytest_terminal_summary(terminalreporter):
    if not _durations:
        return
    terminalreporter.section("chapter execution times (nbval, this machine)")
    for name, seconds in sorted(_durations.items()):
        terminalreporter.write_line(f"{name}: {seconds:6.1f} s")
    terminalreporter.write_line(f"all chapters: {sum(_durations.values()):6.1f} s")
