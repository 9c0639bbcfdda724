"""Posting a flag's audio clip into a Slack thread: one path for the Listen button and for
alerts with `[alerts] attach_clips = true`.

Who may hear a clip is decided here, once: a clip is a piece of a call, so only a channel
whose own grant may see transcripts (everyone reading it may) gets one. The Listen button
also checks the presser; an alert has no presser, so the channel's grant alone decides.
The clip itself is `analysis.clips.make_clip` (redacted audio, cached by content).
"""

from __future__ import annotations

from typing import Any

from analysis.clips import Clip, make_clip
from store import audit
from store.db import Store
from store.permissions import allowed


def channel_may_hear(access: Any, channel: str | None) -> bool:
    """Whether everyone reading `channel` may hear calls (its grant may see transcripts).
    `access` is a `bot.access.AccessControl`."""
    return allowed(access.channel_role(channel), "transcripts")


def post_clip(client: Any, store: Store, flag_id: int, channel: str, thread_ts: str, *, actor: str) -> Clip:
    """Make (or reuse) the flag's clip and upload it into the thread of `thread_ts` through
    Slack's external upload flow; audit-logged as `actor`. Raises `KeyError` /
    `analysis.clips.ClipError` when there is no clip to make, and the Slack error when the
    upload fails: the caller decides how loud that is."""
    clip = make_clip(store, flag_id)
    client.files_upload_v2(
        channel=channel, thread_ts=thread_ts, content=clip.path.read_bytes(), filename=clip.path.name,
        title=f"Flag {flag_id}: call {clip.interaction_id}, {clip.start:.1f}–{clip.end:.1f} s (PII silenced)",
        initial_comment=f"Redacted audio around the evidence of flag {flag_id}. Did you hear it?",
    )  # fmt: skip
    audit.log(store, actor, "clip.post", f"flag:{flag_id}",
              {"via": "slack", "channel": channel, "start": clip.start, "end": clip.end})  # fmt: skip
    return clip
