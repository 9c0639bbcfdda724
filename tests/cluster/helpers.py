"""Shared pieces of the cluster tests: the sample chats and e-mails in a store, analyzers."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from analysis.distributed import ClusterOptions
from convoscope import config as config_mod
from store.db import Store

ROOT = Path(__file__).resolve().parents[2]


def sample_config(tmp: Path, *, full: bool = False, **cluster: Any) -> config_mod.Config:
    """The demo configuration (its rules, resolution, redaction, sources) on the shipped chat
    and e-mail samples, without calls. `full`: also the packaged flair sentiment model, the
    knowledge-base facts and the topic taxonomy (MiniLM); otherwise VADER and no encoder,
    which keeps the fast tests free of model loads."""
    from convoscope.commands.demo import demo_config

    cfg = demo_config(config_mod.Config(), tmp)
    (tmp / "drop").mkdir(exist_ok=True)  # no calls in these sets: an empty drop folder
    if not full:
        cfg.sentiment = replace(cfg.sentiment, backend="vader")
        cfg.facts = []
        cfg.topics = replace(cfg.topics, taxonomy=[])
    cfg.analysis = replace(cfg.analysis, transcribe=False, backoff_seconds=0.0)
    cfg.cluster = ClusterOptions(ray_address="unused", **cluster)
    return cfg


def sample_store(cfg: config_mod.Config, path: Path) -> Store:
    """A fresh store holding the sample chats and e-mails (ingested by the real connectors)."""
    from convoscope.sources import build_sources, sync_all

    store = Store.open(path)
    for report in sync_all(store, build_sources(cfg)):
        assert not report.errors, report.errors
    return store


def results(store: Store) -> dict[str, Any]:
    """Everything analysis stored, keyed by the interaction's external id (ids differ
    between stores only if ingest order did, which it does not; keys make it explicit)."""
    con = store.cursor()
    ext = dict(con.execute("SELECT id, source || '/' || external_id FROM interactions").fetchall())
    scores = {
        ext[r[0]]: r[1:]
        for r in con.execute(
            "SELECT interaction_id, round(sentiment, 6), round(sentiment_agent, 6), "
            "round(sentiment_customer, 6), round(anger, 6), metrics, topics, keywords, top_topic, "
            "analysis_key FROM scores").fetchall()
    }
    turns = {}
    for r in con.execute("SELECT interaction_id, seq, round(sentiment, 6), sentiment_label, "
                         "round(anger, 6), redacted_text FROM turn_scores ORDER BY 1, 2").fetchall():
        turns.setdefault(ext[r[0]], []).append(r[1:])
    flags = {}
    for r in con.execute("SELECT interaction_id, kind, rule, severity, round(score, 6), summary "
                         "FROM flags ORDER BY 1, 2, 3, 6").fetchall():
        flags.setdefault(ext[r[0]], []).append(r[1:])
    status = dict(con.execute("SELECT source || '/' || external_id, status FROM interactions").fetchall())
    return {"scores": scores, "turns": turns, "flags": flags, "status": status}


def counts(store: Store) -> dict[str, int]:
    """Row counts that would grow if anything were stored twice."""
    con = store.cursor()
    out = {}
    for table in ("scores", "turn_scores", "flags"):
        out[table] = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # type: ignore[index]
    out["dup_scores"] = con.execute(
        "SELECT count(*) FROM (SELECT interaction_id FROM scores GROUP BY 1 HAVING count(*) > 1)"
    ).fetchone()[0]  # type: ignore[index]
    return out
