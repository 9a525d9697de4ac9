"""What each of hftui's own errors says on the command line, in one registry that `hftui.cli.main` consults.

A command lets a domain error (a file it cannot read, a Hub that refuses, a run id that matches nothing) rise to
`cli.main`, which prints `error: <message>` and exits 1, or shows the command's usage and exits 2 for an error in
the arguments. Anything not listed here is a bug: the CLI shows its traceback and asks for a report.

Entries name their error by module and class, and are looked up only in modules already imported: an error whose
module was never imported cannot have been raised, so failing costs no import of datasets, torch or the Hub client.
"""

from __future__ import annotations

import errno
import sys
from collections.abc import Callable
from dataclasses import dataclass

from hftui.hub.plain_text import printable

EXIT_ERROR = 1
EXIT_USAGE = 2  # as argparse exits for arguments it cannot parse
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as a shell reports a job stopped by Ctrl+C


@dataclass(frozen=True)
class KnownError:
    """An error listed in the registry: the module and class that raise it, the exit status (EXIT_USAGE when it
    is about the arguments, shown with the command's usage) and how it is worded."""

    module: str
    name: str
    exit_code: int = EXIT_ERROR
    words: Callable[[BaseException], str] = str

    def matches(self, error: BaseException) -> bool:
        """Whether `error` is an instance of this entry's class (False when its module was never imported)."""
        found = getattr(sys.modules.get(self.module), self.name, None)
        return isinstance(found, type) and isinstance(error, found)


@dataclass(frozen=True)
class Failure:
    """How the CLI ends for a known error: the message after `error: ` and the exit status."""

    message: str
    exit_code: int

    @property
    def usage(self) -> bool:
        """Whether the arguments were at fault (the command's usage is shown, exit 2)."""
        return self.exit_code == EXIT_USAGE


def _message(error: BaseException) -> str:
    """The `message` attribute the domain errors carry (ConvertError, SampleError, ...), else `str(error)`."""
    message = getattr(error, "message", None)
    return message if isinstance(message, str) and message else str(error)


def _problems(error: BaseException) -> str:
    """SpecError and SpecInvalid list each field's problem."""
    problems = getattr(error, "problems", None) or [str(error)]
    return "; ".join(str(problem) for problem in problems)


def _hub(error: BaseException) -> str:
    """Hub and HTTP failures in hftui's words (never the token)."""
    from hftui.hub.errors import explain_hub_error

    endpoint = getattr(sys.modules.get("huggingface_hub.constants"), "ENDPOINT", None)
    return explain_hub_error(error, endpoint=endpoint).message


def _index(error: BaseException) -> str:
    from hftui.hub.index import default_index_path

    return (
        f"the local index {default_index_path()} cannot be used ({error}); check that its folder is writable, "
        "or move the file away and run the command again to rebuild it"
    )


def _tensorboard(error: BaseException) -> str:
    return f"{error or 'reading TensorBoard event files needs the tensorboard package'} (pip install tensorboard)"


def _os_error(error: BaseException) -> str:
    """A file the user named or hftui keeps: the path (the destination of a rename) and what went wrong."""
    assert isinstance(error, OSError)
    path = error.filename2 if error.filename2 is not None else error.filename
    reason = error.strerror or str(error) or type(error).__name__
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        reason += "; free some disk space and run the command again"
    return f"{path}: {reason}" if path is not None else reason


# Hub errors come first: huggingface_hub's HTTP and offline errors are OSErrors too, and must be explained, not
# shown as a file problem.
_HUB = (
    KnownError("huggingface_hub.errors", "HfHubHTTPError", words=_hub),
    KnownError("huggingface_hub.errors", "HFValidationError", words=_hub),
    KnownError("huggingface_hub.errors", "OfflineModeIsEnabled", words=_hub),
    KnownError("huggingface_hub.errors", "LocalEntryNotFoundError", words=_hub),
    KnownError("huggingface_hub.errors", "EntryNotFoundError", words=_hub),
    KnownError("huggingface_hub.errors", "LocalTokenNotFoundError", words=_hub),
    KnownError("huggingface_hub.errors", "RevisionResolutionError", words=_hub),
    KnownError("huggingface_hub.errors", "DryRunError", words=_hub),
    KnownError("httpx2", "HTTPError", words=_hub),
    KnownError("httpx2", "InvalidURL", words=_hub),
    KnownError("hftui.hub.download", "DownloadCancelled", EXIT_INTERRUPTED, _hub),
)

# Every error hftui raises for something a user can fix, in the order they are tried.
KNOWN_ERRORS: tuple[KnownError, ...] = (
    # The arguments: shown with the command's usage, exit 2.
    KnownError("hftui.commands.models", "QueryError", exit_code=EXIT_USAGE),
    KnownError("hftui.commands.analyze", "AnalyzeUsageError", exit_code=EXIT_USAGE),
    KnownError("hftui.commands.convert", "ConvertUsageError", exit_code=EXIT_USAGE),
    KnownError("hftui.train.runs", "RunNotFound", exit_code=EXIT_USAGE),
    KnownError("hftui.data.row_filter", "FilterError", exit_code=EXIT_USAGE),
    KnownError("hftui.commands.infer", "InferUsageError", exit_code=EXIT_USAGE),
    KnownError("hftui.commands.endpoints", "EndpointUsageError", exit_code=EXIT_USAGE),
    KnownError("hftui.commands.bench_endpoints", "BenchEndpointsUsageError", exit_code=EXIT_USAGE),
    KnownError("hftui.infer.local", "PlaygroundInputError", exit_code=EXIT_USAGE),
    # Stopped by the user (Ctrl+C or a cancel): exit 130, as an interrupted command does.
    KnownError("hftui.data.convert.plan", "ConvertCancelled", EXIT_INTERRUPTED, _message),
    KnownError("hftui.hub.publish", "PublishCancelled", EXIT_INTERRUPTED, lambda _: "cancelled; nothing was committed"),
    KnownError("hftui.train.lora_compare", "LoraCompareCancelled", EXIT_INTERRUPTED, lambda _: "cancelled"),
    KnownError("hftui.analyze.batches", "JobCancelled", EXIT_INTERRUPTED, lambda _: "cancelled"),
    # The data, the files, the models, the runs: exit 1.
    KnownError("hftui.data.convert.plan", "ConvertError", words=_message),
    KnownError("hftui.data.sampler", "SampleError", words=_message),
    KnownError("hftui.train.spec", "SpecError", words=_problems),
    KnownError("hftui.train.launch", "SpecInvalid", words=_problems),
    KnownError("hftui.train.launch", "RunError"),
    KnownError("hftui.train.data", "TrainingInputError", words=_message),
    KnownError("hftui.train.lora_compare", "LoraCompareError"),
    KnownError("hftui.train.tensorboard", "TensorBoardMissing", words=_tensorboard),
    KnownError("hftui.analyze.pipelines", "ModelRefused", words=_message),
    KnownError("hftui.analyze.pipelines", "DeviceUnavailable"),
    KnownError("hftui.analyze.media", "MediaError", words=_message),
    KnownError("hftui.analyze.batches", "JobFailed", words=_message),
    KnownError("hftui.hub.publish", "PublishRefused", words=_message),
    KnownError("hftui.infer.tasks", "NotAPlaygroundModel"),
    KnownError("hftui.commands.infer", "InferFailed", words=_message),
    KnownError("hftui.commands.endpoints", "EndpointFailed", words=_message),
    KnownError("hftui.infer.benchmark", "PromptsUnreadable"),
    *_HUB,
    KnownError("sqlite3", "Error", words=_index),
    KnownError("builtins", "OSError", words=_os_error),
)


def known_failure(error: BaseException) -> Failure | None:
    """How the CLI words `error` and which status it exits with, or None for an error nobody expected."""
    for entry in KNOWN_ERRORS:
        if entry.matches(error):
            message = " ".join(printable(entry.words(error)).split())  # one line; escapes from file names shown
            return Failure(message, entry.exit_code)
    return None
