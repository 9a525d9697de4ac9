"""Which compute device this machine offers, found without importing torch.

The status line needs the answer at startup, where importing torch would cost seconds and hundreds of
megabytes; `nvidia-smi` answers for CUDA (and can be asked again for live memory), the platform for MPS.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass

GIB = 1024**3


@dataclass(frozen=True)
class ComputeDevice:
    """A device inference and training can run on, with its memory where known."""

    kind: str  # "cuda", "mps" or "cpu"
    name: str
    total_memory: int | None = None
    used_memory: int | None = None
    capability: str | None = None
    count: int = 1

    @property
    def label(self) -> str:
        """Short text for the status line, e.g. `CUDA NVIDIA H100 3.1/79.6 GiB`."""
        if self.kind == "cuda":
            memory = ""
            if self.total_memory:
                used = f"{self.used_memory / GIB:.1f}/" if self.used_memory is not None else ""
                memory = f" {used}{self.total_memory / GIB:.1f} GiB"
            many = f" x{self.count}" if self.count > 1 else ""
            return f"CUDA {self.name}{many}{memory}"
        if self.kind == "mps":
            return f"MPS {self.name}"
        memory = f", {self.total_memory / GIB:.0f} GiB" if self.total_memory else ""
        return f"CPU {self.count} cores{memory}"


# What detect_device asks nvidia-smi for, in the order parse_nvidia_smi reads it.
DEVICE_QUERY = ("name", "memory.total", "memory.used", "compute_cap")


def nvidia_smi_available() -> bool:
    """Whether nvidia-smi is on PATH (a machine without it has no CUDA device hftui can see)."""
    return shutil.which("nvidia-smi") is not None


def nvidia_smi_rows(output: str) -> list[list[str]]:
    """Each line of nvidia-smi's `--format=csv,noheader,nounits` output as its stripped fields."""
    return [[part.strip() for part in line.split(",")] for line in output.strip().splitlines()]


def query_nvidia_smi(fields: Sequence[str], timeout: float = 5.0) -> list[list[str]]:
    """Run `nvidia-smi --query-gpu=FIELDS` and give each GPU's values, in the order of `fields`; [] without
    nvidia-smi or when it fails or times out. The one place hftui runs nvidia-smi (device, training samples)."""
    executable = shutil.which("nvidia-smi")
    if executable is None:
        return []
    try:
        result = subprocess.run(
            [executable, f"--query-gpu={','.join(fields)}", "--format=csv,noheader,nounits"],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return []
    return nvidia_smi_rows(result.stdout) if result.returncode == 0 else []


def parse_nvidia_smi(output: str) -> list[ComputeDevice]:
    """Parse the CSV of `nvidia-smi --query-gpu=name,memory.total,memory.used,compute_cap`."""
    return _cuda_devices(nvidia_smi_rows(output))


def _cuda_devices(rows: list[list[str]]) -> list[ComputeDevice]:
    devices = []
    for parts in rows:
        if len(parts) < 3 or not parts[0]:
            continue
        capability = parts[3] if len(parts) > 3 and parts[3] not in ("", "[N/A]") else None
        devices.append(ComputeDevice("cuda", parts[0], _mib(parts[1]), _mib(parts[2]), capability))
    return devices


def _mib(value: str) -> int | None:
    return int(float(value) * 1024**2) if value.replace(".", "", 1).isdigit() else None


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _system_memory() -> int | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def detect_device(timeout: float = 5.0) -> ComputeDevice:
    """The best device here: the first CUDA GPU (with the GPU count), else Apple MPS, else the CPU."""
    gpus = _cuda_devices(query_nvidia_smi(DEVICE_QUERY, timeout))
    if gpus:
        first = gpus[0]
        return ComputeDevice(first.kind, first.name, first.total_memory, first.used_memory, first.capability, len(gpus))
    if platform.system() == "Darwin" and platform.machine() == "arm64":
        return ComputeDevice("mps", "Apple silicon", _system_memory())
    return ComputeDevice("cpu", _cpu_name(), _system_memory(), count=os.cpu_count() or 1)
