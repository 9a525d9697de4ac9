"""The JSON the Hub sends about a repo: every field it can report at a commit, and which of them, in which order,
an info answer (`model_info`, `dataset_info`) or a listing row carries."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from hftui.localhub.commits import HostedCommit
from hftui.localhub.files import HostedFile
from hftui.localhub.protocol import iso_date
from hftui.localhub.repos import HostedRepo
from hftui.localhub.tags import str_list

# The fields of a model_info / dataset_info answer, in the order the Hub sends them.
MODEL_INFO_KEYS = (
    "_id", "id", "private", "pipeline_tag", "library_name", "tags", "downloads", "likes", "modelId", "author",
    "sha", "lastModified", "gated", "disabled", "widgetData", "model-index", "config", "cardData",
    "transformersInfo", "siblings", "spaces", "createdAt", "safetensors", "usedStorage", "trendingScore",
)  # fmt: skip
DATASET_INFO_KEYS = (
    "_id", "id", "author", "sha", "lastModified", "private", "gated", "disabled", "tags", "description",
    "downloads", "likes", "paperswithcode_id", "cardData", "siblings", "createdAt", "usedStorage",
    "trendingScore",
)  # fmt: skip
# Keys the Hub sends as an explicit null rather than leaving out.
_KEEP_NULL = frozenset({"model-index"})
_AUTO_MODEL_SUFFIXES = (
    ("ForCausalLM", "AutoModelForCausalLM"),
    ("LMHeadModel", "AutoModelForCausalLM"),
    ("ForMaskedLM", "AutoModelForMaskedLM"),
    ("ForSequenceClassification", "AutoModelForSequenceClassification"),
    ("ForTokenClassification", "AutoModelForTokenClassification"),
    ("ForQuestionAnswering", "AutoModelForQuestionAnswering"),
    ("ForConditionalGeneration", "AutoModelForSeq2SeqLM"),
    ("ForImageClassification", "AutoModelForImageClassification"),
    ("ForSpeechSeq2Seq", "AutoModelForSpeechSeq2Seq"),
)
_TOKENIZER_KEYS = (
    "bos_token",
    "eos_token",
    "pad_token",
    "unk_token",
    "sep_token",
    "cls_token",
    "mask_token",
    "chat_template",
)


def repo_fields(repo: HostedRepo, commit: HostedCommit, *, blobs: bool) -> dict[str, Any]:
    """Every property the hub can report for `repo` at `commit`; callers pick and order them with `select`."""
    card = repo.card_data_at(commit)
    fields: dict[str, Any] = {
        "_id": repo.object_id,
        "id": repo.repo_id,
        "author": repo.author,
        "sha": commit.sha,
        "lastModified": iso_date(commit.date),
        "createdAt": iso_date(repo.created_at),
        "private": repo.private,
        "gated": repo.gated,
        "disabled": repo.disabled,
        "downloads": repo.downloads,
        "downloadsAllTime": repo.downloads,
        "likes": repo.likes,
        "trendingScore": repo.trending_score,
        "tags": repo.tags_at(commit),
        "siblings": [_sibling(hosted, blobs) for hosted in commit.files.values()],
        "usedStorage": repo.used_storage,
        "cardData": card,
        "xetEnabled": False,
    }
    if repo.repo_type == "model":
        pipeline = repo.pipeline_tag_at(commit)
        library = repo.library_name_at(commit)
        fields.update(
            {
                "modelId": repo.repo_id,
                "pipeline_tag": pipeline,
                "library_name": library,
                "model-index": card.get("model-index") if card else None,
                "widgetData": card.get("widget") if card else None,
                "config": _config_summary(commit),
                "transformersInfo": _transformers_info(commit, pipeline) if library == "transformers" else None,
                "spaces": [],
                "safetensors": commit.safetensors,
                # Only sent when expanded (it is in neither key list); keyed by provider, as model_info has it.
                "inferenceProviderMapping": {
                    name: dict(entry) for name, entry in repo.inference_provider_mapping.items()
                },
            }
        )
    else:
        fields.update(
            {
                "description": _card_description(commit.card_body),
                "paperswithcode_id": card.get("paperswithcode_id") if card else None,
                "mainSize": sum(hosted.size for hosted in commit.files.values()),
            }
        )
    return fields


def listed_provider_mapping(repo: HostedRepo) -> list[dict[str, Any]]:
    """`inferenceProviderMapping` as a listing row carries it: a list of entries, each naming its provider and
    the model (`provider`, `hfModelId`, then `providerId`, `status`, `task`, ...)."""
    mapping = repo.inference_provider_mapping
    return [{"provider": name, "hfModelId": repo.repo_id, **entry} for name, entry in mapping.items()]


def select(fields: dict[str, Any], keys: Iterable[str]) -> dict[str, Any]:
    """The fields named, in that order, leaving out nulls (except those the Hub sends as null)."""
    return {k: fields[k] for k in keys if k in fields and (fields[k] is not None or k in _KEEP_NULL)}


def _sibling(hosted: HostedFile, blobs: bool) -> dict[str, Any]:
    entry: dict[str, Any] = {"rfilename": hosted.path}
    if blobs:
        entry["blobId"] = hosted.blob_id
        entry["size"] = hosted.size
        if hosted.lfs_sha256 is not None:
            entry["lfs"] = {
                "sha256": hosted.lfs_sha256,
                "size": hosted.size,
                "pointerSize": hosted.pointer_size,
            }
    return entry


def _transformers_info(commit: HostedCommit, pipeline_tag: str | None) -> dict[str, Any] | None:
    if commit.config is None:
        return None
    auto_model = "AutoModel"
    for arch in str_list(commit.config.get("architectures")):
        for suffix, name in _AUTO_MODEL_SUFFIXES:
            if arch.endswith(suffix):
                auto_model = name
    has_tokenizer = any(
        p.rsplit("/", 1)[-1] in ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "vocab.json")
        for p in commit.files
    )
    has_processor = "preprocessor_config.json" in commit.files
    info: dict[str, Any] = {"auto_model": auto_model}
    if pipeline_tag:
        info["pipeline_tag"] = pipeline_tag
    if has_tokenizer and has_processor:
        info["processor"] = "AutoProcessor"
    elif has_tokenizer:
        info["processor"] = "AutoTokenizer"
    elif has_processor:
        info["processor"] = "AutoImageProcessor"
    return info


def _config_summary(commit: HostedCommit) -> dict[str, Any] | None:
    """The trimmed `config` object the Hub returns: architectures, model_type and tokenizer special tokens."""
    if commit.config is None and commit.tokenizer_config is None:
        return None
    summary: dict[str, Any] = {}
    if commit.config is not None:
        for key in ("architectures", "model_type"):
            if key in commit.config:
                summary[key] = commit.config[key]
    if commit.tokenizer_config is not None:
        tokenizer = commit.tokenizer_config
        summary["tokenizer_config"] = {k: tokenizer[k] for k in _TOKENIZER_KEYS if k in tokenizer}
    return summary


def _card_description(body: str) -> str | None:
    """The first prose paragraph of a card body, as the Hub shows it in dataset listings."""
    paragraph: list[str] = []
    in_comment = False
    for line in body.splitlines():
        stripped = line.strip()
        if stripped.startswith("<!--"):
            in_comment = "-->" not in stripped
            continue
        if in_comment:
            in_comment = "-->" not in stripped
            continue
        if not stripped or stripped.startswith(("#", "![", "[!", "<", "|", "```", "---")):
            if paragraph:
                break
            continue
        paragraph.append(stripped)
    text = " ".join(paragraph)
    return text[:500] if text else None
