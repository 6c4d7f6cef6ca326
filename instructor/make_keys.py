"""Write the answer keys of ``lazylib/exercises.py`` from the instructor's reference answers.

For every exercise this computes the reference (``instructor/references.py``), chooses the grid that
fits the exercise's tolerance (see ``lazylib.exercises``), keeps the exercise's salt when its grid is
unchanged (a new random salt otherwise, or for every exercise with ``--new-salts``), stores the salted
digest of the reference's grid point, and verifies that the stored key accepts the reference and every
answer within the tolerance and rejects answers three tolerances away. Run it after changing an
exercise's reference or tolerance, and commit ``lazylib/exercises.py``.

Usage (from the repository root)::

    python -m instructor.make_keys             # rewrite the keys block of lazylib/exercises.py
    python -m instructor.make_keys --check     # only verify the committed keys (exit 1 on a mismatch)
"""

from __future__ import annotations

import argparse
import math
import os
import pathlib
import re
import secrets
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
EXERCISES_PY = ROOT / "lazylib" / "exercises.py"
BEGIN = "# BEGIN ANSWER KEYS"
END = "# END ANSWER KEYS"

__all__ = ["choose_grid", "make_key", "accepts", "probe_points", "verify_key", "build_keys", "main"]


def choose_grid(ref: float, rtol: float, atol: float) -> tuple[str, float]:
    """The grid ``(name, step)`` for a reference and its tolerance; the step never depends on ``ref``.

    Raises
    ------
    ValueError
        When no grid fits without its step revealing the reference (a relative tolerance on a
        reference that is zero or dominated by ``atol``).
    """
    if rtol == 0.0 and atol == 0.5 and ref == round(ref):
        return "integer", 1.0
    if rtol == 0.0 and atol > 0.0:
        return "linear", 1.25 * atol
    if rtol > 0.0 and ref != 0.0 and atol <= 0.1 * rtol * abs(ref) and rtol <= 0.1:
        return "log", 1.25 * rtol
    raise ValueError(f"no answer grid fits the reference with rtol={rtol}, atol={atol}: use rtol=0 with an "
                     "absolute tolerance, or an atol at most a tenth of rtol·|reference|.")


def make_key(label: str, ref: float, rtol: float, atol: float, salt: str | None = None) -> tuple[str, float, str, str]:
    """The key ``(grid, step, salt, digest)`` of one exercise."""
    from lazylib.exercises import digest, grid_point

    grid, step = choose_grid(ref, rtol, atol)
    salt = salt or secrets.token_hex(16)
    return grid, step, salt, digest(label, grid, grid_point(grid, step, ref), salt)


def accepts(label: str, key: tuple[str, float, str, str], value: float) -> bool:
    """Whether the self-check with ``key`` accepts ``value`` (the same rule as ``lazylib.exercises``)."""
    from lazylib.exercises import digest, grid_point

    grid, step, salt, stored = key
    if not math.isfinite(value):
        return False
    sign, k = grid_point(grid, step, value)
    if grid == "log" and sign == 0:
        return False
    shifts = (0,) if grid == "integer" else (0, -1, 1)
    return any(digest(label, grid, (sign, k + s), salt) == stored for s in shifts)


def probe_points(ref: float, rtol: float, atol: float, grid: str) -> tuple[list[float], list[float]]:
    """Answers the check must accept (the reference and answers within the tolerance) and answers it
    must reject (three tolerances away, the opposite sign, zero)."""
    tol = atol + rtol * abs(ref)
    inside = 0.999 * tol if grid == "integer" else tol  # the integer grid accepts [ref − 1/2, ref + 1/2)
    good = [ref, ref + inside, ref - inside, ref + 0.5 * tol, ref - 0.5 * tol]
    bad = [ref + 3 * tol, ref - 3 * tol, ref + 10 * tol, ref - 10 * tol]
    if abs(ref) > 3 * tol:
        bad += [-ref, 0.0]
    return good, bad


def verify_key(label: str, ref: float, rtol: float, atol: float, key: tuple[str, float, str, str]) -> list[str]:
    """Problems of ``key`` for this reference (empty when it accepts and rejects as it must)."""
    good, bad = probe_points(ref, rtol, atol, key[0])
    problems = [f"{label}: rejects {v!r}, within the tolerance" for v in good if not accepts(label, key, v)]
    problems += [f"{label}: accepts {v!r}, far outside the tolerance" for v in bad if accepts(label, key, v)]
    return problems


def _committed_keys() -> dict[str, tuple[str, float, str, str]]:
    import lazylib.exercises as ex

    return dict(ex._KEYS)


def build_keys(*, new_salts: bool = False, labels: list[str] | None = None) -> dict[str, tuple[str, float, str, str]]:
    """Compute and verify the key of every exercise (or of ``labels``)."""
    from lazylib.exercises import EXERCISES

    from instructor.references import reference

    old = {} if new_salts else _committed_keys()
    keys = {}
    for label in labels or list(EXERCISES):
        ex = EXERCISES[label]
        ref = reference(label)
        grid, step = choose_grid(ref, ex.rtol, ex.atol)
        salt = old[label][2] if label in old and old[label][:2] == (grid, step) else None
        keys[label] = make_key(label, ref, ex.rtol, ex.atol, salt)
        problems = verify_key(label, ref, ex.rtol, ex.atol, keys[label])
        if problems:
            raise AssertionError("; ".join(problems))
    return keys


def _render(keys: dict[str, tuple[str, float, str, str]]) -> str:
    lines = [
        f"{BEGIN} (generated by `python -m instructor.make_keys`; do not edit by hand)",
        "# label: (grid, step, salt, digest of the reference's grid point)",
        "_KEYS: dict[str, tuple[str, float, str, str]] = {",
    ]
    lines += [f'    "{label}": ("{g}", {s!r}, "{salt}", "{d}"),' for label, (g, s, salt, d) in keys.items()]
    lines += ["}", END]
    return "\n".join(lines)


def write_keys(keys: dict[str, tuple[str, float, str, str]], path: pathlib.Path = EXERCISES_PY) -> bool:
    """Replace the keys block of ``path``; returns whether the file changed."""
    text = path.read_text()
    pattern = re.compile(rf"(?ms)^{re.escape(BEGIN)}.*?^{re.escape(END)}$")
    if not pattern.search(text):
        raise ValueError(f"{path} must hold a block between '{BEGIN}' and '{END}'; none found.")
    new = pattern.sub(lambda _: _render(keys), text, count=1)
    if new != text:
        path.write_text(new)
    return new != text


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("LAZYLIB_PROGRESS", "0")
    parser = argparse.ArgumentParser(prog="python -m instructor.make_keys", description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only verify the committed keys; exit 1 on a mismatch")
    parser.add_argument("--new-salts", action="store_true", help="draw a new salt for every exercise")
    args = parser.parse_args(argv)
    if args.check:
        from lazylib.exercises import EXERCISES

        from instructor.references import reference

        committed = _committed_keys()
        problems = []
        for label, ex in EXERCISES.items():
            if label not in committed:
                problems.append(f"{label}: no key")
                continue
            problems += verify_key(label, reference(label), ex.rtol, ex.atol, committed[label])
        for p in problems:
            print(p)
        print(f"{len(EXERCISES)} exercise(s), {len(problems)} problem(s)")
        return 1 if problems else 0
    keys = build_keys(new_salts=args.new_salts)
    changed = write_keys(keys)
    print(f"{len(keys)} answer key(s) verified; {EXERCISES_PY.relative_to(ROOT)} {'rewritten' if changed else 'unchanged'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
