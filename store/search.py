"""Full-text search over transcripts, emails and chats, ranked, with highlighted hits.

DuckDB's `fts` extension (BM25 ranking, Porter stemming, English stop words) is loaded from
the `duckdb-extension-fts` wheel, so nothing is downloaded at run time. Its index is static:
`PRAGMA create_fts_index` snapshots the table. So documents live in `search_docs` (one per
analysed interaction, built from the *redacted* turn text) and `refresh_search_index` —
called by the service's scheduler after analysis — adds new or re-analysed documents and
rebuilds the index only when enough have piled up. Documents not yet in the index are still
found: a search also scans those few pending rows. Where the extension cannot be loaded, or
no index was built yet, search falls back to a scan of all documents (correct, slower:
see bench/tui.py for the measured comparison).
"""

from __future__ import annotations

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


# Okapi BM25 (k1 = 1.2, b = 0.75, the fts extension's defaults) computed from the index's
# own tables, starting from the query's few terms. Same ranking as the extension's
# match_bm25 macro, which evaluates per document over all rows: 2-4x slower on 1M.
_BM25 = """
WITH q AS (SELECT DISTINCT stem(unnest(?::VARCHAR[]), 'porter') AS term),
qt AS (SELECT d.termid, d.df FROM {s}.dict d JOIN q ON d.term = q.term),
tf AS (SELECT t.docid, t.termid, count(*) AS tf FROM {s}.terms t
       WHERE t.termid IN (SELECT termid FROM qt) GROUP BY ALL),
st AS (SELECT num_docs, avgdl FROM {s}.stats)
SELECT docs.name, sum(log((st.num_docs - qt.df + 0.5) / (qt.df + 0.5) + 1)
    * tf.tf * 2.2 / (tf.tf + 1.2 * (1 - 0.75 + 0.75 * docs.len / st.avgdl))) AS score
FROM tf JOIN qt ON qt.termid = tf.termid JOIN {s}.docs docs ON docs.docid = tf.docid
CROSS JOIN st
WHERE docs.name NOT IN (SELECT interaction_id FROM search_docs WHERE NOT in_index){chan}
GROUP BY docs.name ORDER BY score DESC, docs.name LIMIT {limit}
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
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = ?", [_FTS_SCHEMA]
    ).fetchone()
    return bool(row and row[0])


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
            "string_agg(coalesce(ts.redacted_text, t.text), '\n' ORDER BY t.seq), FALSE "
            "FROM _search_stale st JOIN turns t ON t.interaction_id = st.interaction_id "
            "LEFT JOIN turn_scores ts ON ts.interaction_id = t.interaction_id AND ts.seq = t.seq "
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
        cur.execute(
            "PRAGMA create_fts_index('search_docs', 'interaction_id', 'body', "
            "stemmer = 'porter', stopwords = 'english', overwrite = 1)"
        )
        cur.execute("UPDATE search_docs SET in_index = TRUE WHERE NOT in_index")
        rebuilt, pending = True, 0
    return IndexReport(int(added), int(pending), int(total) - int(pending), rebuilt,
                       time.perf_counter() - t0)


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
        chan_fts = " AND docs.name IN (SELECT id FROM interactions WHERE channel = ?)" if channel else ""
        try:
            rows = cur.execute(_BM25.format(s=_FTS_SCHEMA, chan=chan_fts, limit=int(limit)),
                               [words, *chan_p]).fetchall()
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
            f"SELECT id, started_at, channel, agent, subject FROM interactions WHERE id IN ({ids})"
        ).fetchall()
    }
    pat = _stem_pattern(words)
    best: dict[int, tuple[int, int, str, str]] = {}
    for iid, seq, speaker, text in cur.execute(
        f"SELECT t.interaction_id, t.seq, t.speaker, coalesce(ts.redacted_text, t.text) "
        f"FROM turns t LEFT JOIN (SELECT * FROM turn_scores WHERE interaction_id IN ({ids})) ts "
        f"ON ts.interaction_id = t.interaction_id AND ts.seq = t.seq "
        f"WHERE t.interaction_id IN ({ids}) ORDER BY t.interaction_id, t.seq"
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
