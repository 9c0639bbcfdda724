"""Threading, versions, speakers and dedupe, through the batch pipeline into a real DuckDB."""

from __future__ import annotations

from mailtesting import SETTINGS, make_mail

from connectors.email.ingest import MailIngestor, RawMail
from connectors.email.threads import MailSettings
from store import email as email_store
from store import interactions
from store.db import Store
from store.records import Interaction

SOURCE = "mbox:test"


def ingest(store: Store, *raws: bytes, settings: MailSettings = SETTINGS):  # type: ignore[no-untyped-def]
    batch = [RawMail(raw=r, raw_ref=f"test#{i}", item_key=f"k{i}-{hash(r)}") for i, r in enumerate(raws)]
    return MailIngestor(SOURCE, settings).ingest(store, batch)


def threads(store: Store) -> list[Interaction]:
    ids = [r[0] for r in store.conn.execute("SELECT id FROM interactions ORDER BY id").fetchall()]
    return interactions.get_many(store, ids)


def test_reply_chain_is_one_interaction_with_a_turn_per_message(store: Store) -> None:
    q = make_mail(1, subject="Refund for order 77")
    a = make_mail(2, sender="Dana <dana@acme.test>", to="customer1@example.org",
                  subject="Re: Refund for order 77", reply_to="m1@test", refs=["m1@test"],
                  body="Refund issued today.\n\nOn Mon, Customer 1 wrote:\n> Hello")  # fmt: skip
    r = make_mail(3, subject="Re: Re: Refund for order 77", reply_to="m2@test",
                  refs=["m1@test", "m2@test"], body="Thanks, got it!")  # fmt: skip
    report = ingest(store, r, q, a)  # arrival order does not matter
    assert report.inserted == 1
    [t] = threads(store)
    assert t.external_id == "m1@test" and t.channel == "email"
    assert [x.speaker for x in t.turns] == ["customer", "agent", "customer"]
    assert [x.text for x in t.turns][1:] == ["Refund issued today.", "Thanks, got it!"]
    assert t.customer_key == "customer1@example.org" and t.agent == "Dana"
    assert t.direction == "inbound" and t.subject == "Refund for order 77"
    assert t.started_at is not None and t.ended_at is not None and t.started_at < t.ended_at
    assert t.metadata["messages"] == 3
    assert t.turns[1].meta["message_id"] == "m2@test" and t.turns[1].meta["raw_ref"]


def test_a_thread_gaining_a_message_becomes_a_new_version(store: Store) -> None:
    ingest(store, make_mail(1), make_mail(2, sender="dana@acme.test", to="customer1@example.org",
                                          reply_to="m1@test", refs=["m1@test"]))  # fmt: skip
    [before] = threads(store)
    report = ingest(store, make_mail(3, reply_to="m2@test", refs=["m1@test", "m2@test"]))
    assert (report.inserted, report.updated) == (0, 1)
    [after] = threads(store)
    assert after.id == before.id and after.version == before.version + 1
    assert after.content_hash != before.content_hash and len(after.turns) == 3
    again = ingest(store, make_mail(3, reply_to="m2@test", refs=["m1@test", "m2@test"]))
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 1)
    assert threads(store)[0].version == after.version


def test_reply_arriving_before_its_parent_lands_in_the_same_thread(store: Store) -> None:
    ingest(store, make_mail(2, sender="dana@acme.test", to="customer1@example.org",
                            reply_to="m1@test"))  # fmt: skip  (only In-Reply-To)
    ingest(store, make_mail(1))  # the parent, without any reference headers
    [t] = threads(store)
    assert t.external_id == "m1@test" and len(t.turns) == 2
    assert [x.speaker for x in t.turns] == ["customer", "agent"]


def test_references_root_keys_the_thread_even_when_the_root_is_missing(store: Store) -> None:
    ingest(store, make_mail(3, refs=["m1@test", "m2@test"], reply_to="m2@test"))
    ingest(store, make_mail(2, sender="dana@acme.test", refs=["m1@test"], reply_to="m1@test",
                            to="customer3@example.org"))  # fmt: skip
    assert [t.external_id for t in threads(store)] == ["m1@test"]


def test_subject_and_customer_thread_messages_without_reference_headers(store: Store) -> None:
    ingest(store, make_mail(1, sender="anna@example.org", subject="Broken kettle", minutes=0))
    ingest(
        store,
        make_mail(2, sender="anna@example.org", subject="RE: broken  kettle", minutes=60),
        make_mail(3, sender="bert@example.org", subject="Broken kettle", minutes=70),
        make_mail(4, sender="anna@example.org", subject="Broken kettle", minutes=60 * 24 * 45),
    )
    got = {t.customer_key: [] for t in threads(store)}
    for t in threads(store):
        got[t.customer_key].append(len(t.turns))  # type: ignore[index]
    # anna's follow-up joins her thread; bert's is his own; anna 45 days later is a new one
    assert sorted(got["anna@example.org"]) == [1, 2]
    assert got["bert@example.org"] == [1]


def test_speakers_from_agent_domains_and_addresses(store: Store) -> None:
    settings = MailSettings(agent_domains=("acme.test",),
                            agent_addresses=frozenset({"helper@outsourcer.example"}))  # fmt: skip
    assert settings.speaker("dana@acme.test") == "agent"
    assert settings.speaker("dana@eu.acme.test") == "agent"  # subdomain
    assert settings.speaker("dana@notacme.test") == "customer"
    assert settings.speaker("helper@outsourcer.example") == "agent"
    assert settings.speaker("MAILER-DAEMON@mx.example.org") == "system"
    # an outbound thread: the customer is the addressee
    ingest(store, make_mail(1, sender="Dana <dana@acme.test>", to="Carl <carl@example.org>"),
           settings=settings)  # fmt: skip
    [t] = threads(store)
    assert (t.direction, t.customer_key, t.agent) == ("outbound", "carl@example.org", "Dana")


def test_duplicates_and_message_id_collisions(store: Store) -> None:
    one = make_mail(1)
    report = ingest(store, one, one)  # the same message twice in a batch
    assert report.inserted == 1
    assert ingest(store, one).unchanged == 1  # and again later: a duplicate, skipped
    other = make_mail(1, body="A different message that reuses the Message-ID.")
    ingest(store, other)
    assert email_store.count_messages(store, SOURCE) == 2  # both kept, never merged away
    [t] = threads(store)
    assert len(t.turns) == 2


def test_unparseable_message_is_quarantined_and_the_batch_goes_on(store: Store) -> None:
    report = ingest(store, make_mail(1), b"\x00\x01\x02 not mail", make_mail(2))
    assert (report.inserted, report.quarantined) == (2, 1)
    row = store.conn.execute("SELECT reason, raw_ref FROM quarantine").fetchone()
    assert row is not None and "not an RFC 5322 message" in row[0] and row[1] == "test#1"


def test_in_reply_to_only_reply_to_an_unseen_message_joins_by_subject(store: Store) -> None:
    # INBOX is read before Sent: the customer's second mail (In-Reply-To the agent's answer,
    # no References) arrives before that answer does.
    ingest(store, make_mail(1, sender="anna@example.org", subject="Broken kettle"))
    ingest(store, make_mail(3, sender="anna@example.org", subject="Re: Broken kettle",
                            reply_to="m2@test"))  # fmt: skip
    ingest(store, make_mail(2, sender="dana@acme.test", to="anna@example.org",
                            subject="Re: Broken kettle", reply_to="m1@test"))  # fmt: skip
    [t] = threads(store)
    assert [x.speaker for x in t.turns] == ["customer", "agent", "customer"]
    assert t.external_id == "m1@test"
