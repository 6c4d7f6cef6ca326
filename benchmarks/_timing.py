"""Timing helpers shared by the benchmarks: synchronised wall-clock timing and the machine's load."""

from __future__ import annotations

import datetime
import os
import platform
import time
from pathlib import Path
from typing import Any

import torch


def environment(device: torch.device) -> dict[str, Any]:
    """What a result was measured with: date, versions, platform, device, threads and cores."""
    import lazylib

    return {
        "date": datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat(),
        "torch_version": torch.__version__,
        "lazylib_version": lazylib.__version__,
        "python_version": platform.python_version(),
        "platform": platform.platform(),
        "device_type": device.type,
        "device_name": (torch.cuda.get_device_name(device) if device.type == "cuda"
                        else platform.processor() or platform.machine()),
        "threads": torch.get_num_threads(),
        "cpu_count": os.cpu_count(),
    }


def sync(device: torch.device) -> None:
    """Wait for queued CUDA work, so a timing covers the computation and not just its launch."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(fn: Any, device: torch.device) -> tuple[float, Any]:
    """Seconds ``fn()`` took on ``device``, and what it returned."""
    sync(device)
    t0 = time.perf_counter()
    out = fn()
    sync(device)
    return time.perf_counter() - t0, out


def machine_load() -> dict[str, Any]:
    """Load average and (where the kernel reports it) CPU pressure. Other work slows batched,
    multi-threaded code far more than one-row Python loops, so the benchmarks record it beside
    every ratio they report."""
    out: dict[str, Any] = {}
    try:
        out["loadavg_1min"] = os.getloadavg()[0]
    except (AttributeError, OSError):
        pass
    try:
        line = Path("/proc/pressure/cpu").read_text().splitlines()[0]
        out["cpu_pressure_some_avg10"] = float(line.split("avg10=")[1].split()[0])
    except (OSError, IndexError, ValueError):
        pass
    return out
