"""An ambiguous name gets a short choice, never a guess.

When a question names something that fits several stored values ("calls from John" with
agents John Carter and John Okafor), the parser records the candidates in
`Query.extra["ambiguous"]` and the answer is a question back: one Slack button per
candidate, whose value is the question re-written with that candidate's full name. The
press re-asks it through the same path as any question (`answer_for`: role check, audit),
so a button grants nothing a typed question would not.
"""

from __future__ import annotations

import json
import re
from typing import Any

from bot import blocks as bk
from store.query import Query

CHOICE_ACTION = "convoscope_choose"
MAX_CHOICES = 5  # Slack allows 25 elements; more than a handful is not a "short choice"


def rewrite(question: str, typed: str, value: str) -> str:
    """`question` with the ambiguous mention `typed` replaced by `value` (first occurrence,
    keeping a possessive: "john's chats" → "John Carter's chats")."""
    rx = re.compile(rf"(?<![\w]){re.escape(typed)}(?![\w])", re.I)
    if rx.search(question):
        return rx.sub(value.replace("\\", r"\\"), question, count=1)
    return f"{question} ({value})"


def choice_text(q: Query) -> str | None:
    """"Which agent did you mean: John Carter or John Okafor?", or None when nothing is
    ambiguous."""
    amb = q.extra.get("ambiguous") if q.extra else None
    if not amb:
        return None
    lines = []
    for kind, values in amb.items():
        typed = (q.extra.get("typed") or {}).get(kind, "that name")
        lines.append(f"“{typed}” could be several {kind}s: which did you mean? "
                     + " or ".join(values[:MAX_CHOICES]) + "?")  # fmt: skip
    return " ".join(lines)


def choice_blocks(q: Query) -> list[dict[str, Any]]:
    """One actions block per ambiguous field, a button per candidate."""
    out: list[dict[str, Any]] = []
    amb = q.extra.get("ambiguous") if q.extra else None
    for n, (kind, values) in enumerate((amb or {}).items()):
        typed = (q.extra.get("typed") or {}).get(kind, "")
        buttons = []
        for i, value in enumerate(values[:MAX_CHOICES]):
            question = rewrite(q.text, typed, value) if typed else f"{q.text} ({value})"
            buttons.append({
                "type": "button", "action_id": f"{CHOICE_ACTION}_{n}_{i}",
                "text": {"type": "plain_text", "text": bk.clip(value, 75)},
                "value": bk.clip(json.dumps({"q": question}), 2000),
            })  # fmt: skip
        out.append({"type": "actions", "block_id": f"convoscope_choice_{n}", "elements": buttons})
    return out
