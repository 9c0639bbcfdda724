"""`convoscope transcribe FILE… [--json]`: transcribe audio files and print them; stores nothing.

For trying the ASR settings on a few recordings before pointing the drop folder at them.
The model is loaded once for all files. A file that cannot be read prints an error line
for that file (on stderr) and the others still go through; the exit code is 1 if any
file failed.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

from convoscope.context import Context, UserError


def _clock(seconds: float | None) -> str:
    s = seconds or 0.0
    return f"{int(s // 60):02d}:{s % 60:05.2f}"


def run(args: argparse.Namespace, ctx: Context) -> int:
    from analysis.asr import AudioError, ModelError, Transcriber

    options = ctx.config.asr
    overrides = {k: v for k, v in (("language", args.language), ("model", args.model)) if v}
    if overrides:
        try:
            options = dataclasses.replace(options, **overrides)
        except ValueError as exc:
            raise UserError(str(exc)) from None
    try:
        transcriber = Transcriber(options, ctx.config.cache_path)
    except ModelError as exc:
        raise UserError(str(exc)) from None
    failed = 0
    for name in args.files:
        path = Path(name)
        try:
            if not path.is_file():
                raise FileNotFoundError("no such file")
            tr = transcriber.transcribe(path)
        except (AudioError, OSError, RuntimeError, ValueError) as exc:
            failed += 1
            msg = str(exc) if str(exc).startswith(str(path)) else f"{name}: {exc}"
            print(f"convoscope: {msg}", file=sys.stderr, flush=True)
            continue
        if args.json:
            print(json.dumps({"file": name, **tr.as_dict()}, ensure_ascii=False), flush=True)
            continue
        kind = "stereo" if tr.speaker_source == "channel" else "mono (speakers by pauses)"
        print(f"== {name}  {tr.duration:.1f} s  {tr.language}  {kind}")
        for t in tr.turns:
            print(f"[{_clock(t.start)}-{_clock(t.end)}] {t.speaker:>8}: {t.text}")
        print(flush=True)
    return 1 if failed else 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "transcribe", help="transcribe audio files and print speaker turns (stores nothing)"
    )
    p.add_argument("files", nargs="+", metavar="FILE", help="audio files (wav, mp3, flac, ogg, opus, m4a)")
    p.add_argument("--json", action="store_true", help="one JSON object per file and line")
    p.add_argument("--language", help="language code (default: asr.language, else detect)")
    p.add_argument("--model", help="model (default: asr.model)")
    p.set_defaults(func=run)
