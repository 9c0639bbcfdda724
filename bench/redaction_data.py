"""Build the labelled redaction sets: bench/data/redaction_dev.jsonl and redaction_heldout.jsonl.

    python bench/redaction_data.py [--templates PATH/templates.txt]

Each item is a conversation (turns with speaker and text) and its PII as character
pieces per turn, so a card read over four turns is one entity with four (or more, with
the agent's read-back) pieces. Values come from Faker (Luhn-valid card numbers, ABA
routing numbers with their checksum, IBANs with mod-97, addresses, birth dates); the
phrasings are templates in this file, split in two disjoint families: `dev` (what the
recognisers were tuned against) and `held` (written separately, never used for tuning).
The held-out file also fills the written, chat-style templates of Microsoft's
presidio-evaluator (MIT licence; its `templates.txt` ships in the presidio_evaluator
wheel) when `--templates` points at that file.

Spoken forms: digit by digit, "oh" or "zero", "double"/"triple", tens ("forty five"),
groups split by commas, fillers ("uh", "um", "sorry"), self-corrections, the agent's
"mm-hmm" between groups and read-backs, ASR noise (lower case, no punctuation, a lost
digit). Negatives: order and ticket numbers, tracking ids, prices, times, dates that are
not birth dates, quantities.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from pathlib import Path
from typing import Any

from faker import Faker

ROOT = Path(__file__).resolve().parents[1]
WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
TEENS = ["ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"]
ACKS = ["mm-hmm", "yes", "okay", "uh-huh", "Mm-hmm.", "Yes.", "Okay, go on.", "Got it.", "Right.", "yep", "Sure, go ahead.", "OK"]
FILLERS = ["uh", "um", "sorry", "uh,", "um,", "erm"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December"]  # fmt: skip
ORD = ["", "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth",
       "eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth", "sixteenth", "seventeenth",
       "eighteenth", "nineteenth", "twentieth", "twenty first", "twenty second", "twenty third",
       "twenty fourth", "twenty fifth", "twenty sixth", "twenty seventh", "twenty eighth",
       "twenty ninth", "thirtieth", "thirty first"]  # fmt: skip


class Conv:
    """A conversation under construction; parts are text or (entity key, kind, text)."""

    def __init__(self, source: str, channel: str = "call") -> None:
        self.source = source
        self.channel = channel
        self.turns: list[dict[str, str]] = []
        self.ents: dict[str, dict[str, Any]] = {}
        #: ASR-style noise applied to every part as it is said (offsets stay right)
        self.noisy = False

    def _n(self, s: str) -> str:
        return re.sub(r"[,.]", "", s).lower() if self.noisy else s

    def say(self, speaker: str, *parts: str | tuple[str, str, str]) -> Conv:
        text = ""
        for p in parts:
            if isinstance(p, str):
                text += self._n(p)
                continue
            key, kind, val = p
            val = self._n(val)
            ent = self.ents.setdefault(key, {"kind": kind, "pieces": []})
            ent["pieces"].append([len(self.turns), len(text), len(text) + len(val)])
            text += val
        self.turns.append({"speaker": speaker, "text": text})
        return self

    def item(self, split: str, n: int) -> dict[str, Any]:
        return {"id": f"{split}-{n:04d}", "split": split, "source": self.source, "channel": self.channel,
                "turns": self.turns, "pii": list(self.ents.values())}


class Verbal:
    """Ways people say and ASR writes numbers."""

    def __init__(self, rng: random.Random) -> None:
        self.r = rng

    def digit(self, d: str) -> str:
        if d == "0":
            return self.r.choice(["oh", "zero", "oh", "zero", "o"])
        return WORDS[int(d)]

    def spoken(self, digits: str, repeats: bool = True) -> str:
        out: list[str] = []
        i = 0
        while i < len(digits):
            d = digits[i]
            if repeats and i + 2 < len(digits) and digits[i + 1] == d and digits[i + 2] == d and self.r.random() < 0.4:
                out.append("triple " + self.digit(d))
                i += 3
                continue
            if repeats and i + 1 < len(digits) and digits[i + 1] == d and self.r.random() < 0.5:
                out.append(self.r.choice(["double ", "double-"]) + self.digit(d))
                i += 2
                continue
            out.append(self.digit(d))
            i += 1
        return " ".join(out)

    def pair(self, two: str) -> str:
        """A two-digit group as a number: 45 -> forty five, 07 -> oh seven."""
        a, b = int(two[0]), int(two[1])
        if a == 0:
            return "oh " + WORDS[b]
        if a == 1:
            return TEENS[b]
        return TENS[a] + ("" if b == 0 else " " + WORDS[b]) if self.r.random() < 0.7 else TENS[a] + ("" if b == 0 else "-" + WORDS[b])

    def group(self, g: str) -> str:
        """One group, spoken digit by digit, as pairs, or written."""
        x = self.r.random()
        if x < 0.55:
            return self.spoken(g)
        if x < 0.75 and len(g) % 2 == 0 and g[0] != "0":
            return " ".join(self.pair(g[k : k + 2]) for k in range(0, len(g), 2))
        if x < 0.9:
            return g
        return self.spoken(g, repeats=False)

    def joined(self, groups: list[str], fillers: bool = True) -> str:
        sep = self.r.choice([", ", " ", " - ", ". ", ", "])
        out = []
        for k, g in enumerate(groups):
            out.append(self.group(g))
            if k < len(groups) - 1:
                if fillers and self.r.random() < 0.25:
                    out.append(f"{sep}{self.r.choice(FILLERS)} ")
                else:
                    out.append(sep)
        return "".join(out)

    def written(self, groups: list[str]) -> str:
        return self.r.choice([" ", "-", "", " "]).join(groups)


def split_groups(d: str, sizes: list[int]) -> list[str]:
    out, i = [], 0
    for s in sizes:
        out.append(d[i : i + s])
        i += s
    if i < len(d):
        out.append(d[i:])
    return [g for g in out if g]


def card_groups(num: str) -> list[str]:
    if len(num) == 15:
        return split_groups(num, [4, 6, 5])
    return split_groups(num, [4, 4, 4, 4, 3])


# ---- phrasing families ------------------------------------------------------------------------------

FAM: dict[str, dict[str, list[str]]] = {
    "dev": {
        "card_ask": ["Can I take the long card number please?", "What's the card number?",
                     "Go ahead with the sixteen digit card number.", "And the number on the front of the card?"],
        "card_lead": ["Sure, it is ", "yeah it's ", "okay so ", "", "it's "],
        "card_self": ["My card number is ", "the visa is ", "my credit card is ", "Card: "],
        "cvv_ask": ["And the security code on the back?", "And the three digit CVV?"],
        "cvv_self": [" Security code ", " and the CVV is ", " the security code is "],
        "exp_ask": ["And the expiry date?", "When does the card expire?"],
        "exp_self": [" expiry ", " it expires ", " expiration date "],
        "ssn": ["my social is {v}", "My SSN is {v}.", "social security number {v}", "the last four of my social are {v}"],
        "ssn_ask": ["Can you verify your social security number?", "I need your SSN please."],
        "phone": ["you can reach me on {v}", "my phone number is {v}", "call me back at {v} please", "my cell is {v}"],
        "email": ["my email is {v}", "send it to {v} please", "it's {v}"],
        "iban": ["my IBAN is {v}", "IBAN {v} please"],
        "acct": ["my account number is {v}", "bank account {v}"],
        "routing": ["the routing number is {v}", "routing {v}"],
        "dob": ["my date of birth is {v}", "I was born on {v}", "DOB {v}"],
        "dob_ask": ["Can you confirm your date of birth?", "And your date of birth please?"],
        "addr": ["I live at {v}", "send it to {v}", "my address is {v}"],
    },
    "held": {
        "card_ask": ["Could you read me the card number, please?", "Please go ahead with your card details.",
                     "Which card would you like to use? Read me the number."],
        "card_lead": ["Right, ", "uh ", "yes, so it's ", "Okay. "],
        "card_self": ["I'd like to pay with my debit card, ", "the mastercard number is ", "charge it to card "],
        "cvv_ask": ["Lastly the CVC, the last three digits on the signature strip?", "What's the card verification code?"],
        "cvv_self": [". The CVV two is ", ", security number ", ". CVC "],
        "exp_ask": ["What's the expiration date on it?", "And the valid thru date?"],
        "exp_self": [" expiration ", " valid thru ", ", exp date "],
        "ssn": ["sure the social security is {v}", "For verification, SSN {v}", "my social security number would be {v}",
                "last four digits of my social: {v}"],
        "ssn_ask": ["For security, what's your social?", "Please read me your social security number."],
        "phone": ["the best number to call is {v}", "text me at {v}", "my mobile: {v}", "phone {v}"],
        "email": ["you can email me at {v}", "the address on file should be {v}", "write to {v}"],
        "iban": ["transfer it to IBAN {v}", "the i ban is {v}"],
        "acct": ["my checking account number is {v}", "acct {v}"],
        "routing": ["ABA number {v}", "the bank routing is {v}"],
        "dob": ["birthday is {v}", "my birth date is {v}", "born {v}"],
        "dob_ask": ["What's your DOB?", "Could I have your date of birth for verification?"],
        "addr": ["please ship to {v}", "the delivery address is {v}", "we moved to {v}"],
    },
}


class Gen:
    def __init__(self, fam: str, seed: int) -> None:
        self.r = random.Random(seed)
        self.f = Faker("en_US")
        self.f.seed_instance(seed)
        self.v = Verbal(self.r)
        self.p = FAM[fam]
        self.fam = fam

    def pick(self, key: str) -> str:
        return self.r.choice(self.p[key])

    # -- cards, codes, expiry -------------------------------------------------------------------------

    def card_number(self) -> str:
        kind = self.r.choice(["visa16", "mastercard", "mastercard", "visa16", "amex", "discover"])
        return self.f.credit_card_number(card_type=kind)

    def card(self, k: int) -> Conv:
        """A card read in groups over `k` customer turns, then maybe its code and expiry."""
        num = self.card_number()
        lost = self.r.random() < 0.08  # ASR lost a digit: Luhn fails, the cue must carry it
        if lost:
            cut = self.r.randrange(len(num))
            num = num[:cut] + num[cut + 1 :]
        groups = card_groups(num)
        written = self.r.random() < 0.3
        c = Conv(f"card:{k}-turns{'+lost' if lost else ''}{'+written' if written else ''}")
        c.noisy = self.r.random() < 0.3
        ask = self.r.random() < 0.7
        if ask:
            c.say("agent", self.pick("card_ask"))
        # distribute the groups over k turns
        k = min(k, len(groups))
        cuts = sorted(self.r.sample(range(1, len(groups)), k - 1)) if k > 1 else []
        chunks = [groups[a:b] for a, b in zip([0, *cuts], [*cuts, len(groups)], strict=True)]
        correction = self.r.random() < 0.15
        for idx, chunk in enumerate(chunks):
            lead = (self.pick("card_lead") if ask else self.pick("card_self")) if idx == 0 else self.r.choice(["", "", "and ", "then "])
            if written:
                said = self.v.written(chunk) if self.r.random() < 0.7 else self.v.joined(chunk, fillers=False)
            else:
                said = self.v.joined(chunk)
            if correction and idx == len(chunks) - 1:
                wrong = str((int(chunk[0][0]) + 1) % 10) + chunk[0][1:]
                said = self.v.group(wrong) + self.r.choice([", no sorry, ", " - no, ", ", I mean ", ", wait, "]) + said
            tail = ""
            extra: list[str | tuple[str, str, str]] = []
            if idx == len(chunks) - 1 and self.r.random() < 0.4:
                cvv = "".join(self.r.choice("0123456789") for _ in range(4 if len(num) == 15 else 3))
                extra = [self.pick("cvv_self"), ("cvv", "CVV", self.v.spoken(cvv) if self.r.random() < 0.7 else cvv), "."]
            c.say("customer", lead, ("card", "CARD", said), tail, *extra)
            if idx < len(chunks) - 1:
                if self.r.random() < 0.2 and not written:
                    c.say("agent", ("card", "CARD", self.v.spoken(chunk[-1], repeats=False)), self.r.choice([", okay.", ", got it", ""]))
                else:
                    c.say("agent", self.r.choice(ACKS))
        if not any(e["kind"] == "CVV" for e in c.ents.values()) and self.r.random() < 0.7:
            if self.r.random() < 0.5:
                c.say("agent", self.pick("exp_ask"))
                c.say("customer", self.r.choice(["", "it's ", "uh "]), ("exp", "EXPIRY", self.expiry()))
            c.say("agent", self.pick("cvv_ask"))
            cvv = "".join(self.r.choice("0123456789") for _ in range(3))
            c.say("customer", self.r.choice(["", "it's ", "uh ", "that's "]), ("cvv", "CVV", self.v.spoken(cvv) if self.r.random() < 0.6 else cvv))
        return c

    def expiry(self) -> str:
        m = self.r.randint(1, 12)
        y = self.r.randint(25, 34)
        forms = [f"{m:02d}/{y}", f"{m:02d} {y}", f"{self.v.digit('0') if m < 10 else ''} {WORDS[m] if m < 10 else self.v.pair(str(m))} {self.v.pair(str(y))}".strip(),
                 f"{MONTHS[m - 1]} 20{y}", f"{MONTHS[m - 1]} twenty {self.v.pair(str(y))}", f"{m:02d}/20{y}"]
        return self.r.choice(forms)

    def card_with_self_cues(self) -> Conv:
        """Everything in one customer turn: card, then expiry and code after their cues."""
        num = self.card_number()
        c = Conv("card:one-turn-cues", self.r.choice(["call", "chat"]))
        said = self.v.written(card_groups(num)) if c.channel == "chat" else self.v.joined(card_groups(num))
        parts: list[str | tuple[str, str, str]] = [self.pick("card_self"), ("card", "CARD", said)]
        if self.r.random() < 0.7:
            parts += [",", self.pick("exp_self"), ("exp", "EXPIRY", self.expiry())]
        cvv = "".join(self.r.choice("0123456789") for _ in range(3))
        parts += [self.pick("cvv_self"), ("cvv", "CVV", cvv if c.channel == "chat" else self.v.spoken(cvv)), "."]
        return c.say("agent", "How would you like to pay?").say("customer", *parts)

    # -- the other kinds -----------------------------------------------------------------------------

    def ssn(self) -> Conv:
        s = self.f.ssn().replace("-", "")
        g = [s[:3], s[3:5], s[5:]]
        form = self.r.choice(["dash", "space", "compact", "spoken", "spoken_groups", "pairs"])
        v = {"dash": "-".join(g), "space": " ".join(g), "compact": s, "spoken": self.v.spoken(s),
             "spoken_groups": ", ".join(self.v.spoken(x) for x in g),
             "pairs": f"{self.v.spoken(g[0])}, {self.v.pair(g[1])}, {self.v.spoken(g[2])}"}[form]
        tpl = self.pick("ssn")
        if "four" in tpl:
            v = s[5:] if self.r.random() < 0.5 else self.v.spoken(s[5:])
        c = Conv(f"ssn:{form}")
        if self.r.random() < 0.4:
            c.say("agent", self.pick("ssn_ask"))
        a, b = tpl.split("{v}")
        return c.say("customer", a, ("ssn", "SSN", v), b)

    def phone(self) -> Conv:
        area, ex, line = f"{self.r.randint(201, 989)}", f"{self.r.randint(200, 999)}", f"{self.r.randint(0, 9999):04d}"
        form = self.r.choice(["paren", "dash", "dots", "spoken", "spoken", "intl", "plus_spoken", "with1"])
        v = {"paren": f"({area}) {ex}-{line}", "dash": f"{area}-{ex}-{line}", "dots": f"{area}.{ex}.{line}",
             "spoken": self.v.joined([area, ex, line]), "with1": f"1-{area}-{ex}-{line}",
             "intl": self.r.choice(["+44 20 7946 0958", "+44 7700 900123", "+49 30 901820", "+33 1 42 68 53 00", "+1 415 555 0134"]),
             "plus_spoken": "plus four four " + self.v.joined(["20", "7946", "0" + str(self.r.randint(100, 999))], fillers=False)}[form]
        tpl = self.pick("phone")
        a, b = tpl.split("{v}")
        return Conv(f"phone:{form}").say("customer", a, ("ph", "PHONE", v), b)

    def email(self) -> Conv:
        first, last = self.f.first_name().lower(), self.f.last_name().lower()
        dom = self.r.choice(["gmail", "yahoo", "outlook", "example", "hotmail", self.f.domain_word()])
        tld = self.r.choice(["com", "com", "net", "org", "co dot uk"])
        form = self.r.choice(["written", "written", "spoken", "spoken_us", "spoken_num", "spelled"])
        if form == "written":
            v = self.f.email() if self.r.random() < 0.5 else f"{first}.{last}@{dom}.{tld.replace(' dot ', '.')}"
        elif form == "spoken":
            v = f"{first} dot {last} at {dom} dot {tld}"
        elif form == "spoken_us":
            v = f"{first} underscore {last} at {dom} dot {tld}"
        elif form == "spoken_num":
            v = f"{first}{last}{self.r.randint(1, 99)} at {dom} dot {tld}"
        else:
            v = " ".join(first[:4]) + f" at {dom} dot {tld}"
        a, b = self.pick("email").split("{v}")
        return Conv(f"email:{form}").say("customer", a, ("em", "EMAIL", v), b)

    def iban(self) -> Conv:
        ib = self.f.iban()
        form = self.r.choice(["grouped", "compact", "spelled"])
        if form == "grouped":
            v = " ".join(ib[k : k + 4] for k in range(0, len(ib), 4))
        elif form == "compact":
            v = ib
        else:
            v = " ".join(ch if ch.isalpha() else WORDS[int(ch)] for ch in ib)
        a, b = self.pick("iban").split("{v}")
        return Conv(f"iban:{form}").say("customer", a, ("ib", "IBAN", v), b)

    def bank(self) -> Conv:
        c = Conv("bank")
        acct = "".join(self.r.choice("0123456789") for _ in range(self.r.randint(8, 12)))
        rout = self.f.aba()
        a, b = self.pick("routing").split("{v}")
        c.say("customer", a, ("rt", "ROUTING", rout if self.r.random() < 0.6 else self.v.spoken(rout)), b)
        if self.r.random() < 0.7:
            c.say("agent", self.r.choice(ACKS))
        a, b = self.pick("acct").split("{v}")
        c.say("customer", a, ("ac", "BANK_ACCOUNT", acct if self.r.random() < 0.5 else self.v.joined(split_groups(acct, [4, 4, 4]))), b)
        return c

    def dob(self) -> Conv:
        d = self.f.date_of_birth(minimum_age=18, maximum_age=90)
        y = str(d.year)
        ys = f"{self.v.pair(y[:2])} {self.v.pair(y[2:])}" if y[2:] != "00" else "two thousand"
        forms = [f"{d.month:02d}/{d.day:02d}/{d.year}", f"{MONTHS[d.month - 1]} {d.day}, {d.year}",
                 f"{ORD[d.day]} of {MONTHS[d.month - 1]} {ys}", f"{d.day} {MONTHS[d.month - 1]} {d.year}",
                 f"{MONTHS[d.month - 1]} {ORD[d.day]}, {ys}", f"{d.year}-{d.month:02d}-{d.day:02d}"]
        v = self.r.choice(forms)
        c = Conv("dob")
        if self.r.random() < 0.4:
            c.say("agent", self.pick("dob_ask"))
            lead = "the " if " of " in v else ""
            return c.say("customer", self.r.choice(["", "sure, ", "it's ", "uh "]) + lead, ("dob", "DOB", v))
        a, b = self.pick("dob").split("{v}")
        return c.say("customer", a + ("the " if " of " in v else ""), ("dob", "DOB", v), b)

    def address(self) -> Conv:
        street = self.f.street_address()
        if self.r.random() < 0.3:
            num, rest = street.split(" ", 1)
            street = f"{self.v.spoken(num, repeats=False)} {rest}"
        if self.r.random() < 0.3:
            street += f", {self.f.city()}, {self.f.state_abbr()} {self.f.zipcode()}"
        a, b = self.pick("addr").split("{v}")
        return Conv("address").say("customer", a, ("ad", "ADDRESS", street), b)

    # -- negatives -----------------------------------------------------------------------------------

    def negative(self) -> Conv:
        r = self.r
        order = "".join(r.choice("0123456789") for _ in range(r.choice([8, 10, 12, 16])))
        opts = [
            f"my order number is {order}",
            f"the ticket is {r.choice(['TCK', 'INC', 'CS'])}-{r.randint(10000, 99999)}",
            f"ticket number {r.randint(100, 999)} {r.randint(100, 999)} {r.randint(1000, 9999)}",
            f"tracking number {order}",
            f"reference {self.v.spoken(order[:8])}",
            f"it cost ${r.randint(10, 2000)}.{r.randint(0, 99):02d}",
            f"that's {self.v.pair(str(r.randint(20, 99)))} dollars {self.v.pair(str(r.randint(10, 99)))}",
            f"I called at {r.randint(1, 12)}:{r.randint(0, 59):02d} {r.choice(['am', 'pm'])}",
            f"the delivery was on {r.randint(1, 12):02d}/{r.randint(1, 28):02d}/20{r.randint(18, 26)}",
            f"my contract started on {MONTHS[r.randrange(12)]} {r.randint(1, 28)}, 20{r.randint(10, 26)}",
            f"I've been waiting {self.v.pair(str(r.randint(20, 99)))} minutes",
            f"I ordered {r.randint(2, 9)} items on {MONTHS[r.randrange(12)]} {ORD[r.randint(1, 28)]}",
            f"case number {order[:8]} is still open",
            f"invoice {r.randint(100000, 999999)} for {r.randint(10, 500)} dollars",
            f"the meeting is at {WORDS[r.randint(1, 9)]} thirty on the {ORD[r.randint(1, 28)]}",
            f"confirmation code {self.v.spoken(order[:6])}",
            f"the model is {r.randint(1000, 9999)} {r.choice(['X', 'Pro', 'Plus'])} and it's {r.randint(2, 6)} years old",
            f"I paid {r.randint(100, 999)} dollars on {MONTHS[r.randrange(12)]} {r.randint(1, 28)} {r.randint(2015, 2026)}",
            f"room {r.randint(100, 999)}, floor {r.randint(1, 30)}",
            f"my gift card balance is {r.randint(5, 200)} dollars",
            f"the card ending in {r.randint(1000, 9999)} was declined",
            f"please call back in {r.randint(2, 48)} hours",
        ]
        c = Conv("negative")
        return c.say("customer", r.choice(opts)).say("agent", r.choice(["Thanks.", "Let me check that.", "Okay, one moment."]))


def build(fam: str, seed: int, n_mult: int = 1) -> list[Conv]:
    g = Gen(fam, seed)
    convs: list[Conv] = []
    for _ in range(n_mult):
        for k in (1, 2, 3, 4):
            convs += [g.card(k) for _ in range(16)]
        convs += [g.card_with_self_cues() for _ in range(20)]
        convs += [g.ssn() for _ in range(24)]
        convs += [g.phone() for _ in range(24)]
        convs += [g.email() for _ in range(24)]
        convs += [g.iban() for _ in range(18)]
        convs += [g.bank() for _ in range(18)]
        convs += [g.dob() for _ in range(22)]
        convs += [g.address() for _ in range(22)]
        convs += [g.negative() for _ in range(80)]
    return convs


_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")


def presidio_items(path: Path, seed: int) -> list[Conv]:
    """presidio-evaluator's templates with Faker values; other placeholders get plain fakes."""
    f = Faker("en_US")
    f.seed_instance(seed)
    r = random.Random(seed)
    kinds = {"credit_card_number": "CARD", "iban": "IBAN", "email": "EMAIL", "phone_number": "PHONE",
             "address": "ADDRESS", "us_ssn": "SSN", "ssn": "SSN"}  # fmt: skip
    plain = {"person": f.name, "name": f.name, "first_name": f.first_name, "last_name": f.last_name,
             "city": f.city, "country": f.country, "company": f.company, "organization": f.company,
             "date_time": lambda: f.date(pattern="%B %d"), "name_male": f.name_male, "name_female": f.name_female,
             "prefix_male": f.prefix_male, "prefix_female": f.prefix_female, "nationality": lambda: "French",
             "job": f.job, "street_name": f.street_name, "url": lambda: "www." + f.domain_name(),
             "age": lambda: str(r.randint(18, 90)), "nation_plural": lambda: "Italians", "religion": lambda: "Buddhist",
             "title": f.prefix, "zipcode": f.zipcode, "state": f.state, "day": lambda: "Monday"}  # fmt: skip
    value = {"credit_card_number": f.credit_card_number, "iban": f.iban, "email": f.email,
             "phone_number": lambda: r.choice([f"({r.randint(201, 989)}) {r.randint(200, 999)}-{r.randint(0, 9999):04d}",
                                               f"{r.randint(201, 989)}-{r.randint(200, 999)}-{r.randint(0, 9999):04d}"]),
             "address": lambda: f.street_address() + r.choice(["", f", {f.city()}, {f.state_abbr()} {f.zipcode()}"]),
             "us_ssn": f.ssn, "ssn": f.ssn}  # fmt: skip
    out: list[Conv] = []
    for line in path.read_text("utf-8", errors="replace").splitlines():
        names = _PLACEHOLDER.findall(line)
        if not line.strip() or not names:
            continue
        if any(nm not in kinds and nm not in plain for nm in names):
            continue
        parts: list[str | tuple[str, str, str]] = []
        pos = 0
        for k, m in enumerate(_PLACEHOLDER.finditer(line)):
            parts.append(line[pos : m.start()])
            nm = m.group(1)
            if nm in kinds:
                parts.append((f"e{k}", kinds[nm], value[nm]()))
            else:
                parts.append(plain[nm]())
            pos = m.end()
        parts.append(line[pos:])
        out.append(Conv("presidio-template", "chat").say("customer", *parts))
    return out


#: written by hand, in the held-out file only: (turns as "speaker: text", [(kind, turn, exact substring)])
HAND: list[tuple[list[str], list[tuple[str, int, str]]]] = [
    (["customer: Sure, it is four one one one", "agent: mm-hmm", "customer: one one one one", "agent: yes",
      "customer: one one one one, one one one one. Security code seven three seven."],
     [("CARD", 0, "four one one one"), ("CARD", 2, "one one one one"), ("CARD", 4, "one one one one, one one one one"),
      ("CVV", 4, "seven three seven")]),
    (["customer: my social is 123 45 6789"], [("SSN", 0, "123 45 6789")]),
    (["agent: I'll need your social security number to verify.", "customer: yeah 123456789"], [("SSN", 1, "123456789")]),
    (["customer: uh four one one one, uh, one one one one, uh one one one one one one one one"],
     [("CARD", 0, "four one one one, uh, one one one one, uh one one one one one one one one")]),
    (["customer: four one five double-five five, oh one three four"], [("PHONE", 0, "four one five double-five five, oh one three four")]),
    (["agent: what card are you paying with today", "customer: it's a visa five four",
      "customer: sorry, four five three two", "agent: okay", "customer: 0151 1283 0366", "agent: and the cvv",
      "customer: two two oh"],
     [("CARD", 1, "five four"), ("CARD", 2, "four five three two"), ("CARD", 4, "0151 1283 0366"), ("CVV", 6, "two two oh")]),
    (["customer: The card is 5425 2334 3010 9903 exp 04/28 code 123 thanks"],
     [("CARD", 0, "5425 2334 3010 9903"), ("EXPIRY", 0, "04/28"), ("CVV", 0, "123")]),
    (["customer: you can email me, it's m dot garcia at acme dot io"], [("EMAIL", 0, "m dot garcia at acme dot io")]),
    (["customer: My email address is p.okafor@example.org and my cell is 312 555 0188."],
     [("EMAIL", 0, "p.okafor@example.org"), ("PHONE", 0, "312 555 0188")]),
    (["agent: Date of birth?", "customer: fourth of July, nineteen ninety"], [("DOB", 1, "fourth of July, nineteen ninety")]),
    (["customer: I'm at 2250 West Elm Street, apartment 3, Denver, CO 80202"],
     [("ADDRESS", 0, "2250 West Elm Street, apartment 3, Denver, CO 80202")]),
    (["customer: routing is zero two one oh oh oh oh two one and the account is 4456 7781 9920"],
     [("ROUTING", 0, "zero two one oh oh oh oh two one"), ("BANK_ACCOUNT", 0, "4456 7781 9920")]),
    (["customer: please refund to DE89 3704 0044 0532 0130 00"], [("IBAN", 0, "DE89 3704 0044 0532 0130 00")]),
    (["agent: go ahead with the number", "customer: three seven", "agent: uh huh",
      "customer: eight two eight two", "agent: yep", "customer: two four six three", "agent: okay", "customer: one double oh oh five"],
     [("CARD", 1, "three seven"), ("CARD", 3, "eight two eight two"), ("CARD", 5, "two four six three"),
      ("CARD", 7, "one double oh oh five")]),
    (["customer: the last four of my social are 4 4 1 9"], [("SSN", 0, "4 4 1 9")]),
    (["customer: call me on plus four four seven seven double oh nine double oh one two three"],
     [("PHONE", 0, "plus four four seven seven double oh nine double oh one two three")]),
    # negatives
    (["customer: My order 40871123 arrived on March 3rd but it cost $129.99", "agent: Sorry about that."], []),
    (["customer: ticket INC-20931 says the outage started at 10:45 pm on 04/02/2025"], []),
    (["customer: I've been on hold for forty five minutes and called three times"], []),
    (["agent: Your reference number is 7731 0042 9981", "customer: thanks"], []),
    (["customer: tracking number 9400 1000 0000 0000 0000 00 shows nothing since December 12"], []),
    (["customer: the card ending in 4417 was charged twice, 59 dollars each"], []),
    (["customer: we stayed in room 1204 from the 3rd to the 9th of August"], []),
    (["customer: my contract was signed on 14 February 2022 for 24 months"], []),
]


def hand_items() -> list[Conv]:
    out = []
    for turns, labels in HAND:
        c = Conv("handwritten")
        for t, line in enumerate(turns):
            speaker, text = line.split(": ", 1)
            parts: list[str | tuple[str, str, str]] = []
            pos = 0
            for k, (kind, _lt, sub) in enumerate(sorted((x for x in labels if x[1] == t), key=lambda x: text.index(x[2]))):
                at = text.index(sub, pos)
                parts += [text[pos:at], (f"{kind}{k}" if kind != "CARD" else "card", kind, sub)]
                pos = at + len(sub)
            parts.append(text[pos:])
            c.say(speaker, *parts)
        out.append(c)
    return out


def fng_items(path: Path, seed: int) -> list[Conv]:
    """Identities from presidio-evaluator's FakeNameGenerator.com_3000.csv, as short verification
    calls and chats (US rows: address, phone, e-mail, birth date, SSN, expiry and code; other
    countries: international phone and e-mail). Written once, evaluated once, never tuned on.
    Its card numbers are unusable (the CSV stores them as 5.54563E+15), so cards are not here."""
    import csv

    r = random.Random(seed)
    v = Verbal(r)
    out: list[Conv] = []
    with path.open(encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    for row in rows:
        us = row["Country"] == "US"
        if not us and r.random() > 0.04:
            continue
        spoken = r.random() < 0.5
        c = Conv(f"fng:{'us' if us else 'intl'}{'+spoken' if spoken else ''}", "call" if spoken else "chat")
        email = row["EmailAddress"]
        if spoken:
            user, dom = email.lower().split("@")
            email = f"{user} at {dom.replace('.', ' dot ')}"
        if us:
            c.say("agent", r.choice(["Can I get your address please?", "What's the address on the account?"]))
            c.say("customer", r.choice(["", "It's ", "sure, "]),
                  ("ad", "ADDRESS", f"{row['StreetAddress']}, {row['City']}, {row['State']} {row['ZipCode']}"))
            phone = row["TelephoneNumber"]
            if spoken:
                phone = v.joined(phone.split("-"), fillers=False)
            c.say("agent", r.choice(["And a good phone number?", "Best number to reach you?"]))
            c.say("customer", ("ph", "PHONE", phone))
            c.say("agent", "Your date of birth?")
            m, d, y = (int(x) for x in row["Birthday"].split("/"))
            dob = row["Birthday"] if not spoken else f"{MONTHS[m - 1]} {ORD[d]}, {v.pair(str(y)[:2])} {v.pair(str(y)[2:])}"
            c.say("customer", ("dob", "DOB", dob))
            c.say("agent", r.choice(["And your social security number?", "Can you confirm your SSN?"]))
            ssn = row["NationalID"] if not spoken else v.spoken(row["NationalID"].replace("-", ""))
            c.say("customer", r.choice(["", "yes it's ", "uh "]), ("ssn", "SSN", ssn))
            c.say("agent", "Thanks. The expiry date and security code on your card?")
            cvv = f"{int(row['CVV2']):03d}"
            c.say("customer", ("exp", "EXPIRY", row["CCExpires"]), r.choice([", and the code is ", ", code ", " and "]),
                  ("cvv", "CVV", cvv if not spoken else v.spoken(cvv)))
        else:
            phone = f"+{row['TelephoneCountryCode']} {row['TelephoneNumber']}"
            c.say("customer", r.choice(["You can call me on ", "my number is ", "phone: "]), ("ph", "PHONE", phone),
                  r.choice([" or email ", ", e-mail ", ", or write to "]), ("em", "EMAIL", email))
            out.append(c)
            continue
        c.say("agent", "And an e-mail for the receipt?")
        c.say("customer", ("em", "EMAIL", email))
        out.append(c)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--templates", type=Path, help="presidio_evaluator/data_generator/raw_data/templates.txt")
    ap.add_argument("--identities", type=Path, help="presidio_evaluator/.../FakeNameGenerator.com_3000.csv")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "data")
    args = ap.parse_args()
    dev = build("dev", 12)
    held = build("held", 9112) + hand_items()
    if args.templates:
        held += presidio_items(args.templates, 9113)
    sets = [("redaction_dev.jsonl", dev, "dev"), ("redaction_heldout.jsonl", held, "held")]
    if args.identities:
        sets.append(("redaction_heldout_fng.jsonl", fng_items(args.identities, 3000), "fng"))
    for name, convs, split in sets:
        with (args.out / name).open("w", encoding="utf-8") as fh:
            for n, c in enumerate(convs):
                fh.write(json.dumps(c.item(split, n), ensure_ascii=False) + "\n")
        ents = sum(len(c.ents) for c in convs)
        print(f"{name}: {len(convs)} conversations, {ents} PII entities", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
