"""Training-only paraphrases for the rules' learned heads, composed from the labelling guide.

    python bench/rules_compose.py            # print counts and a sample
    python bench/rules_compose.py --dump F   # write every composed item as TSV (to read them)

Why. Every round so far added phrase families from the newly opened batch and refitted the
heads on the opened batches; a new writer's churn kept arriving at 0.66-0.89 recall. The heads
learn from ~4,000 items written by eight people; this module adds items that no writer wrote:
the labelling guide's definitions (bench/data/README.md, "Labelling guide") spelled out as
parts and composed — subject and intent frame x verb x object x tail x register (call / chat /
e-mail) x ASR and typing noise — with the guide's look-alikes composed the same way (negated
intent, questions about what happened, someone else's words, consequence enquiries, look-alike
objects; a refusal, a question or a policy noun for promises). Nothing here was read from a
labelled batch: the parts are the guide's own examples and their obvious neighbours.

Use. `bench/rules_classifier.py --synthetic` adds these items to the training data of every
fit (never to a left-out batch, never to the out-of-fold parts that choose a threshold), so
the leave-one-batch-out test says whether they help a batch the heads never saw. The items
are deterministic (fixed seed, sorted parts); ids are `syn-<flag>-NNNN`.
"""

from __future__ import annotations

import argparse
import random
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.rules_set import Utterance  # noqa: E402

SEED = 20261207
#: items per flag and polarity (sampled from every composition)
PER_CLASS = 400

# --- churn: the customer states an intent, wish or threat to cancel, close, leave or switch,
# including asking how, and conditional threats whose threat is the main clause
CHURN_ACTIONS = [
    "cancel my account", "cancel my subscription", "cancel my membership", "cancel my contract", "cancel the whole thing",
    "close my account", "close the account", "end my contract", "end my subscription", "end the agreement",
    "terminate my contract", "terminate the policy", "leave you", "leave your company", "leave the network",
    "switch to another provider", "switch supplier", "move to a competitor", "take my business elsewhere",
    "quit the gym", "get out of my contract", "stop my membership for good", "close everything down",
    "stop being a customer", "go somewhere else", "move my account to another bank", "not renew my policy",
]
CHURN_FRAMES = [
    "i want to {a}", "i'd like to {a}", "i'm going to {a}", "i'm gonna {a}", "please {a}", "i've decided to {a}",
    "we need to {a}", "how do i {a}", "how can i {a}", "what do i need to do to {a}", "i wish to {a}",
    "i've had enough, i want to {a}", "if you don't fix this i'm going to {a}", "unless this is sorted today i will {a}",
    "that's it, i'm going to {a}", "can you help me {a}", "i think it's time to {a}", "we've made up our minds to {a}",
]
CHURN_TAILS = ["", " today", " from next month", " for good", " at the end of the month", " the service is awful",
               " i'm fed up", " as soon as possible"]  # fmt: skip
NOT_CHURN = [
    # negated intent
    "i'm not going to {a}", "i don't want to {a}, i just want the fee explained", "i have no intention to {a}",
    "i'd never {a}, i just need help", "i'm not trying to {a}",
    # a question about what happened, someone else's words, a consequence enquiry
    "did you {a} by mistake", "has someone tried to {a}", "my wife said she'd {a}", "my neighbour wants to {a}",
    "if i {a}, do i lose my points", "what happens to my discount if i {a}", "my son keeps threatening to {a}",
]  # fmt: skip
NOT_CHURN_ACTIONS = CHURN_ACTIONS[:12]
LOOKALIKE_CHURN = [
    "please cancel my order", "can you cancel the appointment on friday", "cancel the delivery, i'll collect it",
    "close the complaint, it's sorted", "stop the direct debit and i'll pay by card", "switch me to paperless billing",
    "can i switch to the annual plan", "i want to downgrade to the basic package", "please pause my membership while i'm away",
    "move my broadband to my new address", "unsubscribe me from the marketing emails", "cancel my callback",
    "i want to cancel the upgrade, keep the old plan", "end the call please, i'll ring back", "close the ticket",
    "i'm leaving the house now so text me", "i'm switching the router off and on again", "cancel the engineer visit",
]  # fmt: skip

# --- escalation: the customer asks for a manager, supervisor, someone senior or an escalation
ESC_TARGETS = ["your manager", "a manager", "a supervisor", "your supervisor", "someone senior", "your team leader",
               "someone in charge", "your boss", "someone more senior", "the person in charge", "a senior manager",
               "someone above you"]  # fmt: skip
ESC_FRAMES = [
    "can i speak to {t}", "i want to speak to {t}", "put me through to {t}", "get me {t}", "i'd like {t} to call me back",
    "i want this escalated to {t}", "transfer me to {t}", "let me talk to {t}", "i need {t} now",
    "if you can't help me, get me {t}", "i demand to speak to {t}", "could you pass me to {t}", "i'd like a word with {t}",
    "i'm not hanging up until i speak to {t}", "this needs to go to {t}", "find me {t} please", "is there {t} i can talk to",
]  # fmt: skip
NOT_ESC = [
    "no need to get {t}, you've been great", "i don't want {t}, i just want a refund", "i spoke to {t} yesterday",
    "{t} already called me back", "my manager told me to call you", "what's the name of {t}, just for my notes",
    "i need to check with my own manager first", "did you speak to {t} about it", "my husband asked for {t} last week",
    "if i asked for {t} would it help", "i wish i could speak to {t} but there's no time",
]  # fmt: skip

# --- promises: the agent promises or guarantees an outcome in their own voice
OUTCOMES = ["the refund will be in your account by friday", "the engineer will be there tomorrow", "your card arrives monday",
            "it'll be fixed today", "you won't be charged again", "the parcel will arrive before noon",
            "the credit is on your account tonight", "your line will be back on by five"]  # fmt: skip
PRO_FRAMES = ["i promise {o}", "i guarantee {o}", "i can assure you {o}", "you have my word {o}", "{o}, i promise",
              "i'm promising you {o}", "rest assured {o}", "i give you my word that {o}", "{o}, guaranteed",
              "i can guarantee {o}", "trust me {o}", "{o}, you can count on it"]  # fmt: skip
NOT_PRO = ["i can't guarantee {o}", "i can't promise {o}", "did someone promise you {o}", "the website says {o}",
           "i wish i could promise {o}", "we're not allowed to guarantee {o}", "i'll try my best but i can't promise {o}",
           "nobody can guarantee {o}", "if i promised {o} i'd be lying", "my colleague said {o}",
           "i hope {o} but i can't be sure"]  # fmt: skip
LOOKALIKE_PRO = ["our money-back guarantee covers this", "the manufacturer's guarantee lasts two years",
                 "we have a price promise if you find it cheaper", "your guaranteed minimum pension is on the letter",
                 "the workmanship guarantee is in the pack"]  # fmt: skip

NOISE = {"cancel": ["cancle", "cansel"], "account": ["acount", "accont"], "manager": ["manger", "managar"],
         "supervisor": ["super visor", "supervizor"], "guarantee": ["garantee", "guarentee"], "promise": ["promis", "prommise"],
         "subscription": ["subscripton", "sub"], "contract": ["contrack", "contract"]}  # fmt: skip
FILLERS = ["um", "uh", "like", "you know", "right", "look"]


def _register(text: str, rng: random.Random) -> tuple[str, str]:
    """One of the guide's registers: a call transcript (lower case, no punctuation, a filler),
    a chat line (short forms) or an e-mail (formal frame), with ASR / typing noise half the
    time."""
    style = rng.choice(["call", "call", "chat", "email"])
    if rng.random() < 0.5:
        words = text.split()
        for i, w in enumerate(words):
            if w.strip(",") in NOISE and rng.random() < 0.6:
                words[i] = rng.choice(NOISE[w.strip(",")])
        text = " ".join(words)
    if style == "call":
        text = text.replace(",", "").lower()
        text = f"{rng.choice(FILLERS)} {text}" if rng.random() < 0.5 else text
    elif style == "chat":
        text = text.replace("you ", "u ").replace("please", "pls") if rng.random() < 0.5 else text
    else:
        text = f"Dear Sir or Madam, {text[0].upper()}{text[1:]}. Kind regards"
    return style, text


def _items(flag: str, speaker: str, pos: list[str], neg: list[str], rng: random.Random) -> Iterator[Utterance]:
    short = {"churn_risk": "chu", "escalation_request": "esc", "prohibited_phrase": "pro"}[flag]
    pos = rng.sample(sorted(set(pos)), min(PER_CLASS, len(set(pos))))
    neg = rng.sample(sorted(set(neg)), min(PER_CLASS, len(set(neg))))
    for n, (text, fires) in enumerate([(t, True) for t in pos] + [(t, False) for t in neg], 1):
        style, said = _register(text, rng)
        yield Utterance(id=f"syn-{short}-{n:04d}", target=flag, speaker=speaker, style=style,
                        expect=frozenset([flag]) if fires else frozenset(), cases=("pos",) if fires else ("other",),
                        start=None, source="composed", text=said)  # fmt: skip


def composed() -> list[Utterance]:
    """Every composed training item (deterministic)."""
    rng = random.Random(SEED)
    churn = [f.format(a=a) + t for f in CHURN_FRAMES for a in CHURN_ACTIONS for t in CHURN_TAILS]
    not_churn = [f.format(a=a) for f in NOT_CHURN for a in NOT_CHURN_ACTIONS] + LOOKALIKE_CHURN * 3
    esc = [f.format(t=t) for f in ESC_FRAMES for t in ESC_TARGETS]
    not_esc = [f.format(t=t) for f in NOT_ESC for t in ESC_TARGETS]
    pro = [f.format(o=o) for f in PRO_FRAMES for o in OUTCOMES]
    not_pro = [f.format(o=o) for f in NOT_PRO for o in OUTCOMES] + LOOKALIKE_PRO * 4
    return [
        *_items("churn_risk", "customer", churn, not_churn, rng),
        *_items("escalation_request", "customer", esc, not_esc, rng),
        *_items("prohibited_phrase", "agent", pro, not_pro, rng),
    ]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dump", help="write every item as TSV (id, speaker, style, expect, text)")
    args = ap.parse_args(argv)
    items = composed()
    if args.dump:
        rows = ["id\tspeaker\tstyle\texpect\ttext"]
        rows += [f"{u.id}\t{u.speaker}\t{u.style}\t{','.join(sorted(u.expect)) or '-'}\t{u.text}" for u in items]
        Path(args.dump).write_text("\n".join(rows) + "\n", encoding="utf-8")
    for flag in ("churn_risk", "escalation_request", "prohibited_phrase"):
        mine = [u for u in items if u.target == flag]
        print(f"{flag}: {sum(bool(u.expect) for u in mine)} positive, {sum(not u.expect for u in mine)} negative")
    for u in items[::97][:12]:
        print(f"  {u.id} {u.style:<5} {'+' if u.expect else '-'} {u.text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
