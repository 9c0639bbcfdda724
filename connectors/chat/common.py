"""What the chat connectors share: the sync loop, and turning vendor parts into records.

Every vendor source (API or JSON export) is a `ChatSource`: its `batches()` generator
yields `Batch`es — the normalised interactions of one vendor page plus the cursor that is
true *after* them — and `ChatSource.sync` commits each batch's interactions and its cursor
in one transaction. So a crash or an error between pages never skips data: at worst the
next run re-reads a page, and the idempotent upsert (same content hash → unchanged)
makes that harmless.

Failures are kept, not dropped:
* a malformed list page (`MalformedResponse`) is quarantined with the response excerpt,
  and the sync stops at the last committed cursor, so the next run asks for it again;
* a conversation whose detail cannot be read or normalised is quarantined; the page is
  retried on the next run until that conversation has failed `max_attempts` times, after
  which the page goes on without it (it stays in quarantine, with the reason) so one
  poisoned conversation cannot stall a source forever.
A page or conversation that loads on a later run leaves the quarantine (after its batch
committed): the quarantine lists what is still missing, and `attempts` counts failures
since the item last loaded, so transient faults spread over months do not add up to a
give-up.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

import phonenumbers

from connectors.base import Source, SyncReport
from connectors.http import HttpStatusError, MalformedResponse, RetriesExhausted
from store import Store, quarantine, sync
from store import interactions as interactions_q
from store.records import Interaction, QuarantineItem, Turn, content_hash

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

EXCERPT_CHARS = 1000


class ConversationError(Exception):
    """One conversation could not be read or normalised; carries what to quarantine."""

    def __init__(self, key: str, reason: str, excerpt: str | None = None) -> None:
        super().__init__(reason)
        self.key = key
        self.reason = reason
        self.excerpt = excerpt


class _End:
    """Internal: the producer thread has no more batches."""


class _StopPage(Exception):
    """Internal: a conversation on this page failed and should be retried next run."""

    def __init__(self, error: ConversationError) -> None:
        super().__init__(error.reason)
        self.error = error


@dataclass(slots=True)
class Batch:
    """One unit of commit: interactions + the cursor that holds once they are stored."""

    interactions: list[Interaction]
    cursor: dict[str, Any] | None
    #: a key naming the vendor page, so a page quarantined earlier is cleared once it loads
    page_key: str | None = None
    #: conversations given up on (already past max_attempts); recorded in the same transaction
    given_up: list[QuarantineItem] = field(default_factory=list)
    #: items quarantined that do not stop the source (e.g. one bad file of an export)
    quarantined: list[QuarantineItem] = field(default_factory=list)
    #: `sync_state.key` of the cursor ('' for the API cursor; exports keep one per path)
    cursor_key: str = ""


class ChatSource(Source):
    """The sync loop shared by the vendor API sources and the export importer."""

    #: the vendor name used in `Interaction.metadata["vendor"]`
    vendor: str = ""
    #: the idempotency key of what this source writes: `<vendor>:<name>` + conversation id
    primary_key: tuple[str, ...] = ("source", "external_id")
    #: what the saved cursor (`store.sync`, key '') tracks; set by each vendor
    incremental_cursor: str = ""
    #: quarantine keys of single conversations are this prefix + the external id
    item_prefix: str = "conversation:"

    def __init__(self, name: str, *, max_attempts: int = 3, concurrency: int = 4) -> None:
        self.name = name
        self.max_attempts = max_attempts
        self.concurrency = max(1, concurrency)
        self._pool: ThreadPoolExecutor | None = None

    # -- to implement ---------------------------------------------------------------------

    def batches(self, store: Store, cursor: dict[str, Any] | None) -> Iterator[Batch]:
        """Yield batches past `cursor` (None: the first run)."""
        raise NotImplementedError

    def close(self) -> None:
        """Release connections (API sources close their HTTP client)."""

    # -- the loop ---------------------------------------------------------------------------

    def sync(self, store: Store) -> SyncReport:
        report = SyncReport(source=self.name)
        cursor = sync.get_cursor(store, self.name)
        quarantined = {q.item_key for q in quarantine.list_items(store, self.name, limit=100_000)}
        self._pool = (ThreadPoolExecutor(self.concurrency, thread_name_prefix=self.name)
                      if self.concurrency > 1 else None)
        batches = self._prefetched(store, cursor)
        try:
            for batch in batches:
                with store.transaction() as tx:
                    res = interactions_q.upsert(store, batch.interactions, con=tx)
                    for item in (*batch.given_up, *batch.quarantined):
                        quarantine.record(store, item, con=tx)
                    if batch.cursor is not None:
                        sync.save_cursor(store, self.name, batch.cursor, batch.cursor_key, con=tx)
                if quarantined:
                    self._clear_recovered(store, batch, quarantined)
                report.inserted += len(res.inserted)
                report.updated += len(res.updated)
                report.unchanged += len(res.unchanged)
                report.quarantined += len(batch.given_up) + len(batch.quarantined)
                for item in batch.given_up:
                    report.errors.append(
                        f"{self.name}: gave up on {item.item_key} after {self.max_attempts} "
                        f"attempts ({item.reason}); it stays in quarantine"
                    )
            if not report.errors:
                # The walk reached the end: every page (and side list such as groups or
                # teams) quarantined on an earlier run has loaded since, under whatever
                # key this run's pages had (a walk restarted from the top has other keys).
                for key in [k for k in quarantined if k.startswith("page:")]:
                    quarantine.remove(store, self.name, key)
                    quarantined.discard(key)
        except MalformedResponse as exc:
            quarantine.record(
                store,
                QuarantineItem(
                    source=self.name, item_key=f"page:{exc.url}", reason=str(exc),
                    raw_ref=exc.url, excerpt=exc.excerpt,
                ),
            )
            report.quarantined += 1
            report.errors.append(f"{exc} — quarantined; the cursor stays before this page")
        except _StopPage as stop:
            err = stop.error
            quarantine.record(
                store,
                QuarantineItem(source=self.name, item_key=err.key, reason=err.reason,
                               excerpt=err.excerpt),
            )
            report.quarantined += 1
            report.errors.append(
                f"{self.name}: {err.key}: {err.reason} — quarantined; its page is retried next run"
            )
        except RetriesExhausted as exc:
            report.errors.append(str(exc))
        finally:
            batches.close()  # stops the fetch thread before its pool goes away
            if self._pool is not None:
                self._pool.shutdown(wait=True, cancel_futures=True)
                self._pool = None
        for line in report.errors:
            log.warning("%s", line)
        return report

    def _clear_recovered(self, store: Store, batch: Batch, quarantined: set[str]) -> None:
        """Forget quarantine entries of a page and conversations that have now loaded."""
        keys = [f"{self.item_prefix}{it.external_id}" for it in batch.interactions]
        if batch.page_key:
            keys.append(batch.page_key)
        for key in keys:
            if key in quarantined:
                quarantine.remove(store, self.name, key)
                quarantined.discard(key)

    def _prefetched(self, store: Store, cursor: dict[str, Any] | None) -> Iterator[Batch]:
        """`batches()` run one page ahead in a thread: the next page is fetched while this
        one commits. Batches still arrive (and commit) strictly in order; an error raised
        by the producer surfaces here after the batches before it."""
        pending: queue.Queue[Batch | _End | BaseException] = queue.Queue(maxsize=1)
        stop = threading.Event()

        def offer(item: Batch | _End | BaseException) -> bool:
            while not stop.is_set():
                try:
                    pending.put(item, timeout=0.2)
                    return True
                except queue.Full:
                    continue
            return False  # the consumer has gone: drop it and end

        def produce() -> None:
            try:
                for batch in self.batches(store, cursor):
                    if not offer(batch):
                        return
                offer(_End())
            except BaseException as exc:  # handed to the consumer, re-raised there
                offer(exc)

        worker = threading.Thread(target=produce, name=f"{self.name}-fetch", daemon=True)
        worker.start()
        try:
            while True:
                item = pending.get()
                if isinstance(item, _End):
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            stop.set()
            worker.join()

    # -- helpers for vendor code -----------------------------------------------------------

    def fetch_all(
        self, store: Store, items: Sequence[T], key: Callable[[T], str], fetch: Callable[[T], R]
    ) -> tuple[list[R], list[QuarantineItem]]:
        """Run `fetch` over a page's items in parallel, in order; sort out failures.

        `fetch` raises `ConversationError` (or `MalformedResponse`, or a non-retryable
        status such as 404) for an item it cannot read. Such an item stops the page (`_StopPage`, retried next run) until it has
        failed `max_attempts` times; after that it is returned in the give-up list and
        the page proceeds without it.
        """

        def guarded(item: T) -> R | ConversationError:
            try:
                return fetch(item)
            except ConversationError as err:
                return err
            except MalformedResponse as exc:
                return ConversationError(key(item), str(exc), exc.excerpt)
            except HttpStatusError as exc:  # e.g. 404: deleted between the list and the fetch
                return ConversationError(key(item), str(exc))

        if self._pool is not None and len(items) > 1:
            results = list(self._pool.map(guarded, items))
        else:
            results = [guarded(i) for i in items]
        good: list[R] = []
        given_up: list[QuarantineItem] = []
        for res in results:
            if not isinstance(res, ConversationError):
                good.append(res)
                continue
            if quarantine.attempts(store, self.name, res.key) + 1 < self.max_attempts:
                raise _StopPage(res)
            given_up.append(
                QuarantineItem(source=self.name, item_key=res.key, reason=res.reason,
                               excerpt=res.excerpt)
            )
        return good, given_up


# -- normalisation helpers ---------------------------------------------------------------


_inscriptis = threading.local()


def _inscriptis_config() -> Any:
    """This thread's own inscriptis configuration.

    inscriptis (2.7) attaches each document's output canvas to the `body` element of the
    *shared* CSS profile, so two threads converting at once can write into each other's
    canvas and one of them gets an empty text (seen here: 1 message in ~100k lost while
    the detail fetches run in parallel). A deep copy of the default profile per thread
    keeps the library's output and removes the sharing.
    """
    cfg = getattr(_inscriptis, "config", None)
    if cfg is None:
        from copy import deepcopy

        from inscriptis.css_profiles import CSS_PROFILES
        from inscriptis.model.config import DEFAULT_CSS_PROFILE_NAME, ParserConfig

        cfg = ParserConfig(css=deepcopy(CSS_PROFILES[DEFAULT_CSS_PROFILE_NAME]))
        _inscriptis.config = cfg
    return cfg


def html_to_text(html: str | None) -> str:
    """Vendor message bodies are HTML; analysis wants the text a person would read."""
    if not html:
        return ""
    if "<" not in html and "&" not in html:
        return html.strip()
    from inscriptis import get_text

    lines = [ln.strip() for ln in get_text(html, _inscriptis_config()).splitlines()]
    out: list[str] = []
    for ln in lines:
        if ln or (out and out[-1]):
            out.append(ln)
    return "\n".join(out).strip()


def normalize_phone(phone: str | None, region: str | None = None) -> str | None:
    """E.164 (`+15551234567`) when the number parses, else None."""
    if not phone:
        return None
    try:
        num = phonenumbers.parse(phone, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(num):
        return None
    return phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)


def customer_key(
    vendor: str, *, email: str | None = None, phone: str | None = None, user_id: str | None = None
) -> str | None:
    """The cross-channel customer identity: email, else E.164 phone, else `vendor:user-id`.

    Repeat-contact detection joins calls, emails and chats on this key, so it must be
    normalised the same way everywhere (lower-cased email, E.164 phone).
    """
    if email and "@" in email:
        return email.strip().lower()
    normalized = normalize_phone(phone)
    if normalized:
        return normalized
    if user_id not in (None, ""):
        return f"{vendor}:{user_id}"
    return None


def chat_content_hash(subject: str | None, turns: Sequence[Turn]) -> str:
    """The version key of a conversation: its subject and its parts (who, when, what).

    Status or assignment changes alone do not make a new version (nothing to re-analyse);
    a new or edited message does.
    """
    return content_hash(
        subject or "",
        [
            [t.speaker, t.speaker_name, t.sent_at.isoformat() if t.sent_at else None, t.text,
             t.meta.get("part_id")]
            for t in turns
        ],
    )


def make_interaction(
    *,
    source: str,
    vendor: str,
    external_id: str,
    turns: list[Turn],
    subject: str | None,
    agent: str | None,
    customer: str | None,
    customer_key_value: str | None,
    queue: str | None,
    started_at: datetime | None,
    raw_ref: str | None,
    metadata: dict[str, Any],
) -> Interaction:
    """Assemble a chat `Interaction` (turns numbered in time order, hash over the parts)."""
    turns.sort(key=lambda t: (t.sent_at is None, t.sent_at or datetime.min, t.seq))
    for i, t in enumerate(turns):
        t.seq = i
    sent = [t.sent_at for t in turns if t.sent_at is not None]
    start = started_at or (sent[0] if sent else None)
    end = sent[-1] if sent else start
    if start is not None and sent and sent[0] < start:
        start = sent[0]
    duration = (end - start).total_seconds() if start is not None and end is not None else None
    return Interaction(
        channel="chat",
        source=source,
        external_id=external_id,
        content_hash=chat_content_hash(subject, turns),
        started_at=start,
        ended_at=end,
        duration=duration,
        agent=agent,
        customer=customer,
        customer_key=customer_key_value,
        queue=queue,
        # who opened it: an agent's first message (a proactive or outbound chat) or the customer
        direction="outbound" if turns and turns[0].speaker == "agent" else "inbound",
        subject=subject or None,
        raw_ref=raw_ref,
        metadata={"vendor": vendor, "bot_handover": _bot_handover(turns), **metadata},
        turns=turns,
    )


def _bot_handover(turns: Sequence[Turn]) -> bool:
    """A bot answered first and a person took over later (containment vs escalation)."""
    speakers = [t.speaker for t in turns]
    if "bot" not in speakers:
        return False
    return "agent" in speakers[speakers.index("bot"):]


def excerpt_of(obj: Any) -> str:
    """A bounded JSON excerpt of a vendor object for the quarantine."""
    try:
        return json.dumps(obj, default=str, ensure_ascii=False)[:EXCERPT_CHARS]
    except (TypeError, ValueError):
        return repr(obj)[:EXCERPT_CHARS]
