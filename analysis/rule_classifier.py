"""Learned rule conditions: `classifier = "<flag>"`, a logistic-regression head on the turn's
MiniLM vector, read through the clause guards (split from analysis.conditions).

The heads live in analysis/rules_classifier.json, written by bench/rules_classifier.py (its
docstring has the recipe and the cross-batch test that decides whether a head earns a place
in the shipped rules: only the churn head does). The turn vector is the one the
pipeline computes once per turn for topics and semantic rules: no second model pass.
"""

from __future__ import annotations

import json
import logging
import re
import zlib
from functools import lru_cache
from importlib import resources
from itertools import pairwise
from typing import Any

import numpy as np

from analysis.conditions import (
    MAX_NOT_COUNTED,
    ClausePolicy,
    Condition,
    Outcome,
    RuleContext,
    _evidence,
    _not_counted,
    _Scope,
)
from analysis.matching import Match

log = logging.getLogger(__name__)

#: the words a head also reads (besides the MiniLM vector): word unigrams and bigrams (lower
#: case, `token_pattern`), hashed with CRC-32 into `n_features` buckets, binary, L2-normalised.
#: Stateless (a hash, no vocabulary to store) and one function (`lexical_indices`) for the
#: recipe and the condition, so both compute the same features from the text alone. The vector
#: carries the meaning of a paraphrase; the words carry the cue a new writer keeps
#: ("unsubscribing", "authority").
#: `char_ngrams` (lo, hi), when set, adds each word's character n-grams (the word padded with
#: a space each side, "#"-prefixed before hashing) so a misspelling shares features with the
#: word ("cansel" / "cancel", "insurence" / "insurance"); None = words only. Chosen in the v7
#: round by the leave-one-batch-out test (v3-v7 left out in turn: more right and fewer wrong
#: added hits for every flag than words alone in 4,096 buckets; README, "Round on batch v7").
LEXICAL: dict[str, Any] = {"n_features": 16384, "ngram_range": (1, 2), "token_pattern": r"[a-z0-9']+", "hash": "crc32",
                           "char_ngrams": (3, 5)}  # fmt: skip
_TOKEN = re.compile(LEXICAL["token_pattern"])


#: the CRC-32 of the "#" that prefixes a character n-gram: crc32(gram, _CHAR_SEED) is
#: crc32(b"#" + gram) without building the string (CRC-32 is a running checksum)
_CHAR_SEED = zlib.crc32(b"#")


class TurnWords:
    """One text's words for the heads, tokenised once and shared by every head that reads
    the turn (the rule context keeps one per turn): the tokens, the skip bound
    (`max_features`) and, only when a head needs them, the hashed indices. `lexical` is the
    word-feature recipe (default the shipped `LEXICAL`; bench/rules_classifier.py passes its
    exploration settings here instead of changing the module's)."""

    __slots__ = ("_indices", "lexical", "tokens")

    def __init__(self, text: str, lexical: dict[str, Any] | None = None) -> None:
        self.lexical = LEXICAL if lexical is None else lexical
        pattern = _TOKEN if lexical is None else re.compile(self.lexical["token_pattern"])
        self.tokens: list[str] = pattern.findall(text.lower())
        self._indices: np.ndarray | None = None

    @property
    def max_features(self) -> int:
        """An upper bound on the distinct features (for the skip bound): 2 per word (word,
        bigram) and, with character 3-5-grams, at most 3 per character of the words (a word
        of c characters has c, c - 1 and c - 2 of them once padded)."""
        toks = self.tokens
        if not self.lexical["char_ngrams"]:
            return 2 * len(toks)
        lo, hi = self.lexical["char_ngrams"]
        return 2 * len(toks) + (hi - lo + 1) * sum(map(len, toks)) + len(toks) * max(0, (hi - lo + 1) * (3 - lo))

    @property
    def indices(self) -> np.ndarray:
        """The distinct hashed feature indices: CRC-32 of each word, each "a b" bigram and
        (with `char_ngrams`) each "#" + n-gram of " word " (tokens are ASCII by
        `token_pattern`, so byte slices are character slices)."""
        if self._indices is None:
            lex, toks, crc = self.lexical, self.tokens, zlib.crc32
            n = lex["n_features"]
            out = {crc(t.encode()) % n for t in toks}
            out.update(crc(f"{a} {b}".encode()) % n for a, b in pairwise(toks))
            if lex["char_ngrams"]:
                lo, hi = lex["char_ngrams"]
                for t in set(toks):
                    out.update(_char_gram_indices(t, lo, hi, n))
            self._indices = np.fromiter(out, dtype=np.int64, count=len(out))
        return self._indices


@lru_cache(maxsize=1 << 16)
def _char_gram_indices(token: str, lo: int, hi: int, n: int) -> tuple[int, ...]:
    """The hashed "#" + n-grams (lo..hi characters) of " token ", per distinct word: words
    repeat across turns ("the", "account", "cancel"), so each is hashed once per process."""
    p, crc = b" " + token.encode() + b" ", zlib.crc32
    return tuple({crc(p[i : i + k], _CHAR_SEED) % n for k in range(lo, hi + 1) for i in range(len(p) - k + 1)})


def lexical_indices(text: str, lexical: dict[str, Any] | None = None) -> np.ndarray:
    """The distinct hashed feature indices of `text` (`TurnWords.indices`)."""
    return TurnWords(text, lexical).indices


def lexical_features(texts: list[str], lexical: dict[str, Any] | None = None) -> Any:
    """The word features of `texts` as a scipy sparse matrix (one row per text, what the
    recipe trains on); the condition reads the same numbers per turn with `lexical_score`.
    `lexical`: the recipe's settings (default the shipped `LEXICAL`)."""
    import scipy.sparse as sp

    lex = LEXICAL if lexical is None else lexical
    rows = [lexical_indices(t, lexical) for t in texts]
    data = np.concatenate([np.full(r.size, 1.0 / np.sqrt(max(r.size, 1))) for r in rows] or [np.zeros(0)])
    ind = np.concatenate(rows or [np.zeros(0, dtype=np.int64)])
    ptr = np.concatenate([[0], np.cumsum([r.size for r in rows])])
    return sp.csr_matrix((data, ind, ptr), shape=(len(texts), lex["n_features"]))


def _most_words_add(weights: np.ndarray | None) -> np.ndarray:
    """most[K]: the most the word features of a text with at most K distinct features can add
    to the logit (binary, L2-normalised: the best j <= K positive weights over sqrt(j)). K for
    a text is `TurnWords.max_features`: its words and bigrams and, with `char_ngrams`, each word's
    character n-grams."""
    if weights is None:
        return np.zeros(1)
    w = np.sort(np.clip(weights, 0.0, None))[::-1]
    j = np.arange(1, len(w) + 1)
    return np.concatenate([[0.0], np.maximum.accumulate(np.cumsum(w) / np.sqrt(j))])


def lexical_score(indices: np.ndarray, weights: np.ndarray) -> float:
    """The word features' share of a head's logit: binary features, L2-normalised."""
    return float(weights[indices].sum() / np.sqrt(indices.size)) if indices.size else 0.0


def heads_digest() -> str:
    """A digest of the heads file: part of the analysis fingerprint when a rule uses a
    head, so refitted heads make old scores stale (`convoscope analyze --stale`)."""
    import hashlib

    data = resources.files("analysis").joinpath("rules_classifier.json").read_bytes()
    return hashlib.sha256(data).hexdigest()[:16]


class HeadsFileError(ValueError):
    """The heads file was fitted with other word features than this code computes."""


def heads_from_document(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The heads of a parsed heads file, after checking that its "lexical" block is the
    `LEXICAL` this code hashes with and each head's lexical_weights has one weight per
    bucket. A file fitted with other settings (`bench/rules_classifier.py --n-features` or
    `--char-ngrams` written over the shipped file) would otherwise be read with the wrong
    feature indices and score silently wrong."""
    heads: dict[str, dict[str, Any]] = doc["heads"]
    want = json.loads(json.dumps({**LEXICAL, "binary": True, "norm": "l2"}))
    got = doc.get("lexical")
    if any(h.get("lexical_weights") is not None for h in heads.values()) and got != want:
        raise HeadsFileError(f"rules_classifier.json was fitted with lexical settings {got}, "
                             f"but the code computes {want}: refit the heads (bench/rules_classifier.py)")  # fmt: skip
    for name, h in heads.items():
        lw = h.get("lexical_weights")
        if lw is not None and len(lw) != LEXICAL["n_features"]:
            raise HeadsFileError(f"rules_classifier.json head {name!r} has {len(lw)} lexical weights, "
                                 f"the code hashes into {LEXICAL['n_features']} buckets: refit the heads")  # fmt: skip
    return heads


@lru_cache(maxsize=1)
def classifier_heads() -> dict[str, dict[str, Any]]:
    """The learned heads of `classifier` conditions (analysis/rules_classifier.json): flag
    name -> weights, intercept, threshold, speaker; checked against `LEXICAL`
    (`heads_from_document`)."""
    text = resources.files("analysis").joinpath("rules_classifier.json").read_text("utf-8")
    return heads_from_document(json.loads(text))


class HeadScorer:
    """One head's arithmetic — the MiniLM vector's dot product plus, when the head reads them,
    its hashed words — shared by `classifier` conditions and the `context` modifier of phrase
    and near conditions (analysis.conditions), so both read a head the same way."""

    __slots__ = ("_most", "intercept", "lexical", "weights")

    def __init__(self, weights: np.ndarray, intercept: float, lexical: np.ndarray | None = None) -> None:
        self.weights, self.intercept = weights, intercept
        self.lexical = lexical  # weights of the hashed word features, when the head reads them
        self._most = _most_words_add(lexical)

    def probs(self, texts: list[str], vecs: np.ndarray, words: Any = None, threshold: float | None = None) -> np.ndarray:
        """The head's probability for each text, from its vector and (when the head reads
        them) its hashed words. Given a `threshold`, the words are hashed only where the
        vector part could still reach it with the most that many words can add
        (`_most_words_add`): for the rest the vector part alone is returned, below the
        threshold either way — most turns, so the words cost little. Without one every
        probability is exact (what evidence prints). `words(k)` gives text k's `TurnWords`
        (the rule context keeps one per turn, so the turn is tokenised once for every head)."""
        z = (vecs @ self.weights + self.intercept).astype(np.float64)
        if self.lexical is not None:
            most, top = self._most, len(self._most) - 1
            bound = None if threshold is None else float(np.log(threshold / (1.0 - threshold)))
            for k, t in enumerate(texts):
                tw = words(k) if words is not None else TurnWords(t)
                if bound is None or z[k] + most[min(tw.max_features, top)] >= bound:
                    z[k] += lexical_score(tw.indices, self.lexical)
        return np.asarray(1.0 / (1.0 + np.exp(-z)), dtype=np.float64)


@lru_cache(maxsize=8)
def head_scorer(name: str) -> HeadScorer:
    """The shipped head `name` (analysis/rules_classifier.json) as a `HeadScorer`."""
    head = classifier_heads()[name]
    lex = np.asarray(head["lexical_weights"], dtype=np.float64) if "lexical_weights" in head else None
    return HeadScorer(np.asarray(head["weights"], dtype=np.float32), float(head["intercept"]), lex)


class ClassifierCondition(Condition):
    """A learned second opinion: a logistic-regression head (`analysis/rules_classifier.json`,
    written by bench/rules_classifier.py) on the turn's MiniLM vector — the vector the pipeline
    computes once per turn anyway, so no second model pass. A turn counts when the head's
    probability reaches `threshold` and the turn passes the clause guards: every clause of it
    is read (`analysis.clauses`) and the first reading the policy does not accept (negated, a
    question, reported speech, ...) keeps it out, with that reason. Evidence says
    "classifier 0.93". The heads were fitted on the packaged MiniLM's vectors: with another
    `embedding_model` they do not apply (a different width is reported, not guessed at)."""

    def __init__(self, head: str, scorer: HeadScorer, threshold: float, scope: _Scope,
                 policy: ClausePolicy, clause_gate: float | None = None) -> None:  # fmt: skip
        # `scorer`: the head's arithmetic, shared (`head_scorer`) with every condition and
        # `context` modifier that reads the same head. `clause_gate`: when set, a turn of
        # several clauses whose whole-turn probability reaches the gate but not the threshold
        # has each clause the policy accepts scored alone (`_clause_hits`)
        self.head, self.scorer = head, scorer
        self.threshold, self.scope, self.policy = threshold, scope, policy
        self.clause_gate = None if clause_gate is None or clause_gate >= threshold else clause_gate
        self._warned = False

    def _probs(self, texts: list[str], vecs: np.ndarray, words: Any = None) -> np.ndarray:
        """The head's probability for each text (`HeadScorer.probs`, skipping the words where
        the vector part cannot reach this condition's threshold)."""
        return self.scorer.probs(texts, vecs, words, self.threshold)

    def uses_semantic(self) -> bool:
        return True  # it reads the turn vectors

    def _evaluate(self, ctx: RuleContext) -> Outcome:
        idx = self.scope.turns(ctx)
        if not idx:
            return Outcome(False, [])
        vecs = ctx.vectors()[idx]
        if vecs.shape[1] != self.scorer.weights.shape[0]:
            # another embedding model than the packaged MiniLM the head was fitted on: the
            # head cannot read these vectors; say so once (in the log) instead of guessing
            if not self._warned:
                self._warned = True
                log.warning("classifier condition %r skipped: turn vectors have %d dimensions, the head was "
                            "fitted on the packaged MiniLM's %d", self.head, vecs.shape[1], self.scorer.weights.shape[0])  # fmt: skip
            return Outcome(False, [])
        texts = [ctx.interaction.turns[i].text for i in idx]
        gate = self.threshold if self.clause_gate is None else self.clause_gate
        # with a gate the words are hashed where the turn could reach the gate: a probability
        # returned below the gate is then below it for sure (`HeadScorer.probs`)
        probs = self.scorer.probs(texts, vecs, lambda k: ctx.turn_words(idx[k]), gate)
        ev, skipped = [], []
        candidates = [i for i, p in zip(idx, probs, strict=True) if gate <= p < self.threshold]
        if candidates:
            ev.extend(self._clause_hits(ctx, candidates))
        for i, p in zip(idx, probs, strict=True):
            if p < self.threshold:
                continue
            tc, text = ctx.clauses(i), ctx.interaction.turns[i].text
            m = Match(0, len(text), round(100 * float(p), 1), "classifier")
            ok, why = True, "affirmative"
            if self.policy.reads_clauses:
                ok, why = self._judge_clauses(ctx, tc, text)
            label = f"classifier {float(p):.2f} ({self.describe()})"
            if ok:
                e = _evidence(ctx, i, m, label)
                e["counted"], e["clause"] = True, why
                ev.append(e)
            elif len(skipped) < MAX_NOT_COUNTED:
                skipped.append(_not_counted(ctx, i, m, f"{label}: {why}"))
        return Outcome(bool(ev), ev, max((e["score"] for e in ev), default=None), skipped)

    def _clause_hits(self, ctx: RuleContext, turns: list[int]) -> list[dict[str, Any]]:
        """Clause mode: the head reads each clause of a candidate turn (whole-turn
        probability between the gate and the threshold, several clauses) that the policy
        accepts, alone — its own MiniLM vector and words — and the turn counts when one
        clause reaches the threshold. A threat said in one clause of a long turn ("we've been
        with you eleven years, the service has gone downhill, we're going") is diluted in the
        whole turn's vector; read alone it is not. A clause the policy refuses (negated, a
        question, reported) is never scored, so the clause's own reading still vetoes. Only
        the few candidate turns are encoded again, in one batch."""
        if not ctx.can_embed():
            return []
        owner: list[tuple[int, int, int]] = []
        parts: list[str] = []
        for i in turns:
            tc, text = ctx.clauses(i), ctx.interaction.turns[i].text
            spans = tc.clauses()
            if len(spans) < 2:
                continue  # one clause: the whole turn was that clause
            for a, b in spans:
                if text[a:b].strip() and self.policy.judge(tc.read(a, b))[0]:
                    owner.append((i, a, b))
                    parts.append(text[a:b].strip())
        if not parts:
            return []
        vecs = np.asarray(ctx.embed_texts(parts), dtype=np.float32)
        if vecs.ndim != 2 or vecs.shape[1] != self.scorer.weights.shape[0]:
            return []  # another embedding model: the head cannot read these vectors
        probs = self.scorer.probs(parts, vecs, None, self.threshold)
        best: dict[int, tuple[float, int, int]] = {}
        for (i, a, b), p in zip(owner, probs, strict=True):
            if p >= self.threshold and p > best.get(i, (0.0, 0, 0))[0]:
                best[i] = (float(p), a, b)
        ev = []
        for i, (p, a, b) in sorted(best.items()):
            e = _evidence(ctx, i, Match(a, b, round(100 * p, 1), "classifier"), f"classifier {p:.2f} on the clause ({self.describe()})")
            e["counted"], e["clause"] = True, "affirmative (the clause read alone)"
            ev.append(e)
        return ev

    def _judge_clauses(self, ctx: RuleContext, tc: Any, text: str) -> tuple[bool, str]:
        """Read every clause; a clause the policy does not accept keeps the turn out unless
        the rest of the turn says it on its own. The head reads the whole turn, so a negated
        or questioning clause beside the threat ("I want to end the subscription, I never use
        it"; "... want to end my contract early. What is the process?") would otherwise veto a
        threat said plainly elsewhere. The rest (the accepted clauses) is scored again by the
        same head — only for the few turns that passed the threshold and have such a clause —
        and counts when it still reaches the threshold; "I'm not going to cancel, I just want
        the fee explained" leaves "I just want the fee explained", which does not."""
        kept, why_not = [], None
        for a, b in tc.clauses():
            ok, why = self.policy.judge(tc.read(a, b))
            if ok:
                kept.append(text[a:b])
            elif why_not is None:
                why_not = why
        if why_not is None:
            return True, "affirmative"
        rest = " ".join(kept).strip()
        if not rest or not ctx.can_embed():
            return False, why_not
        vec = np.asarray(ctx.embed_texts([rest])[0], dtype=np.float32)
        if vec.shape != self.scorer.weights.shape:
            return False, why_not  # another embedding model: the head cannot read the rest
        p = float(self._probs([rest], vec[None, :])[0])
        if p >= self.threshold:
            return True, f"affirmative outside the clause {why_not} (rest {p:.2f})"
        return False, f"{why_not} (rest {p:.2f})"

    def describe(self) -> str:
        clauses = "" if self.clause_gate is None else f" (clauses of turns >= {self.clause_gate:g})"
        return f"{self.head} head >= {self.threshold:g}{clauses} {self.scope.describe()}".strip()
