"""Is the customer angry? A per-turn probability and the interaction's `angry_customer` flag.

Each customer turn gets evidence features in [0, 1]:

* `negative` – P(negative) from the sentiment classifier;
* `lexicon` – anger words: NRC's count half each, our unambiguous list (furious, scam,
  ridiculous, ...) fully;
* `profanity` – alt-profanity-check's probability, counted from 0.5 up;
* `escalation` – a configured phrase ("speak to your manager", "this is ridiculous", ...),
  matched fuzzily so ASR near-misses still count;
* `repetition` – "I have called three times", "again", "still", or repeating an earlier
  customer turn's content words;
* `shouting` – text channels only: words in capitals, "!" (a lone "!" counts half);
* `voice_loud`, `voice_fast`, `voice_pitch`, `voice_calm` – calls only: louder than the
  speaker's own baseline (or than the other party), faster speech, a wider pitch range, or
  quieter/slower/flatter than usual (evidence against anger); see `_voice_parts` and
  analysis/voice.py. (`voice` in the features is their summary for the reasons.)

The probability is a logistic combination, p = σ(bias + Σ weightᵢ·featureᵢ), with the
weights in `AngerOptions`, fitted by bench/anger_fit.py on the train part of the
contact-centre turn set (as text, and spoken with set prosody by bench/anger_voice.py);
bench/verdicts_sentiment.py reports precision/recall on the held-out part. The interaction's anger is the maximum over customer
turns; turns at or above `turn_threshold` are "angry turns" and become the flag's evidence.
A flag is raised when the maximum reaches `flag_threshold`; severity: `critical` with at
least `critical_min_turns` angry turns and max ≥ `critical_threshold`, `high` with at least
`high_min_turns` angry turns or max ≥ `high_threshold`, `medium` at max ≥ `medium_threshold`,
else `low`.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np

from analysis import lexicons
from analysis.asr.audio import AudioError
from analysis.sentiment.classifier import TurnSentiment
from analysis.voice import TurnVoice, load_channels, measure
from store.records import SEVERITIES, Flag, Interaction

log = logging.getLogger(__name__)
DEFAULT_ESCALATION = [
    "speak to your manager", "speak to a manager", "talk to your manager", "talk to a manager",
    "speak to your supervisor", "speak to a supervisor", "talk to your supervisor",
    "talk to a supervisor", "get me a manager", "this is ridiculous", "unacceptable",
    "this is a joke", "absolutely ridiculous", "worst service", "worst customer service",
    "i am fed up", "i'm fed up", "sick and tired", "waste of my time", "wasting my time",
    "how many times", "file a complaint", "make a complaint", "report you", "i've had enough",
    "i have had enough", "are you kidding me", "you people", "last straw", "are you even listening",
    "i demand", "don't you dare", "get me someone", "enough is enough", "done with you",
    "nobody cares", "what the hell",
]
DEFAULT_IGNORE = [
    "money", "cash", "fee", "fees", "delay", "remove", "battery", "wireless", "words", "sentence",
    "court", "vote", "tree", "shot", "force", "feeling", "treat", "pound", "sterling", "stone",
    "gent", "coop", "repay", "restitution", "celebrity", "excite", "backbone", "elbow", "latent",
    "mule", "liquor", "tax", "bills", "owing", "hit", "disconnect", "default", "hold", "late",
    "rocket", "bout", "offset",
]
_REPEAT = re.compile(
    r"\b((called|phoned|rang|contacted|emailed|written|told|asked|explained)\b[\w\s']{0,25}?"
    r"\b(two|three|four|five|several|many|multiple|\d+)\s+times|again|already|still"
    r"|(the|my) (second|third|fourth|fifth|\w+th) time|(days|weeks|months) and still)\b"
)
#: the evidence features, each with a `weight_<name>` in AngerOptions
FEATURES = ("negative", "lexicon", "profanity", "escalation", "repetition", "shouting",
            "voice_loud", "voice_fast", "voice_pitch", "voice_calm")
_STOP = frozenset(
    ["i", "me", "my", "we", "our", "you", "your", "it", "is", "am", "are", "was", "were", "be", "been", "to", "the", "a", "an", "and", "or", "of", "in", "on", "for", "at", "this", "that", "with", "have", "has", "had", "do", "does", "did", "not", "no", "so", "but", "just", "can", "will", "would", "could", "please", "there", "what", "about"]
)


@dataclass
class AngerOptions:
    """`[anger]`: weights, thresholds and phrases of the anger score (see module docstring)."""

    __pydantic_config__ = {"extra": "forbid"}  # noqa: RUF012
    # fitted by bench/anger_fit.py (logistic regression) on the train part of the turn set's
    # customer turns and their synthesised recordings; held-out results: bench/verdicts_sentiment.py
    bias: float = -3.44
    weight_negative: float = 3.36
    weight_lexicon: float = 1.4
    weight_profanity: float = 0.48
    weight_escalation: float = 2.68
    weight_repetition: float = -0.03
    weight_shouting: float = 0.69
    # voice evidence, calls only (see `_voice_parts`)
    weight_voice_loud: float = 3.13
    weight_voice_fast: float = 1.33
    weight_voice_pitch: float = 0.28
    weight_voice_calm: float = -3.09
    turn_threshold: float = 0.5
    flag_threshold: float = 0.6
    medium_threshold: float = 0.7
    high_threshold: float = 0.85
    high_min_turns: int = 2
    critical_threshold: float = 0.9
    critical_min_turns: int = 3
    escalation_phrases: list[str] = field(default_factory=lambda: list(DEFAULT_ESCALATION))
    fuzzy_min_ratio: float = 90.0  # rapidfuzz partial ratio for phrases of 10+ characters
    lexicon_ignore: list[str] = field(default_factory=lambda: list(DEFAULT_IGNORE))
    min_voice_seconds: float = 1.0  # shorter turns give no voice evidence
    min_baseline_turns: int = 2  # the speaker needs this many measurable turns for a baseline
    stereo_agent_channel: str = "left"  # which side is the agent when a turn has no channel

    def __post_init__(self) -> None:
        for name in ("turn_threshold", "flag_threshold", "medium_threshold", "high_threshold",
                     "critical_threshold"):
            v = getattr(self, name)
            if not 0.0 < v < 1.0:
                raise ValueError(f"{name} must be between 0 and 1, got {v}")
        if not self.flag_threshold <= self.medium_threshold <= self.high_threshold <= self.critical_threshold:
            raise ValueError("thresholds must satisfy flag <= medium <= high <= critical")
        if self.high_min_turns < 1 or self.critical_min_turns < 1:
            raise ValueError("high_min_turns and critical_min_turns must be at least 1")
        if not 0 <= self.fuzzy_min_ratio <= 100:
            raise ValueError("fuzzy_min_ratio must be within 0..100")
        if self.min_voice_seconds < 0 or self.min_baseline_turns < 1:
            raise ValueError("min_voice_seconds must be >= 0 and min_baseline_turns >= 1")
        if self.stereo_agent_channel not in ("left", "right"):
            raise ValueError("stereo_agent_channel must be 'left' or 'right'")
        self.escalation_phrases = [p.strip().lower() for p in self.escalation_phrases if p.strip()]


@dataclass(slots=True)
class TurnAnger:
    """The evidence behind one customer turn's probability."""

    seq: int
    probability: float
    features: dict[str, float]
    words: list[str]
    reasons: list[str]


@dataclass(slots=True)
class AngerResult:
    per_turn: list[float | None]  # P(customer angry); None for non-customer turns
    loudness: list[float | None]  # 0..100 relative to the speaker's own level; None if unmeasured
    overall: float  # max over customer turns (0 with none)
    flag: Flag | None
    emotions: list[dict[str, float]] = field(default_factory=list)  # NRC shares per turn
    details: list[TurnAnger] = field(default_factory=list)  # customer turns only


def _clip(x: float) -> float:
    return max(0.0, min(1.0, x))


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


class AngerScorer:
    """Scores interactions; cheap to build, holds no model (profanity model loads lazily)."""

    def __init__(self, options: AngerOptions | None = None) -> None:
        self.options = options or AngerOptions()

    # ---- public -------------------------------------------------------------------------
    def prefetch(self, batch: Sequence[Interaction]) -> None:
        """Score the profanity of every customer turn of a batch in one model call (the
        per-interaction `score` calls then find them cached)."""
        lexicons.profanity([t.text or "" for it in batch for t in it.turns if t.speaker == "customer"])

    def score(
        self, interaction: Interaction, sentiments: Sequence[TurnSentiment],
        audio_path: str | None = None, channels: Sequence[np.ndarray] | None = None,
    ) -> AngerResult:
        """Per-turn anger, loudness, the overall score and the flag (if any).

        `audio_path` (or already decoded `channels`) enables the voice evidence for calls.
        """
        turns = interaction.turns
        if len(turns) != len(sentiments):
            raise ValueError(f"{len(turns)} turns but {len(sentiments)} sentiments")
        voices: list[TurnVoice | None] = [None] * len(turns)
        if interaction.channel == "call" and (channels is not None or audio_path):
            try:
                chans = list(channels) if channels is not None else load_channels(audio_path)  # type: ignore[arg-type]
            except (AudioError, OSError) as exc:
                # the transcript is still there: score the text, say why the voice is missing
                log.warning("anger: no voice evidence for %s: %s", interaction.external_id, exc)
                chans = []
            if chans:
                voices = measure(chans, turns, self.options.stereo_agent_channel, self.options.min_voice_seconds)
                _relate_to_other_party(voices)
        words = [lexicons.tokens(t.text or "") for t in turns]
        cust = [i for i, t in enumerate(turns) if t.speaker == "customer"]
        prof = lexicons.profanity([turns[i].text or "" for i in cust])
        per_turn: list[float | None] = [None] * len(turns)
        details: list[TurnAnger] = []
        earlier: list[set[str]] = []
        for k, i in enumerate(cust):
            d = self._turn(i, interaction, words[i], sentiments[i], prof[k], voices[i], earlier)
            earlier.append({w for w in words[i] if w not in _STOP})
            per_turn[i] = d.probability
            details.append(d)
        overall = max((d.probability for d in details), default=0.0)
        return AngerResult(
            per_turn=per_turn,
            loudness=[v.loudness if v else None for v in voices],
            overall=round(overall, 4),
            flag=self._flag(interaction, details),
            emotions=[lexicons.emotions(w) for w in words],
            details=details,
        )

    def score_text(self, texts: Sequence[str], sentiments: Sequence[TurnSentiment]) -> list[float]:
        """Anger of standalone customer messages, each scored on its own (bench, ad hoc)."""
        from store.records import Turn

        return [
            self.score(Interaction("chat", "adhoc", str(i), "", turns=[Turn(seq=0, speaker="customer", text=t)]),
                       [sentiments[i]]).overall
            for i, t in enumerate(texts)
        ]

    # ---- evidence -----------------------------------------------------------------------
    def _turn(
        self, i: int, inter: Interaction, words: list[str], sent: TurnSentiment, prof: float,
        voice: TurnVoice | None, earlier: list[set[str]],
    ) -> TurnAnger:
        o = self.options
        turn = inter.turns[i]
        text = turn.text or ""
        low = " ".join(words)
        reasons: list[str] = []
        hits: list[str] = []
        f: dict[str, float] = {}

        neg = sent.probs.get("negative") if sent.probs else None
        f["negative"] = _clip(neg if neg is not None else max(0.0, -sent.score))
        if sent.label == "negative":
            reasons.append(f"negative sentiment ({f['negative']:.2f})")

        angry_words = lexicons.anger_words(words, o.lexicon_ignore)
        f["lexicon"] = lexicons.anger_weight(angry_words)
        if angry_words:
            hits += angry_words
            reasons.append("anger words: " + ", ".join(dict.fromkeys(angry_words)))

        f["profanity"] = prof if prof >= 0.5 else 0.0
        if f["profanity"]:
            reasons.append(f"profanity ({prof:.2f})")

        phrases = self._escalation(low)
        f["escalation"] = 1.0 if phrases else 0.0
        if phrases:
            hits += phrases
            reasons.append("escalation: " + "; ".join(f'"{p}"' for p in phrases))

        rep = _REPEAT.search(low)
        content = {w for w in words if w not in _STOP}
        overlap = max((len(content & e) / len(content | e) for e in earlier if e), default=0.0)
        f["repetition"] = 1.0 if rep or (len(content) >= 3 and overlap >= 0.5) else 0.0
        if rep:
            hits.append(rep.group(0))
            reasons.append(f'repetition: "{rep.group(0)}"')
        elif f["repetition"]:
            reasons.append("repeats an earlier turn")

        f["shouting"] = _shouting(text) if inter.channel != "call" else 0.0
        if f["shouting"]:
            reasons.append("capitals / exclamation marks")

        parts = self._voice_parts(voice)
        f.update({f"voice_{k}": v for k, v in parts.items()})
        f["voice"] = round(0.5 * parts["loud"] + 0.25 * parts["fast"] + 0.25 * parts["pitch"], 3)
        if f["voice"] >= 0.3 and voice is not None:
            reasons.append(_voice_reason(voice))
        elif parts["calm"] >= 0.5 and voice is not None:
            reasons.append("voice calm: " + _voice_reason(voice).removeprefix("voice: "))

        z = o.bias + sum(getattr(o, f"weight_{name}") * f[name] for name in FEATURES)
        return TurnAnger(turn.seq, round(_sigmoid(z), 4), {k: round(v, 3) for k, v in f.items()},
                         list(dict.fromkeys(hits)), reasons)

    def _escalation(self, low: str) -> list[str]:
        """Configured phrases in the turn: exact words first, then fuzzy (ASR near-misses)."""
        from rapidfuzz import fuzz

        found: list[str] = []
        spans: list[tuple[int, int]] = []
        phrases, patterns = _escalation_patterns(tuple(self.options.escalation_phrases))
        for phrase, rx in zip(phrases, patterns, strict=True):
            for m in rx.finditer(low):
                if not any(a < m.end() and m.start() < b for a, b in spans):
                    spans.append(m.span())
                    found.append(phrase)
        for phrase in phrases:
            if phrase in found or len(phrase) < 10:
                continue
            # with the cutoff rapidfuzz prunes alignments below it (about half the cost, #15)
            # and returns None there: most phrases are not in the turn
            al = fuzz.partial_ratio_alignment(phrase, low, score_cutoff=self.options.fuzzy_min_ratio)
            if al is not None and not any(a < al.dest_end and al.dest_start < b for a, b in spans):
                spans.append((al.dest_start, al.dest_end))
                found.append(phrase)
        return found

    def _voice_parts(self, v: TurnVoice | None) -> dict[str, float]:
        """Voice evidence in 0..1 against the caller's own baseline (and the agent's level).

        loud: 1..7 dB above their usual level (or 4..12 dB above the agent, counted 3/4);
        fast: 10..40 % more words per second than usual (or than the agent); pitch: a pitch
        range 0..4 semitones wider than usual; calm: quieter, slower and flatter than usual
        (the mean of the three, each saturating at 4 dB, 15 % and 3 semitones), the voice's
        evidence *against* anger when the words are strong but the reading is flat.
        """
        o = self.options
        if v is None or v.seconds < o.min_voice_seconds or v.baseline_turns < o.min_baseline_turns:
            return dict.fromkeys(("loud", "fast", "pitch", "calm"), 0.0)
        delta = v.loudness_delta_db or 0.0
        loud_own = _clip((delta - 1.0) / 6.0)
        loud_other = _clip(((v.loudness_vs_other_db or 0.0) - 4.0) / 8.0) * 0.75
        rate = v.rate_ratio or 1.0
        fast = max(_clip(((v.rate_ratio_vs_other or rate) - 1.1) / 0.3), _clip((rate - 1.1) / 0.3))
        pitch_delta = v.pitch_range_delta_st or 0.0
        pitch = _clip(pitch_delta / 4.0)
        calm = (_clip(-delta / 4.0) + _clip((1.0 - rate) / 0.15) + _clip(-pitch_delta / 3.0)) / 3.0
        return {"loud": round(max(loud_own, loud_other), 3), "fast": round(fast, 3),
                "pitch": round(pitch, 3), "calm": round(calm, 3)}

    def _flag(self, inter: Interaction, details: list[TurnAnger]) -> Flag | None:
        o = self.options
        if not details:
            return None
        top = max(d.probability for d in details)
        if top < o.flag_threshold:
            return None
        angry = [d for d in details if d.probability >= o.turn_threshold]
        if len(angry) >= o.critical_min_turns and top >= o.critical_threshold:
            sev = "critical"
        elif len(angry) >= o.high_min_turns or top >= o.high_threshold:
            sev = "high"
        elif top >= o.medium_threshold:
            sev = "medium"
        else:
            sev = "low"
        by_seq = {t.seq: t for t in inter.turns}
        evidence: list[dict[str, Any]] = []
        for d in angry:
            t = by_seq[d.seq]
            evidence.append({
                "seq": d.seq, "start": t.start, "end": t.end,
                "sent_at": t.sent_at.isoformat() if t.sent_at else None,
                "words": d.words, "reason": "; ".join(d.reasons), "probability": d.probability,
                "word_times": _word_times(t, d.words),
            })
        return Flag(
            interaction_id=inter.id if inter.id is not None else 0, kind="angry_customer",
            severity=SEVERITIES[sev], score=round(top, 4), evidence=evidence,
            summary=f"customer angry in {len(angry)} turn(s), max {top:.2f}",
        )


def _shouting(text: str) -> float:
    caps = [w for w in re.findall(r"[A-Za-z]{3,}", text) if w.isupper()]
    words = re.findall(r"[A-Za-z]{3,}", text)
    bangs = text.count("!")
    score = 0.0
    if len(caps) >= 2 or (words and len(caps) / len(words) >= 0.3 and caps):
        score = 1.0
    if bangs >= 2:
        score = 1.0
    elif bangs == 1:
        score = max(score, 0.5)
    return score


def _voice_reason(v: TurnVoice) -> str:
    bits = []
    if v.loudness_delta_db is not None:
        bits.append(f"{v.loudness_delta_db:+.1f} dB vs own level")
    if v.loudness_vs_other_db is not None:
        bits.append(f"{v.loudness_vs_other_db:+.1f} dB vs the agent")
    if v.speech_rate is not None:
        bits.append(f"{v.speech_rate:.1f} words/s")
    if v.pitch_range_st is not None:
        bits.append(f"pitch range {v.pitch_range_st:.1f} st")
    return "voice: " + ", ".join(bits)


def _word_times(turn: Any, hits: list[str]) -> list[dict[str, Any]]:
    """Times of the evidence words inside a call turn (empty for text channels)."""
    if not turn.words:
        return []
    wanted = {w for h in hits for w in lexicons.tokens(h)}
    return [
        {"word": w.word.strip(), "start": round(w.start, 2), "end": round(w.end, 2)}
        for w in turn.words
        if set(lexicons.tokens(w.word)) & wanted
    ]


def _relate_to_other_party(voices: list[TurnVoice | None]) -> None:
    """Add loudness / rate relative to the other party's median (a cross-check of level)."""
    import statistics

    for v in voices:
        if v is None:
            continue
        others = [o for o in voices if o and o.speaker != v.speaker and o.seconds >= 1.0]
        loud = [o.loudness_lufs for o in others if o.loudness_lufs is not None]
        rate = [o.speech_rate for o in others if o.speech_rate is not None]
        if loud and v.loudness_lufs is not None:
            v.loudness_vs_other_db = round(v.loudness_lufs - statistics.median(loud), 2)
        if rate and v.speech_rate is not None:
            v.rate_ratio_vs_other = round(v.speech_rate / statistics.median(rate), 3)


@lru_cache(maxsize=16)
def _escalation_patterns(configured: tuple[str, ...]) -> tuple[list[str], list[re.Pattern[str]]]:
    """The escalation phrases as the turn's tokens spell them, and each one's whole-word
    pattern: built once per phrase list, not per turn (it was a third of the anger stage)."""
    phrases = [" ".join(lexicons.tokens(p)) for p in configured]
    return phrases, [re.compile(rf"\b{re.escape(phrase)}\b") for phrase in phrases]
