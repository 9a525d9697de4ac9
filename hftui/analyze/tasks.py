"""The analysis tasks hftui runs, by modality, and which pipeline tags serve each."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AnalyzerTask:
    """One kind of analysis: the pipeline that runs it and the input it takes.

    `also_serves` lists other Hub pipeline tags whose models this pipeline runs: captioning models such as
    BLIP are tagged `image-to-text` on the Hub, a task transformers 5 folded into `image-text-to-text`.
    """

    pipeline_tag: str
    modality: str
    title: str
    also_serves: tuple[str, ...] = ()

    @property
    def pipeline_tags(self) -> frozenset[str]:
        """Every Hub pipeline tag whose models fit this task."""
        return frozenset((self.pipeline_tag, *self.also_serves))


ANALYZER_TASKS: tuple[AnalyzerTask, ...] = (
    AnalyzerTask("text-classification", "text", "Sentiment / text classification", ("sentiment-analysis",)),
    AnalyzerTask("image-classification", "image", "Image classification"),
    AnalyzerTask("image-text-to-text", "image", "Image captioning", ("image-to-text",)),
    AnalyzerTask("automatic-speech-recognition", "audio", "Speech recognition"),
)

TASKS_BY_TAG: dict[str, AnalyzerTask] = {task.pipeline_tag: task for task in ANALYZER_TASKS}
# The tasks whose output is a label with a score (counted in a job's summary, scored in a benchmark).
CLASSIFICATION_TASKS = frozenset({"text-classification", "image-classification"})


def analyzer_task(name: str) -> AnalyzerTask:
    """The task called `name` (its pipeline tag); KeyError names the known ones."""
    try:
        return TASKS_BY_TAG[name]
    except KeyError:
        raise KeyError(f"unknown analysis task {name!r}; known: {', '.join(TASKS_BY_TAG)}") from None


def tag_fits(task: str, pipeline_tag: str | None) -> bool:
    """Whether a model with this Hub pipeline tag can serve `task`."""
    found = TASKS_BY_TAG.get(task)
    return found is not None and pipeline_tag is not None and pipeline_tag in found.pipeline_tags


def tasks_for_modality(modality: str) -> tuple[str, ...]:
    """The tasks that take inputs of `modality`, in ANALYZER_TASKS order."""
    return tuple(task.pipeline_tag for task in ANALYZER_TASKS if task.modality == modality)
