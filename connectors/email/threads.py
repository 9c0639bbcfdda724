"""Who is an agent, which thread a message belongs to, and a thread as one interaction.

Threading follows the headers first (In-Reply-To, then References from the nearest
ancestor back to the root), and only for a message that carries neither falls back to the
normalised subject plus the customer's address within a time window. A thread's key is its
root's Message-ID (References[0] by RFC 5322 convention), so replies that arrive before
their parent still land in the same thread. The interaction is rebuilt from every stored
message of the thread, so it is the same whatever order the messages arrived in.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from store.email import EmailMessageRow
from store.records import Interaction, Turn, content_hash

_SYSTEM_LOCALPARTS = ("mailer-daemon", "postmaster")
#: international phone numbers ("+1 415 555 0134") in a customer's signature
_PHONE = re.compile(r"\+\d[\d \t().-]{6,18}\d")


def phones_in(text: str) -> list[str]:
    """E.164 numbers written in international form in `text` (valid numbers only).

    Calls are keyed by the caller's E.164 number, emails by address; the numbers a
    customer signs with let repeat-contact detection join the two channels.
    """
    found: list[str] = []
    candidates = _PHONE.findall(text)
    if not candidates:
        return found
    import phonenumbers

    for cand in candidates:
        try:
            num = phonenumbers.parse(cand, None)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(num):
            e164 = phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)
            if e164 not in found:
                found.append(e164)
    return found


@dataclass(frozen=True, slots=True)
class MailSettings:
    """The options every mail source shares (from `[email]`)."""

    agent_domains: tuple[str, ...] = ()
    agent_addresses: frozenset[str] = frozenset()
    thread_window_days: int = 30
    strip_quotes: bool = True
    reply_languages: tuple[str, ...] = ("en",)

    @classmethod
    def from_options(cls, options: object) -> MailSettings:
        """Build from an `EmailOptions` (duck-typed so tests can pass a plain namespace)."""
        return cls(
            agent_domains=tuple(d.lower() for d in getattr(options, "agent_domains", ())),
            agent_addresses=frozenset(a.lower() for a in getattr(options, "agent_addresses", ())),
            thread_window_days=int(getattr(options, "thread_window_days", 30)),
            strip_quotes=bool(getattr(options, "strip_quotes", True)),
            reply_languages=tuple(getattr(options, "reply_languages", ("en",))),
        )

    def speaker(self, address: str) -> str:
        """'agent' for configured domains/addresses, 'system' for bounces, else 'customer'."""
        addr = address.lower()
        if addr in self.agent_addresses:
            return "agent"
        local, _, domain = addr.rpartition("@")
        if any(domain == d or domain.endswith("." + d) for d in self.agent_domains):
            return "agent"
        if local in _SYSTEM_LOCALPARTS:
            return "system"
        return "customer"

    def customer_of(self, from_addr: str, recipients: Iterable[str]) -> str | None:
        """The customer side of a message: its sender, or for an agent's mail the first
        recipient who is not an agent."""
        if self.speaker(from_addr) == "customer":
            return from_addr
        return next((r for r in recipients if self.speaker(r) == "customer"), None)


@dataclass(slots=True)
class ThreadCandidate:
    """The threading facts of one new message."""

    message_id: str
    sent_at: datetime
    in_reply_to: list[str]
    references: list[str]
    norm_subject: str
    customer_key: str | None


@dataclass(slots=True)
class ThreadLookups:
    """What the ledger already knows, fetched once per batch."""

    #: Message-ID -> thread key of stored messages referenced by the batch
    by_message_id: dict[str, str]
    #: Message-IDs of the batch that already name a stored thread
    existing_keys: set[str]
    #: (normalised subject, customer) -> (thread key, its last message time)
    by_subject: dict[tuple[str, str], tuple[str, datetime]]


def assign_threads(
    candidates: Sequence[ThreadCandidate], lookups: ThreadLookups, window_days: int
) -> dict[str, str]:
    """Message-ID -> thread key for a batch; parents are placed before their replies."""
    window = timedelta(days=window_days)
    in_batch: dict[str, str] = {}
    keys_in_batch: set[str] = set()
    subject_in_batch: dict[tuple[str, str], tuple[str, datetime]] = {}
    for c in sorted(candidates, key=lambda c: c.sent_at):
        key: str | None = None
        # 1. a referenced message we already have (direct parent first)
        for ref in [*c.in_reply_to, *reversed(c.references)]:
            key = in_batch.get(ref) or lookups.by_message_id.get(ref)
            if key:
                break
        # 2. replies to this message came first and already named a thread after it
        if key is None and (c.message_id in lookups.existing_keys or c.message_id in keys_in_batch):
            key = c.message_id
        # 3. References[0] is the root by convention: stable whatever arrives first
        if key is None and c.references:
            key = c.references[0]
        # 4. same normalised subject and customer, recently (also for a reply whose
        #    In-Reply-To parent we have not seen, e.g. an agent's message in Sent)
        pair = (c.norm_subject, c.customer_key) if c.norm_subject and c.customer_key else None
        if key is None and pair is not None:
            for found in (subject_in_batch.get(pair), lookups.by_subject.get(pair)):
                if found and abs(c.sent_at - found[1]) <= window:
                    key = found[0]
                    break
        # 5. the unseen parent, else a thread of its own
        key = key or (c.in_reply_to[0] if c.in_reply_to else c.message_id)
        in_batch[c.message_id] = key
        keys_in_batch.add(key)
        if pair is not None:
            prev = subject_in_batch.get(pair)
            if prev is None or prev[1] <= c.sent_at:
                subject_in_batch[pair] = (key, c.sent_at)
    return in_batch


def build_interaction(
    source: str, thread_key: str, messages: Sequence[EmailMessageRow], settings: MailSettings
) -> Interaction:
    """One thread -> one interaction; each message one turn, in sending order."""
    rows = sorted(messages, key=lambda m: (m.sent_at, m.message_key))
    turns: list[Turn] = []
    customer: tuple[str | None, str] | None = None
    agent: str | None = None
    participants: set[str] = set()
    phones: list[str] = []
    n_attachments = 0
    for seq, m in enumerate(rows):
        speaker = settings.speaker(m.from_addr)
        participants.update([m.from_addr, *m.to_addrs, *m.cc_addrs])
        if speaker == "customer":
            if customer is None:
                customer = (m.from_name, m.from_addr)
            phones += [p for p in phones_in(m.text) if p not in phones]
        if speaker == "agent" and agent is None:
            agent = m.from_name or m.from_addr
        n_attachments += len(m.meta.get("attachments", []))
        turns.append(
            Turn(
                seq=seq,
                speaker=speaker,
                text=m.text,
                sent_at=m.sent_at,
                speaker_name=m.from_name or m.from_addr,
                meta={
                    "message_id": m.message_id,
                    "from": m.from_addr,
                    "to": m.to_addrs,
                    "cc": m.cc_addrs,
                    "subject": m.subject,
                    "raw_ref": m.raw_ref,
                    **m.meta,
                },
            )
        )
    if customer is None:  # outbound thread nobody answered yet: the addressee
        first = rows[0]
        addr = settings.customer_of(first.from_addr, [*first.to_addrs, *first.cc_addrs])
        customer = (None, addr) if addr else None
    first_speaker = turns[0].speaker if turns else "customer"
    return Interaction(
        channel="email",
        source=source,
        external_id=thread_key,
        content_hash=content_hash(
            [[m.message_key, m.content_hash, t.speaker] for m, t in zip(rows, turns, strict=True)]
        ),
        started_at=rows[0].sent_at,
        ended_at=rows[-1].sent_at,
        agent=agent,
        customer=(customer[0] or customer[1]) if customer else None,
        customer_key=customer[1].lower() if customer else None,
        direction="outbound" if first_speaker == "agent" else "inbound",
        subject=rows[0].subject,
        raw_ref=rows[0].raw_ref,
        metadata={
            "messages": len(rows),
            "participants": sorted(participants),
            "attachments": n_attachments,
            **({"customer_phones": phones} if phones else {}),
        },
        turns=turns,
    )
