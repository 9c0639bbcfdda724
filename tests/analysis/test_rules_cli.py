"""The issue's rule rows through `convoscope score` (a real subprocess): no flag, and the
output says which words were found and why they did not count."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

#: vader and no taxonomy / cluster model: nothing loads MiniLM, so this runs in seconds
FAST = """
[sentiment]
backend = "vader"

[topics]
taxonomy = []

[patterns.clusters]
model = "/not/used/by/this/test"

[[rules]]
name = "prohibited_promise"
flag = "prohibited_phrase"
severity = "high"
when = { phrase = ["guaranteed", "i guarantee", "i promise you"], speaker = "agent", fuzzy = 90 }
"""


def _score(tmp_path: Path, config: str, lines: list[dict]) -> list[dict]:
    cfg = tmp_path / "convoscope.toml"
    cfg.write_text(config)
    proc = subprocess.run(
        [sys.executable, "-m", "convoscope", "--config", str(cfg), "score", "--batch", "8"],
        input="\n".join(json.dumps(x) for x in lines) + "\n", capture_output=True, text=True, timeout=300,
        env={**os.environ, "CONVOSCOPE_CACHE": str(tmp_path / "cache")},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return [json.loads(line) for line in proc.stdout.splitlines()]


@pytest.mark.slow  # a real CLI process or a long run: `make test` keeps it, test-fast does not
def test_score_first_row_is_a_refusal_not_a_promise(tmp_path: Path) -> None:
    refused, promised = _score(tmp_path, FAST, [
        {"id": "row1", "speaker": "agent", "text": "I cannot guarantee that the refund arrives tomorrow."},
        {"id": "promise", "speaker": "agent", "text": "I guarantee that the refund arrives tomorrow."},
    ])  # fmt: skip
    assert refused["flags"] == []
    (note,) = refused["rules_not_counted"]
    assert note["kind"] == "prohibited_phrase"
    assert note["not_counted"][0]["why"] == "negated by 'cannot'"
    assert note["not_counted"][0]["matched"] == "guarantee"
    (flag,) = promised["flags"]
    assert flag["kind"] == "prohibited_phrase" and flag["evidence"][0]["clause"] == "affirmative"
    assert promised["rules_not_counted"] == []


@pytest.mark.slow  # the shipped rules' disclosure check loads MiniLM
def test_score_issue_rows_with_the_shipped_rules(tmp_path: Path) -> None:
    config = '[sentiment]\nbackend = "vader"\n'
    rows = [
        {"id": 1, "speaker": "agent", "text": "I cannot guarantee that the refund arrives tomorrow."},
        {"id": 2, "speaker": "customer", "text": "I'm not going to cancel my account, I just want the fee explained."},
        {"id": 3, "speaker": "customer", "text": "no need to speak to a manager, thanks"},
        {"id": 4, "speaker": "customer", "text": "my manager told me to call you"},
        {"id": 5, "speaker": "customer", "text": "I want to cancel my account."},
    ]
    out = _score(tmp_path, config, rows)
    assert [[f["kind"] for f in o["flags"]] for o in out] == [[], [], [], [], ["churn_risk"]]
    whys = {o["id"]: [x["why"] for n in o["rules_not_counted"] for x in n["not_counted"]] for o in out}
    assert set(whys[2]) == {"negated by 'not'"} and set(whys[3]) == {"negated by 'no need to'"}
