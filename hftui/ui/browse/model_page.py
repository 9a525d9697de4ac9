"""The model page: card, metadata (with the inference providers serving it), licence, files and fit, history,
and how to use or download it."""

from __future__ import annotations

import time
from dataclasses import dataclass

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.notifications import SeverityLevel
from textual.widgets import DataTable, Footer, ProgressBar, Static, TabbedContent, TabPane
from textual.worker import get_current_worker

from hftui.hub.catalog.models import ModelDetails, load_model_details
from hftui.hub.download import (
    DownloadCancelled,
    DownloadProgress,
    default_patterns,
    plan_download,
    run_download,
)
from hftui.hub.errors import HubProblem, explain_hub_error
from hftui.hub.fit import memory_fits
from hftui.hub.plain_text import printable
from hftui.hub.snippets import snippets
from hftui.humanize import human_count, human_size, relative_time
from hftui.ui.app_state import hub_app
from hftui.ui.browse.repo_page import RepoPageScreen, license_lines, tab_bindings
from hftui.ui.messages import Coalescing, OpenInPlayground
from hftui.ui.untrusted import plain

DOWNLOAD_SEVERITY: dict[str, SeverityLevel] = {"done": "information", "cancelled": "warning", "failed": "error"}
TABS = ("card", "metadata", "license", "files", "history", "use")
SNIPPET_TITLES = {
    "cli": "Download with the hf command line",
    "python": "Download from Python",
    "pipeline": "Run it with a transformers pipeline",
    "auto_model": "Load it with an Auto class",
    "sentence_transformers": "Load it with sentence-transformers",
}


@dataclass
class DetailsLoaded(Message):
    """The model's details are ready (from the Hub or from what is on disk)."""

    details: ModelDetails
    online_problem: HubProblem | None


@dataclass
class DownloadProgressed(Coalescing):
    """Download progress; only the newest matters, so older ones still queued are dropped."""

    progress: DownloadProgress


@dataclass
class DownloadEnded(Message):
    """The download finished, failed or was cancelled."""

    outcome: str  # "done", "cancelled", "failed"
    text: str


def _facts_lines(details: ModelDetails) -> list[str]:
    facts = details.facts
    record = details.record
    lines = [
        f"Model: {details.repo_id}",
        f"Task (pipeline_tag): {details.pipeline_tag or '-'}",
        f"Library: {details.library_name or '-'}",
        f"Licence: {facts.license.license_id} ({facts.license.name})",
        f"Languages: {', '.join(facts.languages) or '-'}",
        f"Datasets: {', '.join(facts.datasets) or '-'}",
        f"Base model: {', '.join(facts.base_models) or '-'}"
        + (f" ({facts.base_model_relation})" if facts.base_model_relation else ""),
        f"Tags: {', '.join(facts.tags) or '-'}",
        f"Metrics: {', '.join(facts.metrics) or '-'}",
        f"CO2 emissions: {facts.co2 or '-'}",
        f"Gated: {details.gated or 'no'}",
    ]
    if record is not None:
        lines.append(f"Downloads: {human_count(record.downloads)}   Likes: {human_count(record.likes)}")
    lines.append(f"Revision: {details.sha or '-'}   Last modified: {details.last_modified or '-'}")
    lines.append(f"Shown from: {details.source}")
    return lines


def providers_note(details: ModelDetails) -> str:
    """The line above the providers table: none, or that the table is what was last seen, and when (the index
    keeps the mapping from the last online visit or provider-filtered listing)."""
    seen_at = details.providers_seen_at
    if seen_at is None:
        return "Not known: the Hub has not been asked yet (it is, when this page opens online)."
    listed = details.inference_providers
    what = f"{len(listed)} provider{'s' if len(listed) != 1 else ''}" if listed else "none"
    if details.providers_fresh:
        return f"{what} (from the Hub now)" if listed else "none: no inference provider serves this model."
    stamp = time.strftime("%Y-%m-%d %H:%M", time.localtime(seen_at))
    return f"{what}, as last seen {relative_time(seen_at)} ({stamp}); the Hub was not asked this time."


class ModelPageScreen(RepoPageScreen):
    """One model, in tabs; D downloads, y copies the download command, escape goes back or cancels."""

    HELP_TITLE = "Model page"
    BINDINGS = [
        Binding("escape", "back_or_cancel", "Back/cancel", id="model.back"),
        Binding("D", "download", "Download", id="model.download"),
        Binding("y", "copy_command", "Copy cmd", id="model.copy"),
        Binding("i", "open_in_playground", "Try it", id="model.playground"),
        *tab_bindings("model", TABS),
    ]
    TITLE_ID, PROBLEMS_ID, CARD_PROBLEM_ID, CARD_ID = "model-title", "model-problems", "card-problem", "model-card"

    def __init__(self, repo_id: str) -> None:
        super().__init__(repo_id)
        self.details: ModelDetails | None = None
        self.downloading = False

    def compose(self) -> ComposeResult:
        yield from self.compose_heading()
        with Vertical(id="download-panel"):
            yield Static("", id="download-status")
            yield ProgressBar(id="download-bar", show_eta=True)
        with TabbedContent(id="model-tabs"):
            with TabPane("1 Card", id="card"):
                yield from self.compose_card()
            with TabPane("2 Metadata", id="metadata"), VerticalScroll():
                yield Static("", id="model-facts")
                yield Static("Inference providers", classes="screen-heading")
                yield Static("", id="providers-note", classes="empty-state")
                yield DataTable(id="providers-table", cursor_type="row")
                yield Static("Evaluation results (model-index)", classes="screen-heading")
                yield DataTable(id="eval-table", cursor_type="row")
            with TabPane("3 Licence", id="license"), VerticalScroll():
                yield Static("", id="license-text")
            with TabPane("4 Files", id="files"), VerticalScroll():
                yield Static("", id="files-summary")
                yield DataTable(id="fit-table", cursor_type="row")
                yield DataTable(id="files-table", cursor_type="row")
            with TabPane("5 History", id="history"), VerticalScroll():
                yield Static("Recent commits", classes="screen-heading")
                yield DataTable(id="commits-table", cursor_type="row")
                yield Static("Cached revisions", classes="screen-heading")
                yield DataTable(id="revisions-table", cursor_type="row")
            with TabPane("6 Use", id="use"), VerticalScroll():
                yield Static("", id="snippets")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#download-panel").display = False
        self.load_details()

    @work(thread=True, exclusive=True, exit_on_error=False, group="model-details", description="Load model")
    def load_details(self) -> None:
        """Fetch the page online; offline, or when the Hub fails, use what the cache and earlier visits hold."""
        app = hub_app(self)
        index = app.model_index
        if index is None:  # the page is opened from a table of the index, so it is open by now
            raise RuntimeError("the local index is not open yet")
        api, cache_dir = app.hub_api(), app.settings.hub_cache
        self.post_message(DetailsLoaded(*load_model_details(self.repo_id, api=api, cache_dir=cache_dir, index=index)))

    @on(DetailsLoaded)
    def show_details(self, event: DetailsLoaded) -> None:
        """Fill every tab."""
        details = event.details
        self.details = details
        self.show_problems(event.online_problem, details.problems, source=details.source)
        self.show_card(details.card)

        facts = details.facts
        # The card-level problem is already shown above the card; list only what the metadata adds.
        fact_lines = _facts_lines(details) + [
            f"Card problem: {problem}" for problem in facts.problems if problem != details.card.problem
        ]
        self.query_one("#model-facts", Static).update(plain("\n".join(fact_lines)))
        self._show_providers(details)
        self.fill_table(
            "#eval-table",
            ("Task", "Dataset", "Metric", "Value", "Verified"),
            [
                (result.task, result.dataset, result.metric, result.value, result.verified)
                for result in facts.eval_results
            ],
        )
        endpoint = getattr(hub_app(self).settings, "endpoint", "")
        self.query_one("#license-text", Static).update(
            plain("\n".join(license_lines(facts.license, details.gated, f"{endpoint}/{details.repo_id}")))
        )
        self._show_files(details)
        self.fill_table(
            "#commits-table",
            ("Commit", "Title", "Authors", "Date"),
            [(c.commit_id[:8], c.title, ", ".join(c.authors), c.created_at[:19]) for c in details.commits],
        )
        self.fill_table(
            "#revisions-table",
            ("Revision", "Refs", "Files", "Size"),
            [
                (r.commit_hash[:8], ", ".join(r.refs) or "(detached)", r.nb_files, human_size(r.size_on_disk))
                for r in details.cached_revisions
            ],
        )
        self._show_snippets(details)

    def _show_providers(self, details: ModelDetails) -> None:
        self.query_one("#providers-note", Static).update(plain(providers_note(details)))
        self.fill_table(
            "#providers-table",
            ("Provider", "Status", "Provider model id", "Task"),
            [
                (entry.provider, entry.status or None, entry.provider_id or None, entry.task or None)
                for entry in details.inference_providers
            ],
        )
        self.query_one("#providers-table", DataTable).display = bool(details.inference_providers)

    def _show_files(self, details: ModelDetails) -> None:
        from hftui.hub.repo_files import weight_warning

        config = details.config
        lines = []
        if config is not None:
            lines += [
                f"Architecture: {', '.join(config.architectures) or '-'}   model type: {config.model_type or '-'}",
                f"Hidden size: {config.hidden_size or '-'}   layers: {config.num_layers or '-'}   "
                f"vocab: {config.vocab_size or '-'}   context: {config.context_length or '-'}   "
                f"dtype: {config.torch_dtype or '-'}",
            ]
        else:
            lines.append("No config.json summary available.")
        count = human_count(details.parameters) if details.parameters else "unknown"
        lines.append(f"Parameters: {count} ({details.parameters_source})")
        device = hub_app(self).device
        lines.append(f"Memory needed, against {device.label if device else 'an unknown device'}:")
        warning = weight_warning(details.files)
        if warning:
            lines.append(f"⚠ {warning}")
        self.query_one("#files-summary", Static).update(plain("\n".join(lines)))
        self.fill_table(
            "#fit-table",
            ("Precision", "Needs", "Verdict"),
            [
                (fit.precision, human_size(fit.bytes_needed) if fit.bytes_needed else "?", fit.verdict)
                for fit in memory_fits(details.parameters, device)
            ],
        )
        self.fill_table(
            "#files-table",
            ("File", "Size", "Format", "Note"),
            [
                (
                    file.path,
                    human_size(file.size) if file.size is not None else "?",
                    file.weight_format or "-",
                    "⚠ pickle: loading can run code" if file.can_run_code else ("ok" if file.weight_format else ""),
                )
                for file in details.files
            ],
        )

    def _snippets(self, details: ModelDetails) -> dict[str, str]:
        """Snippets for the default selection: safetensors only when the repo has them."""
        allow, ignore = default_patterns(details.files)
        return snippets(
            details.repo_id,
            pipeline_tag=details.pipeline_tag,
            library_name=details.library_name,
            allow_patterns=allow,
            ignore_patterns=ignore,
        )

    def _show_snippets(self, details: ModelDetails) -> None:
        blocks = self._snippets(details)
        text = "\n\n".join(f"# {SNIPPET_TITLES.get(key, key)}\n{code}" for key, code in blocks.items())
        text += "\n\nD downloads it (safetensors only when the repo has them); y copies the hf download command."
        self.query_one("#snippets", Static).update(plain(text))

    # Actions.

    def action_show_tab(self, tab: str) -> None:
        """Switch tab by number key."""
        self.query_one("#model-tabs", TabbedContent).active = tab

    def action_open_in_playground(self) -> None:
        """Try this model in the Playground (it must be downloaded: the playground runs models on disk)."""
        self.post_message(OpenInPlayground(self.repo_id))

    def action_copy_command(self) -> None:
        """Copy the `hf download` command to the clipboard (OSC 52, which works over SSH in most terminals)."""
        if self.details is None:
            return
        command = self._snippets(self.details).get("cli")
        if command:
            self.app.copy_to_clipboard(command)
            self.notify(printable(command, single_line=True), title="Copied", markup=False)

    def action_back_or_cancel(self) -> None:
        """Escape cancels a running download, else goes back."""
        if self.downloading:
            self.workers.cancel_group(self, "download")
            self.query_one("#download-status", Static).update("Cancelling…")
        else:
            self.app.pop_screen()

    def action_download(self) -> None:
        """Download the model into the HF cache (safetensors only by default)."""
        if self.downloading:
            return
        if hub_app(self).offline:
            self.notify("Offline: downloads need the Hub. Press ctrl+r to retry the connection.", markup=False)
            return
        self.downloading = True
        panel = self.query_one("#download-panel")
        panel.display = True
        self.query_one("#download-status", Static).update("Planning the download…")
        self.download()

    @work(thread=True, exclusive=True, exit_on_error=False, group="download", description="Download model")
    def download(self) -> None:
        """Plan (total size first), then download with progress; cancellable, resumable."""
        app = hub_app(self)
        worker = get_current_worker()
        api = app.hub_api()
        cache_dir = app.settings.hub_cache
        try:
            if api is None:
                raise ConnectionError("offline")
            plan = plan_download(api, self.repo_id, cache_dir=cache_dir, prefer_safetensors=True)
            run_download(
                plan,
                endpoint=api.endpoint,
                cache_dir=cache_dir,
                on_progress=lambda progress: self.post_message(DownloadProgressed(progress)),
                is_cancelled=lambda: worker.is_cancelled,
            )
        except DownloadCancelled:
            self.post_message(DownloadEnded("cancelled", "Download cancelled; run it again to resume."))
            return
        except Exception as error:
            problem = explain_hub_error(error, repo_id=self.repo_id, endpoint=getattr(api, "endpoint", None))
            self.post_message(DownloadEnded("failed", problem.message))
            return
        self.post_message(DownloadEnded("done", f"Downloaded {human_size(plan.total_bytes)} into {cache_dir}."))

    @on(DownloadProgressed)
    def show_progress(self, event: DownloadProgressed) -> None:
        """Bytes, speed, ETA and the current file."""
        progress = event.progress
        bar = self.query_one("#download-bar", ProgressBar)
        bar.update(total=max(progress.total_bytes, 1), progress=progress.bytes_done)
        speed = f"{human_size(progress.bytes_per_second)}/s" if progress.bytes_per_second else "-"
        eta = f"{progress.eta_seconds:.0f} s" if progress.eta_seconds is not None else "-"
        text = (
            f"{human_size(progress.bytes_done)} of {human_size(progress.total_bytes)}  {speed}  ETA {eta}  "
            f"file {progress.files_done}/{progress.files_total}: {progress.current_file or '-'}  (escape cancels)"
        )
        self.query_one("#download-status", Static).update(plain(text, single_line=True))

    @on(DownloadEnded)
    def finish_download(self, event: DownloadEnded) -> None:
        """Say how it ended and refresh what the app knows of the cache."""
        self.downloading = False
        self.query_one("#download-status", Static).update(plain(f"{event.outcome.upper()}: {event.text}"))
        severity = DOWNLOAD_SEVERITY[event.outcome]
        self.notify(printable(event.text), title=f"Download {event.outcome}", severity=severity, markup=False)
        if event.outcome == "done":
            hub_app(self).scan_cache()  # marks it cached in the index and tables
            self.load_details()
