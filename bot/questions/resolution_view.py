"""The resolution verdict in the bot's "show call N" answer.

Kept out of answers.py (past its size budget). The data comes from
`store.questions.interaction_detail` → `store.resolution.view`, so the reason and the
promised follow-up are already `pii_mask`ed; the due date is only there while the verdict
is `pending` (a resolved or overridden verdict has nothing left to follow up).
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from bot import safety


def resolution_item(r: dict[str, Any] | None, tz: ZoneInfo) -> dict[str, Any] | None:
    """The verdict as the answer's JSON item (due date in the workspace's time zone)."""
    if r is None:
        return None
    due = r.get("follow_up_due")
    return {
        "verdict": r["verdict"], "confidence": r["confidence"], "reason": safety.safe(r.get("reason") or ""),
        "follow_up_due": due.astimezone(tz).date().isoformat() if due is not None else None,
    }  # fmt: skip


def resolution_line(item: dict[str, Any] | None) -> str:
    """e.g. "Resolution: pending (0.82) · follow-up due 2026-03-12 — follow-up promised: '…'"."""
    if item is None:
        return ""
    line = f"Resolution: {item['verdict']} ({item['confidence']:.2f})"
    if item["follow_up_due"]:
        line += f" · follow-up due {item['follow_up_due']}"
    if item["reason"]:
        line += f" — {item['reason']}"
    return line
