"""The pattern jobs the service schedules: a full recompute and incremental assignment.

`run_patterns(store, options, now=...)` recomputes, over the last `window_days`:
clusters (re-cluster with stable ids) -> repeat contacts and FCR -> rising issues ->
low-satisfaction traits, best agent phrases and stage orders -> QA scorecards. Each
step's results replace the previous ones inside one transaction, so a re-run (or a run
after a crash) is safe. `assign_new(store, options)` puts newly analysed interactions
into the existing clusters between full runs (nearest centroid above a threshold).

Clustering vectors (`analysis.patterns.embedding`: the mean of the customer turns' MiniLM
vectors) are stored per interaction with the hash of the turns they were made from; the
analysis pipeline stores them as it encodes turns anyway, so assignment and re-clusters
only encode what the pipeline did not cover or what changed since. The encoder is injectable for benches;
the default is the packaged MiniLM (`analysis.embeddings.encode`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from analysis.patterns import clusters as cl
from analysis.patterns import embedding as ce
from analysis.patterns import repeats as rp
from analysis.patterns import trends as tr
from analysis.patterns.options import PatternsOptions, ScorecardOptions
from analysis.patterns.outcomes import success
from analysis.patterns.phrases import distinctive_phrases
from analysis.patterns.scorecards import score_all
from analysis.patterns.stages import StageDetector, stage_orders
from analysis.patterns.traits import low_satisfaction_traits
from store import patterns as sp
from store.db import Store
from store.records import Flag, severity_value

log = logging.getLogger(__name__)

Encoder = Callable[[Sequence[str]], np.ndarray]
ClusterFn = Callable[[np.ndarray, "cl.ClusterOptions"], cl.Clustering]
MAX_TEXT_CHARS = 4000  # per interaction, for c-TF-IDF naming


@dataclass(slots=True)
class ClusterReport:
    interactions: int = 0
    encoded: int = 0
    waiting: int = 0  # not yet encoded (over max_encode_per_run): clustered on later runs
    clusters: int = 0
    kept: int = 0
    new: int = 0
    retired: int = 0
    noise: int = 0
    fitted: int = 0


@dataclass(slots=True)
class PatternsReport:
    """What one full run did (the service logs it; `convoscope patterns run` prints it)."""

    interactions: int = 0
    clusters: ClusterReport = field(default_factory=ClusterReport)
    rises: list[str] = field(default_factory=list)
    repeats: int = 0
    issues: int = 0
    fcr: float | None = None
    traits: int = 0
    phrases: int = 0
    stage_orders: int = 0
    scorecards: int = 0
    seconds: dict[str, float] = field(default_factory=dict)


def default_encoder(model: str) -> Encoder:
    def encode(texts: Sequence[str]) -> np.ndarray:
        from analysis.embeddings import encode as minilm

        return minilm(texts, model)

    return encode


# -- embeddings -------------------------------------------------------------------------------------


def customer_texts(store: Store, facts: Sequence[sp.InteractionFacts]) -> dict[int, str]:
    """What names clusters (c-TF-IDF): the subject plus the customer's side (all turns if none)."""
    ids = [f.id for f in facts]
    texts = sp.interaction_texts(store, ids, ["customer"])
    missing = [i for i in ids if not texts.get(i, "").strip()]
    if missing:
        texts.update(sp.interaction_texts(store, missing))
    out = {}
    for f in facts:
        body = texts.get(f.id, "")
        text = f"{f.subject}\n{body}" if f.subject and f.channel == "email" else body
        out[f.id] = text[:MAX_TEXT_CHARS]
    return out


def clustering_turns(store: Store, ids: Sequence[int]) -> dict[int, list[str]]:
    """id -> the turn texts its clustering vector is made of (`embedding.clustering_turns`)."""
    out: dict[int, list[str]] = {i: [] for i in ids}
    for iid, (speakers, texts) in sp.speaker_turns(store, ids).items():
        out[iid] = [texts[k] for k in ce.clustering_turns(speakers, texts)]
    return out


def ensure_embeddings(
    store: Store,
    turns: dict[int, list[str]],
    model: str,
    encode: Encoder,
    *,
    batch: int = 512,
    limit: int | None = None,
) -> tuple[int, int]:
    """Build and store the clustering vectors that are missing or stale.

    A vector is current when its stored hash matches `embedding.source_hash` of the turns
    (the analysis pipeline stores them that way, so analysed interactions usually need no
    encode here). Missing ones are made exactly as the pipeline makes them: each turn
    encoded (cut at `TURN_CHARS`), then `embedding.mean_vector`. At most `limit` are built,
    the last ones of `turns` first (callers pass them oldest first, so the newest
    interactions are clustered first). Returns (built, still waiting).
    """
    ids = list(turns)
    hashes = {i: ce.source_hash(turns[i]) for i in ids}
    stored = sp.embedding_hashes(store, ids, model)
    todo = [i for i in reversed(ids) if stored.get(i) != hashes[i]]
    waiting = 0
    if limit is not None and len(todo) > limit:
        waiting = len(todo) - limit
        todo = todo[:limit]
    for lo in range(0, len(todo), batch):
        chunk = todo[lo:lo + batch]
        flat = [t[:ce.TURN_CHARS] for i in chunk for t in turns[i]]
        vecs = encode(flat) if flat else np.zeros((0, ce.DIM), np.float32)
        rows, pos = [], 0
        for i in chunk:
            n = len(turns[i])
            rows.append(ce.mean_vector(np.asarray(vecs[pos:pos + n])))
            pos += n
        sp.save_embeddings(store, chunk, [hashes[i] for i in chunk], np.stack(rows), model)
    return len(todo), waiting


# -- clusters ------------------------------------------------------------------------------------------


def run_clusters(
    store: Store, options: PatternsOptions, *, now: datetime, encode: Encoder | None = None,
    cluster: ClusterFn | None = None,
) -> ClusterReport:
    """Full re-cluster of the window, keeping ids of clusters whose members mostly stay.

    `encode` and `cluster` (vectors in, labels out) are the heavy, pure parts: the Ray
    driver passes versions that run on the cluster (analysis.distributed)."""
    co = options.clusters
    encode = encode or default_encoder(co.model)
    facts = sp.interaction_facts(store, now - timedelta(days=options.window_days), now)
    report = ClusterReport(interactions=len(facts))
    report.encoded, report.waiting = ensure_embeddings(
        store, clustering_turns(store, [f.id for f in facts]), co.model, encode,
        limit=co.max_encode_per_run or None,
    )
    ids, emb = sp.load_embeddings(store, [f.id for f in facts], co.model)
    if not ids:
        return report
    texts = customer_texts(store, facts)  # for naming (c-TF-IDF) only
    result = (cluster or cl.cluster_embeddings)(emb, co)
    old = sp.cluster_membership(store, ids)
    match = cl.match_identities(
        old, ids, result.labels, result.k, next_id=sp.max_cluster_id(store) + 1,
        min_jaccard=co.stable_jaccard,
    )
    id_texts = [texts.get(i, "") for i in ids]
    terms = cl.cluster_terms(id_texts, result.labels, result.k, co.terms)
    examples = cl.examples_of(result.labels, result.similarities, ids, result.k, co.examples)
    sizes = np.bincount(result.labels[result.labels >= 0], minlength=result.k)
    records = [
        sp.ClusterRecord(
            id=match.ids[c], label=cl.label_from_terms(terms[c]), terms=terms[c], size=int(sizes[c]),
            examples=examples[c], centroid=result.centroids[c], threshold=float(result.thresholds[c]),
        )
        for c in range(result.k)
    ]
    global_labels = [match.ids[lab] if lab >= 0 else -1 for lab in result.labels]
    sp.save_clustering(
        store, records, match.retired, ids, global_labels, result.similarities.tolist(),
        assigned_by="recluster", now=now,
    )
    report.clusters = result.k
    report.kept = match.kept
    report.new = result.k - match.kept
    report.retired = len(match.retired)
    report.noise = int((result.labels < 0).sum())
    report.fitted = result.fitted
    return report


def assign_new(
    store: Store,
    options: PatternsOptions,
    *,
    now: datetime | None = None,
    encode: Encoder | None = None,
    limit: int | None = 2000,
) -> int:
    """Put analysed interactions of the window without a cluster into the nearest one.

    Newest first, at most `limit` per call. Interactions the analysis pipeline stored a
    clustering vector for need no encode (the common case); others are encoded here. Returns how many interactions were processed
    (members written, noise included, so they are not retried until the next full
    re-cluster). Does nothing before the first full run has created clusters.
    """
    co = options.clusters
    clusters = sp.active_clusters(store)
    if not clusters:
        return 0
    now = now or datetime.now(UTC)
    ids = sp.unclustered_ids(store, since=now - timedelta(days=options.window_days), limit=limit)
    if not ids:
        return 0
    ensure_embeddings(store, clustering_turns(store, ids), co.model, encode or default_encoder(co.model))
    got, emb = sp.load_embeddings(store, ids, co.model)
    centroids = np.stack([c.centroid for c in clusters])  # type: ignore[misc]
    thresholds = np.array([c.threshold if c.threshold is not None else co.assign_min_similarity
                           for c in clusters])
    labels, sims = cl.assign(emb, centroids, thresholds)
    cluster_ids = [clusters[lab].id if lab >= 0 else -1 for lab in labels]
    sp.add_members(store, got, cluster_ids, sims.tolist(), now=now)
    return len(got)


# -- repeats -----------------------------------------------------------------------------------------


def run_repeats(store: Store, options: PatternsOptions, *, now: datetime) -> rp.RepeatResult:
    """Find repeat contacts in the window, write them, FCR rows and `repeat_contact` flags."""
    ro = options.repeats
    facts = sp.interaction_facts(store, now - timedelta(days=options.window_days), now)
    result = rp.find_repeats(facts, ro)
    channel_of = {f.id: f.channel for f in facts}
    labels = {str(c.id): c.label for c in sp.active_clusters(store, with_centroids=False)}
    flags = []
    for r in result.repeats:
        label = labels.get(r.match_value or "") if r.matched_on == "cluster" else r.match_value
        flags.append(Flag(
            interaction_id=r.interaction_id, kind="repeat_contact", severity=severity_value(ro.severity),
            score=float(r.contact_number), summary=rp.describe(r, channel_of, label),
            evidence=[{"previous_interaction": r.previous_id, "first_interaction": r.first_id,
                       "matched_on": r.matched_on, "value": r.match_value, "label": label,
                       "gap_hours": r.gap_hours, "contact_number": r.contact_number}],
        ))
    sp.save_repeats(store, [f.id for f in facts], result.repeats, result.resolutions, flags)
    override_resolutions(store, result.repeats)
    return result


def override_resolutions(store: Store, repeats: Sequence[sp.RepeatRow]) -> int:
    """A repeat contact on the same issue turns the earlier contact's `resolved` (or
    `pending`) verdict into `unresolved`, says why, and raises its `unresolved_issue` flag
    (rule "repeat_contact"). Returns how many verdicts changed; re-running changes none."""
    from analysis.resolution import KIND, Resolution, ResolutionOptions, downgrade
    from store import resolution as rs

    later: dict[int, sp.RepeatRow] = {}
    for r in repeats:  # the first repeat after each earlier contact
        if r.previous_id not in later or r.gap_hours < later[r.previous_id].gap_hours:
            later[r.previous_id] = r
    if not later:
        return 0
    stored = rs.get_many(store, list(later))
    rows: list[rs.ResolutionRow] = []
    flags: list[Flag] = []
    sev = severity_value(ResolutionOptions().severity)
    for iid, row in stored.items():
        rep = later[iid]
        if row.repeat_id == rep.interaction_id or (row.verdict == "unresolved" and row.repeat_id is None):
            continue  # already overridden by this repeat, or unresolved on its own evidence
        base = Resolution(iid, row.analysed_verdict or row.verdict, row.confidence, row.reasons, row.evidence,
                          row.commitment, row.follow_up_due, row.vendor_status)  # fmt: skip
        new = downgrade(base, rep.interaction_id, rep.gap_hours)
        rows.append(rs.ResolutionRow(iid, new.verdict, new.confidence, new.reasons, new.evidence, new.commitment,
                                     None, new.vendor_status, base.verdict, rep.interaction_id))  # fmt: skip
        flags.append(Flag(interaction_id=iid, kind=KIND, rule="repeat_contact", severity=sev,
                          score=new.confidence, confidence=new.confidence, evidence=new.evidence[:1],
                          summary="issue unresolved: " + new.reasons[0]))  # fmt: skip
    if rows:
        rs.override_for_repeats(store, rows, flags)
    return len(rows)


# -- trends ----------------------------------------------------------------------------------------------


def run_trends(store: Store, options: PatternsOptions, *, now: datetime, tz: str = "UTC") -> list[sp.TrendRow]:
    """Count per day and flag clear rises on the last `check_days` days (in time zone `tz`)."""
    to = options.trends
    zone = ZoneInfo(tz)
    today = now.astimezone(zone).date()
    first_day = today - timedelta(days=to.baseline_days + to.check_days)
    since = datetime.combine(first_day, datetime.min.time(), tzinfo=zone)
    counts = sp.compute_daily_counts(store, since, now, tz, ignore_flag_kinds=to.ignore_flag_kinds)
    sp.save_daily_counts(store, first_day, counts)
    check = [today - timedelta(days=k) for k in range(to.check_days)]
    rises = tr.find_rises(counts, check, to, min_history_days=min(7, to.baseline_days))
    labels = {str(c.id): c.label for c in sp.active_clusters(store, with_centroids=False)}
    rows: list[sp.TrendRow] = []
    flags: list[Flag] = []
    for r in rises:
        label = labels.get(r.key, f"cluster {r.key}") if r.dimension == "cluster" else r.key
        summary = tr.describe(r, label, today, to.baseline_days)
        rep = sp.representative_interaction(store, r.dimension, r.key, r.day, tz)
        if rep is None:
            continue
        rows.append(sp.TrendRow(
            day=r.day, dimension=r.dimension, key=r.key, label=label, n=r.n, baseline=r.baseline,
            ratio=r.ratio, z=r.z, p_value=r.p_value, summary=summary, interaction_id=rep,
        ))
        flags.append(Flag(
            interaction_id=rep, kind="trend", rule=f"{r.dimension}:{r.key}",
            severity=severity_value(to.severity), score=round(r.z, 3), summary=summary,
            evidence=[{"dimension": r.dimension, "key": r.key, "label": label,
                       "day": r.day.isoformat(), "count": r.n, "baseline": round(r.baseline, 3),
                       "ratio": round(r.ratio, 3), "z": round(r.z, 3), "p_value": r.p_value}],
        ))
    sp.save_trends(store, rows, flags)
    return rows


# -- traits, phrases, stages ------------------------------------------------------------------------------


@dataclass(slots=True)
class TraitReport:
    traits: list[sp.TraitRow]
    phrases: list[sp.PhraseRow]
    stage_orders: list[sp.StageOrderRow]


def run_traits(store: Store, options: PatternsOptions, *, now: datetime) -> TraitReport:
    """Low-satisfaction traits, best agent phrases (overall, per topic, per queue), stage orders."""
    to = options.traits
    facts = sp.interaction_facts(store, now - timedelta(days=options.window_days), now)
    ids = [f.id for f in facts]
    traits = low_satisfaction_traits(facts, sp.interaction_texts(store, ids), to)
    agent = sp.agent_turns(store, ids)
    good = [f for f in facts if success(f, to) is True]
    bad = [f for f in facts if success(f, to) is False]
    phrases: list[sp.PhraseRow] = []
    scopes: list[tuple[str, list[sp.InteractionFacts], list[sp.InteractionFacts]]] = [("all", good, bad)]
    for topic in sorted({f.top_topic for f in good + bad if f.top_topic}):
        scopes.append((f"topic:{topic}", [f for f in good if f.top_topic == topic],
                       [f for f in bad if f.top_topic == topic]))
    for queue in sorted({f.queue for f in good + bad if f.queue}):
        scopes.append((f"queue:{queue}", [f for f in good if f.queue == queue],
                       [f for f in bad if f.queue == queue]))
    for scope, g, b in scopes:
        if len(g) < to.min_group or len(b) < to.min_group:
            continue
        found = distinctive_phrases(
            ["\n".join(agent.get(f.id, [])) for f in g], ["\n".join(agent.get(f.id, [])) for f in b], to,
            min_z=to.min_phrase_z,
        )
        phrases += [
            sp.PhraseRow(scope=scope, phrase=p.phrase, z=p.z, delta=p.delta, count_good=p.count_a,
                         count_bad=p.count_b, n_good=len(g), n_bad=len(b), rank=k)
            for k, p in enumerate(found, start=1)
        ]
    detector = StageDetector(options.stages)
    seqs = [("good", detector.sequence(agent.get(f.id, []))) for f in good]
    seqs += [("bad", detector.sequence(agent.get(f.id, []))) for f in bad]
    orders = stage_orders(seqs, top=10)
    sp.save_traits(store, traits)
    sp.save_phrases(store, phrases)
    sp.save_stage_orders(store, orders)
    return TraitReport(traits=traits, phrases=phrases, stage_orders=orders)


# -- scorecards -------------------------------------------------------------------------------------------


def run_scorecards(
    store: Store,
    options: PatternsOptions,
    forms: Sequence[ScorecardOptions],
    *,
    now: datetime,
    ids: Sequence[int] | None = None,
) -> int:
    """Score every interaction of the window (or the given ids) with every applicable form."""
    if not forms:
        return 0
    if ids is not None:
        facts = sp.interaction_facts(store, ids=ids)
    else:
        facts = sp.interaction_facts(store, now - timedelta(days=options.window_days), now)
    fids = [f.id for f in facts]
    detector = StageDetector(options.stages)
    stages = {i: detector.sequence(t) for i, t in sp.agent_turns(store, fids).items()}
    results = score_all(forms, facts, sp.active_flag_kinds(store, fids), stages)
    sp.save_scorecard_results(store, results)
    return len(results)


# -- everything ---------------------------------------------------------------------------------------------


def run_patterns(
    store: Store,
    options: PatternsOptions,
    *,
    now: datetime,
    scorecards: Sequence[ScorecardOptions] = (),
    tz: str = "UTC",
    encode: Encoder | None = None,
    cluster: ClusterFn | None = None,
) -> PatternsReport:
    """The full recompute (see module docstring); `now` is injected for fixed-clock tests."""
    report = PatternsReport()
    t = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal t
        report.seconds[name] = round(time.perf_counter() - t, 3)
        t = time.perf_counter()

    report.clusters = run_clusters(store, options, now=now, encode=encode, cluster=cluster)
    report.interactions = report.clusters.interactions
    lap("clusters")
    rep = run_repeats(store, options, now=now)
    report.repeats = len(rep.repeats)
    report.issues = len(rep.resolutions)
    if rep.resolutions:
        report.fcr = sum(r.resolved for r in rep.resolutions) / len(rep.resolutions)
    lap("repeats")
    report.rises = [r.summary for r in run_trends(store, options, now=now, tz=tz)]
    lap("trends")
    traits = run_traits(store, options, now=now)
    report.traits, report.phrases = len(traits.traits), len(traits.phrases)
    report.stage_orders = len(traits.stage_orders)
    lap("traits")
    report.scorecards = run_scorecards(store, options, scorecards, now=now)
    lap("scorecards")
    log.info("patterns: %s", report)
    return report

