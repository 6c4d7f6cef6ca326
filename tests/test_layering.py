"""The library's layering: every module imports only modules of lower layers, so nothing reaches back up.

data and model at the bottom; the lazy ball and the attacks on the model; training (which calls the
attacks for adversarial training) and the measurements above them; the lemma quantities above those;
the experiment commands above training and the measurements; the explorers above everything they
draw, the saved experiments included; the coursework tools and the package's front door at the top.
The test reads every module's imports, at module level and inside functions.
"""

from __future__ import annotations

import ast
import pathlib

import pytest

import lazylib

ROOT = pathlib.Path(lazylib.__file__).resolve().parent

LAYERS = [
    {"_checks"},
    {"exercises", "notebook", "plotting", "estimation"},
    {"data", "model"},
    {"lazy", "attacks"},
    {"train", "metrics", "tangent_kernel", "random_networks"},
    {"linear", "lipschitz"},
    {"lemmas._shared", "ensemble"},
    {"lemmas.value", "lemmas.gradient_norm", "lemmas.difference", "lemmas.theorem"},
    {"lemmas.uniform_difference"},
    {"lemmas"},
    {"proof_chain", "reproduce"},
    {"widgets"},
    {"coursework"},
    {"__init__", "__main__"},
]
RANK = {name: i for i, layer in enumerate(LAYERS) for name in layer}


def _module_name(path: pathlib.Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    if parts[-1] == "__init__" and len(parts) > 1:
        parts = parts[:-1]
    return ".".join(parts)


def _imports(path: pathlib.Path) -> set[str]:
    """The lazylib modules a file imports (relative imports resolved; names that are not modules skipped)."""
    name = _module_name(path)
    package = name.split(".")[:-1] if path.name != "__init__.py" else name.split(".")
    if name == "__init__":
        package = []
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package[: len(package) - (node.level - 1)] if node.level > 1 else package
            target = ".".join(base + ([node.module] if node.module else []))
            if node.module:
                found.add(target)
            for alias in node.names:  # `from . import train` imports a module; `from . import __version__` does not
                full = ".".join(filter(None, [target, alias.name]))
                if full in RANK:
                    found.add(full)
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("lazylib"):
            found.add(node.module.removeprefix("lazylib").lstrip(".") or "__init__")
    return {m for m in found if m} - {name}


MODULES = sorted(p for p in ROOT.rglob("*.py"))


def test_every_module_has_a_layer():
    assert {_module_name(p) if p.name != "__init__.py" or p.parent != ROOT else "__init__" for p in MODULES} == set(RANK)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_only_reach_down(path):
    name = "__init__" if path == ROOT / "__init__.py" else _module_name(path)
    up = {m: RANK.get(m) for m in _imports(path) if RANK.get(m, -1) >= RANK[name]}
    assert not up, f"{name} (layer {RANK[name]}) imports modules of its own layer or above: {up}"
