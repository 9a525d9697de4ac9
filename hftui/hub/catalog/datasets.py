"""Finding datasets: Hub listings written through to the local index, or the index alone offline.

The dataset twin of `ModelSearch` (`hftui.hub.catalog.models`). Everything here blocks on the network or disk: the UI
calls it from worker threads, the CLI directly.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from hftui.hub.catalog.query import DatasetQuery
from hftui.hub.catalog.search import RepoSearch
from hftui.hub.index import DatasetRecord, RepoIndex

if TYPE_CHECKING:
    from huggingface_hub import DatasetInfo, HfApi


class DatasetSearch(RepoSearch[DatasetQuery, DatasetRecord]):
    """A dataset search in progress: pages from the Hub (written through to the index) or from the index
    offline and for cached-only searches. Not thread-safe; one worker at a time calls `next_page`."""

    def _index_page(self, offset: int) -> tuple[DatasetRecord, ...]:
        return tuple(self.index.search(self.query, limit=self.page_size, offset=offset))

    def _hub_listing(self, api: HfApi) -> Iterable[Any]:
        # full=True brings the card data (list_datasets has no cardData switch), so languages and
        # licences that only the card states reach the index too.
        return api.list_datasets(**self.query.to_hub_kwargs(), full=True)

    def _written_through(self, infos: list[Any]) -> tuple[DatasetRecord, ...]:
        return _written_through(self.index, infos)


def _written_through(index: RepoIndex, infos: list[DatasetInfo]) -> tuple[DatasetRecord, ...]:
    """Write Hub results to the index and read them back, so the local cache state is merged in."""
    index.upsert_dataset_infos(infos)
    records = (index.get_dataset(info.id) for info in infos)
    return tuple(record for record in records if record is not None)


def fetch_dataset_record(repo_id: str, *, api: HfApi, index: RepoIndex) -> DatasetRecord | None:
    """`HfApi.dataset_info` for one dataset, written through to the index (so it is found offline later);
    raises the client's errors."""
    info = api.dataset_info(repo_id)
    return _written_through(index, [info])[0] if info is not None else None
