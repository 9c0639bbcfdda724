"""Print the README's question table from real answers on the demo store.

    python bench/question_table.py [--db demo/demo.duckdb] [--tz Europe/Berlin]

Runs each question below through the same engine as Slack and `convoscope ask` (as a
supervisor) on a store built by `convoscope demo`, and prints a Markdown table of question →
answer text (shortened after `--width` characters; the Slack answer adds buttons and pages).
The README's table is this script's output, so it shows what the product says, not what
we hoped it would say; rerun it after changing the parser or the answers.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.questions import answer_payload
from store import Store

QUESTIONS = [
    "angry calls in the last 14 days",
    "compliance violations this month",
    "escalations in billing in the last 14 days",
    "emails about refunds in the last 14 days",
    "calls not in billing in the last 14 days",
    "calls longer than 30 seconds this month",
    "negative chats in the last 14 days",
    "calls mentioning refund this month",
    "which agent has the most angry calls in the last 14 days",
    "average sentiment by queue in the last 14 days",
    "how many chats this week vs last week",
    "show call 1",
    "how is agent 1042 doing this month?",
    "top topics of angry calls in the last 14 days",
    "rising issues this week",
    "repeat callers in the last 14 days",
    "unresolved issues in the last 14 days",
    "incorrect information in the last 14 days",
    "how many billing chats were resolved first time in the last 14 days?",
    "follow-ups due in the last 14 days",
    "what do low-satisfaction calls have in common?",
    "best phrases for billing",
    "angry calls by Maria urgently",
]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", default="demo/demo.duckdb")
    ap.add_argument("--tz", default="Europe/Berlin")
    ap.add_argument("--width", type=int, default=420, help="shorten answers after this many characters")
    args = ap.parse_args()
    if not Path(args.db).exists():
        print(f"no store at {args.db}: run `convoscope demo` first", file=sys.stderr)
        return 2
    tz = ZoneInfo(args.tz)
    print("| you ask | it answers (from `make demo`'s data) |\n|---|---|")
    with Store.open(args.db, read_only=True) as store:
        for q in QUESTIONS:
            text = answer_payload(store, tz, q, role="supervisor")["text"]
            flat = " ".join(text.replace("|", "\\|").split())
            if len(flat) > args.width:
                flat = flat[: args.width].rsplit(" ", 1)[0] + " …"
            print(f"| `{q}` | {flat} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
