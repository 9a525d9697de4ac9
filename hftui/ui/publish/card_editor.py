"""The card editor: a folder's README.md (or a draft on the Hub's template) as a metadata form kept in step with
the whole card in a text box, a rendered preview, and the checks that run before an upload, each explained.

The text box is the truth: the form writes its fields into the YAML front matter, and the form follows what the
text's front matter says once it parses. Checking (YAML, licence, task, the base model's licence from its cached
card) runs in a worker a moment after the last change; ctrl+s saves atomically.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import ContentSwitcher, Footer, Input, Markdown, OptionList, Select, Static, TextArea
from textual.widgets.option_list import Option

from hftui.hub.cards.check import CardProblem, blocking
from hftui.hub.cards.draft import CARD_FILE, save_card
from hftui.hub.cards.edit import (
    CARD_FIELDS,
    CARD_FIELDS_BY_KEY,
    CardField,
    cards_to_edit,
    check_edited_card,
    field_value,
    metadata_value,
    parse_field_text,
    read_front_matter,
    set_metadata,
)
from hftui.hub.cards.text import parse_card
from hftui.hub.plain_text import printable
from hftui.ui.base import ReportsWorkerFailures
from hftui.ui.dialogs.confirm import ConfirmScreen
from hftui.ui.publish.publish import PublishScreen
from hftui.ui.untrusted import plain

CHECK_DELAY_S = 0.25


def markdown_language() -> str | None:
    """ "markdown" when its tree-sitter grammar is installed (highlighting), else None (plain text)."""
    return "markdown" if importlib.util.find_spec("tree_sitter_markdown") is not None else None


@dataclass
class CardDrafted(Message):
    """The folder's card (its README or a draft of each kind) and the kind its files suggest."""

    kind: str
    drafts: dict[str, str]
    existing: bool


@dataclass
class CardUnavailable(Message):
    """The folder could not be read."""

    text: str


@dataclass
class CardChecked(Message):
    """The card text of `generation` was parsed and checked."""

    generation: int
    metadata: dict[str, Any]
    body: str
    parsed: bool
    problems: tuple[CardProblem, ...]


@dataclass
class CardSaved(Message):
    """README.md was written (`text`), or could not be (`error`)."""

    text: str
    error: str | None = None


class CardEditorScreen(ReportsWorkerFailures, Screen[None]):
    """A folder's card: form, text, preview (v), checks; ctrl+s saves, k switches model/dataset, p publishes."""

    HELP_TITLE = "Card editor"
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="card.save"),
        Binding("escape", "leave_field_or_back", "Back", id="card.back"),
        Binding("v", "toggle_preview", "Preview", id="card.preview"),
        Binding("k", "toggle_kind", "Model/dataset", id="card.kind"),
        Binding("p", "publish", "Publish", id="card.publish"),
        Binding("f2", "toggle_preview", "Preview", show=False, id="card.preview-f2"),
    ]

    def __init__(self, folder: Path, kind: str | None = None) -> None:
        super().__init__()
        self.folder = Path(folder).expanduser().resolve()
        self.kind = kind or "model"
        self.kind_given = kind is not None
        self.drafts: dict[str, str] = {}
        self.existing = False
        self.loaded = False
        self.saved_text: str | None = None
        self.generation = 0
        self.checked_generation = -1
        self.problems: tuple[CardProblem, ...] = ()
        self.body = ""
        self.publish_after_save = False
        self._check_timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Static(plain(f"Card: {self.folder}", single_line=True), id="cardedit-heading", classes="screen-heading")
        with Horizontal(id="cardedit-main"):
            with VerticalScroll(id="cardedit-form"):
                for field in CARD_FIELDS:
                    with Horizontal(classes="cardedit-row", id=f"cardedit-row-{field.key}"):
                        yield Static(field.caption, classes="field-caption")
                        if field.shape in ("choice", "first"):
                            yield Select(
                                field.choices,
                                prompt="(none)",
                                compact=True,
                                id=f"cardedit-{field.key}",
                                classes="cardedit-field",
                                type_to_search=True,
                            )
                        else:
                            yield Input(compact=True, id=f"cardedit-{field.key}", classes="cardedit-field")
            with ContentSwitcher(initial="cardedit-text", id="cardedit-switcher"):
                yield TextArea(
                    id="cardedit-text",
                    language=markdown_language(),
                    soft_wrap=True,
                    show_line_numbers=False,
                    compact=True,
                )
                with VerticalScroll(id="cardedit-preview"):
                    yield Markdown("", id="cardedit-markdown", open_links=False)
        yield OptionList(id="cardedit-problems", compact=True)
        yield Static("Reading the folder…", id="cardedit-status", classes="empty-state")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#cardedit-text", TextArea).read_only = True  # until the card is in
        self.show_kind()
        self.draft_card()

    # Reading, checking, saving: workers.

    @work(thread=True, exclusive=True, exit_on_error=False, group="card-draft", description="Read the card")
    def draft_card(self) -> None:
        """The folder's README or drafts of both kinds, and which kind the files suggest."""
        folder = self.folder
        if not folder.is_dir():
            self.post_message(CardUnavailable(f"{folder} is not a folder."))
            return
        try:
            cards = cards_to_edit(folder)
        except OSError as error:
            self.post_message(CardUnavailable(f"Could not read {folder}: {error.strerror or error}"))
            return
        self.post_message(CardDrafted(cards.kind, cards.drafts, cards.existing))

    @work(thread=True, exclusive=True, exit_on_error=False, group="card-check", description="Check the card")
    def check_card(self, generation: int, text: str, kind: str) -> None:
        """Parse the card and run the checks that fit its kind (the base licence from the cached base card)."""
        check = check_edited_card(text, dataset=kind == "dataset")
        self.post_message(CardChecked(generation, check.metadata, check.body, check.parsed, check.problems))

    @work(thread=True, exclusive=True, exit_on_error=False, group="card-save", description="Save the card")
    def write_card(self, text: str) -> None:
        """Write README.md atomically."""
        try:
            save_card(self.folder, text)
        except OSError as error:
            self.post_message(CardSaved(text, error.strerror or str(error)))
        else:
            self.post_message(CardSaved(text))

    # Handlers.

    @on(CardDrafted)
    def load_card(self, event: CardDrafted) -> None:
        """Put the card in the text box and check it."""
        self.drafts, self.existing = event.drafts, event.existing
        if not self.kind_given:
            self.kind = event.kind
        text = self.drafts[self.kind]
        self.saved_text = text if event.existing else None
        area = self.query_one("#cardedit-text", TextArea)
        area.read_only = False
        area.load_text(text)
        self.loaded = True
        self.show_kind()
        self.say(
            (f"{self.folder / CARD_FILE} read" if event.existing else f"No {self.folder / CARD_FILE} yet: a draft")
            + " · ctrl+s saves"
        )
        self.query_one("#cardedit-license").focus()
        self.schedule_check()

    @on(CardUnavailable)
    def show_unavailable(self, event: CardUnavailable) -> None:
        """Say why there is no card to edit."""
        self.say(f"⚠ {event.text}")

    @on(TextArea.Changed, "#cardedit-text")
    def text_changed(self) -> None:
        """Any edit (typed or from the form) makes a new generation, checked a moment later."""
        if self.loaded:
            self.schedule_check()

    def schedule_check(self) -> None:
        """Check the text after CHECK_DELAY_S without changes."""
        self.generation += 1
        self.show_heading()
        if self._check_timer is not None:
            self._check_timer.stop()
        self._check_timer = self.set_timer(CHECK_DELAY_S, self.start_check)

    def start_check(self) -> None:
        """Hand the current text to the check worker."""
        self._check_timer = None
        self.check_card(self.generation, self.text, self.kind)

    @on(CardChecked)
    def show_check(self, event: CardChecked) -> None:
        """The problems list, the form and the preview follow the newest checked text."""
        if event.generation != self.generation:
            return  # the text changed meanwhile; its own check is on the way
        self.checked_generation = event.generation
        self.problems = event.problems
        self.body = event.body
        if event.parsed:
            self.fill_form(event.metadata)
        self.show_problems()
        self.show_heading()
        if self.query_one(ContentSwitcher).current == "cardedit-preview":
            self.show_preview()

    def fill_form(self, metadata: dict[str, Any]) -> None:
        """Set each form box that says something else than the card; the box being typed in is left alone."""
        for field in CARD_FIELDS:
            widget = self.query_one(f"#cardedit-{field.key}")
            wanted = field_value(field, metadata.get(field.key))
            if self.form_value(field) == wanted or (widget.has_focus and isinstance(widget, Input)):
                continue
            with widget.prevent(Select.Changed, Input.Changed):
                if isinstance(widget, Select):
                    known = {value for _prompt, value in field.choices}
                    widget.value = wanted[0] if wanted and wanted[0] in known else Select.NULL
                elif isinstance(widget, Input):
                    widget.value = ", ".join(wanted)

    def form_value(self, field: CardField) -> tuple[str, ...]:
        """What the form's box for `field` holds."""
        widget = self.query_one(f"#cardedit-{field.key}")
        if isinstance(widget, Select):
            value = widget.value
            return () if value is Select.NULL or value is None else (str(value),)
        assert isinstance(widget, Input)
        return parse_field_text(field, widget.value)

    @on(Select.Changed, ".cardedit-field")
    @on(Input.Changed, ".cardedit-field")
    def write_field(self, event: Select.Changed | Input.Changed) -> None:
        """A form edit goes into the card's front matter (the text box then re-checks)."""
        widget = event.control
        if not self.loaded or widget is None or not widget.id:
            return
        field = CARD_FIELDS_BY_KEY[widget.id.removeprefix("cardedit-")]
        values = self.form_value(field)
        text = self.text
        front = read_front_matter(text)
        current = front.get(field.key) if front else None
        if front is not None and field_value(field, current) == values:
            return
        updated = set_metadata(text, field.key, metadata_value(field, values, current))
        if updated is None:
            self.say("⚠ The card's YAML does not parse: fix it in the text first, then use the form.")
            return
        area = self.query_one("#cardedit-text", TextArea)
        area.replace(updated, area.document.start, area.document.end)

    @on(CardSaved)
    def saved(self, event: CardSaved) -> None:
        """Say where the card went; open the publish screen when that was asked for."""
        if event.error:
            self.publish_after_save = False
            self.say(f"⚠ Not saved: {event.error}")
            return
        self.saved_text = event.text
        self.existing = True
        errors = len(blocking(self.problems))
        note = f" with {errors} error{'s' if errors != 1 else ''} that stop an upload" if errors else ""
        self.say(f"Saved {self.folder / CARD_FILE}{note}.")
        self.show_heading()
        if self.publish_after_save:
            self.publish_after_save = False
            self.open_publish()

    @on(OptionList.OptionSelected, "#cardedit-problems")
    def go_to_problem(self, event: OptionList.OptionSelected) -> None:
        """Enter on a problem focuses its form box (or the text for the others)."""
        key = (event.option.id or "").split(":", 1)[-1]
        field = CARD_FIELDS_BY_KEY.get(key)
        if field is not None and self.kind in field.kinds:
            self.query_one(f"#cardedit-{key}").focus()
        else:
            self.query_one(ContentSwitcher).current = "cardedit-text"
            self.query_one("#cardedit-text").focus()

    # Showing.

    @property
    def text(self) -> str:
        """The card as it stands in the text box."""
        return self.query_one("#cardedit-text", TextArea).text

    @property
    def dirty(self) -> bool:
        """Whether the text differs from README.md on disk (a draft never saved counts)."""
        return self.loaded and self.text != self.saved_text

    def show_kind(self) -> None:
        """Show the form rows of this kind of card."""
        for field in CARD_FIELDS:
            self.query_one(f"#cardedit-row-{field.key}").display = self.kind in field.kinds
        self.show_heading()

    def show_heading(self) -> None:
        """Kind, file and whether it is saved."""
        state = "unsaved changes" if self.dirty else "saved"
        if not self.loaded:
            state = "loading"
        errors = len(blocking(self.problems))
        checked = "checking…" if self.checked_generation != self.generation else f"{errors} errors"
        heading = f"{self.kind.title()} card · {self.folder.name}/{CARD_FILE} · {state} · {checked}"
        self.query_one("#cardedit-heading", Static).update(plain(heading, single_line=True))

    def show_problems(self) -> None:
        """One line per problem, errors first, each saying what to do."""
        box = self.query_one("#cardedit-problems", OptionList)
        highlighted = box.highlighted
        box.clear_options()
        ordered = sorted(self.problems, key=lambda problem: problem.severity != "error")
        if not ordered:
            box.add_option(Option(plain("✓ No problems: the card is ready to publish."), id="ok:"))
        for index, problem in enumerate(ordered):
            mark = "✖ error" if problem.severity == "error" else "△ warning"
            box.add_option(Option(plain(f"{mark} {problem.field}: {problem.message}"), id=f"{index}:{problem.field}"))
        if highlighted is not None and box.option_count:
            box.highlighted = min(highlighted, box.option_count - 1)

    def show_preview(self) -> None:
        """Render the card's text (never following its links)."""
        self.query_one("#cardedit-markdown", Markdown).update(printable(self.body))

    def say(self, text: str) -> None:
        """One status line."""
        self.query_one("#cardedit-status", Static).update(plain(text, single_line=True))

    # Actions.

    def action_save(self) -> None:
        """Write README.md atomically (in a worker)."""
        if not self.loaded:
            return
        self.say("Saving…")
        self.write_card(self.text)

    def action_toggle_preview(self) -> None:
        """Switch between the text and the rendered card."""
        switcher = self.query_one(ContentSwitcher)
        if switcher.current == "cardedit-text":
            self.body = parse_card(self.text).body
            self.show_preview()
            switcher.current = "cardedit-preview"
            self.query_one("#cardedit-preview").focus()
        else:
            switcher.current = "cardedit-text"
            self.query_one("#cardedit-text").focus()

    def action_toggle_kind(self) -> None:
        """Model card or dataset card: the form and the checks follow; an untouched draft becomes the other."""
        if not self.loaded:
            return
        other = "dataset" if self.kind == "model" else "model"
        untouched = not self.existing and self.text == self.drafts.get(self.kind)
        self.kind = other
        self.kind_given = True
        self.show_kind()
        if untouched:
            self.query_one("#cardedit-text", TextArea).load_text(self.drafts[other])
            self.saved_text = None
        self.schedule_check()
        self.say(f"Checking as a {other} card.")

    def action_publish(self) -> None:
        """Save when needed, then open the publish screen for this folder."""
        if not self.loaded:
            return
        if self.dirty:
            self.publish_after_save = True
            self.action_save()
            return
        self.open_publish()

    def open_publish(self) -> None:
        """The publish screen, for this folder as this kind; its e comes back here."""
        self.app.push_screen(PublishScreen(self.folder, self.kind, edit_card=self.back_from_publish))

    def back_from_publish(self, _folder: Path, _kind: str) -> None:
        """e on the publish screen this editor opened: back to this editor."""
        self.app.pop_screen()

    def action_leave_field_or_back(self) -> None:
        """Escape: out of a box to the problems list, else back (asking first when there are unsaved changes)."""
        focused = self.focused
        problems = self.query_one("#cardedit-problems")
        if focused is not None and focused is not problems:
            problems.focus()
            return
        if not self.dirty:
            self.app.pop_screen()
            return

        def leave(answer: bool | None) -> None:
            if answer:
                self.app.pop_screen()

        self.app.push_screen(
            ConfirmScreen("Leave without saving?", "The card's changes are not saved in README.md."), leave
        )
