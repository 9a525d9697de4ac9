"""Full fine-tuning vs LoRA: the measured comparison (tiny BERT, each variant in its own process) and its table."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from hftui.cli import main
from hftui.train import lora_compare
from hftui.train.lora_compare import (
    CompareProgress,
    CompareSettings,
    LoraCompareCancelled,
    LoraCompareError,
    LoraComparison,
    VariantResult,
    compare_lora,
    format_bytes,
)
from tests.test_train_support import tiny_bert

__all__ = ["tiny_bert"]


def _result(variant: str, trainable: int, total: int, peak: int, saved: int) -> VariantResult:
    return VariantResult(
        variant=variant,
        trainable_params=trainable,
        total_params=total,
        peak_memory_bytes=peak,
        weights_memory_bytes=peak // 4,
        step_time_s=0.25 if variant == "full" else 0.1,
        steps=4,
        saved_bytes=saved,
        saved_measured=variant == "lora",
        final_loss=0.5,
        target_modules=("query", "value") if variant == "lora" else (),
    )


def hand_made(model: str = "org/base") -> LoraComparison:
    """A comparison with known numbers (what a run of a 110M-parameter model might measure)."""
    return LoraComparison(
        settings=CompareSettings(model),
        full=_result("full", 110_000_000, 110_000_000, 2 * 1024**3, 440 * 1024**2),
        lora=_result("lora", 300_000, 110_300_000, 1024**3, 1200 * 1024),
        dataset="generated reviews",
        generated_dataset=True,
        notes=("no dataset given",),
    )


def test_the_table_rows_summary_and_json_of_a_comparison() -> None:
    result = hand_made()
    rows = {measure: (full, lora) for measure, full, lora in result.rows()}
    assert rows["trainable parameters"] == ("110,000,000", "300,000")
    assert rows["% trainable"] == ("100.00%", "0.27%")
    assert rows["peak memory"] == ("2.0 GiB", "1.0 GiB")
    assert rows["step time"] == ("250 ms", "100 ms")
    assert rows["saved size"] == ("440.0 MiB (weights)", "1.2 MiB (adapter)")
    assert "367x fewer" in result.summary() and "50% less peak memory" in result.summary()
    again = json.loads(json.dumps(result.to_json()))
    assert VariantResult.from_json(again["lora"]) == result.lora
    assert CompareSettings.from_json(again["settings"]) == result.settings
    assert again["generated_dataset"] is True and again["memory_method"] == result.full.memory_method
    assert format_bytes(512) == "512 B" and format_bytes(3 * 1024**2 + 1) == "3.0 MiB"


def test_the_command_line_prints_the_table(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    seen: list[CompareSettings] = []

    def fake(settings: CompareSettings, **_: object) -> LoraComparison:
        seen.append(settings)
        return hand_made(settings.base_model)

    monkeypatch.setattr(lora_compare, "compare_lora", fake)
    assert main(["train", "compare-lora", "org/base", "--steps", "3", "--max-length", "32"]) == 0
    out = capsys.readouterr().out
    assert seen[0].steps == 3 and seen[0].max_length == 32 and seen[0].dataset is None
    assert "trainable parameters" in out and "300,000" in out and "0.27%" in out and "(adapter)" in out
    assert "generated reviews" in out
    assert main(["train", "compare-lora", "org/base", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["lora"]["trainable_params"] == 300_000
    assert main(["train", "compare-lora"]) == 2
    assert main(["train", "compare-lora", "org/base", "--steps", "0"]) == 2
    capsys.readouterr()
    # Its options with a spec file would be ignored: refused, naming them.
    assert main(["train", "spec.json", "--steps", "3", "--json"]) == 2
    assert "--steps, --json belong to compare-lora" in capsys.readouterr().err


@pytest.mark.slow
def test_a_short_run_of_each_measures_lora_far_below_full(tiny_bert: Path) -> None:
    updates: list[CompareProgress] = []
    settings = CompareSettings(str(tiny_bert), steps=2, batch_size=4, max_length=16, device="cpu")
    result = compare_lora(settings, progress=updates.append)
    full, lora = result.full, result.lora
    assert full.trainable_params == full.total_params > 0
    assert 0 < lora.trainable_params < full.trainable_params / 10
    assert lora.total_params > full.total_params  # the adapter's weights come on top of the base's
    for variant in (full, lora):
        assert variant.peak_memory_bytes > 0 and variant.step_time_s > 0 and variant.saved_bytes > 0
        assert variant.steps == 2 and variant.final_loss is not None and variant.device == "cpu"
    assert lora.saved_measured and lora.saved_bytes < full.saved_bytes
    assert lora.target_modules == ("query", "value")
    assert result.generated_dataset and "getrusage" in result.memory_method
    assert [(u.variant, u.step) for u in updates if u.stage == "training"] == [
        ("full", 1),
        ("full", 2),
        ("lora", 1),
        ("lora", 2),
    ]
    assert all(cell for row in result.rows() for cell in row)


@pytest.mark.slow
def test_a_bad_model_is_a_clear_error_and_a_cancel_kills_the_measuring_process(
    tmp_path: Path, tiny_bert: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "not-a-model"
    empty.mkdir()
    with pytest.raises(LoraCompareError, match=r"full: .*not-a-model"):
        compare_lora(CompareSettings(str(empty), steps=1, device="cpu"))

    started: list[subprocess.Popen[bytes]] = []
    real_popen = subprocess.Popen

    def recording(*args: object, **kwargs: object) -> subprocess.Popen[bytes]:
        process = real_popen(*args, **kwargs)  # type: ignore[call-overload]
        started.append(process)
        return process

    monkeypatch.setattr(lora_compare.subprocess, "Popen", recording)
    updates: list[CompareProgress] = []
    with pytest.raises(LoraCompareCancelled):
        compare_lora(
            CompareSettings(str(tiny_bert), steps=50, max_length=16, device="cpu"),
            progress=updates.append,
            cancelled=lambda: any(u.stage == "loading" for u in updates),
        )
    assert len(started) == 1 and started[0].poll() is not None  # killed and reaped, LoRA never started


async def test_the_screen_runs_the_comparison_with_progress_and_shows_the_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from textual.widgets import DataTable, Input, ProgressBar

    from hftui.ui.training.lora_compare import LoraCompareScreen
    from tests.pilot import screen_text, wait_until
    from tests.test_dataset_preview import make_app

    seen: list[CompareSettings] = []

    def fake(settings: CompareSettings, *, progress, cancelled) -> LoraComparison:  # type: ignore[no-untyped-def]
        seen.append(settings)
        for variant in ("full", "lora"):
            for step in range(1, settings.steps + 1):
                progress(CompareProgress(variant, "training", step, settings.steps))
        return hand_made(settings.base_model)

    monkeypatch.setattr(lora_compare, "compare_lora", fake)
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = LoraCompareScreen("org/base")
        app.push_screen(screen)
        await pilot.pause()
        assert screen.query_one("#lora-compare-model", Input).value == "org/base"
        await pilot.press("enter")
        await wait_until(pilot, lambda: screen.result is not None)
        assert seen[0].base_model == "org/base" and seen[0].dataset is None
        table = screen.query_one(DataTable)
        rows = [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]
        assert rows[0] == ["trainable parameters", "110,000,000", "300,000"]
        assert ["% trainable", "100.00%", "0.27%"] in rows and rows[3][0] == "peak memory"
        bar = screen.query_one(ProgressBar)
        assert bar.progress == bar.total == 8
        text = screen_text(app)[0]
        assert "367x fewer" in text and "generated reviews" in text
        await pilot.press("escape")
        assert not isinstance(app.screen, LoraCompareScreen)


async def test_the_screen_cancels_a_running_comparison_and_reports_a_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    from textual.widgets import Input

    from hftui.ui.training.lora_compare import LoraCompareScreen
    from tests.pilot import wait_until
    from tests.test_dataset_preview import make_app

    began = threading.Event()
    saw_cancel = threading.Event()

    def slow(settings: CompareSettings, *, progress, cancelled) -> LoraComparison:  # type: ignore[no-untyped-def]
        progress(CompareProgress("full", "loading", 0, settings.steps, "loading"))
        began.set()
        while not cancelled():
            threading.Event().wait(0.01)
        saw_cancel.set()
        raise LoraCompareCancelled("cancelled")

    monkeypatch.setattr(lora_compare, "compare_lora", slow)
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = LoraCompareScreen(None)
        app.push_screen(screen)
        await pilot.pause()
        await pilot.press("enter")  # no model typed: nothing starts
        assert not screen.running
        screen.query_one("#lora-compare-model", Input).value = "org/base"
        await pilot.press("enter")
        assert began.wait(5) and screen.running
        await pilot.press("c")
        await wait_until(pilot, lambda: not screen.running)
        assert saw_cancel.is_set()
        assert "cancelled" in str(screen.query_one("#lora-compare-status").render())
        assert isinstance(app.screen, LoraCompareScreen)  # the first Escape/c cancels, it does not leave

        def broken(settings: CompareSettings, **_: object) -> LoraComparison:
            raise LoraCompareError("full: out of memory while training at step 1")

        monkeypatch.setattr(lora_compare, "compare_lora", broken)
        await pilot.press("r")
        await wait_until(pilot, lambda: not screen.running and screen.worker is not None and screen.worker.is_finished)
        assert "out of memory" in str(screen.query_one("#lora-compare-status").render())
        await pilot.press("escape")
        assert not isinstance(app.screen, LoraCompareScreen)
