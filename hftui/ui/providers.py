"""Command palette providers for the app shell: open any screen, run any bound action."""

from __future__ import annotations

from functools import partial

from textual.binding import ActiveBinding
from textual.command import DiscoveryHit, Hit, Hits, Provider


class OpenScreenProvider(Provider):
    """'open: Models', 'open: Cache', …: one palette entry per top-level screen."""

    def _entries(self) -> list[tuple[str, str, str]]:
        screens = self.app.SCREEN_TITLES  # type: ignore[attr-defined]
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
