"""The hftui Textual application: the shell that holds the screens, the status and the workers."""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Footer
from textual.worker import Worker, WorkerState

from hftui.analyze.inputs import AnalysisInput, count_by_modality
from hftui.analyze.pipelines import PipelineCache
from hftui.device import ComputeDevice, detect_device
from hftui.hub.cache import CacheScan, scan_local_cache
from hftui.hub.connectivity import HubReachability, probe_hub, set_offline_mode
from hftui.hub.index import RepoIndex, default_index_path
from hftui.hub.settings import HubSettings, TokenStatus, read_token_status
from hftui.preferences import Preferences, load_preferences, save_preferences
from hftui.ui.browse.models import ModelsScreen
from hftui.ui.dialogs.help import HelpScreen
from hftui.ui.messages import (
    CacheScanned,
    DeviceDetected,
    HubProbed,
    IndexReady,
    OpenInPlayground,
    SendToAnalyzer,
    TokenRead,
)
from hftui.ui.providers import CardProvider, KeyActionsProvider, OpenScreenProvider

if TYPE_CHECKING:
    from huggingface_hub import HfApi

    from hftui.ui.app_state import HubAppState

GPU_REFRESH_S = 10.0
DARK_THEME = "textual-dark"
LIGHT_THEME = "textual-light"


def _screen_on_demand(module: str, name: str) -> Callable[[], Screen]:
    """A MODES entry that imports its screen's module when the mode is first opened, not at startup."""

    def make() -> Screen:
        return getattr(importlib.import_module(module), name)()

    return make


def stylesheet_path() -> Path:
    """screens.css: inside the installed package (wheel), or at the repository root (editable install)."""
    packaged = Path(__file__).with_name("screens.css")
    return packaged if packaged.is_file() else Path(__file__).resolve().parent.parent / "screens.css"


class HfTuiApp(App[None]):
    """The Hugging Face ecosystem in a terminal."""

    TITLE = "hftui"
    CSS_PATH = stylesheet_path()
    MODES = {
        "models": ModelsScreen,
        # Only the first screen is imported before the first frame; the others when first opened.
        "datasets": _screen_on_demand("hftui.ui.browse.datasets", "DatasetsScreen"),
        "analyzer": _screen_on_demand("hftui.ui.analyzer.screen", "AnalyzerScreen"),
        "playground": _screen_on_demand("hftui.ui.playground.screen", "PlaygroundScreen"),
        "training": _screen_on_demand("hftui.ui.training.runs", "TrainingScreen"),
        "cache": _screen_on_demand("hftui.ui.browse.cache", "CacheScreen"),
        "account": _screen_on_demand("hftui.ui.publish.account", "AccountScreen"),
    }
    DEFAULT_MODE = "models"
    SCREEN_TITLES = {
        "models": ("Models", "Browse models and read their cards"),
        "datasets": ("Datasets", "Cached and local datasets"),
        "analyzer": ("Analyzer", "Analysis jobs, model benchmarks and reports"),
        "playground": ("Playground", "Try a model one input at a time, or chat with endpoints"),
        "training": ("Training", "Fine-tuning runs"),
        "cache": ("Cache", "Everything in the local HF cache"),
        "account": ("Account", "Token, whoami and log in; write cards and publish"),
    }
    BINDINGS = [
        Binding("m", "switch_mode('models')", "Models", id="open.models"),
        Binding("d", "switch_mode('datasets')", "Datasets", id="open.datasets"),
        Binding("a", "switch_mode('analyzer')", "Analyzer", id="open.analyzer"),
        Binding("i", "switch_mode('playground')", "Playground", id="open.playground"),
        Binding("t", "switch_mode('training')", "Training", id="open.training"),
        Binding("c", "switch_mode('cache')", "Cache", id="open.cache"),
        Binding("u", "switch_mode('account')", "Account", id="open.account"),
        Binding("question_mark", "help", "Help", id="app.help"),
        Binding("ctrl+r", "refresh", "Refresh", id="app.refresh"),
        Binding("ctrl+t", "toggle_theme", "Theme", show=False, id="app.theme"),
        Binding("q", "quit", "Quit", id="app.quit"),
    ]
    COMMANDS = App.COMMANDS | {OpenScreenProvider, KeyActionsProvider, CardProvider}

    reachability: reactive[HubReachability | None] = reactive(None)
    device: reactive[ComputeDevice | None] = reactive(None)
    token: reactive[TokenStatus | None] = reactive(None)
    cache_scan: reactive[CacheScan | None] = reactive(None)
    # Bumped each time the index has new content; screens watch it to re-run offline searches.
    index_generation: reactive[int] = reactive(0)
    # Inputs sent from other screens (a dataset column or row), waiting for an Analyzer job.
    analyzer_inbox: reactive[tuple[AnalysisInput, ...]] = reactive(())
    # A model another screen asked the Playground to open (it takes it when shown).
    playground_inbox: reactive[str | None] = reactive(None)

    def __init__(
        self,
        settings: HubSettings,
        *,
        preferences: Preferences | None = None,
        index_path: Path | None = None,
    ) -> None:
        super().__init__()
        self.settings = settings
        self.set_reactive(HfTuiApp.token, settings.token)
        self.preferences = preferences if preferences is not None else load_preferences()
        self.index_path = index_path or default_index_path()
        self.model_index: RepoIndex | None = None
        self._opened_index: RepoIndex | None = None
        self._index_lock = threading.Lock()
        # Labels sent with Analyzer inputs (a labelled dataset sample), by input origin, for benchmarks.
        self.analyzer_labels: dict[str, object] = {}
        # Analysis models stay loaded across jobs and screens (an LRU; torch is imported only by a job).
        self.analyzer_pipelines = PipelineCache()

    @property
    def offline(self) -> bool:
        """True when the Hub must not be contacted: forced, or the last probe failed."""
        return self.settings.offline_forced or (self.reachability is not None and not self.reachability.online)

    def on_mount(self) -> None:
        if self.preferences.theme in self.available_themes:
            self.theme = self.preferences.theme
        if self.preferences.keymap:
            self.set_keymap(self.preferences.keymap)
        self.detect_compute_device()
        self.scan_cache()
        if self.token is None:
            self.read_token()
        if self.settings.offline_forced:
            set_offline_mode(True)
        else:
            self.probe_connectivity()

    # Workers: each blocking call runs in a thread and reports back by message.

    @work(thread=True, exclusive=True, exit_on_error=False, group="hub-probe", description="Probe the Hub")
    def probe_connectivity(self) -> None:
        """Ask the Hub whether it answers within a short timeout."""
        self.post_message(HubProbed(probe_hub(self.settings.endpoint)))

    @work(thread=True, exclusive=True, exit_on_error=False, group="token", description="Read the Hub token")
    def read_token(self) -> None:
        """Look the token up as huggingface_hub does; only the masked status leaves this thread."""
        self.post_message(TokenRead(read_token_status()))

    @work(thread=True, exclusive=True, exit_on_error=False, group="device", description="Detect device")
    def detect_compute_device(self) -> None:
        """Find the compute device without importing torch."""
        self.post_message(DeviceDetected(detect_device()))

    @work(thread=True, exclusive=True, exit_on_error=False, group="cache-scan", description="Scan cache")
    def scan_cache(self) -> None:
        """Scan the local HF cache, then bring the model index up to date with it."""
        scan = scan_local_cache(self.settings.hub_cache)
        self.post_message(CacheScanned(scan))
        with self._index_lock:  # two overlapping scans must not open the index twice
            if self._opened_index is None:
                self._opened_index = RepoIndex(self.index_path)
            index = self._opened_index
        index.index_cache(scan)
        self.post_message(IndexReady(index, index.rebuilt_reason))
        index.start_loading_columns()  # searches and pickers use SQL alone until they are loaded

    @on(HubProbed)
    def record_reachability(self, event: HubProbed) -> None:
        """Switch the session on- or offline after a probe."""
        was_offline = self.offline
        self.reachability = event.reachability
        set_offline_mode(self.offline)
        if self.offline and not was_offline:
            self.notify(
                f"Working offline: {event.reachability.detail}.",
                title="Hub unreachable",
                severity="warning",
                markup=False,
            )
        elif was_offline and not self.offline:
            self.notify("The Hub answers again.", title="Online", markup=False)

    @on(TokenRead)
    def record_token(self, event: TokenRead) -> None:
        """Keep the token's masked status; the status line watches it."""
        self.token = event.token

    @on(DeviceDetected)
    def record_device(self, event: DeviceDetected) -> None:
        """Keep the device; refresh GPU memory now and then so it stays in view."""
        first = self.device is None
        self.device = event.device
        if first and event.device.kind == "cuda":
            self.set_interval(GPU_REFRESH_S, self.detect_compute_device)

    @on(CacheScanned)
    def record_cache_scan(self, event: CacheScanned) -> None:
        """Keep the newest cache scan; screens watch it."""
        self.cache_scan = event.scan

    @on(IndexReady)
    def record_index(self, event: IndexReady) -> None:
        """Keep the index; say once if it had to be rebuilt."""
        first = self.model_index is None
        self.model_index = event.index
        self.index_generation += 1
        if first and event.rebuilt_reason:
            self.notify(f"The model index was rebuilt: {event.rebuilt_reason}", severity="warning", markup=False)

    @on(SendToAnalyzer)
    def queue_for_analyzer(self, event: SendToAnalyzer) -> None:
        """Add the sent inputs to the Analyzer's inbox and say what went (and what was left out)."""
        self.analyzer_inbox = (*self.analyzer_inbox, *event.inputs)
        if event.labels is not None:
            for item, label in zip(event.inputs, event.labels, strict=False):
                if label is not None:
                    self.analyzer_labels[item.origin] = label
        counts = ", ".join(f"{count} {modality}" for modality, count in count_by_modality(event.inputs).items())
        skipped = f"; {event.skipped} cells skipped (no text, image or audio)" if event.skipped else ""
        self.notify(
            f"{counts} from {event.origin} sent to the Analyzer ({len(self.analyzer_inbox)} waiting){skipped}.",
            title="Sent to the Analyzer",
            markup=False,
        )

    @on(OpenInPlayground)
    def open_in_playground(self, event: OpenInPlayground) -> None:
        """Show the Playground with the model asked for."""
        self.playground_inbox = event.model
        self.switch_mode("playground")

    def hub_api(self) -> HfApi | None:
        """A client for the configured endpoint, or None while offline."""
        if self.offline:
            return None
        from hftui.hub.client import hub_api

        return hub_api(self.settings.endpoint)

    def on_unmount(self) -> None:
        if self._opened_index is not None:
            self._opened_index.close()

    @on(Worker.StateChanged)
    def report_worker_failure(self, event: Worker.StateChanged) -> None:
        """The one place worker errors surface: a notification, never a crash."""
        if event.state is not WorkerState.ERROR:
            return
        error = event.worker.error
        what = event.worker.description or event.worker.group
        self.notify(
            f"{what} failed: {type(error).__name__}: {error}",
            title="Error",
            severity="error",
            markup=False,
            timeout=8,
        )

    # Actions.

    def action_help(self) -> None:
        """Show every binding."""
        sections: list[tuple[str, list]] = [("everywhere", list(self.BINDINGS))]
        screen = self.screen
        for node in (screen, *screen.query("*")):
            own = list(getattr(type(node), "BINDINGS", []))
            if own and not isinstance(node, Footer):
                where = getattr(screen, "HELP_TITLE", type(screen).__name__)
                sections.append((where if node is screen else f"{where}: {type(node).__name__}", own))
        self.push_screen(HelpScreen(sections))

    def action_refresh(self) -> None:
        """Retry the Hub, rescan the cache and re-read the device."""
        if not self.settings.offline_forced:
            self.probe_connectivity()
        else:
            self.notify("Offline mode was forced (--offline or HF_HUB_OFFLINE).", markup=False)
        self.scan_cache()
        self.detect_compute_device()

    def action_toggle_theme(self) -> None:
        """Switch between the light and the dark theme, and remember the choice."""
        self.theme = LIGHT_THEME if self.current_theme.dark else DARK_THEME
        self.preferences = Preferences(theme=self.theme, keymap=self.preferences.keymap)
        try:
            save_preferences(self.preferences)
        except OSError as error:
            self.notify(f"Could not save the theme: {error}", severity="warning", markup=False)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Refresh", "Retry the Hub, rescan the cache", self.action_refresh)
        yield SystemCommand("Toggle light/dark theme", "Switch and remember the theme", self.action_toggle_theme)
        yield SystemCommand("Keys", "Show every key binding", self.action_help)


if TYPE_CHECKING:
    # Screens read the app through `hub_app` (ui/app_state.py); the type check proves the app provides all of it.

    def _matches_app_state(app: HfTuiApp) -> HubAppState:
        return app
