"""Pilot tests of the card editor and the publish screen at 80x24 against the local Hub: a card drafted for a tiny
model folder, its metadata edited in the form, a validation problem appearing and going, the card saved; the
folder published with progress, the files and the card arriving on the Hub; a cancelled upload; a card with
errors and a read-only token refused with nothing sent; and the token never shown or logged."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from textual.app import App
from textual.command import CommandList, CommandPalette
from textual.pilot import Pilot
from textual.widgets import Input, OptionList, Select, TextArea

from hftui.hub.cards.draft import guess_card_kind
from hftui.hub.cards.edit import set_metadata
from hftui.localhub import LocalHub
from hftui.ui.publish.card_editor import CardEditorScreen
from hftui.ui.publish.publish import PublishProgressed, PublishScreen
from tests.hubfixtures import HUB_TOKEN, HUB_USER
from tests.pilot import screen_text, wait_until
from tests.test_account_screen import TokenWatch, make_app

READ_TOKEN = "hf_readTokenForThePublishScreen00"


@pytest.fixture
def logged_in(local_hub: LocalHub, hub_endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The write token in the token file (as `hf auth login` leaves it); returns the token file."""
    from huggingface_hub import constants

    token_file = tmp_path / "hf-auth" / "token"
    token_file.parent.mkdir()
    token_file.write_text(HUB_TOKEN)
    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(token_file))
    monkeypatch.setattr(constants, "HF_STORED_TOKENS_PATH", str(token_file.parent / "stored_tokens"))
    return token_file


def tiny_model(root: Path, name: str = "tiny-classifier", weights: int = 200_000) -> Path:
    """A trained-looking folder: config, weights, a checkpoint left out by default; no card yet."""
    folder = root / name
    (folder / "checkpoint-5").mkdir(parents=True)
    (folder / "config.json").write_text('{"architectures": ["BertForSequenceClassification"], "model_type": "bert"}')
    (folder / "model.safetensors").write_bytes(bytes(range(256)) * (weights // 256))
    (folder / "checkpoint-5" / "optimizer.pt").write_bytes(b"o" * 64)
    return folder


async def open_editor(pilot: Pilot, folder: Path) -> CardEditorScreen:
    screen = CardEditorScreen(folder)
    pilot.app.push_screen(screen)
    await wait_until(pilot, lambda: screen.loaded and screen.checked_generation == screen.generation)
    return screen


def problem_fields(screen: CardEditorScreen) -> set[tuple[str, str]]:
    return {(problem.field, problem.severity) for problem in screen.problems}


async def checked(pilot: Pilot, screen: CardEditorScreen) -> None:
    await pilot.pause(0.3)  # the check waits for typing to pause
    await wait_until(pilot, lambda: screen._check_timer is None and screen.checked_generation == screen.generation)
    await pilot.pause()  # the problems list's new height is laid out


async def pick(pilot: Pilot, select: Select, typed: str) -> None:
    """Open the focused Select, type to find the option, enter."""
    assert select.has_focus
    await pilot.press("enter", *typed, "enter")


async def test_write_a_card_and_publish_it_with_progress(
    logged_in: Path, local_hub: LocalHub, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    folder = tiny_model(tmp_path)
    seen: list[object] = []
    app = make_app(local_hub.url, tmp_path)
    async with app.run_test(size=(80, 24), message_hook=seen.append) as pilot:
        watch = TokenWatch(app, caplog)
        editor = await open_editor(pilot, folder)
        assert editor.kind == "model" and not editor.existing and editor.dirty
        area = editor.query_one("#cardedit-text", TextArea)
        assert area.language == "markdown"  # highlighted (tree-sitter's Markdown grammar is a dependency)
        assert "pipeline_tag: text-classification" in area.text and "## How to use" in area.text
        assert editor.query_one("#cardedit-pipeline_tag", Select).value == "text-classification"
        assert ("license", "warning") in problem_fields(editor)
        text = watch.check()
        assert "No licence" in text and "Model card" in text

        # licence: other brings two errors (its name and link), explained; mit makes them go.
        await pick(pilot, editor.query_one("#cardedit-license", Select), "other")
        await checked(pilot, editor)
        assert "license: other" in area.text
        assert {("license_name", "error"), ("license_link", "error")} <= problem_fields(editor)
        assert "license: other needs license_name" in watch.check()
        await pick(pilot, editor.query_one("#cardedit-license", Select), "mit")
        await checked(pilot, editor)
        assert "license: mit" in area.text and not any(p.severity == "error" for p in editor.problems)
        assert "No problems" in watch.check()

        # A list field: typed comma-separated, written as YAML.
        await pilot.press("tab", "tab", *"en, fr")
        await checked(pilot, editor)
        assert "language:\n- en\n- fr\n" in area.text
        # And the other way: an unknown task typed into the text shows in the problems and empties the form's task.
        area.replace(
            area.text.replace("pipeline_tag: text-classification", "pipeline_tag: sorting"), (0, 0), area.document.end
        )
        await checked(pilot, editor)
        assert ("pipeline_tag", "error") in problem_fields(editor)
        assert editor.query_one("#cardedit-pipeline_tag", Select).value is Select.NULL
        await pilot.press("escape")  # out of the form box
        assert editor.focused is editor.query_one("#cardedit-problems")
        # Enter on the problem goes to its form box.
        options = editor.query_one("#cardedit-problems", OptionList)
        index = next(
            i for i in range(options.option_count) if options.get_option_at_index(i).id.endswith(":pipeline_tag")
        )
        await pilot.press("home", *["down"] * index, "enter")
        await pick(pilot, editor.query_one("#cardedit-pipeline_tag", Select), "text-class")
        await checked(pilot, editor)
        assert "pipeline_tag: text-classification" in area.text and ("pipeline_tag", "error") not in problem_fields(
            editor
        )

        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: not editor.dirty)
        saved = (folder / "README.md").read_text()
        assert saved == area.text and "license: mit" in saved and "- fr" in saved
        assert "Saved" in watch.check()

        await pilot.press("v")  # the rendered preview
        assert "Intended uses & limitations" in watch.check()
        await pilot.press("v", "escape", "p")
        await wait_until(pilot, lambda: isinstance(app.screen, PublishScreen))
        publisher = app.screen
        assert isinstance(publisher, PublishScreen)
        await wait_until(pilot, lambda: publisher.who is not None and publisher.plan is not None)
        repo_id = f"{HUB_USER}/tiny-classifier"
        await wait_until(pilot, lambda: publisher.plan.repo_id == repo_id)
        assert publisher.query_one("#publish-repo", Input).value == repo_id  # <user>/<folder name>
        plan = publisher.plan
        assert [f.path for f in plan.files] == ["README.md", "config.json", "model.safetensors"]
        assert plan.excluded == ("checkpoint-5/optimizer.pt",) and plan.ok
        text = watch.check()
        assert "3 files" in text and "public model tester/tiny-classifier" in text
        assert "checkpoint-5/optimizer.pt" in text and "write token" in text

        await pilot.press("enter")  # from the repo box to the Publish button
        assert publisher.focused is publisher.query_one("#publish-go")
        await pilot.press("enter")
        await wait_until(pilot, lambda: publisher.result is not None, timeout=30)
        repo = local_hub.repo(repo_id)
        assert repo is not None and not repo.private
        assert set(repo.files) == {".gitattributes", "README.md", "config.json", "model.safetensors"}
        assert repo.files["README.md"].read().decode() == saved
        assert repo.files["model.safetensors"].read() == (folder / "model.safetensors").read_bytes()
        assert repo.head.title == "Upload with hftui"
        progress = [m.progress for m in seen if isinstance(m, PublishProgressed)]
        assert any(p.phase == "uploading" and p.total_bytes == plan.total_bytes for p in progress)
        result = publisher.result
        assert result.commit_oid == repo.head.sha and result.repo_url.endswith(repo_id)
        assert app.clipboard == result.repo_url
        text = watch.check()
        assert result.commit_oid in text and result.repo_url in text
        await pilot.press("i")
        assert app.clipboard == result.commit_oid
        watch.check()


async def test_cancel_mid_upload_commits_nothing(
    logged_in: Path, local_hub: LocalHub, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tiny_model(tmp_path, "to-cancel", weights=1_000_000)
    (folder / "README.md").write_text("---\nlicense: mit\npipeline_tag: text-classification\n---\n# A model\n")
    local_hub.delay(r"/preupload/", 1.5)  # the upload waits here long enough to be cancelled
    app = make_app(local_hub.url, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        watch = TokenWatch(app, caplog)
        publisher = PublishScreen(folder)
        app.push_screen(publisher)
        await wait_until(pilot, lambda: publisher.who is not None and publisher.plan is not None and publisher.plan.ok)
        await pilot.press("escape", "p")  # out of the repo box; p publishes
        await wait_until(pilot, lambda: "uploading" in str(publisher.query_one("#publish-status").render()))
        await pilot.press("c")
        await wait_until(pilot, lambda: not publisher.running, timeout=20)
        assert publisher.result is None
        assert "Cancelled: nothing was committed" in watch.check()
    repo = local_hub.repo(f"{HUB_USER}/to-cancel")
    assert repo is not None and set(repo.files) == {".gitattributes"}


async def test_card_errors_and_a_read_only_token_are_refused_before_anything_is_sent(
    logged_in: Path, local_hub: LocalHub, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    local_hub.add_token(READ_TOKEN, user=HUB_USER, role="read", name="reader")
    folder = tiny_model(tmp_path, "never-sent")
    (folder / "README.md").write_text("---\nlicense: not-a-licence\n---\n# A model\n")
    app = make_app(local_hub.url, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        watch = TokenWatch(app, caplog)
        publisher = PublishScreen(folder)
        app.push_screen(publisher)
        await wait_until(pilot, lambda: publisher.who is not None and publisher.plan is not None)
        await pilot.press("escape", "p")
        text = watch.check()
        assert "not one of the Hub's licence ids" in text and "Not published: The card has 1 error" in text

        (folder / "README.md").write_text("---\nlicense: mit\n---\n# A model\n")
        logged_in.write_text(READ_TOKEN)
        publisher.who = None
        publisher.ask_who()
        publisher.schedule_plan(0)
        await wait_until(pilot, lambda: publisher.who is not None and publisher.card_problems is not None)
        await wait_until(pilot, lambda: not any(p.severity == "error" for p in publisher.card_problems))
        assert "READ-ONLY TOKEN" in watch.check()
        await pilot.press("p")
        assert "Not published: The token is read-only" in watch.check()
        assert not publisher.running
    assert local_hub.repo(f"{HUB_USER}/never-sent") is None
    assert not any(method in ("POST", "PUT") for method, _path in local_hub.requests)


def test_folder_kind_and_front_matter_edits(tmp_path: Path) -> None:
    model = tiny_model(tmp_path)
    data = tmp_path / "data"
    data.mkdir()
    (data / "train.jsonl").write_text('{"text": "a", "label": 0}\n')
    assert guess_card_kind(model) == "model" and guess_card_kind(data) == "dataset"
    card = "---\nlicense: mit # a comment\ntags:\n- a\n---\n\n# Body\n"
    assert set_metadata(card, "license", "apache-2.0") == "---\nlicense: apache-2.0\ntags:\n- a\n---\n\n# Body\n"
    assert set_metadata(card, "tags", None) == "---\nlicense: mit\n---\n\n# Body\n"
    assert set_metadata("# No metadata\n", "license", "mit") == "---\nlicense: mit\n---\n\n# No metadata\n"
    assert set_metadata("---\nlicense: [unclosed\n---\n# x\n", "license", "mit") is None


async def test_dataset_folder_gets_a_dataset_card(tmp_path: Path) -> None:
    data = tmp_path / "reviews"
    data.mkdir()
    (data / "train.csv").write_text("text,label\ngood,1\n")
    app = make_app("http://127.0.0.1:9", tmp_path, offline=True)
    async with app.run_test(size=(80, 24)) as pilot:
        editor = await open_editor(pilot, data)
        assert editor.kind == "dataset" and "configs:" in editor.text
        assert editor.query_one("#cardedit-row-size_categories").display
        assert not editor.query_one("#cardedit-row-pipeline_tag").display
        await pilot.press("tab", "tab")  # licence, task, size
        await pick(pilot, editor.query_one("#cardedit-size_categories", Select), "n<1")
        await checked(pilot, editor)
        assert "size_categories:\n- n<1K\n" in editor.text
        assert "Dataset card" in screen_text(app)[0]
        await pilot.press("escape", "k")  # an untouched draft would switch; this one is edited, so only the checks do
        await checked(pilot, editor)
        assert editor.kind == "model" and "size_categories" in editor.text
        assert not editor.query_one("#cardedit-row-size_categories").display


def palette_hits(app: App) -> list[str]:
    """The command palette's hits as text (the palette is narrower than a long folder path)."""
    if not isinstance(app.screen, CommandPalette):
        return []
    results = app.screen.query_one(CommandList)
    return [str(results.get_option_at_index(index).prompt) for index in range(results.option_count)]


async def test_the_editor_opens_from_the_account_screen_and_the_palette(tmp_path: Path) -> None:
    folder = tiny_model(tmp_path)
    app = make_app("http://127.0.0.1:9", tmp_path, offline=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("u", "e", "ctrl+u", *str(folder), "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, CardEditorScreen) and app.screen.loaded)
        assert app.screen.folder == folder
        await pilot.press("escape", "escape")  # out of the form, then leave: the draft is not saved, so it asks
        await pilot.press("y")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "AccountScreen")
        assert not (folder / "README.md").exists()

        await pilot.press("ctrl+p", *f"card: edit {folder}")
        await wait_until(pilot, lambda: any(f"card: edit {folder}" in hit for hit in palette_hits(app)))
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, CardEditorScreen) and app.screen.loaded)
        assert app.screen.folder == folder


async def test_e_on_the_publish_screen_opens_the_card_editor_or_goes_back_to_the_one_that_opened_it(
    tmp_path: Path,
) -> None:
    folder = tiny_model(tmp_path)
    (folder / "README.md").write_text("---\nlicense: mit\n---\n# A model\n")
    app = make_app("http://127.0.0.1:9", tmp_path, offline=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("u", "p", "ctrl+u", *str(folder), "enter")  # publish from the Account screen
        await wait_until(pilot, lambda: isinstance(app.screen, PublishScreen))
        publisher = app.screen
        await pilot.press("escape", "e")  # out of the repo box; e opens the editor on the folder
        await wait_until(pilot, lambda: isinstance(app.screen, CardEditorScreen) and app.screen.loaded)
        editor = app.screen
        assert isinstance(editor, CardEditorScreen) and editor.folder == folder
        await pilot.press("escape", "p")  # the saved card: p opens publishing at once
        await wait_until(pilot, lambda: isinstance(app.screen, PublishScreen) and app.screen is not publisher)
        await pilot.press("escape", "e")  # back to the editor that opened it, not a new one
        await wait_until(pilot, lambda: app.screen is editor)
        assert app.screen_stack[1:] == [publisher, editor]  # the second publish screen is gone
