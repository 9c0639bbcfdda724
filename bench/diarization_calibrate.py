#!/usr/bin/env python3
"""Calibrating the agent-assignment confidence (#16): fit on dev calls, score eval once.

The agent is the speaker with the best hand-weighted evidence (analysis/diarization/
assign.py); its confidence must be a probability, because a call below `[analysis]
low_confidence_below` (0.6) sends its speaker-dependent flags to review. Before this, the
confidence was the logistic of the hand-weighted lead, and a wrong agent had 0.81.

Per call of a split (the calls and Whisper words of bench/diarization.py; run that first
for the split, it caches the words), the call is diarized once and assigned under four
conditions a deployment meets: with and without the agent's enrolled voiceprint, with and
without the call's direction (a sidecar may not give it). Each gives one row: the evidence
margins (the chosen speaker's minus the runner-up's: voiceprint lead, who spoke first,
agent phrase kinds, questions; and whether a voiceprint was compared) and whether the
chosen agent is right (its words are mostly the reference agent's).

    python bench/diarization_calibrate.py --split dev --fit   # choose the calibration (dev only)
    python bench/diarization_calibrate.py --split eval        # reliability, once, at the end

`--fit` compares, by leave-one-call-out on dev (all four rows of a call held out together):
the old confidence (logistic of the lead), Platt scaling of the lead, isotonic regression
of the lead, and a logistic regression over the margins; prints their log-loss and Brier
score, and the coefficients for `CALIBRATION` in assign.py of the best parametric model —
or says to keep the current ones when none beats them (what happened: bench/data/README.md). `--split eval`
refuses `--fit`. Printed for any split: the reliability table (confidence bins: calls,
mean confidence, accuracy) of the shipped calibration beside the old confidence, and how
many wrong assignments fall below the review line.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import diarization as bench  # noqa: E402

FEATURES = ("voiceprint", "first", "phrases", "questions", "voiceprint_known")
REVIEW_BELOW = 0.6  # [analysis] low_confidence_below, the default


def collect(split: str, n: int, partial: Path | None = None) -> list[dict]:
    """One row per (call, condition): margins, old and shipped confidence, right or not.
    `partial`: rewritten after every call, so a long run can be read before it ends."""
    from analysis.asr.audio import load
    from analysis.diarization.call import CallContext, agent_voiceprint, speaker_turns
    from analysis.diarization.diarize import DiarizeOptions, diarize
    from store.records import Word

    out = bench.cache_dir() / "bench_diarization" / split
    calls = bench.build(split, n, out)
    if split == "eval":
        calls.append(bench.sample_call(out))
    dopts = DiarizeOptions()
    prints = {}
    for enrol in sorted(out.glob("enrol_*.wav")):
        got = agent_voiceprint(load(enrol).channels[0], dopts)
        if got is not None:
            prints[enrol.stem.removeprefix("enrol_")] = got[0]
    rows = []
    for c in calls:
        saved = out / f"{c['name']}.asr.json"
        if not saved.exists():
            raise SystemExit(f"{saved}: no cached words; run bench/diarization.py --split {split} first")
        words = [Word(*w) for w in json.loads(saved.read_text())["words"]]
        ref = [tuple(r) for r in c["reference"]]
        words_ref = {(w.start, w.end): bench.ref_speaker(ref, w.start, w.end) for w in words}
        samples = load(c["path"]).channels[0]
        d = diarize(samples, dopts)
        vp = prints.get(c.get("agent_id") or "")
        for use_vp in (True, False):
            if use_vp and vp is None:
                continue
            for use_dir in (True, False):
                ctx = CallContext(agent=c.get("agent_id") or None, direction=c.get("direction") if use_dir else None,
                                  voiceprint=vp if use_vp else None)  # fmt: skip
                res = speaker_turns(samples, [words], ctx, dopts, gap=1.0, diarization=d)
                ev = res.evidence
                rows.append({
                    "call": c["name"], "rate": c["rate"], "voiceprint": use_vp, "direction": use_dir,
                    "bench_condition": use_dir,  # bench/diarization.py always gives the direction
                    "margins": ev.get("margins", {}), "raw": ev.get("raw_confidence"),
                    "confidence": res.confidence, "right": bench.agent_right(res.turns, words_ref),
                })  # fmt: skip
        print(f"  {c['name']:<16} " + " ".join(
            f"{'vp' if r['voiceprint'] else '--'}/{'dir' if r['direction'] else '---'} "
            f"{'ok' if r['right'] else 'WRONG'} {r['confidence']:.2f} (old {r['raw']:.2f})"
            for r in rows if r["call"] == c["name"]), flush=True)  # fmt: skip
        if partial is not None:
            partial.write_text(json.dumps(rows, default=float))
    return rows


def _rows_of(saved: list[dict]) -> list[dict]:
    """Rows written by this script's --json, or by bench/diarization.py --json (one call
    each, with and without the voiceprint, direction known): the same row format."""
    out = []
    for r in saved:
        if "margins" in r:
            out.append(r)
            continue
        for vp in (True, False):
            if vp and not r["voiceprint"]:
                continue
            key = "vp" if vp else "novp"
            out.append({"call": r["name"], "rate": r["rate"], "voiceprint": vp, "direction": True,
                        "bench_condition": True, "margins": r[f"margins_{key}"], "raw": r[f"raw_{key}"],
                        "confidence": r["confidence" if vp else "confidence_novp"],
                        "right": r[f"assign_{key}"]})  # fmt: skip
    return out


def _x(rows: list[dict]) -> np.ndarray:
    return np.array([[float(r["margins"].get(k, 0.0)) for k in FEATURES] for r in rows])


def _lead(rows: list[dict]) -> np.ndarray:
    return np.array([[math.log(r["raw"] / (1 - r["raw"])) if 0 < r["raw"] < 1 else 30.0] for r in rows])


def _fit_logistic(x: np.ndarray, y: np.ndarray, c: float) -> tuple[float, np.ndarray]:
    """(intercept, weights) of an L2 logistic regression fit on standardised features,
    returned for the raw features (so assign.py needs no scaler)."""
    from sklearn.linear_model import LogisticRegression

    mu, sd = x.mean(axis=0), x.std(axis=0)
    sd[sd == 0] = 1.0
    m = LogisticRegression(C=c, max_iter=1000).fit((x - mu) / sd, y)
    w = m.coef_[0] / sd
    return float(m.intercept_[0] - (w * mu).sum()), w


def _predict(model: tuple, x: np.ndarray) -> np.ndarray:
    kind = model[0]
    if kind == "isotonic":
        return np.clip(model[1].predict(x[:, 0]), 1e-4, 1 - 1e-4)
    b, w = model[1], model[2]
    return 1.0 / (1.0 + np.exp(-np.clip(b + x @ w, -30, 30)))


def fit(rows: list[dict]) -> None:
    """Leave-one-call-out comparison of the candidate calibrations; print the chosen one."""
    from sklearn.isotonic import IsotonicRegression

    y = np.array([r["right"] for r in rows], dtype=int)
    calls = np.array([r["call"] for r in rows])
    feats = {"margins": _x(rows), "lead": _lead(rows)}
    print(f"\ndev rows: {len(rows)} ({len(set(calls))} calls), wrong {int((1 - y).sum())}")

    def make(name: str, x: np.ndarray, yy: np.ndarray) -> tuple:
        if name.startswith("isotonic"):
            return ("isotonic", IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(x[:, 0], yy))
        return ("logistic", *_fit_logistic(x, yy, float(name.split("C=")[1])))

    candidates = {"old (logistic of the lead)": None, "Platt on the lead C=1": "lead",
                  "isotonic on the lead": "lead", "logistic on the margins C=0.1": "margins",
                  "logistic on the margins C=1": "margins", "logistic on the margins C=10": "margins"}  # fmt: skip
    print("\n| calibration | log-loss (leave-one-call-out) | Brier |\n|---|---|---|")
    best, best_loss = None, math.inf
    for name, fkey in candidates.items():
        p = np.zeros(len(rows))
        for call in sorted(set(calls)):
            te = calls == call
            if fkey is None:
                p[te] = [r["raw"] for r, t in zip(rows, te, strict=True) if t]
                continue
            tr = ~te
            if len(set(y[tr])) < 2:  # nothing wrong left to learn from: predict the rate
                p[te] = y[tr].mean()
                continue
            p[te] = _predict(make(name, feats[fkey][tr], y[tr]), feats[fkey][te])
        p = np.clip(p, 1e-4, 1 - 1e-4)
        loss = float(-(y * np.log(p) + (1 - y) * np.log(1 - p)).mean())
        brier = float(((p - y) ** 2).mean())
        print(f"| {name} | {loss:.4f} | {brier:.4f} |")
        if not name.startswith("isotonic") and loss < best_loss:
            best, best_loss = (name, fkey), loss
    assert best is not None
    name, fkey = best
    if fkey is None:
        print(f"\nchosen (lowest leave-one-call-out log-loss): {name} — keep CALIBRATION as it is")
        return
    c = float(name.split("C=")[1])
    if fkey == "margins":
        b, w = _fit_logistic(feats["margins"], y, c)
        coef = {"intercept": b, **{k: float(v) for k, v in zip(FEATURES, w, strict=True)}}
    else:  # Platt on the lead = the old weights scaled
        from analysis.diarization import assign as a

        b, w = _fit_logistic(feats["lead"], y, c)
        base = {"voiceprint": a.W_VOICEPRINT, "first": a.W_FIRST, "phrases": a.W_PHRASE, "questions": a.W_QUESTION}
        coef = {"intercept": b, **{k: float(w[0]) * v for k, v in base.items()}, "voiceprint_known": 0.0}
    print(f"\nchosen (lowest leave-one-call-out log-loss among the parametric fits): {name}")
    print("CALIBRATION = " + json.dumps({k: round(v, 4) for k, v in coef.items()}))


def reliability(rows: list[dict], key: str, title: str) -> None:
    edges = [0.0, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1.0001]
    p = np.array([r[key] for r in rows], dtype=float)
    y = np.array([r["right"] for r in rows], dtype=float)
    print(f"\n{title}\n\n| confidence | rows | mean confidence | right |\n|---|---|---|---|")
    for lo, hi in itertools.pairwise(edges):
        m = (p >= lo) & (p < hi)
        if m.any():
            print(f"| {lo:.2f}–{min(hi, 1.0):.2f} | {int(m.sum())} | {p[m].mean():.3f} | {y[m].mean():.1%} |")
    wrong = y == 0
    routed = wrong & (p < REVIEW_BELOW)
    print(f"\nwrong assignments: {int(wrong.sum())} of {len(rows)}; routed to review (confidence < "
          f"{REVIEW_BELOW}): {int(routed.sum())}; right ones routed (extra review): {int(((~wrong) & (p < REVIEW_BELOW)).sum())}"
          f"; Brier {float(((p - y) ** 2).mean()):.4f}")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--split", choices=["dev", "eval"], default="dev")
    ap.add_argument("--calls", type=int, default=None, help="calls in the split (dev 60, eval 28)")
    ap.add_argument("--fit", action="store_true", help="choose the calibration (dev only)")
    ap.add_argument("--json", type=Path, help="also write the rows here")
    ap.add_argument("--rows", type=Path,
                    help="read rows written by --json instead of diarizing again; the shipped "
                         "confidence is recomputed from their margins with the current CALIBRATION")
    args = ap.parse_args(argv)
    if args.fit and args.split != "dev":
        ap.error("--fit only on the dev split: the eval calls never choose anything")
    import torch

    torch.set_num_threads(2)
    if args.rows:
        from analysis.diarization.assign import calibrated

        rows = [r for r in _rows_of(json.loads(args.rows.read_text())) if r["call"].startswith(args.split)
                or (args.split == "eval" and r["call"].startswith("sample"))]
        for r in rows:
            r["confidence"] = calibrated(r["margins"]) if r["margins"] else r["confidence"]
    else:
        rows = collect(args.split, args.calls or (60 if args.split == "dev" else 28), args.json)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1, default=float))
    if args.fit:
        fit(rows)
    for subset, label in ((rows, "all four conditions"),
                          ([r for r in rows if r["bench_condition"]], "as in bench/diarization.py (direction known)")):  # fmt: skip
        reliability(subset, "raw", f"old confidence, {args.split}, {label}")
        reliability(subset, "confidence", f"shipped calibration, {args.split}, {label}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
