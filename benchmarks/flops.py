"""Benchmark: the FLOP rate of a full-batch training step against the machine's own large-matmul rate.

Run from the repository root::

    python -m benchmarks.flops            # CPU unless CUDA is available
    python -m benchmarks.flops --help

What it does
------------
At d = 784 (28×28 MNIST images, unit norm), m = 1000 and full-batch gradient descent on the 800
training images of the offline subset, a training step is two matrix products of n·m·d
multiply-adds each (the forward pass X Wᵀ and the gradient Pᵀ X), 4·n·m·d FLOPs, plus element-wise
work on the (n, m) pre-activations. In the same run, interleaved round by round, it measures

* ``ll.train(..., evaluate=False)``: the training step alone (per epoch: one step and the deviation),
  counted as 4·n·m·d FLOPs per epoch;
* ``ll.train(...)`` with its default per-epoch evaluation of the loss and accuracy (one more forward
  pass), counted as 6·n·m·d;
* ``ll.train_ensemble`` on K = 4 networks at once, full batch, counted as 4·K·n·m·d;
* the machine's large-matmul rate: float32 products of two 2048 × 2048 matrices, 2·2048³ FLOPs each;

and takes medians over ``--repeats`` rounds. Writes ``benchmarks/results/flops.json`` and exits with
status 1 if the training step's rate is below half the large-matmul rate.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch

import lazylib as ll

from ._timing import environment, machine_load, timed

M, SIZE, TARGET = 1000, 28, 0.5
RESULTS = Path(__file__).resolve().parent / "results" / "flops.json"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default=None, help="default: ll.default_device()")
    parser.add_argument("--epochs", type=int, default=5, help="full-batch epochs per timing (default 5)")
    parser.add_argument("--repeats", type=int, default=5, help="interleaved rounds, median taken (default 5)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's default)")
    parser.add_argument("--matmul-size", type=int, default=2048)
    parser.add_argument("--output", default=str(RESULTS))
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device) if args.device else ll.default_device()
    start = time.perf_counter()
    x, y, _, _ = ll.data.mnist_pair((0, 1), size=SIZE, unit_norm=True, device=device)
    n, d = x.shape
    E, K, N = args.epochs, 4, args.matmul_size
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(N, N, generator=g).to(device), torch.randn(N, N, generator=g).to(device)

    def step_only():
        net = ll.TwoLayerReLU(d, M, generator=torch.Generator().manual_seed(0), device=device)
        ll.train(net, x, y, lr=0.5, epochs=E, progress=False, evaluate=False)

    def with_evaluation():
        net = ll.TwoLayerReLU(d, M, generator=torch.Generator().manual_seed(0), device=device)
        ll.train(net, x, y, lr=0.5, epochs=E, progress=False)

    def ensemble():
        ens = ll.Ensemble(d, M, generators=[torch.Generator().manual_seed(s) for s in range(K)], device=device)
        ll.train_ensemble(ens, x, y, lr=0.5, epochs=E, progress=False, evaluate=False)

    def matmul():
        for _ in range(3):
            a @ b

    flops = {"train_step": E * 4 * n * M * d, "train_with_evaluation": E * 6 * n * M * d,
             "train_ensemble_K4": E * 4 * K * n * M * d, "large_matmul": 3 * 2 * N**3}
    fns = {"train_step": step_only, "train_with_evaluation": with_evaluation, "train_ensemble_K4": ensemble,
           "large_matmul": matmul}
    for fn in fns.values():  # warm-up
        fn()
    load_before = machine_load()
    times: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(args.repeats):
        for k, fn in fns.items():
            times[k].append(timed(fn, device)[0])
    load_after = machine_load()
    rate = {k: flops[k] / statistics.median(v) for k, v in times.items()}
    fraction = {k: rate[k] / rate["large_matmul"] for k in rate if k != "large_matmul"}
    checks = {"train_step_at_least_half_the_large_matmul_rate": fraction["train_step"] >= TARGET}
    result = {
        "benchmark": "flops",
        **environment(device),
        "setting": {"d": d, "m": M, "n": n, "epochs_per_timing": E, "full_batch": True, "dtype": "float32",
                    "data": "MNIST 0 vs 1 (offline subset), 28x28, unit norm", "matmul_size": N},
        "flop_counts": {"train_step": "4 n m d per epoch (forward and gradient products)",
                        "train_with_evaluation": "6 n m d per epoch (plus the evaluation forward pass)",
                        "train_ensemble_K4": "4 K n m d per epoch", "large_matmul": "2 N^3 per product, 3 products"},
        "timing_scheme": f"{args.repeats} interleaved rounds of all four; medians",
        "timings_s": times,
        "flops_per_s": rate,
        "fraction_of_large_matmul_rate": fraction,
        "target": TARGET,
        "machine_load_before": load_before,
        "machine_load_after": load_after,
        "checks": checks,
        "pass": all(checks.values()),
        "wall_time_s": time.perf_counter() - start,
    }
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"d = {d}, m = {M}, n = {n}, full batch, {device.type}, {torch.get_num_threads()} threads")
    print(f"  large matmul ({N} x {N}):          {rate['large_matmul'] / 1e9:7.1f} GFLOP/s")
    for k in ("train_step", "train_with_evaluation", "train_ensemble_K4"):
        print(f"  {k:32s} {rate[k] / 1e9:7.1f} GFLOP/s = {fraction[k]:.2f} of it")
    print(f"  {'PASS' if result['pass'] else 'FAIL'}: " + ", ".join(f"{k}={v}" for k, v in checks.items()))
    print(f"  wrote {out}")
    return 0 if result["pass"] else 1


if __name__ == "__main__":
    sys.exit(main())
