"""The Playground screen as a user drives it: open a model by keys, chat with tokens streaming in, stop an
answer, change settings, switch task, and see a task's answer styled (entities) and always plain."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from textual.widgets import Input, Static, TextArea

from hftui.demo.tiny_models import build_tiny_model
from hftui.infer.local import Entity
from hftui.infer.playground import Answer
from hftui.ui.dialogs.choice import ChoiceScreen
from hftui.ui.dialogs.confirm import ConfirmScreen
from hftui.ui.dialogs.path_prompt import PathPromptScreen
from hftui.ui.dialogs.text_prompt import TextPromptScreen
from hftui.ui.playground.screen import PlaygroundScreen, answer_content
from tests.pilot import wait_until
from tests.test_analyzer_screen import poll
from tests.test_dataset_preview import make_app


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("playground-models")
    tasks = ("text-generation", "fill-mask", "token-classification", "image-classification")
    return {task: build_tiny_model(task, root / task) for task in tasks}


def transcript(screen: PlaygroundScreen) -> str:
    return screen.query_one("#playground-transcript", TextArea).text


def stats(screen: PlaygroundScreen) -> str:
    return str(screen.query_one("#playground-stats", Static).render())


async def open_playground(pilot) -> PlaygroundScreen:  # type: ignore[no-untyped-def]
    await pilot.press("i")
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, PlaygroundScreen)
    return screen


async def test_chat_streams_stops_and_keeps_what_came(tmp_path: Path, models: dict[str, Path]) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_playground(pilot)
        # o: a list of cached models (none here) and "type a Hub id or a folder…".
        await pilot.press("o")
        assert isinstance(app.screen, ChoiceScreen)
        await pilot.press("end", "enter")
        assert isinstance(app.screen, PathPromptScreen)
        await pilot.press(*str(models["text-generation"]), "enter")
        # Typed while the model loads: it is sent once the model is ready.
        await pilot.press(*"hello [red]x[/red]", "enter")
        await wait_until(pilot, lambda: screen.loaded is not None and not screen.answering, timeout=60)
        assert screen.current_task == "text-generation"
        assert [m.role for m in screen.chat.messages] == ["user", "assistant"]
        answer = screen.chat.messages[1].content
        assert answer and "you: hello [red]x[/red]\nmodel: " in transcript(screen)
        assert "\x1b" not in transcript(screen) and "tokens/s" in stats(screen) and "cpu" in stats(screen)

        # g: settings as key=value words; a wrong word changes nothing.
        await pilot.press("escape", "g")
        assert isinstance(app.screen, TextPromptScreen)
        await pilot.press("home", "ctrl+k", *"max=400 temp=0", "enter")
        assert screen.settings.max_new_tokens == 400 and screen.settings.temperature == 0
        await pilot.press("g", "home", "ctrl+k", *"beam=3", "enter")
        assert screen.settings.max_new_tokens == 400

        # Escape while tokens stream stops the answer at once; what came stays in the chat. The tiny model
        # writes 400 tokens in half a second, so each of its steps is made to take 10 ms, as a real one's would.
        model = screen.loaded.pipe.model  # type: ignore[union-attr]
        forward = model.forward

        def slow_forward(*args, **kwargs):  # type: ignore[no-untyped-def]
            time.sleep(0.01)
            return forward(*args, **kwargs)

        model.forward = slow_forward
        await pilot.press("i", *"tell me more", "enter")
        await poll(pilot, lambda: screen.streamed or not screen.answering)  # workers still running
        await pilot.press("escape")
        await wait_until(pilot, lambda: not screen.answering, timeout=30)
        assert "(stopped)" in transcript(screen)
        kept = screen.chat.messages[-1]
        assert kept.role == "assistant" and kept.content and len(screen.chat.messages) == 4

        # n: a new chat; the model stays loaded.
        await pilot.press("escape", "n")
        assert screen.chat.messages == [] and transcript(screen) == "" and screen.loaded is not None


async def test_chats_save_and_load(tmp_path: Path, models: dict[str, Path], hftui_home: Path) -> None:
    saved = tmp_path / "chat.json"
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_playground(pilot)
        screen.open(str(models["text-generation"]))
        await pilot.press(*"hi", "enter")
        await wait_until(pilot, lambda: screen.loaded is not None and len(screen.chat.messages) == 2, timeout=60)
        await pilot.press("escape", "s", "home", "ctrl+k", *str(saved), "enter")
        await wait_until(pilot, saved.exists)
        assert [m["role"] for m in json.loads(saved.read_text())["messages"]] == ["user", "assistant"]
        await pilot.press("n", "l", "home", "ctrl+k", *str(saved), "enter")
        await wait_until(pilot, lambda: len(screen.chat.messages) == 2)
        assert transcript(screen).startswith("user: hi\nassistant: ")
        broken = tmp_path / "broken.json"
        broken.write_text("{nope")
        await pilot.press("l", "home", "ctrl+k", *str(broken), "enter")
        await pilot.pause(0.3)
        assert len(screen.chat.messages) == 2  # a bad file loses nothing


async def test_tasks_answer_and_switch(tmp_path: Path, models: dict[str, Path]) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_playground(pilot)
        screen.open(str(models["fill-mask"]))
        await wait_until(pilot, lambda: screen.loaded is not None, timeout=60)
        assert screen.current_task == "fill-mask"
        await pilot.press(*"the cat [MASK] on the mat", "enter")
        await wait_until(pilot, lambda: not screen.answering and screen.last_answer is not None)
        assert screen.last_answer is not None and len(screen.last_answer.scores) == 5
        assert not screen.query_one("#playground-answer", Static).display  # the transcript has it; no entities
        assert f"{screen.last_answer.scores[0][1]:6.3f}" in transcript(screen)
        assert " ms · cpu" in stats(screen)
        # A sentence without the mask says what to change; nothing else is lost.
        await pilot.press(*"no mask here", "enter")
        await wait_until(pilot, lambda: not screen.answering)
        assert "exactly one [MASK]" in transcript(screen)

        # T: another task the model has (sentence similarity: sentences split by |).
        await pilot.press("escape", "T")
        assert isinstance(app.screen, ChoiceScreen)
        choices = app.screen.items
        await pilot.press(*["down"] * next(i for i, c in enumerate(choices) if c.startswith("sentence-")), "enter")
        await wait_until(pilot, lambda: screen.loaded is not None and screen.loaded.task == "sentence-similarity")
        await pilot.press("i", *"the cat sat | a dog ran | the cat sat", "enter")
        await wait_until(pilot, lambda: not screen.answering and screen.last_answer.task == "sentence-similarity")
        similar = screen.last_answer.similarities
        assert similar[0][2] == pytest.approx(1.0, abs=1e-5) and "cosine similarity:" in transcript(screen)

        # U: unload frees the model; enter loads it again.
        await pilot.press("escape", "U")
        await wait_until(pilot, lambda: not app.analyzer_pipelines.loaded())
        assert screen.loaded is None


async def test_entities_are_styled_and_bracketed_and_never_markup(tmp_path: Path, models: dict[str, Path]) -> None:
    text = "[PER sarah] plays [red]x[/red] in [LOC london]"
    entities = (Entity("PER", 0, 5, 0.9, "sarah"), Entity("LOC", 26, 32, 0.8, "london"))
    content = answer_content(Answer("token-classification", "m", text=text, entities=entities))
    assert content.plain == text
    styled = {content.plain[span.start : span.end] for span in content.spans if "reverse" in str(span.style)}
    assert styled == {"[PER sarah]", "[LOC london]"}

    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_playground(pilot)
        screen.open(str(models["token-classification"]))
        await wait_until(pilot, lambda: screen.loaded is not None, timeout=60)
        await pilot.press(*"sarah plays [red]x[/red] in london \x1b[31m", "enter")
        await wait_until(pilot, lambda: not screen.answering and screen.last_answer is not None)
        shown = str(screen.query_one("#playground-answer", Static).render())
        assert "[red]x[/red]" in shown.replace("[PER ", "").replace("[LOC ", "") or "x" in shown
        assert "\x1b" not in shown and "\x1b" not in transcript(screen)


async def test_remote_code_asks_before_it_may_run(tmp_path: Path, models: dict[str, Path]) -> None:
    folder = tmp_path / "code-model"
    folder.mkdir()
    for item in models["fill-mask"].iterdir():
        (folder / item.name).write_bytes(item.read_bytes())
    config = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**config, "auto_map": {"AutoModel": "modeling.Model"}}))
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_playground(pilot)
        screen.open(str(folder))
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("n")
        await pilot.pause()
        assert screen.opened is None and str(folder) not in screen.allowed_remote_code
        screen.open(str(folder))
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await wait_until(pilot, lambda: screen.opened is not None)
        assert screen.opened.trust_remote_code and str(folder) in screen.allowed_remote_code


async def test_letters_in_the_prompt_are_text_not_keys(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_playground(pilot)
        await pilot.press("i", *"one two", "enter")  # no model: said, and the text stays to send later
        assert isinstance(app.screen, PlaygroundScreen)
        assert screen.query_one("#playground-prompt", Input).value == "one two"


async def test_the_model_page_opens_its_model_here(tmp_path: Path, models: dict[str, Path]) -> None:
    from hftui.ui.browse.model_page import ModelPageScreen

    app = make_app(tmp_path)
    notes: list[str] = []
    async with app.run_test(size=(80, 24)) as pilot:
        app.notify = lambda message, **kwargs: notes.append(str(message))  # type: ignore[method-assign]
        await app.push_screen(ModelPageScreen("someone/not-downloaded"))
        await pilot.press("i")
        await wait_until(pilot, lambda: isinstance(app.screen, PlaygroundScreen) and notes)
        assert any("not-downloaded is neither a local folder nor in the HF cache" in note for note in notes)
        # Sent while the Playground is already open, it opens there too.
        screen = app.screen
        app.playground_inbox = str(models["fill-mask"])
        await wait_until(pilot, lambda: screen.loaded is not None, timeout=60)
        assert screen.current_task == "fill-mask" and app.playground_inbox is None


async def test_an_image_task_takes_a_path_that_completes(tmp_path: Path, models: dict[str, Path], monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from PIL import Image

    from hftui.demo.tiny_models import IMAGE_LABELS

    (tmp_path / "pictures").mkdir()
    Image.new("RGB", (40, 30), (200, 120, 40)).save(tmp_path / "pictures" / "orange-cat.png")
    monkeypatch.chdir(tmp_path)
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_playground(pilot)
        screen.open(str(models["image-classification"]))
        await wait_until(pilot, lambda: screen.loaded is not None, timeout=60)
        prompt = screen.query_one("#playground-prompt", Input)
        await pilot.press(*"pictures/ora")
        await wait_until(pilot, lambda: prompt._suggestion == "pictures/orange-cat.png")
        await pilot.press("tab", "enter")
        await wait_until(pilot, lambda: not screen.answering and screen.last_answer is not None)
        assert {label for label, _ in screen.last_answer.scores} == set(IMAGE_LABELS)
        await pilot.press(*"pictures/missing.png", "enter")
        await wait_until(pilot, lambda: not screen.answering)
        assert "(failed: " in transcript(screen) and "missing.png" in transcript(screen)


async def test_a_worker_that_breaks_frees_the_screen(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import hftui.ui.playground.screen as playground
    from hftui.infer.benchmark import Contestant, EndpointBenchPlan, PromptSet

    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("a bug")

    monkeypatch.setattr(playground, "run_endpoint_bench", broken)
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_playground(pilot)
        screen.start_benchmark(EndpointBenchPlan((Contestant.of_local("m"),), PromptSet.typed(["hi"])))
        await wait_until(pilot, lambda: not screen.answering)
        assert "(failed: The benchmark failed: RuntimeError: a bug)" in transcript(screen)
