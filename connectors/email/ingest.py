"""A batch of raw messages -> stored threads, with the source's cursor, in one transaction.

Every mail source (IMAP, mbox, Maildir, .eml folder) reads raw bytes its own way and hands
them here in batches. For each batch: parse every message (failures go to quarantine with
the reason and the raw bytes' location; the rest go on), drop messages the ledger already
holds (same Message-ID and content hash: a UIDVALIDITY reset or a second folder), assign
threads, rebuild each touched thread from the ledger as one interaction (a new version when
it gained a message), and commit all of it together with the cursor the source passes in.
A crash before the commit loses nothing; one after it is never repeated.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import duckdb

from connectors.base import SyncReport
from connectors.email.parse import MessageParseError, ParsedMessage, parse_message
from connectors.email.threads import (
    MailSettings,
    ThreadCandidate,
    ThreadLookups,
    assign_threads,
    build_interaction,
)
from store import email as email_store
from store import interactions, quarantine
from store.db import Store
from store.email import EmailMessageRow
from store.records import QuarantineItem

log = logging.getLogger(__name__)
EXCERPT_BYTES = 600


@dataclass(slots=True)
class RawMail:
    """One message as fetched, and where its bytes can be found again."""

    raw: bytes
    #: e.g. 'imap:acct/INBOX/1700000000/42', '/archive/x.mbox@10240', '/mail/a.eml'
    raw_ref: str
    #: quarantine key (unique within the source)
    item_key: str
    #: IMAP INTERNALDATE, the mbox From_ line date or the file time: used without a Date:
    received_at: datetime | None = None


SaveCursor = Callable[[duckdb.DuckDBPyConnection], None]


class MailIngestor:
    """Turns batches of `RawMail` of one source into threads (see the module docstring)."""

    def __init__(self, source: str, settings: MailSettings) -> None:
        self.source = source
        self.settings = settings

    def ingest(
        self,
        store: Store,
        batch: Sequence[RawMail],
        save_cursor: SaveCursor | None = None,
        *,
        rejected: Sequence[tuple[RawMail, str]] = (),
    ) -> SyncReport:
        """Store one batch and (in the same transaction) the cursor that follows it.

        `rejected` are messages the source refused to fetch (e.g. over the size limit),
        quarantined with the given reason in the same transaction.
        """
        report = SyncReport(self.source)
        parsed: list[tuple[RawMail, ParsedMessage]] = []
        failed: list[tuple[RawMail, str]] = list(rejected)
        for mail in batch:
            try:
                parsed.append((mail, self._parse(mail)))
            except MessageParseError as exc:
                failed.append((mail, str(exc)))
            except Exception as exc:  # a parser bug on one message must not stop the batch
                failed.append((mail, f"unexpected {type(exc).__name__} while parsing: {exc}"))
        with store.transaction() as tx:
            new_rows, dup_threads = self._new_messages(store, parsed, tx)
            touched = {r.thread_key for r in new_rows}
            if new_rows:
                stored = email_store.messages_for_threads(store, self.source, touched, con=tx)
                by_thread: dict[str, list[EmailMessageRow]] = {}
                for row in [*stored, *new_rows]:
                    by_thread.setdefault(row.thread_key, []).append(row)
                threads = [
                    build_interaction(self.source, key, rows, self.settings)
                    for key, rows in by_thread.items()
                ]
                email_store.insert_messages(store, new_rows, con=tx)
                result = interactions.upsert(store, threads, con=tx)
                report.inserted += len(result.inserted)
                report.updated += len(result.updated)
                report.unchanged += len(result.unchanged)
            report.unchanged += len(dup_threads - touched)
            for mail, reason in failed:
                quarantine.record(
                    store,
                    QuarantineItem(
                        source=self.source,
                        item_key=mail.item_key,
                        reason=reason,
                        raw_ref=mail.raw_ref,
                        excerpt=mail.raw[:EXCERPT_BYTES].decode("utf-8", "replace"),
                    ),
                    con=tx,
                )
                log.warning("%s: quarantined %s: %s", self.source, mail.raw_ref, reason)
            report.quarantined += len(failed)
            if save_cursor is not None:
                save_cursor(tx)
        return report

    def _parse(self, mail: RawMail) -> ParsedMessage:
        return parse_message(
            mail.raw,
            fallback_date=mail.received_at,
            strip_quotes=self.settings.strip_quotes,
            reply_languages=self.settings.reply_languages,
        )

    def _new_messages(
        self,
        store: Store,
        parsed: list[tuple[RawMail, ParsedMessage]],
        tx: duckdb.DuckDBPyConnection,
    ) -> tuple[list[EmailMessageRow], set[str]]:
        """Ledger rows for the messages not stored yet (with their threads), and the
        threads of the duplicates."""
        known: dict[str, list[email_store.KnownMessage]] = {}
        for k in email_store.find_message_ids(
            store, self.source, [p.message_id for _m, p in parsed], con=tx
        ):
            known.setdefault(k.message_id, []).append(k)
        fresh: list[tuple[RawMail, ParsedMessage, str]] = []
        dup_threads: set[str] = set()
        seen: dict[str, set[str]] = {}
        for mail, p in parsed:
            hashes = {k.content_hash: k for k in known.get(p.message_id, [])}
            if p.content_hash in hashes:
                dup_threads.add(hashes[p.content_hash].thread_key)
                continue
            in_batch = seen.setdefault(p.message_id, set())
            if p.content_hash in in_batch:
                continue
            # Two different messages with one Message-ID (broken mailers): keep both.
            key = p.message_id if not hashes and not in_batch else f"{p.message_id}#{p.content_hash[:16]}"
            in_batch.add(p.content_hash)
            fresh.append((mail, p, key))
        if not fresh:
            return [], dup_threads

        customers = {
            p.message_id: self.settings.customer_of(p.from_addr, [*p.to_addrs, *p.cc_addrs])
            for _m, p, _k in fresh
        }
        candidates = [
            ThreadCandidate(
                message_id=p.message_id,
                sent_at=p.sent_at,
                in_reply_to=p.in_reply_to,
                references=p.references,
                norm_subject=p.norm_subject,
                customer_key=customers[p.message_id],
            )
            for _m, p, _k in fresh
        ]
        refs = {r for c in candidates for r in (*c.in_reply_to, *c.references)}
        by_id = {
            k.message_id: k.thread_key
            for k in email_store.find_message_ids(store, self.source, refs, con=tx)
        }
        existing = email_store.existing_thread_keys(
            store, self.source, [c.message_id for c in candidates], con=tx
        )
        no_refs = [c for c in candidates if not c.references]
        pairs = [(c.norm_subject, c.customer_key) for c in no_refs if c.norm_subject and c.customer_key]
        by_subject = {}
        if pairs:
            since = min(c.sent_at for c in no_refs) - timedelta(days=self.settings.thread_window_days)
            by_subject = email_store.threads_by_subject(
                store, self.source, pairs, since, con=tx  # type: ignore[arg-type]
            )
        thread_of = assign_threads(
            candidates, ThreadLookups(by_id, existing, by_subject), self.settings.thread_window_days
        )
        rows = [
            EmailMessageRow(
                source=self.source,
                message_key=key,
                message_id=p.message_id,
                content_hash=p.content_hash,
                thread_key=thread_of[p.message_id],
                sent_at=p.sent_at,
                from_addr=p.from_addr,
                text=p.text,
                from_name=p.from_name,
                to_addrs=p.to_addrs,
                cc_addrs=p.cc_addrs,
                subject=p.subject,
                norm_subject=p.norm_subject,
                customer_key=customers[p.message_id],
                meta=_message_meta(p),
                raw_ref=mail.raw_ref,
            )
            for mail, p, key in fresh
        ]
        return rows, dup_threads


def _message_meta(p: ParsedMessage) -> dict[str, object]:
    meta: dict[str, object] = {
        "body": p.body_kind,
        "date_source": p.date_source,
        "attachments": [a.as_dict() for a in p.attachments],
    }
    if p.quotes_stripped:
        meta["quotes_stripped"] = True
    if p.truncated:
        meta["truncated"] = True
    if p.defects:
        meta["defects"] = p.defects
    return meta
