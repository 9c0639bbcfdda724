"""Long-text reader (#11, sentiment v8) and the v9 fusion: what moves, and what it costs.

    .venv/bin/python bench/sentiment_long.py [--recipe v8|v9] [--repeat 3]

1. Identity: the held-out contact-centre turns and the held-out airline tweets scored by the
   default recipe (v4) and by `--recipe` (v8: the same v4 head for text of at most
   `long_chars` characters, a long-text reader above): how many verdicts are bit for bit the
   same (label, score and the three probabilities), how many keep their label, how many agent
   turns are bit for bit the same (v9 moves customer text on purpose, never an agent's), and
   how many texts were long.
2. Speed: the same held-out turns and tweets (all short) through `predict`, v4 and the recipe
   back to back, `--repeat` times in alternating order, CPU seconds per 1,000 texts (the
   encoder's cache is cleared before each pass); then the long dev reviews (Amazon whole
   reviews), to show what a long text costs: one encoder input per sentence.

Nothing here reads a Drugs.com review.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _load(keys: dict, encoder):
    from analysis.sentiment import SentimentOptions, load_turn_classifier
    from bench.verdicts_sentiment import _cache

    return load_turn_classifier(SentimentOptions(**keys), _cache(), encoder)


def _clear(encoder) -> None:
    encoder.clear_cache()  # every pass encodes afresh: no verdict comes from another's rows


def main() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--recipe", default="v8")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    from analysis.sentiment import SentimentOptions, turnset
    from analysis.sentiment.corpus import split
    from bench import ood_polarity
    from bench.verdicts_sentiment import _cache, _encoder, recipe_options

    keys = recipe_options(args.recipe)
    enc = _encoder()
    base, other = _load({}, enc), _load(keys, enc)
    print(f"v4: {base.name}\n{args.recipe}: {other.name}")
    opts = SentimentOptions()
    held = turnset.load(part="held_out")
    tweets = split(opts.corpus, opts.held_out_fraction, opts.seed).held_out
    sets = {"held-out contact turns": ([t.text for t in held], [t.speaker for t in held]),
            "held-out airline tweets": ([e.text for e in tweets], ["customer"] * len(tweets))}
    long_chars = SentimentOptions(**keys).long_chars
    print(f"\n{'set':28} {'n':>5} {'long':>5} {'identical':>10} {'same label':>11} {'agent identical':>16}")
    for name, (texts, speakers) in sets.items():
        _clear(enc)
        a = base.predict(texts, speakers)
        _clear(enc)
        b = other.predict(texts, speakers)
        same = sum((x.label, x.score, x.probs) == (y.label, y.score, y.probs) for x, y in zip(a, b, strict=True))
        label = sum(x.label == y.label for x, y in zip(a, b, strict=True))
        # recipe v9 moves customer text on purpose; an agent's turn must stay bit for bit
        agents = [(x, y) for x, y, s in zip(a, b, speakers, strict=True) if s == "agent"]
        agent_same = sum((x.label, x.score, x.probs) == (y.label, y.score, y.probs) for x, y in agents)
        print(f"{name:28} {len(texts):>5} {sum(len(t) > long_chars for t in texts):>5} {same:>6}/{len(texts)} "
              f"{label:>6}/{len(texts)} {agent_same:>10}/{len(agents)}")

    texts = [t for v in sets.values() for t in v[0]]
    speakers = [s for v in sets.values() for s in v[1]]
    cpu: dict[str, list[float]] = {"v4": [], args.recipe: []}
    for r in range(args.repeat):
        order = [("v4", base), (args.recipe, other)]
        for name, clf in order if r % 2 == 0 else order[::-1]:
            _clear(enc)
            t0 = time.process_time()
            clf.predict(texts, speakers)
            cpu[name].append((time.process_time() - t0) / len(texts) * 1000)
    print(f"\nshort texts ({len(texts)}), CPU s per 1,000, {args.repeat} alternating passes, load "
          f"{os.getloadavg()[0]:.1f}:")
    for name, xs in cpu.items():
        print(f"  {name:6} " + "  ".join(f"{x:.2f}" for x in xs) + f"   (best {min(xs):.2f})")

    reviews = [t for t, _ in ood_polarity.amazon_long_reviews(_cache())]
    for name, clf in (("v4", base), (args.recipe, other)):
        _clear(enc)
        t0 = time.process_time()
        clf.predict(reviews, ["customer"] * len(reviews))
        print(f"long dev reviews ({len(reviews)}, mean {sum(map(len, reviews)) / len(reviews):.0f} chars), {name}: "
              f"{(time.process_time() - t0) / len(reviews) * 1000:.1f} CPU s per 1,000")


if __name__ == "__main__":
    main()
