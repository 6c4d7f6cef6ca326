"""Re-execute the book's chapters in place, top to bottom, each in a fresh kernel.

Usage: python scripts/execute_chapters.py [NOTEBOOK ...]   (default: every chapter in book/)
Progress bars are switched off (LAZYLIB_PROGRESS=0) and explorers save their static form, the
default figure with precomputed views that move on the published page (LAZYLIB_WIDGETS=static),
so the saved outputs hold neither progress bars nor widget state; the time each chapter took is
printed here, never saved into the notebook.
"""

from __future__ import annotations

import os
import pathlib
import resource
import sys
import time

import nbformat
from nbclient import NotebookClient

ROOT = pathlib.Path(__file__).resolve().parents[1]


def chapters(args: list[str]) -> list[pathlib.Path]:
    if args:
        return [pathlib.Path(a).resolve() for a in args]
    return sorted(p for p in (ROOT / "book").glob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def merge_streams(nb) -> None:
    """Join consecutive stdout (stderr) outputs of a cell into one: how a cell's printing is cut into
    messages depends on the machine's load, the saved notebook must not."""
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        merged = []
        for out in cell.outputs:
            if merged and out.output_type == "stream" and merged[-1].output_type == "stream" \
                    and merged[-1].name == out.name:
                merged[-1].text += out.text
            else:
                merged.append(out)
        cell.outputs = merged


def execute(path: pathlib.Path) -> tuple[float, float]:
    """Execute one chapter in place; return its wall time and its kernel's CPU time (seconds)."""
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    start, cpu = time.perf_counter(), _children_cpu()
    NotebookClient(nb, timeout=900, kernel_name="python3", record_timing=False,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    elapsed = time.perf_counter() - start
    nb.metadata.pop("widgets", None)
    merge_streams(nb)
    nbformat.write(nb, path)
    return elapsed, _children_cpu() - cpu


def main(argv: list[str]) -> int:
    if argv[:1] == ["--merge-streams-only"]:  # tidy saved notebooks without executing them
        for path in chapters(argv[1:]):
            nb = nbformat.read(path, as_version=4)
            merge_streams(nb)
            nbformat.write(nb, path)
        return 0
    os.environ["LAZYLIB_PROGRESS"] = "0"
    os.environ["LAZYLIB_WIDGETS"] = "static"
    os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    total = 0.0
    for path in chapters(argv):
        seconds, cpu = execute(path)
        total += seconds
        # CPU time of the kernel: on a busy machine the wall time grows, this does not.
        print(f"executed {path.relative_to(ROOT)} in {seconds:.1f} s (kernel CPU time {cpu:.1f} s)", flush=True)
    print(f"all chapters: {total:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
