"""Command palette providers for the app shell: open any screen."""

from __future__ import annotations

from functools import partial

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
