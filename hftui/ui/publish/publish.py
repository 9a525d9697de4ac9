"""Publish a folder to the Hub: repo id, type, privacy, include/exclude patterns and a commit message; the plan
(files, size, what is left out, warnings, problems, the card's errors) made live in a worker; the upload in
another, with one progress bar, cancellable; the result's URL and commit id ready to copy.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Button, Checkbox, DataTable, Footer, Input, ProgressBar, Select, Static
from textual.worker import get_current_worker

from hftui.hub.account import WhoAmI, ask_whoami
from hftui.hub.cards.check import CardProblem, blocking
from hftui.hub.cards.draft import guess_card_kind
from hftui.hub.errors import explain_hub_error
from hftui.hub.publish import (
    PublishCancelled,
    PublishPlan,
    PublishProgress,
    PublishRefused,
    PublishRequest,
    PublishResult,
    default_repo_name,
    planned_card_problems,
    publish,
    split_patterns,
)
from hftui.humanize import human_size
from hftui.ui.app_state import hub_app
from hftui.ui.base import ReportsWorkerFailures
from hftui.ui.messages import Coalescing, WhoAmIFetched
from hftui.ui.untrusted import plain, plain_cell

PLAN_DELAY_S = 0.3
DEFAULT_MESSAGE = "Upload with hftui"


@dataclass
class PlanMade(Message):
    """The plan for a form, with the card's problems (None when the folder has no card)."""

    form: PublishRequest
    plan: PublishPlan
    kind: str | None
    card_problems: tuple[CardProblem, ...] | None


@dataclass
class PublishProgressed(Coalescing):
    """The upload moved on; only the newest matters."""

    progress: PublishProgress


@dataclass
class PublishEnded(Message):
    """The publish finished (with its result), was refused, cancelled or failed."""

    outcome: str  # "done", "refused", "cancelled", "failed"
    text: str
    result: PublishResult | None = None


def toggle_label(name: str, on: bool) -> str:
    """A toggle's label with its state in words."""
    return f"{name}: {'yes' if on else 'no'}"


EditCard = Callable[[Path, str], object]
"""How e on the publish screen opens the card editor on a folder as a kind; given by whoever opens the screen."""


class PublishScreen(ReportsWorkerFailures, Screen[None]):
    """A folder to the Hub as one commit; p publishes, escape or c cancels, y/i copy the URL/commit id."""

    HELP_TITLE = "Publish"
    BINDINGS = [
        Binding("escape", "cancel_or_back", "Back/cancel", id="publish.back"),
        Binding("p", "publish", "Publish", id="publish.go"),
        Binding("c", "cancel", "Cancel", id="publish.cancel"),
        Binding("e", "edit_card", "Card", id="publish.card"),
        Binding("y", "copy_url", "Copy URL", id="publish.copy-url"),
        Binding("i", "copy_commit", "Copy commit", id="publish.copy-commit"),
    ]

    def __init__(self, folder: Path, kind: str | None = None, *, edit_card: EditCard | None = None) -> None:
        super().__init__()
        self.folder = Path(folder).expanduser().resolve()
        self.kind = kind
        self.edit_card = edit_card
        self.who: WhoAmI | None = None
        self.who_problem: str | None = None
        self.plan: PublishPlan | None = None
        self.plan_form: PublishRequest | None = None
        self.card_problems: tuple[CardProblem, ...] | None = None
        self.running = False
        self.cancel_event: threading.Event | None = None
        self.publish_when_planned = False
        self.result: PublishResult | None = None
        self._plan_timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Static(plain(f"Publish {self.folder}", single_line=True), classes="screen-heading")
        yield Static("", id="publish-account")
        with Horizontal(classes="publish-row"):
            yield Static("repo", classes="field-caption")
            yield Input(placeholder="namespace/name", id="publish-repo", compact=True, classes="publish-field")
            yield Select(
                [("model", "model"), ("dataset", "dataset")],
                value=self.kind or "model",
                allow_blank=False,
                compact=True,
                id="publish-type",
                classes="publish-field",
            )
        with Horizontal(classes="publish-row"):
            yield Checkbox(toggle_label("private", False), id="publish-private", compact=True)
            yield Checkbox(toggle_label("with checkpoints", False), id="publish-checkpoints", compact=True)
            yield Button("Publish", id="publish-go", compact=True, variant="primary")
        with Horizontal(classes="publish-row"):
            yield Static("only", classes="field-caption")
            yield Input(placeholder="all files (or *.safetensors, *.json)", id="publish-include", compact=True)
            yield Static("leave out", classes="field-caption")
            yield Input(placeholder="patterns (checkpoints already)", id="publish-exclude", compact=True)
        with Horizontal(classes="publish-row"):
            yield Static("message", classes="field-caption")
            yield Input(DEFAULT_MESSAGE, id="publish-message", compact=True)
        yield Static("Planning…", id="publish-summary")
        yield Static("", id="publish-problems")
        yield DataTable(id="publish-files", cursor_type="row", zebra_stripes=True)
        yield ProgressBar(id="publish-bar", show_eta=False)
        yield Static("", id="publish-status", classes="empty-state")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#publish-bar").display = False
        self.query_one("#publish-problems").display = False
        self.query_one("#publish-files", DataTable).add_columns("file", "size")
        self.query_one("#publish-repo").focus()
        self.watch(self.app, "reachability", lambda _value: self.ask_who(), init=False)
        self.ask_who()
        self.schedule_plan(0)

    @property
    def offline(self) -> bool:
        """Whether the Hub must not be asked."""
        return bool(hub_app(self).offline)

    # Workers.

    @work(thread=True, exclusive=True, exit_on_error=False, group="publish-whoami", description="Ask the Hub whoami")
    def fetch_who(self) -> None:
        """Who the token in force belongs to, and whether it may write."""
        api = hub_app(self).hub_api()
        if api is None:
            return
        self.post_message(WhoAmIFetched(*ask_whoami(api)))

    @work(thread=True, exclusive=True, exit_on_error=False, group="publish-plan", description="Plan the upload")
    def make_plan(self, form: PublishRequest, kind_known: bool) -> None:
        """List the folder with the form's patterns, and check its card."""
        kind: str | None = None
        if not kind_known and self.folder.is_dir():
            kind = guess_card_kind(self.folder)
            form = replace(form, repo_type=kind)
        plan = form.plan(self.folder)
        self.post_message(PlanMade(form, plan, kind, planned_card_problems(plan)))

    @work(thread=True, exclusive=True, exit_on_error=False, group="publish", description="Publish to the Hub")
    def run_publish(self, plan: PublishPlan, message: str, cancel: threading.Event) -> None:
        """Publish the plan as one commit; progress and the outcome come back as messages."""
        worker = get_current_worker()
        api = hub_app(self).hub_api()
        if api is None:
            self.post_message(PublishEnded("refused", "Publishing needs the Hub, and hftui is offline."))
            return
        try:
            result = publish(
                plan,
                api=api,
                commit_message=message,
                on_progress=lambda progress: self.post_message(PublishProgressed(progress)),
                cancelled=lambda: cancel.is_set() or worker.is_cancelled,
            )
        except PublishRefused as refused:
            self.post_message(PublishEnded("refused", f"Refused, nothing was sent: {refused.message}"))
        except PublishCancelled:
            self.post_message(
                PublishEnded("cancelled", "Cancelled: nothing was committed. p starts again (sent files are kept).")
            )
        except Exception as error:
            problem = explain_hub_error(error, repo_id=plan.repo_id, endpoint=api.endpoint)
            self.post_message(
                PublishEnded("failed", f"Failed: {problem.message} Nothing was committed; p tries again.")
            )
        else:
            self.post_message(PublishEnded("done", "Published.", result))

    # The form and the plan.

    def ask_who(self) -> None:
        """Ask the Hub who the token is (when it may be asked), else say why not."""
        if self.offline:
            self.show_account()
        elif self.who is None:
            self.query_one("#publish-account", Static).update("Asking the Hub who the token belongs to…")
            self.fetch_who()

    @on(WhoAmIFetched)
    def record_who(self, event: WhoAmIFetched) -> None:
        """Keep who the token is; default the repo id to <user>/<folder name>."""
        self.who, self.who_problem = event.who, event.problem
        repo = self.query_one("#publish-repo", Input)
        if event.who is not None and not repo.value.strip():
            repo.value = f"{event.who.user}/{default_repo_name(self.folder)}"
            repo.cursor_position = len(repo.value)
        self.show_account()

    def show_account(self) -> None:
        """Who publishes, and a read-only token called out before anything is tried."""
        box = self.query_one("#publish-account", Static)
        box.set_class(False, "-problem")
        if self.offline:
            box.update("⚠ Offline: publishing needs the Hub (ctrl+r retries).")
            box.set_class(True, "-problem")
        elif self.who is None:
            box.update(plain(f"⚠ {self.who_problem}" if self.who_problem else "Asking the Hub…"))
            box.set_class(bool(self.who_problem), "-problem")
        elif self.who.read_only:
            box.update(
                plain(
                    f'⚠ READ-ONLY TOKEN "{self.who.token_name or "?"}" ({self.who.user}): it cannot create repos or '
                    "upload. Log in with a write token on the Account screen (u, then l)."
                )
            )
            box.set_class(True, "-problem")
        else:
            places = self.who.writable_namespaces
            where = ", ".join(places if places is not None else (self.who.user, *self.who.orgs))
            box.update(plain(f"As {self.who.user} ({self.who.role_label} token), may write under: {where}"))

    def form(self) -> PublishRequest:
        """The form as it stands."""
        kind = self.query_one("#publish-type", Select).value
        return PublishRequest(
            repo_id=self.query_one("#publish-repo", Input).value.strip(),
            repo_type=str(kind) if kind in ("model", "dataset") else "model",
            private=self.query_one("#publish-private", Checkbox).value,
            include=split_patterns(self.query_one("#publish-include", Input).value),
            exclude=split_patterns(self.query_one("#publish-exclude", Input).value),
            include_checkpoints=self.query_one("#publish-checkpoints", Checkbox).value,
            message=self.query_one("#publish-message", Input).value.strip() or DEFAULT_MESSAGE,
        )

    @on(Input.Changed)
    @on(Select.Changed)
    def form_changed(self) -> None:
        """Any change re-plans a moment later."""
        self.schedule_plan()

    @on(Checkbox.Changed)
    def toggled(self, event: Checkbox.Changed) -> None:
        """A toggle says its state in words (not by colour alone), and re-plans."""
        name = "private" if event.checkbox.id == "publish-private" else "with checkpoints"
        event.checkbox.label = toggle_label(name, event.value)
        self.schedule_plan()

    @on(Input.Submitted)
    def field_submitted(self, event: Input.Submitted) -> None:
        """Enter in a box plans now and moves to the Publish button."""
        event.stop()
        self.schedule_plan(0)
        self.query_one("#publish-go").focus()

    def schedule_plan(self, delay: float = PLAN_DELAY_S) -> None:
        """Plan the form after `delay` seconds without changes."""
        if self._plan_timer is not None:
            self._plan_timer.stop()
        self._plan_timer = self.set_timer(delay, self.start_plan) if delay else None
        if not delay:
            self.start_plan()

    def start_plan(self) -> None:
        """Hand the form to the plan worker."""
        self._plan_timer = None
        self.make_plan(self.form(), self.kind is not None)

    @on(PlanMade)
    def show_plan(self, event: PlanMade) -> None:
        """Summary, problems, warnings, the card's errors and the file list."""
        if event.kind is not None and self.kind is None:
            self.kind = event.kind
            select = self.query_one("#publish-type", Select)
            if select.value != event.kind:
                with select.prevent(Select.Changed):
                    select.value = event.kind
        if event.form != self.form():
            self.schedule_plan()  # the form changed while this was planned
            return
        plan = self.plan = event.plan
        self.plan_form = event.form
        self.card_problems = event.card_problems
        left_out = f", {len(plan.excluded)} left out" if plan.excluded else ""
        privacy = "private" if plan.private else "public"
        summary = (
            f"{len(plan.files)} files, {human_size(plan.total_bytes)}{left_out} → {privacy} {plan.repo_type} "
            f"{plan.repo_id or '?'}"
        )
        self.query_one("#publish-summary", Static).update(plain(summary, single_line=True))
        lines = [f"✖ {problem}" for problem in plan.problems]
        if not event.form.repo_id:
            lines[:1] = ["✖ Type the repo id: namespace/name (your user or an organisation, then a name)."]
        card_errors = blocking(event.card_problems or ())
        lines += [f"✖ card {problem.field}: {problem.message}" for problem in card_errors]
        if card_errors:
            lines.append("✖ The card has errors that stop an upload: e opens the card editor.")
        lines += [f"△ {warning}" for warning in plan.warnings]
        lines += [
            f"△ card {problem.field}: {problem.message}"
            for problem in event.card_problems or ()
            if problem.severity != "error"
        ]
        if plan.excluded:
            shown = ", ".join(plan.excluded[:4]) + (", …" if len(plan.excluded) > 4 else "")
            lines.append(f"left out: {shown}")
        box = self.query_one("#publish-problems", Static)
        box.update(plain("\n".join(lines)))
        box.display = bool(lines)
        table = self.query_one("#publish-files", DataTable)
        table.clear()
        for planned in plan.files:
            table.add_row(plain_cell(planned.path), plain_cell(human_size(planned.size)), key=planned.path)
        if self.publish_when_planned:
            self.publish_when_planned = False
            self.action_publish()

    # Publishing.

    def refusal(self, plan: PublishPlan) -> str | None:
        """Why this plan cannot go now, before anything is sent; None when it can."""
        if self.offline:
            return "Publishing needs the Hub, and hftui is offline (ctrl+r retries)."
        if plan.problems:
            return plan.problems[0]
        errors = blocking(self.card_problems or ())
        if errors:
            return f"The card has {len(errors)} error(s): fix them in the card editor (e) first."
        if self.who is not None and self.who.read_only:
            return "The token is read-only: log in with a write token on the Account screen first."
        namespace = plan.namespace
        if self.who is not None and namespace and not self.who.can_write(namespace):
            return f'{self.who.user} cannot write under "{namespace}" with this token.'
        return None

    def action_publish(self) -> None:
        """Publish the planned files (planning first if the form changed)."""
        if self.running:
            return
        if self.plan is None or self.plan_form != self.form():
            self.publish_when_planned = True
            self.say("Planning…")
            self.schedule_plan(0)
            return
        plan = self.plan
        reason = self.refusal(plan)
        if reason is not None:
            self.say(f"⚠ Not published: {reason}")
            return
        self.running = True
        self.result = None
        self.cancel_event = threading.Event()
        bar = self.query_one("#publish-bar", ProgressBar)
        bar.update(total=max(plan.total_bytes, 1), progress=0)
        bar.display = True
        self.say(f"Publishing to {plan.repo_id}… (escape or c cancels)")
        self.refresh_bindings()
        self.run_publish(plan, self.form().message, self.cancel_event)

    @on(Button.Pressed, "#publish-go")
    def publish_pressed(self) -> None:
        """The Publish button."""
        self.action_publish()

    @on(PublishProgressed)
    def show_progress(self, event: PublishProgressed) -> None:
        """Bytes, speed, time left and the file being sent."""
        if not self.running:
            return
        progress = event.progress
        self.query_one("#publish-bar", ProgressBar).update(
            total=max(progress.total_bytes, 1), progress=progress.done_bytes
        )
        speed = f"{human_size(progress.bytes_per_s)}/s" if progress.bytes_per_s else "-"
        eta = f"{progress.eta_s:.0f} s" if progress.eta_s is not None else "-"
        text = (
            f"{progress.phase}: {human_size(progress.done_bytes)} of {human_size(progress.total_bytes)} · "
            f"{speed} · ETA {eta} · {progress.current_file or '-'} (c cancels)"
        )
        self.say(text)

    @on(PublishEnded)
    def show_outcome(self, event: PublishEnded) -> None:
        """The URL and commit id (copied), or what went wrong."""
        self.running = False
        self.cancel_event = None
        self.query_one("#publish-bar").display = False
        self.refresh_bindings()
        result = event.result
        if result is None:
            self.say(("" if event.outcome == "cancelled" else "⚠ ") + event.text)
            return
        self.result = result
        self.app.copy_to_clipboard(result.repo_url)
        what = f"commit {result.commit_oid}" if result.changed else f"nothing changed since {result.commit_oid}"
        self.say(f"Published {result.repo_url} · {what} · URL copied (y URL, i commit id)")
        self.notify(f"{result.repo_url}\n{what}", title="Published", markup=False)
        self.schedule_plan(0)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Copying only with a result; publishing not twice (c stays this screen's, running or not)."""
        if action in ("copy_url", "copy_commit"):
            return True if self.result is not None else None
        if action == "edit_card":
            return self.edit_card is not None
        if action == "publish":
            return None if self.running else True
        return True

    def action_cancel(self) -> None:
        """Stop the upload at the next block read; nothing is committed."""
        if self.running and self.cancel_event is not None:
            self.cancel_event.set()
            self.say("Cancelling…")
        else:
            self.say("Nothing to cancel: no upload is running.")

    def action_copy_url(self) -> None:
        """Copy the repo URL."""
        if self.result is not None:
            self.app.copy_to_clipboard(self.result.repo_url)
            self.notify("Repo URL copied.", markup=False)

    def action_copy_commit(self) -> None:
        """Copy the commit id."""
        if self.result is not None:
            self.app.copy_to_clipboard(self.result.commit_oid)
            self.notify(f"Commit id copied: {self.result.commit_oid}", markup=False)

    def action_edit_card(self) -> None:
        """Open the card editor on this folder, or go back to the one that opened this screen (back with escape)."""
        if self.edit_card is not None:
            self.edit_card(self.folder, self.form().repo_type)

    def action_cancel_or_back(self) -> None:
        """Escape: cancel a running upload, else leave a box, else go back."""
        if self.running:
            self.action_cancel()
        elif isinstance(self.focused, Input):
            self.query_one("#publish-files").focus()
        else:
            self.app.pop_screen()

    def say(self, text: str) -> None:
        """One status line."""
        self.query_one("#publish-status", Static).update(plain(text, single_line=True))

    def on_screen_resume(self) -> None:
        # Back from the card editor: the card may have changed.
        if not self.running:
            self.schedule_plan(0)
