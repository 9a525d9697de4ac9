"""What screens and widgets read from the app, typed: `hub_app(self).device` instead of an untyped `self.app`.

The app module imports the screens, so screens cannot import it back; they depend on this description of it
instead, and `hftui/app.py` proves `HfTuiApp` matches it (see `_matches_app_state` there).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, cast

if TYPE_CHECKING:
    from huggingface_hub import HfApi
    from textual.app import App
    from textual.worker import Worker

    from hftui.analyze.inputs import AnalysisInput
    from hftui.analyze.pipelines import PipelineCache
    from hftui.device import ComputeDevice
    from hftui.hub.account import TokenStatus
    from hftui.hub.cache import CacheScan
    from hftui.hub.connectivity import HubReachability
    from hftui.hub.index import RepoIndex
    from hftui.hub.settings import HubSettings


class HubAppState(Protocol):
    """The app-wide state and services every screen shares (reactives, settings, the index, the Hub client)."""

    SCREEN_TITLES: dict[str, tuple[str, str]]
    settings: HubSettings
    reachability: HubReachability | None
    device: ComputeDevice | None
    token: TokenStatus | None
    cache_scan: CacheScan | None
    index_generation: int
    analyzer_inbox: tuple[AnalysisInput, ...]
    playground_inbox: str | None
    analyzer_labels: dict[str, object]
    analyzer_pipelines: PipelineCache
    model_index: RepoIndex | None

    @property
    def offline(self) -> bool: ...

    def hub_api(self) -> HfApi | None: ...

    def scan_cache(self) -> object: ...  # a worker: rescans the HF cache in the background

    def report_worker_failure(self, event: Worker.StateChanged) -> None: ...


class InApp(Protocol):
    """Anything that knows its app: a screen, a widget, a palette provider."""

    @property
    def app(self) -> App[Any]: ...


def hub_app(node: InApp) -> HubAppState:
    """The running hftui app seen from `node` (a screen, widget or palette provider), with its shared state typed."""
    return cast("HubAppState", node.app)
