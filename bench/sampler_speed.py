"""Streaming sampler speed: hftui's `stream_sample` against plain `load_dataset(streaming=True).take(n)`.

Writes a ~1 GB Parquet file and a ~1 GB JSON Lines file of synthetic review rows (text, label, score,
created) once under `bench/out/` (kept for later runs), then for each file and each n, alternately:

* the baseline: `datasets.load_dataset(<builder>, data_files=..., split="train", streaming=True).take(n)`,
  iterated to the end;
* hftui: `hftui.data.sampler.stream_sample(SampleSource("local", path), SampleOptions(n=n))`, every batch
  consumed, exactly as the preview screen's worker does.

Both are timed from the call that opens the stream, in one process, in alternating order. It reports the
medians of time to first row and rows per second, and the ratio hftui/baseline.
Goal (issue 4): hftui within 10% of the plain library, first row under 1 s.

    python bench/sampler_speed.py [--size-mb 1024] [--runs 5] [--rows 1000,20000]

Prints figures only; nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

OUT = Path(__file__).resolve().parent / "out"
WORDS = (
    "great terrible fine plot acting music scene film story boring brilliant slow fast ending actor director "
    "script camera light sound character moment dialogue tension humour drama long short visual effects"
).split()


def _rows(count: int, start: int, rng) -> dict[str, list]:
    """`count` synthetic review rows as columns: text of 20-60 words, a label 0-4, a score and a date."""
    lengths = rng.integers(20, 60, size=count)
    picks = rng.integers(0, len(WORDS), size=int(lengths.sum()))
    texts, at = [], 0
    for length in lengths:
        texts.append(" ".join(WORDS[i] for i in picks[at : at + length]))
        at += length
    return {
        "id": list(range(start, start + count)),
        "text": texts,
        "label": rng.integers(0, 5, size=count).tolist(),
        "score": rng.random(count).round(4).tolist(),
        "created": [f"2026-{1 + i % 12:02d}-{1 + i % 28:02d}" for i in range(start, start + count)],
    }


def write_files(size_mb: int) -> tuple[Path, Path]:
    """The Parquet and JSONL files of about `size_mb` MB each (written once, reused while the size matches)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    OUT.mkdir(parents=True, exist_ok=True)
    parquet, jsonl = OUT / f"reviews-{size_mb}mb.parquet", OUT / f"reviews-{size_mb}mb.jsonl"
    target = size_mb * 1024 * 1024
    rng = np.random.default_rng(0)
    chunk = 50_000
    if not jsonl.exists():
        partial = jsonl.with_suffix(".partial")
        start = 0
        with partial.open("w", encoding="utf-8") as handle:
            while handle.tell() < target:
                columns = _rows(chunk, start, rng)
                for i in range(chunk):
                    handle.write(json.dumps({name: values[i] for name, values in columns.items()}) + "\n")
                start += chunk
        partial.rename(jsonl)
        print(f"wrote {jsonl.name}: {jsonl.stat().st_size / 2**20:,.0f} MB, {start:,} rows", file=sys.stderr)
    if not parquet.exists():
        partial = parquet.with_suffix(".partial")
        start = 0
        # Row groups go to disk as they are written, so the file's size tells when to stop.
        with pq.ParquetWriter(partial, pa.table(_rows(1, 0, rng)).schema) as writer:
            while partial.stat().st_size < target:
                writer.write_table(pa.table(_rows(chunk, start, rng)), row_group_size=chunk)
                start += chunk
        partial.rename(parquet)
        print(f"wrote {parquet.name}: {parquet.stat().st_size / 2**20:,.0f} MB, {start:,} rows", file=sys.stderr)
    return parquet, jsonl


def baseline(path: Path, builder: str, n: int) -> tuple[float, float]:
    """Plain datasets: seconds to the first row and rows per second for n rows."""
    import datasets

    started = time.perf_counter()
    stream = datasets.load_dataset(builder, data_files={"train": [str(path)]}, split="train", streaming=True)
    first_at, count = None, 0
    for _row in stream.take(n):
        if first_at is None:
            first_at = time.perf_counter()
        count += 1
    elapsed = time.perf_counter() - started
    assert count == n, (count, n)
    return first_at - started, count / elapsed


def hftui_sampler(path: Path, _builder: str, n: int) -> tuple[float, float]:
    """hftui's sampler as the preview screen uses it: seconds to the first row and rows per second."""
    from hftui.data.sampler import SampleOptions, SampleSource, stream_sample

    started = time.perf_counter()
    first_at, count = None, 0
    for batch in stream_sample(SampleSource("local", str(path)), SampleOptions(n=n)):
        if first_at is None and batch.rows:
            first_at = time.perf_counter()
        count += len(batch.rows)
    elapsed = time.perf_counter() - started
    assert count == n, (count, n)
    return first_at - started, count / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mb", type=int, default=1024)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--rows", default="1000,20000", help="comma-separated sample sizes")
    args = parser.parse_args()
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    parquet, jsonl = write_files(args.size_mb)
    sizes = [int(value) for value in args.rows.split(",")]
    # One untimed pass each so that imports and the builder modules' first load are not counted.
    baseline(jsonl, "json", 10)
    hftui_sampler(jsonl, "json", 10)
    print(f"{'file':<8} {'n':>6}  {'':<9} {'first row':>10} {'rows/s':>10}")
    for path, builder in ((parquet, "parquet"), (jsonl, "json")):
        size = f"{path.stat().st_size / 2**20:,.0f} MB"
        for n in sizes:
            results: dict[str, list[tuple[float, float]]] = {"baseline": [], "hftui": []}
            for run in range(args.runs):
                order = (("baseline", baseline), ("hftui", hftui_sampler))
                for name, runner in order if run % 2 == 0 else order[::-1]:
                    results[name].append(runner(path, builder, n))
            medians = {
                name: (statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs))
                for name, runs in results.items()
            }
            for name in ("baseline", "hftui"):
                first, speed = medians[name]
                print(f"{builder:<8} {n:>6}  {name:<9} {first * 1000:>8.0f}ms {speed:>10,.0f}")
            ratio_first = medians["hftui"][0] / medians["baseline"][0]
            ratio_speed = medians["hftui"][1] / medians["baseline"][1]
            goal = ratio_speed >= 0.9 and medians["hftui"][0] < 1.0
            print(
                f"{builder:<8} {n:>6}  ratio     first row x{ratio_first:.2f}, rows/s x{ratio_speed:.2f} "
                f"({size}; goal: rows/s >= x0.90 and first row < 1 s -> {'met' if goal else 'NOT met'})"
            )


if __name__ == "__main__":
    main()
