"""Block Kit rendering: sections with readable fallback text, pagination and review buttons.

Slack shows `text` in notifications and to clients that cannot render blocks, so every
message built here carries both. Block Kit limits (50 blocks per message, 3000 characters
per section text, 2000 per button value) are respected by construction: lists are paged
by the caller, and texts are cut with `clip`.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from store.records import SEVERITY_NAMES

Block = dict[str, Any]
SECTION_MAX = 3000
PAGE_ACTION = "convoscope_page"
CONFIRM_ACTION = "flag_confirm"
DISMISS_ACTION = "flag_dismiss"
LISTEN_ACTION = "flag_listen"
DISMISS_MODAL = "flag_dismiss_modal"
SEVERITY_ICON = {1: ":white_circle:", 2: ":large_yellow_circle:", 3: ":large_orange_circle:",
                 4: ":red_circle:"}  # fmt: skip


def clip(text: str, limit: int = SECTION_MAX) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def fit(blocks: list[Block], limit: int = 50) -> list[Block]:
    """At most `limit` blocks (Slack refuses more), the last saying what was left out."""
    if len(blocks) <= limit:
        return blocks
    return [*blocks[: limit - 1], context(f"…{len(blocks) - limit + 1} more blocks left out")]


def escape(text: str) -> str:
    """Escape the three characters Slack's mrkdwn treats as control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": clip(text)}}


def header(text: str) -> Block:
    return {"type": "header", "text": {"type": "plain_text", "text": clip(text, 150)}}


def context(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": clip(text)}]}


def divider() -> Block:
    return {"type": "divider"}


def fmt_time(value: datetime | None, tz: ZoneInfo) -> str:
    if value is None:
        return "?"
    return value.astimezone(tz).strftime("%a %d %b %H:%M")


def fmt_num(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{value:+.{digits}f}"


def severity_name(value: int | None) -> str:
    return SEVERITY_NAMES.get(int(value), str(value)) if value is not None else "?"


def page_button(question: str, page: int, label: str) -> Block:
    return {
        "type": "button",
        "action_id": f"{PAGE_ACTION}_{page}",
        "text": {"type": "plain_text", "text": label},
        "value": clip(json.dumps({"q": question, "p": page}), 2000),
    }


def pager(question: str, page: int, pages: int) -> list[Block]:
    """Previous/next buttons under a paged list (nothing when it fits one page)."""
    if pages <= 1:
        return []
    buttons = []
    if page > 0:
        buttons.append(page_button(question, page - 1, "Previous page"))
    if page + 1 < pages:
        buttons.append(page_button(question, page + 1, "Next page"))
    return [
        context(f"Page {page + 1} of {pages}"),
        {"type": "actions", "block_id": "convoscope_pager", "elements": buttons},
    ]


def review_buttons(flag_id: int, interaction_id: int, rev: int = 0, *, listen: bool = False) -> Block:
    """Confirm / Dismiss buttons for one open flag (dismiss asks for a reason). `rev` is
    the review revision shown: a press after someone else reviewed it is refused as stale.
    `listen` adds "Listen": a clip of the redacted call audio around the evidence, posted
    in the thread (call flags)."""
    value = json.dumps({"flag": flag_id, "interaction": interaction_id, "rev": int(rev)})
    elements = [
        {"type": "button", "action_id": CONFIRM_ACTION, "style": "primary",
         "text": {"type": "plain_text", "text": "Confirm"}, "value": value},
        {"type": "button", "action_id": DISMISS_ACTION,
         "text": {"type": "plain_text", "text": "Dismiss…"}, "value": value},
    ]  # fmt: skip
    if listen:
        elements.append({"type": "button", "action_id": LISTEN_ACTION,
                         "text": {"type": "plain_text", "text": "Listen (redacted)"}, "value": value})  # fmt: skip
    return {"type": "actions", "block_id": f"review_{flag_id}", "elements": elements}


def dismiss_modal(flag_id: int, private_metadata: str) -> dict[str, Any]:
    """The modal asking why a flag is dismissed (a reason is required: it becomes a
    labelled example for the rule's authors)."""
    return {
        "type": "modal",
        "callback_id": DISMISS_MODAL,
        "private_metadata": clip(private_metadata, 3000),
        "title": {"type": "plain_text", "text": "Dismiss flag"},
        "submit": {"type": "plain_text", "text": "Dismiss"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            section(f"Dismiss flag {flag_id}? It stays visible as dismissed in the TUI."),
            {
                "type": "input",
                "block_id": "reason",
                "optional": False,
                "label": {"type": "plain_text", "text": "Why is the flag wrong?"},
                "element": {"type": "plain_text_input", "action_id": "reason", "multiline": True},
            },
        ],
    }


def reviewed_note(flag_id: int, status: str, user: str, reason: str | None) -> Block:
    verb = {"confirmed": "confirmed", "dismissed": "dismissed", "open": "reopened"}.get(status, status)
    why = f": {escape(reason)}" if reason else ""
    return context(f":white_check_mark: Flag {flag_id} {verb} by <@{user}>{why}")


def replace_review_block(blocks: list[Block], flag_id: int, note: Block) -> list[Block]:
    """The same message with the flag's buttons replaced by who reviewed it."""
    out: list[Block] = []
    replaced = False
    for b in blocks:
        if b.get("type") == "actions" and b.get("block_id") == f"review_{flag_id}":
            out.append(note)
            replaced = True
        else:
            out.append(b)
    if not replaced:
        out.append(note)
    return out


def table(header: list[str], rows: list[list[str]], *, limit: int = SECTION_MAX) -> Block:
    """A ranked table or breakdown as one monospace section (Slack has no portable table
    block): columns padded to their widest cell, the first left-aligned, the rest right.
    Rows that would pass the section limit are left out, saying how many."""
    cells = [header, *rows]
    widths = [max(len(r[k]) for r in cells) for k in range(len(header))]

    def line(r: list[str]) -> str:
        return "  ".join(c.ljust(widths[k]) if k == 0 else c.rjust(widths[k]) for k, c in enumerate(r))

    out = [line(header), "  ".join("-" * w for w in widths)]
    for n, r in enumerate(rows):
        nxt = line(r)
        if sum(len(x) + 1 for x in out) + len(nxt) + 40 > limit:
            out.append(f"… {len(rows) - n} more rows")
            break
        out.append(nxt)
    return {"type": "section", "text": {"type": "mrkdwn", "text": "```" + escape("\n".join(out)) + "```"}}
