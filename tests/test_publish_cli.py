"""`hftui push` and `hftui card` against the local Hub, in-process."""

from __future__ import annotations

from pathlib import Path

import pytest

from hftui.cli import main
from hftui.localhub import LocalHub
from tests.hubfixtures import HUB_TOKEN, HUB_USER
from tests.test_train_support import reviews, small_spec, tiny_bert

__all__ = ["reviews", "tiny_bert"]


@pytest.fixture
def logged_in(local_hub: LocalHub, hub_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> LocalHub:
    monkeypatch.setenv("HF_TOKEN", HUB_TOKEN)
    return local_hub


def _model(root: Path, card: str = "---\nlicense: mit\npipeline_tag: text-classification\n---\n# m\n") -> Path:
    folder = root / "model"
    folder.mkdir()
    (folder / "config.json").write_text('{"architectures": ["BertForSequenceClassification"]}')
    (folder / "model.safetensors").write_bytes(b"\x00" * 2048)
    (folder / "README.md").write_text(card)
    return folder


def test_push_uploads_and_prints_the_commit(
    logged_in: LocalHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["push", str(_model(tmp_path)), f"{HUB_USER}/cli-model", "--private"]) == 0
    out, err = capsys.readouterr()
    repo = logged_in.repo(f"{HUB_USER}/cli-model")
    assert repo is not None and repo.private and "model.safetensors" in repo.files
    assert f"commit {repo.head.sha}" in out and "3 files" in err
    assert HUB_TOKEN not in out + err

    assert main(["push", str(tmp_path / "model"), f"{HUB_USER}/cli-model"]) == 0
    assert "nothing changed" in capsys.readouterr().out


def test_push_dry_run_sends_nothing(logged_in: LocalHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["push", str(_model(tmp_path)), f"{HUB_USER}/dry", "--dry-run"]) == 0
    assert "model.safetensors" in capsys.readouterr().out
    assert logged_in.repo(f"{HUB_USER}/dry") is None


def test_push_refuses_an_invalid_card_and_bad_ids(
    logged_in: LocalHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _model(tmp_path, card="---\nlicense: not-real\n---\n# m\n")
    assert main(["push", str(folder), f"{HUB_USER}/bad-card"]) == 1
    assert "not one of the Hub's licence ids" in capsys.readouterr().err
    assert logged_in.repo(f"{HUB_USER}/bad-card") is None
    assert main(["push", str(folder), "no-namespace"]) == 1
    assert "namespace/name" in capsys.readouterr().err


def test_push_without_a_token_says_so(
    local_hub: LocalHub, hub_endpoint: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch
) -> None:
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(tmp_path / "none"))
    assert main(["push", str(_model(tmp_path)), f"{HUB_USER}/anon"]) == 1
    assert "No Hub token" in capsys.readouterr().err


def test_card_check_and_write(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "fresh"
    folder.mkdir()
    (folder / "config.json").write_text('{"architectures": ["ViTForImageClassification"]}')
    assert main(["card", str(folder)]) == 0  # a draft has warnings only (no licence yet)
    out, err = capsys.readouterr()
    assert "pipeline_tag: image-classification" in out and "warning: license" in err
    assert not (folder / "README.md").exists()
    assert main(["card", str(folder), "--write"]) == 0
    assert (folder / "README.md").is_file()
    (folder / "README.md").write_text("---\nlicense: mit\npipeline_tag: nope\n---\n# x\n")
    capsys.readouterr()
    assert main(["card", str(folder), "--check"]) == 1
    out, err = capsys.readouterr()
    assert out == "" and "pipeline_tag" in err
    assert main(["card", str(folder), "--check", "--base-license", "cc-by-nc-4.0"]) == 1
    assert "non-commercial" in capsys.readouterr().err


@pytest.mark.slow
def test_a_tiny_trained_model_card_checks_clean_and_its_push_arrives_on_the_hub(
    logged_in: LocalHub, tmp_path: Path, tiny_bert: Path, reviews: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import torch

    from hftui.hub.cards.text import parse_card
    from hftui.train.spec import save_spec
    from hftui.train.worker import run_worker

    torch.set_num_threads(1)
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    save_spec(small_spec(tiny_bert, reviews, eval_strategy="steps", save_strategy="no"), run_dir)
    assert run_worker(run_dir) == 0
    model = run_dir / "model"
    card = (model / "README.md").read_text()

    assert main(["card", str(model), "--check"]) == 0  # the card the run wrote passes every check
    capsys.readouterr()
    assert main(["push", str(model), f"{HUB_USER}/tiny-trained"]) == 0
    out, err = capsys.readouterr()
    repo = logged_in.repo(f"{HUB_USER}/tiny-trained")
    assert repo is not None and f"commit {repo.head.sha}" in out
    assert repo.files["README.md"].read().decode() == card
    assert repo.files["model.safetensors"].read() == (model / "model.safetensors").read_bytes()
    metadata = parse_card(card).metadata
    assert metadata["base_model"] == "hftui-demo/tiny-bert-sentiment" and metadata["pipeline_tag"]
    assert metadata["model-index"][0]["results"][0]["metrics"]
    assert HUB_TOKEN not in out + err
