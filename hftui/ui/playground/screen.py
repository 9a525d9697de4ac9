"""Playground: try one model one input at a time (any task it has), or chat with endpoints, streamed.

A model flows like this: `o` names a cached model or a folder; a worker reads it (`infer.playground.open_model`:
tasks, remote-code and pickle checks, a fit warning), then loads its pipeline for the chosen task into the
app's pipeline cache (the Analyzer's, so a model loaded in one screen is loaded in the other), with the load
phases shown. Each Enter in the prompt runs one request in a worker: generation streams through a
`TextRelay` (coalesced messages, never one per token) into the transcript, other tasks answer at once. With
an endpoint chain chosen (`e`), chat goes to the endpoints instead, through `infer.failover`. Everything a
model or server writes is shown as plain text.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from pathlib import Path

from textual import on, work
from textual.binding import Binding
from textual.containers import Horizontal
from textual.content import Content
from textual.widget import Widget
from textual.widgets import Input, Label, Static, TextArea

from hftui.analyze.batches import describe_error
from hftui.analyze.jobs import device_choices
from hftui.analyze.pipelines import ModelRefused, is_out_of_memory
from hftui.hub.fit import available_memory
from hftui.hub.plain_text import printable
from hftui.infer.benchmark import (
    BenchEvent,
    CallFinished,
    Contestant,
    EndpointBenchPlan,
    EndpointBenchResult,
    PromptSet,
    run_endpoint_bench,
)
from hftui.infer.benchmark_reports import table_cells, write_report
from hftui.infer.endpoints import Endpoint, EndpointBook
from hftui.infer.failover import AuthRefused, chat
from hftui.infer.generate import Chat, GenerationSettings
from hftui.infer.local import PlaygroundInputError
from hftui.infer.playground import (
    Answer,
    LoadedModel,
    PlaygroundModel,
    Request,
    answer,
    load,
    open_model,
    reply,
    task_modality,
    unload,
)
from hftui.infer.tasks import PLAYGROUND_TASKS, NotAPlaygroundModel
from hftui.paths import hftui_home
from hftui.ui.analyzer.benchmark import BenchmarkSetupScreen
from hftui.ui.app_state import hub_app
from hftui.ui.base import HubScreen
from hftui.ui.dialogs.choice import ChoiceScreen
from hftui.ui.dialogs.confirm import ConfirmScreen
from hftui.ui.dialogs.path_prompt import PathPromptScreen
from hftui.ui.dialogs.text_prompt import TextPromptScreen
from hftui.ui.playground.messages import (
    BenchEnded,
    BenchProgressed,
    ChatFileDone,
    FileWritten,
    PlaygroundAnswered,
    PlaygroundChainReplied,
    PlaygroundFailed,
    PlaygroundLoadPhased,
    PlaygroundModelLoaded,
    PlaygroundModelOpened,
    PlaygroundModelRefused,
    PlaygroundModelUnloaded,
    PlaygroundReplied,
    PlaygroundTextArrived,
    TextRelay,
)
from hftui.ui.untrusted import plain
from hftui.ui.widgets.path_input import PathInput, PathSuggester

# What the prompt (and the second box) ask for, by task.
PROMPT_HINTS = {
    "text-generation": "message · enter sends · escape stops",
    "fill-mask": "a sentence with the mask token where a word is missing",
    "token-classification": "a sentence to tag",
    "zero-shot-classification": "a text to classify (labels in the box above)",
    "text-classification": "a text to classify",
    "sentence-similarity": "two or more sentences, separated by |",
    "feature-extraction": "a text to embed",
    "image-classification": "an image file (tab completes)",
    "image-text-to-text": "an image file (tab completes); prompt in the box above",
    "automatic-speech-recognition": "an audio file (tab completes)",
}
EXTRA_HINTS = {
    "zero-shot-classification": "candidate labels, comma-separated",
    "image-text-to-text": "prompt (optional): what to say about the image",
}
# A drain of the relay while an answer streams, for text that came just after a message was sent and is
# followed by a pause (a slow server): it shows within this long even with no new token.
STREAM_DRAIN_S = 0.25


class PlaygroundScreen(HubScreen):
    """One model (or an endpoint chain), one task, a prompt and a transcript of what was asked and answered."""

    HELP_TITLE = "Playground"
    BINDINGS = [
        Binding("o", "open_model", "Open model", id="playground.open"),
        Binding("T", "choose_task", "Task", id="playground.task"),
        Binding("e", "choose_target", "Endpoint", id="playground.endpoint"),
        Binding("i", "focus_prompt", "Type", id="playground.type"),
        Binding("escape", "stop_or_leave", "Stop/leave box", id="playground.escape"),
        Binding("g", "edit_settings", "Settings", id="playground.settings"),
        Binding("n", "new_chat", "New chat", id="playground.clear"),
        Binding("b", "benchmark", "Benchmark", id="playground.benchmark"),
        Binding("x", "export_benchmark", "Export bench", show=False, id="playground.export"),
        Binding("s", "save_chat", "Save chat", show=False, id="playground.save"),
        Binding("l", "load_chat", "Load chat", show=False, id="playground.load"),
        Binding("U", "unload", "Unload", show=False, id="playground.unload"),
        Binding("D", "choose_device", "Device", show=False, id="playground.device"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.opened: PlaygroundModel | None = None
        self.loaded: LoadedModel | None = None
        self.current_task: str | None = None
        self.device_choice = "auto"
        self.allowed_remote_code: set[str] = set()
        self.settings = GenerationSettings()
        self.chat = Chat()
        self.endpoints: tuple[Endpoint, ...] = ()  # a chain: chat goes there instead of the local model
        self.busy = False  # loading, or answering
        self.answering = False
        self.stop_event = threading.Event()
        self.relay: TextRelay | None = None
        self.streamed: list[str] = []
        self.last_answer: Answer | None = None
        self.waiting_text: str | None = None  # typed while the model loaded
        self.bench_result: EndpointBenchResult | None = None

    def compose_body(self) -> Iterable[Widget]:
        yield Static("", id="playground-model")
        # Read-only, wrapped, and selectable (copy an answer); appending at the end costs one line's wrap.
        yield TextArea(id="playground-transcript", read_only=True, soft_wrap=True, highlight_cursor_line=False)
        yield Static("", id="playground-answer")
        yield Static("", id="playground-stats")
        with Horizontal(id="playground-extra-row"):
            yield Label("", id="playground-extra-label")
            yield Input(id="playground-extra", compact=True)
        # A path box: file tasks complete paths (tab); for text the suggester is off and it is a plain box.
        yield PathInput(id="playground-prompt", placeholder="o opens a model · e picks an endpoint")

    def on_mount(self) -> None:
        self.query_one("#playground-answer").display = False
        self.query_one("#playground-extra-row").display = False
        self.show_model()
        self.write("Playground: o opens a model (cached or a folder), e chats with an endpoint, ? shows every key.\n")
        self.set_interval(STREAM_DRAIN_S, self.take_streamed_text)
        self.set_focus(self.transcript)
        self.watch(self.app, "playground_inbox", self.take_inbox)

    def take_inbox(self, model: str | None = None) -> None:
        """Open the model another screen sent (the model page's i)."""
        app = hub_app(self)
        model = app.playground_inbox
        if model:
            app.playground_inbox = None
            self.open(model)

    # --- what the screen shows ---------------------------------------------------------------------------

    def show_model(self, phase: str | None = None) -> None:
        """The header: model (or endpoints), task, device, settings and the load phase."""
        if self.endpoints:
            names = " → ".join(endpoint.name for endpoint in self.endpoints)
            line = f"endpoints: {names} · chat · {self.settings.as_text()}"
        elif self.opened is None:
            line = "no model open · o opens one (a cached model or a folder) · e picks an endpoint"
        else:
            where = f"{self.loaded.device} {self.loaded.dtype}" if self.loaded is not None else (phase or "not loaded")
            line = f"{self.opened.model} · {self.current_task} · {where}"
            if self.current_task == "text-generation":
                line += f" · {self.settings.as_text()}"
        self.query_one("#playground-model", Static).update(plain(line))
        task = "text-generation" if self.endpoints else self.current_task
        prompt = self.query_one("#playground-prompt", PathInput)
        prompt.placeholder = PROMPT_HINTS.get(task or "", "o opens a model · e picks an endpoint")
        files = task is not None and task_modality(task) != "text"
        if files != isinstance(prompt.suggester, PathSuggester):
            prompt.suggester = PathSuggester() if files else None
        extra = EXTRA_HINTS.get(task or "")
        self.query_one("#playground-extra-row").display = extra is not None
        if extra is not None:
            self.query_one("#playground-extra-label", Label).update(plain(extra.split(":")[0].split(" (")[0] + ": "))
            self.query_one("#playground-extra", Input).placeholder = extra

    @property
    def transcript(self) -> TextArea:
        return self.query_one("#playground-transcript", TextArea)

    def write(self, text: str) -> None:
        """Add plain text to the transcript (model output included: control characters become escapes)."""
        area = self.transcript
        following = area.scroll_y >= area.max_scroll_y - 1  # the user scrolled up to read: leave them there
        area.insert(printable(text), area.document.end, maintain_selection_offset=False)
        if following:
            area.scroll_end(animate=False, immediate=False)

    def show_stats(self, text: str) -> None:
        self.query_one("#playground-stats", Static).update(plain(text))

    # --- opening and loading a model -----------------------------------------------------------------------

    def action_open_model(self) -> None:
        """Pick a cached model or type a Hub id or a folder."""
        scan = hub_app(self).cache_scan
        cached = [repo.repo_id for repo in scan.of_type("model")] if scan else []
        items = [*(f"cached: {repo_id}" for repo_id in cached), "type a Hub id or a local model folder…"]

        def typed(model: str | None) -> None:
            if model and model.strip():
                self.open(model.strip())

        def chosen(index: int | None) -> None:
            if index is None:
                return
            if index < len(cached):
                self.open(cached[index])
                return
            current = self.opened.model if self.opened else ""
            hint = "a Hub id in the HF cache (org/name) or a folder; tab completes paths · escape cancels"
            self.app.push_screen(PathPromptScreen("Open which model?", current, hint=hint), typed)

        self.app.push_screen(ChoiceScreen("Open a model in the playground", items), chosen)

    def open(self, model: str, task: str | None = None) -> None:
        """Read `model` in a worker, then load it for `task` (its default when None)."""
        if self.answering:
            self.notify("Stop the answer first (escape).", markup=False)
            return
        self.endpoints = ()
        self.busy = True
        self.show_stats(f"reading {model}…")
        self.read_model(model, task, frozenset(self.allowed_remote_code), available_memory(hub_app(self).device))
        self.set_focus(self.query_one("#playground-prompt"))  # type while it loads: the input waits for it

    @work(thread=True, exclusive=True, exit_on_error=False, group="playground-load", description="Open a model")
    def read_model(self, model: str, task: str | None, allowed: frozenset[str], free_bytes: int | None) -> None:
        """Find the model on disk and read its tasks and warnings (no loading yet)."""
        try:
            opened = open_model(model, allow_remote_code=allowed, available_bytes=free_bytes)
        except ModelRefused as refused:
            self.post_message(PlaygroundModelRefused(model, refused.message, refused.needs_remote_code))
            return
        except NotAPlaygroundModel as problem:
            self.post_message(PlaygroundModelRefused(model, str(problem)))
            return
        self.post_message(PlaygroundModelOpened(opened, task))

    @on(PlaygroundModelRefused)
    def model_refused(self, event: PlaygroundModelRefused) -> None:
        """Say why; for remote code, ask whether to allow it for this model."""
        self.busy = False
        self.waiting_text = None
        self.show_stats("")
        if not event.needs_remote_code:
            self.notify(printable(event.message), title="Cannot open", severity="error", markup=False)
            return
        details = (
            f"{event.message}\n\nIt would run with your permissions, and hftui cannot check what it does.\n\n"
            f"y: allow {event.model} for this session · n: keep it refused"
        )

        def answered(allow: bool | None) -> None:
            if allow:
                self.allowed_remote_code.add(event.model)
                self.open(event.model)

        self.app.push_screen(ConfirmScreen(f"Run {event.model}'s own code?", details), answered)

    @on(PlaygroundModelOpened)
    def model_opened(self, event: PlaygroundModelOpened) -> None:
        """Show what the model does, warn, and load it for the task."""
        opened = event.opened
        task = event.task if event.task in opened.tasks.supported else opened.tasks.default
        if event.task and event.task != task:
            does = ", ".join(opened.tasks.supported)
            self.notify(printable(f"{opened.model} does not do {event.task}; it does {does}."), markup=False)
        for warning in opened.warnings:
            self.notify(printable(warning), title="Before loading", severity="warning", markup=False, timeout=10)
        if self.opened is None or self.opened.model != opened.model:
            self.chat.clear()
        self.opened, self.current_task, self.loaded = opened, task, None
        self.write(f"\n— {opened.model}: {task} (its tasks: {', '.join(opened.tasks.supported)}; T picks another)\n")
        self.start_load()
        self.set_focus(self.query_one("#playground-prompt"))

    def start_load(self) -> None:
        if self.opened is None or self.current_task is None:
            return
        self.busy = True
        self.show_model("loading…")
        device = None if self.device_choice == "auto" else self.device_choice
        self.load_model(self.opened, self.current_task, device)

    @work(thread=True, exclusive=True, exit_on_error=False, group="playground-load", description="Load a model")
    def load_model(self, opened: PlaygroundModel, task: str, device: str | None) -> None:
        """Load the pipeline (or find it loaded) in the app's pipeline cache, telling the phases."""

        def phased(phase: str) -> None:
            self.post_message(PlaygroundLoadPhased(opened.model, phase))

        try:
            loaded = load(opened, task, hub_app(self).analyzer_pipelines, device=device, on_phase=phased)
        except Exception as error:  # every load failure is shown; none may reach the app as a crash
            if is_out_of_memory(error):
                message = f"Out of memory loading {opened.model}: choose the CPU (D) or a smaller model."
            else:
                message = f"Could not load {opened.model} for {task}: {describe_error(error)}"
            self.post_message(PlaygroundModelRefused(opened.model, message))
            return
        self.post_message(PlaygroundModelLoaded(loaded))

    @on(PlaygroundLoadPhased)
    def load_phased(self, event: PlaygroundLoadPhased) -> None:
        self.show_model(f"{event.phase}…" if event.phase == "loading" else event.phase)
        self.show_stats(f"{event.model}: {event.phase}")

    @on(PlaygroundModelLoaded)
    def model_loaded(self, event: PlaygroundModelLoaded) -> None:
        """Ready for input."""
        loaded = event.loaded
        self.loaded, self.busy = loaded, False
        how = "was loaded already" if loaded.was_loaded else f"loaded in {loaded.load_s:.1f} s"
        self.show_model()
        self.show_stats(f"{loaded.opened.model} {how} on {loaded.device} ({loaded.dtype}) · U unloads it")
        if self.waiting_text is not None:
            text, self.waiting_text = self.waiting_text, None
            self.ask(text)

    def action_choose_task(self) -> None:
        """Run the open model for another task it supports."""
        if self.opened is None:
            self.notify("Open a model first (o).", markup=False)
            return
        supported = self.opened.tasks.supported
        titles = {task.name: task.title for task in PLAYGROUND_TASKS}
        items = [f"{name}: {titles[name]}" + (" (current)" if name == self.current_task else "") for name in supported]

        def chosen(index: int | None) -> None:
            if index is not None and supported[index] != self.current_task and not self.answering:
                self.current_task, self.loaded = supported[index], None
                self.write(f"\n— {self.opened.model if self.opened else ''}: {self.current_task}\n")
                self.start_load()

        self.app.push_screen(ChoiceScreen("Task", items), chosen)

    def action_choose_device(self) -> None:
        """Pick the device the next load runs on."""
        choices = device_choices(hub_app(self).device)

        def chosen(index: int | None) -> None:
            if index is not None and choices[index] != self.device_choice:
                self.device_choice = choices[index]
                self.loaded = None
                self.start_load()

        self.app.push_screen(ChoiceScreen("Load the model on", choices), chosen)

    def action_unload(self) -> None:
        """Drop the loaded model and give its memory back."""
        if self.loaded is None or self.answering:
            self.notify("No model is loaded here (or it is answering).", markup=False)
            return
        loaded, self.loaded = self.loaded, None
        self.show_model("unloaded · enter loads it again")
        self.unload_model(loaded)

    @work(thread=True, exclusive=True, exit_on_error=False, group="playground-unload", description="Unload a model")
    def unload_model(self, loaded: LoadedModel) -> None:
        unload(loaded, hub_app(self).analyzer_pipelines)
        self.post_message(PlaygroundModelUnloaded(loaded.opened.model))

    @on(PlaygroundModelUnloaded)
    def model_unloaded(self, event: PlaygroundModelUnloaded) -> None:
        self.show_stats(f"{event.model} unloaded; its memory is free.")

    # --- endpoints ---------------------------------------------------------------------------------------

    def action_choose_target(self) -> None:
        """Chat with the local model, one saved endpoint, or all of them in order (failover)."""
        book = EndpointBook.load()
        for problem in book.problems:
            self.notify(printable(problem), title="endpoints.json", severity="warning", markup=False)
        saved = list(book.endpoints.values())
        if not saved:
            self.notify(
                "No endpoints saved: add one with `hftui endpoints add NAME --base-url URL` (see README).",
                markup=False,
                timeout=8,
            )
            return
        local = f"the local model ({self.opened.model})" if self.opened else "the local model (o opens one)"
        items = [local, *(endpoint.describe() for endpoint in saved)]
        if len(saved) > 1:
            items.append("all endpoints in this order, each the next one's fallback")

        def chosen(index: int | None) -> None:
            if index is None or self.answering:
                return
            self.endpoints = () if index == 0 else tuple(saved) if index > len(saved) else (saved[index - 1],)
            self.show_model()
            if self.endpoints:
                self.write(f"\n— chat with {' → '.join(e.name for e in self.endpoints)}\n")
            self.set_focus(self.query_one("#playground-prompt"))

        self.app.push_screen(ChoiceScreen("Send chat to", items), chosen)

    # --- asking ------------------------------------------------------------------------------------------

    def action_focus_prompt(self) -> None:
        self.set_focus(self.query_one("#playground-prompt"))

    @on(Input.Submitted, "#playground-extra")
    def extra_submitted(self) -> None:
        self.set_focus(self.query_one("#playground-prompt"))

    @on(Input.Submitted, "#playground-prompt")
    def send(self, event: Input.Submitted) -> None:
        """Enter: one request to the model (or the endpoints)."""
        text = event.value
        if self.answering:
            self.notify("An answer is still coming: escape stops it.", markup=False)
            return
        if not text.strip():
            self.notify("Type something first.", markup=False)
            return
        if self.endpoints:
            event.input.value = ""
            self.ask_endpoints(text)
            return
        if not self.busy and (self.opened is None or self.current_task is None):
            self.notify("Open a model first (o), or pick an endpoint (e).", markup=False)
            return
        event.input.value = ""
        if self.loaded is None:  # asked while it is read or loads: sent once it is ready
            self.waiting_text = text
            if not self.busy:
                self.start_load()
            self.show_stats("loading… your input goes once the model is ready")
            return
        self.ask(text)

    def ask(self, text: str) -> None:
        if self.current_task == "text-generation":
            self.ask_model(text)
        else:
            self.ask_task(text)

    def begin_answer(self) -> TextRelay:
        self.answering = True
        self.stop_event = threading.Event()
        self.relay = TextRelay(self.post_message)
        self.streamed = []
        self.query_one("#playground-answer").display = False
        self.show_stats("answering… escape stops")
        return self.relay

    def ask_model(self, text: str) -> None:
        assert self.loaded is not None
        self.chat.add("user", text)
        self.write(f"\nyou: {text}\nmodel: ")
        relay = self.begin_answer()
        self.generate_reply(self.loaded, list(self.chat.messages), self.settings, relay, self.stop_event)

    @work(thread=True, exclusive=True, exit_on_error=False, group="playground-run", description="Generate")
    def generate_reply(self, loaded: LoadedModel, messages: list, settings: GenerationSettings,
                       relay: TextRelay, stop: threading.Event) -> None:  # fmt: skip
        """Stream the local model's answer through the relay."""
        try:
            generated = reply(loaded, messages, settings, on_text=relay, stop=stop)
        except PlaygroundInputError as problem:
            self.post_message(PlaygroundFailed(str(problem)))
            return
        except Exception as error:  # out of memory, a model that cannot generate: said, never a crash
            self.post_message(PlaygroundFailed(self.failure_text(error)))
            return
        self.post_message(PlaygroundReplied(generated))

    def ask_endpoints(self, text: str) -> None:
        self.chat.add("user", text)
        self.write(f"\nyou: {text}\n{self.endpoints[0].name}: ")
        relay = self.begin_answer()
        messages = [{"role": m.role, "content": m.content} for m in self.chat.messages]
        self.chat_with_endpoints(self.endpoints, messages, self.settings, relay, self.stop_event)

    @work(thread=True, exclusive=True, exit_on_error=False, group="playground-run", description="Chat")
    def chat_with_endpoints(self, chain: tuple[Endpoint, ...], messages: list[dict[str, str]],
                            settings: GenerationSettings, relay: TextRelay, stop: threading.Event) -> None:  # fmt: skip
        """Stream an answer from the first endpoint of the chain that gives one, with the screen's settings."""
        sampling: dict[str, float | int] = {"temperature": settings.temperature, "top_p": settings.top_p}
        if settings.seed is not None:
            sampling["seed"] = settings.seed
        try:
            answered = chat(chain, messages, on_text=relay, stop=stop, max_tokens=settings.max_new_tokens,
                            sampling=sampling)  # fmt: skip
        except AuthRefused as refused:
            self.post_message(PlaygroundFailed(f"Refused: {refused.answer.summary()}. Check the endpoint's token."))
            return
        except Exception as error:  # a bug must not leave the screen waiting for an answer that never comes
            self.post_message(PlaygroundFailed(self.failure_text(error)))
            return
        self.post_message(PlaygroundChainReplied(answered))

    def ask_task(self, text: str) -> None:
        assert self.loaded is not None and self.current_task is not None
        extra = self.query_one("#playground-extra", Input).value
        task = self.current_task
        if task == "sentence-similarity":
            request = Request("\n".join(part for part in text.split("|")))
        elif task == "zero-shot-classification":
            request = Request(text, labels=tuple(label for label in extra.split(",")))
        elif task_modality(task) != "text":
            request = Request(file=text.strip(), prompt=extra.strip())
        else:
            request = Request(text)
        self.write(f"\n> {text}\n")
        self.begin_answer()
        self.run_request(self.loaded, request)

    @work(thread=True, exclusive=True, exit_on_error=False, group="playground-run", description="Run the model")
    def run_request(self, loaded: LoadedModel, request: Request) -> None:
        """One request of a task other than generation."""
        try:
            result = answer(loaded, request)
        except PlaygroundInputError as problem:
            self.post_message(PlaygroundFailed(str(problem)))
            return
        except Exception as error:
            self.post_message(PlaygroundFailed(self.failure_text(error)))
            return
        self.post_message(PlaygroundAnswered(result))

    def failure_text(self, error: BaseException) -> str:
        if is_out_of_memory(error):
            return "Out of memory: lower max new tokens (g), load on the CPU (D) or pick a smaller model."
        return describe_error(error)

    # --- answers -----------------------------------------------------------------------------------------

    @on(PlaygroundTextArrived)
    def take_streamed_text(self) -> None:
        """Move the streamed text gathered so far into the transcript."""
        if self.relay is None:
            return
        text = self.relay.take()
        if text:
            self.streamed.append(text)
            self.write(text)

    def end_answer(self) -> str:
        self.take_streamed_text()
        self.answering = False
        self.relay = None
        return "".join(self.streamed)

    @on(PlaygroundReplied)
    def replied(self, event: PlaygroundReplied) -> None:
        """The local model's answer ended: keep it in the chat, show how it went."""
        self.end_answer()
        generated = event.generated
        self.chat.add("assistant", generated.text)
        notes = []
        if generated.stopped:
            notes.append("stopped")
        if generated.truncated_tokens:
            notes.append(f"the prompt's oldest {generated.truncated_tokens} tokens were dropped to fit the context")
        if not generated.used_chat_template:
            notes.append("no chat template: plain completion")
        self.write("\n" + "".join(f"({note})\n" for note in notes))
        first = f"first token {generated.first_token_s:.2f} s · " if generated.first_token_s is not None else ""
        self.show_stats(
            f"{first}{generated.total_s:.2f} s · {generated.new_tokens} tokens · "
            f"{generated.tokens_per_s:.1f} tokens/s · {generated.device}"
        )

    @on(PlaygroundChainReplied)
    def chain_replied(self, event: PlaygroundChainReplied) -> None:
        """An endpoint's answer ended: keep it, and say who answered and what failed before."""
        self.end_answer()
        answered = event.answer
        if answered.text:
            self.chat.add("assistant", answered.text)
        elif self.chat.messages and self.chat.messages[-1].role == "user":
            self.chat.messages.pop()  # nobody answered: the question can be asked again
        self.write(f"\n({answered.summary()})\n")
        first = f"first token {answered.first_token_s:.2f} s · " if answered.first_token_s is not None else ""
        failovers = f" · {answered.failovers} failed over" if answered.failovers else ""
        self.show_stats(f"{first}{answered.total_s:.2f} s · {answered.endpoint or 'no endpoint'}{failovers}")
        if answered.endpoint is None:
            self.notify(printable(answered.summary()), title="No answer", severity="error", markup=False)

    @on(PlaygroundAnswered)
    def answered(self, event: PlaygroundAnswered) -> None:
        """Show a task's answer in the transcript as text, and entities styled in the answer panel."""
        self.end_answer()
        result = event.answer
        self.last_answer = result
        self.write("\n".join(result.lines()) + "\n")
        # The panel only when it adds something: entities highlighted over their words (at 80x24 a second copy
        # of a score list would take the transcript's room).
        panel = self.query_one("#playground-answer", Static)
        panel.display = bool(result.entities)
        if result.entities:
            panel.update(answer_content(result))
        self.show_stats(f"{result.latency_s * 1000:.0f} ms · {result.device}")

    @on(PlaygroundFailed)
    def failed(self, event: PlaygroundFailed) -> None:
        """Say what went wrong; keep what arrived."""
        kept = self.end_answer()
        if self.chat.messages and self.chat.messages[-1].role == "user":
            if kept and (self.current_task == "text-generation" or self.endpoints):
                self.chat.add("assistant", kept)
            else:
                self.chat.messages.pop()
        self.write(f"\n(failed: {event.message})\n")
        self.show_stats("")
        self.notify(printable(event.message), title="No answer", severity="error", markup=False)

    # --- the endpoint benchmark ----------------------------------------------------------------------------

    def action_benchmark(self) -> None:
        """Compare saved endpoints (and the local model) on the same prompts: first token, latency, tokens/s."""
        if self.answering:
            self.notify("Stop the answer first (escape).", markup=False)
            return
        book = EndpointBook.load()
        saved = list(book.endpoints.values())
        local = self.opened.model if self.opened and "text-generation" in self.opened.tasks.supported else None
        candidates = [(f"@{endpoint.name}", endpoint.describe(), True) for endpoint in saved]
        if len(saved) > 1:
            candidates.append(("@" + ",@".join(e.name for e in saved), "all endpoints as one failover chain", False))
        if local:
            candidates.append((local, "the local model, greedy", True))
        if not candidates:
            self.notify("Nothing to compare: save an endpoint (hftui endpoints add) or open a chat model.",
                        markup=False)  # fmt: skip
            return
        asked = [m.content for m in self.chat.messages if m.role == "user"][-10:]

        def chosen(names: tuple[str, ...] | None) -> None:
            if not names:
                return
            try:
                contestants = tuple(contestant_for(name, book) for name in names)
            except ValueError as problem:
                self.notify(str(problem), title="Not run", severity="error", markup=False)
                return

            def prompted(text: str | None) -> None:
                prompts = [part.strip() for part in (text or "").split("|") if part.strip()]
                if not prompts:
                    return
                plan = EndpointBenchPlan(contestants, PromptSet.typed(prompts), rounds=3,
                                         max_tokens=min(self.settings.max_new_tokens, 256))  # fmt: skip
                try:
                    plan.checked()
                except ValueError as problem:
                    self.notify(str(problem), title="Not run", severity="error", markup=False)
                    return
                self.start_benchmark(plan)

            default = " | ".join(asked) or "Say hello in one sentence. | Name three colours."
            title = "Prompts, separated by | (3 rounds, each contestant in turn first)"
            self.app.push_screen(TextPromptScreen(title, default), prompted)

        heading = "Benchmark endpoints and local models on the same prompts (space ticks, r runs)"
        hint = "another: @endpoint, @a,@b (a chain), or a local model folder; enter adds it"
        self.app.push_screen(BenchmarkSetupScreen("chat", candidates, 0, 0, heading=heading, add_hint=hint), chosen)

    def start_benchmark(self, plan: EndpointBenchPlan) -> None:
        self.answering = True
        self.stop_event = threading.Event()
        self.write(f"\n— benchmark: {', '.join(c.name for c in plan.contestants)}; {plan.total_calls} calls\n")
        self.show_stats(f"benchmark: 0/{plan.total_calls} calls · escape stops")
        self.run_benchmark(plan, self.stop_event)

    @work(thread=True, exclusive=True, exit_on_error=False, group="playground-run", description="Benchmark")
    def run_benchmark(self, plan: EndpointBenchPlan, stop: threading.Event) -> None:
        """Run the comparison; progress goes out as coalescing messages."""

        def heard(event: BenchEvent) -> None:
            if isinstance(event, CallFinished):
                reply = event.record.reply
                self.post_message(BenchProgressed(event.done, event.total,
                                                  f"{event.record.contestant}: {reply.outcome}"))  # fmt: skip

        try:
            result = run_endpoint_bench(plan, on_event=heard, stop=stop, pipelines=hub_app(self).analyzer_pipelines)
        except Exception as error:  # contestants' failures are rows; anything else is said, and the screen freed
            self.post_message(PlaygroundFailed(f"The benchmark failed: {self.failure_text(error)}"))
            return
        self.post_message(BenchEnded(result))

    @on(BenchProgressed)
    def bench_progressed(self, event: BenchProgressed) -> None:
        self.show_stats(f"benchmark: {event.done}/{event.total} calls · {event.last} · escape stops")

    @on(BenchEnded)
    def bench_ended(self, event: BenchEnded) -> None:
        """Show the table in the transcript and keep the result for x (export)."""
        self.answering = False
        result = self.bench_result = event.result
        table = bench_table(result)
        self.write(table + "\n")
        state = "stopped" if result.state != "finished" else "done"
        self.show_stats(f"benchmark {state} in {result.duration_s:.1f} s · x exports the report")

    def action_export_benchmark(self) -> None:
        """Write the last benchmark's report (Markdown, JSON or CSV by the extension)."""
        result = self.bench_result
        if result is None:
            self.notify("Run a benchmark first (b).", markup=False)
            return
        stamp = "".join(ch for ch in result.started_at[:19] if ch.isdigit())
        default = hftui_home() / "reports" / f"endpoints-{stamp}.md"

        def chosen(path: str | None) -> None:
            if path:
                self.write_bench_report(result, Path(path).expanduser())

        hint = "the extension picks the format: .md, .json or .csv · escape cancels"
        self.app.push_screen(PathPromptScreen("Export the benchmark's report to", str(default), hint=hint), chosen)

    @work(thread=True, exit_on_error=False, group="playground-export", description="Write a benchmark report")
    def write_bench_report(self, result: EndpointBenchResult, target: Path) -> None:
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            self.post_message(FileWritten(str(write_report(result, target))))
        except (OSError, ValueError) as error:
            self.post_message(FileWritten(str(target), str(error)))

    @on(FileWritten)
    def file_written(self, event: FileWritten) -> None:
        if event.error:
            self.notify(printable(event.error), title="Report not written", severity="error", markup=False)
        else:
            self.notify(printable(f"Report: {event.path}"), title="Report written", markup=False, timeout=10)

    # --- stopping, settings, the chat's file ---------------------------------------------------------------

    def action_stop_or_leave(self) -> None:
        """Escape: stop the answer at once (what came is kept), else leave the prompt."""
        if self.answering:
            self.stop_event.set()
            self.show_stats("stopping…")
        elif isinstance(self.focused, Input):
            self.set_focus(self.transcript)

    def action_edit_settings(self) -> None:
        """Edit max new tokens, temperature, top-p and seed as key=value words."""

        def edited(text: str | None) -> None:
            if text is None:
                return
            try:
                self.settings = GenerationSettings.from_text(text, self.settings)
            except PlaygroundInputError as problem:
                self.notify(str(problem), title="Settings unchanged", severity="error", markup=False)
                return
            self.show_model()

        title = "Generation settings (key=value; temperature 0 is greedy, seed none is random)"
        self.app.push_screen(TextPromptScreen(title, self.settings.as_text()), edited)

    def action_new_chat(self) -> None:
        """Forget the conversation and clear the transcript (the model stays loaded)."""
        if self.answering:
            self.notify("Stop the answer first (escape).", markup=False)
            return
        self.chat.clear()
        self.transcript.clear()
        self.query_one("#playground-answer").display = False
        self.show_stats("new chat")

    def action_save_chat(self) -> None:
        """Save the conversation as JSON."""
        if not self.chat.messages:
            self.notify("Nothing to save yet.", markup=False)
            return
        default = hftui_home() / "chats" / "chat.json"

        def chosen(path: str | None) -> None:
            if path:
                self.chat_file(Path(path).expanduser(), save=True)

        self.app.push_screen(PathPromptScreen("Save the chat to", str(default), hint="JSON · escape cancels"), chosen)

    def action_load_chat(self) -> None:
        """Load a saved conversation; the next message continues it."""
        default = hftui_home() / "chats" / "chat.json"

        def chosen(path: str | None) -> None:
            if path:
                self.chat_file(Path(path).expanduser(), save=False)

        self.app.push_screen(PathPromptScreen("Load a chat from", str(default), hint="JSON · escape cancels"), chosen)

    @work(thread=True, exit_on_error=False, group="playground-chat-file", description="Save or load a chat")
    def chat_file(self, path: Path, *, save: bool) -> None:
        try:
            if save:
                path.parent.mkdir(parents=True, exist_ok=True)
                Chat(list(self.chat.messages)).save(path)
                self.post_message(ChatFileDone(str(path)))
            else:
                self.post_message(ChatFileDone(str(path), loaded=Chat.load(path)))
        except (OSError, ValueError) as error:
            self.post_message(ChatFileDone(str(path), error=str(error)))

    @on(ChatFileDone)
    def chat_file_done(self, event: ChatFileDone) -> None:
        if event.error is not None:
            self.notify(printable(event.error), title="Chat file", severity="error", markup=False)
            return
        if isinstance(event.loaded, Chat):
            self.chat = event.loaded
            self.transcript.clear()
            for message in self.chat.messages:
                self.write(f"{message.role}: {message.content}\n")
            self.notify(printable(f"Loaded {len(self.chat.messages)} messages from {event.path}."), markup=False)
        else:
            self.notify(printable(f"Chat saved to {event.path}."), markup=False)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Letters typed in a box are text; the screen's letter keys work once escape has left it.
        if action == "stop_or_leave":
            return self.answering or isinstance(self.focused, Input)
        return True


def answer_content(result: Answer) -> Content:
    """The latest answer, plain: entities styled over their words (and bracketed, for NO_COLOR)."""
    if not result.entities:
        return Content(printable("\n".join(result.lines())))
    text = printable(result.text)
    content = Content(text)
    at = 0
    for entity in result.entities:
        marker = f"[{entity.label} "
        found = text.find(marker, at)
        if found < 0:
            continue
        end = text.find("]", found)
        content = content.stylize("reverse bold", found, end + 1 if end >= 0 else len(text))
        at = found + len(marker)
    return content


def contestant_for(name: str, book: EndpointBook) -> Contestant:
    """The contestant a benchmark list entry names: @endpoint, @a,@b (a chain), or a local model."""
    if not name.startswith("@"):
        return Contestant.of_local(name)
    names = [part.strip().lstrip("@") for part in name.split(",") if part.strip()]
    missing = [part for part in names if part not in book.endpoints]
    if missing:
        raise ValueError(f"no saved endpoint named {', '.join(missing)} (hftui endpoints list shows them)")
    chain = [book.endpoints[part] for part in names]
    return Contestant.of_endpoint(chain[0]) if len(chain) == 1 else Contestant.of_chain(chain)


def bench_table(result: EndpointBenchResult) -> str:
    """The benchmark's rows as a plain fixed-width table (the report's columns that fit 80 columns)."""
    keep = (0, 1, 2, 4, 5, 7, 9)  # contestant, calls, errors, failovers, first token p50, total p50, tokens/s
    header = ["who", "calls", "errors", "failover", "1st ms", "total ms", "tok/s"]
    rows = [[table_cells(row)[i] for i in keep] for row in result.rows]
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    widths[0] = min(widths[0], 24)
    lines = ["  ".join(str(cell)[: widths[i]].ljust(widths[i]) for i, cell in enumerate(r)) for r in [header, *rows]]
    return "\n".join([*lines, result.verdict])
