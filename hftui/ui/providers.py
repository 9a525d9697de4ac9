"""Command palette providers for the app shell: open any screen, run any bound action, edit a card or publish."""

from __future__ import annotations

from functools import partial

from textual.binding import ActiveBinding
from textual.command import DiscoveryHit, Hit, Hits, Provider

from hftui.ui.app_state import hub_app
from hftui.ui.untrusted import plain


class OpenScreenProvider(Provider):
    """'open: Models', 'open: Cache', …: one palette entry per top-level screen."""

    def _entries(self) -> list[tuple[str, str, str]]:
        screens = hub_app(self).SCREEN_TITLES
        return [(f"open: {title}", mode, help_text) for mode, (title, help_text) in screens.items()]

    async def discover(self) -> Hits:
        for text, mode, help_text in self._entries():
            yield DiscoveryHit(text, partial(self.app.switch_mode, mode), help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for text, mode, help_text in self._entries():
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, matcher.highlight(text), partial(self.app.switch_mode, mode), help=help_text)


class KeyActionsProvider(Provider):
    """'key: Refresh (ctrl+r)', …: every binding active on the screen, runnable from the palette."""

    def _entries(self) -> list[tuple[str, ActiveBinding]]:
        entries = []
        seen: set[str] = set()
        for active in self.screen.active_bindings.values():
            binding = active.binding
            if not active.enabled or not binding.description or binding.action in seen:
                continue
            seen.add(binding.action)
            entries.append((f"key: {binding.description} ({self.app.get_key_display(binding)})", active))
        return entries

    async def _run(self, active: ActiveBinding) -> None:
        await self.app.run_action(active.binding.action, active.node)

    async def discover(self) -> Hits:
        for text, active in self._entries():
            yield DiscoveryHit(text, partial(self._run, active))

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for text, active in self._entries():
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, matcher.highlight(text), partial(self._run, active))


class CardProvider(Provider):
    """'card: edit FOLDER' and 'publish: FOLDER': the card editor or the publish screen on a typed folder, or a
    folder prompt when none is typed."""

    ACTIONS = (("card: edit", "card"), ("publish:", "publish"))

    def _open(self, what: str, folder: str) -> None:
        from pathlib import Path

        if not folder.strip():
            from hftui.ui.dialogs.path_prompt import PathPromptScreen

            title = "Write the card of which folder?" if what == "card" else "Publish which folder?"
            self.app.push_screen(
                PathPromptScreen(title, str(Path.cwd()) + "/"),
                lambda answer: self._open(what, answer) if answer else None,
            )
            return
        path = Path(folder.strip()).expanduser()
        if what == "card":
            from hftui.ui.publish.card_editor import CardEditorScreen

            self.app.push_screen(CardEditorScreen(path))
        else:
            from hftui.ui.publish.navigation import open_publish

            open_publish(self.app, path)

    async def discover(self) -> Hits:
        yield DiscoveryHit("card: edit FOLDER", partial(self._open, "card", ""), help="Write and check a README.md")
        yield DiscoveryHit("publish: FOLDER", partial(self._open, "publish", ""), help="Upload a folder to the Hub")

    async def search(self, query: str) -> Hits:
        text = query.strip()
        for prefix, what in self.ACTIONS:
            if text.lower().startswith(prefix):
                # What follows the prefix is the folder, taken as typed (never matched fuzzily).
                folder = text[len(prefix) :].strip()
                label = f"{prefix} {folder}" if folder else f"{prefix} FOLDER (asks for it)"
                yield Hit(1.0, plain(label, single_line=True), partial(self._open, what, folder), help="enter opens it")
                continue
            matcher = self.matcher(query)
            score = matcher.match(f"{prefix} FOLDER")
            if score > 0:
                yield Hit(score, matcher.highlight(f"{prefix} FOLDER"), partial(self._open, what, ""))
