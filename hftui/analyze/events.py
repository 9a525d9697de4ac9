"""An analysis job as values: what it is asked (`JobSpec`), what it finds (`ItemResult`, `UsedModel`,
`JobSummary`, `JobResult`), and the events it reports while it runs (`AnalyzerEvent`).

The engine (`engine.py`), the benchmark, the Analyzer's queue, reports and `hftui analyze` all speak these;
none of them needs the engine's machinery to read a result.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from hftui.analyze.inputs import AnalysisInput

JOB_STATES = ("finished", "cancelled", "failed")


@dataclass(frozen=True)
class JobSpec:
    """What to analyse and how: the inputs, the tasks (empty: every task some input's modality has), one model
    per task (Hub id or local path; unset tasks use a cached or default model), device, dtype and batch size.

    `notes` are warnings carried into the result as they are (for example, paths that gave no inputs).
    """

    inputs: tuple[AnalysisInput, ...]
    tasks: tuple[str, ...] = ()
    models: Mapping[str, str] = field(default_factory=dict)
    device: str | None = None
    dtype: str | None = None
    batch_size: int = 8
    allow_remote_code: frozenset[str] = frozenset()
    caption_prompt: str = ""
    max_new_tokens: int = 30
    top_k: int = 3
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ItemResult:
    """One input analysed by one task: the label and score (with the top k) or the text, or the error."""

    index: int
    origin: str
    modality: str
    task: str
    model: str
    label: str | None = None
    score: float | None = None
    top_k: tuple[tuple[str, float], ...] = ()
    text: str | None = None
    error: str | None = None
    latency_s: float = 0.0

    @property
    def ok(self) -> bool:
        """Whether the item was analysed (no error)."""
        return self.error is None

    @property
    def output(self) -> str:
        """The result on one line: "POSITIVE 0.98", the caption or transcript, or "error: ..."."""
        if self.error is not None:
            return f"error: {self.error}"
        if self.label is not None:
            return f"{self.label} {self.score:.2f}" if self.score is not None else self.label
        return " ".join((self.text or "").split())


@dataclass(frozen=True)
class UsedModel:
    """A model a job ran: for which task, why it was chosen, its licence and how long it took to load.

    `load_s` is near zero when the pipeline was already loaded (`cached`).
    """

    task: str
    model: str
    source: str
    license: str | None
    load_s: float
    cached: bool = False


@dataclass(frozen=True)
class JobSummary:
    """The job in numbers: items, errors, labels per task, latency, throughput, device and peak memory.

    `items_per_s` counts inference time only (model loads excluded); `duration_s` is the whole job.
    `peak_memory_bytes` is torch's peak allocation on CUDA, else the process's peak resident size.
    """

    total: int
    succeeded: int
    failed: int
    label_counts: dict[str, dict[str, int]]
    mean_latency_s: float
    items_per_s: float
    duration_s: float
    device: str
    peak_memory_bytes: int | None
    device_name: str | None = None
    dtype: str | None = None
    batch_size: int = 0


@dataclass(frozen=True)
class JobResult:
    """How a job ended ("finished", "cancelled" or "failed", with the error), its rows, summary and models.

    `remote_code_model` names the model the job refused only because it needs trust_remote_code (and was not
    allowed to run it): allowing that model's code is what would let the job load it.
    """

    state: str
    error: str | None
    results: tuple[ItemResult, ...]
    summary: JobSummary
    models: tuple[UsedModel, ...]
    inputs: tuple[AnalysisInput, ...]
    warnings: tuple[str, ...]
    tasks: tuple[str, ...] = ()
    started_at: str = ""
    remote_code_model: str | None = None

    @property
    def analysed_any(self) -> bool:
        """Whether at least one item was analysed without error (the CLI's exit status)."""
        return self.summary.succeeded > 0


@dataclass(frozen=True)
class JobStarted:
    """The job has been planned: how many (item, task) pairs it will analyse, for which tasks, where."""

    total: int
    tasks: tuple[str, ...]
    device: str
    dtype: str


@dataclass(frozen=True)
class ModelLoadPhased:
    """A task's model moved to a load phase: "checking", "loading", "ready" or "cached"."""

    task: str
    model: str
    phase: str


@dataclass(frozen=True)
class ItemsAnalysed:
    """A batch finished: its rows, the job's progress, throughput so far and the time left (None: unknown)."""

    results: tuple[ItemResult, ...]
    done: int
    total: int
    items_per_s: float
    eta_s: float | None


@dataclass(frozen=True)
class JobWarned:
    """Something the user should know that does not stop the job (pickle weights, inputs skipped)."""

    message: str


@dataclass(frozen=True)
class JobEnded:
    """The job is over; the last event of every run."""

    result: JobResult


AnalyzerEvent = JobStarted | ModelLoadPhased | ItemsAnalysed | JobWarned | JobEnded
EventSink = Callable[[AnalyzerEvent], None]
