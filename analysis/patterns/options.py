"""Options of the pattern jobs (`[patterns]`) and the QA forms (`[[scorecards]]`).

Plain dataclasses validated by pydantic when the config is loaded (unknown keys are
refused); every check that pydantic cannot express lives in `__post_init__` and raises
ValueError with a message naming the key, so a bad form fails at start, not mid-job.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from analysis.embeddings import PACKAGED

_NO_EXTRA = {"extra": "forbid"}


@dataclass
class ClusterOptions:
    """Grouping similar interactions (MiniLM embeddings -> PCA -> HDBSCAN)."""

    __pydantic_config__ = _NO_EXTRA
    model: str = PACKAGED
    #: smallest group HDBSCAN reports as a cluster
    min_cluster_size: int = 10
    #: HDBSCAN min_samples (0 = same as min_cluster_size); lower = fewer noise points
    min_samples: int = 3
    #: dimensions kept by PCA before HDBSCAN (density estimates degrade in 384 dims)
    pca_dims: int = 32
    #: texts encoded per full run at most (0 = no limit), newest first: the first run over a
    #: large history backfills over several runs instead of holding the writer for hours
    max_encode_per_run: int = 20000
    #: above this many interactions HDBSCAN is fitted on a random sample of this size and
    #: the rest are assigned to the nearest centroid (keeps 100k under a few minutes)
    max_fit: int = 20000
    #: a new interaction joins its nearest cluster only when at least as similar to its
    #: centroid as the cluster's least similar member minus `assign_slack`, and never below
    #: this cosine similarity
    assign_min_similarity: float = 0.45
    assign_slack: float = 0.1
    #: an old cluster keeps its id when its best new match overlaps this much (Jaccard)
    stable_jaccard: float = 0.3
    #: distinctive terms kept per cluster (c-TF-IDF) and example interactions
    terms: int = 6
    examples: int = 5

    def __post_init__(self) -> None:
        if self.min_cluster_size < 2:
            raise ValueError("patterns.clusters.min_cluster_size must be at least 2")
        if self.min_samples < 0:
            raise ValueError("patterns.clusters.min_samples must be >= 0")
        if not 2 <= self.pca_dims <= 384:
            raise ValueError("patterns.clusters.pca_dims must be between 2 and 384")
        if self.max_encode_per_run < 0:
            raise ValueError("patterns.clusters.max_encode_per_run must be >= 0")
        if self.max_fit < 100:
            raise ValueError("patterns.clusters.max_fit must be at least 100")
        if not -1.0 <= self.assign_min_similarity <= 1.0:
            raise ValueError("patterns.clusters.assign_min_similarity must be in -1..1")
        if not 0.0 <= self.assign_slack <= 1.0:
            raise ValueError("patterns.clusters.assign_slack must be in 0..1")
        if not 0.0 < self.stable_jaccard <= 1.0:
            raise ValueError("patterns.clusters.stable_jaccard must be in (0, 1]")
        if self.terms < 1 or self.examples < 1:
            raise ValueError("patterns.clusters.terms and examples must be at least 1")


@dataclass
class TrendOptions:
    """Rising issues: today's count per cluster / topic / flag kind vs the trailing weeks."""

    __pydantic_config__ = _NO_EXTRA
    baseline_days: int = 28
    #: a rise needs at least this many interactions on the day...
    min_count: int = 5
    #: ...at least this multiple of the usual daily count...
    min_ratio: float = 2.0
    #: ...and this many standard deviations above it (variance = max(mean, sample variance, 1))
    min_z: float = 3.0
    #: how many recent days each run (re)checks, so a missed run catches up
    check_days: int = 2
    #: flag kinds never counted (a trend of trends is noise)
    ignore_flag_kinds: list[str] = field(default_factory=lambda: ["trend"])
    severity: str = "high"

    def __post_init__(self) -> None:
        if self.baseline_days < 7:
            raise ValueError("patterns.trends.baseline_days must be at least 7")
        if self.min_count < 1:
            raise ValueError("patterns.trends.min_count must be at least 1")
        if self.min_ratio < 1.0:
            raise ValueError("patterns.trends.min_ratio must be at least 1.0")
        if self.min_z <= 0:
            raise ValueError("patterns.trends.min_z must be positive")
        if self.check_days < 1:
            raise ValueError("patterns.trends.check_days must be at least 1")
        _check_severity(self.severity, "patterns.trends.severity")


@dataclass
class RepeatOptions:
    """Repeat contacts: the same customer again within a window on the same issue."""

    __pydantic_config__ = _NO_EXTRA
    window_days: float = 7.0
    #: what counts as "the same issue": the top topic, the cluster, or either
    match_on: list[str] = field(default_factory=lambda: ["topic", "cluster"])
    #: metadata key holding more identifiers of the customer (phone, email, chat user id)
    #: seen together in one interaction; they link a customer's keys across channels
    identity_metadata_key: str = "customer_ids"
    #: region used to normalise phone numbers written without a country code
    default_region: str = "US"
    severity: str = "medium"

    def __post_init__(self) -> None:
        if self.window_days <= 0:
            raise ValueError("patterns.repeats.window_days must be positive")
        bad = [m for m in self.match_on if m not in ("topic", "cluster")]
        if bad or not self.match_on:
            raise ValueError("patterns.repeats.match_on must list 'topic' and/or 'cluster'")
        _check_severity(self.severity, "patterns.repeats.severity")


@dataclass
class TraitOptions:
    """Low- vs high-satisfaction comparison and the best agents' phrases."""

    __pydantic_config__ = _NO_EXTRA
    #: an interaction "ends negative" when the customer's last-quarter sentiment (-5..+5;
    #: else the customer's overall sentiment) is at or below this...
    low_at: float = -1.0
    #: ...and "ends positive" at or above this
    high_at: float = 1.0
    #: metadata key and values that mark a success (e.g. outcome = "sale"); interactions that
    #: carry the key are judged by it instead of by sentiment for the best-agent phrases
    success_key: str = "outcome"
    success_values: list[str] = field(default_factory=lambda: ["sale", "resolved"])
    #: phrase n-gram lengths and the least number of interactions a phrase must occur in
    ngram_min: int = 1
    ngram_max: int = 3
    min_df: int = 3
    #: phrases need at least this log-odds z-score (1.96 ~ 95 %); weaker ones are noise
    min_phrase_z: float = 1.96
    #: fewest interactions per side before a scope (a queue, a topic) is compared
    min_group: int = 10
    #: rows kept per kind and scope
    top: int = 20

    def __post_init__(self) -> None:
        if self.low_at >= self.high_at:
            raise ValueError("patterns.traits.low_at must be below high_at")
        if not 1 <= self.ngram_min <= self.ngram_max <= 5:
            raise ValueError("patterns.traits.ngram_min/ngram_max must satisfy 1 <= min <= max <= 5")
        if self.min_phrase_z < 0:
            raise ValueError("patterns.traits.min_phrase_z must be >= 0")
        if self.min_df < 1 or self.min_group < 2 or self.top < 1:
            raise ValueError("patterns.traits.min_df >= 1, min_group >= 2 and top >= 1 are required")


@dataclass
class StageOptions:
    """Conversation stages, detected in agent turns by regular expressions (case-insensitive).

    A stage is recognised at the first agent turn matching any of its patterns; the order of
    first appearances is the interaction's stage sequence.
    """

    __pydantic_config__ = _NO_EXTRA
    greeting: list[str] = field(default_factory=lambda: [
        r"\b(hello|hi|good (morning|afternoon|evening)|thanks? (you )?for (calling|contacting|reaching out))\b",
        r"\bmy name is\b", r"\bthis is \w+ (from|at|with)\b",
    ])
    discovery: list[str] = field(default_factory=lambda: [
        r"\bhow (can|may) i help\b", r"\bcan you (tell|confirm|describe)\b",
        r"\bcould you (tell|confirm|describe|give)\b", r"\bmay i (have|ask)\b",
        r"\bwhat (seems to be|is the|happened)\b", r"\bwhen did\b",
    ])
    solution: list[str] = field(default_factory=lambda: [
        r"\bi (can|will|have|'ve|'ll) (fix|process|issue|send|reset|refund|update|arrange|escalate|credit)",
        r"\blet me (fix|process|issue|send|reset|refund|update|arrange|escalate)\b",
        r"\b(i've|i have) (processed|issued|sent|reset|updated|credited|refunded)\b",
        r"\bthe (solution|fix) is\b",
    ])
    close: list[str] = field(default_factory=lambda: [
        r"\banything else\b", r"\bhave a (great|good|nice) (day|evening|weekend)\b",
        r"\b(goodbye|bye)\b", r"\bthanks? (you )?for your (patience|time)\b",
    ])

    def __post_init__(self) -> None:
        import re

        for name in ("greeting", "discovery", "solution", "close"):
            for pat in getattr(self, name):
                try:
                    re.compile(pat)
                except re.error as exc:
                    raise ValueError(f"patterns.stages.{name}: bad pattern {pat!r}: {exc}") from None

    def stages(self) -> dict[str, list[str]]:
        """Stage name -> patterns, in the canonical order."""
        return {
            "greeting": self.greeting, "discovery": self.discovery,
            "solution": self.solution, "close": self.close,
        }


@dataclass
class PatternsOptions:
    """`[patterns]`: every knob of the pattern jobs, grouped by job."""

    __pydantic_config__ = _NO_EXTRA
    #: days of interactions a full recompute looks at (re-cluster, repeats, traits, scorecards)
    window_days: int = 90
    #: minutes between full recomputes (re-cluster, trends, repeats, traits, scorecards)
    full_interval_minutes: int = 60
    clusters: ClusterOptions = field(default_factory=ClusterOptions)
    trends: TrendOptions = field(default_factory=TrendOptions)
    repeats: RepeatOptions = field(default_factory=RepeatOptions)
    traits: TraitOptions = field(default_factory=TraitOptions)
    stages: StageOptions = field(default_factory=StageOptions)

    def __post_init__(self) -> None:
        if self.window_days < 1:
            raise ValueError("patterns.window_days must be at least 1")
        if self.full_interval_minutes < 1:
            raise ValueError("patterns.full_interval_minutes must be at least 1")


# -- QA scorecards ----------------------------------------------------------------------

QUESTION_SOURCES = ("flag", "metric", "stage", "sentiment", "resolution")


@dataclass
class ScorecardQuestion:
    """One question, answered automatically from exactly one source.

    - `flag = "kind"` (or "rule:<name>" for a configured rule): yes when an active flag of
      that kind is on the interaction; `expect = "absent"` makes absence the good answer.
    - `stage = "greeting"`: yes when the agent went through that conversation stage.
    - `metric = "name"` (a key of scores.metrics, dotted for nested) or `sentiment =
      "customer_end"|"customer"|"overall"`: with `pass_min`/`pass_max` a yes/no answer;
      with `best` and `worst` a number in that range scored linearly (best = full points).
      A missing value answers n.a.
    - `resolution = ["resolved"]` (any of resolved / unresolved / pending): yes when the
      interaction's resolution verdict (after a repeat-contact override) is one of these,
      no when it is another; n.a. when it has no verdict. E.g. "issue resolved" =
      `["resolved"]`; `["resolved", "pending"]` also accepts a promised follow-up.
    - `channels`: the question is n.a. on other channels (e.g. hold time only for calls).
    """

    __pydantic_config__ = _NO_EXTRA
    id: str
    text: str
    weight: float = 1.0
    flag: str | None = None
    expect: str = "present"
    stage: str | None = None
    metric: str | None = None
    sentiment: str | None = None
    resolution: list[str] | None = None
    pass_min: float | None = None
    pass_max: float | None = None
    best: float | None = None
    worst: float | None = None
    channels: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        where = f"scorecards question {self.id!r}"
        sources = [s for s in QUESTION_SOURCES if getattr(self, s) is not None]
        if len(sources) != 1:
            raise ValueError(f"{where}: give exactly one of {', '.join(QUESTION_SOURCES)}")
        if self.weight <= 0:
            raise ValueError(f"{where}: weight must be positive")
        if self.expect not in ("present", "absent"):
            raise ValueError(f"{where}: expect must be 'present' or 'absent'")
        if self.stage is not None and self.stage not in ("greeting", "discovery", "solution", "close"):
            raise ValueError(f"{where}: stage must be greeting, discovery, solution or close")
        if self.sentiment is not None and self.sentiment not in ("customer_end", "customer", "overall"):
            raise ValueError(f"{where}: sentiment must be customer_end, customer or overall")
        if self.resolution is not None:
            bad_verdicts = [v for v in self.resolution if v not in ("resolved", "unresolved", "pending")]
            if not self.resolution or bad_verdicts:
                raise ValueError(f"{where}: resolution must list verdicts among resolved, unresolved, pending")
        if self.metric is not None or self.sentiment is not None:
            ranged = self.best is not None or self.worst is not None
            passed = self.pass_min is not None or self.pass_max is not None
            if ranged == passed:
                raise ValueError(
                    f"{where}: a number needs either pass_min/pass_max (yes/no) or best and worst (scaled)"
                )
            if ranged and (self.best is None or self.worst is None or self.best == self.worst):
                raise ValueError(f"{where}: best and worst must both be given and differ")
        elif any(v is not None for v in (self.pass_min, self.pass_max, self.best, self.worst)):
            raise ValueError(f"{where}: pass_min/pass_max/best/worst only apply to metric or sentiment")
        bad = [c for c in self.channels if c not in ("call", "email", "chat")]
        if bad:
            raise ValueError(f"{where}: unknown channels {bad} (call, email, chat)")


@dataclass
class ScorecardSection:
    __pydantic_config__ = _NO_EXTRA
    name: str
    weight: float = 1.0
    questions: list[ScorecardQuestion] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.weight <= 0:
            raise ValueError(f"scorecards section {self.name!r}: weight must be positive")
        if not self.questions:
            raise ValueError(f"scorecards section {self.name!r}: needs at least one question")


@dataclass
class ScorecardOptions:
    """One evaluation form (`[[scorecards]]`): weighted sections of weighted questions."""

    __pydantic_config__ = _NO_EXTRA
    name: str
    #: only interactions of these queues / channels are scored with this form (empty = all)
    queues: list[str] = field(default_factory=list)
    channels: list[str] = field(default_factory=list)
    sections: list[ScorecardSection] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise ValueError("scorecards: name must not be empty")
        if not self.sections:
            raise ValueError(f"scorecards {self.name!r}: needs at least one section")
        ids = [q.id for s in self.sections for q in s.questions]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"scorecards {self.name!r}: duplicate question ids {dupes}")


def _check_severity(value: str, key: str) -> None:
    if value not in ("low", "medium", "high", "critical"):
        raise ValueError(f"{key} must be low, medium, high or critical")
