"""Full-text search over transcripts, emails and chats, ranked, with highlighted hits.

DuckDB's `fts` extension (Porter stemming, English stop words, BM25) is loaded from the
`duckdb-extension-fts` wheel, so nothing is downloaded at run time. Its index is a static
snapshot of a table, so documents live in `search_docs` (one per analysed interaction,
built from the *redacted* turn text) and `refresh_search_index` — called by the service's
scheduler after analysis — adds new or re-analysed documents and rebuilds only when enough
have piled up. A rebuild runs the extension's tokenizer and keeps its output as
`search_postings` sorted by term (see `_BM25`), swapped in atomically. Documents not yet in
the index are still found: a search also scans those few pending rows. Where the extension
cannot be loaded or no index was built yet, search scans all documents (correct, slower:
bench/tui.py measures both).
"""

from __future__ import annotations

import contextlib
import re
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from store.db import Store

_FTS_SCHEMA = "fts_main_search_docs"
_WORD = re.compile(r"[A-Za-z0-9]+")
# Words the FTS index drops (its 'english' list); a query of only these matches nothing.
_STOP = frozenset(
    ["a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is", "it", "no", "not", "of", "on", "or", "such", "that", "the", "their", "then", "there", "these", "they", "this", "to", "was", "will", "with", "i", "you", "me", "my", "we", "our", "your"]
)


@dataclass(slots=True)
class SearchHit:
    interaction_id: int
    score: float
    started_at: datetime | None
    channel: str
    agent: str | None
    subject: str | None
    seq: int | None
    speaker: str | None
    snippet: str
    spans: list[list[int]] = field(default_factory=list)  # [start, end) in snippet


@dataclass(slots=True)
class SearchResult:
    query: str
    hits: list[SearchHit]
    method: str  # 'fts' | 'fts+pending' | 'scan'
    seconds: float


@dataclass(slots=True)
class IndexReport:
    added: int
    pending: int
    indexed: int
    rebuilt: bool
    seconds: float


# The extension's index (schema fts_main_search_docs) keeps one row per token occurrence in
# an unsorted table, and its match_bm25 macro scores every document. Queries here instead
# read `search_postings` — (term, interaction_id, tf, doc length, df) rows sorted by term,
# derived from the index at each rebuild — so a query reads only the row groups of its few
# terms (DuckDB zone maps): ~30-120 ms on 1M interactions instead of 230-530 ms, same
# ranking. Okapi BM25 with the extension's defaults, k1 = 1.2, b = 0.75.
_BM25 = """
SELECT p.interaction_id, sum(log((st.num_docs - p.df + 0.5) / (p.df + 0.5) + 1)
    * p.tf * 2.2 / (p.tf + 1.2 * (1 - 0.75 + 0.75 * p.len / st.avgdl))) AS score
FROM search_postings p CROSS JOIN search_stats st
WHERE p.term IN ({terms}){pending}{chan}
GROUP BY p.interaction_id ORDER BY score DESC, p.interaction_id LIMIT {limit}
"""
_BUILD_POSTINGS = f"""
CREATE OR REPLACE TABLE _search_postings_new AS
SELECT dct.term, d.name AS interaction_id, count(*)::INTEGER AS tf,
       any_value(d.len)::INTEGER AS len, any_value(dct.df)::INTEGER AS df
FROM {_FTS_SCHEMA}.terms t JOIN {_FTS_SCHEMA}.docs d ON d.docid = t.docid
JOIN {_FTS_SCHEMA}.dict dct ON dct.termid = t.termid
GROUP BY dct.term, d.name ORDER BY dct.term, d.name
"""


def fts_extension_path() -> Path | None:
    """The fts extension binary shipped in the duckdb-extension-fts wheel, if installed."""
    try:
        import duckdb_extension_fts
    except ImportError:
        return None
    base = Path(duckdb_extension_fts.__file__).parent / "extensions"
    found = sorted(base.glob(f"v{duckdb.__version__}/fts.duckdb_extension"))
    return found[0] if found else None


def load_fts(con: duckdb.DuckDBPyConnection) -> bool:
    """Load the fts extension into this database; False when it is not available."""
    try:
        con.execute("LOAD fts")
        return True
    except duckdb.Error:
        pass
    path = fts_extension_path()
    if path is None:
        return False
    try:
        con.execute(f"LOAD '{str(path).replace(chr(39), chr(39) * 2)}'")
        return True
    except duckdb.Error:
        return False


def _index_exists(cur: duckdb.DuckDBPyConnection) -> bool:
    row = cur.execute(
        "SELECT count(*) FROM information_schema.tables "
        "WHERE table_name IN ('search_postings', 'search_stats') AND table_schema = 'main'"
    ).fetchone()
    return bool(row and row[0] == 2)


def refresh_search_index(
    store: Store, *, rebuild_fraction: float = 0.05, min_pending: int = 2000, force: bool = False
) -> IndexReport:
    """Bring `search_docs` up to date and rebuild the FTS index when worthwhile.

    New and re-analysed interactions (their `scores.analysed_at` changed) get a fresh
    document marked pending. The index is rebuilt when none exists yet, when `force`, or
    when pending documents exceed both `min_pending` and `rebuild_fraction` of all — so a
    scheduler can call this after every analysis batch cheaply. Safe to re-run.
    """
    t0 = time.perf_counter()
    with store.transaction() as tx:
        tx.execute(
            "CREATE TEMP TABLE IF NOT EXISTS _search_stale (interaction_id BIGINT, analysed_at TIMESTAMPTZ)"
        )
        tx.execute("DELETE FROM _search_stale")
        tx.execute(
            "INSERT INTO _search_stale SELECT s.interaction_id, s.analysed_at FROM scores s "
            "LEFT JOIN search_docs d ON d.interaction_id = s.interaction_id "
            "WHERE d.interaction_id IS NULL OR d.analysed_at IS DISTINCT FROM s.analysed_at"
        )
        tx.execute(
            "DELETE FROM search_docs WHERE interaction_id IN (SELECT interaction_id FROM _search_stale)"
        )
        tx.execute(
            "INSERT INTO search_docs (interaction_id, analysed_at, body, in_index) "
            "SELECT st.interaction_id, st.analysed_at, "
            "coalesce(string_agg(t.text, '\n' ORDER BY t.seq), ''), FALSE "
            "FROM _search_stale st JOIN outbound_turns t ON t.interaction_id = st.interaction_id "
            "GROUP BY st.interaction_id, st.analysed_at"
        )
        added = tx.execute("SELECT count(*) FROM _search_stale").fetchone()[0]  # type: ignore[index]
    cur = store.cursor()
    total, pending = cur.execute(
        "SELECT count(*), count(*) FILTER (NOT in_index) FROM search_docs"
    ).fetchone()  # type: ignore[misc]
    rebuilt = False
    if total and load_fts(cur) and (
        force or not _index_exists(cur)
        or (pending >= min_pending and pending >= rebuild_fraction * total)
    ):
        # Build beside the live tables, then swap in one transaction: a concurrent search
        # sees the old postings or the new ones, never a mix.
        cur.execute(
            "PRAGMA create_fts_index('search_docs', 'interaction_id', 'body', "
            "stemmer = 'porter', stopwords = 'english', overwrite = 1)"
        )
        _checkpoint_quietly(store)  # the index's tables and macros: DDL out of the WAL
        cur.execute(_BUILD_POSTINGS)
        cur.execute(f"CREATE OR REPLACE TABLE _search_stats_new AS SELECT num_docs, avgdl FROM {_FTS_SCHEMA}.stats")
        with store.transaction() as tx:
            tx.execute("DROP TABLE IF EXISTS search_postings")
            tx.execute("DROP TABLE IF EXISTS search_stats")
            tx.execute("ALTER TABLE _search_postings_new RENAME TO search_postings")
            tx.execute("ALTER TABLE _search_stats_new RENAME TO search_stats")
            tx.execute("UPDATE search_docs SET in_index = TRUE WHERE NOT in_index")
        _checkpoint_quietly(store)  # the swap's DROP/RENAME out of the WAL
        # The extension's own tables were only the tokenizer's output; keep the file small.
        cur.execute("PRAGMA drop_fts_index('search_docs')")
        rebuilt, pending = True, 0
        _checkpoint_quietly(store)
    return IndexReport(int(added), int(pending), int(total) - int(pending), rebuilt,
                       time.perf_counter() - t0)


def _checkpoint_quietly(store: Store) -> None:
    """Keep the index DDL out of the WAL (see Store.checkpoint) after each step of a
    rebuild. A database busy with another writer's transaction refuses a CHECKPOINT; it
    then checkpoints later by itself, so that refusal is not an error here."""
    with contextlib.suppress(duckdb.TransactionException):
        store.checkpoint()


def terms(query: str) -> list[str]:
    """The query's words, lower-cased, stop words dropped, order kept, no repeats."""
    out: list[str] = []
    for w in _WORD.findall(query.lower()):
        if w not in _STOP and w not in out:
            out.append(w)
    return out


def _stem_pattern(words: list[str]) -> re.Pattern[str] | None:
    """A highlighter that matches each word's inflections ('refunds' for 'refund')."""
    if not words:
        return None
    stems = sorted({w[: max(4, len(w) - 2)] if len(w) > 4 else w for w in words}, key=len, reverse=True)
    return re.compile(r"\b(" + "|".join(re.escape(s) for s in stems) + r")\w*", re.IGNORECASE)


def search(
    store: Store, query: str, *, limit: int = 50, channel: str | None = None, method: str = "auto"
) -> SearchResult:
    """Ranked interactions matching `query`, each with its best-matching turn highlighted.

    `method` 'auto' uses the FTS index when present (plus a scan of pending documents),
    else a scan; 'scan' forces the scan (for comparison in the benchmark).
    """
    t0 = time.perf_counter()
    words = terms(query)
    if not words:
        return SearchResult(query, [], "none", 0.0)
    cur = store.cursor()
    use_fts = method != "scan" and load_fts(cur) and _index_exists(cur)
    scored: dict[int, float] = {}
    chan_sql = " AND d.interaction_id IN (SELECT id FROM interactions WHERE channel = ?)" if channel else ""
    chan_p = [channel] if channel else []
    if use_fts:
        chan_fts = " AND p.interaction_id IN (SELECT id FROM interactions WHERE channel = ?)" if channel else ""
        try:
            stems = [r[0] for r in cur.execute(
                "SELECT DISTINCT stem(unnest(?::VARCHAR[]), 'porter')", [words]).fetchall()]
            has_pending = cur.execute("SELECT count(*) FROM search_docs WHERE NOT in_index").fetchone()
            pend_sql = (" AND p.interaction_id NOT IN (SELECT interaction_id FROM search_docs "
                        "WHERE NOT in_index)") if has_pending and has_pending[0] else ""
            rows = cur.execute(
                _BM25.format(terms=", ".join("?" for _ in stems), pending=pend_sql, chan=chan_fts,
                             limit=int(limit)),
                [*stems, *chan_p],
            ).fetchall()
            scored = {int(r[0]): float(r[1]) for r in rows}
        except duckdb.CatalogException:
            # The index is being rebuilt by refresh_search_index (another thread of the
            # service) at this very moment: answer by scan rather than fail.
            use_fts = False
    pending_filter = "NOT d.in_index" if use_fts else "TRUE"
    # Scan: documents not in the index (all of them without FTS). The score counts
    # matched words first, then occurrences, so it ranks like a crude BM25.
    like = " OR ".join("d.body ILIKE ?" for _ in words)
    occ = " + ".join(
        "(length(lower(d.body)) - length(replace(lower(d.body), ?, ''))) / length(?)" for _ in words
    )
    have = " + ".join("(d.body ILIKE ?)::INT" for _ in words)
    p_occ: list[Any] = []
    for w in words:
        p_occ += [w, w]
    pending = 1
    if use_fts:
        row = cur.execute("SELECT count(*) FROM search_docs WHERE NOT in_index").fetchone()
        pending = int(row[0]) if row else 0
    scan = [] if not pending else cur.execute(
        f"SELECT d.interaction_id, ({have}) * 1000 + ({occ}) AS score FROM search_docs d "
        f"WHERE {pending_filter} AND ({like}){chan_sql} ORDER BY score DESC, d.interaction_id "
        f"LIMIT {int(limit)}",
        [*(f"%{w}%" for w in words), *p_occ, *(f"%{w}%" for w in words), *chan_p],
    ).fetchall()
    top = max(scored.values(), default=1.0)
    for iid, sc in scan:
        # Pending documents matching every word rank with the best indexed hits.
        scored.setdefault(int(iid), top * float(sc) / (1000.0 * len(words) + 1.0) if use_fts else float(sc))
    ranked = sorted(scored.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
    hits = _hits(cur, ranked, words)
    how = ("fts+pending" if scan else "fts") if use_fts else "scan"
    return SearchResult(query, hits, how, time.perf_counter() - t0)


def _hits(cur: duckdb.DuckDBPyConnection, ranked: list[tuple[int, float]], words: list[str]) -> list[SearchHit]:
    if not ranked:
        return []
    ids = ",".join(str(int(i)) for i, _ in ranked)
    meta = {
        int(r[0]): r[1:]
        for r in cur.execute(
            f"SELECT id, started_at, channel, agent, pii_mask(subject) FROM interactions WHERE id IN ({ids})"
        ).fetchall()
    }
    pat = _stem_pattern(words)
    best: dict[int, tuple[int, int, str, str]] = {}
    for iid, seq, speaker, text in cur.execute(
        f"SELECT t.interaction_id, t.seq, t.speaker, t.text FROM outbound_turns t "
        f"WHERE t.interaction_id IN ({ids}) AND t.text IS NOT NULL ORDER BY t.interaction_id, t.seq"
    ).fetchall():
        found = {m.group(0).lower() for m in pat.finditer(text)} if pat else set()
        n = len(found)
        if n and (iid not in best or n > best[iid][0]):
            best[iid] = (n, int(seq), str(speaker), str(text))
    out = []
    for iid, score in ranked:
        if iid not in meta:
            continue
        started, channel, agent, subject = meta[iid]
        _n, seq, speaker, text = best.get(iid, (0, None, None, ""))
        spans = [[m.start(), m.end()] for m in pat.finditer(text)] if pat and text else []
        out.append(SearchHit(iid, round(score, 4), started, channel, agent, subject, seq,
                             speaker, text, spans))
    return out
