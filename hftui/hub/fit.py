"""Will a model fit on this device? Weight memory per precision against the memory the device offers."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from hftui.device import ComputeDevice

# Bytes per parameter at each precision the browser shows.
PRECISIONS: dict[str, float] = {"fp32": 4, "bf16": 2, "int8": 1, "int4": 0.5}

# Inference needs the weights plus room for activations and the KV cache. With short prompts and batch 1
# that is roughly a fifth of the weights; long contexts, big batches and training need far more, so the
# verdict is a first filter, not a promise.
DEFAULT_OVERHEAD = 1.2
# Within the last ~15% of the memory a model loads but leaves little room (other processes, fragmentation,
# longer prompts): "tight".
TIGHT_SHARE = 0.15
# Metal lets the GPU wire only part of unified memory (recommendedMaxWorkingSetSize is about 3/4 of RAM on
# Apple silicon); the rest stays with macOS and other apps.
MPS_USABLE_SHARE = 0.75


@dataclass(frozen=True)
class MemoryFit:
    """How much memory one precision needs and whether the device has it."""

    precision: str
    bytes_needed: int
    verdict: str  # "fits", "tight", "does not fit" or "unknown"


def available_memory(device: ComputeDevice | None) -> int | None:
    """Bytes a model can use on `device`: free GPU memory, usable unified memory, or system RAM."""
    if device is None or not device.total_memory:
        return None
    if device.kind == "cuda":
        # One GPU: sharding across several needs device_map="auto" and is not assumed here.
        if device.used_memory is not None:
            return max(device.total_memory - device.used_memory, 0)
        return device.total_memory
    if device.kind == "mps":
        return int(device.total_memory * MPS_USABLE_SHARE)
    return device.total_memory


def memory_fits(
    parameters: int | None, device: ComputeDevice | None, *, overhead: float = DEFAULT_OVERHEAD
) -> tuple[MemoryFit, ...]:
    """One verdict per precision in PRECISIONS for a model of `parameters` parameters on `device`."""
    available = available_memory(device)
    fits: list[MemoryFit] = []
    for precision, bytes_per_parameter in PRECISIONS.items():
        if parameters is None or parameters <= 0:
            fits.append(MemoryFit(precision, 0, "unknown"))
            continue
        needed = int(parameters * bytes_per_parameter * overhead)
        fits.append(MemoryFit(precision, needed, _verdict(needed, available)))
    return tuple(fits)


def _verdict(needed: int, available: int | None) -> str:
    if available is None:
        return "unknown"
    if needed <= available * (1 - TIGHT_SHARE):
        return "fits"
    if needed <= available:
        return "tight"
    return "does not fit"


def fit_label(fits: Iterable[MemoryFit]) -> str:
    """A short verdict for the browser column: "bf16 fits", "int4 tight", "too big" or "?"."""
    fits = tuple(fits)
    # fp32 fitting implies bf16 fits, and bf16 is how models are normally run, so it names the label.
    candidates = [fit for fit in fits if fit.precision != "fp32"] or list(fits)
    if not candidates or all(fit.verdict == "unknown" for fit in candidates):
        return "?"
    for verdict in ("fits", "tight"):
        for fit in candidates:
            if fit.verdict == verdict:
                return f"{fit.precision} {verdict}"
    return "too big"
