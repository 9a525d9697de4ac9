"""What a job reports about the device it ran on: peak memory, the device's name, and giving memory back.

torch is asked only when a job has already imported it (through its pipelines), so reading these facts never
loads torch by itself.
"""

from __future__ import annotations

import os
import platform
import sys


def reset_peak_memory(device: str) -> None:
    """Start counting peak GPU memory afresh for this job (nothing to do off CUDA)."""
    if device.startswith("cuda"):
        import torch

        torch.cuda.reset_peak_memory_stats(device)


def peak_memory(device: str) -> int | None:
    """torch's peak allocation on a CUDA device, else the process's peak resident size, in bytes."""
    if device.startswith("cuda") and "torch" in sys.modules:
        import torch

        return int(torch.cuda.max_memory_allocated(device))
    try:
        import resource
    except ImportError:  # Windows
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak if platform.system() == "Darwin" else peak * 1024)  # bytes on macOS, KiB on Linux


def device_name(device: str) -> str | None:
    """The device in words for a report: the GPU's name, "Apple MPS" or "CPU, N threads"."""
    if device.startswith("cuda") and "torch" in sys.modules:
        import torch

        return str(torch.cuda.get_device_name(device))
    if device == "mps":
        return "Apple MPS"
    if device == "cpu":
        threads = sys.modules["torch"].get_num_threads() if "torch" in sys.modules else os.cpu_count()
        return f"CPU, {threads} threads"
    return None


def release_device_memory() -> None:
    """Give torch's cached GPU memory back after an out-of-memory error, so the next try has it."""
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        torch.cuda.empty_cache()
