"""Builds the configured sources (drop folder, mailboxes, chat vendors) from the config.

The composition root is the only place that knows every connector; the connectors
themselves receive their options and secrets through their constructors.
"""

from __future__ import annotations

import logging

from connectors.base import Source, SyncReport
from convoscope.config import Config
from store import Store
from store.db import storage_failure

log = logging.getLogger(__name__)


def build_sources(cfg: Config) -> list[Source]:
    sources: list[Source] = []
    from connectors.dropfolder import DropFolderSource

    if cfg.dropfolder.path:
        sources.append(DropFolderSource(cfg.dropfolder))
    from connectors.email import build_email_sources

    sources.extend(build_email_sources(cfg.email))
    from connectors.chat import build_chat_sources

    sources.extend(build_chat_sources(cfg.chat))
    return sources


def sync_all(store: Store, sources: list[Source]) -> list[SyncReport]:
    """Run every source once; one failing source is reported, the others still run."""
    reports: list[SyncReport] = []
    for src in sources:
        try:
            reports.append(src.sync(store))
        except Exception as exc:  # a source's failure must not stop the others...
            if storage_failure(exc):
                raise  # ...but a full disk or read-only file stops them all (see cli.main)
            log.exception("source %s failed", src.name)
            reports.append(SyncReport(source=src.name, errors=[f"{type(exc).__name__}: {exc}"]))
    return reports
