"""A local, Hugging Face Hub-compatible HTTP server that the real `huggingface_hub` client talks to.

It serves the subset of the Hub's REST API and file endpoints that `HfApi`, `hf_hub_download`,
`snapshot_download` and `HfFileSystem` use, with the same JSON shapes, headers and error codes, so that
tests exercise the genuine client over real HTTP (through `HF_ENDPOINT`) and `hftui demo` can seed a genuine
HF cache offline. Large files are served like Git LFS files on the Hub: `/resolve/` redirects to a second
"CDN" origin, with `X-Linked-Etag` / `X-Linked-Size` / `X-Repo-Commit`; no Xet headers are ever sent, so the
client falls back to plain HTTP downloads. Writes (create_repo, upload_folder, create_commit, deletes) need
a write token of the namespace's user or org, and what is pushed is kept like any hosted repo.

Where things are:

- `hub.py`: `LocalHub`, the object tests hold (repos, tokens, start/stop, request log); `faults.py` its
  `fail`/`delay`/`cut` rules; `cli.py` the `python -m hftui.localhub` command.
- `store.py`: what it holds in memory; `repos.py`, `commits.py`, `files.py` a repo, a commit, a file;
  `tags.py` the tags the Hub derives from cards and files; `documents.py` the repo JSON it sends.
- `routes.py`: the URL map, to `listing.py` (`/api/models`, `/api/datasets`: search, filter, sort, paging),
  `read_api.py` (info, tree, paths-info, commits, refs), `resolve.py` (downloads and the CDN),
  `write_api.py` (create repo, validate-yaml, preupload, LFS, commit) and `access.py` (tokens, whoami,
  private, gated and write checks); `protocol.py` the request, reply and paging they share.
- `server.py`: the HTTP servers and handler.

Importing it never pulls in textual, transformers, datasets, torch or huggingface_hub (card metadata is read
with hftui's card parser, which imports huggingface_hub's `CardData` when a card is first parsed).
"""

from __future__ import annotations

from hftui.localhub.cli import main
from hftui.localhub.commits import HostedCommit
from hftui.localhub.files import HostedFile, make_hosted_file
from hftui.localhub.hub import LocalHub
from hftui.localhub.protocol import RecordedRequest, iso_date
from hftui.localhub.repos import HostedRepo, RepoType
from hftui.localhub.store import DatasetOptions, ModelOptions

__all__ = [
    "DatasetOptions",
    "HostedCommit",
    "HostedFile",
    "HostedRepo",
    "LocalHub",
    "ModelOptions",
    "RecordedRequest",
    "RepoType",
    "iso_date",
    "main",
    "make_hosted_file",
]
