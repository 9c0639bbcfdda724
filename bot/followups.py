"""Alert follow-ups: when a flag that was alerted is reviewed or contested anywhere (TUI,
API, CLI, another Slack message), say so in the alert's thread, so the channel that saw
the alarm also sees the verdict. Reviews made with the alert's own buttons already update
that message and get no extra reply."""

from __future__ import annotations

from typing import Any

from bot import blocks as bk
from store import reviews
from store.db import Store


def text_for(st: reviews.ReviewState) -> str:
    who = st.reviewer or "someone"
    if who.startswith("slack:"):
        who = f"<@{who.removeprefix('slack:')}>"
    if st.change == "contest":
        return f"Flag {st.flag_id} was contested by the agent and is back in the review queue."
    verb = {"confirmed": "confirmed", "dismissed": "dismissed", "open": "reopened"}[st.review_status]
    why = f": {st.review_reason}" if st.review_reason and st.review_status != "open" else ""
    counts = " It no longer counts in any number." if st.review_status == "dismissed" else ""
    return f"Flag {st.flag_id} {verb} by {bk.escape(who)}{bk.escape(why)}.{counts}"


def attach(store: Store, client: Any) -> None:
    """Post follow-ups with `client` after every review of an alerted flag on `store`."""

    def follow_up(st: reviews.ReviewState) -> None:
        if st.via == "slack" and st.change != "contest":
            return  # the buttons' message was updated in place
        for channel, ts in reviews.alert_messages(store, st.flag_id):
            client.chat_postMessage(channel=channel, thread_ts=ts, text=text_for(st))

    reviews.on_change(store, follow_up)
