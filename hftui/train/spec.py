"""What a training run is asked to do: the base model, the dataset, the hyperparameters and optional LoRA.

A `RunSpec` is an immutable value saved as `spec.json` in the run directory; the launcher, the worker, the
command line and the new-run form all read and write that one shape. `spec_from_dict` is strict (unknown keys
and wrong types are reported with their path), so a typo in a hand-written spec is caught before a launch.
"""

from __future__ import annotations

import json
import types
import typing
from dataclasses import MISSING, asdict, dataclass, field, fields, is_dataclass, replace
from pathlib import Path
from typing import Any, Literal

from hftui.atomic_write import write_text_atomically

SPEC_FILE = "spec.json"

TASKS = ("sequence-classification", "image-classification")
STRATEGIES = ("no", "steps", "epoch")
PRECISIONS = ("auto", "fp32", "fp16", "bf16")
DATASET_KINDS = ("local", "hub")


class SpecError(ValueError):
    """A spec file or mapping that cannot be read as a RunSpec; `problems` lists each field's problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class DatasetRef:
    """Where the rows come from: local files or a Hub dataset, its config and splits, and the columns used.

    Without `eval_split` or `eval_location`, `eval_fraction` of the training split is held out (stratified
    by label when it can be); 0 means no evaluation.
    """

    location: str
    kind: Literal["local", "hub"] = "local"
    config: str | None = None
    split: str = "train"
    eval_split: str | None = None
    eval_location: str | None = None
    eval_fraction: float = 0.2
    text_column: str = "text"
    text_pair_column: str | None = None
    image_column: str = "image"
    label_column: str = "label"
    max_train_rows: int | None = None

    @property
    def name(self) -> str:
        """A short name: the Hub id, or the file or folder name of local data."""
        return self.location if self.kind == "hub" else (Path(self.location).name or self.location)


@dataclass(frozen=True)
class Hyperparameters:
    """The Trainer's knobs. `max_steps` wins over `epochs` when set; `warmup` is steps (>= 1) or a ratio (< 1)."""

    epochs: float = 3.0
    max_steps: int | None = None
    learning_rate: float = 5e-5
    batch_size: int = 16
    eval_batch_size: int | None = None
    gradient_accumulation_steps: int = 1
    max_length: int = 128
    warmup: float = 0.0
    weight_decay: float = 0.0
    logging_steps: int = 10
    eval_strategy: Literal["no", "steps", "epoch"] = "steps"
    eval_steps: int = 100
    save_strategy: Literal["no", "steps", "epoch"] = "steps"
    save_steps: int = 100
    save_total_limit: int | None = 2
    seed: int = 42
    precision: Literal["auto", "fp32", "fp16", "bf16"] = "auto"


@dataclass(frozen=True)
class LoraSettings:
    """PEFT LoRA: rank, scaling, dropout and the modules it wraps (None: `suggest_target_modules`)."""

    r: int = 8
    alpha: int = 16
    dropout: float = 0.1
    target_modules: tuple[str, ...] | None = None
    merge: bool = False  # also save the base model with the adapter merged in


@dataclass(frozen=True)
class RunSpec:
    """A whole training run: base model (Hub id, cached id or local folder), dataset, task, hyperparameters.

    `num_processes` above 1 runs `accelerate launch --num_processes N` (one process per GPU).
    `base_model_id` names the Hub model to credit in the card when `base_model` is a local copy of it.
    """

    base_model: str
    dataset: DatasetRef
    task: Literal["sequence-classification", "image-classification"] = "sequence-classification"
    hyperparameters: Hyperparameters = field(default_factory=Hyperparameters)
    lora: LoraSettings | None = None
    num_processes: int = 1
    name: str | None = None
    base_model_id: str | None = None

    def replace(self, **changes: Any) -> RunSpec:
        """A copy with some fields changed."""
        return replace(self, **changes)

    def with_hyperparameters(self, **changes: Any) -> RunSpec:
        """A copy with some hyperparameters changed."""
        return replace(self, hyperparameters=replace(self.hyperparameters, **changes))

    @property
    def uses_lora(self) -> bool:
        """Whether the run trains a LoRA adapter instead of every weight."""
        return self.lora is not None


def looks_like_path(text: str) -> bool:
    """Whether a model name is written as a path (`/`, `./`, `../`, `~`, backslashes, or several slashes)."""
    return text.startswith(("/", "./", "../", "~")) or "\\" in text or text.count("/") > 1


def resolve_paths(spec: RunSpec, base: Path) -> RunSpec:
    """The spec with its local paths made absolute against `base` (the run's process works in its own folder).

    A base model is taken for a path when it exists under `base` or looks like one (`./`, `/`, `~`); otherwise it
    stays a Hub id. Local dataset locations are always paths.
    """
    base = Path(base)

    def absolute(text: str) -> str:
        path = Path(text).expanduser()
        return str(path if path.is_absolute() else (base / path).resolve())

    model = spec.base_model
    if model and (looks_like_path(model) or (base / model).is_dir()):
        model = absolute(model)
    data = spec.dataset
    changes: dict[str, Any] = {}
    if data.kind == "local" and data.location:
        changes["location"] = absolute(data.location)
    if data.eval_location:
        changes["eval_location"] = absolute(data.eval_location)
    return replace(spec, base_model=model, dataset=replace(data, **changes))


def spec_to_dict(spec: RunSpec) -> dict[str, Any]:
    """The spec as plain JSON values (tuples become lists)."""
    return json.loads(json.dumps(asdict(spec)))


def spec_to_json(spec: RunSpec) -> str:
    """The text of spec.json."""
    return json.dumps(spec_to_dict(spec), indent=2, ensure_ascii=False) + "\n"


def save_spec(spec: RunSpec, run_dir: Path) -> Path:
    """Write spec.json into the run directory (atomically) and return its path."""
    return write_text_atomically(Path(run_dir) / SPEC_FILE, spec_to_json(spec))


def load_spec(path: Path) -> RunSpec:
    """Read a spec file (a run directory means its spec.json); raises SpecError with every problem."""
    path = Path(path)
    if path.is_dir():
        path = path / SPEC_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise SpecError([f"{path}: {error.strerror or error}"]) from error
    except UnicodeDecodeError as error:
        byte = error.object[error.start]
        raise SpecError([f"{path.name} is not UTF-8 text: byte 0x{byte:02x} at offset {error.start}"]) from error
    try:
        data = json.loads(text)
    except ValueError as error:
        raise SpecError([f"{path.name} is not valid JSON: {error}"]) from error
    return spec_from_dict(data)


def spec_from_dict(data: Any) -> RunSpec:
    """Build a RunSpec from decoded JSON, checking every key and type; raises SpecError."""
    problems: list[str] = []
    spec = _build(RunSpec, data, "", problems)
    if problems:
        raise SpecError(problems)
    return spec


def _build(cls: type, data: Any, where: str, problems: list[str]) -> Any:
    """An instance of dataclass `cls` from a mapping; problems are collected with their dotted path."""
    if not isinstance(data, dict):
        problems.append(f"{where or 'spec'}: expected an object, got {_json_type(data)}")
        return None
    before = len(problems)
    hints = typing.get_type_hints(cls)
    known = {f.name: f for f in fields(cls)}
    for key in data:
        if key not in known:
            problems.append(f"{_join(where, key)}: unknown field (known: {', '.join(known)})")
    values: dict[str, Any] = {}
    for name, spec_field in known.items():
        if name not in data:
            if spec_field.default is MISSING and spec_field.default_factory is MISSING:
                problems.append(f"{_join(where, name)}: required")
            continue
        values[name] = _convert(hints[name], data[name], _join(where, name), problems)
    if len(problems) > before:
        return None
    try:
        return cls(**values)
    except TypeError as error:
        problems.append(f"{where or 'spec'}: {error}")
        return None


def _convert(hint: Any, value: Any, where: str, problems: list[str]) -> Any:
    """`value` checked against a type hint: str, int, float, bool, Literal, X | None, tuple[str, ...], dataclass."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        options = [arg for arg in args if arg is not type(None)]
        return _convert(options[0], value, where, problems)
    if origin is Literal:
        if value not in args:
            problems.append(f"{where}: {value!r} is not one of {', '.join(map(str, args))}")
        return value
    if origin is tuple:
        if not isinstance(value, list | tuple) or not all(isinstance(item, str) for item in value):
            problems.append(f"{where}: expected a list of strings, got {_json_type(value)}")
            return None
        return tuple(value)
    if is_dataclass(hint):
        return _build(hint, value, where, problems)  # type: ignore[arg-type]
    if hint is bool:
        if not isinstance(value, bool):
            problems.append(f"{where}: expected true or false, got {_json_type(value)}")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                return int(value)
            problems.append(f"{where}: expected a whole number, got {_json_type(value)}")
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            problems.append(f"{where}: expected a number, got {_json_type(value)}")
            return value
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            problems.append(f"{where}: expected a string, got {_json_type(value)}")
        return value
    return value


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__
