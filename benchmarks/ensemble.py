"""Benchmark: K networks trained as one batched ensemble against K sequential ``ll.train`` runs.

Run from the repository root::

    python -m benchmarks.ensemble            # CPU unless CUDA is available
    python -m benchmarks.ensemble --help

What it does
------------
The authors' small setting of their Section 5.1: MNIST 0 vs 1 resized to 5×5 (d = 25, unit-norm
images, the 800 training images of the offline subset), width m = 1000, SGD with batch 64 and step
size 0.1, the stop rule with C₀ = 10 (``constraint="stop"``), for a fixed number of epochs, K = 16
networks (seeds 0..15) sharing one shuffling order.

1. **Sequential**: ``ll.train`` once per network, one after the other (the library's reference trainer).
2. **Batched**: ``ll.train_ensemble`` on an ``ll.Ensemble`` of the same 16 networks.

Both train with ``evaluate=False``: the stop rule needs only the per-epoch deviation, so neither
side spends a pass over the data on recording the loss (the same comparison with the evaluation is
reported too, not gated).
3. Not gated, for information: the batched code run 16 times with K = 1 (what batching saves beyond
   the per-step Python overhead), and the machine's own large-matmul rate (2048 × 2048 float32
   products), with the achieved FLOP rates of both trainers, so the result can be read against the
   hardware's ceiling.

Timings are interleaved round by round (sequential, batched, K = 1, matmul) and the median of
``--repeats`` rounds is used, so all methods see the same machine conditions. Agreement: the batched
networks must equal the sequential ones (largest weight difference, float32, ≤ 1e-4; and in a float64
run, ≤ 1e-10). Writes ``benchmarks/results/ensemble.json`` and exits with status 1 if the speed-up is
below 5 or the networks disagree.
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

D_SIZE, M, BATCH, LR, C0 = 5, 1000, 64, 0.1, 10.0
SPEEDUP_TARGET = 5.0
AGREEMENT_F32, AGREEMENT_F64 = 1e-4, 1e-10
RESULTS = Path(__file__).resolve().parent / "results" / "ensemble.json"


def sequential(x, y, seeds, epochs, device, dtype, evaluate=False) -> list[ll.TwoLayerReLU]:
    """K ``ll.train`` runs, one after the other (each with a generator in the same initial state)."""
    nets = []
    for s in seeds:
        net = ll.TwoLayerReLU(x.shape[1], M, generator=torch.Generator().manual_seed(s), device=device, dtype=dtype)
        ll.train(net, x, y, lr=LR, epochs=epochs, batch_size=BATCH, C0=C0, constraint="stop",
                 generator=torch.Generator().manual_seed(1234), progress=False, evaluate=evaluate)
        nets.append(net)
    return nets


def batched(x, y, seeds, epochs, device, dtype, evaluate=False) -> ll.Ensemble:
    ens = ll.Ensemble(x.shape[1], M, generators=[torch.Generator().manual_seed(s) for s in seeds], device=device,
                      dtype=dtype)
    ll.train_ensemble(ens, x, y, lr=LR, epochs=epochs, batch_size=BATCH, C0=C0, constraint="stop",
                      generator=torch.Generator().manual_seed(1234), progress=False, evaluate=evaluate)
    return ens


def one_at_a_time(x, y, seeds, epochs, device, dtype) -> list[ll.Ensemble]:
    return [batched(x, y, [s], epochs, device, dtype) for s in seeds]


def matmul_rate(device: torch.device, n: int = 2048, repeats: int = 3) -> float:
    """The machine's own large-matmul rate (FLOP/s, float32), median of a few products."""
    g = torch.Generator().manual_seed(0)
    a = torch.randn(n, n, generator=g).to(device)
    b = torch.randn(n, n, generator=g).to(device)
    a @ b
    times = [timed(lambda: a @ b, device)[0] for _ in range(repeats)]
    return 2 * n**3 / statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default=None, help="default: ll.default_device()")
    parser.add_argument("--K", type=int, default=16, help="networks (default 16)")
    parser.add_argument("--epochs", type=int, default=10, help="epochs per network (default 10)")
    parser.add_argument("--repeats", type=int, default=5, help="interleaved timing rounds, median taken (default 5)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's default)")
    parser.add_argument("--output", default=str(RESULTS))
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device) if args.device else ll.default_device()
    start = time.perf_counter()
    x, y, _, _ = ll.data.mnist_pair((0, 1), size=D_SIZE, unit_norm=True, device=device)
    n, d = x.shape
    seeds = list(range(args.K))

    # Agreement first (float32 as timed, and float64 where only rounding can differ).
    ref = sequential(x, y, seeds, args.epochs, device, torch.float32)
    ens = batched(x, y, seeds, args.epochs, device, torch.float32)
    diff32 = max(float((ens.W[k].detach() - net.W.detach()).abs().max()) for k, net in enumerate(ref))
    x64, y64 = x.double(), y.double()
    ref64 = sequential(x64, y64, seeds[:4], 3, device, torch.float64)
    ens64 = batched(x64, y64, seeds[:4], 3, device, torch.float64)
    diff64 = max(float((ens64.W[k].detach() - net.W.detach()).abs().max()) for k, net in enumerate(ref64))

    load_before = machine_load()
    rounds: dict[str, list[float]] = {"sequential": [], "batched": [], "batched_one_at_a_time": [],
                                      "sequential_with_evaluation": [], "batched_with_evaluation": [], "matmul_flops": []}
    for _ in range(args.repeats):
        rounds["sequential"].append(timed(lambda: sequential(x, y, seeds, args.epochs, device, torch.float32), device)[0])
        rounds["batched"].append(timed(lambda: batched(x, y, seeds, args.epochs, device, torch.float32), device)[0])
        rounds["batched_one_at_a_time"].append(
            timed(lambda: one_at_a_time(x, y, seeds, args.epochs, device, torch.float32), device)[0])
        rounds["sequential_with_evaluation"].append(
            timed(lambda: sequential(x, y, seeds, args.epochs, device, torch.float32, True), device)[0])
        rounds["batched_with_evaluation"].append(
            timed(lambda: batched(x, y, seeds, args.epochs, device, torch.float32, True), device)[0])
        rounds["matmul_flops"].append(matmul_rate(device))
    load_after = machine_load()
    med = {k: statistics.median(v) for k, v in rounds.items()}
    speedup = med["sequential"] / med["batched"]

    # FLOPs of the matrix products of training: per network and epoch, the steps' forward and gradient
    # products 4·b·m·d summed over the batches (4·n·m·d); with the per-epoch evaluation of the loss and
    # accuracy one more pass 2·n·m·d. The stop rule needs only the deviation, so the gated comparison
    # trains without the evaluation (evaluate=False), the same work on both sides.
    flops = args.K * args.epochs * 4 * n * M * d
    flops_eval = args.K * args.epochs * 6 * n * M * d
    rate = {k: flops / med[k] for k in ("sequential", "batched", "batched_one_at_a_time")}
    rate.update({k: flops_eval / med[k] for k in ("sequential_with_evaluation", "batched_with_evaluation")})
    ceiling = med["sequential"] / (flops / med["matmul_flops"])

    checks = {
        "speedup_at_least_5": speedup >= SPEEDUP_TARGET,
        "float32_agreement": diff32 <= AGREEMENT_F32,
        "float64_agreement": diff64 <= AGREEMENT_F64,
    }
    result = {
        "benchmark": "ensemble",
        **environment(device),
        "setting": {"d": d, "m": M, "K": args.K, "batch_size": BATCH, "lr": LR, "C0": C0, "constraint": "stop",
                    "epochs": args.epochs, "n_train": n, "data": "MNIST 0 vs 1 (offline subset), 5x5, unit norm",
                    "dtype": "float32"},
        "timing_scheme": f"{args.repeats} interleaved rounds (sequential, batched, K=1 batched x K, matmul); medians",
        "timings_s": rounds,
        "median_s": med,
        "speedup": speedup,
        "speedup_target": SPEEDUP_TARGET,
        "max_weight_difference_float32": diff32,
        "max_weight_difference_float64": diff64,
        "flops_per_run": flops,
        "flops_per_run_with_evaluation": flops_eval,
        "achieved_flops_per_s": rate,
        "large_matmul_flops_per_s": med["matmul_flops"],
        "info_not_gated": {
            "speedup_with_the_per_epoch_evaluation": med["sequential_with_evaluation"] / med["batched_with_evaluation"],
            "speedup_of_batching_over_K1_batched_code": med["batched_one_at_a_time"] / med["batched"],
            "speedup_of_K1_batched_code_over_ll_train": med["sequential"] / med["batched_one_at_a_time"],
            "batched_fraction_of_large_matmul_rate": rate["batched"] / med["matmul_flops"],
            "sequential_fraction_of_large_matmul_rate": rate["sequential"] / med["matmul_flops"],
            "largest_speedup_possible_at_the_large_matmul_rate": ceiling,
        },
        "machine_load_before": load_before,
        "machine_load_after": load_after,
        "checks": checks,
        "pass": all(checks.values()),
        "wall_time_s": time.perf_counter() - start,
    }
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"{args.K} networks, d = {d}, m = {M}, batch {BATCH}, {args.epochs} epochs, {device.type}, "
          f"{torch.get_num_threads()} threads")
    print(f"  sequential ll.train x {args.K}: {med['sequential']:.3f} s ({rate['sequential'] / 1e9:.1f} GFLOP/s)")
    print(f"  batched ll.train_ensemble:    {med['batched']:.3f} s ({rate['batched'] / 1e9:.1f} GFLOP/s)")
    print(f"  batched code with K = 1, x {args.K}: {med['batched_one_at_a_time']:.3f} s (not gated)")
    print(f"  with the per-epoch loss evaluation: {med['sequential_with_evaluation']:.3f} s against "
          f"{med['batched_with_evaluation']:.3f} s (not gated)")
    print(f"  speed-up {speedup:.2f} (target {SPEEDUP_TARGET:g}); large-matmul rate {med['matmul_flops'] / 1e9:.1f} GFLOP/s, "
          f"so at most {ceiling:.1f} even at that rate")
    print(f"  agreement: float32 {diff32:.1e}, float64 {diff64:.1e}")
    print(f"  {'PASS' if result['pass'] else 'FAIL'}: " + ", ".join(f"{k}={v}" for k, v in checks.items()))
    print(f"  wrote {out}")
    return 0 if result["pass"] else 1


if __name__ == "__main__":
    sys.exit(main())
