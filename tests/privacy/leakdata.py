"""Inputs for the outbound-leak test: chats (a Zendesk export built with the vendor fake),
e-mails (.eml files) and a synthesised call, with PII planted in each, and the needles that
find any planted value in a payload.

Every customer has a distinctive e-mail address (letters only in its local part, so a
miner working on raw text would turn it into cluster terms and phrases), a phone number, a
card number (Luhn-valid) and an SSN; they repeat them across conversations, as people do.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from scriptload import load_script

ROOT = Path(__file__).resolve().parents[2]
DIGIT_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]


def luhn_card(rng: random.Random, prefix: str = "4") -> str:
    body = prefix + "".join(str(rng.randrange(10)) for _ in range(14 - len(prefix) + 1))
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return body + str((10 - total % 10) % 10)


@dataclass
class Person:
    name: str
    email: str
    phone: str  # 10 digits
    card: str  # 16 digits
    ssn: str  # 9 digits

    def values(self) -> dict[str, str]:
        return {"email": self.email, "phone": self.phone, "card": self.card, "ssn": self.ssn,
                "email_local": self.email.split("@")[0].split(".")[0],
                "email_last": self.email.split("@")[0].split(".")[1]}  # fmt: skip


def people(seed: int = 12) -> list[Person]:
    rng = random.Random(seed)
    # names are not a redacted kind; the e-mail local parts are distinctive words
    names = [("Anna Berg", "kelpwyrd", "plumtoad"), ("Carl Dunn", "brixolde", "quandberg"),
             ("Eva Frost", "yvettrix", "monkalby")]
    out = []
    for k, (name, first, last) in enumerate(names):
        out.append(Person(
            name=name, email=f"{first}.{last}@example.org",
            phone=f"212555{1000 + 137 * k + rng.randrange(100):04d}", card=luhn_card(rng),
            ssn=f"{rng.randrange(100, 899)}{rng.randrange(10, 99)}{rng.randrange(1000, 9999)}",
        ))  # fmt: skip
    return out


def spaced(d: str, groups: tuple[int, ...]) -> str:
    out, i = [], 0
    for g in groups:
        out.append(d[i : i + g])
        i += g
    return " ".join(out)


def spoken(d: str) -> str:
    return " ".join(DIGIT_WORDS[int(c)] for c in d)


def pii_sentences(p: Person, k: int) -> list[str]:
    """Ways customers hand over their data (forms the per-turn redactor covers)."""
    phone_fmt = [f"({p.phone[:3]}) {p.phone[3:6]}-{p.phone[6:]}", f"{p.phone[:3]}-{p.phone[3:6]}-{p.phone[6:]}",
                 spoken(p.phone)][k % 3]  # fmt: skip
    card_fmt = [spaced(p.card, (4, 4, 4, 4)), "-".join(spaced(p.card, (4, 4, 4, 4)).split()), spoken(p.card)][k % 3]
    return [
        f"My card number is {card_fmt} if you need it.",
        f"You can reach me at {p.email} or on {phone_fmt}.",
        f"My social is {p.ssn[:3]}-{p.ssn[3:5]}-{p.ssn[5:]} for the verification.",
    ]


BAD = [
    "I was charged twice and the refund never arrived, this is unacceptable.",
    "It is still not working after three calls, I am really angry about this.",
    "Nobody has fixed my billing problem and I want to speak to your manager.",
]
GOOD = [
    "Thanks so much, the refund came through and everything works now.",
    "Great, that fixed it, I really appreciate the quick help.",
    "Perfect, thank you for sorting out my invoice so fast.",
]
AGENT_GOOD = ["Let me fix that for you right away.", "I have credited your account in full."]
AGENT_BAD = ["There is nothing else I can do from here.", "Please wait for the next billing cycle."]


def zendesk_export(path: Path, persons: list[Person], now: datetime, n: int = 42) -> int:
    """`n` chats, half going badly, every one with planted PII; returns tickets written."""
    vendors = load_script("tests/fakes/vendors.py", "convoscope_fake_vendors")
    z = vendors.ZendeskFake()
    z.add_user(361001, "Maria Lopez", "agent", "maria.lopez@acme.example")
    for i, p in enumerate(persons):
        z.add_user(480100 + i, p.name, "end-user", p.email, phone=f"+1{p.phone}")
    rng = random.Random(3)
    for t in range(n):
        p = persons[t % len(persons)]
        bad = t % 2 == 0
        z.clock = int((now - timedelta(days=1 + t % 5, minutes=17 * t)).timestamp())
        z.add_ticket(6000 + t, subject=("Problem with my bill" if bad else "Invoice question"),
                     requester_id=480100 + persons.index(p), assignee_id=361001, tags=["billing"])
        plant = pii_sentences(p, t)
        lines = [(480100 + persons.index(p), rng.choice(BAD if bad else GOOD)),
                 (361001, rng.choice(AGENT_BAD if bad else AGENT_GOOD)),
                 (480100 + persons.index(p), plant[t % 3]),
                 (361001, "Thank you, I have noted that."),
                 (480100 + persons.index(p), plant[(t + 1) % 3] + " " + rng.choice(BAD if bad else GOOD))]
        for author, text in lines:
            z.add_comment(6000 + t, author, text, channel="chat")
    doc = {"tickets": list(z.tickets.values()), "users": list(z.users.values()),
           "groups": list(z.groups.values()), "comments": {str(k): v for k, v in z.comments.items()}}  # fmt: skip
    path.write_text(json.dumps(doc), "utf-8")
    return n


def eml_folder(folder: Path, persons: list[Person], now: datetime, n: int = 9) -> int:
    """`n` e-mails from the customers (PII in subject and body) and the agents' replies."""
    folder.mkdir(parents=True, exist_ok=True)
    for k in range(n):
        p = persons[k % len(persons)]
        sent = now - timedelta(days=1 + k % 4, hours=k)
        msg = EmailMessage()
        msg["From"] = f"{p.name} <{p.email}>"
        msg["To"] = "Acme Billing <billing@acme.example>"
        msg["Subject"] = f"Refund to card {spaced(p.card, (4, 4, 4, 4))}"
        msg["Date"] = format_datetime(sent)
        msg["Message-ID"] = f"<m{k}@mail.example.org>"
        msg.set_content("Hello,\n\n" + " ".join(pii_sentences(p, k)) + "\n" + (BAD if k % 2 else GOOD)[k % 3]
                        + f"\n\nRegards,\n{p.name}\n{p.email}\n")  # fmt: skip
        (folder / f"{k:02d}_in.eml").write_bytes(bytes(msg))
        reply = EmailMessage()
        reply["From"] = "Maria Lopez <maria.lopez@acme.example>"
        reply["To"] = f"{p.name} <{p.email}>"
        reply["Subject"] = f"Re: Refund to card {spaced(p.card, (4, 4, 4, 4))}"
        reply["Date"] = format_datetime(sent + timedelta(hours=2))
        reply["Message-ID"] = f"<r{k}@acme.example>"
        reply["In-Reply-To"] = f"<m{k}@mail.example.org>"
        reply["References"] = f"<m{k}@mail.example.org>"
        reply.set_content(f"Dear {p.name.split()[0]},\n\nLet me fix that for you right away.\n\nMaria\n")
        (folder / f"{k:02d}_out.eml").write_bytes(bytes(reply))
    return n


def call(drop: Path, p: Person, now: datetime) -> Path:
    """One stereo call (espeak-ng + sox, as the sample calls) with a sidecar; the customer
    dictates the card and the phone number in digit words, as on a real line."""
    mc = load_script("samples/make_calls.py", "make_calls")
    lines = [
        mc.Line("agent", "Thank you for calling Acme billing, this call may be recorded. How can I help?"),
        mc.Line("customer", f"I want a refund. My card number is {spoken(p.card)}."),
        mc.Line("agent", "Thank you. And a phone number to call you back?"),
        mc.Line("customer", f"Yes, it is {spoken(p.phone)}."),
        mc.Line("agent", "Thank you, I have noted that."),
    ]
    drop.mkdir(parents=True, exist_ok=True)
    path = drop / "20261201T101500_1042_refund.opus"
    mc.write_opus(path, mc.render(lines, mono=False))
    path.with_suffix(".json").write_text(json.dumps({
        "agent": "1042", "customer": f"+1 {p.phone[:3]} {p.phone[3:6]} {p.phone[6:]}", "queue": "billing",
        "direction": "inbound", "started_at": (now - timedelta(days=1)).astimezone(UTC).isoformat(),
    }))  # fmt: skip
    return path


_SPOKEN_RUN = re.compile(r"\b(" + "|".join(DIGIT_WORDS) + r")(\W+(" + "|".join(DIGIT_WORDS) + r")){3,}\b",
                         re.IGNORECASE)


def needles(persons: list[Person]) -> dict[str, re.Pattern[str]]:
    """label -> pattern finding a planted value in any payload: numbers by their digits with
    any separators ("4111 1111", "4111-1111", "41111111" all count), e-mail addresses and
    their distinctive local-part words, and any run of four or more spoken digit words."""
    out: dict[str, re.Pattern[str]] = {"spoken digit run": _SPOKEN_RUN}
    for i, p in enumerate(persons):
        for kind, value in p.values().items():
            if value.isdigit():
                pat = r"(?<!\d)" + r"[\s().+/-]{0,3}".join(value) + r"(?!\d)"
            else:
                pat = re.escape(value)
            out[f"person{i}.{kind}"] = re.compile(pat, re.IGNORECASE)
    return out


def search(payloads: dict[str, str], pats: dict[str, re.Pattern[str]]) -> list[str]:
    hits = []
    for where, text in payloads.items():
        for label, pat in pats.items():
            m = pat.search(text)
            if m:
                a = max(0, m.start() - 60)
                hits.append(f"{label} in {where}: …{text[a:m.end() + 60]!r}…")
    return hits


def as_text(obj: Any) -> str:
    if isinstance(obj, bytes):
        return obj.decode("utf-8", "replace")
    if isinstance(obj, str):
        return obj
    return json.dumps(obj, default=str, ensure_ascii=False)
