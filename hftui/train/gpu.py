"""GPU utilisation and memory sampled with nvidia-smi while a run trains, as `gpu` events.

nvidia-smi sees every process on the GPU (torch's own counters only see this one), and asking it every few
seconds costs nothing measurable; a machine without it simply gets no `gpu` events.
"""

from __future__ import annotations

import threading
from typing import Any

from hftui.device import nvidia_smi_available, nvidia_smi_rows, query_nvidia_smi
from hftui.train.events import EventWriter

QUERY = ("index", "utilization.gpu", "memory.used", "memory.total", "temperature.gpu", "power.draw")
MIB = 1024**2


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None  # "[N/A]", "[Not Supported]"


def parse_gpu_sample(output: str) -> list[dict[str, Any]]:
    """Rows of `nvidia-smi --query-gpu=QUERY --format=csv,noheader,nounits` as dicts (memory in bytes)."""
    return _samples(nvidia_smi_rows(output))


def _samples(rows: list[list[str]]) -> list[dict[str, Any]]:
    devices = []
    for parts in rows:
        if len(parts) < 4 or not parts[0].isdigit():
            continue
        used, total = _number(parts[2]), _number(parts[3])
        devices.append(
            {
                "index": int(parts[0]),
                "utilization": _number(parts[1]),
                "memory_used": int(used * MIB) if used is not None else None,
                "memory_total": int(total * MIB) if total is not None else None,
                "temperature": _number(parts[4]) if len(parts) > 4 else None,
                "power_w": _number(parts[5]) if len(parts) > 5 else None,
            }
        )
    return devices


def sample_gpus(timeout: float = 5.0) -> list[dict[str, Any]]:
    """One nvidia-smi sample of every GPU ([] without nvidia-smi or when it fails)."""
    return _samples(query_nvidia_smi(QUERY, timeout))


class GpuSampler:
    """A daemon thread writing a `gpu` event every `interval` seconds until `stop()`."""

    def __init__(self, writer: EventWriter, step: Any, interval: float = 5.0) -> None:
        self.writer = writer
        self.step = step  # a callable giving the current optimizer step
        self.interval = interval
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="hftui-gpu-sampler", daemon=True)

    @staticmethod
    def available() -> bool:
        """Whether nvidia-smi is on PATH."""
        return nvidia_smi_available()

    def start(self) -> GpuSampler:
        """Start sampling (the first sample at once)."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop sampling."""
        self._stopped.set()

    def _run(self) -> None:
        while not self._stopped.is_set():
            devices = sample_gpus()
            if devices:
                try:
                    self.writer.write("gpu", self.step(), devices=devices)
                except OSError:
                    return
            self._stopped.wait(self.interval)
