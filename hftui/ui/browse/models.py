"""Models: search, filter and sort models on the Hub, or in the local index when offline."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from textual import on
from textual.binding import Binding
from textual.widgets import DataTable, Input

from hftui.hub.cards.licenses import license_terms
from hftui.hub.catalog.models import ModelSearch
from hftui.hub.catalog.query import ModelQuery
from hftui.hub.fit import fit_label, memory_fits
from hftui.hub.index import ModelRecord, RepoIndex
from hftui.humanize import human_count, relative_time
from hftui.ui.app_state import hub_app
from hftui.ui.browse.repo_browser import RepoBrowserScreen, browser_bindings, next_in

if TYPE_CHECKING:
    from huggingface_hub import HfApi

COLUMNS = (
    ("Model", 28),
    ("Task", 16),
    "Licence",
    "Cached",
    "Params",
    "Fits",
    "Downloads",
    "Likes",
    "Updated",
    ("Library", 14),
)
PARAMETER_LIMITS = (None, 1_000_000_000, 3_000_000_000, 8_000_000_000, 15_000_000_000)


class ModelsScreen(RepoBrowserScreen[ModelQuery, ModelRecord]):
    """The model browser: a search box, the filters in force, and the results table."""

    HELP_TITLE = "Models"
    BINDINGS = [
        *browser_bindings(
            "models",
            Binding("p", "cycle_parameters", "Params ≤", show=False, id="models.params"),
            Binding("g", "cycle_gated", "Gated", show=False, id="models.gated"),
        ),
        *(
            Binding(str(slot), f"recall_preset({slot})", f"Preset {slot}", show=False, id=f"models.preset{slot}")
            for slot in range(1, 5)
        ),
        *(
            Binding(key, f"save_preset({slot})", f"Save preset {slot}", show=False, id=f"models.save{slot}")
            for slot, key in enumerate(("exclamation_mark", "at", "number_sign", "dollar_sign"), start=1)
        ),
    ]

    QUERY_TYPE = ModelQuery
    NOUN = "models"
    COLUMNS = COLUMNS

    def __init__(self) -> None:
        super().__init__()
        presets = self.saved_state.get("presets")
        self.presets: dict[str, dict] = presets if isinstance(presets, dict) else {}

    def new_search(self, query: ModelQuery, index: RepoIndex, api: HfApi | None) -> ModelSearch:
        return ModelSearch(query, index=index, api=api)

    def state_to_save(self) -> dict[str, Any]:
        return {**super().state_to_save(), "presets": self.presets}

    def show_records(self, records: Iterable[ModelRecord], *, first: bool) -> None:
        table = self.results_table
        if first:
            table.show_rows(COLUMNS, [])
        for record in records:
            if record.repo_id not in table.rows:
                table.add_row(*self._cells(record), key=record.repo_id)

    def _cells(self, record: ModelRecord) -> list:
        from hftui.ui.untrusted import plain_cell

        fits = fit_label(memory_fits(record.parameters, hub_app(self).device))
        values = (
            record.repo_id,
            record.pipeline_tag or "-",
            license_terms(record.license).badge,
            record.cache_state,
            human_count(record.parameters) if record.parameters else "?",
            fits,
            human_count(record.downloads),
            human_count(record.likes),
            relative_time(record.last_modified),
            record.library_name or "-",
        )
        return [plain_cell(value) for value in values]

    @on(DataTable.RowSelected, "#models-table")
    def open_model(self, event: DataTable.RowSelected) -> None:
        """Open the model page."""
        from hftui.ui.browse.model_page import ModelPageScreen

        if event.row_key.value is not None:
            self.app.push_screen(ModelPageScreen(str(event.row_key.value)))

    # Actions.

    def action_cycle_parameters(self) -> None:
        """Next parameter-count limit: any, ≤1B, ≤3B, ≤8B, ≤15B."""
        limit = next_in(PARAMETER_LIMITS, self.query_value.max_parameters)
        self.set_query(self.query_value.replace(max_parameters=limit))

    def action_cycle_gated(self) -> None:
        """Next gated filter: either, not gated, gated only."""
        self.set_query(self.query_value.replace(gated=next_in((None, False, True), self.query_value.gated)))

    def action_recall_preset(self, slot: int) -> None:
        """Apply saved preset `slot`."""
        saved = self.presets.get(str(slot))
        if not isinstance(saved, dict):
            self.notify(f"Preset {slot} is empty: save the current filters with shift+{slot}.", markup=False)
            return
        query = ModelQuery.from_dict(saved)
        self.query_one("#model-search", Input).value = query.text
        self.set_query(query)

    def action_save_preset(self, slot: int) -> None:
        """Save the current filters as preset `slot`."""
        self.presets[str(slot)] = self.query_value.to_dict()
        self.set_query(self.query_value)
        self.notify(f"Preset {slot}: {self.query_value.describe()}", markup=False)
