"""Finding datasets: Hub listings written through to the local index, or the index alone offline.

The dataset twin of `ModelSearch` (`hftui.hub.models`). Everything here blocks on the network or disk: the UI
calls it from worker threads, the CLI directly.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice
from typing import TYPE_CHECKING, Any

from hftui.hub.index import DatasetRecord, ModelIndex
from hftui.hub.query import DatasetQuery

if TYPE_CHECKING:
    from huggingface_hub import DatasetInfo, HfApi

PAGE_SIZE = 50


@dataclass(frozen=True)
class DatasetPage:
    """One page of dataset search results and where it came from."""

    records: tuple[DatasetRecord, ...]
    source: str  # "hub" or "index"
    has_more: bool
    total: int | None = None  # known for index searches


class DatasetSearch:
    """A dataset search in progress: pages from the Hub (written through to the index) or from the index
    offline and for cached-only searches. Not thread-safe; one worker at a time calls `next_page`."""

    def __init__(
        self, query: DatasetQuery, *, index: ModelIndex, api: HfApi | None, page_size: int = PAGE_SIZE
    ) -> None:
        self.query = query
        self.index = index
        self.api = api
        self.page_size = page_size
        self._offset = 0
        self._hub_pages: Iterator[Any] | None = None
        self._exhausted = False

    @property
    def online(self) -> bool:
        """Whether this search asks the Hub (cached-only searches never do: the cache is local)."""
        return self.api is not None and not self.query.cached_only

    def next_page(self) -> DatasetPage:
        """Fetch the next page; raises the client's errors when the Hub fails (see explain_hub_error)."""
        if self._exhausted:
            return DatasetPage((), "hub" if self.online else "index", False)
        if not self.online:
            records = self.index.search(self.query, limit=self.page_size, offset=self._offset)
            self._offset += len(records)
            total = self.index.count(self.query)
            self._exhausted = self._offset >= total
            return DatasetPage(tuple(records), "index", not self._exhausted, total)
        assert self.api is not None
        if self._hub_pages is None:
            # full=True brings the card data (list_datasets has no cardData switch), so languages and
            # licences that only the card states reach the index too.
            self._hub_pages = iter(self.api.list_datasets(**self.query.to_hub_kwargs(), full=True))
        infos = list(islice(self._hub_pages, self.page_size))
        self._exhausted = len(infos) < self.page_size
        return DatasetPage(_written_through(self.index, infos), "hub", not self._exhausted)


def _written_through(index: ModelIndex, infos: list[DatasetInfo]) -> tuple[DatasetRecord, ...]:
    """Write Hub results to the index and read them back, so the local cache state is merged in."""
    index.upsert_dataset_infos(infos)
    records = (index.get_dataset(info.id) for info in infos)
    return tuple(record for record in records if record is not None)


def fetch_dataset_record(repo_id: str, *, api: HfApi, index: ModelIndex) -> DatasetRecord | None:
    """`HfApi.dataset_info` for one dataset, written through to the index (so it is found offline later);
    raises the client's errors."""
    info = api.dataset_info(repo_id)
    return _written_through(index, [info])[0] if info is not None else None
