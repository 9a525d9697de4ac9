"""Local dataset folders: plain files on disk that `datasets.load_dataset` can read."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hftui.hub.cards.text import read_card

# File endings the datasets library's packaged builders read, and the builder that reads them.
DATA_FORMATS = {
    ".csv": "csv",
    ".tsv": "csv",
    ".jsonl": "json",
    ".json": "json",
    ".parquet": "parquet",
    ".txt": "text",
    ".arrow": "arrow",
    ".png": "imagefolder",
    ".jpg": "imagefolder",
    ".jpeg": "imagefolder",
    ".webp": "imagefolder",
    ".gif": "imagefolder",
    ".wav": "audiofolder",
    ".flac": "audiofolder",
    ".mp3": "audiofolder",
}


@dataclass(frozen=True)
class LocalDataset:
    """A folder of data files, described for a list."""

    name: str
    path: Path
    formats: tuple[str, ...]
    size_on_disk: int
    last_modified: float
    data_files: tuple[Path, ...]
    license: str | None = None
    card_path: Path | None = None


def describe_folder(folder: Path) -> LocalDataset | None:
    """Describe one folder if it holds data files (searched recursively), else None."""
    data_files = tuple(
        sorted(path for path in folder.rglob("*") if path.is_file() and path.suffix.lower() in DATA_FORMATS)
    )
    if not data_files:
        return None
    stats = [path.stat() for path in data_files]
    card_path = folder / "README.md"
    card = read_card(card_path) if card_path.is_file() else None
    return LocalDataset(
        name=folder.name,
        path=folder,
        formats=tuple(sorted({DATA_FORMATS[path.suffix.lower()] for path in data_files})),
        size_on_disk=sum(stat.st_size for stat in stats),
        last_modified=max(stat.st_mtime for stat in stats),
        data_files=data_files,
        license=(card.get_text("license") or card.get_text("licenses")) if card else None,
        card_path=card_path if card else None,
    )


def find_local_datasets(root: Path) -> tuple[LocalDataset, ...]:
    """Each direct sub-folder of `root` that holds data files; a missing root gives none."""
    if not root.is_dir():
        return ()
    found = (describe_folder(folder) for folder in sorted(root.iterdir()) if folder.is_dir())
    return tuple(dataset for dataset in found if dataset is not None)
