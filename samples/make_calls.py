#!/usr/bin/env python3
"""Generate the sample calls in samples/calls/ (speech by espeak-ng, shaping by sox).

Why synthetic: real customer calls cannot ship in an open-source repo, and tests need
calls whose words are known. Each call is a script of turns; every turn is spoken by
espeak-ng (agent: a male en-us voice, customer: a female one), resampled and levelled
with sox (angry turns faster and louder, limited so they do not clip), then placed on its
own channel of a 16 kHz stereo call (left = agent, right = customer, Convoscope's default
convention) with real pauses between turns; a negative pause makes the next speaker cut
in (overlapping speech). The result is encoded as Opus in Ogg with FFmpeg's bit-exact flag
(through PyAV), so running this script again reproduces the committed files byte for byte
on the same library versions. Each call gets a sidecar JSON with its metadata.

    python samples/make_calls.py            # regenerate samples/calls/
    python samples/make_calls.py --long 300 --out /tmp/x.opus   # a ~5-minute call (bench)
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

RATE = 16000
AGENT_VOICE = "en-us+m3"
CUSTOMER_VOICE = "en-us+f3"
DISCLOSURE = "This call may be recorded for quality and training purposes."


@dataclass
class Line:
    """One turn of a script: who speaks, what, and how."""

    speaker: str  # "agent" | "customer"
    text: str
    pause: float = 0.7  # seconds after the previous turn ends; negative = cut in
    speed: int = 160  # espeak-ng words per minute
    level_db: float = -9.0  # peak level after sox normalisation (angry: about -1)


@dataclass
class Call:
    name: str
    lines: list[Line]
    sidecar: dict[str, object]
    mono: bool = False
    extra: dict[str, object] = field(default_factory=dict)


def angry(text: str, pause: float = 0.5) -> Line:
    return Line("customer", text, pause=pause, speed=195, level_db=-1.0)


def cust(text: str, pause: float = 0.7) -> Line:
    return Line("customer", text, pause=pause, speed=160)


def agent(text: str, pause: float = 0.7) -> Line:
    return Line("agent", text, pause=pause, speed=165)


CALLS: list[Call] = [
    Call(
        "call_01_angry_refund",
        [
            agent(f"Thank you for calling Acme billing, my name is Daniel. {DISCLOSURE} How can I help you today?", 0.4),
            angry("I was charged twice for my subscription this month. This is ridiculous!"),
            agent("I am sorry to hear that. Let me look at your account."),
            angry("I have called three times already. I want a refund right now!", 0.4),
            agent("I understand. I can see the duplicate charge of forty nine dollars.", 0.6),
            angry("No! I want to speak to your manager. This is unacceptable!", -0.6),
            agent("I will transfer you to my supervisor and request the refund now."),
        ],
        {"agent": "1042", "customer": "+1 415 555 0134", "queue": "billing",
         "direction": "inbound", "started_at": "2026-11-16T09:12:00+00:00",
         "account": "AC-20931", "ticket": "T-5531"},
    ),
    Call(
        "call_02_calm_billing",
        [
            agent(f"Good morning, Acme billing, this is Maria. {DISCLOSURE}", 0.4),
            cust("Hi, I have a question about my invoice. There is a late fee on it."),
            agent("Let me check that for you. Can you confirm your account number?"),
            cust("Sure, it is A C two zero nine five five."),
            agent("Thank you. The payment arrived one day after the due date, so the fee was added."),
            cust("I see. Can the late fee be waived this time?"),
            agent("Yes, I have removed the late fee as a one time courtesy."),
            cust("Great, thank you very much."),
        ],
        {"agent": "1077", "customer": "+1 212 555 0187", "queue": "billing",
         "direction": "inbound", "started_at": "2026-11-16T10:03:30+00:00"},
    ),
    Call(
        "call_03_no_disclosure",
        [
            agent("Hi, this is Kevin from Acme sales. What can I do for you?", 0.4),
            cust("I want to upgrade my plan to the business tier."),
            agent("Sure. The business tier costs ninety nine dollars a month."),
            cust("Does it include phone support?"),
            agent("Yes, it includes phone support and a dedicated account manager."),
            cust("Okay, please go ahead with the upgrade."),
        ],
        {"agent": "1093", "customer": "+1 646 555 0142", "queue": "sales",
         "direction": "inbound", "started_at": "2026-11-17T14:20:00+00:00"},
    ),
    Call(
        "call_04_churn_threat",
        [
            agent(f"Acme support, this is Daniel. {DISCLOSURE} How can I help?", 0.4),
            cust("My internet has been dropping every evening for two weeks."),
            agent("I am sorry about that. Have you restarted the router?"),
            cust("Yes, many times. If this is not fixed I will cancel my account and switch to another provider."),
            agent("I understand your frustration. I am sending a technician tomorrow morning."),
            cust("Fine, but this is the last chance."),
        ],
        {"agent": "1042", "customer": "+1 312 555 0199", "queue": "support",
         "direction": "inbound", "started_at": "2026-11-18T18:45:00+00:00"},
    ),
    Call(
        "call_05_happy_resolution",
        [
            agent(f"Acme support, my name is Maria. {DISCLOSURE}", 0.4),
            cust("Hello, my new phone does not receive text messages."),
            agent("Let me reset your messaging settings from here. Please restart the phone."),
            cust("Okay, restarting now.", 1.0),
            cust("It works! I just got all my messages.", 2.0),
            agent("Wonderful. Is there anything else I can help you with?"),
            cust("No, that is all. You were very helpful, thank you so much!"),
        ],
        {"agent": "1077", "customer": "+44 20 7946 0321", "queue": "support",
         "direction": "inbound", "started_at": "2026-11-19T08:30:00+00:00"},
    ),
    Call(
        "call_06_prohibited_promise",
        [
            agent(f"Acme sales, this is Kevin. {DISCLOSURE}", 0.4),
            cust("I am thinking about buying your premium package for my company."),
            agent("Great choice. I guarantee you will double your revenue within a month."),
            cust("Really? That sounds too good to be true."),
            agent("Trust me, I guarantee it. Nobody ever asks for their money back."),
            cust("Okay, send me the contract."),
        ],
        {"agent": "1093", "customer": "+1 415 555 0166", "queue": "sales",
         "direction": "outbound", "started_at": "2026-11-20T11:05:00+00:00",
         "campaign": "q4-upsell"},
    ),
    Call(
        "call_07_repeat_refund",
        [
            agent(f"Acme billing, this is Maria. {DISCLOSURE}", 0.4),
            cust("I called last week about a double charge and I still have not received my refund."),
            agent("I am sorry. Let me check the status of the refund."),
            cust("I was told it would take three days."),
            agent("I can see the refund was approved but not sent. I am sending it now."),
            cust("Please make sure it arrives this time."),
        ],
        {"agent": "1077", "customer": "+1 415 555 0134", "queue": "billing",
         "direction": "inbound", "started_at": "2026-11-23T16:10:00+00:00",
         "account": "AC-20931"},
    ),
    Call(
        "call_08_mono_password",
        [
            agent(f"Acme support, this is Daniel. {DISCLOSURE}", 0.4),
            cust("I forgot my password and the reset email never arrives.", 1.2),
            agent("I can send the reset link by text message instead.", 1.2),
            cust("Yes please, that would be great.", 1.2),
            agent("Done. You should have the link now.", 1.2),
            cust("Got it, thanks.", 1.2),
        ],
        {"agent": "1042", "customer": "+1 702 555 0110", "queue": "support",
         "direction": "inbound", "started_at": "2026-11-24T07:55:00+00:00"},
        mono=True,
    ),
]


def _need(tool: str) -> None:
    if shutil.which(tool) is None:
        sys.exit(f"error: {tool} is not installed (apt-get install espeak-ng sox libsox-fmt-all)")


def speak(line: Line, tmp: Path, idx: int) -> np.ndarray:
    """Speak one line with espeak-ng, then resample/level it with sox; float32 mono at RATE."""
    raw = tmp / f"t{idx}_raw.wav"
    out = tmp / f"t{idx}.wav"
    voice = AGENT_VOICE if line.speaker == "agent" else CUSTOMER_VOICE
    subprocess.run(
        ["espeak-ng", "-v", voice, "-s", str(line.speed), "-w", str(raw), line.text], check=True
    )
    # Resample and normalise to the line's peak level. (A 200-3800 Hz phone-band filter
    # was tried: on espeak's voices it cost Whisper base too many words for useful tests.)
    subprocess.run(
        ["sox", "-R", str(raw), "-r", str(RATE), "-b", "16", str(out),
         "gain", "-n", str(line.level_db)],
        check=True,
    )
    import soundfile as sf

    data, rate = sf.read(str(out), dtype="float32")
    assert rate == RATE
    return data


def render(lines: list[Line], *, mono: bool) -> np.ndarray:
    """Place turns on a (2, n) float32 array (or (1, n) mono) with their pauses."""
    with tempfile.TemporaryDirectory() as td:
        clips = [speak(line, Path(td), i) for i, line in enumerate(lines)]
    t = 0.0
    placed: list[tuple[int, int, np.ndarray]] = []
    end_prev = 0.0
    for line, clip in zip(lines, clips, strict=True):
        start = max(0.0, end_prev + line.pause)
        t = start
        ch = 0 if line.speaker == "agent" else 1
        placed.append((ch, int(t * RATE), clip))
        end_prev = start + len(clip) / RATE
    total = max(pos + len(c) for _ch, pos, c in placed) + int(0.5 * RATE)
    out = np.zeros((2, total), dtype=np.float32)
    for ch, pos, clip in placed:
        out[ch, pos : pos + len(clip)] += clip
    if mono:
        return np.clip(out.sum(axis=0, keepdims=True), -1.0, 1.0)
    return out


def write_opus(path: Path, audio: np.ndarray, bitrate: int = 24000) -> None:
    """Encode (channels, n) float audio as Ogg Opus, bit-exact (no random stream serial)."""
    import av

    layout = "stereo" if audio.shape[0] == 2 else "mono"
    pcm = (np.clip(audio, -1.0, 1.0) * 32767).astype(np.int16)
    interleaved = np.ascontiguousarray(pcm.T).reshape(1, -1)
    with av.open(str(path), "w", format="ogg", options={"fflags": "+bitexact"}) as out:
        stream = out.add_stream("libopus", rate=48000, layout=layout)
        stream.bit_rate = bitrate
        frame = av.AudioFrame.from_ndarray(interleaved, format="s16", layout=layout)
        frame.sample_rate = RATE
        resampler = av.AudioResampler(format="s16", layout=layout, rate=48000)
        for f in [*resampler.resample(frame), *resampler.resample(None)]:
            for packet in stream.encode(f):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)


def long_call_lines(seconds: float) -> list[Line]:
    """A support call of about `seconds` seconds, cycling through varied exchanges."""
    exchanges = [
        cust("I have a problem with my last invoice, the amount looks wrong."),
        agent("Let me pull up your account and check the charges one by one."),
        cust("The international calls are listed twice on page two."),
        agent("I see them. The roaming package was billed and the calls were billed again."),
        cust("So will you refund the difference?"),
        agent("Yes, I am crediting twenty three dollars to your account today."),
        cust("And what about next month, will it happen again?"),
        agent("I have fixed the package settings, so next month will be correct."),
        cust("My router also restarts by itself every night."),
        agent("That is usually a firmware update. I can schedule it for three in the morning."),
        cust("That would be better, thank you."),
        agent("You are welcome. Is there anything else I can help you with today?"),
    ]
    lines = [agent(f"Acme support, this is Daniel. {DISCLOSURE}", 0.4)]
    # ~4.5 s per line on average including pauses
    n = max(1, int(seconds / 4.6))
    for i in range(n):
        lines.append(exchanges[i % len(exchanges)])
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dir", type=Path, default=Path(__file__).resolve().parent / "calls")
    ap.add_argument("--long", type=float, help="instead: write one call of about this many seconds")
    ap.add_argument("--out", type=Path, help="output file for --long")
    args = ap.parse_args(argv)
    _need("espeak-ng")
    _need("sox")
    if args.long:
        if not args.out:
            ap.error("--long needs --out")
        write_opus(args.out, render(long_call_lines(args.long), mono=False))
        print(args.out)
        return 0
    args.dir.mkdir(parents=True, exist_ok=True)
    for call in CALLS:
        audio = render(call.lines, mono=call.mono)
        path = args.dir / f"{call.name}.opus"
        write_opus(path, audio)
        meta = dict(call.sidecar)
        (args.dir / f"{call.name}.json").write_text(json.dumps(meta, indent=2) + "\n", "utf-8")
        print(f"{path.name}: {audio.shape[1] / RATE:.1f} s, {path.stat().st_size // 1024} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
