"""The recording disclosure against talk about recordings that tells the customer nothing
about THIS call being recorded (the rd1 round on the disclosure probes): another call's
recording, the customer's own recording, a note "of this conversation", and a copy asked
for, which the MiniLM anchor rates close to a disclosure. Phrasings are written for these
tests, not copied from the probe file or any labelled set."""

from __future__ import annotations

import numpy as np
import pytest
from rules_helpers import _kinds

from analysis.rules import RuleEngine, RuleOptions
from store.records import Interaction, Turn

NOT_A_DISCLOSURE = [
    # another call than this one
    "can you tell me whether your earlier call was recorded",
    "i'll check if the conversation you had on friday was recorded",
    "the calls were recorded back then but we only keep them a year",
    "our old chat was taped i think, let me look",
    # the customer recording
    "are you recording this call on your end, that's fine by me",
    "if you taped the conversation yourself you can send it in",
    "you've recorded all the calls with the builder, brilliant",
    # a note, not a recording
    "i'm going to make a record of this call on your account",
]

STILL_A_DISCLOSURE = [
    "morning, thanks for ringing, this call is recorded for training",
    "hiya just so you know the conversation is being recorded",
    "calls to our helpline are recorded for quality, how can i help",
    "calls from this office may be recorded and monitored",
    "we record our calls, so how can i help you today",
    "i have to tell you this call is reckorded for quality",
    "did you know this call is recorded",
    "as on your previous call, this call is recorded",
]


@pytest.mark.parametrize("text", NOT_A_DISCLOSURE)
def test_talk_of_other_recordings_is_no_disclosure(
    shipped_phrases_only: RuleEngine, text: str
) -> None:
    assert "compliance_missing" in _kinds(shipped_phrases_only, "agent", text)


@pytest.mark.parametrize("text", STILL_A_DISCLOSURE)
def test_disclosures_still_pass(shipped_phrases_only: RuleEngine, text: str) -> None:
    assert "compliance_missing" not in _kinds(shipped_phrases_only, "agent", text)


def _one_turn(text: str) -> Interaction:
    return Interaction("call", "t", "x", "h", turns=[Turn(0, "agent", text, start=2.0, end=6.0)])


def test_a_semantic_except_drops_a_similar_turn_holding_a_look_alike() -> None:
    def embed(texts: list[str]) -> np.ndarray:  # every text means the same: only `except` decides
        return np.ones((len(texts), 3)) / np.sqrt(3)

    rule = RuleOptions(name="disc", flag="compliance_missing", when={"not": {
        "semantic": "this call is recorded", "threshold": 0.6, "speaker": "agent",
        "except": ["{want|like} a recording of"]}})  # fmt: skip
    eng = RuleEngine([rule], embed)
    assert eng.evaluate(_one_turn("do you want a recording of this call sent to you"), {}) != []
    assert eng.evaluate(_one_turn("this call is recorded"), {}) == []
