"""Per-task adapters: what each task's pipeline takes for an input, and what its output means.

One `TaskAdapter` is made per task of a job, once its pipeline is loaded: it reads the pipeline's limits
(token length, sampling rate, chat template) and the spec's options, then turns every input's value into the
pipeline's input and every output into an `ItemOutput`. For texts it also measures inputs, so the batches
can group texts of like length.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from hftui.analyze.events import JobSpec
from hftui.analyze.media import MediaError, load_audio, load_image
from hftui.analyze.tasks import CLASSIFICATION_TASKS

# Chat-style vision-language models need an instruction; BLIP-style captioners continue the prompt instead.
DEFAULT_CHAT_PROMPT = "Describe this image in one sentence."

# What one item's output means: (label, score, top k, text). A plain tuple: built once per item, so cheap.
ItemOutput = tuple[str | None, float | None, tuple[tuple[str, float], ...], str | None]
NO_OUTPUT: ItemOutput = (None, None, (), None)


class TaskAdapter:
    """Turns inputs into pipeline inputs and pipeline outputs into `ItemOutput`s for one task."""

    def __init__(self, task: str, pipe: Any, spec: JobSpec) -> None:
        self.task = task
        self.classifies = task in CLASSIFICATION_TASKS
        self.kwargs: dict[str, Any] = {}
        self.chat = False
        self.tokenizer: Any = None
        if task in CLASSIFICATION_TASKS:
            self.kwargs["top_k"] = max(1, spec.top_k)
        if task == "text-classification":
            self.kwargs["truncation"] = True
            tokenizer = getattr(pipe, "tokenizer", None)
            limit = getattr(tokenizer, "model_max_length", None)
            positions = getattr(getattr(getattr(pipe, "model", None), "config", None), "max_position_embeddings", None)
            # Some tokenizers carry no length (a huge sentinel); truncate to what the model can embed instead.
            if isinstance(positions, int) and (not isinstance(limit, int) or limit > 1_000_000):
                self.kwargs["max_length"] = positions
            self.tokenizer = tokenizer if callable(tokenizer) else None
        elif task == "image-text-to-text":
            self.kwargs["max_new_tokens"] = spec.max_new_tokens
            processor = getattr(pipe, "processor", None)
            self.chat = getattr(processor, "chat_template", None) is not None
            self.prompt = spec.caption_prompt or (DEFAULT_CHAT_PROMPT if self.chat else "")
            if self.chat:
                self.kwargs["return_full_text"] = False
        elif task == "automatic-speech-recognition":
            extractor = getattr(pipe, "feature_extractor", None)
            self.sampling_rate = int(getattr(extractor, "sampling_rate", None) or 16_000)

    def prepare_for(self, task: str) -> Callable[[Any], Any]:
        """The function that turns an input's value into what the pipeline takes (chosen once, called per item);
        it raises MediaError for an item that cannot be analysed."""
        return {
            "text-classification": self.prepare_text,
            "image-classification": self.prepare_image,
            "image-text-to-text": self.prepare_caption,
            "automatic-speech-recognition": self.prepare_audio,
        }[task]

    @staticmethod
    def prepare_text(value: Any) -> Any:
        """A text input as it is; anything else, or an empty text, cannot be analysed."""
        if not isinstance(value, str):
            raise MediaError(f"is not text (got {type(value).__name__})")
        if not value or value.isspace():
            raise MediaError("the text is empty")
        return value

    @staticmethod
    def prepare_image(value: Any) -> Any:
        """An image input decoded to a PIL image."""
        # Pipelines apply EXIF orientation and convert to RGB themselves (see load_image's `normalize`).
        return load_image(value, normalize=False)

    def prepare_caption(self, value: Any) -> Any:
        """An image with the prompt: a chat message for chat models, images and text for captioners."""
        image = load_image(value, normalize=False)
        if self.chat:
            content = [{"type": "image", "image": image}, {"type": "text", "text": self.prompt}]
            return [{"role": "user", "content": content}]
        return {"images": image, "text": self.prompt}

    def prepare_audio(self, value: Any) -> Any:
        """An audio input decoded and resampled to the model's sampling rate."""
        return load_audio(value, self.sampling_rate)

    @property
    def measures_length(self) -> bool:
        """Whether `lengths` means something for this pipeline: a text task whose tokenizer pads each batch."""
        return self.tokenizer is not None

    @staticmethod
    def lengths(values: list[Any]) -> list[int]:
        """Each value's length for grouping texts of like length: its characters (0 for what is not text, which
        becomes an error row without reaching the model). Characters order texts as their tokens do, closely
        enough for batching, and cost nothing; tokenizing every text twice cost 8% on a small model."""
        return [len(value) if isinstance(value, str) and not value.isspace() else 0 for value in values]

    def parse(self, out: Any) -> ItemOutput:
        """The meaning of one item's pipeline output."""
        if self.classifies:
            predictions = out if isinstance(out, list) else [out]
            if predictions and isinstance(predictions[0], list):  # a nested single-item batch
                predictions = predictions[0]
            top = tuple([(str(p["label"]), float(p["score"])) for p in predictions])
            if not top:
                return NO_OUTPUT
            return (top[0][0], top[0][1], top, None)
        if isinstance(out, list):
            out = out[0] if out else {}
        text = out.get("generated_text", out.get("text", "")) if isinstance(out, Mapping) else out
        if isinstance(text, list):  # a chat: the answer is the last message
            last = text[-1] if text else {}
            text = last.get("content", "") if isinstance(last, Mapping) else str(last)
        return (None, None, (), str(text).strip())
