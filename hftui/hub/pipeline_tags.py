"""The Hub's tasks (pipeline tags): each id with its display name and modality, as the Hub's `pipelines.ts`
lists them, so a card's `pipeline_tag` or a dataset's `task_categories` can be checked offline.

A test keeps this list equal to the Hub's file in ../shared/realworld/spec/pipelines.ts.
"""

from __future__ import annotations

from dataclasses import dataclass

MODALITIES = ("multimodal", "nlp", "cv", "audio", "tabular", "rl", "other")


@dataclass(frozen=True)
class PipelineTag:
    """One Hub task: its id (`text-classification`), the name the Hub shows, and its modality."""

    tag: str
    name: str
    modality: str


PIPELINE_TAGS: tuple[PipelineTag, ...] = (
    PipelineTag("text-classification", "Text Classification", "nlp"),
    PipelineTag("token-classification", "Token Classification", "nlp"),
    PipelineTag("table-question-answering", "Table Question Answering", "nlp"),
    PipelineTag("question-answering", "Question Answering", "nlp"),
    PipelineTag("zero-shot-classification", "Zero-Shot Classification", "nlp"),
    PipelineTag("translation", "Translation", "nlp"),
    PipelineTag("summarization", "Summarization", "nlp"),
    PipelineTag("feature-extraction", "Feature Extraction", "nlp"),
    PipelineTag("text-generation", "Text Generation", "nlp"),
    PipelineTag("fill-mask", "Fill-Mask", "nlp"),
    PipelineTag("sentence-similarity", "Sentence Similarity", "nlp"),
    PipelineTag("text-to-speech", "Text-to-Speech", "audio"),
    PipelineTag("text-to-audio", "Text-to-Audio", "audio"),
    PipelineTag("automatic-speech-recognition", "Automatic Speech Recognition", "audio"),
    PipelineTag("audio-to-audio", "Audio-to-Audio", "audio"),
    PipelineTag("audio-classification", "Audio Classification", "audio"),
    PipelineTag("audio-text-to-text", "Audio-Text-to-Text", "multimodal"),
    PipelineTag("voice-activity-detection", "Voice Activity Detection", "audio"),
    PipelineTag("depth-estimation", "Depth Estimation", "cv"),
    PipelineTag("image-classification", "Image Classification", "cv"),
    PipelineTag("object-detection", "Object Detection", "cv"),
    PipelineTag("image-segmentation", "Image Segmentation", "cv"),
    PipelineTag("text-to-image", "Text-to-Image", "cv"),
    PipelineTag("image-to-text", "Image-to-Text", "cv"),
    PipelineTag("image-to-image", "Image-to-Image", "cv"),
    PipelineTag("image-to-video", "Image-to-Video", "cv"),
    PipelineTag("unconditional-image-generation", "Unconditional Image Generation", "cv"),
    PipelineTag("video-classification", "Video Classification", "cv"),
    PipelineTag("reinforcement-learning", "Reinforcement Learning", "rl"),
    PipelineTag("robotics", "Robotics", "rl"),
    PipelineTag("tabular-classification", "Tabular Classification", "tabular"),
    PipelineTag("tabular-regression", "Tabular Regression", "tabular"),
    PipelineTag("tabular-to-text", "Tabular to Text", "tabular"),
    PipelineTag("table-to-text", "Table to Text", "nlp"),
    PipelineTag("multiple-choice", "Multiple Choice", "nlp"),
    PipelineTag("text-ranking", "Text Ranking", "nlp"),
    PipelineTag("text-retrieval", "Text Retrieval", "nlp"),
    PipelineTag("time-series-forecasting", "Time Series Forecasting", "tabular"),
    PipelineTag("text-to-video", "Text-to-Video", "cv"),
    PipelineTag("image-text-to-text", "Image-Text-to-Text", "multimodal"),
    PipelineTag("image-text-to-image", "Image-Text-to-Image", "multimodal"),
    PipelineTag("image-text-to-video", "Image-Text-to-Video", "multimodal"),
    PipelineTag("visual-question-answering", "Visual Question Answering", "multimodal"),
    PipelineTag("document-question-answering", "Document Question Answering", "multimodal"),
    PipelineTag("zero-shot-image-classification", "Zero-Shot Image Classification", "cv"),
    PipelineTag("graph-ml", "Graph Machine Learning", "other"),
    PipelineTag("mask-generation", "Mask Generation", "cv"),
    PipelineTag("zero-shot-object-detection", "Zero-Shot Object Detection", "cv"),
    PipelineTag("text-to-3d", "Text-to-3D", "cv"),
    PipelineTag("image-to-3d", "Image-to-3D", "cv"),
    PipelineTag("image-feature-extraction", "Image Feature Extraction", "cv"),
    PipelineTag("video-text-to-text", "Video-Text-to-Text", "multimodal"),
    PipelineTag("keypoint-detection", "Keypoint Detection", "cv"),
    PipelineTag("visual-document-retrieval", "Visual Document Retrieval", "multimodal"),
    PipelineTag("any-to-any", "Any-to-Any", "multimodal"),
    PipelineTag("video-to-video", "Video-to-Video", "cv"),
    PipelineTag("other", "Other", "other"),
)
PIPELINE_TAGS_BY_ID = {task.tag: task for task in PIPELINE_TAGS}
# The size buckets the Hub offers for `size_categories` in dataset cards.
SIZE_CATEGORIES = (
    "n<1K",
    "1K<n<10K",
    "10K<n<100K",
    "100K<n<1M",
    "1M<n<10M",
    "10M<n<100M",
    "100M<n<1B",
    "1B<n<10B",
    "10B<n<100B",
    "100B<n<1T",
    "n>1T",
)


def is_pipeline_tag(value: object) -> bool:
    """Whether `value` is one of the Hub's task ids."""
    return isinstance(value, str) and value in PIPELINE_TAGS_BY_ID
