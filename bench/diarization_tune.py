#!/usr/bin/env python3
"""Dev-set tuning of the diarizer's frame output (#16): DER by error kind, per option set.

Diarization only (no Whisper): every dev call of bench/diarization_data.py is diarized
under each option set given with `--try` (`key=value,key=value` of DiarizeOptions; the
empty set is the shipped defaults), and the DER is split into missed speech inside
reference overlap, other missed speech, false alarm and confusion, pooled by seconds for
8 kHz and 16 kHz calls. This is how overlap handling and the 8 kHz choices were chosen
(bench/data/README.md); it refuses the eval split, which only bench/diarization.py scores.

    python bench/diarization_tune.py --try "" --try "overlap_change=0.2" --try "window=1.6"
    python bench/diarization_tune.py --split dev_overlap --calls 40 --try "overlap_detect=0" --try ""

(The overlap classifier itself is trained and its threshold chosen by
bench/diarization_overlap.py, cross-validated over the dev calls.)
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import diarization as bench  # noqa: E402


def parse(spec: str) -> dict[str, float | int]:
    out: dict[str, float | int] = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        k, v = part.split("=")
        out[k.strip()] = int(v) if v.strip().lstrip("-").isdigit() else float(v)
    return out


def breakdown(ref: list, hyp: list) -> dict[str, float]:
    """Seconds of reference speech, overlap, and each DER error kind (missed split by
    whether the reference had two speakers there)."""
    from analysis.diarization.der import STEP, _grid, der

    r = der(ref, hyp)
    end = max([e for _s, e, _l in [*ref, *hyp]], default=0.0)
    n = round(end / STEP) + 1
    _rl, rg = _grid(ref, n)
    _hl, hg = _grid(hyp, n)
    n_ref, n_hyp = rg.sum(axis=0), hg.sum(axis=0)
    miss = np.maximum(n_ref - n_hyp, 0)
    ov = n_ref >= 2
    return {"ref": r.reference, "overlap": float(ov.sum() * STEP), "missed_overlap": float(miss[ov].sum() * STEP),
            "missed_other": float(miss[~ov].sum() * STEP), "false_alarm": r.false_alarm, "confusion": r.confusion}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--split", choices=["dev", "dev_overlap"], default="dev", help="dev only: eval never chooses")
    ap.add_argument("--calls", type=int, default=60)
    ap.add_argument("--try", dest="tries", action="append", default=None, metavar="OPTS")
    args = ap.parse_args(argv)
    import torch

    torch.set_num_threads(2)
    from analysis.asr.audio import load
    from analysis.diarization.diarize import DiarizeOptions, diarize

    out = bench.cache_dir() / "bench_diarization" / args.split
    calls = bench.build(args.split, args.calls, out)
    audio = {c["name"]: load(c["path"]).channels[0] for c in calls}
    print("| options | calls | DER | missed in overlap | missed other | false alarm | confusion | overlap share | CPU s |")
    print("|---|---|---|---|---|---|---|---|---|")
    for spec in args.tries or [""]:
        opts = dataclasses.replace(DiarizeOptions(), **parse(spec))
        tot: dict[int, dict[str, float]] = {}
        cpu = 0.0
        for c in calls:
            t0 = time.process_time()
            d = diarize(audio[c["name"]], opts)
            cpu += time.process_time() - t0
            b = breakdown([tuple(r) for r in c["reference"]], d.segments(opts.overlap_margin))
            for key in (c["rate"], 0):
                acc = tot.setdefault(key, {})
                for k, v in b.items():
                    acc[k] = acc.get(k, 0.0) + v
        for key in (0, 8000, 16000):
            t = tot[key]
            errs = t["missed_overlap"] + t["missed_other"] + t["false_alarm"] + t["confusion"]
            name = {0: "all", 8000: "8 kHz", 16000: "16 kHz"}[key]
            print(f"| `{spec or 'defaults'}` | {name} | {errs / t['ref']:.2%} | {t['missed_overlap'] / t['ref']:.2%} | "
                  f"{t['missed_other'] / t['ref']:.2%} | {t['false_alarm'] / t['ref']:.2%} | "
                  f"{t['confusion'] / t['ref']:.2%} | {t['overlap'] / t['ref']:.2%} | {cpu if key == 0 else 0:.0f} |",
                  flush=True)  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
