"""JSON-export import: the vendors' own API shapes, read from files (backfills, the demo).

A file holds what the API would have answered, gathered in one document:

* zendesk:  `{"tickets": [...], "users": [...], "groups": [...],
             "comments": {"<ticket id>": [comment, ...]}}`
* intercom: `{"type": "conversation.list", "conversations": [<GET /conversations/{id}>...],
             "teams": [...]}`
* front:    `{"_results": [conversation, ...], "messages": {"<conversation id>": [message, ...]}}`

The same normalisers as the API sources turn them into interactions, under the source
`<vendor>:<name>`, so an export backfilled with the API entry's name lands on the very
same interactions the API sync maintains (same external ids, same content hashes).

`path` is a file or a folder of `*.json` files (read in name order). Each file is one
batch; its SHA-256 goes into the cursor so an unchanged file is not parsed again. A file
that is not valid JSON, or not in the vendor's shape, is quarantined with an excerpt and
the other files go on; a single conversation that cannot be normalised is quarantined and
the rest of its file goes on.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from connectors.chat import front, intercom, zendesk
from connectors.chat.common import Batch, ChatSource, ConversationError
from connectors.chat.options import ExportOptions
from store import Store, sync
from store.records import Interaction, QuarantineItem


class ExportFormatError(ValueError):
    """The document is JSON but not the vendor's export shape."""


def _zendesk(source: str, doc: dict[str, Any]) -> Iterator[Interaction | ConversationError]:
    tickets = doc.get("tickets")
    if not isinstance(tickets, list):
        raise ExportFormatError("a zendesk export needs a 'tickets' list")
    users = {u.get("id"): u for u in doc.get("users") or []}
    groups = {g.get("id"): g for g in doc.get("groups") or []}
    comments = doc.get("comments") or {}
    for t in tickets:
        try:
            yield zendesk.normalize_ticket(source, t, comments.get(str(t.get("id"))) or [],
                                           users, groups)
        except ConversationError as err:
            yield err


def _intercom(source: str, doc: dict[str, Any]) -> Iterator[Interaction | ConversationError]:
    convs = doc.get("conversations")
    if not isinstance(convs, list):
        raise ExportFormatError("an intercom export needs a 'conversations' list")
    teams = {str(t.get("id")): t for t in doc.get("teams") or []}
    for c in convs:
        try:
            yield intercom.normalize_conversation(source, c, teams)
        except ConversationError as err:
            yield err


def _front(source: str, doc: dict[str, Any]) -> Iterator[Interaction | ConversationError]:
    convs = doc.get("_results")
    if not isinstance(convs, list):
        raise ExportFormatError("a front export needs a '_results' list of conversations")
    messages = doc.get("messages") or {}
    for c in convs:
        try:
            yield front.normalize_conversation(source, c, messages.get(str(c.get("id"))) or [])
        except ConversationError as err:
            yield err


READERS = {"zendesk": _zendesk, "intercom": _intercom, "front": _front}


class ExportSource(ChatSource):
    """Imports one `[[chat.exports]]` entry (see module docstring)."""

    incremental_cursor = "SHA-256 of each export file read (under the key 'export:<path>')"

    def __init__(self, options: ExportOptions) -> None:
        super().__init__(f"{options.vendor}:{options.name}", max_attempts=options.max_attempts,
                         concurrency=1)
        self.vendor = options.vendor
        self.options = options
        self.path = Path(options.path).expanduser()

    def files(self) -> list[Path]:
        if self.path.is_dir():
            return sorted(p for p in self.path.glob("*.json") if p.is_file())
        if self.path.is_file():
            return [self.path]
        raise FileNotFoundError(f"{self.name}: export path {self.path} does not exist")

    def batches(self, store: Store, cursor: dict[str, Any] | None) -> Iterator[Batch]:
        key = f"export:{self.path.resolve()}"
        done: dict[str, str] = dict((sync.get_cursor(store, self.name, key) or {}).get("files", {}))
        reader = READERS[self.vendor]
        for f in self.files():
            raw = f.read_bytes()
            digest = hashlib.sha256(raw).hexdigest()
            if done.get(str(f)) == digest:
                continue
            good: list[Interaction] = []
            bad: list[QuarantineItem] = []
            try:
                doc = json.loads(raw)
                if not isinstance(doc, dict):
                    raise ExportFormatError("the export must be a JSON object")
                for res in reader(self.name, doc):
                    if isinstance(res, ConversationError):
                        bad.append(QuarantineItem(source=self.name, item_key=f"{f.name}:{res.key}",
                                                  reason=res.reason, raw_ref=str(f),
                                                  excerpt=res.excerpt))
                    else:
                        res.raw_ref = res.raw_ref or str(f)
                        good.append(res)
            except (ValueError, UnicodeDecodeError) as exc:
                good = []
                bad = [QuarantineItem(
                    source=self.name, item_key=f"file:{f}", raw_ref=str(f),
                    reason=f"{f.name} is not a {self.vendor} export: {exc}",
                    excerpt=raw[:1000].decode("utf-8", "replace"),
                )]
            done[str(f)] = digest
            # the export's cursor has its own key, apart from the API sync of the same account
            yield Batch(good, {"files": dict(done)}, page_key=f"file:{f}", quarantined=bad,
                        cursor_key=key)
