"""Ingest benchmark, all text channels: email from a local Dovecot and chat from local
vendor API fakes, end to end into DuckDB, in one table.

    .venv/bin/python bench/ingest.py                 # 10,000 emails and 10,000 chats per vendor
    .venv/bin/python bench/ingest.py -n 2000         # a quicker run (sizes n/4, n/2, n)
    .venv/bin/python bench/ingest.py --only chat     # just one side

Runs `bench/ingest_email.py`'s `run(n)` (when that script is present) and
`bench/ingest_chat.py`'s `run(n)`, each of which times fresh worker processes and reports
their peak RSS, and prints their rows side by side with the issue's targets
(>= 500 emails/s, >= 1,000 chat conversations/s on 2 cores; memory flat as n grows).
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

HERE = Path(__file__).resolve().parent
TARGETS = {"email": 500, "chat": 1000}


def _load(name: str) -> ModuleType:
    """A sibling bench script as a module (bench/ is a folder of scripts, not a package)."""
    path = HERE / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"bench_{name}", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _row(kind: str, raw: dict) -> dict:
    items = raw.get("messages", raw.get("conversations"))
    rate = raw.get("msgs_per_s", raw.get("conv_per_s"))
    return {
        "source": raw["source"],
        "items": items,
        "unit": "messages" if kind == "email" else "conversations",
        "wall_s": raw["wall_s"],
        "items_per_s": rate,
        "peak_rss_mb": raw["peak_rss_mb"],
        "target_per_s": TARGETS[kind],
        "meets": "yes" if rate is not None and rate >= TARGETS[kind] else "no",
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-n", type=int, default=10_000, help="largest size (default 10,000)")
    ap.add_argument("--only", choices=("email", "chat"), help="run one side only")
    args = ap.parse_args()
    rows: list[dict] = []
    email, chat = _load("ingest_email"), _load("ingest_chat")
    if args.only in (None, "email"):
        rows += [_row("email", r) for r in email.run(args.n)]
    if args.only in (None, "chat"):
        rows += [_row("chat", r) for r in chat.run(args.n)]
    print(chat.table(rows))

if __name__ == "__main__":
    main()
