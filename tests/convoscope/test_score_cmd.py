"""`convoscope score`: JSON lines in, JSON lines out, errors per line, one model load."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

CONFIG = """
[sentiment]
backend = "vader"

[topics]
taxonomy = [
  { name = "refund", description = "I want my money back", hints = ["refund", "money back"] },
]

[[rules]]
name = "churn_threat"
flag = "churn_risk"
severity = "high"
[[rules.when.any]]
phrase = ["cancel my account"]
speaker = "customer"
"""


def _run(tmp_path: Path, lines: list[str]) -> tuple[int, list[dict], str]:
    cfg = tmp_path / "convoscope.toml"
    cfg.write_text(CONFIG)
    proc = subprocess.run(
        [sys.executable, "-m", "convoscope", "--config", str(cfg), "score"],
        input="\n".join(lines) + "\n", capture_output=True, text=True, timeout=300,
        env={**__import__("os").environ, "CONVOSCOPE_CACHE": str(tmp_path / "cache")},
    )  # fmt: skip
    return proc.returncode, [json.loads(line) for line in proc.stdout.splitlines()], proc.stderr


@pytest.mark.slow  # loads MiniLM for the topic taxonomy
def test_score_stream_texts_interactions_and_bad_lines(tmp_path: Path) -> None:
    call = {
        "id": "call-7", "channel": "call", "queue": "billing", "duration": 13.0,
        "turns": [
            {"speaker": "agent", "text": "Thanks for calling, how can I help?", "start": 0.0, "end": 2.0},
            {"speaker": "customer", "text": "This is ridiculous. Refund me now or cancel my account!", "start": 6.0, "end": 9.0},
        ],
    }  # fmt: skip
    lines = [
        json.dumps({"id": 1, "text": "I love this service, thank you so much!"}),
        "{not json",
        json.dumps({"id": "bad", "turns": [{"speaker": "boss", "text": "hi"}]}),
        json.dumps(call),
        json.dumps({"id": "card", "text": "my card is four one one one one one one one one one one one one one one one"}),
    ]
    rc, out, err = _run(tmp_path, lines)
    assert rc == 1, err  # some lines were bad
    assert [o.get("id") for o in out] == [1, None, "bad", "call-7", "card"]
    happy, broken, bad, scored_call, card = out
    assert happy["sentiment"]["label"] == "positive" and 0 < happy["sentiment"]["score"] <= 1
    assert 0 <= happy["anger"] <= 1 and happy["flags"] == []
    assert "error" in broken and broken["line"] == 2
    assert "speaker" in bad["error"]
    assert scored_call["sentiment"]["label"] == "negative" and scored_call["sentiment"]["score"] < 0
    assert [f["kind"] for f in scored_call["flags"]] == ["churn_risk"] or "churn_risk" in {
        f["kind"] for f in scored_call["flags"]
    }
    assert scored_call["topics"][0]["topic"] == "refund"
    assert scored_call["metrics"]["non_talk_seconds"] == pytest.approx(4.0 + 4.0)  # 2-6 s and 9-13 s
    assert card["redacted"] == ["my card is [PII:CARD]"]


def test_score_lines_parse_to_interactions() -> None:
    from convoscope.commands.score import BadInput, parse_line

    it = parse_line({"id": 3, "turns": [{"speaker": "agent", "text": "hi", "start": 0, "end": 1}]})
    assert it.channel == "call" and it.turns[0].start == 0.0
    it = parse_line({"id": 4, "text": "hello"})
    assert it.channel == "chat" and it.turns[0].speaker == "customer"
    for bad in ([], {"id": 1}, {"turns": []}, {"text": "x", "channel": "fax"}, {"turns": [{"text": 3}]}):
        with pytest.raises(BadInput):
            parse_line(bad)


def test_batched_scoring_keeps_order_and_per_line_errors() -> None:
    import io

    from analysis.anger import AngerOptions
    from analysis.options import AnalysisOptions
    from analysis.pipeline import Analyzer
    from analysis.redaction import RedactionOptions
    from analysis.rules import RuleOptions
    from analysis.sentiment import SentimentOptions
    from analysis.topics import TopicOptions
    from convoscope.commands.score import score_stream

    analyzer = Analyzer(
        AnalysisOptions(), sentiment=SentimentOptions(backend="vader"), anger=AngerOptions(),
        topics=TopicOptions(taxonomy=[]), rules=[RuleOptions(name="r", when={"phrase": "cancel my account"})],
        redaction=RedactionOptions(), cache_dir="/nonexistent",
    )  # fmt: skip
    lines = [json.dumps({"id": i, "text": t}) for i, t in enumerate(
        ["great, thanks!", "please cancel my account", "awful service", "ok"])]  # fmt: skip
    lines.insert(2, "[1, 2]")
    out = io.StringIO()
    ok, bad = score_stream(analyzer, io.StringIO("\n".join(lines) + "\n"), out, batch=3)
    rows = [json.loads(x) for x in out.getvalue().splitlines()]
    assert (ok, bad) == (4, 1)
    assert [r.get("id") for r in rows] == [0, 1, None, 2, 3]
    assert "error" in rows[2] and rows[2]["line"] == 3
    assert [f["kind"] for f in rows[1]["flags"]] == ["rule:r"]
    assert rows[0]["sentiment"]["label"] == "positive" and rows[3]["sentiment"]["label"] == "negative"
