#!/usr/bin/env python3
"""Train the overlapped-speech classifier (#16 round 3) on dev calls only, and write it.

Every call of the dev splits (`dev`: 60 plain calls, `dev_overlap`: 40 overlap-heavy
ones; bench/diarization_data.py) is diarized once with the overlap features kept
(cached under $CONVOSCOPE_CACHE/bench_diarization/overlap_features/). A frame's label is
"two or more reference speakers audible" (frames the VAD called speech only: the others
cannot be marked). Model choice and every threshold use 5-fold cross-validation grouped by
call (a call's frames are never in both training and test), scored as what the shipped
thing changes: the DER of the diarization with the detected frames given their second
speaker, pooled over the plain and the overlap-heavy dev calls. The eval splits are never
read here (bench/diarization.py scores them).

    python bench/diarization_overlap.py            # compare models (cross-validated)
    python bench/diarization_overlap.py --write    # fit the chosen one on all dev calls, write
"""

from __future__ import annotations

import argparse
import json
import pickle
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import diarization as bench  # noqa: E402

DEV_SPLITS = {"dev": 60, "dev_overlap": 40}


def collect() -> list[dict]:
    """Per dev call: features, speech, reference overlap per frame, and the diarization."""
    import torch

    torch.set_num_threads(2)
    from analysis.asr.audio import load
    from analysis.diarization.der import _grid
    from analysis.diarization.diarize import DiarizeOptions, diarize

    cache = bench.cache_dir() / "bench_diarization" / "overlap_features"
    cache.mkdir(parents=True, exist_ok=True)
    rows = []
    for split, n in DEV_SPLITS.items():
        for c in bench.build(split, n, bench.cache_dir() / "bench_diarization" / split):
            path = cache / f"{c['name']}.pkl"
            if not path.exists():
                d = diarize(load(c["path"]).channels[0], DiarizeOptions(), keep_features=True)
                path.write_bytes(pickle.dumps(d))
            d = pickle.loads(path.read_bytes())
            ref = [tuple(r) for r in c["reference"]]
            _, grid = _grid(ref, len(d.speech))
            rows.append({"name": c["name"], "split": split, "rate": c["rate"], "d": d, "ref": ref,
                         "label": grid.sum(axis=0) >= 2})  # fmt: skip
    return rows


def hyp_with(d, both: np.ndarray) -> list:
    from analysis.diarization.diarize import second_speaker

    if d.n_speakers < 2 or d.overlap_features is None:
        return d.segments()
    import dataclasses

    e = dataclasses.replace(d, second=second_speaker(d.scores, d.short_scores, both))
    return e.segments()


def pooled_der(rows: list[dict], boths: list[np.ndarray | None]) -> dict[str, float]:
    from bench.diarization_tune import breakdown

    out: dict[str, float] = {}
    for split in ("dev", "dev_overlap"):
        tot: dict[str, float] = {}
        for r, both in zip(rows, boths, strict=True):
            if r["split"] != split:
                continue
            hyp = r["d"].segments() if both is None else hyp_with(r["d"], both)
            for k, v in breakdown(r["ref"], hyp).items():
                tot[k] = tot.get(k, 0.0) + v
        errs = tot["missed_overlap"] + tot["missed_other"] + tot["false_alarm"] + tot["confusion"]
        out[split] = errs / tot["ref"]
        out[split + "_fa"] = tot["false_alarm"] / tot["ref"]
        out[split + "_mo"] = tot["missed_overlap"] / tot["ref"]
        out[split + "_conf"] = tot["confusion"] / tot["ref"]
    return out


def make_model(kind: str, seed: int = 0):
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier

    if kind == "logistic":
        return LogisticRegression(C=1.0, max_iter=2000)
    hidden = {"mlp16": (16,), "mlp32x16": (32, 16)}[kind]
    return MLPClassifier(hidden_layer_sizes=hidden, alpha=1e-3, max_iter=200, early_stopping=True,
                         random_state=seed)  # fmt: skip


def to_shipped(model, mean: np.ndarray, scale: np.ndarray, smooth: int, threshold: float):
    from analysis.diarization.overlap import FEATURES, OverlapModel

    if hasattr(model, "coefs_"):
        layers = tuple((w, b) for w, b in zip(model.coefs_, model.intercepts_, strict=True))
    else:
        layers = ((model.coef_.T.copy(), model.intercept_.copy()),)
    return OverlapModel(mean, scale, layers, smooth, threshold, FEATURES)


def train_rows(rows: list[dict], idx: list[int], max_frames: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Speech frames of the given calls (balanced subsample: all overlap frames up to half)."""
    rng = np.random.default_rng(seed)
    xs, ys = [], []
    for i in idx:
        r = rows[i]
        d = r["d"]
        if d.overlap_features is None:
            continue
        m = d.speech
        xs.append(d.overlap_features[m])
        ys.append(r["label"][m])
    x, y = np.concatenate(xs), np.concatenate(ys)
    if len(x) > max_frames:
        keep = rng.choice(len(x), max_frames, replace=False)
        x, y = x[keep], y[keep]
    return x, y


def fit(rows: list[dict], idx: list[int], kind: str, seed: int = 0):
    x, y = train_rows(rows, idx, 120_000, seed)
    mean, scale = x.mean(axis=0), np.maximum(x.std(axis=0), 1e-6)
    model = make_model(kind, seed).fit((x - mean) / scale, y)
    return to_shipped(model, mean, scale, 0, 0.5)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="logistic,mlp16,mlp32x16")
    ap.add_argument("--write", action="store_true", help="fit the chosen model on all dev calls and write it")
    ap.add_argument("--model", default="mlp16", help="with --write: which")
    ap.add_argument("--smooth", type=int, default=None, help="with --write: frames each side (else cross-validated)")
    ap.add_argument("--post", default="5/0,10/0,10/20,20/20", help="smoothing/min-run pairs (frames) to try")
    ap.add_argument("--thresholds", default="0.4,0.5,0.6,0.7")
    args = ap.parse_args(argv)
    from sklearn.metrics import average_precision_score, roc_auc_score
    from sklearn.model_selection import GroupKFold

    t0 = time.perf_counter()
    rows = collect()
    print(f"{len(rows)} dev calls diarized/read in {time.perf_counter() - t0:.0f} s")
    n_ov = sum(int((r["label"] & r["d"].speech).sum()) for r in rows)
    n_sp = sum(int(r["d"].speech.sum()) for r in rows)
    print(f"speech frames {n_sp}, overlapped {n_ov} ({n_ov / n_sp:.1%})")
    base = pooled_der(rows, [None] * len(rows))
    print(f"overlap off: DER dev {base['dev']:.2%}, dev_overlap {base['dev_overlap']:.2%} "
          f"(missed in overlap {base['dev_overlap_mo']:.2%})")  # fmt: skip
    groups = np.arange(len(rows))
    folds = list(GroupKFold(n_splits=5).split(groups, groups=groups))
    best = None
    print("| model | smooth / min run (frames) | threshold | frame AUC | frame AP | DER dev | DER dev_overlap "
          "| FA dev | FA dev_overlap | missed in overlap dev_overlap |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for kind in args.models.split(","):
        oof: list[np.ndarray | None] = [None] * len(rows)
        for tr, te in folds:
            m = fit(rows, list(tr), kind)
            for i in te:
                d = rows[i]["d"]
                if d.overlap_features is not None:
                    oof[i] = np.where(d.speech, m.proba(d.overlap_features), 0.0)
        ys = np.concatenate([r["label"][r["d"].speech] for r, p in zip(rows, oof, strict=True) if p is not None])
        ps = np.concatenate([p[r["d"].speech] for r, p in zip(rows, oof, strict=True) if p is not None])
        auc, ap_ = roc_auc_score(ys, ps), average_precision_score(ys, ps)
        from analysis.diarization.overlap import _moving, drop_short

        for smooth, min_run in [(int(a), int(b)) for a, b in (x.split("/") for x in args.post.split(","))]:
            sm = [None if p is None else _moving(p, smooth) for p in oof]
            for thr in [float(t) for t in args.thresholds.split(",")]:
                boths = [None if p is None else drop_short(r["d"].speech & (p >= thr), min_run)
                         for r, p in zip(rows, sm, strict=True)]  # fmt: skip
                boths = [b if b is not None else np.zeros(len(r["d"].speech), bool) for r, b in zip(rows, boths, strict=True)]
                got = pooled_der(rows, boths)
                print(f"| {kind} | {smooth}/{min_run} | {thr} | {auc:.3f} | {ap_:.3f} | {got['dev']:.2%} | {got['dev_overlap']:.2%} | "
                      f"{got['dev_fa']:.2%} | {got['dev_overlap_fa']:.2%} | {got['dev_overlap_mo']:.2%} |", flush=True)  # fmt: skip
                # the choice: lowest overlap-heavy DER that keeps the plain calls within 0.3 points
                if got["dev"] <= base["dev"] + 0.003 and (best is None or got["dev_overlap"] < best[0]):
                    best = (got["dev_overlap"], kind, smooth, thr, got, min_run)
    if best:
        print(f"\nchosen on dev (cross-validated): {best[1]} smooth {best[2]} min run {best[5]} threshold {best[3]}: "
              f"DER dev {best[4]['dev']:.2%} (off {base['dev']:.2%}), dev_overlap {best[4]['dev_overlap']:.2%} "
              f"(off {base['dev_overlap']:.2%})")  # fmt: skip
    if args.write:
        kind = args.model if best is None else best[1]
        smooth = args.smooth if args.smooth is not None else (best[2] if best else 5)
        thr = best[3] if best else 0.5
        m = fit(rows, list(range(len(rows))), kind)
        from analysis.diarization.overlap import MODEL_FILE

        min_run = best[5] if best else 0
        shipped = type(m)(m.mean, m.scale, m.layers, smooth, thr, m.features, min_run)
        MODEL_FILE.write_text(json.dumps(shipped.to_dict(), separators=(",", ":")) + "\n")
        print(f"wrote {MODEL_FILE} ({MODEL_FILE.stat().st_size} bytes): {kind}, smooth {smooth}, threshold {thr}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
