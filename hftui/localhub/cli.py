"""`python -m hftui.localhub --model ID=FOLDER --dataset ID=FOLDER`: serve local folders as Hub repos until
interrupted, for pointing `HF_ENDPOINT` (and so hftui or any huggingface_hub client) at them by hand."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from hftui.localhub.hub import LocalHub


def _split_spec(parser: argparse.ArgumentParser, spec: str) -> tuple[str, Path]:
    repo_id, sep, folder = spec.partition("=")
    if not sep or not repo_id or not folder:
        parser.error(f"expected ID=FOLDER, got {spec!r}")
    return repo_id, Path(folder).expanduser()


def main(argv: Sequence[str] | None = None) -> int:
    """Serve folders as Hub repos until interrupted; prints the endpoint URL as the first stdout line."""
    parser = argparse.ArgumentParser(
        prog="python -m hftui.localhub",
        description="Serve local folders as Hugging Face Hub repos (point HF_ENDPOINT at the printed URL).",
    )
    parser.add_argument("--model", action="append", default=[], metavar="ID=FOLDER", help="host a model repo")
    parser.add_argument("--dataset", action="append", default=[], metavar="ID=FOLDER", help="host a dataset repo")
    parser.add_argument("--gated", action="append", default=[], metavar="ID", help="mark a hosted repo as gated")
    parser.add_argument("--token", action="append", default=[], metavar="TOKEN[=USER]", help="accept a token")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--page-size", type=int, default=1000)
    parser.add_argument("--no-lfs-redirect", action="store_true", help="serve LFS files without the CDN redirect")
    args = parser.parse_args(argv)

    hub = LocalHub(page_size=args.page_size, lfs_redirect=not args.no_lfs_redirect, host=args.host, port=args.port)
    for spec in args.token:
        token, _, user = spec.partition("=")
        hub.add_token(token, user=user or "tester")
    for spec in args.model:
        repo_id, folder = _split_spec(parser, spec)
        hub.add_model(repo_id, folder, gated=repo_id in args.gated)
    for spec in args.dataset:
        repo_id, folder = _split_spec(parser, spec)
        hub.add_dataset(repo_id, folder, gated=repo_id in args.gated)
    url = hub.start()
    print(url, flush=True)
    print(
        f"LocalHub: {len(hub.repos)} repo(s); export HF_ENDPOINT={url}; Ctrl-C stops.",
        file=sys.stderr,
        flush=True,
    )
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        hub.stop()
    return 0
