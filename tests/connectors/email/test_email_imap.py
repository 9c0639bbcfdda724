"""ImapSource against a real Dovecot: sync, increments, UIDVALIDITY, TLS, drops, bad login."""

from __future__ import annotations

import pytest
from mailtesting import SETTINGS, Dovecot, make_mail, real_world_corpus

from connectors.email import EmailSourceError, ImapLoginError, ImapSource
from store import email as email_store
from store import interactions, quarantine, sync
from store.db import Store

pytestmark = pytest.mark.dovecot


def _count(store: Store) -> tuple[int, int]:
    row = store.conn.execute(
        "SELECT count(*), (SELECT count(*) FROM turns) FROM interactions WHERE channel = 'email'"
    ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def test_initial_then_incremental_sync(dovecot: Dovecot, store: Store) -> None:
    # 250 customer questions, 30 of them answered by an agent (threaded by In-Reply-To)
    msgs = [make_mail(i) for i in range(250)]
    msgs += [
        make_mail(1000 + i, sender="Bob <bob@acme.test>", to=f"customer{i}@example.org",
                  subject=f"Re: Question number {i}", reply_to=f"m{i}@test",
                  refs=[f"m{i}@test"], minutes=500 + i, body="We refunded it. Bob")
        for i in range(30)
    ]  # fmt: skip
    dovecot.append("INBOX", msgs)
    src = ImapSource(dovecot.account(batch_size=200), "s3cret-pw", settings=SETTINGS)
    assert src.name == "imap:support"
    report = src.sync(store)
    assert report.inserted == 250 and report.quarantined == 0, report.line()
    assert _count(store) == (250, 280)
    cursor = sync.get_cursor(store, src.name, key="INBOX")
    assert cursor is not None and cursor["last_uid"] == 280

    [(iid, _h, _v)] = interactions.existing_hashes(store, src.name, ["m3@test"]).values()
    thread = interactions.get(store, iid)
    assert thread is not None
    assert [t.speaker for t in thread.turns] == ["customer", "agent"]
    assert thread.customer_key == "customer3@example.org"
    assert thread.turns[1].text == "We refunded it. Bob"
    assert thread.turns[0].sent_at is not None
    assert thread.version == 2  # the reply arrived in the second batch: a new version

    # nothing new: nothing written
    again = src.sync(store)
    assert (again.inserted, again.updated) == (0, 0)
    # a new reply to (so far unanswered) thread 100 and a brand-new thread
    dovecot.append("INBOX", [
        make_mail(2000, sender="bob@acme.test", to="customer100@example.org",
                  subject="Re: Question number 100", reply_to="m100@test", refs=["m100@test"],
                  minutes=900),
        make_mail(3000),
    ])  # fmt: skip
    inc = src.sync(store)
    assert (inc.inserted, inc.updated) == (1, 1), inc.line()
    assert _count(store) == (251, 282)
    ext = interactions.existing_hashes(store, src.name, ["m100@test"])["m100@test"]
    assert ext[2] == 2  # thread 100 is now version 2 of the same interaction


def test_uidvalidity_reset_creates_no_duplicates(dovecot: Dovecot, store: Store) -> None:
    dovecot.append("INBOX", [make_mail(i) for i in range(20)])
    src = ImapSource(dovecot.account(), "s3cret-pw", settings=SETTINGS)
    src.sync(store)
    before = sync.get_cursor(store, src.name, key="INBOX")
    assert before is not None
    dovecot.set_uidvalidity("INBOX", before["uidvalidity"] + 7)
    dovecot.append("INBOX", [make_mail(99)])
    report = src.sync(store)
    after = sync.get_cursor(store, src.name, key="INBOX")
    assert after is not None and after["uidvalidity"] == before["uidvalidity"] + 7
    assert report.inserted == 1 and report.updated == 0, report.line()
    assert _count(store) == (21, 21)
    assert email_store.count_messages(store, src.name) == 21


def test_recreated_folder_with_same_messages_is_deduplicated(dovecot: Dovecot, store: Store) -> None:
    msgs = [make_mail(i) for i in range(10)]
    dovecot.append("Support", msgs)
    src = ImapSource(dovecot.account(folders=["Support"]), "s3cret-pw", settings=SETTINGS)
    src.sync(store)
    before = sync.get_cursor(store, src.name, key="Support")
    c = dovecot.client()
    c.delete_folder("Support")
    c.logout()
    dovecot.append("Support", [*msgs, make_mail(10)])  # new folder, new UIDVALIDITY
    report = src.sync(store)
    after = sync.get_cursor(store, src.name, key="Support")
    assert before and after and before["uidvalidity"] != after["uidvalidity"]
    assert after["last_uid"] == 11
    assert report.inserted == 1
    assert _count(store) == (11, 11)


def test_starttls_with_self_signed_certificate(dovecot: Dovecot, store: Store) -> None:
    dovecot.append("INBOX", [make_mail(i) for i in range(3)])
    trusted = ImapSource(
        dovecot.account(security="starttls", ca_file=str(dovecot.cert)), "s3cret-pw",
        settings=SETTINGS,
    )
    assert trusted.sync(store).inserted == 3
    untrusted = ImapSource(dovecot.account(name="other", security="starttls"), "s3cret-pw")
    with pytest.raises(EmailSourceError, match=r"not trusted.*ca_file"):
        untrusted.sync(store)


def test_dropped_connection_between_batches_resumes_without_loss(
    dovecot: Dovecot, store: Store
) -> None:
    dovecot.append("INBOX", [make_mail(i) for i in range(450)])
    kicked: list[int] = []

    def progress(folder: str, last_uid: int, n: int) -> None:
        if last_uid < 450:  # the server drops us after every committed batch
            kicked.append(last_uid)
            dovecot.kick()

    # one reconnect allowed in a row: enough, because every drop follows progress
    src = ImapSource(dovecot.account(batch_size=200, max_reconnects=1), "s3cret-pw",
                     settings=SETTINGS, progress=progress)  # fmt: skip
    report = src.sync(store)
    assert kicked == [200, 400]
    assert src.reconnects == 2
    assert report.inserted == 450 and report.quarantined == 0
    assert _count(store) == (450, 450)


def test_server_restart_mid_sync_resumes_from_committed_cursor(
    dovecot: Dovecot, store: Store
) -> None:
    dovecot.append("INBOX", [make_mail(i) for i in range(450)])
    seen: list[int] = []

    def progress(folder: str, last_uid: int, n: int) -> None:
        seen.append(last_uid)
        if len(seen) == 1:
            dovecot.restart()

    src = ImapSource(dovecot.account(batch_size=200), "s3cret-pw", settings=SETTINGS,
                     progress=progress)  # fmt: skip
    report = src.sync(store)
    assert seen == [200, 400, 450]
    assert report.inserted == 450
    assert _count(store) == (450, 450)


def test_server_gone_gives_a_clear_error_after_retries(dovecot: Dovecot, store: Store) -> None:
    account = dovecot.account(max_reconnects=2)
    dovecot.stop()
    with pytest.raises(EmailSourceError, match=r"'support'.*failed 3 times"):
        ImapSource(account, "s3cret-pw").sync(store)


def test_bad_credentials_are_reported_clearly_and_not_retried(
    dovecot: Dovecot, store: Store
) -> None:
    src = ImapSource(dovecot.account(max_reconnects=5), "wrong-password")
    with pytest.raises(ImapLoginError) as err:
        src.sync(store)
    text = str(err.value)
    assert "'support'" in text and "agentdesk" in text and "refused" in text
    assert "wrong-password" not in text
    assert src.reconnects == 0


def test_missing_folder_is_reported_and_other_folders_still_sync(
    dovecot: Dovecot, store: Store
) -> None:
    dovecot.append("INBOX", [make_mail(1)])
    src = ImapSource(dovecot.account(folders=["Nope", "INBOX"]), "s3cret-pw", settings=SETTINGS)
    report = src.sync(store)
    assert report.inserted == 1
    assert any("Nope" in e for e in report.errors)


def test_oversized_message_is_quarantined_with_its_uid(dovecot: Dovecot, store: Store) -> None:
    big = make_mail(1, body="x" * (2 * 1024 * 1024))
    dovecot.append("INBOX", [make_mail(0), big, make_mail(2)])
    src = ImapSource(dovecot.account(max_message_mb=1), "s3cret-pw", settings=SETTINGS)
    report = src.sync(store)
    assert (report.inserted, report.quarantined) == (2, 1)
    [item] = quarantine.list_items(store, src.name)
    assert "max_message_mb" in item.reason
    assert item.raw_ref is not None and item.raw_ref.startswith("imap:support/INBOX/")
    assert item.raw_ref.endswith("/2")


def _all_accounted(store: Store, source: str, n: int) -> None:
    """Every appended message is either in the ledger or in quarantine: none lost."""
    stored = email_store.count_messages(store, source)
    quarantined = len(quarantine.list_items(store, source))
    assert stored + quarantined == n


def test_real_world_messages_are_ingested_or_quarantined(dovecot: Dovecot, store: Store) -> None:
    corpus = real_world_corpus()
    dovecot.append("INBOX", list(corpus.values()))
    src = ImapSource(dovecot.account(), "s3cret-pw", settings=SETTINGS)
    report = src.sync(store)
    bad = [name for name in corpus if name.startswith("bad_")]
    assert report.quarantined == len(bad)
    _all_accounted(store, src.name, len(corpus))
    reasons = {item.reason.split(":")[0] for item in quarantine.list_items(store, src.name)}
    assert reasons == {"no From header", "From header has no e-mail address",
                       "no header section"}  # fmt: skip
    for item in quarantine.list_items(store, src.name):
        assert item.raw_ref and item.raw_ref.startswith("imap:support/INBOX/")
    # the message without a Date got the server's INTERNALDATE
    row = store.conn.execute(
        "SELECT sent_at, meta->>'date_source' FROM email_messages WHERE message_id = 'nodate-1@example.org'"
    ).fetchone()
    assert row is not None and row[1] == "received"
    # a second run adds nothing and re-quarantines nothing new
    again = src.sync(store)
    assert (again.inserted, again.updated, again.quarantined) == (0, 0, 0)


@pytest.mark.slow
def test_25_mb_attachment_over_imap(dovecot: Dovecot, store: Store) -> None:
    big = real_world_corpus(big_attachment_mb=25)["big_attachment"]
    dovecot.append("INBOX", [make_mail(1), big, make_mail(2)])
    src = ImapSource(dovecot.account(), "s3cret-pw", settings=SETTINGS)
    report = src.sync(store)
    assert (report.inserted, report.quarantined) == (3, 0)
    meta = store.conn.execute(
        "SELECT meta FROM email_messages WHERE message_id = 'big-1@example.org'"
    ).fetchone()
    assert meta is not None and '"size": 26214400' in meta[0]
