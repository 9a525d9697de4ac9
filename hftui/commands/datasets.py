"""`hftui datasets` and `hftui sync datasets`: the Datasets screen's search, headless."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict

from hftui.commands.models import QueryError, first_page, run_sync
from hftui.hub.catalog.query import DATASET_SORTS, DatasetQuery

__all__ = ["QueryError", "query_from_args", "run_datasets", "run_sync_datasets"]

# --filter keys as people may write them, to the DatasetQuery field they set.
_FILTER_KEYS = {
    "task": "task_category",
    "task_category": "task_category",
    "task_categories": "task_category",
    "modality": "modality",
    "size": "size_category",
    "size_category": "size_category",
    "size_categories": "size_category",
    "language": "language",
    "license": "license",
    "author": "author",
}


def query_from_args(args: argparse.Namespace) -> DatasetQuery:
    """Build a DatasetQuery from --search, --filter KEY=VALUE and --sort."""
    if args.sort not in DATASET_SORTS:
        raise QueryError(f"unknown sort {args.sort!r}; choose from {', '.join(DATASET_SORTS)}")
    changes: dict[str, object] = {"text": args.search, "sort": args.sort}
    for item in args.filter:
        key, _, value = item.partition("=")
        key, value = key.strip().lower().replace("-", "_"), value.strip()
        if not value:
            raise QueryError(f"--filter {item!r}: expected KEY=VALUE")
        if key in _FILTER_KEYS:
            changes[_FILTER_KEYS[key]] = value
        elif key == "cached":
            changes["cached_only"] = value.lower() in ("yes", "true", "1")
        else:
            raise QueryError(f"--filter {item!r}: unknown key {key!r}")
    return DatasetQuery().replace(**changes)


def run_datasets(args: argparse.Namespace) -> int:
    """Print dataset search results as a table or JSON lines; falls back to the index when the Hub fails."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from hftui.hub.cards.licenses import license_terms
    from hftui.hub.catalog.datasets import DatasetSearch
    from hftui.hub.plain_text import printable
    from hftui.humanize import human_count, relative_time

    page = first_page(DatasetSearch, query_from_args(args), offline=args.offline, limit=args.limit)
    if args.json:
        for record in page.records:
            print(json.dumps(asdict(record) | {"card_text": None, "license": record.license}, default=str))
        return 0
    where = "Hub" if page.source == "hub" else "local index"
    table = Table(title=f"{len(page.records)} datasets from the {where}")
    widest_id = max((len(record.repo_id) for record in page.records), default=10)
    table.add_column("Dataset", no_wrap=True, min_width=min(widest_id, 40))
    for column in ("Tasks", "Modality", "Size", "Licence", "Downloads", "Likes", "Updated", "Cached"):
        table.add_column(column, no_wrap=True)
    for record in page.records:
        values = (
            record.repo_id,
            ", ".join(record.task_categories) or "-",
            ", ".join(record.modalities) or "-",
            ", ".join(record.size_categories) or "-",
            license_terms(record.license).badge,
            human_count(record.downloads),
            human_count(record.likes),
            relative_time(record.last_modified),
            "cached" if record.is_cached else "remote",
        )
        table.add_row(*(Text(printable(value, single_line=True)) for value in values))
    Console().print(table)
    return 0


def run_sync_datasets(args: argparse.Namespace) -> int:
    """Copy Hub dataset listings into the index with a progress bar; exit 1 when the Hub fails."""
    from hftui.hub.catalog.sync import sync_datasets
    from hftui.hub.index import RepoIndex

    return run_sync(query_from_args(args), args, noun="datasets", sync=sync_datasets, held=RepoIndex.dataset_count)
