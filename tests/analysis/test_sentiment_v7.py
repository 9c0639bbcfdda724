"""Recipe v7 (#11): extra training-only agent turns, the fresh out-of-domain set's loader and
the lexicon head's encoder, which must not change the process's torch thread count.

The fast tests read the real shipped files (the turn set and its extra training turns) and
check the wiring: every extra turn is training data and nothing of the held-out part moves,
the cache key knows the extra file, the agent correction still counts the turn set alone, the
Drugs.com loader's label rule (on a zip made here, never on the real set: that one is kept for
a single scoring by the lead) and `--sets` of the harness. The slow test loads a lexicon head
without an encoder, through the PyTorch fallback, and checks the thread count and the sharing.
"""

from __future__ import annotations

import dataclasses
import io
import json
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from analysis.sentiment import (
    SentimentOptions,
    fit,
    lexicon,
    load_turn_classifier,
    training,
    turnset,
)
from analysis.sentiment.corpus import LABELS
from analysis.sentiment.head import HEAD_FILE
from analysis.sentiment.options import CONTACT_TURNS_EXTRA

ROOT = Path(__file__).resolve().parents[2]
V7 = {"trainer": "head", "general": "hutto2014-tweets,hutto2014-nyt", "lexicon": "vader", "lexicon_scale": 4.0,
      "turn_weight": 20, "extra_turns": CONTACT_TURNS_EXTRA}


def _make_turns():  # bench/data/make_contact_turns.py, imported by path (bench/data is no package)
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_contact_turns", ROOT / "bench/data/make_contact_turns.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def test_extra_turns_file_is_reproducible_and_all_training_even_where_the_hash_says_held_out() -> None:
    make = _make_turns()
    rows = make.build(ROOT / "bench/data/contact_turns_extra_src.txt", "cx", train_only=True)
    shipped = [json.loads(line) for line in turnset.EXTRA_PATH.read_text(encoding="utf-8").splitlines()]
    assert rows == shipped  # the committed JSONL is what the script writes
    assert {r["split"] for r in rows} == {"train"}
    # the salt-and-hash rule would have held some of them out: train_only overrides it
    assert any(turnset.held_out_group(r["text"]) for r in rows if not r["noisy"])
    assert {r["speaker"] for r in rows} == {"agent"} and {r["label"] for r in rows} == set(LABELS)
    # and the main set is untouched by the extra file: same rows as its own source gives
    main = make.build(ROOT / "bench/data/contact_turns_src.txt")
    assert main == [json.loads(line) for line in turnset.DEFAULT_PATH.read_text(encoding="utf-8").splitlines()]
    held = {r["text"] for r in main if r["split"] == "held_out"}
    assert not held & {r["text"] for r in rows}


def test_extra_turns_option_keys_validation_and_priors() -> None:
    v7 = SentimentOptions(**V7)
    without = dataclasses.replace(v7, extra_turns="")
    assert len(training._extra_turns(v7)) == len(turnset.load(turnset.EXTRA_PATH)) > 0
    assert training._extra_turns(without) == []
    # the held-out part is the turn set's alone, with or without extras
    assert training._turn_parts(v7)[1] == training._turn_parts(without)[1]
    key = training.cache_key(v7, "c", "t", training.extra_turns_hash(v7))
    assert key != training.cache_key(without, "c", "t")
    assert key != training.cache_key(v7, "c", "t", "another file")
    # a model without extras keeps its key whatever extra_turns would be (v4/v5/v6 unchanged)
    assert training.cache_key(without, "c", "t") == training.cache_key(dataclasses.replace(without), "c", "t", "x")
    with pytest.raises(ValueError, match="extra_turns add to"):
        SentimentOptions(**{**V7, "turns": ""})
    # the agent correction counts agents on the turn set only; the training prior sees the extras
    p7, p0 = training.label_priors(v7), training.label_priors(without)
    assert p7["agent"] == p0["agent"]
    assert p7["train"]["negative"] > p0["train"]["negative"]


def test_extra_turns_own_file_is_read_whole(tmp_path: Path) -> None:
    rows = [{"id": f"x{i}", "group": f"x{i}", "speaker": "agent", "label": "negative", "style": "chat",
             "angry": None, "noisy": False, "split": "held_out" if i else "train", "text": f"No, we won't refund {i}."}
            for i in range(3)]
    path = tmp_path / "mine.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    options = SentimentOptions(**{**V7, "extra_turns": str(path)})
    assert [t.text for t in training._extra_turns(options)] == [r["text"] for r in rows]  # split ignored
    digest = training.extra_turns_hash(options)
    path.write_text(path.read_text(encoding="utf-8").replace("refund 2", "refund two"), encoding="utf-8")
    assert training.extra_turns_hash(options) != digest
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({**rows[0], "label": "furious"}) + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match="unknown labels"):
        training._extra_turns(SentimentOptions(**{**V7, "extra_turns": str(bad)}))


def test_head_trainer_fits_the_extra_turns_with_the_turn_weight(monkeypatch: pytest.MonkeyPatch,
                                                                 tmp_path: Path) -> None:
    seen: dict = {}

    class Stop(Exception):
        pass

    class NoEncoder:  # the fit is stopped before any text would be encoded
        name = "none"

        def __init__(self, *args: object, **kwargs: object) -> None:
            pass

    def feats(texts, encoder, layers, lex=""):  # type: ignore[no-untyped-def]
        seen["texts"] = list(texts)
        return np.ones((len(texts), 384 * len(layers) + (len(lexicon.NAMES) if lex else 0)))

    def capture(x, y, weights, c, max_iter=500, scale=None):  # type: ignore[no-untyped-def]
        seen["gold"], seen["weights"] = list(y), np.asarray(weights)
        raise Stop

    import analysis.encoder

    monkeypatch.setattr(analysis.encoder, "TextEncoder", NoEncoder)
    monkeypatch.setattr(fit, "features", feats)
    monkeypatch.setattr(fit, "fit_linear", capture)
    options = SentimentOptions(**{**V7, "general": "", "max_examples": 100})
    with pytest.raises(Stop):
        training.train_model(options, tmp_path / "m", progress=lambda _m: None)
    extra = turnset.load(turnset.EXTRA_PATH)
    texts, weights = seen["texts"], seen["weights"]
    for t in extra:
        i = texts.index(t.text)
        assert weights[i] == options.turn_weight and seen["gold"][i] == t.label
    held = {t.text for t in turnset.load(part="held_out")}
    assert not held & set(texts)  # nothing of the held-out part is fitted


def _drug_zip(rows: dict[str, list[tuple[str, str]]]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, items in rows.items():
            lines = ["\tdrugName\tcondition\treview\trating\tdate\tusefulCount"]
            lines += [f"{i}\tX\tY\t{text}\t{label}\tMay 1, 2015\t3" for i, (text, label) in enumerate(items)]
            z.writestr(name, "\n".join(lines) + "\n")
    return buf.getvalue()


def test_drug_review_loader_label_rule_on_a_zip_made_here() -> None:
    from bench import ood_polarity

    archive = _drug_zip({
        "drugsComTrain.tsv": [('"""It worked, I&#039;m  so glad."""', "positive"), ('"""Made me sick."""', "negative"),
                              ('"""It was ok."""', "neutral"), ('"""Same text twice."""', "positive")],
        "drugsComTest.tsv": [('"""Same text twice."""', "positive"), ('"""Both ways."""', "positive"),
                             ('"""Both ways."""', "negative"), ('""""""', "negative")],
    })
    rows = ood_polarity.drug_review_rows(archive)
    # HTML decoded, spaces squeezed, quotes gone; neutral, empty, the duplicate's copy and the
    # text rated both ways dropped; the two files pooled in order
    assert rows == [("It worked, I'm so glad.", "positive"), ("Made me sick.", "negative"),
                    ("Same text twice.", "positive")]
    broken = io.BytesIO()
    with zipfile.ZipFile(broken, "w") as z:
        z.writestr("drugsComTrain.tsv", "\ttext\tstars\n0\tfine\t9\n")
        z.writestr("drugsComTest.tsv", "\ttext\tstars\n")
    with pytest.raises(ValueError, match="lacks the column"):
        ood_polarity.drug_review_rows(broken.getvalue())


def test_verdict_sets_leave_the_fresh_set_out_unless_named() -> None:
    from bench import verdicts_sentiment as vs

    assert "drugs" not in vs.parse_sets("") and "drugs" not in vs.parse_sets(None)
    assert set(vs.parse_sets("")) == set(vs.SETS) - {"drugs", "clothing"}
    assert vs.parse_sets("drugs") == ("drugs",)
    assert vs.parse_sets("anger, turns") == ("turns", "anger")  # SETS order
    with pytest.raises(ValueError, match="--sets takes"):
        vs.parse_sets("imdb")
    import inspect

    assert inspect.signature(vs.run).parameters["sets"].default == vs.DEFAULT_SETS
    # --recipe: every named recipe is a valid [sentiment] section; v4 is the shipped default
    options = {name: SentimentOptions(**vs.recipe_options(name)) for name in vs.RECIPES}
    assert options["v4"] == SentimentOptions()
    assert options["v7"].extra_turns == CONTACT_TURNS_EXTRA and options["v7"].lexicon == "vader"
    trained = [o for o in options.values() if not o.long_text]  # v8: a reader over built models
    assert len({training.cache_key(o, "c", "t", "x") for o in trained}) == len(trained)
    # v8 reads short turns with the default model and long text with v6's: no model of its own
    assert training.cache_key(options["v8"], "c", "t", "x") == training.cache_key(options["v4"], "c", "t", "x")
    assert Path(options["v8"].long_model) == training.model_dir(options["v6"], vs._cache())


@pytest.mark.slow  # loads MiniLM through the PyTorch fallback
def test_lexicon_head_without_encoder_shares_one_and_keeps_torch_threads(tmp_path: Path) -> None:
    import torch

    options = SentimentOptions(trainer="head", lexicon="vader", turns="", agent_prior=False)
    target = training.model_dir(options, tmp_path)
    target.mkdir(parents=True)
    layers = [-1, -2, -3, -4]
    w = np.zeros((3, 384 * len(layers) + len(lexicon.NAMES)), dtype=np.float32)
    w[LABELS.index("positive"), 384 * len(layers)] = 8.0  # VADER's compound decides
    w[LABELS.index("negative"), 384 * len(layers)] = -8.0
    fit.write_head(target / HEAD_FILE, w, np.array([0.0, 1.0, 0.0], dtype=np.float32), layers, "vader")
    (target / "meta.json").write_text(json.dumps({"speaker_input": False}))
    before = torch.get_num_threads()
    torch.set_num_threads(1)  # what a one-thread worker (analysis/distributed/workers.py) sets
    try:
        # tmp_path has no ONNX export: the encoder falls back to PyTorch, whose runner sets
        # the process-wide thread count to its own `threads`
        first = load_turn_classifier(options, tmp_path)
        second = load_turn_classifier(options, tmp_path)
        assert torch.get_num_threads() == 1
        assert first.encoder is second.encoder  # type: ignore[attr-defined]
        assert first.encoder.runtime == "torch"  # type: ignore[attr-defined]
        out = first.predict(["Thank you, that was wonderful!", "This is awful."])
        assert [o.label for o in out] == ["positive", "negative"]
        assert "torch" in sys.modules
    finally:
        torch.set_num_threads(before)
