"""Account: the token in force and where it comes from (masked), the stored named tokens, who the Hub says the
token belongs to, logging in by pasting a token, and the way to the card editor and publishing.

The pasted token lives only in the password box until enter, then in a one-shot holder the login worker empties;
it is never shown, logged or notified. Everything else on this screen holds masks only.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from textual import on, work
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widget import Widget
from textual.widgets import DataTable, Input, Static

from hftui.hub.account import AccountState, WhoAmI, ask_whoami, login_with_token, read_account, switch_token
from hftui.hub.errors import explain_hub_error
from hftui.ui.app_state import hub_app
from hftui.ui.base import HubScreen
from hftui.ui.dialogs.path_prompt import PathPromptScreen
from hftui.ui.messages import TokenRead, WhoAmIFetched
from hftui.ui.untrusted import plain, plain_cell


@dataclass
class AccountRead(Message):
    """The token files were read (masks only)."""

    state: AccountState


@dataclass
class AccountChanged(Message):
    """A login or a switch ended; `ok` says whether it worked, `text` what happened (never the token)."""

    ok: bool
    text: str


def whoami_lines(who: WhoAmI) -> list[str]:
    """What the Hub says about the token, in words."""
    name = f"{who.user} ({who.fullname})" if who.fullname and who.fullname != who.user else who.user
    lines = [
        f"Hub user: {name}",
        f"Organisations: {', '.join(who.orgs) or 'none'}",
        f'Token "{who.token_name or "?"}": {who.role_label}',
    ]
    if who.writable_namespaces is not None and not who.read_only:
        lines[-1] += f", may write under: {', '.join(who.writable_namespaces)}"
    return lines


class AccountScreen(HubScreen):
    """The token, the stored tokens (enter or s switches), whoami, l to log in, e for a card, p to publish."""

    HELP_TITLE = "Account"
    BINDINGS = [
        Binding("l", "login", "Log in", id="account.login"),
        Binding("s", "switch", "Switch", id="account.switch"),
        Binding("e", "edit_card", "Card", id="account.card"),
        Binding("p", "publish", "Publish", id="account.publish"),
        Binding("escape", "close_login", "Close", show=False, id="account.close"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.state: AccountState | None = None
        self.who: WhoAmI | None = None
        self.who_problem: str | None = None
        self.busy = False

    def compose_body(self) -> Iterable[Widget]:
        yield Static("Account", classes="screen-heading")
        yield Static("Reading the token files…", id="account-token")
        yield Static("", id="account-override")
        yield Static("", id="account-whoami")
        yield Static("Stored tokens (enter or s makes one active):", id="account-stored-caption")
        yield DataTable(id="account-stored", cursor_type="row", zebra_stripes=True)
        with Vertical(id="account-login"):
            yield Static(
                "Paste a token (it stays hidden; enter logs in, escape closes). Create one under Settings > "
                "Access Tokens on the Hub; a write token is needed to publish.",
                id="account-login-hint",
            )
            yield Input(password=True, placeholder="hf_…", id="account-login-input", compact=True)
        yield Static("", id="account-status", classes="empty-state")

    def on_mount(self) -> None:
        self.query_one("#account-login").display = False
        self.query_one("#account-override").display = False
        table = self.query_one("#account-stored", DataTable)
        table.add_columns("", "name", "token")
        table.focus()
        self.watch(self.app, "reachability", lambda _value: self.reachability_changed(), init=False)
        self.read_state()

    def on_screen_resume(self) -> None:
        # The token may have changed elsewhere (`hf auth login` in another terminal) while this screen was away.
        if self.state is not None and not self.busy:
            self.read_state()

    @property
    def offline(self) -> bool:
        """Whether the Hub must not be asked."""
        return bool(hub_app(self).offline)

    # Workers

    @work(thread=True, exclusive=True, exit_on_error=False, group="account-read", description="Read the token files")
    def read_state(self) -> None:
        """Read the token files; the app's token status follows."""
        state = read_account()
        self.app.post_message(TokenRead(state.status))
        self.post_message(AccountRead(state))

    @work(thread=True, exclusive=True, exit_on_error=False, group="account-whoami", description="Ask the Hub whoami")
    def fetch_who(self) -> None:
        """Ask the Hub who the token in force belongs to."""
        api = hub_app(self).hub_api()
        if api is None:
            return
        self.post_message(WhoAmIFetched(*ask_whoami(api)))

    @work(thread=True, exclusive=True, exit_on_error=False, group="account-login", description="Log in")
    def log_in(self, secret: list[str]) -> None:
        """Check and store the pasted token; `secret` is emptied at once so nothing keeps it."""
        token = secret.pop() if secret else ""
        try:
            name = login_with_token(token)
        except ValueError as error:
            self.post_message(AccountChanged(False, str(error)))
        except Exception as error:
            problem = explain_hub_error(error, endpoint=hub_app(self).settings.endpoint)
            self.post_message(AccountChanged(False, f"Login failed: {problem.message}"))
        else:
            self.post_message(AccountChanged(True, f'Logged in: the token is stored as "{name}" and active.'))
        finally:
            del token
            state = read_account()
            self.app.post_message(TokenRead(state.status))
            self.post_message(AccountRead(state))

    @work(thread=True, exclusive=True, exit_on_error=False, group="account-switch", description="Switch tokens")
    def switch_to(self, name: str) -> None:
        """Make the stored token `name` the active one."""
        try:
            switch_token(name)
        except Exception as error:  # a name that vanished meanwhile, an unwritable token file
            self.post_message(AccountChanged(False, f'Could not switch to "{name}": {error}'))
        else:
            self.post_message(AccountChanged(True, f'"{name}" is now the active token.'))
        finally:
            state = read_account()
            self.app.post_message(TokenRead(state.status))
            self.post_message(AccountRead(state))

    # Showing

    @on(AccountRead)
    def show_account(self, event: AccountRead) -> None:
        """The token line, the override note and the stored tokens; then ask the Hub who it is."""
        changed = self.state is None or self.state.status != event.state.status
        self.state = state = event.state
        token = state.status
        if token.present:
            line = f"Token: {token.masked}, from {state.source_label}"
        else:
            line = "No token: press l to log in with one."
        self.query_one("#account-token", Static).update(plain(line))
        override = self.query_one("#account-override", Static)
        if state.env_override:
            override.update(
                plain(
                    f"⚠ {state.env_override} is set in the environment, so it is the token in force: logging in "
                    "or switching changes the stored token but not what hftui and hf use until it is unset."
                )
            )
        override.display = bool(state.env_override)
        table = self.query_one("#account-stored", DataTable)
        cursor = table.cursor_row
        table.clear()
        for stored in state.stored:
            mark = "● active" if stored.active else ""
            table.add_row(plain_cell(mark), plain_cell(stored.name), plain_cell(stored.masked), key=stored.name)
        if state.stored:
            table.move_cursor(row=min(max(cursor, 0), len(state.stored) - 1))
        caption = "Stored tokens (enter or s makes one active):" if state.stored else "No stored tokens."
        self.query_one("#account-stored-caption", Static).update(caption)
        if changed:
            self.who, self.who_problem = None, None
        self.ask_who()

    def ask_who(self) -> None:
        """Fetch whoami when there is a token and the Hub may be asked; else say what is known."""
        if self.state is not None and self.state.status.present and self.who is None and not self.offline:
            self.query_one("#account-whoami", Static).update("Asking the Hub who this token belongs to…")
            self.fetch_who()
        else:
            self.show_who()

    def reachability_changed(self) -> None:
        """Online again: ask the Hub; offline: say what is known from the files."""
        if self.state is not None:
            self.ask_who()

    @on(WhoAmIFetched)
    def record_who(self, event: WhoAmIFetched) -> None:
        """Keep what the Hub said."""
        self.who, self.who_problem = event.who, event.problem
        self.show_who()

    def show_who(self) -> None:
        """The whoami lines, the read-only call-out, or why they are not known."""
        box = self.query_one("#account-whoami", Static)
        box.set_class(False, "-problem")
        if self.state is None or not self.state.status.present:
            box.update("")
            return
        if self.offline:
            box.update(
                "Offline: who this token belongs to is not asked; the lines above come from the token files only "
                "(ctrl+r retries the Hub)."
            )
            return
        if self.who is None:
            box.update(plain(f"⚠ {self.who_problem}" if self.who_problem else "Asking the Hub…"))
            box.set_class(bool(self.who_problem), "-problem")
            return
        lines = whoami_lines(self.who)
        if self.who.read_only:
            lines.append(
                "⚠ READ-ONLY TOKEN: it can download but cannot create repos or upload. Log in with a write token "
                "(l) before publishing."
            )
            box.set_class(True, "-problem")
        box.update(plain("\n".join(lines)))

    @on(AccountChanged)
    def say_outcome(self, event: AccountChanged) -> None:
        """Say how the login or switch went; a good one asks the Hub again."""
        self.busy = False
        self.say(("" if event.ok else "⚠ ") + event.text)
        self.notify(event.text, severity="information" if event.ok else "error", markup=False)
        if event.ok:
            self.who, self.who_problem = None, None
            self.close_login_box()

    def say(self, text: str) -> None:
        """One status line."""
        self.query_one("#account-status", Static).update(plain(text, single_line=True))

    # Actions

    def action_login(self) -> None:
        """Open the password box."""
        self.query_one("#account-login").display = True
        self.query_one("#account-login-input", Input).focus()

    @on(Input.Submitted, "#account-login-input")
    def submit_token(self, event: Input.Submitted) -> None:
        """Hand the pasted token to the login worker and forget it here at once."""
        event.stop()
        box = event.input
        secret = [event.value]
        with box.prevent(Input.Changed):
            box.value = ""
        if not secret[0].strip():
            self.say("Paste a token first (escape closes the box).")
            return
        if self.offline:
            secret.clear()
            self.say("⚠ Logging in needs the Hub to check the token, and hftui is offline (ctrl+r retries).")
            return
        self.busy = True
        self.say("Checking the token with the Hub…")
        self.log_in(secret)

    def close_login_box(self) -> None:
        """Hide and empty the password box; focus goes back to the stored tokens."""
        box = self.query_one("#account-login-input", Input)
        with box.prevent(Input.Changed):
            box.value = ""
        self.query_one("#account-login").display = False
        self.query_one("#account-stored").focus()

    def action_close_login(self) -> None:
        """Escape closes the password box."""
        if self.query_one("#account-login").display:
            self.close_login_box()

    def action_switch(self) -> None:
        """Make the stored token under the cursor the active one."""
        table = self.query_one("#account-stored", DataTable)
        if self.state is None or not self.state.stored or self.busy:
            return
        stored = self.state.stored[min(max(table.cursor_row, 0), len(self.state.stored) - 1)]
        if stored.active:
            self.say(f'"{stored.name}" is already the active token.')
            return
        self.busy = True
        self.say(f'Switching to "{stored.name}"…')
        self.switch_to(stored.name)

    @on(DataTable.RowSelected, "#account-stored")
    def switch_selected(self) -> None:
        """Enter on a stored token switches to it."""
        self.action_switch()

    def action_edit_card(self) -> None:
        """Ask for a folder and open the card editor on it."""

        def open_editor(answer: str | None) -> None:
            if answer:
                from hftui.ui.publish.card_editor import CardEditorScreen

                self.app.push_screen(CardEditorScreen(Path(answer).expanduser()))

        self.app.push_screen(
            PathPromptScreen("Write the card of which folder?", str(Path.cwd()) + "/", hint=FOLDER_HINT), open_editor
        )

    def action_publish(self) -> None:
        """Ask for a folder and open the publish screen on it."""

        def publish_folder(answer: str | None) -> None:
            if answer:
                from hftui.ui.publish.navigation import open_publish

                open_publish(self.app, Path(answer).expanduser())

        self.app.push_screen(
            PathPromptScreen("Publish which folder?", str(Path.cwd()) + "/", hint=FOLDER_HINT), publish_folder
        )


FOLDER_HINT = "a model or dataset folder · tab completes · enter opens · escape cancels"
