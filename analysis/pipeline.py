"""The analysis job: transcribe pending calls and score every waiting interaction.

`Analyzer.run(store)` is what `convoscope analyze` and the scheduled job call. It streams
(`analysis.stream`): text interactions and the newest calls first, each call transcribed,
scored, committed and alerted before the next call's transcription starts. The stages:

1. calls with status 'new' are transcribed (`analysis.asr.pending.transcribe_one`);
2. waiting interactions (`store.scores.pending_ids`: transcribed calls, new chats and
   e-mails, earlier analysis failures past their back-off) are loaded in batches of
   `batch_size`; the models (sentiment classifier, MiniLM, anger scorer) are loaded once
   per Analyzer and every model call is batched across the whole batch of interactions;
3. per interaction: turn sentiment, the Contact-Lens summary, anger, metrics, redaction,
   keywords (of the redacted text), topics, rules and flags (`Analyzer.analyse`, a pure
   function of records in -> records out, also used by `convoscope score`);
4. one transaction per batch writes turn_scores, scores, flags and the status 'analysed'
   (replace-by-key, so a run killed half way is simply finished by the next run and never
   leaves duplicates). An interaction whose analysis raises is marked 'failed' with the
   reason and retried with exponential back-off up to `max_attempts`.

`rescore=True` also re-analyses interactions already analysed (after a rule, taxonomy or
model change); flags keep their id and human review (`store.flags.replace_for_interaction`).
New flag ids are returned in the report and passed to the `on_flags` hooks right after
each batch commits, so the Slack alerter can post within seconds.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from analysis import embeddings
from analysis import resolution as resolution_stage
from analysis.facts import FactChecker, FactOptions, FactsOptions
from analysis.interaction_analysis import Analysis, InteractionAnalysis, _TextPart
from analysis.options import AnalysisOptions, key_options
from analysis.patterns import embedding as cluster_embedding
from analysis.redaction import (
    RedactionOptions,
    RedactionResult,
    redact_words,
    words_json,
)
from analysis.rules import RuleEngine, RuleOptions
from analysis.topics import TopicModel, TopicOptions
from store import flags as flag_store
from store import resolution as resolution_store
from store import scores as score_store
from store.db import Store, storage_failure
from store.records import Interaction, Turn

if TYPE_CHECKING:
    from analysis.anger import AngerOptions
    from analysis.asr.options import AsrOptions
    from analysis.sentiment import SentimentOptions, TurnSentiment

log = logging.getLogger(__name__)

#: characters of a turn given to the sentence encoder (MiniLM reads 256 word pieces at most)
EMBED_CHARS = cluster_embedding.TURN_CHARS
#: interactions per slice when the encoder runs beside the per-interaction work
#: (`encoder_overlap`): ~400 turns, several full encoder batches per slice
OVERLAP_SLICE = 64
#: the first and the last slice are short: the first is encoded before any per-interaction
#: work can run beside it, and the last one's per-interaction work has no encoding beside it
#: (one CPU idles in both stretches on 2 CPUs); short ends also make a batch of
#: `batch_size` 64 (the default) overlap at all
EDGE_SLICE = 8


@dataclass(slots=True)
class AnalyzeReport:
    """What one `run` did."""

    transcribed: int = 0
    transcribe_failed: int = 0
    analysed: int = 0
    failed: int = 0
    turns: int = 0
    new_flag_ids: list[int] = field(default_factory=list)
    failures: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def interactions_per_second(self) -> float:
        return self.analysed / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["interactions_per_second"] = round(self.interactions_per_second, 2)
        d["seconds"] = round(self.seconds, 3)
        return d


FlagHook = Callable[[list[int]], None]


class Analyzer(InteractionAnalysis):
    """The analysis core with its models loaded once (lazily, on first use)."""

    def __init__(
        self,
        options: AnalysisOptions,
        *,
        sentiment: SentimentOptions,
        anger: AngerOptions,
        topics: TopicOptions,
        rules: Sequence[RuleOptions],
        redaction: RedactionOptions,
        cache_dir: Path | str,
        asr: AsrOptions | None = None,
        on_flags: Sequence[FlagHook] = (),
        cluster_model: str | None = None,
        resolution: resolution_stage.ResolutionOptions | None = None,
        facts: Sequence[FactOptions] = (),
        fact_check: FactsOptions | None = None,
    ) -> None:
        self.options = options
        self.resolution_options = resolution or resolution_stage.ResolutionOptions()
        self.facts = list(facts)
        self.fact_options = fact_check or FactsOptions()
        self._fact_checker: FactChecker | None = None
        #: the patterns job's model (PatternsOptions.clusters.model): when it is the model
        #: the turns are encoded with, each analysed interaction's clustering vector
        #: (`analysis.patterns.embedding`) is stored with its scores, so assigning it to a
        #: cluster later needs no encode. None (or another model): nothing is stored.
        self.cluster_model = cluster_model if cluster_model == options.embedding_model else None
        self.sentiment_options = sentiment
        self.anger_options = anger
        self.topic_options = topics
        self.rule_options = list(rules)
        self.redaction = redaction
        self.asr_options = asr
        self.cache_dir = Path(cache_dir).expanduser()
        self.on_flags: list[FlagHook] = list(on_flags)
        self._classifier: Any = None
        self._anger: Any = None
        self._topics: TopicModel | None = None
        self._rules: RuleEngine | None = None
        self._transcriber: Any = None
        self._encoder: Any = None
        self._pool: ThreadPoolExecutor | None = None
        self._stage_lock = threading.Lock()
        #: seconds spent per stage since this Analyzer was built (encoder, or sentiment and
        #: embeddings; per_interaction, encoder_wait, write): where the time goes, for the
        #: bench and the logs. With `encoder_overlap` the encoder's seconds run beside
        #: per_interaction (on the encoder thread); encoder_wait is what the job waited.
        self.stage_seconds: dict[str, float] = {}
        #: the same stages' thread CPU seconds (`time.thread_time` of the thread that ran
        #: them): on a shared machine wall seconds include other processes' turns
        self.stage_cpu: dict[str, float] = {}
        self.analysis_key = self._fingerprint()

    def __getstate__(self) -> dict[str, Any]:
        """Picklable (the Ray workers get a copy): no encoder thread, no lock."""
        state = self.__dict__.copy()
        state["_pool"] = None
        state["_stage_lock"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._stage_lock = threading.Lock()

    # -- models, loaded once -------------------------------------------------------------

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """MiniLM vectors; identical texts are encoded once, long ones cut at EMBED_CHARS.

        MiniLM only reads its first 256 word pieces anyway; ~600 characters keep the cost of
        a long e-mail close to that of a chat message.
        """
        if not texts:
            return np.zeros((0, embeddings.DIM), np.float32)
        uniq, index = _unique(t[:EMBED_CHARS] for t in texts)
        enc = self.text_encoder
        vecs = enc.embed(uniq) if enc is not None else embeddings.encode(uniq, self.options.embedding_model)
        return vecs[index]

    @property
    def text_encoder(self) -> Any:
        """The shared MiniLM pass (analysis/encoder.py) when the embedding model is the
        packaged MiniLM; None for another model (sentence-transformers encodes it)."""
        if self._encoder is None and self.options.embedding_model == embeddings.PACKAGED:
            from analysis.encoder import shared_encoder

            self._encoder = shared_encoder(self.options.encoder_options(), self.cache_dir)
        return self._encoder

    def predict(self, texts: Sequence[str], speakers: Sequence[str] | None = None) -> list[TurnSentiment]:
        """Turn sentiment, each distinct (speaker, text) classified once ("Thank you!" is
        common); the speaker matters: the model reads agent and customer turns differently."""
        if not texts:
            return []
        who = list(speakers) if speakers is not None else ["customer"] * len(texts)
        uniq, index = _unique(zip(who, texts, strict=True))
        got = self.classifier.predict([t for _, t in uniq], [w for w, _ in uniq])
        return [got[i] for i in index]

    @property
    def classifier(self) -> Any:
        if self._classifier is None:
            from analysis.sentiment.classifier import load_turn_classifier, prepared_model
            from analysis.sentiment.options import PACKAGED

            opts = self.sentiment_options
            if opts.backend != "vader" and opts.model == PACKAGED:
                prepared_model(opts, self.cache_dir)  # a missing model fails before MiniLM's load
            # VADER reads no encoder pass: loading MiniLM for it cost every VADER run seconds
            enc = None if opts.backend == "vader" else self.text_encoder
            self._classifier = load_turn_classifier(opts, self.cache_dir, enc)
        return self._classifier

    @property
    def anger_scorer(self) -> Any:
        if self._anger is None:
            from analysis.anger import AngerScorer

            self._anger = AngerScorer(self.anger_options)
        return self._anger

    @property
    def topic_model(self) -> TopicModel:
        if self._topics is None:
            self._topics = TopicModel(self.topic_options, self.embed)
        return self._topics

    @property
    def rule_engine(self) -> RuleEngine:
        if self._rules is None:
            self._rules = RuleEngine(self.rule_options, self.embed)
        return self._rules

    @property
    def fact_checker(self) -> FactChecker:
        if self._fact_checker is None:
            self._fact_checker = FactChecker(self.facts, self.fact_options, self.embed)
        return self._fact_checker

    def load_models(self) -> None:
        """Load every model now (the service may call this at start to fail early)."""
        _ = self.classifier, self.anger_scorer, self.rule_engine
        if self.topic_options.taxonomy:
            _ = self.topic_model

    def _fingerprint(self) -> str:
        """Which configuration produced a score (stored as scores.analysis_key)."""
        from analysis.rule_classifier import heads_digest

        # learned rule heads count only where a rule uses one (other keys stay as they were)
        heads = {"rule_heads": heads_digest()} if any(k in str(r.when) for r in self.rule_options for k in ("'classifier'", "'context'")) else {}
        blob = json.dumps(
            {
                **heads,
                "rules": [asdict(r) for r in self.rule_options],
                "topics": asdict(self.topic_options),
                "sentiment": asdict(self.sentiment_options),
                "anger": asdict(self.anger_options) if hasattr(self.anger_options, "__dataclass_fields__") else None,
                "redaction": asdict(self.redaction),
                "analysis": key_options(self.options, self.cache_dir),
                "resolution": asdict(self.resolution_options),
                "facts": [asdict(f) for f in self.facts],
                "fact_check": asdict(self.fact_options),
            },
            sort_keys=True,
            default=str,
        )
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    # -- the pure part: records in, records out --------------------------------------------

    def analyse(self, batch: Sequence[Interaction]) -> list[Analysis | Exception]:
        """Analyse interactions (no store access); an entry is the exception where one failed.

        With `encoder_overlap` the batch is cut into slices (`EDGE_SLICE` interactions at
        both ends, `OVERLAP_SLICE` each between), and every slice is handed to the encoder
        thread at once, in order: it encodes ahead while this thread runs each slice's
        rules, redaction, keywords and metrics (the runtime releases the GIL), so the two
        share the CPUs instead of taking turns. Where the encoder runs two batches at once
        (`TextEncoder.parallel_runs`) a slice after the first goes as two halves, and this
        thread, when it would wait for a slice, runs the encoder's next forward pass itself
        (`TextEncoder.help`) instead of idling. Each slice is one encoder call (a half one
        call) whichever thread runs its passes, and the calls reach the encoder's cache in
        the same order every run, so the results do not depend on timing, and they are the
        same as one pass over the batch up to float noise (bfloat16: its rounding)."""
        if not batch:
            return []
        need_vectors = (
            bool(self.topic_options.taxonomy) or self.rule_engine.needs_embeddings or self.cluster_model is not None
        )
        _ = self.classifier  # load before the encoder thread first needs it
        self.anger_scorer.prefetch(batch)
        slices = _slices(batch, self.options.encoder_overlap)
        out: list[Analysis | Exception] = []
        # two threads encode at once only where the classifier is safe to call from two: the
        # shared encoder's head (TextEncoder is thread-safe) or VADER (pure lookups); flair's
        # own model and tokenizer keep one thread at a time
        share = _thread_safe(self.classifier) and getattr(self._encoder, "parallel_runs", 1) > 1
        # the encoder calls, in order: the first slice whole, the others as halves where
        # two batches run at once; each one's interactions are finished as soon as it is in
        parts = [slices[0]] + [
            h for nxt in slices[1:] for h in ([nxt[: len(nxt) // 2], nxt[len(nxt) // 2 :]]
                                              if share and len(nxt) > 1 else [nxt])
        ]
        futures: list[Future[Any]] = []
        if len(parts) > 1:
            pool = self._encoder_thread()
            futures = [pool.submit(self._encode, p, need_vectors) for p in parts]
        # each interaction's encoder-free part, computed ahead (in batch order) while this
        # thread would otherwise wait for the encoder
        text: list[_TextPart | Exception] = []

        def text_ahead() -> bool:
            if len(text) == len(batch):
                return False
            t0, c0 = time.perf_counter(), time.thread_time()
            text.append(self._text_or_error(batch[len(text)]))
            self._book("text_ahead", time.perf_counter() - t0, time.thread_time() - c0)
            return True

        try:
            for i, part in enumerate(parts):
                encoded = (self._wait_encoded(futures[i], share, text_ahead) if futures
                           else self._encode(part, need_vectors))
                t0, c0 = time.perf_counter(), time.thread_time()
                sentiments, vectors = encoded
                pos = 0
                for it in part:
                    n = len(it.turns)
                    k = len(out)
                    if k == len(text):
                        text.append(self._text_or_error(it))
                    pre = text[k]
                    if isinstance(pre, Exception):
                        out.append(pre)
                        pos += n
                        continue
                    try:
                        out.append(self._analyse_one(it, sentiments[pos : pos + n], vectors[pos : pos + n], pre))
                    except Exception as exc:  # one bad interaction must not stop the batch
                        log.exception("analysis of interaction %s failed", it.id)
                        out.append(exc)
                    pos += n
                self._book("per_interaction", time.perf_counter() - t0, time.thread_time() - c0)
        finally:
            for fut in futures:  # an error above: let what was started finish first
                if not fut.cancel():
                    fut.exception()
        return out

    def _wait_encoded(self, fut: Future[Any], share: bool, spare: Callable[[], bool]) -> tuple[list[Any], np.ndarray]:
        """An encoder call's (sentiments, vectors) from the encoder thread. Meanwhile this
        thread works: `spare` (Python only it can run: the next interactions'
        encoder-free part) first, then, where two batches can run at once, the encoder's
        waiting forward passes; it waits idle only when there is neither."""
        enc = self._encoder if share else None
        t0, c0 = time.perf_counter(), time.thread_time()
        worked = worked_cpu = helped = helped_cpu = 0.0
        if enc is not None:
            fut.add_done_callback(lambda _f: enc.wake())
        while not fut.done():
            w0, wc = time.perf_counter(), time.thread_time()
            if spare():
                worked += time.perf_counter() - w0
                worked_cpu += time.thread_time() - wc
            elif enc is not None:
                if enc.help(timeout=0.05):
                    helped += time.perf_counter() - w0
                    helped_cpu += time.thread_time() - wc
            else:
                wait([fut], timeout=0.05)
        result = fut.result()
        self._book("encoder_help", helped, helped_cpu)
        self._book("encoder_wait", time.perf_counter() - t0 - helped - worked,
                   time.thread_time() - c0 - helped_cpu - worked_cpu)
        return result

    def _text_or_error(self, it: Interaction) -> _TextPart | Exception:
        try:
            return self._text_part(it)
        except Exception as exc:  # one bad interaction must not stop the batch
            log.exception("analysis of interaction %s failed", it.id)
            return exc

    def _encode(self, part: Sequence[Interaction], need_vectors: bool) -> tuple[list[Any], np.ndarray]:
        """(turn sentiments, turn vectors) of `part`: one shared encoder pass when the
        classifier is served from it, else the classifier and the embedder separately."""
        texts = [t.text for it in part for t in it.turns]
        speakers = [t.speaker for it in part for t in it.turns]
        t0, c0 = time.perf_counter(), time.thread_time()
        shared = _shared_pass(self.classifier, texts, speakers, need_vectors)
        if shared is not None:  # one MiniLM pass gave both (analysis/sentiment/head.py)
            sentiments, vecs = shared
            self._book("encoder", time.perf_counter() - t0, time.thread_time() - c0)
        else:
            sentiments = self.predict(texts, speakers)
            t1, c1 = time.perf_counter(), time.thread_time()
            vecs = self.embed(texts) if need_vectors and texts else None
            self._book("sentiment", t1 - t0, c1 - c0)
            self._book("embeddings", time.perf_counter() - t1, time.thread_time() - c1)
        vectors = vecs if vecs is not None else np.zeros((len(texts), embeddings.DIM), np.float32)
        return sentiments, vectors

    def _encoder_thread(self) -> ThreadPoolExecutor:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="convoscope-encoder")
        return self._pool

    def _book(self, stage: str, seconds: float, cpu: float | None = None) -> None:
        """Add to `stage_seconds` and `stage_cpu` (from either thread: one lock)."""
        with self._stage_lock:
            self.stage_seconds[stage] = self.stage_seconds.get(stage, 0.0) + seconds
            if cpu is not None:
                self.stage_cpu[stage] = self.stage_cpu.get(stage, 0.0) + cpu

    # -- the job ---------------------------------------------------------------------------

    def transcriber(self) -> Any:
        if self._transcriber is None:
            from analysis.asr import Transcriber

            self._transcriber = Transcriber(self.asr_options, self.cache_dir)
        return self._transcriber

    def transcribe_pending(self, store: Store, limit: int | None = None) -> tuple[int, int]:
        """Transcribe calls waiting with status 'new'; returns (transcribed, failed)."""
        if not self.options.transcribe or self.asr_options is None:
            return 0, 0
        from store import calls as call_store

        if not call_store.pending_transcription(store, max_attempts=self.options.max_attempts, limit=1):
            return 0, 0  # no call waiting: do not load Whisper at all
        from analysis.asr import transcribe_pending

        rep = transcribe_pending(
            store, self.transcriber(), limit=limit, max_attempts=self.options.max_attempts,
            backoff_seconds=self.options.backoff_seconds,
        )  # fmt: skip
        return int(getattr(rep, "transcribed", 0)), int(getattr(rep, "failed", 0))

    def run(
        self, store: Store, *, limit: int | None = None, rescore: bool = False, stale: bool = False,
        write_lock: Any = None, should_stop: Callable[[], bool] | None = None,
    ) -> AnalyzeReport:
        """Analyse everything waiting, one interaction at a time (`analysis.stream`): text
        and newest calls first, each call transcribed, scored, committed and alerted before
        the next call's transcription starts. `write_lock` (the service's) is held only
        while committing; `should_stop` is asked before each interaction (a clean shutdown
        stops after the current commit).

        `rescore` re-analyses every analysed interaction; `stale` only those whose scores
        came from another configuration (rules, taxonomy, models: `analysis_key`).
        """
        from analysis.stream import run_streaming

        return run_streaming(self, store, limit=limit, rescore=rescore, stale=stale, write_lock=write_lock,
                             should_stop=should_stop)

    def analyse_batch(self, batch: Sequence[Interaction]) -> list[Analysis | Exception]:
        """`analyse`, with a model failure recorded on every interaction of the batch."""
        try:
            return self.analyse(batch)
        except Exception as exc:  # a model failure fails the whole batch: record it on each
            log.exception("analysis batch failed")
            return [exc] * len(batch)

    def _run_batch(
        self, store: Store, batch: Sequence[Interaction], report: AnalyzeReport,
        results: list[Analysis | Exception] | None = None,
    ) -> None:
        """Analyse `batch` (unless its `results` are given) and commit them in one transaction."""
        if results is None:
            results = self.analyse_batch(batch)
        self.record(store, batch, results, report)

    def record(
        self, store: Store, batch: Sequence[Interaction], results: list[Analysis | Exception],
        report: AnalyzeReport,
    ) -> None:
        """Write one batch's results (computed here or by cluster workers) in one transaction
        and mark the failures; the driver half of `_run_batch`, no model needed."""
        done = [r for r in results if isinstance(r, Analysis)]
        new_ids: list[int] = []
        t_write, c_write = time.perf_counter(), time.thread_time()
        try:
            with store.transaction() as tx:
                new_ids = self._write(store, done, tx)
        except Exception as exc:  # e.g. one bad row: retry one by one so the others still land
            if storage_failure(exc):
                raise  # disk full / read-only: not the rows' fault; stop, nothing marked failed
            log.warning("writing a batch failed (%s); writing one by one", exc)
            new_ids = []
            kept = []
            for a in done:
                try:
                    with store.transaction() as tx:
                        new_ids += self._write(store, [a], tx)
                    kept.append(a)
                except Exception as one_exc:
                    results[next(i for i, r in enumerate(results) if r is a)] = one_exc
            done = kept
        for it, r in zip(batch, results, strict=True):
            if isinstance(r, Exception):
                reason = f"{type(r).__name__}: {r}"
                attempts = score_store.mark_failed(
                    store, it.id, reason,  # type: ignore[arg-type]
                    backoff_seconds=self.options.backoff_seconds,
                    backoff_max_seconds=self.options.backoff_max_seconds,
                )  # fmt: skip
                report.failed += 1
                report.failures.append({"id": it.id, "reason": reason, "attempts": attempts})
        self._book("write", time.perf_counter() - t_write, time.thread_time() - c_write)
        report.analysed += len(done)
        report.turns += sum(len(a.interaction.turns) for a in done)
        report.new_flag_ids += new_ids
        if new_ids:
            for hook in self.on_flags:
                try:
                    hook(list(new_ids))
                except Exception:  # an alerting problem must not fail analysis
                    log.exception("on_flags hook failed")

    def _write(self, store: Store, done: Sequence[Analysis], tx: Any) -> list[int]:
        score_store.write(
            store,
            [score_store.ScoredInteraction(a.scores, a.turn_scores, self.analysis_key) for a in done],
            con=tx,
        )
        resolution_store.save(store, [a.resolution for a in done if a.resolution is not None], con=tx)
        new_ids = flag_store.replace_for_interactions(store, [(a.scores.interaction_id, a.flags) for a in done], con=tx)
        if not self.redaction.keep_original:
            rows = []
            for a in done:
                for t, r in zip(a.interaction.turns, a.redactions, strict=True):
                    if r.changed:
                        rows.append((a.scores.interaction_id, t.seq, r.text, _redacted_words(t, r)))
            score_store.overwrite_turn_texts(store, rows, con=tx)
        with_vec = [a for a in done if a.cluster_vector is not None]
        if with_vec and self.cluster_model:
            from store import patterns as pattern_store

            pattern_store.save_embeddings(
                store, [a.scores.interaction_id for a in with_vec],
                [a.cluster_vector[0] for a in with_vec],  # type: ignore[index]
                np.stack([a.cluster_vector[1] for a in with_vec]),  # type: ignore[index]
                self.cluster_model, con=tx,
            )  # fmt: skip
        score_store.mark_analysed(store, [(a.scores.interaction_id, a.scores.version) for a in done], con=tx)
        return new_ids


def _thread_safe(classifier: Any) -> bool:
    from analysis.sentiment.classifier import VaderTurnClassifier
    from analysis.sentiment.head import SharedTurnClassifier

    return isinstance(classifier, SharedTurnClassifier | VaderTurnClassifier)


def _shared_pass(classifier: Any, texts: list[str], speakers: list[str], need_vectors: bool) -> Any:
    """(sentiments, vectors or None) from one encoder pass when the classifier is served
    from the shared encoder; None otherwise (VADER, flair: two separate calls)."""
    from analysis.sentiment.head import SharedTurnClassifier, shared_pass

    if not isinstance(classifier, SharedTurnClassifier):
        return None
    return shared_pass(classifier, texts, speakers, need_vectors and bool(texts))


def _slices(batch: Sequence[Interaction], overlap: bool) -> list[Sequence[Interaction]]:
    """The parts of a batch encoded one after another (see `Analyzer.analyse`): the whole
    batch without overlap, else EDGE_SLICE, OVERLAP_SLICE each, and EDGE_SLICE last."""
    n = len(batch)
    if not overlap or n <= EDGE_SLICE:
        return [batch]
    if n <= 2 * EDGE_SLICE:
        cuts = [0, EDGE_SLICE, n]
    else:
        cuts = [0, *range(EDGE_SLICE, n - EDGE_SLICE, OVERLAP_SLICE), n - EDGE_SLICE, n]
    return [batch[a:b] for a, b in itertools.pairwise(cuts) if b > a]


def _unique(texts: Iterable[Any]) -> tuple[list[Any], np.ndarray]:
    """Distinct items (texts, or (speaker, text) pairs) in first-seen order, and each input's index."""
    pos: dict[Any, int] = {}
    index = [pos.setdefault(t, len(pos)) for t in texts]
    return list(pos), np.asarray(index, dtype=np.int64)


def _redacted_words(turn: Turn, result: RedactionResult) -> str | None:
    """The word list with every word inside a redacted span replaced by its marker."""
    return words_json(redact_words(turn, result))
