"""Redaction on real ASR output: synthesised calls through Whisper, then conversation redaction.

    python bench/redaction_asr.py [--n 12] [--seed 31]

Why: the labelled sets (bench/redaction.py) are text we wrote; here the words come from
the packaged Whisper model transcribing calls spoken by espeak-ng (samples/make_calls.py),
so the noise is Whisper's own (numerals or words, its punctuation, merged or split
groups, misheard digits). Each call dictates a Faker card number in groups over two to
four customer turns with the agent's "mm-hmm" between them, then its security code after
the agent asks, and a phone number or SSN. The values are known, so the check is a leak
check on the redacted transcript: a value counts as redacted when none of its digit
groups (>= 3 digits, written or as words) is left in any turn. Prints per kind the share
redacted and the transcripts that leaked. Slow (ASR on CPU): not part of `make test`.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import random
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
ACKS = ["Mm-hmm.", "Okay.", "Yes.", "Got it, go on."]


def _make_calls():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("make_calls", ROOT / "samples" / "make_calls.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules["make_calls"] = mod
    spec.loader.exec_module(mod)
    return mod


def spoken(digits: str, r: random.Random) -> str:
    return ", ".join(" ".join(WORDS[int(d)] if d != "0" or r.random() < 0.5 else "oh" for d in g)
                     for g in re.findall(r"\d{1,4}", digits))


def script(r: random.Random, fake):  # type: ignore[no-untyped-def]
    card = fake.credit_card_number(card_type=r.choice(["visa16", "mastercard"]))
    groups = [card[k : k + 4] for k in range(0, len(card), 4)]
    k = r.choice([2, 3, 4])
    cuts = sorted(r.sample(range(1, len(groups)), k - 1))
    chunks = [groups[a:b] for a, b in zip([0, *cuts], [*cuts, len(groups)], strict=True)]
    lines = [("agent", "Thanks. Can I take the long card number please?")]
    for i, ch in enumerate(chunks):
        said = spoken("".join(ch), r) if r.random() < 0.7 else " ".join(ch)
        lines.append(("customer", ("Sure, it is " if i == 0 else "") + said + "."))
        if i < len(chunks) - 1:
            lines.append(("agent", r.choice(ACKS)))
    cvv = f"{r.randint(100, 999)}"
    lines += [("agent", "And the three digit security code on the back?"), ("customer", spoken(cvv, r) + ".")]
    values = {"CARD": card, "CVV": cvv}
    if r.random() < 0.5:
        ssn = fake.ssn().replace("-", "")
        lines += [("agent", "And to verify, your social security number?"),
                  ("customer", f"It's {spoken(ssn[:3], r)}, {spoken(ssn[3:5], r)}, {spoken(ssn[5:], r)}.")]
        values["SSN"] = ssn
    else:
        phone = f"{r.randint(201, 989)}{r.randint(200, 999)}{r.randint(0, 9999):04d}"
        lines += [("agent", "What is the best number to call you back on?"),
                  ("customer", f"{spoken(phone[:3], r)}, {spoken(phone[3:6], r)}, {spoken(phone[6:], r)}.")]
        values["PHONE"] = phone
    return lines, values


def leaked(value: str, texts: list[str]) -> bool:
    """A group of >= 3 digits of the value left as digits (at the start of a digit run) or
    as words in the redacted text."""
    text = " ".join(texts)
    words = text.lower()
    for g in [value[k : k + 4] for k in range(0, len(value), 4)]:
        if len(g) < 3:
            continue
        g3 = g[:3]
        if re.search(rf"(?<!\d){g3}", re.sub(r"(?<=\d)[,.-](?=\d)", "", text)):
            return True
        if " ".join(WORDS[int(d)] for d in g3) in words:
            return True
    return False


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=12)
    ap.add_argument("--seed", type=int, default=31)
    args = ap.parse_args()
    from faker import Faker

    from analysis.asr import AsrOptions, Transcriber
    from analysis.redaction import redact_conversation

    mc = _make_calls()
    r = random.Random(args.seed)
    fake = Faker("en_US")
    fake.seed_instance(args.seed)
    cache = Path(os.environ.get("CONVOSCOPE_CACHE", "~/.cache/convoscope")).expanduser()
    tr = Transcriber(AsrOptions(language="en"), cache)
    redact_conversation(["warm up 4111 1111 1111 1111 at 12 Main Street"])  # lazy imports
    stats: dict[str, list[int]] = {}
    leaks: list[str] = []
    asr_s = red_s = 0.0
    n_turns = 0
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.n):
            lines, values = script(r, fake)
            audio = mc.render([mc.Line(s, t) for s, t in lines], mono=False)
            path = Path(tmp) / f"c{i}.opus"
            mc.write_opus(path, audio)
            t0 = time.perf_counter()
            turns = tr.transcribe(path).turns
            t1 = time.perf_counter()
            res = redact_conversation(turns)
            red_s += time.perf_counter() - t1
            asr_s += t1 - t0
            n_turns += len(turns)
            out = [x.text for x in res.results]
            for kind, v in values.items():
                bad = leaked(v, out)
                st = stats.setdefault(kind, [0, 0])
                st[0] += 1
                st[1] += not bad
                if bad:
                    leaks.append(f"  LEAK {kind} {v} call {i}:\n    heard: {[t.text for t in turns]}\n    kept:  {out}")
    print(f"redaction on Whisper transcripts of {args.n} synthesised calls (seed {args.seed})")
    for kind, (n, ok) in stats.items():
        print(f"  {kind:<6} {ok}/{n} redacted ({ok / n:.2f})")
    print(f"  ASR {asr_s:.0f} s, redaction {red_s * 1000 / max(n_turns, 1):.3f} ms/turn over {n_turns} turns")
    print("\n".join(leaks))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
