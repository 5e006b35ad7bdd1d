"""`gongkai keys create FILE` and `gongkai keys rotate NEW_FILE`: the publisher's signing keys
(publishers/signing.py, docs/verification.md).

`create` writes a new Ed25519 private key (PEM, mode 0600) and prints its fingerprint; it never
overwrites a file. `rotate` publishes NEW_FILE's key into the bucket as its newest key, endorsed
by the current one (`GONGKAI_SIGNING_KEY_FILE`); then point the setting at NEW_FILE. Manifests
signed by older keys stay valid: each key in `keys/index.json` is endorsed by the one before.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console

from api.publishing import signer_of
from api.settings import Settings
from publishers import signing
from publishers.sync import SyncStats
from storage.objects import open_store


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    keys = commands.add_parser("keys", help="the publisher's signing keys")
    actions = keys.add_subparsers(dest="keys_command", required=True)
    create = actions.add_parser("create", help="write a new Ed25519 signing key file")
    create.add_argument("file", type=Path, metavar="FILE")
    rotate = actions.add_parser(
        "rotate", help="publish a new key, endorsed by GONGKAI_SIGNING_KEY_FILE's"
    )
    rotate.add_argument("file", type=Path, metavar="NEW_FILE")


async def run(settings: Settings, args: argparse.Namespace, console: Console) -> int:
    if args.keys_command == "create":
        signer = signing.generate()
        try:
            signing.write_key_file(signer, args.file)
        except FileExistsError:
            console.print(f"[red]{args.file} exists[/]: a key file is never overwritten")
            return 1
        console.print(f"{args.file}: Ed25519 key {signer.fingerprint}")
        return 0
    old = signer_of(settings)
    new = signing.load_key_file(args.file)
    store = open_store(settings.store_url, settings.s3_access_key, settings.s3_secret_key)
    await signing.rotate(store, old, new, SyncStats())
    console.print(
        f"the bucket's newest key is now {new.fingerprint}, endorsed by {old.fingerprint}; "
        f"set GONGKAI_SIGNING_KEY_FILE={args.file}"
    )
    return 0
