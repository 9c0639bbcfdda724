"""IMAP mailboxes (imapclient): incremental by UIDVALIDITY + UID per folder.

Per folder the cursor is `{"uidvalidity": V, "last_uid": U}` (store.sync, key = folder). A
sync searches `UID U+1:*`, fetches the UIDs in batches of `batch_size` (split further so
one round trip holds at most `max_batch_mb`), and commits each batch together with the
cursor after it, so at most one batch is ever held in memory and a crash refetches at most
one batch (which the ledger then dedupes). When the server reports a different UIDVALIDITY
the folder is read again from UID 1; messages the ledger already holds (same Message-ID and
content hash) are skipped, so nothing is duplicated.

A dropped connection (server restart, network cut, timeout) is retried with exponential
backoff and jitter (tenacity); each attempt reconnects and resumes from the committed
cursor. A failed login is not retried: it raises `ImapLoginError` naming the account.
"""

from __future__ import annotations

import contextlib
import imaplib
import logging
import ssl
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Any

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError, LoginError
from tenacity import Retrying, retry_if_exception, wait_exponential_jitter

from connectors.base import Source, SyncReport
from connectors.email.ingest import MailIngestor, RawMail
from connectors.email.options import ImapAccountOptions
from connectors.email.threads import MailSettings
from store import sync
from store.db import Store

log = logging.getLogger(__name__)
MB = 1024 * 1024

#: called after each committed batch: (folder, last committed UID, messages in the batch)
Progress = Callable[[str, int, int], None]


class EmailSourceError(RuntimeError):
    """A mail source cannot be read at all; the message names the account and the cause."""


class ImapLoginError(EmailSourceError):
    """The server refused the credentials (not retried: retrying would not help)."""


def _transient(exc: BaseException) -> bool:
    """Errors a reconnect can cure: dropped/aborted connections and timeouts."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        return False
    return isinstance(exc, imaplib.IMAP4.abort | OSError | EOFError)


class ImapSource(Source):
    """One IMAP account (`[[email.imap]]`); its records are named `imap:<account>`."""

    def __init__(
        self,
        account: ImapAccountOptions,
        password: str,
        *,
        settings: MailSettings | None = None,
        progress: Progress | None = None,
    ) -> None:
        self.account = account
        self._password = password
        self.name = f"imap:{account.name}"
        self.settings = settings or MailSettings()
        self.progress = progress
        self._ingestor = MailIngestor(self.name, self.settings)
        #: how many times the last sync reconnected after a dropped connection
        self.reconnects = 0
        self._batches = 0  # committed batches, so retries can tell progress from none

    def __repr__(self) -> str:  # never show the password
        a = self.account
        return f"ImapSource({a.name!r}, {a.username}@{a.host}:{a.port}, {a.security})"

    # -- sync ----------------------------------------------------------------------------

    def sync(self, store: Store) -> SyncReport:
        """Every configured folder, each resumed from its committed cursor."""
        report = SyncReport(self.name)
        self.reconnects = 0
        for folder in self.account.folders:
            self._sync_folder_retrying(store, folder, report)
        return report

    def _sync_folder_retrying(self, store: Store, folder: str, report: SyncReport) -> None:
        a = self.account
        seen = {"batches": -1, "failures": 0}

        def stop(state: Any) -> bool:
            """Give up after `max_reconnects` drops in a row without a committed batch:
            a flaky link that still makes progress is followed to the end."""
            if self._batches != seen["batches"]:
                seen["batches"], seen["failures"] = self._batches, 0
            seen["failures"] += 1
            return seen["failures"] > a.max_reconnects

        retrying = Retrying(
            retry=retry_if_exception(_transient),
            stop=stop,
            wait=wait_exponential_jitter(
                initial=a.reconnect_initial_seconds,
                max=a.reconnect_max_seconds,
                jitter=a.reconnect_initial_seconds,
            ),
            before_sleep=self._log_retry,
            reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt:
                    if attempt.retry_state.attempt_number > 1:
                        self.reconnects += 1
                    self._sync_folder(store, folder, report)
        except (ImapLoginError, EmailSourceError):
            raise
        except Exception as exc:
            if not _transient(exc):
                raise
            raise EmailSourceError(
                f"IMAP account {a.name!r}: connection to {a.host}:{a.port} failed "
                f"{a.max_reconnects + 1} times in a row, giving up on folder {folder!r} for now "
                f"({type(exc).__name__}: {exc}); committed batches are kept"
            ) from exc

    def _log_retry(self, state: Any) -> None:
        exc = state.outcome.exception() if state.outcome else None
        log.warning(
            "%s: connection lost (%s: %s); reconnecting in %.1fs (attempt %d)",
            self.name, type(exc).__name__, exc, state.next_action.sleep if state.next_action else 0,
            state.attempt_number,
        )

    def _sync_folder(self, store: Store, folder: str, report: SyncReport) -> None:
        with self._connect() as client:
            try:
                info = client.select_folder(folder, readonly=True)
            except imaplib.IMAP4.abort:
                raise
            except IMAPClientError as exc:
                msg = f"{self.name}: cannot open folder {folder!r}: {exc}"
                log.error(msg)
                if msg not in report.errors:
                    report.errors.append(msg)
                return
            uidvalidity = int(info[b"UIDVALIDITY"])
            cursor = sync.get_cursor(store, self.name, key=folder) or {}
            last_uid = int(cursor.get("last_uid", 0))
            if cursor and int(cursor.get("uidvalidity", -1)) != uidvalidity:
                log.warning(
                    "%s/%s: UIDVALIDITY changed %s -> %s; reading the folder again "
                    "(already stored messages are skipped)",
                    self.name, folder, cursor.get("uidvalidity"), uidvalidity,
                )
                last_uid = 0
            uids = sorted(u for u in client.search(["UID", f"{last_uid + 1}:*"]) if u > last_uid)
            for chunk in _chunks(uids, self.account.batch_size):
                for group in self._size_groups(client, chunk):
                    self._fetch_and_store(store, client, folder, uidvalidity, group, report)

    def _size_groups(self, client: IMAPClient, uids: list[int]) -> Iterator[list[tuple[int, int]]]:
        """Split UIDs into runs of at most `max_batch_mb` (by RFC822.SIZE), in UID order."""
        sizes = client.fetch(uids, ["RFC822.SIZE"])
        limit = self.account.max_batch_mb * MB
        group: list[tuple[int, int]] = []
        total = 0
        for uid in uids:
            if uid not in sizes:
                continue  # expunged meanwhile
            size = int(sizes[uid].get(b"RFC822.SIZE", 0))
            if group and total + size > limit:
                yield group
                group, total = [], 0
            group.append((uid, size))
            total += size
        if group:
            yield group

    def _fetch_and_store(
        self,
        store: Store,
        client: IMAPClient,
        folder: str,
        uidvalidity: int,
        group: list[tuple[int, int]],
        report: SyncReport,
    ) -> None:
        max_size = self.account.max_message_mb * MB
        wanted = [uid for uid, size in group if size <= max_size]
        rejected = [
            (
                self._raw(folder, uidvalidity, uid, b"", None),
                f"message is {size / MB:.1f} MB, over max_message_mb = {self.account.max_message_mb}",
            )
            for uid, size in group
            if size > max_size
        ]
        fetched = client.fetch(wanted, ["BODY.PEEK[]", "INTERNALDATE"]) if wanted else {}
        batch = []
        for uid in wanted:
            data = fetched.get(uid)
            if data is None:
                continue  # expunged between SEARCH and FETCH
            raw = data.get(b"BODY[]") or b""
            batch.append(self._raw(folder, uidvalidity, uid, raw, data.get(b"INTERNALDATE")))
        del fetched
        last = group[-1][0]

        def save(con: Any) -> None:
            sync.save_cursor(
                store, self.name, {"uidvalidity": uidvalidity, "last_uid": last}, key=folder, con=con
            )

        report.add(self._ingestor.ingest(store, batch, save, rejected=rejected))
        self._batches += 1
        if self.progress is not None:
            self.progress(folder, last, len(group))

    def _raw(
        self, folder: str, uidvalidity: int, uid: int, raw: bytes, when: datetime | None
    ) -> RawMail:
        where = f"{folder}/{uidvalidity}/{uid}"
        return RawMail(raw=raw, raw_ref=f"{self.name}/{where}", item_key=where, received_at=when)

    # -- connection ----------------------------------------------------------------------

    def _ssl_context(self) -> ssl.SSLContext:
        a = self.account
        ctx = ssl.create_default_context(cafile=a.ca_file or None)
        if not a.verify:
            log.warning("%s: TLS certificate verification is off (verify = false)", self.name)
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        return ctx

    def _connect(self) -> IMAPClient:
        a = self.account
        client = IMAPClient(
            a.host,
            port=a.port,
            ssl=a.security == "tls",
            ssl_context=self._ssl_context() if a.security == "tls" else None,
            timeout=a.timeout_seconds,
        )
        client.normalise_times = False  # keep INTERNALDATE's zone
        try:
            if a.security == "starttls":
                client.starttls(self._ssl_context())
            client.login(a.username, self._password)
        except LoginError as exc:
            _close(client)
            detail = exc.args[0] if exc.args else exc
            if isinstance(detail, bytes):
                detail = detail.decode("utf-8", "replace")
            raise ImapLoginError(
                f"IMAP account {a.name!r}: login as {a.username!r} at {a.host}:{a.port} "
                f"was refused ({detail}); check the username and the password variable"
            ) from None
        except ssl.SSLCertVerificationError as exc:
            _close(client)
            raise EmailSourceError(
                f"IMAP account {a.name!r}: the certificate of {a.host}:{a.port} is not trusted "
                f"({exc.verify_message}); set ca_file to the server's CA"
            ) from exc
        except BaseException:
            _close(client)
            raise
        return client


def _close(client: IMAPClient) -> None:
    with contextlib.suppress(Exception):
        client.shutdown()


def _chunks(items: Sequence[int], size: int) -> Iterator[list[int]]:
    for i in range(0, len(items), size):
        yield list(items[i : i + size])
