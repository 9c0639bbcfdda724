"""Planted personal data: interactions of two customers written through the real store
paths (connectors' `upsert` and `insert_messages`), with what analysis would have written
(redacted turns, scores, flags) inserted like the analysis job does.

`ANN` is the customer the erasure tests forget; `BOB` must survive them.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from analysis.redaction import redact
from store import flags as store_flags
from store import interactions as store_interactions
from store.db import Store
from store.email import EmailMessageRow, insert_messages
from store.records import Flag, Interaction, Turn, content_hash

ANN = {"email": "ann.planted@example.org", "phone": "+14155550199", "phone_spoken": "415 555 0199",
       "card": "4111 1111 1111 1111", "ssn": "123-45-6789"}  # fmt: skip
BOB = {"email": "bob.keeper@example.net", "phone": "+14155550123"}


def digits(s: str) -> str:
    return re.sub(r"\D", "", s)


def planted_pattern(value: str) -> re.Pattern[str]:
    """A planted value found in any payload: digits with any separators between them
    ("4111 1111", "4111-1111", "41111111" all match); other values case-insensitively."""
    d = digits(value)
    if len(d) >= 7 and not re.search(r"[A-Za-z@]", value):
        return re.compile(r"(?<!\d)" + r"[\s().+-]{0,3}".join(d) + r"(?!\d)")
    return re.compile(re.escape(value), re.IGNORECASE)


def add(store: Store, *, channel: str, ext: str, started_at: datetime, customer: str | None,
        customer_key: str | None, texts: list[tuple[str, str]], subject: str | None = None,
        raw_ref: str | None = None, flags: list[str] = (), speaker_names: dict[str, str] | None = None,  # type: ignore[assignment]
        source: str = "plant") -> int:
    """One analysed interaction: raw turns through `upsert`, redacted text, scores, flags."""
    it = Interaction(
        channel=channel, source=source, external_id=ext, content_hash=content_hash(ext),
        started_at=started_at, ended_at=started_at + timedelta(minutes=3), duration=180.0,
        agent="1042", customer=customer, customer_key=customer_key, queue="billing",
        subject=subject, status="analysed", raw_ref=raw_ref,
        metadata={"sidecar": {"phone": customer}} if customer else {},
        turns=[Turn(seq=i, speaker=s, text=t, start=float(i * 10), end=float(i * 10 + 8),
                    speaker_name=(speaker_names or {}).get(s)) for i, (s, t) in enumerate(texts)],
    )  # fmt: skip
    store_interactions.upsert(store, [it])
    assert it.id is not None
    store.insert_arrow("turn_scores", [
        {"interaction_id": it.id, "seq": i, "sentiment": -0.5, "sentiment_label": "negative",
         "redacted_text": redact(t).text} for i, (_s, t) in enumerate(texts)
    ])  # fmt: skip
    store.insert_arrow("scores", [{"interaction_id": it.id, "version": 1, "sentiment": -2.0,
                                   "anger": 0.7, "top_topic": "billing", "model": "test"}])  # fmt: skip
    if flags:
        store_flags.replace_for_interaction(store, it.id, [
            Flag(interaction_id=it.id, kind=k, severity=3, summary=f'{k} ("{texts[0][1][:60]}", turn 0)',
                 evidence=[{"seq": 0, "matched": texts[0][1][:30]}]) for k in flags
        ])  # fmt: skip
    return it.id


def add_email_thread(store: Store, *, ext: str, started_at: datetime, sender: str, text: str,
                     subject: str) -> int:
    """An e-mail thread: the message in the ledger and the thread as an interaction."""
    insert_messages(store, [EmailMessageRow(
        source="mbox:plant", message_key=f"<{ext}@mail>", message_id=f"<{ext}@mail>",
        content_hash=content_hash(ext), thread_key=ext, sent_at=started_at, from_addr=sender,
        text=text, from_name=sender, to_addrs=["support@acme.example"], subject=subject,
        customer_key=sender, raw_ref=f"/archive/{ext}.eml",
    )])  # fmt: skip
    return add(store, channel="email", ext=ext, started_at=started_at, customer=sender, customer_key=sender,
               texts=[("customer", text), ("agent", "Thanks, we are on it.")], subject=subject,
               speaker_names={"customer": sender}, source="mbox:plant")


def seed_two_customers(store: Store, now: datetime, *, raw_ref: str | None = None) -> dict[str, list[int]]:
    """Ann: a call (by phone), a chat and an e-mail thread (by e-mail address), all carrying
    her card, SSN, e-mail and phone; Bob: a chat and a call. Returns ids per customer."""
    ann = [
        add(store, channel="call", ext="call-ann", started_at=now - timedelta(days=2),
            customer="+1 415 555 0199", customer_key=ANN["phone"], raw_ref=raw_ref,
            texts=[("agent", "Thank you for calling, how can I help?"),
                   ("customer", f"My card is {ANN['card']} and my number is {ANN['phone_spoken']}."),
                   ("customer", f"My social is {ANN['ssn']}, e-mail {ANN['email']}.")],
            flags=["angry_customer"]),
        add(store, channel="chat", ext="chat-ann", started_at=now - timedelta(days=1),
            customer=ANN["email"], customer_key=ANN["email"],
            texts=[("customer", f"Hi, I am {ANN['email']}, card {ANN['card']}"), ("agent", "Let me check.")],
            flags=["churn_risk"], speaker_names={"customer": ANN["email"]}),
        add_email_thread(store, ext="mail-ann", started_at=now - timedelta(hours=5), sender=ANN["email"],
                         text=f"Please call me on {ANN['phone_spoken']}. Card {ANN['card']}.",
                         subject=f"Refund to card {ANN['card']}"),
    ]
    bob = [
        add(store, channel="chat", ext="chat-bob", started_at=now - timedelta(days=1),
            customer=BOB["email"], customer_key=BOB["email"],
            texts=[("customer", "Where is my parcel?"), ("agent", "It ships today.")]),
        add(store, channel="call", ext="call-bob", started_at=now - timedelta(days=3),
            customer=BOB["phone"], customer_key=BOB["phone"],
            texts=[("agent", "Hello"), ("customer", "I want to cancel my account.")], flags=["churn_risk"]),
    ]
    return {"ann": ann, "bob": bob}
