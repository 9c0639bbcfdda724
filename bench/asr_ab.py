#!/usr/bin/env python3
"""A/B of Convoscope's ASR paths in one process: CPU seconds and WER per variant and set.

`bench/asr.py` compares the default configuration with the `whisper-ctranslate2` CLI;
this script compares Convoscope's own choices against each other (issue 15): sequential
vs batched decoding, where `batched_min_seconds` falls, VAD on/off (off = each stereo
channel decoded whole, its silence included), word timestamps, beam size and the packing
padding. One Whisper model is loaded once; for every file each variant runs in turn
(round-robin, so load on a shared machine hits all variants alike), and each variant's
user+sys CPU seconds (the whole process, all threads) and wall seconds are summed per set.
CPU seconds are the steadier figure on a shared machine; the load average is printed.

Sets as in bench/asr.py (`phone`, `samples`, `long`) plus `heldout`: 8 calls made like the
samples but from other words (bench/data/make_heldout_calls.py), never used to choose.

    python bench/asr_ab.py --sets samples,heldout --variants default,seq60,batched0
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def _cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


@contextlib.contextmanager
def _pad(ms: int) -> Iterator[None]:
    from analysis.asr import packing

    old = packing.speech_pieces.__defaults__
    packing.speech_pieces.__defaults__ = (old[0], ms)
    try:
        yield
    finally:
        packing.speech_pieces.__defaults__ = old


@contextlib.contextmanager
def _attr(obj, name: str, value) -> Iterator[None]:
    old = getattr(obj, name)
    setattr(obj, name, value)
    try:
        yield
    finally:
        setattr(obj, name, old)


@contextlib.contextmanager
def _kw(tr, **extra) -> Iterator[None]:
    orig = tr._common_kwargs
    tr._common_kwargs = lambda lang: {**orig(lang), **extra}
    try:
        yield
    finally:
        tr._common_kwargs = orig


@contextlib.contextmanager
def _no_words(tr) -> Iterator[None]:
    orig = tr._common_kwargs
    tr._common_kwargs = lambda lang: {**orig(lang), "word_timestamps": False}
    try:
        yield
    finally:
        tr._common_kwargs = orig


def variants(tr) -> dict[str, Callable[[], contextlib.AbstractContextManager]]:
    """Name → a context that sets the variant up on the Transcriber `tr`."""
    from analysis.asr import packing, vad
    from analysis.asr.options import options_changed as _opts

    return {
        "default": contextlib.nullcontext,
        "batched0": lambda: _opts(tr, batched_min_seconds=0.0),
        "batched30": lambda: _opts(tr, batched_min_seconds=30.0),
        "seq60": lambda: _opts(tr, batched_min_seconds=60.0),
        "seq120": lambda: _opts(tr, batched_min_seconds=120.0),
        "seqall": lambda: _opts(tr, batched_min_seconds=1e9),
        "vadoff": lambda: _opts(tr, vad=False),
        "beam1": lambda: _opts(tr, beam_size=1),
        "beam3": lambda: _opts(tr, beam_size=3),
        "nowords": lambda: _no_words(tr),
        "pad200": lambda: _pad(200),
        "pad300": lambda: _pad(300),
        "seq60pad300": lambda: _chain(_opts(tr, batched_min_seconds=60.0), _pad(300)),
        "gap0.1": lambda: _attr(packing, "GAP_S", 0.1),
        "gap0.2": lambda: _attr(packing, "GAP_S", 0.2),
        "gap0.1beam3": lambda: _chain(_attr(packing, "GAP_S", 0.1), _opts(tr, beam_size=3)),
        "gap0.2beam3": lambda: _chain(_attr(packing, "GAP_S", 0.2), _opts(tr, beam_size=3)),
        "gap0.1nots": lambda: _chain(_attr(packing, "GAP_S", 0.1), _kw(tr, without_timestamps=True)),
        "gap0.05": lambda: _attr(packing, "GAP_S", 0.05),
        "gap0.6": lambda: _attr(packing, "GAP_S", 0.6),
        "gap1.0": lambda: _attr(packing, "GAP_S", 1.0),
        "pad300gap0.6": lambda: _chain(_pad(300), _attr(packing, "GAP_S", 0.6)),
        # issue 15 round 4, the same transcripts each: `serial` = stereo channels' VAD one
        # after the other (default: at once). (Round 4's `overlap`, a mono call diarized on a
        # second thread while Whisper decodes it, measured mixed and was removed.)
        "serial": lambda: _attr(vad, "PARALLEL", False),
        # issue 15 round 5: `notrim` = no trimming of digital-silence piece edges to save a
        # window (the packing before the round)
        "notrim": lambda: _attr(packing, "TRIM_TO_FIT", False),
        # stereo calls under 30 s decoded sequentially (the default before the round; now
        # every packed call goes through the batched pipeline)
        "stereoseq30": lambda: _opts(tr, stereo_batched_min_seconds=30.0),
        "round4": lambda: _chain(_attr(packing, "TRIM_TO_FIT", False),
                                 _opts(tr, stereo_batched_min_seconds=30.0)),
    }


@contextlib.contextmanager
def _chain(*ctxs) -> Iterator[None]:
    with contextlib.ExitStack() as st:
        for c in ctxs:
            st.enter_context(c)
        yield


def main(argv: list[str] | None = None) -> int:
    import asr as bench_asr  # bench/asr.py: sets, references, WER

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sets", default="samples,heldout")
    ap.add_argument("--variants", default="default,seq60")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--phone-n", type=int, default=30)
    ap.add_argument("--long-seconds", type=float, default=300.0)
    ap.add_argument("--calls", type=Path, default=ROOT / "samples" / "calls")
    ap.add_argument("--dump", type=Path, help="write every variant's text per file here (JSON)")
    args = ap.parse_args(argv)
    args.sets = [s.strip() for s in args.sets.split(",") if s.strip()]
    from analysis.asr import AsrOptions, Transcriber
    from analysis.asr.audio import load

    refs = bench_asr.references(args)
    tr = Transcriber(AsrOptions(cpu_threads=args.threads), bench_asr.cache_dir())
    vs = variants(tr)
    names = [v.strip() for v in args.variants.split(",") if v.strip()]
    for n in names:
        if n not in vs:
            raise SystemExit(f"unknown variant {n!r}; known: {', '.join(vs)}")
    first = next(iter(refs.values()))[0][0]
    for n in names:  # warm every path (imports, first-call allocations) outside the figures
        with vs[n]():
            tr.transcribe_audio(load(first))
    print(f"load average before: {'/'.join(f'{x:.1f}' for x in os.getloadavg())}; "
          f"{os.cpu_count()} cores, {args.threads} threads")
    print(f"{'set':8} {'variant':12} {'audio s':>8} {'cpu s':>7} {'wall s':>7} {'x rt (cpu)':>10} "
          f"{'windows':>7} {'WER %':>6}  load")
    dump: dict[str, dict] = {}
    for name, items in refs.items():
        texts: dict[str, list[str]] = {n: [] for n in names}
        cpu = dict.fromkeys(names, 0.0)
        wall = dict.fromkeys(names, 0.0)
        win = dict.fromkeys(names, 0)
        audio_s = 0.0
        for f, _ref in items:
            audio = load(f)
            audio_s += audio.duration
            for n in names:
                with vs[n]():
                    c0, t0 = _cpu(), time.perf_counter()
                    t = tr.transcribe_audio(audio)
                    wall[n] += time.perf_counter() - t0
                    cpu[n] += _cpu() - c0
                win[n] += t.extra.get("encoder_windows") or 0
                words = sorted((w for x in t.turns for w in (x.words or [])), key=lambda w: w.start)
                texts[n].append(" ".join(w.word.strip() for w in words))
        load_now = os.getloadavg()[0]
        dump[name] = {"files": [f for f, _r in items], "refs": [r for _f, r in items], "texts": texts}
        for n in names:
            w = bench_asr.wer([r for _f, r in items], texts[n])
            print(f"{name:8} {n:12} {audio_s:8.1f} {cpu[n]:7.2f} {wall[n]:7.2f} {audio_s / cpu[n]:10.1f} "
                  f"{win[n]:7d} {w:6.2f}  {load_now:.1f}", flush=True)
    if args.dump:
        import json

        args.dump.write_text(json.dumps(dump, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
