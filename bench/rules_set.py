"""The labelled rule-utterance set (bench/data/rules_utterances.tsv) and its dev / held-out split.

Every utterance is judged for the shipped phrase flags (`prohibited_phrase`, `churn_risk`,
`escalation_request`: a cross-rule false positive counts against the rule that fired), and
the disclosure items (target `compliance_missing`) also for the disclosure rule, which looks
at a whole call rather than one phrase.

The split is a hash of the item id (salted, fixed), so it is deterministic, does not depend
on the file's order, and an item keeps its side when others are added. Tuning reads
`load("dev")` only; `load("heldout")` is for the final numbers (bench/verdicts_rules.py).

Later batches written independently after the rules were tuned live in their own files and
are loaded as sets of their own, every item held-out (no dev half: nothing in them may steer
tuning): `load("v3")` reads bench/data/rules_utterances_v3.tsv, `load("v4")`
bench/data/rules_utterances_v4.tsv, `load("v5")` bench/data/rules_utterances_v5.tsv, `load("v6")`
bench/data/rules_utterances_v6.tsv, `load("v7")` bench/data/rules_utterances_v7.tsv, `load("v8")`
bench/data/rules_utterances_v8.tsv, `load("v9")` bench/data/rules_utterances_v9.tsv, `load("v10")`
bench/data/rules_utterances_v10.tsv, `load("v11")` bench/data/rules_utterances_v11.tsv, `load("v12")`
bench/data/rules_utterances_v12.tsv, `load("v13")` bench/data/rules_utterances_v13.tsv. They do not
change how the first file splits.

`load("probes")` reads bench/data/rules_probes_esc.tsv, the phrase-family probes the rules
helpers wrote while tuning (dev data by construction; a simpler format, see `read_probes`).
`load("probes-dis")` reads bench/data/rules_probes_dis.tsv, the disclosure probes (batch
columns, dev data).
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data" / "rules_utterances.tsv"
SPLITS = ("dev", "heldout")
#: separate, wholly held-out sets: name -> file (every item held-out, never split)
HELDOUT_SETS = {
    "v3": DATA.with_name("rules_utterances_v3.tsv"),
    "v4": DATA.with_name("rules_utterances_v4.tsv"),
    "v5": DATA.with_name("rules_utterances_v5.tsv"),
    "v6": DATA.with_name("rules_utterances_v6.tsv"),
    "v7": DATA.with_name("rules_utterances_v7.tsv"),
    "v8": DATA.with_name("rules_utterances_v8.tsv"),
    "v9": DATA.with_name("rules_utterances_v9.tsv"),
    "v10": DATA.with_name("rules_utterances_v10.tsv"),
    "v11": DATA.with_name("rules_utterances_v11.tsv"),
    "v12": DATA.with_name("rules_utterances_v12.tsv"),
    "v13": DATA.with_name("rules_utterances_v13.tsv"),
}
#: the rules helpers' own probe items (dev data, written while tuning)
PROBES = DATA.with_name("rules_probes_esc.tsv")
# the disclosure probes (rd1): batch columns, every item a one-turn agent call, dev data
PROBES_DIS = DATA.with_name("rules_probes_dis.tsv")
_PROBE_FLAGS = {"E": "escalation_request", "C": "churn_risk", "P": "prohibited_phrase", "-": "none"}
#: the flags every item is judged for (phrase rules); the disclosure flag only on its own items
PHRASE_FLAGS = ("prohibited_phrase", "churn_risk", "escalation_request")
DISCLOSURE_FLAG = "compliance_missing"
_SALT = b"convoscope-rules-v1:"


@dataclass(frozen=True, slots=True)
class Utterance:
    """One labelled utterance: who said it, in which channel style, what should fire."""

    id: str
    target: str  # the flag it was written for ("none" for corpus negatives)
    speaker: str  # agent / customer
    style: str  # call / chat / email
    expect: frozenset[str]  # flags that should be raised
    cases: tuple[str, ...]  # pos, neg, modal, q, rep, hyp, asr, speaker, other, late, corpus
    start: float | None  # seconds into the call (disclosure timing); None = 2 s
    source: str
    text: str

    @property
    def batch(self) -> str:
        """'v1' (written before any tuning), 'v2' (written after the first held-out run), or
        'v3' ... 'v13' (separate files written independently, never scored while tuning). The
        prefix is matched up to its dash, so 'v10-' ... 'v13-' are batches v10 ... v13,
        never v1."""
        for b in ("v2", "v3", "v4", "v5", "v6", "v7", "v8", "v9", "v10", "v11", "v12", "v13"):
            if self.id.startswith(b + "-"):
                return b
        return "v1"

    @property
    def judged(self) -> tuple[str, ...]:
        """The flags this item is a labelled example (positive or negative) for."""
        return (*PHRASE_FLAGS, DISCLOSURE_FLAG) if self.target == DISCLOSURE_FLAG else PHRASE_FLAGS


def split_of(item_id: str) -> str:
    """'dev' or 'heldout', from a salted hash of the id (about half each)."""
    h = int(hashlib.sha256(_SALT + item_id.encode("utf-8")).hexdigest()[:8], 16)
    return "heldout" if h % 2 else "dev"


def read_all(path: Path = DATA) -> list[Utterance]:
    """Every item, both splits: for checks of the file itself, never for tuning."""
    out = []
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE):
            expect = frozenset(x for x in row["expect"].split(",") if x and x != "-")
            out.append(
                Utterance(
                    id=row["id"], target=row["target"], speaker=row["speaker"], style=row["style"],
                    expect=expect, cases=tuple(c for c in row["cases"].split(",") if c),
                    start=float(row["start"]) if row["start"] else None, source=row["source"],
                    text=row["text"],
                )
            )  # fmt: skip
    return out


def read_probes(path: Path = PROBES) -> list[Utterance]:
    """The probe file: `expect` (E / C / P / - for escalation / churn / promise / none),
    speaker, style, text; a `#` line is the header. Ids are `probe-<line>`; every item is
    judged for the phrase flags only (the probes hold no disclosure items)."""
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        exp, speaker, style, text = line.split("\t", 3)
        flag = _PROBE_FLAGS[exp]
        out.append(Utterance(id=f"probe-{n:03d}", target=flag, speaker=speaker, style=style,
                             expect=frozenset() if flag == "none" else frozenset([flag]), cases=(),
                             start=None, source="hand", text=text))  # fmt: skip
    return out


def load(split: str, path: Path | None = None) -> list[Utterance]:
    """The items of one split ('dev' or 'heldout' of the first file), or every item of a
    separate held-out set ('v3' ... 'v13'), or the probes ('probes', 'probes-dis'); `path` overrides the
    file read."""
    if split == "probes":
        return read_probes(path or PROBES)
    if split == "probes-dis":
        return read_all(path or PROBES_DIS)
    if split in HELDOUT_SETS:
        return read_all(path or HELDOUT_SETS[split])
    if split not in SPLITS:
        names = ", ".join((*SPLITS, *HELDOUT_SETS))
        raise ValueError(f"split must be one of {names}, not {split!r}")
    return [u for u in read_all(path or DATA) if split_of(u.id) == split]
