"""Convert local files to one schema and stratified Parquet splits: sources side by side, mapping keys, a report."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Markdown, ProgressBar, Static
from textual.worker import get_current_worker

from hftui.data.convert import (
    CAST_TYPES,
    ConvertCancelled,
    ConvertError,
    ConvertPlan,
    ConvertProgress,
    ConvertReport,
    SourceSchema,
    convert,
    convertible_files,
    guess_label,
    read_schema,
    report_markdown,
    with_typed_settings,
)
from hftui.hub.plain_text import printable
from hftui.ui.base import ReportsWorkerFailures
from hftui.ui.dialogs.choice import ChoiceScreen
from hftui.ui.dialogs.text_prompt import TextPromptScreen
from hftui.ui.messages import Coalescing
from hftui.ui.untrusted import plain, plain_cell


@dataclass
class SourceRead(Message):
    """A file's schema was read."""

    path: Path
    schema: SourceSchema


@dataclass
class FolderListed(Message):
    """A folder given as a source was listed: its CSV, JSON Lines and Parquet files."""

    folder: Path
    files: tuple[Path, ...]


@dataclass
class SourceUnreadable(Message):
    """A file could not be read; `setting` names the reading setting that might get past it, if any."""

    path: Path
    text: str
    setting: str | None = None


# How to change the setting a ConvertError names, in this screen's terms (appended to its message).
SETTING_HINTS = {
    "encoding": "; type latin-1 (or cp1252) in the encoding box and enter if it was exported that way",
    "skip_bad_rows": " (b skips them and counts them in the report)",
}


@dataclass
class ConversionProgressed(Coalescing):
    """The conversion moved on a step; only the newest matters."""

    progress: ConvertProgress


@dataclass
class ConversionEnded(Message):
    """The conversion finished (with its report), failed or was cancelled."""

    outcome: str  # "done", "cancelled", "failed"
    text: str
    report: ConvertReport | None = None


class ConvertScreen(ReportsWorkerFailures, Screen[None]):
    """Sources side by side (a row per target column, a column per file), mapped by keys, run in a worker."""

    HELP_TITLE = "Convert files"
    BINDINGS = [
        Binding("escape", "cancel_or_back", "Back/cancel", id="convert.back"),
        Binding("r", "run", "Run", id="convert.run"),
        Binding("i", "add_file", "Add", id="convert.add"),
        Binding("e", "map_column", "Map", id="convert.map"),
        Binding("n", "rename", "Rename", id="convert.rename"),
        Binding("x", "toggle_drop", "Drop", id="convert.drop"),
        Binding("T", "cast", "Type", id="convert.cast"),
        Binding("l", "pick_label", "Label", id="convert.label"),
        Binding("u", "toggle_dedupe", "Dedupe", show=False, id="convert.dedupe"),
        Binding("s", "toggle_source_column", "Source column", show=False, id="convert.source"),
        Binding("b", "toggle_skip_bad_rows", "Skip bad rows", show=False, id="convert.skip_bad_rows"),
        Binding("delete", "remove_file", "Remove file", show=False, id="convert.remove"),
    ]

    def __init__(self, paths: Sequence[Path] = ()) -> None:
        super().__init__()
        self.initial_paths = [Path(path) for path in paths]
        self.plan = ConvertPlan()
        self.pending: list[Path] = []
        self.label_chosen = False
        self.running = False
        self.report: ConvertReport | None = None
        # Files refused for a reason a reading setting may fix: read again when that setting changes.
        self.retry: dict[Path, str] = {}

    def compose(self) -> ComposeResult:
        yield Static("Convert files to Parquet splits", classes="screen-heading")
        yield Input(
            placeholder="i: a CSV, JSONL or Parquet file (or a folder of them); enter adds it",
            id="convert-path",
            compact=True,
        )
        with Horizontal(id="convert-settings"):
            yield Static("seed", classes="field-caption")
            yield Input("42", id="convert-seed", compact=True, type="integer")
            yield Static("splits", classes="field-caption")
            yield Input("0.8,0.1,0.1", id="convert-splits", compact=True)
            yield Static("out", classes="field-caption")
            yield Input(placeholder="output folder", id="convert-out", compact=True)
            yield Static("encoding", classes="field-caption")
            yield Input("utf-8", id="convert-encoding", compact=True)
        yield Static("", id="convert-options")
        yield Static("Add files with i (type a path, enter).", id="convert-status")
        yield ProgressBar(id="convert-bar", show_eta=False)
        yield DataTable(id="convert-table", cursor_type="row", zebra_stripes=True)
        with VerticalScroll(id="convert-report-box"):
            yield Markdown("", id="convert-report", open_links=False)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#convert-bar").display = False
        self.query_one("#convert-report-box").display = False
        self.show_plan()
        if self.initial_paths:
            self.pending.extend(path.expanduser().resolve() for path in self.initial_paths)
            self.read_pending()
            self.set_focus(self.query_one("#convert-table"))
        else:
            self.set_focus(self.query_one("#convert-path"))

    # Sources

    @on(Input.Submitted, "#convert-path")
    def add_path(self, event: Input.Submitted) -> None:
        """Enter in the path box reads that file in a worker; the box clears for the next path."""
        text = event.value.strip()
        if not text:
            self.set_focus(self.query_one("#convert-table"))
            return
        path = Path(text).expanduser().resolve()
        event.input.value = ""
        if path in self.pending or any(schema.path == path for schema in self.plan.schemas):
            self.say(f"{path.name} is already added.")
            return
        self.pending.append(path)
        self.say(f"Reading {path.name}…")
        self.read_pending()

    def read_pending(self) -> None:
        """Read the pending files with the plan's reading settings (encoding, skipping bad rows)."""
        self.read_sources(tuple(self.pending), self.plan.encoding, self.plan.skip_bad_rows)

    @work(thread=True, exclusive=True, exit_on_error=False, group="convert-read", description="Read file schemas")
    def read_sources(self, paths: tuple[Path, ...], encoding: str = "utf-8", skip_bad_rows: bool = False) -> None:
        """Read each pending file's schema in order; a newer call (more paths) takes over the rest."""
        worker = get_current_worker()
        for path in paths:
            if worker.is_cancelled:
                return
            if path.is_dir():  # listed here, off the event loop: a folder may hold very many files
                self.post_message(FolderListed(path, convertible_files(path)))
                continue
            try:
                schema = read_schema(path, encoding=encoding, skip_bad_rows=skip_bad_rows)
            except ConvertError as error:
                self.post_message(SourceUnreadable(path, error.message, error.setting))
            except Exception as error:  # a bug, not a bad file: the path must still leave `pending`
                self.post_message(SourceUnreadable(path, f"cannot read {path.name}: {type(error).__name__}: {error}"))
            else:
                self.post_message(SourceRead(path, schema))

    @on(SourceRead)
    def add_source(self, event: SourceRead) -> None:
        """Put the file's columns beside the others (matched by name)."""
        if event.path not in self.pending:
            return  # already handled by an earlier read of the same path
        self.pending.remove(event.path)
        self.retry.pop(event.path, None)
        try:
            plan = self.plan.add_source(event.schema)
        except ConvertError as error:
            self.say(f"⚠ {error.message}")
            return
        if plan.output is None:
            plan = replace(plan, output=event.schema.path.parent / "converted")
            self.query_one("#convert-out", Input).value = str(plan.output)
        if not self.label_chosen:
            plan = replace(plan, label=guess_label(plan))
        self.plan = plan
        skipped = event.schema.skipped
        bad = ""
        if skipped is not None:
            bad = f", {skipped.count} bad row{'s' if skipped.count != 1 else ''} skipped ({skipped.where()})"
        self.say(f"Added {event.schema.name}: {event.schema.rows} rows, {len(event.schema.columns)} columns{bad}.")
        self.show_plan()

    @on(FolderListed)
    def add_folder_files(self, event: FolderListed) -> None:
        """Replace a pending folder by its data files, and read those."""
        if event.folder not in self.pending:
            return
        self.pending.remove(event.folder)
        if not event.files:
            self.say(f"⚠ {event.folder.name} holds no CSV, JSON Lines or Parquet files.")
            return
        known = {schema.path for schema in self.plan.schemas}
        self.pending.extend(path for path in event.files if path not in known and path not in self.pending)
        self.say(f"Reading {len(event.files)} files from {event.folder.name}…")
        self.read_pending()

    @on(SourceUnreadable)
    def say_unreadable(self, event: SourceUnreadable) -> None:
        """Say why a file could not be added."""
        if event.path in self.pending:
            self.pending.remove(event.path)
        if event.setting is not None:
            self.retry[event.path] = event.setting
        else:
            self.retry.pop(event.path, None)
        self.say(f"⚠ {event.text}{SETTING_HINTS.get(event.setting or '', '')}")

    def retry_for(self, setting: str) -> None:
        """Read again the files refused for a reason the changed `setting` may fix."""
        paths = [path for path, wanted in self.retry.items() if wanted == setting and path not in self.pending]
        if not paths:
            return
        self.pending.extend(paths)
        self.say(f"Reading {', '.join(path.name for path in paths)} again…")
        self.read_pending()

    @on(Input.Submitted, "#convert-encoding")
    def set_encoding(self, event: Input.Submitted) -> None:
        """Enter in the encoding box: files added from now on are read in that encoding (refused ones again)."""
        encoding = event.value.strip() or "utf-8"
        self.plan = replace(self.plan, encoding=encoding)
        self.show_plan()
        self.say(f"Files added from now on are read as {encoding}.")
        self.retry_for("encoding")

    def action_add_file(self) -> None:
        """Type a path to add."""
        self.set_focus(self.query_one("#convert-path"))

    def action_remove_file(self) -> None:
        """Pick a source to leave out."""
        if not self.plan.schemas or self.running:
            return

        def remove(index: int | None) -> None:
            if index is not None:
                self.plan = self.plan.remove_source(index)
                self.show_plan()

        self.app.push_screen(ChoiceScreen("Remove which file?", [s.name for s in self.plan.schemas]), remove)

    # The mapping

    def show_plan(self) -> None:
        """Redraw the side-by-side table and the options line from the plan, keeping the cursor's column."""
        table = self.query_one("#convert-table", DataTable)
        current = self.current_target()
        table.clear(columns=True)
        table.add_column("target", key="target")
        table.add_column("type", key="type")
        for index, schema in enumerate(self.plan.schemas):
            table.add_column(plain_cell(f"{index + 1}. {schema.name} ({schema.rows})"), key=f"source-{index}")
        for column in self.plan.columns:
            mark = "* " if column.name == self.plan.label else ("- " if not column.keep else "  ")
            cells = [
                plain_cell(f"{found.name}: {found.dtype}") if found is not None else plain_cell("·")
                for found in self.plan.sources_for(column.name)
            ]
            table.add_row(
                plain_cell(mark + column.name),
                plain_cell(column.dtype if column.keep else "dropped"),
                *cells,
                key=column.name,
            )
        names = [column.name for column in self.plan.columns]
        if current in names:
            table.move_cursor(row=names.index(current))
        label = self.plan.label or "(none: l picks one)"
        options = (
            f"label * {label} · dedupe (u) {'on' if self.plan.dedupe else 'off'} · "
            f"source column (s) {'on' if self.plan.add_source_column else 'off'} · "
            # Shown only when on, so the line still fits 80 columns; a refused file's message names the key.
            + ("skip bad rows (b) on · " if self.plan.skip_bad_rows else "")
            + "- dropped · · null"
        )
        self.query_one("#convert-options", Static).update(plain(options))

    def current_target(self) -> str | None:
        """The target column under the cursor."""
        table = self.query_one("#convert-table", DataTable)
        if not self.plan.columns or table.row_count == 0:
            return None
        row = min(max(table.cursor_row, 0), len(self.plan.columns) - 1)
        return self.plan.columns[row].name

    def edit(self, change: Callable[[], ConvertPlan]) -> None:
        """Apply one plan edit (a callable returning a new plan); a refused edit is explained, not raised."""
        if self.running:
            self.say("Wait for the run to end (escape cancels it).")
            return
        try:
            self.plan = change()
        except ConvertError as error:
            self.say(f"⚠ {error.message}")
            return
        self.show_plan()

    def action_rename(self) -> None:
        """Rename the target column; a name that exists merges the two."""
        target = self.current_target()
        if target is None:
            return

        def rename(name: str | None) -> None:
            if name is not None and name.strip():
                self.edit(lambda: self.plan.rename_target(target, name))

        self.app.push_screen(TextPromptScreen(f"Rename {target} to (an existing name merges)", target), rename)

    def action_map_column(self) -> None:
        """Choose which source column fills the target column (or none)."""
        target = self.current_target()
        if target is None or not self.plan.schemas:
            return

        def pick_column(source: int | None) -> None:
            if source is None:
                return
            schema = self.plan.schemas[source]
            names = [column.name for column in schema.columns]
            items = ["(none: nulls)", *(f"{column.name}: {column.dtype}" for column in schema.columns)]

            def chosen(index: int | None) -> None:
                if index is None:
                    return
                if index == 0:
                    current = self.plan.mappings[source].source_for(target)
                    if current is not None:
                        self.edit(lambda: self.plan.map_column(source, current, None))
                    return
                self.edit(lambda: self.plan.map_column(source, names[index - 1], target))

            self.app.push_screen(ChoiceScreen(f"{schema.name}: which column fills {target}?", items), chosen)

        if len(self.plan.schemas) == 1:
            pick_column(0)
            return
        sources = [f"{index + 1}. {schema.name}" for index, schema in enumerate(self.plan.schemas)]
        self.app.push_screen(ChoiceScreen(f"Map a column onto {target} from which file?", sources), pick_column)

    @on(DataTable.RowSelected, "#convert-table")
    def map_selected_row(self) -> None:
        """Enter on a target column maps a source column onto it."""
        self.action_map_column()

    def action_toggle_drop(self) -> None:
        """Leave the target column out, or bring it back."""
        target = self.current_target()
        column = self.plan.column(target) if target else None
        if column is not None:
            self.edit(lambda: self.plan.drop_target(column.name, keep=not column.keep))

    def action_cast(self) -> None:
        """Cast the target column to another type."""
        target = self.current_target()
        if target is None:
            return

        def cast(index: int | None) -> None:
            if index is not None:
                self.edit(lambda: self.plan.cast_target(target, CAST_TYPES[index]))

        self.app.push_screen(ChoiceScreen(f"Cast {target} to", CAST_TYPES), cast)

    def action_pick_label(self) -> None:
        """Stratify the splits by the target column under the cursor."""
        target = self.current_target()
        if target is not None:
            self.label_chosen = True
            self.edit(lambda: self.plan.with_label(target))

    def action_toggle_dedupe(self) -> None:
        """Drop exact duplicate rows, or keep them (they are counted either way)."""
        self.edit(lambda: replace(self.plan, dedupe=not self.plan.dedupe))

    def action_toggle_source_column(self) -> None:
        """Add a `source` column naming each row's file, or not."""
        self.edit(lambda: replace(self.plan, add_source_column=not self.plan.add_source_column))

    def action_toggle_skip_bad_rows(self) -> None:
        """Skip CSV rows with more fields than the header (counted in the report) in files added from now on,
        or refuse such files; a file refused for them is read again."""
        self.edit(lambda: replace(self.plan, skip_bad_rows=not self.plan.skip_bad_rows))
        if self.plan.skip_bad_rows:
            self.retry_for("skip_bad_rows")

    # Running

    def settings_plan(self) -> ConvertPlan:
        """The plan with the seed, splits and output folder typed on the screen (ConvertError when they are bad)."""
        return with_typed_settings(
            self.plan,
            seed=self.query_one("#convert-seed", Input).value,
            splits=self.query_one("#convert-splits", Input).value,
            output=self.query_one("#convert-out", Input).value,
        )

    def action_run(self) -> None:
        """Convert with the plan as shown, in a worker; escape cancels."""
        if self.running:
            return
        if self.pending:
            self.say("Wait until every file is read.")
            return
        try:
            plan = self.settings_plan()
        except ConvertError as error:
            self.say(f"⚠ {error.message}")
            return
        self.plan = plan
        self.running = True
        self.report = None
        bar = self.query_one("#convert-bar", ProgressBar)
        bar.update(total=None, progress=0)
        bar.display = True
        self.say("Converting… (escape cancels)")
        self.run_conversion(plan)

    @work(thread=True, exclusive=True, exit_on_error=False, group="convert", description="Convert files to Parquet")
    def run_conversion(self, plan: ConvertPlan) -> None:
        """Run the conversion off the event loop; progress and the outcome arrive as messages."""
        worker = get_current_worker()
        try:
            report = convert(
                plan,
                progress=lambda step: self.post_message(ConversionProgressed(step)),
                is_cancelled=lambda: worker.is_cancelled,
            )
        except ConvertCancelled as cancelled:
            self.post_message(ConversionEnded("cancelled", cancelled.message))
        except ConvertError as error:
            self.post_message(ConversionEnded("failed", error.message + SETTING_HINTS.get(error.setting or "", "")))
        except Exception as error:  # a bug, not bad data: still end the run on screen
            self.post_message(ConversionEnded("failed", f"{type(error).__name__}: {error}"))
        else:
            self.post_message(ConversionEnded("done", "Done.", report))

    @on(ConversionProgressed)
    def show_progress(self, event: ConversionProgressed) -> None:
        """Move the bar and name the step."""
        if not self.running:
            return
        step = event.progress
        self.query_one("#convert-bar", ProgressBar).update(total=step.total, progress=step.done)
        self.say(f"{step.step}… (escape cancels)")

    @on(ConversionEnded)
    def end_run(self, event: ConversionEnded) -> None:
        """Show the report when done; say what happened otherwise."""
        self.running = False
        self.query_one("#convert-bar").display = False
        if event.report is None:
            self.say(("⚠ " if event.outcome == "failed" else "") + event.text)
            return
        report = event.report
        self.report = report
        splits = ", ".join(f"{split.name} {split.rows}" for split in report.splits)
        self.say(f"Wrote {report.rows_out} rows: {splits} · escape: the mapping")
        self.query_one("#convert-report", Markdown).update(printable(report_markdown(report)))
        self.query_one("#convert-table").display = False
        box = self.query_one("#convert-report-box")
        box.display = True
        self.set_focus(box)

    def say(self, text: str) -> None:
        """One status line (file-derived text shown as plain text)."""
        self.query_one("#convert-status", Static).update(plain(text, single_line=True))

    def action_cancel_or_back(self) -> None:
        """Escape: cancel a run, else close the report, else leave a text box, else go back."""
        if self.running:
            self.workers.cancel_group(self, "convert")
            self.say("Cancelling…")
        elif self.query_one("#convert-report-box").display:
            self.query_one("#convert-report-box").display = False
            table = self.query_one("#convert-table")
            table.display = True
            self.set_focus(table)
        elif isinstance(self.focused, Input):
            self.set_focus(self.query_one("#convert-table"))
        else:
            self.app.pop_screen()
