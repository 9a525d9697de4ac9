"""The user's Hub account as hftui sees it: which token is in force and where it comes from, the named tokens
`hf auth login` stores, who the Hub says the token belongs to, and what it may write.

Everything here goes through huggingface_hub's own auth helpers (`get_token`, `get_stored_tokens`, `login`,
`auth_switch`, `logout`, `whoami`), so a token hftui stores is one `hf` sees and the other way round, and the
files keep the modes those helpers give them (0600). No token ever leaves this module unmasked: every value
returned holds masks only.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hftui.hub.settings import TokenStatus, current_token, mask_token

if TYPE_CHECKING:
    from huggingface_hub import HfApi

ENV_TOKEN_NAMES = ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN")


@dataclass(frozen=True)
class StoredToken:
    """One token saved by `hf auth login` (or hftui's login), by its name, masked."""

    name: str
    masked: str
    active: bool


@dataclass(frozen=True)
class AccountState:
    """What the machine says about the account without asking the Hub."""

    status: TokenStatus
    stored: tuple[StoredToken, ...]
    active_name: str | None
    # The environment variable that overrides the token file, if set: switching stored tokens then has no
    # effect until it is unset, which the screen must say.
    env_override: str | None
    token_path: Path
    stored_tokens_path: Path

    @property
    def source_label(self) -> str:
        """Where the token in force comes from, in words."""
        if not self.status.present:
            return "no token"
        if self.env_override:
            return f"the {self.env_override} environment variable"
        if self.active_name:
            return f'the stored token "{self.active_name}" ({self.token_path})'
        return f"the token file {self.token_path}"


def read_account() -> AccountState:
    """The token in force, its source and the stored named tokens; reads files only, never the network."""
    from huggingface_hub import constants
    from huggingface_hub.utils import get_stored_tokens

    current, problem = current_token()
    env_override = next((name for name in ENV_TOKEN_NAMES if os.environ.get(name)), None)
    stored = get_stored_tokens()
    token_path = Path(constants.HF_TOKEN_PATH)
    try:
        in_file = token_path.read_text(encoding="utf-8").strip() if token_path.is_file() else None
    except (OSError, UnicodeDecodeError):
        in_file = None
    active_name = next((name for name, token in stored.items() if in_file and token == in_file), None)
    tokens = tuple(
        StoredToken(name, mask_token(token), active=bool(current) and token == current)
        for name, token in sorted(stored.items())
    )
    if not current:
        source = "none"
    elif env_override:
        source = env_override
    elif active_name:
        source = f"stored token {active_name}"
    else:
        source = "token file"
    status = TokenStatus(present=bool(current), source=source, masked=mask_token(current), problem=problem)
    return AccountState(status, tokens, active_name, env_override, token_path, Path(constants.HF_STORED_TOKENS_PATH))


@dataclass(frozen=True)
class WhoAmI:
    """Who the Hub says a token belongs to, and what the token may do."""

    user: str
    fullname: str | None
    orgs: tuple[str, ...]
    token_name: str | None
    # "read", "write" or "fineGrained" (as the Hub names them); None for OAuth tokens without a role.
    role: str | None
    # For fine-grained tokens: the namespaces whose repos it may write; None when the role decides.
    writable_namespaces: tuple[str, ...] | None = None

    @property
    def read_only(self) -> bool:
        """Whether the token can write nowhere (a read token, or a fine-grained one without write scopes)."""
        if self.role == "read":
            return True
        return self.writable_namespaces is not None and not self.writable_namespaces

    def can_write(self, namespace: str) -> bool:
        """Whether the token may create or push repos under `namespace` (the user or one of their orgs)."""
        if self.read_only:
            return False
        if self.writable_namespaces is not None:
            return namespace in self.writable_namespaces
        return namespace == self.user or namespace in self.orgs

    @property
    def role_label(self) -> str:
        """The token's permission in words."""
        return {"read": "read-only", "write": "write", "fineGrained": "fine-grained"}.get(self.role or "", "unknown")


def whoami_from_response(data: dict[str, Any]) -> WhoAmI:
    """Read the `whoami-v2` JSON the Hub answers (tolerating missing fields)."""
    orgs = tuple(str(org.get("name")) for org in data.get("orgs") or () if isinstance(org, dict) and org.get("name"))
    access = ((data.get("auth") or {}).get("accessToken")) or {}
    role = access.get("role")
    writable: tuple[str, ...] | None = None
    if role == "fineGrained":
        names: list[str] = []
        for scope in (access.get("fineGrained") or {}).get("scoped") or ():
            entity = scope.get("entity") or {}
            if "repo.write" in (scope.get("permissions") or ()) and entity.get("type") in ("user", "org"):
                names.append(str(entity.get("name")))
        writable = tuple(dict.fromkeys(names))
    return WhoAmI(
        user=str(data.get("name") or "?"),
        fullname=data.get("fullname"),
        orgs=orgs,
        token_name=access.get("displayName"),
        role=role,
        writable_namespaces=writable,
    )


def fetch_whoami(api: HfApi) -> WhoAmI:
    """Ask the Hub who the api's token belongs to (raises the Hub's error; callers explain it)."""
    return whoami_from_response(api.whoami())


def ask_whoami(api: HfApi) -> tuple[WhoAmI | None, str | None]:
    """(who the token belongs to, None), or (None, why the Hub could not say) in words; never raises."""
    from hftui.hub.errors import explain_hub_error

    try:
        return fetch_whoami(api), None
    except Exception as error:  # every Hub failure becomes a sentence on the screen
        return None, explain_hub_error(error, endpoint=api.endpoint).message


def login_with_token(token: str) -> str:
    """Check a pasted token with the Hub and store it as `hf auth login` does (named, active, file mode 0600);
    returns the name it was stored under. Raises ValueError for an organisation token, the Hub's error for a
    bad one."""
    from huggingface_hub import login

    token = token.strip()
    if not token:
        raise ValueError("Paste a token first.")
    login(token=token, add_to_git_credential=False, skip_if_logged_in=False)
    state = read_account()
    return state.active_name or "token"


def switch_token(name: str) -> None:
    """Make the stored token `name` the active one (huggingface_hub's `auth_switch`)."""
    from huggingface_hub import auth_switch

    auth_switch(name, add_to_git_credential=False)
