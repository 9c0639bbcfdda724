"""`convoscope score`: JSON lines in on stdin, JSON lines with verdicts out on stdout.

Each input line is either a text (`{"id": "1", "text": "..."}`, scored as one customer
message) or a whole interaction (`{"id": "2", "channel": "call", "agent": "1042",
"queue": "billing", "duration": 30.5, "turns": [{"speaker": "agent", "text": "...",
"start": 0.0, "end": 2.1}, ...]}`; chats/e-mails give `sent_at` instead of start/end).
Each output line echoes `id` and carries `sentiment.label` (negative/neutral/positive),
`sentiment.score` (−1..1: the mean over customer turns, or over all turns when there is no
customer; the label is that turn's label for one turn, else the sign of the mean with
|score| <= 0.2 neutral), `sentiment.overall` (−5..+5), `anger` (0..1), `topics`, `keywords`, `flags`,
`metrics`, the `redacted` turn texts and `rules_not_counted` (rules whose words were found but
did not count: each match with `why`, e.g. "negated by 'cannot'"). Nothing is stored. A bad line yields
`{"id": ..., "error": "..."}` and the stream goes on; the models load once for the stream;
lines are analysed `--batch` at a time (one model call; output order unchanged): by default
64 when stdin is a file or a pipe and 1 when it is a terminal (each line answered at once;
give `--batch 1` for a live pipe that must be answered line by line). On a terminal,
progress (lines, lines/s) goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import datetime
from typing import IO, Any

from analysis.pipeline import Analysis, Analyzer
from convoscope.commands.analyze import build_analyzer
from convoscope.context import Context, UserError
from store.records import CHANNELS, SPEAKERS, Interaction, Turn, content_hash

#: |mean turn score| at or below this is "neutral" for a multi-turn line
NEUTRAL_BAND = 0.2


class BadInput(ValueError):
    """A line that is not a scorable text or interaction."""


def _turn(i: int, d: Any) -> Turn:
    if not isinstance(d, dict) or not isinstance(d.get("text"), str):
        raise BadInput(f"turns[{i}] needs a 'text' string")
    speaker = d.get("speaker", "customer")
    if speaker not in SPEAKERS:
        raise BadInput(f"turns[{i}].speaker must be one of {', '.join(SPEAKERS)}")
    sent_at = d.get("sent_at")
    try:
        sent = datetime.fromisoformat(sent_at) if isinstance(sent_at, str) else None
        start = float(d["start"]) if d.get("start") is not None else None
        end = float(d["end"]) if d.get("end") is not None else None
    except (TypeError, ValueError) as exc:
        raise BadInput(f"turns[{i}]: {exc}") from None
    return Turn(seq=i, speaker=speaker, text=d["text"], start=start, end=end, sent_at=sent)


def parse_line(obj: Any) -> Interaction:
    """A JSON object from one input line as an in-memory Interaction."""
    if not isinstance(obj, dict):
        raise BadInput("each line must be a JSON object")
    if isinstance(obj.get("text"), str):
        turns = [Turn(seq=0, speaker=obj.get("speaker", "customer"), text=obj["text"])]
        channel = obj.get("channel", "chat")
    elif isinstance(obj.get("turns"), list) and obj["turns"]:
        turns = [_turn(i, t) for i, t in enumerate(obj["turns"])]
        channel = obj.get("channel") or ("call" if any(t.start is not None for t in turns) else "chat")
    else:
        raise BadInput("give 'text' (a string) or 'turns' (a non-empty list)")
    if channel not in CHANNELS:
        raise BadInput(f"channel must be one of {', '.join(CHANNELS)}")
    if turns[0].speaker not in SPEAKERS:
        raise BadInput(f"speaker must be one of {', '.join(SPEAKERS)}")
    duration = obj.get("duration")
    return Interaction(
        channel=channel, source="score", external_id=str(obj.get("id", "")),
        content_hash=content_hash(json.dumps(obj, sort_keys=True, default=str)),
        agent=obj.get("agent"), queue=obj.get("queue"), customer=obj.get("customer"),
        duration=float(duration) if isinstance(duration, int | float) else None, turns=turns, id=0,
    )  # fmt: skip


def to_output(ident: Any, a: Analysis) -> dict[str, Any]:
    """The output object for one analysed line."""
    sents = a.sentiments
    customer = [s for s, t in zip(sents, a.interaction.turns, strict=True) if t.speaker == "customer"]
    pool = customer or sents
    score = sum(s.score for s in pool) / len(pool) if pool else 0.0
    if len(pool) == 1:
        label = pool[0].label
    else:  # several turns: the sign of the mean score, with a neutral band
        label = "positive" if score > NEUTRAL_BAND else "negative" if score < -NEUTRAL_BAND else "neutral"
    sc = a.scores
    return {
        "id": ident,
        "sentiment": {
            "label": label, "score": round(score, 4), "overall": sc.sentiment,
            "customer": sc.sentiment_customer, "agent": sc.sentiment_agent,
        },
        "anger": round(float(sc.anger or 0.0), 4),
        "topics": sc.topics,
        "keywords": sc.keywords,
        "flags": [
            {"kind": f.kind, "rule": f.rule, "severity": f.severity, "score": f.score,
             "summary": f.summary, "evidence": f.evidence}
            for f in a.flags
        ],
        "metrics": sc.metrics,
        "redacted": [r.text for r in a.redactions],
        "rules_not_counted": [{"rule": n.rule, "kind": n.kind, "not_counted": n.not_counted} for n in a.rule_notes],
    }  # fmt: skip


#: lines per model call when stdin is a file or a pipe
DEFAULT_BATCH = 64


def score_stream(analyzer: Analyzer, inp: IO[str], out: IO[str], *, batch: int = 1,
                 progress: IO[str] | None = None) -> tuple[int, int]:
    """Score every line of `inp` into `out`, in input order; returns (scored, errors).

    `batch` lines are analysed together (one model call for all their turns): 1 answers each
    line as soon as it arrives, a larger value is faster for files. `progress` (a terminal) gets a running count.
    """
    ok = bad = 0
    started = time.monotonic()
    pending: list[tuple[int, Any, Interaction | str]] = []

    def flush() -> None:
        nonlocal ok, bad
        good = [(n, ident, it) for n, ident, it in pending if isinstance(it, Interaction)]
        try:
            results = analyzer.analyse([it for _n, _i, it in good]) if good else []
        except Exception as exc:
            if type(exc).__name__ == "ModelNotPrepared":
                raise UserError(str(exc)) from None
            results = [exc] * len(good)
        by_line = {n: r for (n, _i, _it), r in zip(good, results, strict=True)}
        for n, ident, it in pending:
            if isinstance(it, str):
                out.write(json.dumps({"id": ident, "line": n, "error": it}) + "\n")
                bad += 1
                continue
            r = by_line[n]
            if isinstance(r, Exception):
                out.write(json.dumps({"id": ident, "line": n, "error": f"{type(r).__name__}: {r}"}) + "\n")
                bad += 1
            else:
                out.write(json.dumps(to_output(ident, r), default=str) + "\n")
                ok += 1
        out.flush()
        pending.clear()
        if progress is not None:
            secs = time.monotonic() - started
            progress.write(f"\rscored {ok + bad:,} lines ({bad} errors), {(ok + bad) / secs if secs else 0:.0f} lines/s")
            progress.flush()

    for n, line in enumerate(inp, 1):
        if not line.strip():
            continue
        ident: Any = None
        try:
            obj = json.loads(line)
            ident = obj.get("id") if isinstance(obj, dict) else None
            pending.append((n, ident, parse_line(obj)))
        except (json.JSONDecodeError, BadInput) as exc:
            pending.append((n, ident, str(exc)))
        if len(pending) >= batch:
            flush()
    flush()
    if progress is not None and ok + bad:
        progress.write("\n")
        progress.flush()
    return ok, bad


def run(args: argparse.Namespace, ctx: Context) -> int:
    batch = args.batch if args.batch is not None else default_batch(sys.stdin)
    if batch < 1:
        raise UserError("--batch must be at least 1")
    analyzer = build_analyzer(ctx.config)
    progress = sys.stderr if sys.stderr.isatty() else None
    _ok, bad = score_stream(analyzer, sys.stdin, sys.stdout, batch=batch, progress=progress)
    return 1 if bad else 0


def default_batch(inp: IO[str]) -> int:
    """1 for a terminal (answer each typed line at once), DEFAULT_BATCH for a file or pipe."""
    try:
        return 1 if inp.isatty() else DEFAULT_BATCH
    except (AttributeError, ValueError):  # a closed or unusual stream: treat it as a file
        return DEFAULT_BATCH


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("score", help="score JSON lines from stdin (texts or interactions), print JSON lines")
    p.add_argument("--batch", type=int, default=None,
                   help=f"lines analysed together (default {DEFAULT_BATCH} for a file or pipe, 1 on a terminal; "
                        "1 = answer each line at once)")
    p.set_defaults(func=run)
