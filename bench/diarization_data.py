"""Labelled two-speaker (and a few three-speaker) calls for bench/diarization.py.

Every call is synthesised here, so the truth is known to the sample: each utterance is
spoken by espeak-ng with its own voice (language/accent × variant × pitch × speed), levelled
by sox, placed on the call's timeline, and mixed to mono; 8 kHz calls are band-limited to
the telephone band (300-3400 Hz) and resampled to 8 kHz. The reference is who is audible
when: per utterance, the 10 ms frames above -45 dB of its own peak, pauses under 250 ms
inside an utterance filled (a word gap is not a turn gap), so overlaps are real overlaps.

What a call holds, drawn from a seeded RNG: an inbound call opens with the agent (with or
without a greeting phrase), an outbound one with the customer's "hello"; 6-14 turns;
back-channels ("mm-hmm", "okay", "right") from the listener, inside a pause or over the end
of the other's turn; cut-ins (negative pauses); long pauses mid-turn (1.5-3 s, the turn is
spoken in two parts by the same voice); one in five calls has no greeting/closing phrase at
all (the assignment must then use the voiceprint or who spoke first).

Sets (`split`): "dev" (seeds 1000+, voices from DEV_VARIANTS) is the only set any threshold
was chosen on; "eval" (seeds 5000+, voices from EVAL_VARIANTS, disjoint) is scored by the
bench and never used to choose anything. Each agent id has its own voice, and its
enrolment calls are separate stereo calls of the same voice with other words.

Overlap-heavy sets (`overlap=True`, splits "dev_overlap" seeds 2000+ with the dev voices and
"eval_overlap" seeds 6000+ with the eval voices; round 3 of #16): the same voices, lines and
mixing, but a script (`script_overlap`) in which both talk at once for 5-15 % of the speech:
cut-ins 0.3-2 s into the other's line (the interrupted line runs on), back-channels and
short remarks laid over the middle of the other's line, the customer talking over the
agent's recording disclosure, and both starting at once. The plain splits' scripts and
random draws are untouched (same seed, same call, byte for byte).
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

RATE = 16000
LANGS = ["en-us", "en-gb-x-rp", "en-gb-scotland", "en-029", "en-us-nyc", "en-gb-x-gbclan", "en-gb"]
DEV_VARIANTS = ["m1", "m3", "m5", "m7", "f1", "f3", "f5", "adam", "linda", "steph", "Andy", "edward"]
EVAL_VARIANTS = ["m2", "m4", "m6", "m8", "f2", "f4", "david", "Alicia", "robert", "belinda",
                 "john", "Annie", "paul", "aunty", "benjamin", "max"]  # fmt: skip

AGENT_OPEN = [
    "Thank you for calling Acme support, my name is {name}. How can I help you today?",
    "Good morning, you are through to Acme billing, this is {name}. What can I do for you?",
    "Thanks for calling, this is {name} speaking. How may I help?",
]
AGENT_OPEN_PLAIN = ["Yes, I am here. Go ahead please.", "Right, I have your file open now."]
OUTBOUND_OPEN = "Hi, this is {name} calling from Acme about your recent order. Is now a good time?"
AGENT_LINES = [
    "Can I have your account number please?",
    "Could you confirm the email address on the account?",
    "I can see the charge from last Tuesday on your statement.",
    "Let me pull up your account, it will only take a moment.",
    "When did you first notice the problem with the connection?",
    "I have applied a credit of twenty dollars to your next bill.",
    "Have you tried restarting the router since then?",
    "The replacement will ship within three business days.",
    "I understand how frustrating that must be.",
    "Is the address on file still correct?",
    "I will open a ticket with our technical team right now.",
    "Your refund should appear within five to seven days.",
    "Would you like me to send the confirmation by email?",
]
CUSTOMER_LINES = [
    "Hi, I am calling because my internet has been down since yesterday.",
    "Yes, it is four four seven two nine one.",
    "I was charged twice this month and I want to know why.",
    "I already restarted it three times and nothing changed.",
    "It started on Monday evening, around seven.",
    "That would be great, thank you.",
    "My email is jane at example dot com.",
    "No, we moved last month, it is twelve Oak Street now.",
    "Honestly this is the third time I have called about this.",
    "Okay, and how long will that take?",
    "Sure, email is fine.",
    "I just want the service to work, that is all.",
    "Can you tell me what the late fee was for?",
]
AGENT_CLOSE = ["Is there anything else I can help you with today?",
               "Thank you for calling, have a great day."]  # fmt: skip
CUSTOMER_CLOSE = ["No, that is everything, thanks.", "That is all, bye."]
BACKCHANNELS = ["mm-hmm", "okay", "right", "uh-huh", "yes"]
#: overlap-heavy calls: the agent's disclosure, what the customer says over it, and short
#: remarks laid over the middle of the other's line
DISCLOSURES = [
    "Before we begin, please note this call may be recorded for quality and training purposes.",
    "Just so you know, this call is recorded and the recording is kept for ninety days.",
]
OVER_DISCLOSURE = ["Yes yes, I know, I just need help with my bill.",
                   "Fine, fine, can we get to the problem please?",
                   "Sure, that is okay with me, go on."]  # fmt: skip
TALK_OVERS = ["No wait, that is not what I said.", "Sorry, can I just say something?",
              "Hang on a second.", "Yes, exactly, that is it.", "Oh, I see.",
              "Right, right, okay.", "But I already did that."]  # fmt: skip
NAMES = ["Daniel", "Maria", "Priya", "Tom", "Grace", "Omar"]


@dataclass
class Voice:
    lang: str
    variant: str
    pitch: int
    speed: int

    def arg(self) -> str:
        return f"{self.lang}+{self.variant}"


@dataclass
class Utt:
    speaker: str  # "agent" | "customer" | "other"
    text: str
    start: float = 0.0
    end: float = 0.0


@dataclass
class SynthCall:
    name: str
    split: str
    rate: int
    direction: str
    agent_id: str
    utts: list[Utt] = field(default_factory=list)
    #: reference (start, end, speaker) stretches, speaker in {"agent", "customer", "other"}
    reference: list[tuple[float, float, str]] = field(default_factory=list)
    phrases: bool = True


def speak(text: str, voice: Voice, tmp: Path, idx: int, gain_db: float) -> np.ndarray:
    """espeak-ng → sox (16 kHz, levelled) → float32."""
    import soundfile as sf

    raw, out = tmp / f"u{idx}_raw.wav", tmp / f"u{idx}.wav"
    subprocess.run(["espeak-ng", "-v", voice.arg(), "-p", str(voice.pitch), "-s", str(voice.speed),
                    "-w", str(raw), text], check=True, capture_output=True)  # fmt: skip
    subprocess.run(["sox", "-R", str(raw), "-r", str(RATE), "-b", "16", str(out), "gain", "-n",
                    str(gain_db)], check=True, capture_output=True)  # fmt: skip
    data, _ = sf.read(str(out), dtype="float32")
    return data


def active_spans(clip: np.ndarray, offset: float, fill: float = 0.25) -> list[tuple[float, float]]:
    """Where a clip is audible (frames above -45 dB of its peak; gaps < `fill` s filled)."""
    hop = RATE // 100
    n = len(clip) // hop
    if n == 0:
        return []
    rms = np.sqrt((clip[: n * hop].reshape(n, hop).astype(np.float64) ** 2).mean(axis=1))
    on = rms > rms.max() * 10 ** (-45 / 20)
    spans: list[list[float]] = []
    for i in np.flatnonzero(on):
        t = i * hop / RATE
        if spans and t - spans[-1][1] <= fill:
            spans[-1][1] = t + hop / RATE
        else:
            spans.append([t, t + hop / RATE])
    return [(round(offset + s, 3), round(offset + e, 3)) for s, e in spans]


def voice_for(rng: np.random.Generator, variants: list[str], female: bool | None = None) -> Voice:
    pool = [v for v in variants if female is None or (v.startswith("f") == female)] or variants
    return Voice(str(rng.choice(LANGS)), str(rng.choice(pool)), int(rng.integers(25, 76)),
                 int(rng.integers(145, 186)))  # fmt: skip


def script(rng: np.random.Generator, direction: str, phrases: bool, three: bool) -> list[tuple[str, str, float]]:
    """(speaker, text, pause before) lines; "|" in a text marks a long mid-turn pause."""
    name = str(rng.choice(NAMES))
    lines: list[tuple[str, str, float]] = []
    if direction == "outbound":
        lines.append(("customer", "Hello?", 0.3))
        lines.append(("agent", OUTBOUND_OPEN.format(name=name) if phrases else "Hi, is this a good time to talk about your order?", 0.5))
    elif phrases:
        lines.append(("agent", str(rng.choice(AGENT_OPEN)).format(name=name), 0.3))
    else:
        lines.append(("agent", str(rng.choice(AGENT_OPEN_PLAIN)), 0.3))
    n = int(rng.integers(3, 7))
    ag = list(rng.permutation(AGENT_LINES))
    cu = list(rng.permutation(CUSTOMER_LINES))
    for i in range(n):
        c = cu[i % len(cu)]
        pause = float(rng.choice([0.2, 0.4, 0.6, 0.9, -0.5])) if i else 0.5
        lines.append(("customer", c, pause))
        if rng.random() < 0.35:
            lines.append(("agent~", str(rng.choice(BACKCHANNELS)), float(rng.choice([-0.25, 0.3]))))
        a = ag[i % len(ag)]
        if rng.random() < 0.3:
            a = a + "|" + ag[(i + 5) % len(ag)]
        lines.append(("agent", a, float(rng.choice([0.3, 0.5, 0.8, -0.4]))))
        if rng.random() < 0.3:
            lines.append(("customer~", str(rng.choice(BACKCHANNELS)), 0.25))
        if three and i == n // 2:
            lines.append(("agent", "Let me bring in my colleague from the technical team.", 0.5))
            lines.append(("other", "Hello, this is the technical team, I have read the notes on your case and I can see the fault on the line.", 1.0))
            lines.append(("other", "We will send an engineer on Thursday morning between eight and noon.", 0.6))
            lines.append(("customer", "Thursday works for me.", 0.5))
    if phrases:
        lines.append(("agent", str(rng.choice(AGENT_CLOSE)), 0.5))
    lines.append(("customer", str(rng.choice(CUSTOMER_CLOSE)), 0.5))
    return lines


def script_overlap(rng: np.random.Generator, direction: str, phrases: bool) -> list[tuple[str, str, float]]:
    """An overlap-heavy script: as `script`, plus "^" lines laid over the previous main line.

    A "^" line starts at the given fraction of the previous main line's length (a
    back-channel, a remark, the customer over the disclosure; the main line runs on); a
    negative pause on a main line is a cut-in of that many seconds (the interrupted line
    also runs on to its end)."""
    name = str(rng.choice(NAMES))
    lines: list[tuple[str, str, float]] = []
    if direction == "outbound":
        lines.append(("customer", "Hello?", 0.3))
        lines.append(("agent", OUTBOUND_OPEN.format(name=name) if phrases else "Hi, is this a good time to talk about your order?", 0.5))
    elif phrases:
        lines.append(("agent", str(rng.choice(AGENT_OPEN)).format(name=name), 0.3))
    else:
        lines.append(("agent", str(rng.choice(AGENT_OPEN_PLAIN)), 0.3))
    lines.append(("agent", str(rng.choice(DISCLOSURES)), 0.4))
    if rng.random() < 0.6:  # the customer talks over the disclosure
        lines.append(("customer^", str(rng.choice(OVER_DISCLOSURE)), float(rng.uniform(0.35, 0.65))))
    n = int(rng.integers(4, 7))
    ag = list(rng.permutation(AGENT_LINES))
    cu = list(rng.permutation(CUSTOMER_LINES))
    cut_ins = [0.5, 0.4, 0.3, 0.2, -0.3, -0.5, -0.8, -1.2, -2.0]
    for i in range(n):
        lines.append(("customer", cu[i % len(cu)], float(rng.choice(cut_ins)) if i else 0.5))
        r = rng.random()
        if r < 0.35:  # a back-channel in the middle of the customer's line
            lines.append(("agent^", str(rng.choice(BACKCHANNELS)), float(rng.uniform(0.3, 0.7))))
        elif r < 0.45:  # both start at once
            lines.append(("agent^", str(rng.choice(TALK_OVERS)), float(rng.uniform(0.0, 0.08))))
        lines.append(("agent", ag[i % len(ag)], float(rng.choice(cut_ins))))
        r = rng.random()
        if r < 0.3:
            lines.append(("customer^", str(rng.choice(BACKCHANNELS)), float(rng.uniform(0.3, 0.7))))
        elif r < 0.45:
            lines.append(("customer^", str(rng.choice(TALK_OVERS)), float(rng.uniform(0.4, 0.8))))
    if phrases:
        lines.append(("agent", str(rng.choice(AGENT_CLOSE)), 0.5))
    lines.append(("customer", str(rng.choice(CUSTOMER_CLOSE)), float(rng.choice([0.5, -0.5]))))
    return lines


def make_call(name: str, split: str, seed: int, rate: int, out_dir: Path, *, three: bool = False,
              agent_voice: Voice | None = None, agent_id: str = "", overlap: bool = False) -> SynthCall:  # fmt: skip
    """Render one call to `out_dir/name.wav` (mono) and return its truth (`overlap`: the
    overlap-heavy script, `script_overlap`)."""

    rng = np.random.default_rng(seed)
    variants = DEV_VARIANTS if split.startswith("dev") else EVAL_VARIANTS
    direction = "outbound" if rng.random() < 0.25 else "inbound"
    phrases = rng.random() >= 0.2
    agent_v = agent_voice or voice_for(rng, variants)
    cust_v = voice_for(rng, [v for v in variants if v != agent_v.variant])
    other_v = voice_for(rng, [v for v in variants if v not in (agent_v.variant, cust_v.variant)])
    voices = {"agent": agent_v, "customer": cust_v, "other": other_v}
    call = SynthCall(name, split, rate, direction, agent_id, phrases=phrases)
    placed: list[tuple[int, np.ndarray, str]] = []
    t_end = 0.0
    last_main_end = 0.0
    last_main_start = 0.0
    lines = script_overlap(rng, direction, phrases) if overlap else script(rng, direction, phrases, three)
    with tempfile.TemporaryDirectory() as td:
        idx = 0
        for spk, text, pause in lines:
            over = spk.endswith("^")  # laid over the previous main line, at a fraction of it
            backchannel = spk.endswith("~") or over
            spk = spk.rstrip("~^")
            parts = text.split("|")
            if over:
                start = last_main_start + pause * (last_main_end - last_main_start)
            else:
                start = max(0.0, (last_main_end if backchannel else t_end) + pause)
                if overlap and not backchannel:  # a cut-in starts inside the line it cuts
                    start = max(start, (last_main_start + last_main_end) / 2)
            first_start = start
            for pi, part in enumerate(parts):
                clip = speak(part, voices[spk], Path(td), idx, float(rng.uniform(-12, -3)))
                idx += 1
                clip_start = start
                placed.append((int(clip_start * RATE), clip, spk))
                for s, e in active_spans(clip, clip_start):
                    call.reference.append((s, e, spk))
                call.utts.append(Utt(spk, part, clip_start, clip_start + len(clip) / RATE))
                start = clip_start + len(clip) / RATE + (float(rng.uniform(1.5, 3.0)) if pi + 1 < len(parts) else 0)
            end = call.utts[-1].end
            if not backchannel:
                last_main_start = first_start
                last_main_end = end
                t_end = end
            else:
                t_end = max(t_end, end)
    total = max(p + len(c) for p, c, _ in placed) + RATE // 2
    mix = np.zeros(total, dtype=np.float32)
    for p, c, _ in placed:
        mix[p : p + len(c)] += c
    mix = np.clip(mix, -1, 1)
    path = out_dir / f"{name}.wav"
    _write(path, mix, rate)
    call.reference.sort()
    (out_dir / f"{name}.json").write_text(json.dumps(asdict(call), indent=1))
    return call


def _write(path: Path, mix: np.ndarray, rate: int) -> None:
    import soundfile as sf

    if rate == RATE:
        sf.write(str(path), mix, RATE, subtype="PCM_16")
        return
    tmp = path.with_suffix(".16k.wav")
    sf.write(str(tmp), mix, RATE, subtype="PCM_16")
    subprocess.run(["sox", str(tmp), "-r", str(rate), str(path), "sinc", "300-3400"],
                   check=True, capture_output=True)  # fmt: skip
    tmp.unlink()


def make_enrolment(agent_voice: Voice, seed: int, out: Path) -> None:
    """A stereo call (left = this agent's voice, right = another voice) for enrolment."""
    import soundfile as sf

    rng = np.random.default_rng(seed)
    other = voice_for(rng, EVAL_VARIANTS + DEV_VARIANTS)
    with tempfile.TemporaryDirectory() as td:
        left = np.concatenate([np.concatenate([speak(t, agent_voice, Path(td), i, -6.0),
                                               np.zeros(RATE // 2, np.float32)])
                               for i, t in enumerate(rng.permutation(AGENT_LINES)[:5])])  # fmt: skip
        right = speak(str(rng.choice(CUSTOMER_LINES)), other, Path(td), 99, -6.0)
    n = max(len(left), len(right) + len(left))
    st = np.zeros((n, 2), dtype=np.float32)
    st[: len(left), 0] = left
    st[len(left) : len(left) + len(right), 1] = right
    sf.write(str(out), st, RATE, subtype="PCM_16")
