"""The literal pre-check of the resolution cue regexes (#15): it may only skip a regex that
cannot match, so the cues found, and the verdicts, are the regex scan's own."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from analysis import resolution_cues as rc
from analysis.regex_prefilter import PatternFilter, may_match, required

DATA = Path(__file__).resolve().parents[2] / "bench" / "data"
LISTS = {name: [x[0] if isinstance(x, tuple) else x for x in getattr(rc, name)]
         for name in ("SARCASM", "RES", "UNRES", "COMMIT", "DEFER", "REFUSALS")}  # fmt: skip


def _texts() -> list[str]:
    """Every turn of the resolution sets, the fact statements and the rules utterances."""
    out: list[str] = []
    for f in sorted(DATA.glob("resolution_conversations*.jsonl")):
        for line in f.read_text(encoding="utf-8").splitlines():
            if line.strip():
                out += [t["text"] for t in json.loads(line)["turns"]]
    for f in sorted(DATA.glob("fact_statements*.jsonl")):
        out += [json.loads(x)["text"] for x in f.read_text(encoding="utf-8").splitlines() if x.strip()]
    for f in sorted(DATA.glob("rules_utterances*.tsv")):
        for line in f.read_text(encoding="utf-8").splitlines():
            out += [p for p in line.split("\t") if len(p) > 12]
    return [t.replace("\u2019", "'") for t in dict.fromkeys(out)]


@pytest.fixture(scope="module")
def texts() -> list[str]:
    got = _texts()
    assert len(got) > 3000
    return got


@pytest.mark.parametrize("name", sorted(LISTS))
@pytest.mark.parametrize(
    "stride",
    [pytest.param(1, marks=pytest.mark.slow),  # every text: `make test`
     5],  # every fifth (another fifth per list): the quick loop
)
def test_never_skips_a_regex_that_matches(name: str, stride: int, texts: list[str]) -> None:
    """On ~10k real turns: wherever a cue regex matches, the pre-check let it run; and the
    pre-check does skip (most regex/text pairs), so the test can fail."""
    pats = LISTS[name]
    filt = PatternFilter(pats)
    matched = skipped = 0
    if stride > 1:
        texts = texts[sorted(LISTS).index(name) % stride :: stride]
    for n, text in enumerate(texts):
        live = filt.live(text)
        for k, rx in enumerate(pats):
            hit = rx.search(text) is not None
            allowed = live is None or live[k]
            if n % 10 == 0:  # the one-regex form agrees with the list form
                assert allowed == may_match(rx, text), (rx.pattern[:60], text)
            if hit:
                matched += 1
                assert allowed, f"skipped {rx.pattern[:80]!r} which matches {text!r}"
            elif not allowed:
                skipped += 1
    assert matched > 0 or name == "DEFER"
    assert skipped > len(texts) * len(pats) // 3


def test_every_cue_regex_has_required_words() -> None:
    """The reader understands the cue lists (an unreadable regex would always run)."""
    unread = [rx.pattern[:60] for pats in LISTS.values() for rx in pats if not required(rx)]
    assert len(unread) <= 1, unread  # the emoji / ":(" regex of SARCASM has no letters to require


@pytest.mark.parametrize(
    ("pattern", "flags", "yes", "no"),
    [
        (r"\b(?:that|this) (?:um+ )*(?:fixed|sorted) it\b", re.I, "That um fixed it", "this works"),
        (r"(?:really )?helpful", re.I, "Very HELPFUL", "help me"),  # optional first element
        (r"\bcall (?:you )?back\b", 0, "i'll call back", "callback later"),
        (r"(?<!not )\bgreat\b", re.I, "Great!", "grate"),  # a look-behind consumes nothing
        (r"[ck]ancel+ed", re.I, "Kancelled", "cancel"),  # a small class branches
        (r"(?:x|)yz", 0, "yz", "y z"),  # an empty alternative requires nothing of the branch
        (r"(ab)\1c", 0, "ababc", "abab"),  # a back-reference: the group's literal still counts
    ],
)
def test_small_regexes(pattern: str, flags: int, yes: str, no: str) -> None:
    rx = re.compile(pattern, flags)
    assert rx.search(yes) and may_match(rx, yes)
    assert not rx.search(no) and not may_match(rx, no)


def test_unreadable_or_non_ascii_always_runs() -> None:
    assert required(re.compile(r"\w+ing")) == (("ing",),)  # what follows a class still counts
    assert required(re.compile(r"\d+\s?(?:x|)")) == ()
    assert may_match(re.compile(r"\d+\s?(?:x|)"), "no digits")
    # under IGNORECASE the Kelvin sign matches "k", which lower-casing does not show
    kelvin = re.compile(r"\bok\b", re.I)
    assert kelvin.search("o\u212a") and may_match(kelvin, "o\u212a")
    assert PatternFilter([kelvin]).live("o\u212a") is None
    # ... and a non-ASCII letter of the regex matches an ASCII one: its set is not used
    long_s = re.compile("\u017fave (?:it|that)", re.I)
    assert long_s.search("save it") and may_match(long_s, "save it") and not may_match(long_s, "save me")


def test_a_changed_parser_layout_turns_the_pre_check_off(monkeypatch: pytest.MonkeyPatch) -> None:
    from analysis import regex_prefilter as rp

    assert rp._reader_works()  # this interpreter's layout is the one the reader knows

    def changed(items: object) -> object:
        raise IndexError("tuple index out of range")  # what a reshaped node would give

    monkeypatch.setattr(rp, "_seq", changed)
    assert not rp._reader_works()
    monkeypatch.setattr(rp, "_seq", lambda items: (None, [{"wrong"}]))
    assert not rp._reader_works()
