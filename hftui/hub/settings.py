"""The Hub configuration in force: endpoint, cache locations, offline mode and token status.

Values come from huggingface_hub's own constants and helpers, so HF_HOME, HF_HUB_CACHE, HF_ENDPOINT,
HF_HUB_OFFLINE, HF_TOKEN and the `hf auth login` token file mean exactly what they mean to `hf`.
The token itself is never stored here: only whether there is one, where it came from and its mask.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

MASK = "****"


def mask_token(token: str | None) -> str:
    """Show only the last four characters of a token (nothing of a short one)."""
    if not token:
        return "none"
    if len(token) < 8:
        return MASK
    return MASK + token[-4:]


@dataclass(frozen=True)
class TokenStatus:
    """Whether a Hub token is configured, where it comes from, and its masked form."""

    present: bool
    source: str
    masked: str
    # Set when the token file exists but holds no usable token (not UTF-8, control bytes): what to do about it.
    problem: str | None = None

    @property
    def label(self) -> str:
        """Short text for the status line, e.g. `****abcd (HF_TOKEN)`."""
        if self.problem:
            return "token file damaged"
        return f"{self.masked} ({self.source})" if self.present else "no token"


def current_token() -> tuple[str | None, str | None]:
    """The token huggingface_hub would send, or None, and why a token file that is there cannot be used.

    `get_token` decodes the token file as UTF-8 and raises on anything else; a token with control bytes
    (NULs from a disk error) cannot go in a header either. Both read as "no token" plus the problem.
    """
    from huggingface_hub import constants, get_token

    damaged = (
        f"The token file {constants.HF_TOKEN_PATH} is damaged (%s); log in again with `hf auth login` "
        "or delete the file."
    )
    try:
        token = get_token()
    except UnicodeDecodeError:
        return None, damaged % "it is not UTF-8 text"
    if token and not token.isprintable():
        return None, damaged % "it holds control characters"
    return token, None


def read_token_status() -> TokenStatus:
    """Find the token the way huggingface_hub does (HF_TOKEN, then the token file) and describe it."""
    from huggingface_hub import constants

    token, problem = current_token()
    if not token:
        return TokenStatus(present=False, source="none", masked=mask_token(None), problem=problem)
    if os.environ.get("HF_TOKEN"):
        source = "HF_TOKEN"
    elif os.environ.get("HUGGING_FACE_HUB_TOKEN"):
        source = "HUGGING_FACE_HUB_TOKEN"
    elif Path(constants.HF_TOKEN_PATH).is_file():
        source = "token file"
    else:
        source = "other"
    return TokenStatus(present=True, source=source, masked=mask_token(token))


@dataclass(frozen=True)
class HubSettings:
    """The Hub configuration for one session of the app or one command."""

    endpoint: str
    hf_home: Path
    hub_cache: Path
    offline_forced: bool
    # None until read: the app reads it in a worker, because huggingface_hub's token helpers import its HTTP
    # stack (about 0.3 s), which would otherwise delay the first frame.
    token: TokenStatus | None = None

    @classmethod
    def from_environment(cls, *, force_offline: bool = False, read_token: bool = True) -> HubSettings:
        """Read the configuration from huggingface_hub, optionally forcing offline mode (`--offline`)."""
        from huggingface_hub import constants

        return cls(
            endpoint=constants.ENDPOINT,
            hf_home=Path(constants.HF_HOME),
            hub_cache=Path(constants.HF_HUB_CACHE),
            offline_forced=force_offline or constants.is_offline_mode(),
            token=read_token_status() if read_token else None,
        )
