"""Pilot tests of the Datasets browser against the local Hub: search, filters, sorts, cached only, offline."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from huggingface_hub import snapshot_download

from hftui.app import HfTuiApp
from hftui.hub.settings import HubSettings, read_token_status
from hftui.localhub import LocalHub
from hftui.ui.browse.datasets import HUB_KEY, LOCAL_KEY, DatasetsScreen
from hftui.ui.browse.filter_picker import FilterPickerScreen
from tests.pilot import wait_until
from tests.test_dataset_index import N_DATASETS, build_dataset_hub

CACHED = "org0/reviews-set-00"


@pytest.fixture
def dataset_hub() -> Iterator[LocalHub]:
    hub = build_dataset_hub()
    hub.start()
    yield hub
    hub.stop()


def make_app(hub: LocalHub, cache: Path) -> HfTuiApp:
    return HfTuiApp(HubSettings(hub.url, cache.parent, cache, False, read_token_status()))


async def opened(pilot) -> DatasetsScreen:
    """Switch to the Datasets screen and wait for the first Hub page."""
    await pilot.press("d")
    screen = pilot.app.screen
    assert isinstance(screen, DatasetsScreen)
    await wait_until(pilot, lambda: screen.source == "hub" and not screen.loading and screen.records)
    return screen


async def settled(pilot, screen: DatasetsScreen, condition) -> None:
    await wait_until(pilot, lambda: condition() and not screen.loading)


def write_local_folder(hftui_home: Path) -> Path:
    folder = hftui_home / "demo" / "datasets" / "my-reviews"
    folder.mkdir(parents=True)
    (folder / "rows.jsonl").write_text('{"text": "fine"}\n')
    (folder / "README.md").write_text("---\nlicense: mit\n---\n# My reviews\n")
    return folder


async def test_search_sorts_paging_and_local_rows(dataset_hub: LocalHub, tmp_path: Path, hftui_home: Path) -> None:
    folder = write_local_folder(hftui_home)
    app = make_app(dataset_hub, tmp_path / "hub")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await opened(pilot)
        table = screen.query_one("#datasets-table")
        assert len(screen.records) == 50 and screen.has_more
        await wait_until(pilot, lambda: LOCAL_KEY + str(folder) in table.rows)
        await pilot.press("G")
        await settled(pilot, screen, lambda: len(screen.records) == N_DATASETS)

        keys = {
            "likes": lambda r: r.likes,
            "downloads": lambda r: r.downloads,
            "updated": lambda r: r.last_modified,
            "trending": lambda r: r.trending_score,
        }
        for _ in keys:
            await pilot.press("s")
            sort = screen.query_value.sort
            await settled(pilot, screen, lambda sort=sort: screen.query_value.sort == sort)
            values = [keys[sort](record) for record in screen.records]
            assert len(values) == 50 and values == sorted(values, reverse=True), sort

        await pilot.press("slash", *"photos")
        await settled(pilot, screen, lambda: screen.query_value.text == "photos")
        assert len(screen.records) == N_DATASETS // 4
        assert all("photos" in record.repo_id for record in screen.records)
        assert LOCAL_KEY + str(folder) not in table.rows  # the local folder's name does not match
        await pilot.press(*["backspace"] * 6, *"my-rev")
        await settled(pilot, screen, lambda: screen.query_value.text == "my-rev")
        assert next(iter(table.rows)).value == LOCAL_KEY + str(folder)

        # Enter on a local folder streams a preview; i shows its card.
        from hftui.ui.browse.dataset_preview import DatasetPreviewScreen
        from hftui.ui.browse.repo_card import RepoCardScreen

        await pilot.press("enter")  # leave the search box
        table.move_cursor(row=0)
        await pilot.press("i")
        await wait_until(pilot, lambda: isinstance(app.screen, RepoCardScreen))
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is screen)
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, DatasetPreviewScreen) and not app.screen.streaming)
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is screen)

        # C opens the converter with the local folder's data files already read (listed in its worker).
        from hftui.ui.training.convert import ConvertScreen

        await pilot.press("C")
        await wait_until(pilot, lambda: isinstance(app.screen, ConvertScreen) and app.screen.plan.schemas)
        assert [schema.path.name for schema in app.screen.plan.schemas] == ["rows.jsonl"]


async def test_every_facet_filters(dataset_hub: LocalHub, tmp_path: Path) -> None:
    app = make_app(dataset_hub, tmp_path / "hub")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await opened(pilot)
        await pilot.press("G")
        await settled(pilot, screen, lambda: len(screen.records) == N_DATASETS)
        # position in the picker, typed value, the query field, the value, its count, and how a record shows it
        cases = [
            (0, "transl", "task_category", "translation", 15, lambda r: "translation" in r.task_categories),
            (1, "audio", "modality", "audio", 15, lambda r: "audio" in r.modalities),
            (2, "10k", "size_category", "10K<n<100K", 20, lambda r: "10K<n<100K" in r.size_categories),
            (3, "zh", "language", "zh", 12, lambda r: "zh" in r.languages),
            (4, "odc", "license", "odc-by", 15, lambda r: r.license == "odc-by"),
            (5, "org2", "author", "org2", 20, lambda r: r.author == "org2"),
        ]
        for downs, typed, field, value, count, shown in cases:
            await pilot.press("x", "f")
            await wait_until(pilot, lambda: isinstance(app.screen, FilterPickerScreen))
            await pilot.press(*(["down"] * downs), "enter")
            picker = app.screen
            await wait_until(pilot, lambda picker=picker: bool(picker.values))
            assert (value, count) in picker.values, field  # counted from the index the listing wrote
            await pilot.press(*typed, "enter")
            await wait_until(
                pilot,
                lambda field=field, value=value: (
                    isinstance(app.screen, DatasetsScreen)
                    and getattr(screen.query_value, field) == value
                    and not screen.loading
                ),
            )
            assert len(screen.records) == count, field
            assert all(shown(record) for record in screen.records), field


async def test_cached_only_and_open_a_dataset_page(dataset_hub: LocalHub, tmp_path: Path) -> None:
    cache = tmp_path / "hub"
    snapshot_download(CACHED, repo_type="dataset", cache_dir=cache, endpoint=dataset_hub.url)
    app = make_app(dataset_hub, cache)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await opened(pilot)
        await pilot.press("l")
        await settled(pilot, screen, lambda: screen.query_value.cached_only and screen.source == "index")
        assert [record.repo_id for record in screen.records] == [CACHED]
        assert screen.records[0].cache_state == "cached"
        await pilot.press("l", "slash", *"news-set-05", "enter")
        await settled(pilot, screen, lambda: [r.repo_id for r in screen.records] == ["org2/news-set-05"])
        table = screen.query_one("#datasets-table")
        table.move_cursor(row=table.get_row_index(HUB_KEY + "org2/news-set-05"))
        await pilot.press("enter")
        from hftui.ui.browse.dataset_page import DatasetPageScreen

        await wait_until(pilot, lambda: isinstance(app.screen, DatasetPageScreen))
        assert app.screen.repo_id == "org2/news-set-05"


async def test_offline_browse_from_the_index_after_the_hub_stops(dataset_hub: LocalHub, tmp_path: Path) -> None:
    app = make_app(dataset_hub, tmp_path / "hub")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await opened(pilot)
        await pilot.press("G")
        await settled(pilot, screen, lambda: len(screen.records) == N_DATASETS)
        dataset_hub.stop()
        await pilot.press("ctrl+r")
        await settled(pilot, screen, lambda: app.offline and screen.source == "index")
        assert screen.total == N_DATASETS
        await pilot.press("slash", *"speech")
        await settled(pilot, screen, lambda: screen.query_value.text == "speech")
        assert len(screen.records) == N_DATASETS // 4
        await pilot.press("escape", "f")
        await wait_until(pilot, lambda: isinstance(app.screen, FilterPickerScreen))
        await pilot.press("down", "enter")  # modality, counted among the "speech" datasets
        picker = app.screen
        await wait_until(pilot, lambda: bool(picker.values))
        assert picker.values == [("audio", N_DATASETS // 4)]
        await pilot.press(*"aud", "enter")
        await settled(pilot, screen, lambda: screen.query_value.modality == "audio")
        assert len(screen.records) == N_DATASETS // 4


async def test_a_failing_hub_keeps_the_last_results(
    dataset_hub: LocalHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from huggingface_hub.utils import _http

    from tests.test_models_screen import _NoSleep

    monkeypatch.setattr(_http, "time", _NoSleep())
    app = make_app(dataset_hub, tmp_path / "hub")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await opened(pilot)
        before = list(screen.records)
        dataset_hub.fail(r"^/api/datasets$", 429, retry_after=30)
        await pilot.press("s")
        await settled(pilot, screen, lambda: "⚠" in screen.message)
        assert screen.records == before
        assert "last successful search" in screen.message
