"""Which inference providers serve a model: the Hub's `inferenceProviderMapping`, as huggingface_hub parses it.

The Hub sends the mapping only when asked (`expand=["inferenceProviderMapping"]`), as an object keyed by provider
from `model_info` and as a list from `list_models`; `ModelInfo.inference_provider_mapping` is a list either way,
or None when the answer did not carry it. The index keeps what was last seen (`ModelRecord.inference_providers`),
so the model page and the provider filter work offline.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

# The property to ask `model_info` / `list_models` to expand.
MAPPING_PROPERTY: Final = "inferenceProviderMapping"


@dataclass(frozen=True)
class InferenceProvider:
    """One provider serving a model: its name, the model's id on the provider's side, its status ("live" or
    "staging") and the task it serves the model for. Values are the Hub's text, shown only as plain text."""

    provider: str
    provider_id: str = ""
    status: str = ""
    task: str = ""

    def to_json(self) -> dict[str, str]:
        """The entry as stored in the index (keys in the client's spelling)."""
        return {"provider": self.provider, "provider_id": self.provider_id, "status": self.status, "task": self.task}

    @classmethod
    def from_json(cls, value: Any) -> InferenceProvider | None:
        """An entry from `to_json` output; None for anything of another shape or without a provider."""
        if not isinstance(value, dict):
            return None
        provider = _text(value.get("provider"))
        if not provider:
            return None
        return cls(provider, _text(value.get("provider_id")), _text(value.get("status")), _text(value.get("task")))


def _text(value: Any) -> str:
    return value if isinstance(value, str) else "" if value is None else str(value)


def providers_from_info(info: Any) -> tuple[InferenceProvider, ...] | None:
    """The providers a `ModelInfo` lists, in the Hub's order (one entry per provider); None when the answer did
    not carry the mapping at all, which is not the same as an empty one (no provider serves the model)."""
    mapping = getattr(info, "inference_provider_mapping", None)
    if mapping is None:
        return None
    entries: dict[str, InferenceProvider] = {}
    for item in mapping:
        provider = _text(getattr(item, "provider", None)).strip()
        if provider and provider not in entries:
            entries[provider] = InferenceProvider(
                provider,
                _text(getattr(item, "provider_id", None)),
                _text(getattr(item, "status", None)),
                _text(getattr(item, "task", None)),
            )
    return tuple(entries.values())
