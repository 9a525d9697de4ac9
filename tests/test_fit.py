"""Memory verdicts per precision for synthetic devices."""

from __future__ import annotations

from hftui.device import GIB, ComputeDevice
from hftui.hub.fit import PRECISIONS, MemoryFit, available_memory, fit_label, memory_fits

H100 = ComputeDevice("cuda", "NVIDIA H100", total_memory=80 * GIB, used_memory=0)
BUSY_4090 = ComputeDevice("cuda", "RTX 4090", total_memory=24 * GIB, used_memory=8 * GIB)
LAPTOP_CPU = ComputeDevice("cpu", "laptop", total_memory=16 * GIB, count=8)
MAC = ComputeDevice("mps", "Apple silicon", total_memory=32 * GIB)


def verdicts(fits: tuple[MemoryFit, ...]) -> dict[str, str]:
    return {fit.precision: fit.verdict for fit in fits}


def test_bytes_needed_include_the_overhead() -> None:
    fits = memory_fits(1_000_000_000, H100)
    assert [fit.precision for fit in fits] == list(PRECISIONS)
    assert {fit.precision: fit.bytes_needed for fit in fits} == {
        "fp32": 4_800_000_000,
        "bf16": 2_400_000_000,
        "int8": 1_200_000_000,
        "int4": 600_000_000,
    }
    assert memory_fits(1_000_000_000, H100, overhead=1.0)[1].bytes_needed == 2_000_000_000


def test_small_model_fits_everywhere_on_an_h100() -> None:
    fits = memory_fits(8_000_000_000, H100)  # 8B: bf16 needs ~19 GB
    assert verdicts(fits) == {"fp32": "fits", "bf16": "fits", "int8": "fits", "int4": "fits"}
    assert fit_label(fits) == "bf16 fits"


def test_free_gpu_memory_counts_not_total() -> None:
    assert available_memory(BUSY_4090) == 16 * GIB
    fits = memory_fits(8_000_000_000, BUSY_4090)  # bf16 19.2 GB > 16 GiB (17.2 GB) free
    assert verdicts(fits) == {"fp32": "does not fit", "bf16": "does not fit", "int8": "fits", "int4": "fits"}
    assert fit_label(fits) == "int8 fits"
    unknown_use = ComputeDevice("cuda", "GPU", total_memory=24 * GIB)
    assert available_memory(unknown_use) == 24 * GIB


def test_tight_within_the_last_fifteen_percent() -> None:
    # 70B at int4 needs 42 GB; on 40 GiB (42.9 GB) that is within the last 15%.
    a100 = ComputeDevice("cuda", "A100 40GB", total_memory=40 * GIB, used_memory=0)
    fits = memory_fits(70_000_000_000, a100)
    assert verdicts(fits)["int4"] == "tight"
    assert verdicts(fits)["int8"] == "does not fit"
    assert fit_label(fits) == "int4 tight"


def test_too_big_and_cpu_uses_system_ram() -> None:
    fits = memory_fits(70_000_000_000, LAPTOP_CPU)
    assert set(verdicts(fits).values()) == {"does not fit"}
    assert fit_label(fits) == "too big"
    assert fit_label(memory_fits(1_000_000_000, LAPTOP_CPU)) == "bf16 fits"


def test_mps_counts_the_share_of_unified_memory_the_gpu_may_use() -> None:
    assert available_memory(MAC) == 24 * GIB
    fits = memory_fits(13_000_000_000, MAC)  # bf16 31.2 GB > 25.8 GB usable; int8 15.6 GB fits
    assert verdicts(fits)["bf16"] == "does not fit" and verdicts(fits)["int8"] == "fits"


def test_unknowns() -> None:
    assert fit_label(memory_fits(None, H100)) == "?"
    assert set(verdicts(memory_fits(None, H100)).values()) == {"unknown"}
    assert fit_label(memory_fits(1_000_000, None)) == "?"
    no_memory = ComputeDevice("cpu", "mystery", total_memory=None)
    assert set(verdicts(memory_fits(1_000_000, no_memory)).values()) == {"unknown"}
    assert fit_label(()) == "?"
