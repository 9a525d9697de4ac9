"""The analysis tasks hftui runs, by modality, and which pipeline tags serve each."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AnalyzerTask:
    """One kind of analysis: the pipeline that runs it and the input it takes."""

    pipeline_tag: str
    modality: str
    title: str


ANALYZER_TASKS: tuple[AnalyzerTask, ...] = (
    AnalyzerTask("text-classification", "text", "Sentiment / text classification"),
    AnalyzerTask("image-classification", "image", "Image classification"),
    AnalyzerTask("image-text-to-text", "image", "Image captioning"),
    AnalyzerTask("automatic-speech-recognition", "audio", "Speech recognition"),
)
