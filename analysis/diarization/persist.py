"""The ASR job's store side of speakers: a call's context before, its results after.

Before transcribing: the call's agent id and direction (from its sidecar) and the agent's
enrolled voiceprint; whether to enrol (a stereo call, enrolment on, the print still short
of `voiceprint_max_seconds`, and not erased on request). After: the speaker assignment
(speaker_assignments) and the voiceprint update, written in the job's own transaction with
the turns; a stereo call of an agent whose print is full refreshes it (retention expires
prints no call has refreshed for `[retention] voiceprint_days`).
"""

from __future__ import annotations

from typing import Any

from analysis.diarization.call import MODEL, CallContext
from store import speakers as speakers_q
from store.records import Interaction


def call_context(store: Any, it: Interaction, options: Any) -> CallContext:
    """What is known about this call's speakers before it is transcribed."""
    vp = speakers_q.voiceprint(store, it.agent, MODEL) if it.agent else None
    enrol = bool(
        getattr(options, "voiceprint_enrolment", False) and it.agent
        and (vp is None or vp.seconds < float(getattr(options, "voiceprint_max_seconds", 0.0)))
        and not speakers_q.enrolment_suppressed(store, it.agent)
    )  # fmt: skip
    return CallContext(agent=it.agent, direction=it.direction,
                       voiceprint=vp.embedding if vp is not None else None, enrol=enrol)  # fmt: skip


def save(store: Any, interaction_id: int, transcript: Any, con: Any) -> None:
    """Store how the call's speakers were assigned, and fold in an enrolled voiceprint."""
    extra = getattr(transcript, "extra", {}) or {}
    got = extra.get("speakers")
    if got:
        speakers_q.save_assignment(store, interaction_id, got["method"], got["speakers"],
                                   got["confidence"], got["evidence"], con=con)  # fmt: skip
    else:
        method = getattr(transcript, "speaker_source", "channel")
        speakers_q.save_assignment(store, interaction_id, method, 2 if method == "channel" else None,
                                   None, {}, con=con)  # fmt: skip
    vp = extra.get("agent_voiceprint")
    if vp:
        agent, model, vec, seconds = vp
        speakers_q.enrol(store, agent, model, vec, seconds, con=con)
    elif not got and getattr(transcript, "speaker_source", "channel") == "channel":
        speakers_q.refresh_for_call(store, interaction_id, con=con)
