"""The dataset page: card, metadata (configs, splits, features, licence), a streamed preview, and files."""

from __future__ import annotations

from dataclasses import dataclass

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import DataTable, Footer, Input, Label, OptionList, Static, TabbedContent, TabPane
from textual.widgets.option_list import Option

from hftui.data.sampler import SampleSource
from hftui.hub.catalog.dataset_details import DatasetDetails, describe_feature, load_dataset_details
from hftui.hub.errors import HubProblem
from hftui.humanize import human_count, human_size
from hftui.ui.app_state import hub_app
from hftui.ui.browse.dataset_preview import DEFAULT_ROWS, DatasetPreviewScreen
from hftui.ui.browse.repo_page import RepoPageScreen, license_lines, tab_bindings
from hftui.ui.untrusted import plain

TABS = ("card", "metadata", "preview", "files")


@dataclass
class DatasetDetailsLoaded(Message):
    """The dataset's details are ready (from the Hub, the cache, an earlier visit, or "not seen yet")."""

    details: DatasetDetails
    online_problem: HubProblem | None


def _joined(values: tuple[str, ...]) -> str:
    return ", ".join(values) or "-"


def _hub_tags(details: DatasetDetails, prefix: str) -> tuple[str, ...]:
    """The values of the Hub's `prefix:value` tags (the card's own fields are shown from the card)."""
    return tuple(tag.split(":", 1)[1] for tag in details.tags if tag.startswith(f"{prefix}:"))


def facts_lines(details: DatasetDetails) -> list[str]:
    """The Metadata tab's text above the splits table: what the card and the Hub say about the dataset."""
    facts = details.facts
    lines = [
        f"Dataset: {details.repo_id}" + (f"  ({facts.pretty_name})" if facts.pretty_name else ""),
        f"Licence: {facts.license.license_id} ({facts.license.name})",
        f"Task categories: {_joined(facts.task_categories)}",
        f"Task ids: {_joined(facts.task_ids)}",
        f"Size categories: {_joined(facts.size_categories)}",
        f"Languages: {_joined(facts.languages)}",
        f"Multilinguality: {_joined(facts.multilinguality)}",
        f"Annotations: {_joined(facts.annotations_creators)}   Source datasets: {_joined(facts.source_datasets)}",
        f"Tags: {_joined(facts.tags)}",
        f"Modalities: {_joined(_hub_tags(details, 'modality'))}   Formats: {_joined(_hub_tags(details, 'format'))}",
        f"Gated: {details.gated or 'no'}"
        + (" (accept the conditions on the Hub to read its files)" if details.gated else ""),
    ]
    if details.downloads is not None or details.likes is not None:
        lines.append(f"Downloads: {human_count(details.downloads)}   Likes: {human_count(details.likes)}")
    lines.append(f"Revision: {details.sha or '-'}")
    lines.append(f"Last modified: {details.last_modified or '-'}")
    lines.append(f"Shown from: {details.source}")
    # The card-level problem is already shown above the card; list only what the metadata adds.
    lines += [f"Card problem: {problem}" for problem in facts.problems if problem != details.card.problem]
    configs = facts.configs
    lines.append(
        f"Configurations: {len(configs)}" + (f" ({_joined(tuple(c.name for c in configs))})" if configs else "")
    )
    return lines


def features_lines(details: DatasetDetails) -> list[str]:
    """Each configuration's features, one per line, nested ones as compact JSON-like types."""
    lines = []
    for config in details.facts.configs:
        if config.features is None:
            continue
        lines.append(f"Features of {config.name}:")
        lines += [f"  {name}: {describe_feature(spec)}" for name, spec in config.features.items()]
    return lines or ["Features: not described by the card (the preview shows the columns)."]


class DatasetPageScreen(RepoPageScreen):
    """One dataset, in tabs (1-4); p opens a streamed preview of the chosen config and split; escape goes back."""

    HELP_TITLE = "Dataset page"
    BINDINGS = [
        Binding("escape", "back", "Back", id="dataset.back"),
        Binding("p", "open_preview", "Preview", id="dataset.preview"),
        Binding("R", "reload", "Reload", id="dataset.reload"),
        *tab_bindings("dataset", TABS),
    ]
    TITLE_ID, PROBLEMS_ID = "dataset-title", "dataset-problems"
    CARD_PROBLEM_ID, CARD_ID = "dataset-card-problem", "dataset-card"

    def __init__(self, repo_id: str) -> None:
        super().__init__(repo_id)
        self.details: DatasetDetails | None = None
        self.choices: list[tuple[str | None, str]] = []  # (config, split) per preview option

    def compose(self) -> ComposeResult:
        yield from self.compose_heading()
        with TabbedContent(id="dataset-tabs"):
            with TabPane("1 Card", id="card"):
                yield from self.compose_card()
            with TabPane("2 Metadata", id="metadata"), VerticalScroll():
                yield Static("", id="dataset-facts")
                yield DataTable(id="dataset-splits", cursor_type="row")
                yield Static("", id="dataset-features")
                yield Static("", id="dataset-license")
            with TabPane("3 Preview", id="preview"):
                yield Static("Pick a configuration and split; Enter or p streams a sample.", classes="empty-state")
                yield OptionList(id="dataset-splits-list")
                with Horizontal(id="dataset-preview-rows"):
                    yield Label("Rows ")
                    yield Input(str(DEFAULT_ROWS), id="dataset-rows", type="integer", compact=True)
            with TabPane("4 Files", id="files"), VerticalScroll():
                yield Static("", id="dataset-files-summary")
                yield DataTable(id="dataset-files", cursor_type="row")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.watch(self.app, "reachability", self._went_online, init=False)
        self.load_details()

    @work(thread=True, exclusive=True, exit_on_error=False, group="dataset-page", description="Load dataset")
    def load_details(self) -> None:
        """Online when the app is (hub_api() is None offline), else from the cache or an earlier visit."""
        app = hub_app(self)
        api = app.hub_api()
        cache_dir = app.settings.hub_cache
        index = app.model_index
        details, problem = load_dataset_details(self.repo_id, api=api, cache_dir=cache_dir, index=index)
        self.post_message(DatasetDetailsLoaded(details, problem))

    def _went_online(self) -> None:
        """Offline pages refresh themselves when the connection comes back (ctrl+r)."""
        if self.details is not None and self.details.source != "hub" and not hub_app(self).offline:
            self.load_details()

    @on(DatasetDetailsLoaded)
    def show_details(self, event: DatasetDetailsLoaded) -> None:
        """Fill every tab."""
        details = event.details
        self.details = details
        self.show_problems(event.online_problem, details.problems, source=details.source, known=details.known)
        self.show_card(details.card)

        self.query_one("#dataset-facts", Static).update(plain("\n".join(facts_lines(details))))
        self.fill_table(
            "#dataset-splits",
            ("Config", "Split", "Rows", "Size"),
            [
                (
                    config.name,
                    split.name,
                    human_count(split.num_examples) if split.num_examples is not None else "?",
                    human_size(split.num_bytes) if split.num_bytes is not None else "?",
                )
                for config in details.facts.configs
                for split in config.splits
            ],
        )
        self.query_one("#dataset-features", Static).update(plain("\n".join(features_lines(details))))
        endpoint = getattr(hub_app(self).settings, "endpoint", "")
        license_text = license_lines(details.facts.license, details.gated, f"{endpoint}/datasets/{details.repo_id}")
        self.query_one("#dataset-license", Static).update(plain("\n".join(["", "Licence", *license_text])))
        self._show_choices(details)
        total = sum(file.size or 0 for file in details.files)
        self.query_one("#dataset-files-summary", Static).update(
            plain(f"{len(details.files)} files, {human_size(total)}" if details.files else "No files known.")
        )
        self.fill_table(
            "#dataset-files",
            ("File", "Size", "LFS"),
            [
                (f.path, human_size(f.size) if f.size is not None else "?", "LFS" if f.is_lfs else "")
                for f in details.files
            ],
        )

    def _show_choices(self, details: DatasetDetails) -> None:
        """One option per (config, split), with its row count where known."""
        counts = {
            (config.name, split.name): split.num_examples for config in details.facts.configs for split in config.splits
        }
        self.choices = [(config, split) for config, splits in details.preview_choices() for split in splits]
        options = []
        for config, split in self.choices:
            rows = counts.get((config, split)) if config is not None else None
            label = f"{config or '(default)'} / {split}" + (f"  ({human_count(rows)} rows)" if rows is not None else "")
            options.append(Option(plain(label, single_line=True)))
        choices = self.query_one("#dataset-splits-list", OptionList)
        choices.clear_options()
        choices.add_options(options)
        choices.highlighted = 0 if options else None

    # Actions.

    def action_show_tab(self, tab: str) -> None:
        """Switch tab by number key and focus what the keys should move: the list, the table, or the scroll."""
        self.query_one("#dataset-tabs", TabbedContent).active = tab
        target = {"preview": "#dataset-splits-list", "files": "#dataset-files"}.get(tab)
        pane = self.query_one(f"TabPane#{tab}", TabPane)
        self.set_focus(pane.query_one(target) if target else pane.query_one(VerticalScroll))

    def action_back(self) -> None:
        """Go back to where the page was opened from."""
        self.app.pop_screen()

    def action_reload(self) -> None:
        """Fetch the page again (online when the app is)."""
        self.query_one("#dataset-problems", Static).update("Loading…")
        self.query_one("#dataset-problems", Static).display = True
        self.load_details()

    @on(OptionList.OptionSelected, "#dataset-splits-list")
    @on(Input.Submitted, "#dataset-rows")
    def preview_chosen_split(self) -> None:
        """Enter on the config/split list or in the rows box opens the preview."""
        self.action_open_preview()

    def action_open_preview(self) -> None:
        """Stream a sample of the highlighted config and split, with the chosen number of rows."""
        if not self.choices:
            self.notify("The dataset is still loading.", markup=False)
            return
        index = self.query_one("#dataset-splits-list", OptionList).highlighted or 0
        config, split = self.choices[min(index, len(self.choices) - 1)]
        text = self.query_one("#dataset-rows", Input).value.strip()
        rows = int(text) if text.isdigit() and int(text) > 0 else DEFAULT_ROWS
        title = f"{self.repo_id} · {config or 'default'} · {split}"
        source = SampleSource("hub", self.repo_id, config=config, split=split)
        self.app.push_screen(DatasetPreviewScreen(source, title=title, rows=rows))
