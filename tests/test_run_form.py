"""Pilot tests of the new-run form at 80x24: numbers, value checks, dataset columns and LoRA targets, launch.

The checks that read a model use a config-only BERT folder (no weights); the one real launch trains the
tiny BERT for a few steps as a detached process and is marked slow.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Switch

from hftui.app import HfTuiApp
from hftui.train.events import EVENTS_FILE, read_all_events
from hftui.train.spec import RunSpec
from hftui.train.spec_text import dataset_kind
from hftui.ui.training.run_form import RunFormScreen
from hftui.ui.training.runs import TrainingScreen
from tests.pilot import wait_until
from tests.test_dataset_preview import make_app
from tests.test_train_support import quiet_workers, reap_runs, review_rows, reviews, tiny_bert, write_csv

__all__ = ["quiet_workers", "reap_runs", "reviews", "tiny_bert"]


class Sent:
    """What the form was dismissed with (`done` once it was)."""

    def __init__(self) -> None:
        self.done = False
        self.spec: RunSpec | None = None

    def __call__(self, spec: RunSpec | None) -> None:
        self.done, self.spec = True, spec


async def open_form(app: HfTuiApp, pilot: Pilot) -> tuple[RunFormScreen, Sent]:
    sent = Sent()
    form = RunFormScreen()
    app.push_screen(form, sent)
    await pilot.pause()
    return form, sent


def fill(form: RunFormScreen, **values: str) -> None:
    """Set fields by their id without the `form-` prefix (underscores for dashes)."""
    for name, value in values.items():
        form.query_one(f"#form-{name.replace('_', '-')}", Input).value = value


@pytest.fixture
def bert_config(tmp_path: Path) -> Path:
    """A BERT model folder holding only a tiny config.json: enough for the architecture and module checks."""
    folder = tmp_path / "bert-config"
    folder.mkdir()
    config = {
        "model_type": "bert",
        "architectures": ["BertForMaskedLM"],
        "vocab_size": 64,
        "hidden_size": 8,
        "num_hidden_layers": 1,
        "num_attention_heads": 2,
        "intermediate_size": 16,
        "max_position_embeddings": 32,
    }
    (folder / "config.json").write_text(json.dumps(config))
    return folder


def test_the_dataset_kind_follows_what_was_typed(tmp_path: Path) -> None:
    (tmp_path / "imdb").mkdir()
    assert dataset_kind("stanfordnlp/imdb") == "hub"
    assert dataset_kind("reviews.csv") == dataset_kind("./data") == dataset_kind("/srv/a/b") == "local"
    assert dataset_kind(str(tmp_path / "imdb")) == "local"


async def test_unreadable_numbers_are_shown_under_their_fields(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        form, sent = await open_form(app, pilot)
        fill(form, base_model="org/model", dataset="reviews.csv", learning_rate="fast", batch_size="2.5", epochs="")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "'fast' is not a number" in form.problem_text("form-learning-rate")
        assert "'2.5' is not a whole number" in form.problem_text("form-batch-size")
        assert "epochs is needed" in form.problem_text("form-epochs")
        assert form.problem_text("form-seed") == ""
        summary = str(form.query_one("#run-form-problems").render())
        assert "3 problems to fix before launch" in summary and "Learning rate: 'fast'" in summary
        assert app.screen is form and not sent.done

        fill(form, learning_rate="5e-5", batch_size="8", epochs="1")
        await pilot.press("escape")
        await pilot.pause()
        assert sent.done and sent.spec is None


async def test_value_checks_name_their_fields(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        form, sent = await open_form(app, pilot)
        fill(form, base_model="org/model", dataset=str(tmp_path / "missing.csv"), warmup="-1", eval_fraction="1.5")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: not form.checking)
        assert "does not exist" in form.problem_text("form-dataset")
        assert "must not be negative" in form.problem_text("form-warmup")
        assert "below 1" in form.problem_text("form-eval-fraction")
        assert not sent.done


async def test_missing_columns_and_unknown_lora_targets(tmp_path: Path, bert_config: Path) -> None:
    data = write_csv(
        tmp_path / "reviews.csv", [{"review": row["text"], "stars": row["label"]} for row in review_rows(8)]
    )
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        form, sent = await open_form(app, pilot)
        fill(form, base_model=str(bert_config), dataset=str(data))
        form.query_one("#form-lora", Switch).value = True
        # The suggestion comes from the architecture's own module names.
        await wait_until(pilot, lambda: form.query_one("#form-lora-targets", Input).value == "query, value", timeout=60)
        hint = str(form.query_one("#form-lora-targets-hint").render())
        assert "linear layers: query, key, value, dense" in hint

        fill(form, lora_targets="query, qkv_proj")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: not form.checking, timeout=60)
        assert "has no text column `text`; its columns are review, stars" in form.problem_text("form-text-column")
        assert "has no label column `label`" in form.problem_text("form-label-column")
        targets = form.problem_text("form-lora-targets")
        assert "qkv_proj match no module" in targets and "query, key, value" in targets
        assert app.screen is form and not sent.done

        fill(form, text_column="review", label_column="stars", lora_targets="query, value", max_length="16")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: sent.done, timeout=60)
        assert sent.spec is not None and sent.spec.lora is not None
        assert sent.spec.lora.target_modules == ("query", "value")
        assert sent.spec.dataset.kind == "local" and sent.spec.dataset.text_column == "review"
        assert sent.spec.base_model == str(bert_config)


@pytest.mark.slow
@pytest.mark.usefixtures("quiet_workers")
async def test_the_form_launches_a_tiny_bert_run_that_appears_highlighted(
    tmp_path: Path, hftui_home: Path, tiny_bert: Path, reviews: Path, reap_runs: list[Path]
) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("t")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, TrainingScreen)
        await pilot.press("n")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, RunFormScreen)
        await pilot.press(*str(tiny_bert))  # typed, as a user would
        fill(
            form,
            dataset=str(reviews),
            max_steps="6",
            batch_size="8",
            max_length="16",
            learning_rate="1e-3",
            logging_steps="2",
            eval_steps="3",
            save_steps="3",
        )
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: len(screen.runs) == 1, timeout=90)
        assert app.screen is screen
        run = screen.runs[0]
        reap_runs.append(run.path)
        assert screen.highlighted is not None and screen.highlighted.run_id == run.run_id
        await wait_until(pilot, lambda: screen.runs[0].state in ("finished", "failed"), timeout=120)
        kinds = [event.kind for event in read_all_events(run.path / EVENTS_FILE).events]
        assert screen.runs[0].state == "finished", kinds
        assert screen.runs[0].best is not None and screen.runs[0].best.name == "accuracy"
        assert run.path.parent == hftui_home / "runs"
