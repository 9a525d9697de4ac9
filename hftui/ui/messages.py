"""Messages shared between the app, its screens and their workers. Events are past tense."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from hftui.analyze.device import ComputeDevice
from hftui.hub.cache import CacheScan
from hftui.hub.connectivity import HubReachability


@dataclass
class HubProbed(Message):
    """The connectivity probe answered."""

    reachability: HubReachability


@dataclass
class DeviceDetected(Message):
    """The compute device (and its memory) is known."""

    device: ComputeDevice


@dataclass
class CacheScanned(Message):
    """A scan of the local HF cache finished."""

    scan: CacheScan
