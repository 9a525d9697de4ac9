"""The tiny random-weight demo models: cheap import, offline pipelines, byte-stable builds, honest cards."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from hftui.demo.tiny_models import (
    ENTITY_LABELS,
    IMAGE_LABELS,
    SAMPLING_RATE,
    SENTIMENT_LABELS,
    TINY_MODELS,
    build_all,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
TASKS = list(TINY_MODELS)


def _snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` by relative path, for byte-for-byte comparison."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _visible(text: str) -> bool:
    """Whether streamed text shows something: not blank, no half UTF-8 character, no control character."""
    return bool(text.strip()) and "\ufffd" not in text and text.isprintable()


def _front_matter(readme: Path) -> dict[str, Any]:
    """The README's YAML front matter, parsed with plain yaml (independently of huggingface_hub)."""
    text = readme.read_text(encoding="utf-8")
    assert text.startswith("---\n")
    return yaml.safe_load(text.split("---\n", 2)[1])


# --- cheap tests (no torch) ---------------------------------------------------------------------------


def test_import_stays_light() -> None:
    # A fresh interpreter, because this test session has long since imported torch and transformers.
    code = (
        "import sys, hftui.demo.tiny_models\n"
        "heavy = sorted(m for m in ('torch', 'transformers', 'textual') if m in sys.modules)\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == ""


def test_specs_cover_the_analyzer_and_playground_tasks() -> None:
    assert set(TINY_MODELS) == {
        "text-classification",
        "image-classification",
        "automatic-speech-recognition",
        "image-text-to-text",
        "text-generation",
        "fill-mask",
        "token-classification",
    }
    for task, spec in TINY_MODELS.items():
        assert spec.task == task
        assert spec.repo_id.startswith("hftui-demo/")
        assert spec.architecture and spec.description
    assert len({spec.repo_id for spec in TINY_MODELS.values()}) == len(TINY_MODELS)


def test_unknown_task_is_rejected(tmp_path: Path) -> None:
    from hftui.demo.tiny_models import build_tiny_model

    with pytest.raises(ValueError, match="no tiny model"):
        build_tiny_model("object-detection", tmp_path)
    assert not any(tmp_path.iterdir())


# --- built models -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every tiny model, built once for the module."""
    return build_all(tmp_path_factory.mktemp("tiny-models"))


def _check_text_classification(out: Any) -> None:
    [pred] = out
    assert pred["label"] in SENTIMENT_LABELS
    assert 0.0 <= pred["score"] <= 1.0


def _check_image_classification(out: Any) -> None:
    assert out and {p["label"] for p in out} <= set(IMAGE_LABELS)
    assert all(0.0 <= p["score"] <= 1.0 for p in out)


def _check_speech_recognition(out: Any) -> None:
    assert set(out) == {"text"}
    assert isinstance(out["text"], str)


def _check_captioning(out: Any) -> None:
    [pred] = out
    assert isinstance(pred["generated_text"], str)
    assert pred["generated_text"].startswith("a picture of")


def _check_text_generation(out: Any) -> None:
    [pred] = out
    [user, answer] = pred["generated_text"]
    assert user == {"role": "user", "content": "hello there"} and answer["role"] == "assistant"
    assert _visible(answer["content"])


def _check_fill_mask(out: Any) -> None:
    assert len(out) == 5
    assert all(0.0 <= guess["score"] <= 1.0 and guess["token_str"] for guess in out)
    assert [guess["score"] for guess in out] == sorted((guess["score"] for guess in out), reverse=True)
    assert all(guess["sequence"].startswith("the cat") and guess["sequence"].endswith("on the mat") for guess in out)


def _check_entities(out: Any) -> None:
    # Random weights tag most words; "simple" merges B-/I- pieces into groups with character offsets.
    assert out and {entity["entity_group"] for entity in out} <= {"PER", "LOC", "ORG"}
    text = NER_TEXT
    for entity in out:
        assert 0 <= entity["start"] < entity["end"] <= len(text)
        assert text[entity["start"] : entity["end"]] == entity["word"].removeprefix("##")


NER_TEXT = "the man saw a big dog in the old street"


def _inputs(task: str) -> tuple[Callable[[Any], Any], Callable[[Any], None]]:
    """The call to make on a pipeline for ``task`` and the check for its output."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    image = Image.fromarray(rng.integers(0, 256, (48, 64, 3), dtype=np.uint8))
    audio = (0.1 * rng.standard_normal(SAMPLING_RATE)).astype(np.float32)  # 1 s at 16 kHz
    return {
        "text-classification": (lambda p: p("I loved this movie, great fun"), _check_text_classification),
        "image-classification": (lambda p: p(image), _check_image_classification),
        "automatic-speech-recognition": (lambda p: p(audio), _check_speech_recognition),
        # BLIP continues the prompt; the pipeline refuses an image without text.
        "image-text-to-text": (
            lambda p: p(image, text="a picture of", max_new_tokens=5),
            _check_captioning,
        ),
        # Eos is suppressed with the other silent tokens, so the answer is visible text whatever the seed.
        "text-generation": (
            lambda p: p([{"role": "user", "content": "hello there"}], max_new_tokens=20),
            _check_text_generation,
        ),
        "fill-mask": (lambda p: p("the cat [MASK] on the mat"), _check_fill_mask),
        "token-classification": (lambda p: p(NER_TEXT, aggregation_strategy="simple"), _check_entities),
    }[task]


@pytest.mark.slow
@pytest.mark.parametrize("task", TASKS)
def test_pipeline_loads_offline_and_answers(
    task: str,
    built: dict[str, Path],
    offline: None,
    record_property: Callable[[str, object], None],
) -> None:
    from transformers import pipeline

    call, check = _inputs(task)
    start = time.perf_counter()
    pipe = pipeline(task, model=str(built[task]), device="cpu")
    loaded = time.perf_counter()
    out = call(pipe)
    done = time.perf_counter()
    # Timings go to the junit report (and -s output) only: CI machines vary too much to assert on them.
    record_property("load_s", round(loaded - start, 3))
    record_property("first_call_s", round(done - loaded, 3))
    print(f"{task}: load {loaded - start:.3f}s, first call {done - loaded:.3f}s")
    check(out)


@pytest.mark.slow
def test_captioning_needs_no_prompt_text(built: dict[str, Path], offline: None) -> None:
    from PIL import Image
    from transformers import pipeline

    pipe = pipeline("image-text-to-text", model=str(built["image-text-to-text"]))
    # An empty prompt is unconditional captioning; the pipeline's 256-token default must fit the decoder.
    [pred] = pipe(Image.new("RGB", (32, 32), (200, 40, 40)), text="")
    assert isinstance(pred["generated_text"], str)


@pytest.mark.slow
@pytest.mark.parametrize("task", TASKS)
def test_folder_layout_and_size(task: str, built: dict[str, Path]) -> None:
    folder = built[task]
    assert folder.name == TINY_MODELS[task].repo_id.split("/")[1]
    names = {p.name for p in folder.iterdir()}
    assert {"config.json", "model.safetensors", "README.md"} <= names
    assert not any(name.endswith((".bin", ".pt")) for name in names)
    total = sum(p.stat().st_size for p in folder.iterdir())
    assert total < 1_000_000


@pytest.mark.slow
def test_configs_carry_labels_and_architectures(built: dict[str, Path]) -> None:
    from transformers import AutoConfig

    for task, spec in TINY_MODELS.items():
        config = AutoConfig.from_pretrained(built[task])
        assert config.architectures == [spec.architecture]
    sentiment = AutoConfig.from_pretrained(built["text-classification"])
    assert sentiment.id2label == dict(enumerate(SENTIMENT_LABELS))
    assert sentiment.label2id == {label: i for i, label in enumerate(SENTIMENT_LABELS)}
    vision = AutoConfig.from_pretrained(built["image-classification"])
    assert vision.id2label == dict(enumerate(IMAGE_LABELS))
    assert vision.image_size == 32
    entities = AutoConfig.from_pretrained(built["token-classification"])
    assert entities.id2label == dict(enumerate(ENTITY_LABELS))
    assert entities.label2id == {label: i for i, label in enumerate(ENTITY_LABELS)}


@pytest.mark.slow
def test_tokenizers_round_trip(built: dict[str, Path]) -> None:
    from transformers import AutoConfig, AutoProcessor, AutoTokenizer

    bert = AutoTokenizer.from_pretrained(built["text-classification"])
    ids = bert("I loved this movie")["input_ids"]
    assert bert.unk_token_id not in ids
    assert bert.decode(ids, skip_special_tokens=True) == "i loved this movie"
    # Words outside the list fall back to letters and ##-pieces instead of [UNK].
    assert bert.unk_token_id not in bert("zebras")["input_ids"]

    blip = AutoProcessor.from_pretrained(built["image-text-to-text"])
    text_config = AutoConfig.from_pretrained(built["image-text-to-text"]).text_config
    assert blip.tokenizer.convert_ids_to_tokens(text_config.bos_token_id) == "[DEC]"
    assert text_config.sep_token_id == blip.tokenizer.sep_token_id
    assert text_config.pad_token_id == blip.tokenizer.pad_token_id
    assert text_config.vocab_size == len(blip.tokenizer)

    speech = AutoProcessor.from_pretrained(built["automatic-speech-recognition"])
    assert speech.feature_extractor.sampling_rate == SAMPLING_RATE
    assert speech.tokenizer.pad_token_id == 0  # the CTC blank
    # CTC decoding merges repeats ("ll"), so compare with grouping off.
    ids = speech.tokenizer("hello world")["input_ids"]
    assert speech.tokenizer.decode(ids, group_tokens=False) == "hello world"

    # The BERT models save tokenizer.json, so they load fast: entities need its offsets, fill-mask its [MASK].
    for task in ("fill-mask", "token-classification"):
        tokenizer = AutoTokenizer.from_pretrained(built[task])
        assert tokenizer.is_fast and tokenizer.mask_token == "[MASK]"
        assert tokenizer("the cat", return_offsets_mapping=True)["offset_mapping"] == [(0, 0), (0, 3), (4, 7), (0, 0)]


@pytest.mark.slow
def test_chat_tokenizer_encodes_anything_and_applies_the_template(built: dict[str, Path]) -> None:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(built["text-generation"])
    assert tokenizer.is_fast and tokenizer.eos_token == tokenizer.pad_token == "<|endoftext|>"
    # Byte-level: text far outside the training words round-trips exactly, with no unknown token.
    odd = "Zürich: 3 ☃s\n\tand 東京!"
    assert tokenizer.decode(tokenizer(odd)["input_ids"]) == odd
    chat = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hello"}]
    rendered = tokenizer.apply_chat_template(chat, add_generation_prompt=True, tokenize=False)
    assert rendered == "<|system|>be brief<|end|><|user|>hello<|end|><|assistant|>"
    ids = tokenizer.apply_chat_template(chat, add_generation_prompt=True)["input_ids"]
    specials = tokenizer.convert_tokens_to_ids(["<|system|>", "<|end|>", "<|user|>", "<|assistant|>"])
    assert set(specials) <= set(ids) and ids[-1] == specials[-1]  # each marker is one token
    assert tokenizer.decode(ids) == rendered


@pytest.mark.slow
def test_chat_model_writes_visible_text_up_to_max_new_tokens(built: dict[str, Path]) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder = built["text-generation"]
    model = AutoModelForCausalLM.from_pretrained(folder)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    shown = [tokenizer.decode([i], skip_special_tokens=True) for i in range(len(tokenizer))]
    silent = {i for i, text in enumerate(shown) if not _visible(text)}
    generation = model.generation_config
    # Eos stays set for real stopping, and is suppressed with every other token that would stream as nothing.
    assert generation.eos_token_id == tokenizer.eos_token_id
    assert set(generation.suppress_tokens) == silent and tokenizer.eos_token_id in silent
    assert len(silent) < len(tokenizer) // 2
    prompt = tokenizer.apply_chat_template([{"role": "user", "content": "hello"}], add_generation_prompt=True)
    input_ids = torch.tensor([prompt["input_ids"]])
    for sampling in ({"do_sample": False}, {"do_sample": True, "temperature": 1.0}):
        torch.manual_seed(0)
        out = model.generate(input_ids, attention_mask=torch.ones_like(input_ids), max_new_tokens=20, **sampling)
        new = out[0, input_ids.shape[1] :].tolist()
        assert len(new) == 20 and not set(new) & silent, sampling
        assert _visible(tokenizer.decode(new, skip_special_tokens=True))


@pytest.mark.slow
@pytest.mark.parametrize("task", TASKS)
def test_model_card(task: str, built: dict[str, Path]) -> None:
    from huggingface_hub import ModelCard

    readme = built[task] / "README.md"
    card = ModelCard.load(readme)
    assert card.data.pipeline_tag == task
    assert card.data.license == "apache-2.0"
    assert card.data.library_name == "transformers"
    assert {"hftui-demo", "random-weights"} <= set(card.data.tags)
    assert _front_matter(readme)["pipeline_tag"] == task
    body = card.text
    assert "RANDOM-WEIGHT DEMO" in body and "meaningless" in body
    assert TINY_MODELS[task].architecture in body
    assert "Parameters:" in body and f'pipeline("{task}"' in body


@pytest.mark.slow
def test_build_is_byte_identical_in_process(built: dict[str, Path], tmp_path: Path) -> None:
    import torch

    torch.manual_seed(1234)
    expected_next = torch.rand(3)
    torch.manual_seed(1234)
    again = build_all(tmp_path / "again")
    # Building must not consume or reseed the caller's global RNG.
    assert torch.equal(torch.rand(3), expected_next)
    for task in TASKS:
        assert _snapshot(again[task]) == _snapshot(built[task]), task

    other_seed = build_all(tmp_path / "seed1", seed=1)
    for task in TASKS:
        weights = "model.safetensors"
        assert _snapshot(other_seed[task])[weights] != _snapshot(built[task])[weights], task


@pytest.mark.slow
def test_cli_build_in_fresh_process_is_byte_identical(built: dict[str, Path], tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "hftui.demo.tiny_models", str(tmp_path)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    for task, spec in TINY_MODELS.items():
        folder = tmp_path / spec.repo_id.split("/")[1]
        assert str(folder) in out.stdout and task in out.stdout
        assert _snapshot(folder) == _snapshot(built[task]), task
    assert "Writing model shards" not in out.stderr
