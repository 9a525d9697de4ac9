"""Is the Hub reachable? A short probe, and switching the process in or out of offline mode."""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from typing import Any

PROBE_TIMEOUT_S = 3.0


@dataclass(frozen=True)
class HubReachability:
    """The result of one probe: online or not, why, and how long the answer took."""

    online: bool
    endpoint: str
    detail: str
    latency_s: float | None = None


def probe_hub(endpoint: str, timeout: float = PROBE_TIMEOUT_S) -> HubReachability:
    """Ask the Hub for one model listing; any HTTP answer below 500 means it is reachable.

    Blocking: call it from a worker thread. Never raises.
    """
    # Plain urllib: huggingface_hub's own session refuses every request once offline mode is on,
    # and this probe is exactly what decides to turn it off again.
    import socket
    import urllib.error
    import urllib.request

    url = endpoint.rstrip("/") + "/api/models?limit=1"
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    except TimeoutError:
        return HubReachability(False, endpoint, f"no answer within {timeout:g} s")
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        if isinstance(reason, (TimeoutError, socket.timeout)):
            return HubReachability(False, endpoint, f"no answer within {timeout:g} s")
        return HubReachability(False, endpoint, f"cannot connect ({reason})")
    latency = time.perf_counter() - started
    if status >= 500:
        return HubReachability(False, endpoint, f"the Hub answered HTTP {status}", latency)
    return HubReachability(True, endpoint, f"reachable in {latency * 1000:.0f} ms", latency)


def set_offline_mode(offline: bool) -> None:
    """Put huggingface_hub (and libraries imported later) in or out of offline mode for this process.

    huggingface_hub reads HF_HUB_OFFLINE once at import, so its constant is set as well as the variable;
    requests then fail at once instead of waiting for a timeout.
    """
    from huggingface_hub import constants

    constants.HF_HUB_OFFLINE = offline
    if offline:
        os.environ["HF_HUB_OFFLINE"] = "1"
    else:
        os.environ.pop("HF_HUB_OFFLINE", None)
    # datasets copies the flag when it is first imported; a copy taken while offline would otherwise keep
    # streaming refused after the Hub is back.
    datasets_config: Any = sys.modules.get("datasets.config")  # a module whose flags are set by name
    if datasets_config is not None:
        datasets_config.HF_HUB_OFFLINE = offline
        datasets_config.HF_DATASETS_OFFLINE = offline
