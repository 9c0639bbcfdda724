"""Local mail archives: an mbox file, a Maildir, a folder of .eml files (backfills, the demo).

They share the IMAP connector's pipeline (`MailIngestor`): same parsing, threading, ledger
and quarantine. What differs is how each knows what it has already read:

- mbox is append-only in practice, so its cursor is the byte offset after the last
  committed message plus a fingerprint of the file's first bytes; a file that shrank or
  was rewritten is read again from the start (the ledger skips what it already holds).
  The reader is a small streaming splitter rather than `mailbox.mbox` because it must
  resume at a byte offset and report each message's offset (its `raw_ref`), which the
  stdlib keeps private; it splits where the stdlib does (any line starting 'From ').
- Maildir and .eml folders have no order to resume from (files arrive, move from new/ to
  cur/, get copied with old times), so each sync skips the files whose reference is
  already in the ledger or the quarantine and reads the rest, oldest first.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from connectors.base import Source, SyncReport
from connectors.email.ingest import MailIngestor, RawMail
from connectors.email.threads import MailSettings
from store import email as email_store
from store import sync
from store.db import Store

BATCH_MESSAGES = 500
BATCH_BYTES = 64 * 1024 * 1024
_HEAD_BYTES = 4096


class MailArchiveError(RuntimeError):
    """The archive path is missing or of the wrong kind; the message names it."""


def _batches(mails: Iterator[RawMail]) -> Iterator[list[RawMail]]:
    batch: list[RawMail] = []
    size = 0
    for mail in mails:
        batch.append(mail)
        size += len(mail.raw)
        if len(batch) >= BATCH_MESSAGES or size >= BATCH_BYTES:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def _mtime(path: Path) -> datetime:
    return datetime.fromtimestamp(path.stat().st_mtime, UTC)


class MboxSource(Source):
    """An mbox file, read incrementally from the byte offset of the last committed batch."""

    def __init__(self, path: str | Path, name: str = "", *, settings: MailSettings | None = None) -> None:
        self.path = Path(path).expanduser().resolve()
        self.name = f"mbox:{name or self.path.stem}"
        self._ingestor = MailIngestor(self.name, settings or MailSettings())

    def sync(self, store: Store) -> SyncReport:
        if not self.path.is_file():
            raise MailArchiveError(f"{self.name}: mbox file {self.path} does not exist")
        report = SyncReport(self.name)
        size = self.path.stat().st_size
        with self.path.open("rb") as fh:
            cursor = sync.get_cursor(store, self.name) or {}
            offset = int(cursor.get("offset", 0))
            # the fingerprint covers the bytes that existed when the cursor was saved
            head_len = int(cursor.get("head_len", _HEAD_BYTES))
            if cursor.get("head") != hashlib.sha256(fh.read(head_len)).hexdigest() or offset > size:
                offset = 0  # rewritten or truncated: read again, the ledger dedupes
            fh.seek(0)
            head_bytes = fh.read(_HEAD_BYTES)
            head, head_len = hashlib.sha256(head_bytes).hexdigest(), len(head_bytes)
            for batch in _batches(self._messages(fh, offset)):
                end = int(batch[-1].item_key.rsplit("-", 1)[1])

                def save(con: Any, end: int = end) -> None:
                    sync.save_cursor(
                        store, self.name, {"offset": end, "head": head, "head_len": head_len},
                        con=con,
                    )

                report.add(self._ingestor.ingest(store, batch, save))
        return report

    def _messages(self, fh: Any, offset: int) -> Iterator[RawMail]:
        """Stream (message, its byte range) from `offset`; item_key is 'start-end'."""
        fh.seek(offset)
        start: int | None = None
        from_line = b""
        lines: list[bytes] = []
        pos = offset
        for line in fh:
            if line.startswith(b"From "):
                if start is not None:
                    yield self._mail(start, pos, from_line, lines)
                start, from_line, lines = pos, line, []
            elif start is not None:
                lines.append(line)
            pos += len(line)
        if start is not None:
            yield self._mail(start, pos, from_line, lines)

    def _mail(self, start: int, end: int, from_line: bytes, lines: list[bytes]) -> RawMail:
        if lines and lines[-1].strip() == b"":
            lines = lines[:-1]  # the blank line that separates messages
        return RawMail(
            raw=b"".join(lines),
            raw_ref=f"{self.path}@{start}",
            item_key=f"{start}-{end}",
            received_at=_from_line_date(from_line),
        )


def _from_line_date(line: bytes) -> datetime | None:
    """'From a@b Mon Jan  1 00:00:00 2024' -> that time (UTC); None if it has none."""
    parts = line.decode("latin-1").split()
    try:
        return datetime.strptime(" ".join(parts[2:7]), "%a %b %d %H:%M:%S %Y").replace(tzinfo=UTC)
    except ValueError:
        return None


class _FileSetSource(Source):
    """Shared by Maildir and .eml folders: read every file not yet in the ledger."""

    kind = ""

    def __init__(self, path: str | Path, name: str = "", *, settings: MailSettings | None = None) -> None:
        self.path = Path(path).expanduser().resolve()
        self.name = f"{self.kind}:{name or self.path.name}"
        self._ingestor = MailIngestor(self.name, settings or MailSettings())

    def _files(self) -> list[tuple[str, Path]]:
        """(raw_ref, file) of every message file."""
        raise NotImplementedError

    def sync(self, store: Store) -> SyncReport:
        if not self.path.is_dir():
            raise MailArchiveError(f"{self.name}: folder {self.path} does not exist")
        report = SyncReport(self.name)
        known = email_store.known_raw_refs(store, self.name)
        todo = [(ref, f) for ref, f in self._files() if ref not in known]
        del known
        todo.sort(key=lambda rf: (rf[1].stat().st_mtime_ns, rf[0]))

        def mails() -> Iterator[RawMail]:
            for ref, f in todo:
                try:
                    raw, when = f.read_bytes(), _mtime(f)
                except FileNotFoundError:
                    continue  # moved (e.g. new/ -> cur/) since listing; read next sync
                yield RawMail(raw=raw, raw_ref=ref, item_key=ref, received_at=when)

        for batch in _batches(mails()):
            report.add(self._ingestor.ingest(store, batch))
        return report


class MaildirSource(_FileSetSource):
    """A Maildir (new/ and cur/); a message is known by its unique name, not its flags."""

    kind = "maildir"

    def _files(self) -> list[tuple[str, Path]]:
        if not (self.path / "cur").is_dir() and not (self.path / "new").is_dir():
            raise MailArchiveError(f"{self.name}: {self.path} is not a Maildir (no cur/ or new/)")
        out = []
        for sub in ("new", "cur"):
            folder = self.path / sub
            if not folder.is_dir():
                continue
            with os.scandir(folder) as it:
                for entry in it:
                    if entry.is_file() and not entry.name.startswith("."):
                        unique = entry.name.split(":", 1)[0].split("!", 1)[0]
                        out.append((f"{self.path}#{unique}", Path(entry.path)))
        return out


class EmlFolderSource(_FileSetSource):
    """A folder (searched recursively) of .eml files, one message each."""

    kind = "eml"

    def _files(self) -> list[tuple[str, Path]]:
        return [
            (str(p), p)
            for p in self.path.rglob("*")
            if p.suffix.lower() == ".eml" and p.is_file()
        ]
