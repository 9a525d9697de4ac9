"""Copy-ready code for a repo: the `hf download` command, `snapshot_download`, and for models the pipeline,
Auto class and sentence-transformers calls that load it.

Repo ids and patterns come from the Hub, so every one is quoted (Python `repr`, POSIX shell single quotes).
"""

from __future__ import annotations

from collections.abc import Sequence

# Tasks transformers 5 still has a pipeline for (summarization, translation, question-answering and
# image-to-text are gone), with an example call.
_TEXT = '"Hugging Face makes sharing models easy."'
_IMAGE = '"path/to/image.jpg"'
_AUDIO = '"path/to/audio.wav"'
PIPELINE_CALLS: dict[str, str] = {
    "text-generation": 'pipe("Once upon a time", max_new_tokens=40)',
    "text-classification": f"pipe({_TEXT})",
    "token-classification": f"pipe({_TEXT})",
    "feature-extraction": f"pipe({_TEXT})",
    "fill-mask": 'pipe(f"Paris is the {pipe.tokenizer.mask_token} of France.")',
    "zero-shot-classification": f'pipe({_TEXT}, candidate_labels=["tech", "sports", "food"])',
    "table-question-answering": 'pipe(table={"city": ["Paris", "Rome"]}, query="Which cities?")',
    "document-question-answering": 'pipe("path/to/document.png", question="What is the total?")',
    "image-classification": f"pipe({_IMAGE})",
    "image-feature-extraction": f"pipe({_IMAGE})",
    "image-segmentation": f"pipe({_IMAGE})",
    "object-detection": f"pipe({_IMAGE})",
    "depth-estimation": f"pipe({_IMAGE})",
    "mask-generation": f"pipe({_IMAGE})",
    "zero-shot-image-classification": f'pipe({_IMAGE}, candidate_labels=["cat", "dog"])',
    "zero-shot-object-detection": f'pipe({_IMAGE}, candidate_labels=["cat", "dog"])',
    "image-text-to-text": (
        'pipe(text=[{"role": "user", "content": [{"type": "image", "url": "path/to/image.jpg"}, '
        '{"type": "text", "text": "Describe this image."}]}], max_new_tokens=40)'
    ),
    "automatic-speech-recognition": f"pipe({_AUDIO})",
    "audio-classification": f"pipe({_AUDIO})",
    "zero-shot-audio-classification": f'pipe({_AUDIO}, candidate_labels=["speech", "music"])',
    "text-to-audio": 'pipe("Hello from Hugging Face!")',
    "video-classification": 'pipe("path/to/video.mp4")',
}
# The Auto class that loads a model for each Hub task.
AUTO_MODEL_CLASSES: dict[str, str] = {
    "text-generation": "AutoModelForCausalLM",
    "fill-mask": "AutoModelForMaskedLM",
    "text-classification": "AutoModelForSequenceClassification",
    "zero-shot-classification": "AutoModelForSequenceClassification",
    "token-classification": "AutoModelForTokenClassification",
    "question-answering": "AutoModelForQuestionAnswering",
    "table-question-answering": "AutoModelForTableQuestionAnswering",
    "summarization": "AutoModelForSeq2SeqLM",
    "translation": "AutoModelForSeq2SeqLM",
    "text2text-generation": "AutoModelForSeq2SeqLM",
    "feature-extraction": "AutoModel",
    "sentence-similarity": "AutoModel",
    "image-classification": "AutoModelForImageClassification",
    "zero-shot-image-classification": "AutoModelForZeroShotImageClassification",
    "object-detection": "AutoModelForObjectDetection",
    "zero-shot-object-detection": "AutoModelForZeroShotObjectDetection",
    "image-segmentation": "AutoModelForImageSegmentation",
    "depth-estimation": "AutoModelForDepthEstimation",
    "mask-generation": "AutoModelForMaskGeneration",
    "image-feature-extraction": "AutoModel",
    "image-text-to-text": "AutoModelForImageTextToText",
    "image-to-text": "AutoModelForImageTextToText",
    "visual-question-answering": "AutoModelForVisualQuestionAnswering",
    "document-question-answering": "AutoModelForDocumentQuestionAnswering",
    "video-classification": "AutoModelForVideoClassification",
    "audio-classification": "AutoModelForAudioClassification",
    "automatic-speech-recognition": "AutoModelForSpeechSeq2Seq",
    "text-to-audio": "AutoModelForTextToWaveform",
}
# Tasks whose inputs a tokenizer prepares; the rest need a processor (image, audio, multimodal).
_TEXT_TASKS = frozenset(
    {
        "text-generation",
        "fill-mask",
        "text-classification",
        "zero-shot-classification",
        "token-classification",
        "question-answering",
        "table-question-answering",
        "summarization",
        "translation",
        "text2text-generation",
        "feature-extraction",
        "sentence-similarity",
    }
)


def snippets(
    repo_id: str,
    *,
    pipeline_tag: str | None,
    library_name: str | None,
    allow_patterns: Sequence[str] | None = None,
    ignore_patterns: Sequence[str] | None = None,
    repo_type: str = "model",
) -> dict[str, str]:
    """Copy-ready code: "cli" and "python", plus "pipeline", "auto_model", "sentence_transformers" where apt.

    Repo ids and patterns are untrusted, so they are quoted (Python `repr`, shell single quotes).
    """
    out: dict[str, str] = {"cli": _cli_snippet(repo_id, repo_type, allow_patterns, ignore_patterns)}
    args = [f"repo_id={repo_id!r}"]
    if repo_type != "model":
        args.append(f"repo_type={repo_type!r}")
    if allow_patterns:
        args.append(f"allow_patterns={list(allow_patterns)!r}")
    if ignore_patterns:
        args.append(f"ignore_patterns={list(ignore_patterns)!r}")
    out["python"] = (
        f"from huggingface_hub import snapshot_download\n\npath = snapshot_download({', '.join(args)})\nprint(path)\n"
    )
    if repo_type != "model":
        return out
    quoted = repr(repo_id)
    if library_name == "sentence-transformers":
        out["sentence_transformers"] = (
            "from sentence_transformers import SentenceTransformer\n\n"
            f"model = SentenceTransformer({quoted})\n"
            f'embeddings = model.encode([{_TEXT}, "Another sentence."])\n'
            "print(embeddings.shape)\n"
        )
    if library_name not in (None, "transformers"):
        return out
    if pipeline_tag in PIPELINE_CALLS:
        out["pipeline"] = (
            "from transformers import pipeline\n\n"
            f"pipe = pipeline({pipeline_tag!r}, model={quoted})\n"
            f"print({PIPELINE_CALLS[pipeline_tag]})\n"
        )
    auto_class = AUTO_MODEL_CLASSES.get(pipeline_tag or "")
    if auto_class is None and library_name == "transformers":
        auto_class = "AutoModel"
    if auto_class is not None:
        if pipeline_tag is None:
            out["auto_model"] = (
                f"from transformers import {auto_class}\n\nmodel = {auto_class}.from_pretrained({quoted})\n"
            )
        else:
            inputs = "AutoTokenizer" if pipeline_tag in _TEXT_TASKS else "AutoProcessor"
            variable = "tokenizer" if inputs == "AutoTokenizer" else "processor"
            out["auto_model"] = (
                f"from transformers import {auto_class}, {inputs}\n\n"
                f"{variable} = {inputs}.from_pretrained({quoted})\n"
                f"model = {auto_class}.from_pretrained({quoted})\n"
            )
    return out


def _cli_snippet(repo_id: str, repo_type: str, allow: Sequence[str] | None, ignore: Sequence[str] | None) -> str:
    parts = ["hf", "download", _shell_quote(repo_id)]
    if repo_type != "model":
        parts += ["--repo-type", _shell_quote(repo_type)]
    # --include and --exclude take one pattern each and may be repeated.
    for pattern in allow or ():
        parts += ["--include", _shell_quote(pattern)]
    for pattern in ignore or ():
        parts += ["--exclude", _shell_quote(pattern)]
    return " ".join(parts)


def _shell_quote(text: str) -> str:
    """Single-quote for POSIX shells, always, so ids and globs are never expanded or split."""
    return "'" + text.replace("'", "'\"'\"'") + "'"
