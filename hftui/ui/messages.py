"""Messages shared between the app, its screens and their workers. Events are past tense."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from hftui.analyze.inputs import AnalysisInput
from hftui.device import ComputeDevice
from hftui.hub.account import WhoAmI
from hftui.hub.cache import CacheScan
from hftui.hub.connectivity import HubReachability
from hftui.hub.index import RepoIndex
from hftui.hub.settings import TokenStatus


class Coalescing(Message):
    """A message of which only the newest matters (progress, a complete snapshot): one still queued is replaced
    by a newer one of the same class, so a slow frame never works through stale updates."""

    def can_replace(self, message: Message) -> bool:
        return type(message) is type(self)


@dataclass
class HubProbed(Message):
    """The connectivity probe answered."""

    reachability: HubReachability


@dataclass
class TokenRead(Message):
    """The Hub token was looked up (HF_TOKEN, the token file); only its masked form travels."""

    token: TokenStatus


@dataclass
class DeviceDetected(Message):
    """The compute device (and its memory) is known."""

    device: ComputeDevice


@dataclass
class CacheScanned(Message):
    """A scan of the local HF cache finished."""

    scan: CacheScan


@dataclass
class IndexReady(Message):
    """The local model index is open and holds the cache's models."""

    index: RepoIndex
    rebuilt_reason: str | None


@dataclass
class OpenModel(Message):
    """Request: open the model page for a repo id."""

    repo_id: str


@dataclass
class SendToAnalyzer(Message):
    """Request: queue these inputs (a dataset column or row) for the Analyzer; `origin` says where from.

    `labels`, when given, align with `inputs` (the sample's label for each, None where unknown): a benchmark
    on these inputs then scores accuracy and F1.
    """

    inputs: tuple[AnalysisInput, ...]
    skipped: int
    origin: str
    labels: tuple[object | None, ...] | None = None


@dataclass
class WhoAmIFetched(Message):
    """The Hub said who the token in force belongs to (`who`), or why it could not (`problem`)."""

    who: WhoAmI | None
    problem: str | None = None


@dataclass
class OpenInPlayground(Message):
    """Request: open this model (a Hub id in the cache, or a folder) in the Playground."""

    model: str
