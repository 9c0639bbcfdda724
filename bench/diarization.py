#!/usr/bin/env python3
"""Diarization bench (#16): mono calls, speaker embeddings vs the 0.8 s pause heuristic.

The set (bench/diarization_data.py, built into $CONVOSCOPE_CACHE/bench_diarization/ on first
run and reused): synthesised calls with different espeak-ng voices at 8 kHz (telephone
band) and 16 kHz, with known speaker times, overlaps, back-channels and long mid-turn
pauses, plus the shipped mono sample (samples/calls/call_08_mono_password.opus, its truth
from re-rendering its script as stereo). `--split eval` (default) is never used to choose
anything; `--split dev` is where the thresholds were chosen.

Per call: Whisper (the packaged base, CPU int8) transcribes the mono audio once; the same
words then get speakers (a) from diarization (analysis/diarization/) and (b) from the pause
heuristic (analysis/asr/turns.py `mono_turns`, 0.8 s, agent first). Printed:

- DER: no collar, overlapped speech scored (analysis/diarization/der.py). For diarization,
  its own frame-level output; for the heuristic, the words' spans (its only output). Also
  "word DER" for both on the same basis: each word's span with the speaker it was given;
- words: share of Whisper words whose speaker (agent/customer/other, after assignment) is
  the reference speaker (the one audible longest during the word);
- assignment: share of calls whose "agent" is the reference agent (for the heuristic:
  whose words called "agent" are mostly the reference agent's), with the agent's enrolled
  voiceprint (from a separate stereo call of the same voice) and without;
- time: diarization CPU seconds as a share of the transcription's CPU seconds (process
  time, so the number is not bent by other load on a shared machine), and wall seconds.

    python bench/diarization.py                # eval set (28 calls + the sample)
    python bench/diarization.py --split dev    # the dev set
    python bench/diarization.py --split eval_overlap --calls 20   # overlap-heavy calls

Every call is also scored with overlapped-speech detection off and on (`overlap_detect`,
analysis/diarization/overlap.py), side by side: DER and its parts (missed speech inside
reference overlap, false alarm, confusion), words, agent, time. The classic columns are
the shipped default's.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import diarization_data as data  # noqa: E402

SAMPLE = ROOT / "samples" / "calls" / "call_08_mono_password.opus"


def cache_dir() -> Path:
    return Path(os.environ.get("CONVOSCOPE_CACHE", "~/.cache/convoscope")).expanduser()


#: first seed of each split (the overlap-heavy splits: bench/diarization_data.py `script_overlap`)
SEEDS = {"dev": 1000, "eval": 5000, "dev_overlap": 2000, "eval_overlap": 6000}
SPLITS = list(SEEDS)


def build(split: str, n: int, out: Path) -> list[dict]:
    """The labelled calls of a split (made once, then read back)."""
    out.mkdir(parents=True, exist_ok=True)
    base = SEEDS[split]
    overlap = split.endswith("_overlap")
    variants = data.DEV_VARIANTS if split.startswith("dev") else data.EVAL_VARIANTS
    rng = np.random.default_rng(base)
    agents = {f"A{base + i}": data.voice_for(rng, variants) for i in range(max(2, n // 4))}
    calls = []
    for i in range(n):
        name = f"{split}_{i:02d}"
        meta = out / f"{name}.json"
        agent_id = list(agents)[i % len(agents)]
        if not meta.exists():
            data.make_call(name, split, base + i, 8000 if i % 2 else 16000, out, three=(i % 7 == 6 and not overlap),
                           agent_voice=agents[agent_id], agent_id=agent_id, overlap=overlap)  # fmt: skip
        calls.append(json.loads(meta.read_text()) | {"path": str(out / f"{name}.wav")})
    for agent_id, voice in agents.items():
        enrol = out / f"enrol_{agent_id}.wav"
        if not enrol.exists():
            data.make_enrolment(voice, int(agent_id[1:]) + 777, enrol)
    return calls


def sample_call(out: Path) -> dict:
    """The shipped mono sample with its truth (its script re-rendered as stereo)."""
    meta = out / "sample_call_08.json"
    if meta.exists():  # the cached truth; the audio is this checkout's sample
        return json.loads(meta.read_text()) | {"path": str(SAMPLE)}
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_calls", ROOT / "samples" / "make_calls.py")
    assert spec and spec.loader
    mc = importlib.util.module_from_spec(spec)
    sys.modules["make_calls"] = mc
    spec.loader.exec_module(mc)
    call = next(c for c in mc.CALLS if c.name == "call_08_mono_password")
    stereo = mc.render(call.lines, mono=False)
    ref: list[tuple[float, float, str]] = []
    for ch, who in ((0, "agent"), (1, "customer")):
        ref += [(s, e, who) for s, e in data.active_spans(stereo[ch], 0.0)]
    sidecar = json.loads(SAMPLE.with_suffix(".json").read_text())
    got = {"name": "sample_call_08", "split": "sample", "rate": 16000, "direction": sidecar.get("direction"),
           "agent_id": "", "reference": sorted(ref), "path": str(SAMPLE), "phrases": True}  # fmt: skip
    meta.write_text(json.dumps(got))
    return got


def ref_speaker(ref: list, s: float, e: float) -> str:
    best: dict[str, float] = defaultdict(float)
    for rs, re_, who in ref:
        ov = min(e, re_) - max(s, rs)
        if ov > 0:
            best[who] += ov
    if best:
        return max(best, key=best.__getitem__)
    mid = (s + e) / 2
    return min(ref, key=lambda r: min(abs(r[0] - mid), abs(r[1] - mid)))[2]


def word_spans(turns) -> list[tuple[float, float, str]]:
    """Each word as a segment of its turn's speaker: the same basis for both systems."""
    return [(w.start, w.end, t.speaker) for t in turns for w in t.words or []]


def agent_right(turns, words_ref: dict[tuple[float, float], str]) -> bool:
    """The words this system calls "agent" are mostly the reference agent's."""
    said = [words_ref[(w.start, w.end)] for t in turns if t.speaker == "agent" for w in t.words or []]
    return bool(said) and sum(s == "agent" for s in said) > len(said) / 2


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--split", choices=SPLITS, default="eval")
    ap.add_argument("--calls", type=int, default=28)
    ap.add_argument("--threads", type=int, default=2, help="Whisper and torch threads (the target is 2 cores)")
    ap.add_argument("--json", type=Path, help="also write per-call rows here")
    ap.add_argument("--split-ratio", type=float, default=None,
                    help="override DiarizeOptions.split_ratio (0 = the first eval run's rule)")
    ap.add_argument("--reuse-asr", action="store_true",
                    help="reuse the Whisper words (and their timings) saved by an earlier run")
    args = ap.parse_args(argv)

    import torch

    torch.set_num_threads(args.threads)
    from analysis.asr import AsrOptions, Transcriber
    from analysis.asr.audio import load
    from analysis.asr.turns import mono_turns
    from analysis.diarization.call import CallContext, agent_voiceprint, speaker_turns
    from analysis.diarization.der import der
    from analysis.diarization.diarize import DiarizeOptions
    from store.records import Word

    out = cache_dir() / "bench_diarization" / args.split
    t_build = time.perf_counter()
    calls = build(args.split, args.calls, out)
    if args.split == "eval":
        calls.append(sample_call(out))
    print(f"set: {len(calls)} calls ({args.split}), made/read in {time.perf_counter() - t_build:.0f} s")
    opts = AsrOptions(diarization="off", cpu_threads=args.threads)
    tx = Transcriber(opts, cache_dir())  # loaded even with --reuse-asr: the warm-up uses it
    dopts = DiarizeOptions()
    if args.split_ratio is not None:
        dopts.split_ratio = args.split_ratio
    prints = {}
    for enrol in sorted(out.glob("enrol_*.wav")):
        agent_side = load(enrol).channels[0]
        got = agent_voiceprint(agent_side, dopts)
        if got is not None:
            prints[enrol.stem.removeprefix("enrol_")] = got[0]
    # warm-up: first-use costs (model loads, imports) are not per-call costs
    warm = load(calls[0]["path"]).channels[0][: 16000 * 5]
    tx.transcribe_audio(load(calls[0]["path"]))
    import dataclasses

    modes = {m: dataclasses.replace(dopts, overlap_detect=(m == "on")) for m in ("off", "on")}
    for mo in modes.values():
        speaker_turns(warm, [], None, mo, gap=opts.turn_gap_seconds)

    rows = []
    for c in calls:
        audio = load(c["path"])
        samples = audio.channels[0]
        ref = [tuple(r) for r in c["reference"]]
        saved = out / f"{c['name']}.asr.json"
        if args.reuse_asr and saved.exists():
            got = json.loads(saved.read_text())
            words = [Word(*w) for w in got["words"]]
            asr_cpu, asr_wall = got["cpu"], got["wall"]
        else:
            c0, w0 = time.process_time(), time.perf_counter()
            tr = tx.transcribe_audio(audio)
            asr_cpu, asr_wall = time.process_time() - c0, time.perf_counter() - w0
            words = [w for t in tr.turns for w in t.words or []]
            saved.write_text(json.dumps({"cpu": asr_cpu, "wall": asr_wall, "words": [
                [w.word, w.start, w.end, w.probability] for w in words]}))  # fmt: skip
        segs = [words]
        words_ref = {(w.start, w.end): ref_speaker(ref, w.start, w.end) for w in words}
        ctx = CallContext(agent=c.get("agent_id") or None, direction=c.get("direction"))
        ctx_vp = CallContext(agent=ctx.agent, direction=ctx.direction, voiceprint=prints.get(ctx.agent or ""))
        by_mode: dict[str, dict] = {}
        for mode, mo in modes.items():
            c0, w0 = time.process_time(), time.perf_counter()
            r_m = speaker_turns(samples, segs, ctx, mo, gap=opts.turn_gap_seconds)
            cpu_m, wall_m = time.process_time() - c0, time.perf_counter() - w0
            r_vp = (speaker_turns(samples, segs, ctx_vp, mo, gap=opts.turn_gap_seconds, diarization=r_m.diarization)
                    if ctx_vp.voiceprint is not None else r_m)  # fmt: skip
            by_mode[mode] = {"res": r_m, "res_vp": r_vp, "cpu": cpu_m, "wall": wall_m}
        shipped = by_mode["on" if dopts.overlap_detect else "off"]
        res, res_vp, dia_cpu, dia_wall = shipped["res"], shipped["res_vp"], shipped["cpu"], shipped["wall"]
        heur = mono_turns(segs, turn_gap=0.8)
        hyp = res.diarization.segments() if res.diarization is not None else []
        n_ref_spk = len({r[2] for r in ref})

        def words_ok(turns, words_ref=words_ref) -> float:
            got = [(words_ref[(w.start, w.end)], t.speaker) for t in turns for w in t.words or []]
            return sum(a == b for a, b in got) / max(1, len(got))

        row = {
            "name": c["name"], "rate": c["rate"], "speakers": n_ref_spk, "found": res.speakers,
            "seconds": round(audio.duration, 1), "words": len(words), "phrases": c.get("phrases", True),
            "der": der(ref, hyp).der, "der_words": der(ref, word_spans(res_vp.turns)).der,
            "der_heur": der(ref, word_spans(heur)).der,
            "words_ok": words_ok(res_vp.turns), "words_ok_novp": words_ok(res.turns),
            "words_heur": words_ok(heur),
            "assign_vp": agent_right(res_vp.turns, words_ref), "assign_novp": agent_right(res.turns, words_ref),
            "assign_heur": agent_right(heur, words_ref), "voiceprint": ctx_vp.voiceprint is not None,
            "confidence": res_vp.confidence,
            # evidence margins and uncalibrated confidence, for bench/diarization_calibrate.py --rows
            "margins_vp": res_vp.evidence.get("margins"), "raw_vp": res_vp.evidence.get("raw_confidence"),
            "margins_novp": res.evidence.get("margins"), "raw_novp": res.evidence.get("raw_confidence"),
            "confidence_novp": res.confidence,
            "asr_cpu": asr_cpu, "asr_wall": asr_wall, "dia_cpu": dia_cpu, "dia_wall": dia_wall,
        }  # fmt: skip
        from bench.diarization_tune import breakdown

        for mode, got in by_mode.items():
            dm = got["res"].diarization
            b = breakdown(ref, dm.segments() if dm is not None else [])
            row.update({f"{k}_{mode}": v for k, v in b.items()})
            row[f"der_num_{mode}"] = b["missed_overlap"] + b["missed_other"] + b["false_alarm"] + b["confusion"]
            row[f"der_{mode}"] = row[f"der_num_{mode}"] / b["ref"]
            row[f"words_ok_{mode}"] = words_ok(got["res_vp"].turns)
            row[f"assign_{mode}"] = agent_right(got["res_vp"].turns, words_ref)
            row[f"assign_novp_{mode}"] = agent_right(got["res"].turns, words_ref)
            row[f"dia_cpu_{mode}"] = got["cpu"]
            row[f"overlap_marked_{mode}"] = dm.overlap_seconds() if dm is not None else 0.0
            row[f"talk_over_turns_{mode}"] = sum(bool(t.meta.get("talk_over")) for t in got["res_vp"].turns)
        rows.append(row)
        print(f"  {c['name']:<16} {c['rate']:>5} Hz {audio.duration:5.1f} s spk {n_ref_spk}/{res.speakers} "
              f"DER {row['der']:.3f} (heur {row['der_heur']:.3f}) words {row['words_ok']:.3f} "
              f"(heur {row['words_heur']:.3f}) agent {'ok' if row['assign_vp'] else 'WRONG'} "
              f"conf {res_vp.confidence:.2f} time +{dia_cpu / max(asr_cpu, 1e-9):.0%}", flush=True)  # fmt: skip
    report(rows)
    compare(rows)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1, default=float))
    return 0


def _pooled(rows: list[dict], key: str, weight: str = "seconds") -> float:
    w = np.array([r[weight] for r in rows], dtype=float)
    return float((np.array([r[key] for r in rows], dtype=float) * w).sum() / max(w.sum(), 1e-9))


def report(rows: list[dict]) -> None:
    groups = {
        "all": rows,
        "8 kHz": [r for r in rows if r["rate"] == 8000],
        "16 kHz": [r for r in rows if r["rate"] == 16000],
        "2 speakers": [r for r in rows if r["speakers"] == 2],
        "3 speakers": [r for r in rows if r["speakers"] == 3],
        "no agent phrases": [r for r in rows if not r["phrases"]],
    }
    print("\n| calls | n | DER (target ≤ 10 %) | word DER | heuristic DER | words right (≥ 95 %) | "
          "heuristic words | agent right, voiceprint (≥ 95 %) | no voiceprint | heuristic agent |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, rs in groups.items():
        if not rs:
            continue
        print(f"| {name} | {len(rs)} | {_pooled(rs, 'der'):.1%} | {_pooled(rs, 'der_words'):.1%} | "
              f"{_pooled(rs, 'der_heur'):.1%} | {_pooled(rs, 'words_ok', 'words'):.1%} | "
              f"{_pooled(rs, 'words_heur', 'words'):.1%} | {np.mean([r['assign_vp'] for r in rs]):.1%} | "
              f"{np.mean([r['assign_novp'] for r in rs]):.1%} | {np.mean([r['assign_heur'] for r in rs]):.1%} |")  # fmt: skip
    asr_cpu = sum(r["asr_cpu"] for r in rows)
    dia_cpu = sum(r["dia_cpu"] for r in rows)
    asr_wall = sum(r["asr_wall"] for r in rows)
    dia_wall = sum(r["dia_wall"] for r in rows)
    worst = max(rows, key=lambda r: r["der"])
    print(f"\ntime: diarization {dia_cpu:.1f} s CPU vs transcription {asr_cpu:.1f} s CPU = "
          f"+{dia_cpu / asr_cpu:.1%} (target ≤ 25 %); wall {dia_wall:.1f} s vs {asr_wall:.1f} s = "
          f"+{dia_wall / asr_wall:.1%}; cores: {os.cpu_count()}, load {os.getloadavg()[0]:.1f}")
    print(f"worst call: {worst['name']} DER {worst['der']:.1%}; speaker count right on "
          f"{np.mean([r['found'] == r['speakers'] for r in rows]):.0%} of calls; DER pooled by seconds")


def compare(rows: list[dict]) -> None:
    """Overlap detection off vs on, side by side (seconds pooled; shares of reference speech)."""
    groups = {"all": rows, "8 kHz": [r for r in rows if r["rate"] == 8000],
              "16 kHz": [r for r in rows if r["rate"] == 16000]}  # fmt: skip
    print("\n| calls | n | overlap share | DER off → on (≤ 10 %) | missed in overlap | missed other | false alarm "
          "| confusion | overlap marked (s) | talk-over turns | words right off → on (≥ 95 %) "
          "| agent off → on (≥ 95 %) | time off → on (≤ +25 %) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    asr = {name: sum(r["asr_cpu"] for r in rs) for name, rs in groups.items()}
    for name, rs in groups.items():
        if not rs:
            continue
        ref = sum(r["ref_off"] for r in rs)

        def pair(key: str, rs=rs, ref=ref) -> str:
            return " → ".join(f"{sum(r[f'{key}_{m}'] for r in rs) / ref:.2%}" for m in ("off", "on"))

        def share(key: str, rs=rs) -> str:
            return " → ".join(f"{_pooled(rs, f'{key}_{m}', 'words'):.1%}" for m in ("off", "on"))

        agent = " → ".join(f"{np.mean([r[f'assign_{m}'] for r in rs]):.1%}" for m in ("off", "on"))
        tm = " → ".join(f"+{sum(r[f'dia_cpu_{m}'] for r in rs) / max(asr[name], 1e-9):.1%}" for m in ("off", "on"))
        print(f"| {name} | {len(rs)} | {sum(r['overlap_off'] for r in rs) / ref:.1%} | {pair('der_num')} | "
              f"{pair('missed_overlap')} | {pair('missed_other')} | {pair('false_alarm')} | {pair('confusion')} | "
              f"{sum(r['overlap_marked_on'] for r in rs):.0f} | {sum(r['talk_over_turns_on'] for r in rs)} | "
              f"{share('words_ok')} | {agent} | {tm} |")  # fmt: skip


if __name__ == "__main__":
    raise SystemExit(main())
