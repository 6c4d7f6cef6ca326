"""Benchmark: exact ``ll.flip_distance`` against the authors' line search, side by side in one run.

Run from the repository root::

    python -m benchmarks.flip_distance            # CPU unless CUDA is available
    python -m benchmarks.flip_distance --help

What it does
------------
1. Builds ``ll.TwoLayerReLU(784, 1000)`` (float32) from a fixed seed and, unless ``--no-train``, trains
   it lazily with the authors' Section 5.1 protocol: logistic loss, SGD lr 0.1, batch 64, stopping as
   soon as the per-neuron deviation leaves the ball of radius C0/sqrt(m), C0 = 10 (``constraint="stop"``,
   which restores the last epoch inside the ball).
2. Takes the raw MNIST 0-vs-1 test images (pixels in [0, 1], no unit norm) from
   ``ll.data.mnist_pair(size=28)`` and draws a fixed-seed subset of ``--points`` correctly classified
   ones (the authors search only correctly classified points).
3. Runs two Python-loop line searches on the subset, one point at a time, steps of 0.001, at most 5000:
   ``authors_line_search`` (their loop as written) and ``minimal_line_search`` (the same search with
   the least work per step: two forward passes, no autograd, no label check), and the exact
   ``ll.flip_distance`` on the same subset and on the full test set, its timings interleaved with the
   line searches point by point (median over the samples), so both see the same machine conditions.
4. Compares the distances, writes ``benchmarks/results/flip_distance.json``, prints a summary and
   exits with status 1 if a check fails: a speed ratio below 1000 against either loop, or a
   disagreement above the line-search resolution 0.001 plus a float slack of 1e-5.

The speed ratio is (line-search time per point) / (exact time per point) with both measured on the SAME
subset of points and the SAME model. The exact method's time per point over the full test set is also
reported; it is lower (batching amortises better), so using it would flatter the ratio; it is not used.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import torch

import lazylib as ll

from ._timing import environment, machine_load, timed

SEED = 0
D, M = 784, 1000
STEP = 0.001  # the authors' line-search step = the resolution of its answer
MAX_STEPS = 5000  # the authors' cap, so a line-search distance is at most 5.0
RATIO_TARGET = 1000.0
FLOAT_SLACK = 1e-5  # float32 error in the two distances, far below the resolution
BUSY_PRESSURE = 10.0  # % of time runnable tasks waited for a CPU (last 10 s): above this, timings are suspect
RESULTS = Path(__file__).resolve().parent / "results" / "flip_distance.json"


# --------------------------------------------------------------------------------------------------
# The reference: the authors' line search, one point at a time
# --------------------------------------------------------------------------------------------------


def authors_line_search(
    model: ll.TwoLayerReLU,
    x: torch.Tensor,
    y: torch.Tensor | None = None,
    *,
    step: float = STEP,
    max_steps: int = MAX_STEPS,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The authors' line search (script ``ntk_normal.py`` of their repository), loop as they wrote it.

    For each point on its own (a Python loop over points): the input gradient of that single point by
    ``torch.autograd.grad``, the direction v = −sign f(x) · ∇f/‖∇f‖, then

        while count < max_steps and sign f(adv) == sign f(x) and sign f(x) == y:
            adv = adv + v · step;  count += 1

    so every step re-runs the network on the moved point AND on the original point (and once more on
    the original point for the label test when ``y`` is given, as in their script). The moved point is
    accumulated step by step, as they do; autograd stays on (their inputs require grad).

    Returns
    -------
    distance : torch.Tensor, shape (n,), float64 on the CPU
        count · step at the first grid point where the sign differs from sign f(x); ``inf`` where no
        flip happens within ``max_steps`` steps (their script records 5.0 there); ``nan`` where the
        label test fails at the start (a misclassified point; their script records 0).
    forwards : torch.Tensor, shape (n,), int64
        Forward passes of the network spent on each point (the gradient's forward included).
    """
    dist = torch.empty(x.shape[0], dtype=torch.float64)
    forwards = torch.zeros(x.shape[0], dtype=torch.int64)
    for i in range(x.shape[0]):
        inp = x[i : i + 1].detach().clone().requires_grad_(True)
        grad = torch.autograd.grad(model(inp), inp)[0]
        grad_norm = torch.linalg.vector_norm(grad)
        direction = grad / grad_norm
        sgn = -torch.sign(model(inp))
        adv = inp
        count, nf = 0, 2
        label_ok = True
        while count < max_steps:
            nf += 2
            if not bool(torch.sign(model(adv)) == torch.sign(model(inp))):
                break
            if y is not None:
                nf += 1
                label_ok = bool(torch.sign(model(inp)) == y[i])
                if not label_ok:
                    break
            adv = adv + sgn * direction * step
            count += 1
        if not label_ok:
            dist[i] = math.nan
        elif count < max_steps:
            dist[i] = count * step
        else:  # the loop stopped at the cap without testing the last point; test it once here
            nf += 2
            flipped = bool(torch.sign(model(adv)) != torch.sign(model(inp)))
            dist[i] = max_steps * step if flipped else math.inf
        forwards[i] = nf
    return dist, forwards


def minimal_line_search(
    model: ll.TwoLayerReLU,
    x: torch.Tensor,
    *,
    step: float = STEP,
    max_steps: int = MAX_STEPS,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The same line search with the least work per step, for a conservative (lower) speed ratio.

    v = −sign f(x) · ∇f/‖∇f‖ from ``torch.autograd.grad`` on the single point, then

        while k < max_steps and sign f(x + k·step·v) == sign f(x):  k += 1

    with the network re-run on the moved point and on the original point every step (two forward
    passes), the moved point recomputed from x (no accumulated rounding), under ``torch.no_grad``
    and without the label test. Same answers as :func:`authors_line_search` up to float rounding.
    """
    dist = torch.empty(x.shape[0], dtype=torch.float64)
    forwards = torch.zeros(x.shape[0], dtype=torch.int64)
    for i in range(x.shape[0]):
        inp = x[i : i + 1].detach().clone().requires_grad_(True)
        f0 = model(inp)
        grad = torch.autograd.grad(f0, inp)[0]
        with torch.no_grad():
            xi = inp.detach()
            v = -torch.sign(f0.detach()) * grad / torch.linalg.vector_norm(grad)
            k, nf = 0, 1
            while k < max_steps:
                nf += 2
                if not bool(torch.sign(model(xi + (k * step) * v)) == torch.sign(model(xi))):
                    break
                k += 1
            if k < max_steps:
                dist[i] = k * step
            else:
                nf += 2
                flipped = bool(torch.sign(model(xi + (k * step) * v)) != torch.sign(model(xi)))
                dist[i] = max_steps * step if flipped else math.inf
        forwards[i] = nf
    return dist, forwards


# --------------------------------------------------------------------------------------------------
# Timing and comparison
# --------------------------------------------------------------------------------------------------


def compare(exact: torch.Tensor, line: torch.Tensor, *, step: float, max_dist: float) -> dict[str, Any]:
    """Agreement between exact distances and line-search distances on the same points.

    The line search returns the first grid point at or past the first flip, so for a point it flips,
    0 ≤ line − exact ≤ step up to float error (more only if f changed sign and back within one step,
    which the line search cannot see). Where it does not flip within ``max_dist`` the exact distance
    must exceed ``max_dist`` (up to one step) or be ``inf``.
    """
    exact = exact.to(torch.float64).cpu()
    line = line.to(torch.float64).cpu()
    searched = ~torch.isnan(line)
    flipped = searched & torch.isfinite(line)
    no_flip = searched & torch.isinf(line)
    diff = (line - exact)[flipped]
    no_flip_agree = no_flip & (exact > max_dist - step)
    return {
        "points_searched": int(searched.sum()),
        "points_flipped_by_line_search": int(flipped.sum()),
        "points_no_flip_within_max": int(no_flip.sum()),
        "points_no_flip_agreeing": int(no_flip_agree.sum()),
        "points_no_flip_disagreeing": int((no_flip & ~no_flip_agree).sum()),
        "max_abs_disagreement": float(diff.abs().max()) if diff.numel() else 0.0,
        "min_line_minus_exact": float(diff.min()) if diff.numel() else 0.0,
        "max_line_minus_exact": float(diff.max()) if diff.numel() else 0.0,
        "mean_line_minus_exact": float(diff.mean()) if diff.numel() else 0.0,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.flip_distance",
        description="Exact ll.flip_distance against the authors' line search (steps 0.001, at most 5000).",
    )
    parser.add_argument("--device", default=None, help="torch device (default: ll.default_device())")
    parser.add_argument("--points", type=int, default=100, help="points for the line searches (default 100)")
    parser.add_argument("--repeats", type=int, default=1,
                        help="timings of the exact method after each line-searched point (default 1); "
                             "the median over all points' timings is used")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch.set_num_threads for the whole run (default: torch's own choice)")
    parser.add_argument("--epochs", type=int, default=1000,
                        help="at most this many epochs of lazy training (stops at the ball's edge; default 1000)")
    parser.add_argument("--no-train", action="store_true", help="benchmark the network at initialisation")
    parser.add_argument("--seed", type=int, default=SEED, help=f"seed of the network, shuffling and subset ({SEED})")
    parser.add_argument("--output", type=Path, default=RESULTS, help=f"results file (default {RESULTS})")
    args = parser.parse_args(argv)
    if args.points < 1 or args.repeats < 1 or args.epochs < 1:
        parser.error("--points, --repeats and --epochs must be ≥ 1")

    device = torch.device(args.device) if args.device else ll.default_device()
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    t_start = time.perf_counter()

    model = ll.TwoLayerReLU(D, M, generator=torch.Generator().manual_seed(args.seed), device=device,
                            dtype=torch.float32)
    x_train, y_train, x_test, y_test = ll.data.mnist_pair(size=28, device=device)  # pixels in [0, 1]
    if args.no_train:
        training = {"trained": False, "description": "network at initialisation (no training)"}
    else:
        t_tr, hist = timed(lambda: ll.train(
            model, x_train, y_train, C0=10, lr=0.1, epochs=args.epochs, batch_size=64, constraint="stop",
            generator=torch.Generator().manual_seed(args.seed), progress=False), device)
        training = {
            "trained": True,
            "description": (
                "lazily trained like the paper's Section 5.1: ll.train(C0=10, lr=0.1, batch_size=64, "
                f"epochs<={args.epochs}, constraint='stop') on raw MNIST 0-vs-1 training images"
            ),
            "epochs_kept": hist.epochs,
            "stopped_in_epoch": hist.stopped_epoch,
            "deviation": hist.deviation[-1] if hist.deviation else 0.0,
            "radius": hist.radius,
            "train_accuracy": hist.accuracy[-1] if hist.accuracy else None,
            "seconds": t_tr,
        }
    model.eval()
    with torch.no_grad():
        correct = torch.sign(model(x_test)) == y_test
    test_accuracy = float(correct.to(torch.float64).mean())

    # Fixed-seed subset of correctly classified test points (the authors search only those).
    candidates = torch.nonzero(correct.cpu()).squeeze(1)
    n_points = min(args.points, candidates.numel())
    pick = torch.randperm(candidates.numel(), generator=torch.Generator().manual_seed(args.seed))[:n_points]
    idx = candidates[pick].sort().values
    xs, ys = x_test[idx.to(device)], y_test[idx.to(device)]

    exact_sub = ll.flip_distance(model, xs).cpu()
    exact_full = ll.flip_distance(model, x_test).cpu()
    # The same points inside the full batch must give the same distances as the subset batch.
    batch_consistency = float((exact_full[idx] - exact_sub).abs().max())
    # And float32 must match the same computation in float64 (same weights, same points).
    model64 = ll.TwoLayerReLU(D, M, device=device, dtype=torch.float64)
    model64.load_state_dict({k: v.to(torch.float64) for k, v in model.state_dict().items()})
    exact_64 = ll.flip_distance(model64, xs.to(torch.float64)).cpu()
    both = torch.isfinite(exact_64) & torch.isfinite(exact_sub)
    exact_64_gap = float((exact_sub.to(torch.float64) - exact_64)[both].abs().max()) if bool(both.any()) else 0.0
    if not torch.equal(torch.isfinite(exact_64), torch.isfinite(exact_sub)):
        exact_64_gap = math.inf

    # Timings, interleaved so that both methods see the same machine conditions: for each point of the
    # subset, the two line searches on that point, then `repeats` timings of the exact method on the
    # whole subset and on the full test set. Exact times: median over all these samples.
    for _ in range(2):  # warm-up of every code path
        ll.flip_distance(model, xs)
        ll.flip_distance(model, x_test)
    authors_line_search(model, xs[:1], ys[:1], max_steps=20)
    minimal_line_search(model, xs[:1], max_steps=20)
    load_before = machine_load()
    t_authors = t_minimal = 0.0
    parts_authors, parts_minimal, times_sub, times_full = [], [], [], []
    for i in range(n_points):
        dt, out = timed(lambda: authors_line_search(model, xs[i : i + 1], ys[i : i + 1]), device)
        t_authors += dt
        parts_authors.append(out)
        dt, out = timed(lambda: minimal_line_search(model, xs[i : i + 1]), device)
        t_minimal += dt
        parts_minimal.append(out)
        for _ in range(args.repeats):
            times_sub.append(timed(lambda: ll.flip_distance(model, xs), device)[0])
            times_full.append(timed(lambda: ll.flip_distance(model, x_test), device)[0])
    load_after = machine_load()
    busy = any(load.get("cpu_pressure_some_avg10", 0.0) > BUSY_PRESSURE for load in (load_before, load_after))
    line_authors = torch.cat([d for d, _ in parts_authors])
    fw_authors = torch.cat([f for _, f in parts_authors])
    line_minimal = torch.cat([d for d, _ in parts_minimal])
    fw_minimal = torch.cat([f for _, f in parts_minimal])
    t_exact_sub, t_exact_full = statistics.median(times_sub), statistics.median(times_full)

    max_dist = MAX_STEPS * STEP
    cmp_authors = compare(exact_sub, line_authors, step=STEP, max_dist=max_dist)
    cmp_minimal = compare(exact_sub, line_minimal, step=STEP, max_dist=max_dist)

    per_point = {
        "exact_subset_s": t_exact_sub / n_points,
        "exact_full_test_set_s": t_exact_full / x_test.shape[0],
        "authors_line_search_s": t_authors / n_points,
        "minimal_line_search_s": t_minimal / n_points,
    }
    ratio_authors = per_point["authors_line_search_s"] / per_point["exact_subset_s"]
    ratio_minimal = per_point["minimal_line_search_s"] / per_point["exact_subset_s"]
    tolerance = STEP + FLOAT_SLACK

    def agree(c: dict[str, Any]) -> bool:
        return (
            c["max_abs_disagreement"] <= tolerance
            and c["min_line_minus_exact"] >= -FLOAT_SLACK
            and c["points_no_flip_disagreeing"] == 0
            and c["points_searched"] == n_points
        )

    checks = {  # these decide pass / fail
        "ratio_vs_authors_line_search_ge_1000": ratio_authors >= RATIO_TARGET,
        "ratio_vs_minimal_line_search_ge_1000": ratio_minimal >= RATIO_TARGET,
        "authors_line_search_agrees_within_resolution": agree(cmp_authors),
        "minimal_line_search_agrees_within_resolution": agree(cmp_minimal),
        "exact_same_on_subset_and_full_batch": batch_consistency <= 1e-6,
        "exact_float32_matches_float64": exact_64_gap <= FLOAT_SLACK,
    }
    passed = all(checks.values())

    result = {
        "benchmark": "flip_distance",
        **environment(device),
        "dtype": "float32",
        "d": D,
        "m": M,
        "seed": args.seed,
        "data": "ll.data.mnist_pair(size=28): raw MNIST 0 (label -1) vs 1 (label +1), pixels in [0, 1], no unit norm",
        "training": training,
        "test_points_full": int(x_test.shape[0]),
        "test_accuracy": test_accuracy,
        "n_points": n_points,
        "subset_rule": f"fixed-seed ({args.seed}) random subset of correctly classified test points",
        "subset_indices": idx.tolist(),
        "exact_timings": len(times_sub),
        "timing_scheme": (
            "interleaved: after each point's two line searches, the exact method is timed on the subset "
            f"and on the full test set ({args.repeats} time(s) each); exact time = median of these samples"
        ),
        "machine_load_before": load_before,
        "machine_load_after": load_after,
        "machine_busy_warning": busy,
        "per_point_time_s": per_point,
        "total_time_s": {
            "exact_subset_median": t_exact_sub,
            "exact_subset_min": min(times_sub),
            "exact_subset_max": max(times_sub),
            "exact_full_test_set_median": t_exact_full,
            "exact_full_test_set_min": min(times_full),
            "exact_full_test_set_max": max(times_full),
            "authors_line_search": t_authors,
            "minimal_line_search": t_minimal,
        },
        "ratio_basis": "line-search time per point / exact time per point, both on the same subset and model",
        "ratio": ratio_authors,
        "ratio_authors_line_search": ratio_authors,
        "ratio_minimal_line_search": ratio_minimal,
        "ratio_target": RATIO_TARGET,
        "forward_passes_per_point": {
            "authors_line_search_mean": float(fw_authors.to(torch.float64).mean()),
            "minimal_line_search_mean": float(fw_minimal.to(torch.float64).mean()),
        },
        "resolution": STEP,
        "float_slack": FLOAT_SLACK,
        "max_steps": MAX_STEPS,
        "max_disagreement": max(cmp_authors["max_abs_disagreement"], cmp_minimal["max_abs_disagreement"]),
        "agreement_authors_line_search": cmp_authors,
        "agreement_minimal_line_search": cmp_minimal,
        "exact_batch_consistency_max_abs": batch_consistency,
        "exact_float32_vs_float64_max_abs": exact_64_gap,
        "distances": {
            "exact": exact_sub.tolist(),
            "authors_line_search": line_authors.tolist(),
            "minimal_line_search": line_minimal.tolist(),
        },
        "exact_full_test_set_summary": {
            "mean": float(exact_full[torch.isfinite(exact_full)].mean()),
            "max": float(exact_full.max()),
            "above_5": int((exact_full > max_dist).sum()),
        },
        "checks": checks,
        "criterion": (
            f"ratio (authors' line search as written / exact, same points) >= {RATIO_TARGET:g}, and for both "
            f"line searches every disagreement within resolution {STEP} + float slack {FLOAT_SLACK:g} "
            f"(-slack <= line - exact <= {STEP} + slack; no-flip points agree); exact float32 within "
            f"{FLOAT_SLACK:g} of float64 and independent of the batch"
        ),
        "pass": passed,
        "wall_time_s": time.perf_counter() - t_start,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    # json.dumps writes inf/nan as Infinity/NaN, which Python's json reads back.
    args.output.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")

    us = 1e6
    print(f"flip_distance benchmark  (torch {torch.__version__}, lazylib {ll.__version__}, "
          f"{device.type}, {torch.get_num_threads()} threads, d={D}, m={M}, float32)")
    print(f"  model : {training['description']}"
          + (f"; kept {training['epochs_kept']} epochs, deviation {training['deviation']:.4f} "
             f"<= radius {training['radius']:.4f}" if training["trained"] else ""))
    print(f"  data  : {x_test.shape[0]} raw MNIST 0-vs-1 test images, test accuracy {test_accuracy:.3f}; "
          f"{n_points} correctly classified points for the line searches (seed {args.seed})")
    print("  time per point:")
    print(f"    exact flip_distance, same {n_points} points (median of {len(times_sub)}) : "
          f"{per_point['exact_subset_s'] * us:10.1f} us")
    print(f"    exact flip_distance, full test set ({x_test.shape[0]} points)        : "
          f"{per_point['exact_full_test_set_s'] * us:10.1f} us  (not used in the ratio)")
    print(f"    authors' line search, as written  ({cmp_authors['points_searched']} points)   : "
          f"{per_point['authors_line_search_s'] * us:10.1f} us  "
          f"({result['forward_passes_per_point']['authors_line_search_mean']:.0f} forward passes/point)")
    print(f"    minimal line search (2 fwd/step, no grad)       : "
          f"{per_point['minimal_line_search_s'] * us:10.1f} us  "
          f"({result['forward_passes_per_point']['minimal_line_search_mean']:.0f} forward passes/point)")
    print(f"  speed ratio on the same points: {ratio_authors:,.0f}x against the authors' loop "
          f"(target >= {RATIO_TARGET:,.0f}x); {ratio_minimal:,.0f}x against the minimal loop (target >= {RATIO_TARGET:,.0f}x)")
    for name, c in (("authors' loop", cmp_authors), ("minimal loop", cmp_minimal)):
        print(f"  agreement ({name}): max |exact - line| = {c['max_abs_disagreement']:.2e} over "
              f"{c['points_flipped_by_line_search']} flipped points; line - exact in "
              f"[{c['min_line_minus_exact']:.2e}, {c['max_line_minus_exact']:.2e}] "
              f"(resolution {STEP}); no flip within {max_dist:g}: {c['points_no_flip_within_max']} "
              f"({c['points_no_flip_disagreeing']} disagreeing)")
    print(f"  machine load (1-min load average, CPU pressure): before {load_before}, after {load_after}")
    print(f"  exact float32 vs float64: max gap {exact_64_gap:.1e}; subset vs full batch: {batch_consistency:.1e}")
    if busy:
        print(f"  WARNING: the machine was busy (CPU pressure above {BUSY_PRESSURE:g}%): other work slows the "
              "multi-threaded exact method far more than the line search, so the ratio is understated. "
              "Rerun on a quiet machine, or compare on one core with --threads 1.")
    failed = [k for k, ok in checks.items() if not ok]
    print(f"  result: {'PASS' if passed else 'FAIL: ' + ', '.join(failed)}  -> {args.output}")
    print(f"  wall time {result['wall_time_s']:.1f} s")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
