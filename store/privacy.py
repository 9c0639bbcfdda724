"""Erasure (`forget`) and retention: the SQL that removes personal data, in one place.

Erasure removes every row about the chosen interactions — generically, from every table
with an `interaction_id` column (so tables added by later migrations are covered too) and
every table with a `flag_id` column for their flags — plus their e-mail messages, cluster
example references, quarantine entries and cursor entries that name them. Aggregates that
hold no one's data (daily counts per cluster/topic/flag kind) stay. It runs in one
transaction together with its audit row (which stores a digest of the key — HMAC-SHA256 under
$CONVOSCOPE_DIGEST_KEY, else SHA-256 —, never the key)
and the suppression hashes that stop ingest from bringing the data back.

DuckDB keeps deleted values in the file until their blocks are rewritten: a deleted row's
strings stay in a column segment that shares a block with live segments, and freed blocks
are not zeroed. `compact()` therefore rewrites the whole file (`COPY FROM DATABASE` into a
fresh file, then an atomic rename); `convoscope forget` runs it when it owns the file.

Retention (`apply_retention`) removes, per channel and age, audio (files, done by the
caller), original text (turns become their redacted text, e-mail bodies and headers are
cleared), redacted text (turns, search documents, embeddings; scores, flags and their
counts stay) and finally whole interactions (`aggregates_days`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from store import audit
from store.db import Store
from store.pseudonyms import DIGEST_KEY_ENV, digest_key

log = logging.getLogger(__name__)

__all__ = [
    "ErasurePlan",
    "compact",
    "delete_plan",
    "digest_label",
    "erase",
    "find_plan",
    "key_digest",
    "key_digest_forms",
    "suppressed_keys",
    "varchar_hits",
]


# the secret that keys the digests lives in store/pseudonyms.py (`digest_key`): read from the
# environment, like libpq's PGPASSWORD, so every process that opens the store uses the same one


def key_digest(*parts: str) -> str:
    """What the audit log and the suppression list keep instead of a key (the parts joined
    by a unit separator): HMAC-SHA256 under $CONVOSCOPE_DIGEST_KEY when it is set, else a
    plain SHA-256.

    Why a keyed digest: the keys are short and guessable (a phone number, an agent id, an
    interaction number), so a plain SHA-256 is reversed by hashing every candidate; without
    the key an HMAC is not. Keep the key stable: suppressions written under one key are not
    found under another (those written unkeyed, before a key was set, still are)."""
    msg = "\x1f".join(parts).encode()
    key = digest_key()
    if key is None:
        return hashlib.sha256(msg).hexdigest()
    return hmac.new(key, msg, hashlib.sha256).hexdigest()


def key_digest_forms(*parts: str) -> list[str]:
    """Every digest a stored suppression of these parts may carry: the current one and,
    when keyed, the unkeyed SHA-256 that erasures made before the key was set wrote."""
    forms = [key_digest(*parts)]
    if digest_key() is not None:
        forms.append(hashlib.sha256("\x1f".join(parts).encode()).hexdigest())
    return forms


def digest_label() -> str:
    """How the audit log names a digest: `key-hmac-sha256` (keyed) or `key-sha256`."""
    if digest_key() is None:
        global _warned_unkeyed
        if not _warned_unkeyed:
            _warned_unkeyed = True
            log.warning("erasure digests are unkeyed SHA-256, which can be reversed for short keys "
                        "(phone numbers, agent ids) by trying every value: set %s", DIGEST_KEY_ENV)
        return "key-sha256"
    return "key-hmac-sha256"


_warned_unkeyed = False


def _interaction_hash(source: str, external_id: str) -> str:
    return key_digest("interaction", source, external_id)


def _message_hash(source: str, message_key: str) -> str:
    return key_digest("email_message", source, message_key)


# -- suppression (read by ingest) -----------------------------------------------------------


def suppressed_keys(
    con: duckdb.DuckDBPyConnection, kind: str, pairs: Sequence[tuple[str, str]]
) -> set[tuple[str, str]]:
    """The (source, key) pairs among `pairs` that were erased (`kind`: 'interaction' or
    'email_message'); ingest skips them so a source still holding them cannot restore them."""
    if not pairs:
        return set()
    label = "interaction" if kind == "interaction" else "email_message"
    by_hash = {h: (s, k) for s, k in pairs for h in key_digest_forms(label, s, k)}
    rows = con.execute(
        "SELECT key_hash FROM erasure_suppressions WHERE key_hash IN (SELECT unnest(?::VARCHAR[]))",
        [list(by_hash)],
    ).fetchall()
    return {by_hash[r[0]] for r in rows}


# -- what to erase ---------------------------------------------------------------------------


@dataclass
class ErasurePlan:
    """Everything one erasure touches, found before anything is deleted."""

    interaction_ids: list[int] = field(default_factory=list)
    #: (source, external_id) of each interaction, for the suppression list
    interactions: list[tuple[str, str]] = field(default_factory=list)
    #: (source, message_key) of each e-mail message
    messages: list[tuple[str, str]] = field(default_factory=list)
    #: raw references (recordings, .eml files, ...) of the interactions and messages
    raw_refs: list[str] = field(default_factory=list)
    #: call id -> its recording's raw reference (audio copies are named after the id)
    call_refs: dict[int, str | None] = field(default_factory=dict)
    #: strings that identify the person (the key's forms), scrubbed from free text
    needles: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.interaction_ids and not self.messages


def find_plan(
    store: Store, *, customer_keys: Sequence[str] = (), interaction_ids: Sequence[int] = ()
) -> ErasurePlan:
    """Collect what belongs to a customer (any of `customer_keys`, compared case-insensitively
    with customer keys, customer fields and e-mail addresses, and looked for in the text of
    every turn) or to the given interactions."""
    cur = store.cursor()
    keys = sorted({k.strip().lower() for k in customer_keys if k and k.strip()})
    ids: set[int] = {int(i) for i in interaction_ids}
    if keys:
        ids |= {
            int(r[0])
            for r in cur.execute(
                "SELECT id FROM interactions WHERE lower(customer_key) IN (SELECT unnest(?::VARCHAR[])) "
                "OR lower(customer) IN (SELECT unnest(?::VARCHAR[]))",
                [keys, keys],
            ).fetchall()
        }
        # interactions whose text mentions the key: an e-mail address or handle as written,
        # a phone number by its digits whatever the separators ("415 555-0199")
        words = [k for k in keys if len(k) >= 6 and not k.lstrip("+").isdigit()]
        numbers = [k for k in keys if k.isdigit() and len(k) >= 10]
        ids |= {
            int(r[0])
            for r in cur.execute(
                "SELECT DISTINCT interaction_id FROM turns WHERE EXISTS (SELECT 1 FROM unnest(?::VARCHAR[]) "
                "AS n(x) WHERE contains(lower(text), n.x)) OR EXISTS (SELECT 1 FROM unnest(?::VARCHAR[]) "
                "AS d(x) WHERE contains(regexp_replace(text, '[^0-9]', '', 'g'), d.x))",
                [words, numbers],
            ).fetchall()
        }
        # e-mail threads the person wrote in or was written to (their messages carry it)
        ids |= {
            int(r[0])
            for r in cur.execute(
                "SELECT DISTINCT i.id FROM email_messages m JOIN interactions i "
                "ON i.source = m.source AND i.external_id = m.thread_key "
                "WHERE lower(m.from_addr) IN (SELECT unnest(?::VARCHAR[])) "
                "OR lower(m.customer_key) IN (SELECT unnest(?::VARCHAR[])) "
                "OR len(list_intersect(list_transform(coalesce(m.to_addrs, []) || coalesce(m.cc_addrs, []), "
                "lambda a: lower(a)), ?::VARCHAR[])) > 0",
                [keys, keys, keys],
            ).fetchall()
        }
    plan = ErasurePlan(needles=list(keys))
    if not ids:
        return plan
    id_list = sorted(ids)
    rows = cur.execute(
        "SELECT id, source, external_id, channel, raw_ref FROM interactions "
        "WHERE id IN (SELECT unnest(?::BIGINT[])) ORDER BY id",
        [id_list],
    ).fetchall()
    plan.interaction_ids = [int(r[0]) for r in rows]
    plan.interactions = [(r[1], r[2]) for r in rows]
    plan.call_refs = {int(r[0]): r[4] for r in rows if r[3] == "call"}
    plan.raw_refs = [r[4] for r in rows if r[4]]
    for source, key, ref in cur.execute(
        "SELECT m.source, m.message_key, m.raw_ref FROM email_messages m JOIN interactions i "
        "ON i.source = m.source AND i.external_id = m.thread_key "
        "WHERE i.id IN (SELECT unnest(?::BIGINT[]))",
        [id_list],
    ).fetchall():
        plan.messages.append((source, key))
        if ref:
            plan.raw_refs.append(ref)
    return plan


# -- erasure ---------------------------------------------------------------------------------


def tables_with(cur: duckdb.DuckDBPyConnection, column: str) -> list[str]:
    """Base tables of the main schema that have `column` (erasure covers them generically)."""
    return [
        r[0]
        for r in cur.execute(
            "SELECT c.table_name FROM information_schema.columns c JOIN information_schema.tables t "
            "ON t.table_name = c.table_name AND t.table_schema = c.table_schema "
            "WHERE c.column_name = ? AND c.table_schema = 'main' AND t.table_type = 'BASE TABLE' "
            "ORDER BY 1",
            [column],
        ).fetchall()
    ]


#: tables where an erased interaction/flag is only a pointer in an aggregate row: the
#: pointer is cleared, the row (a count, a detected rise) stays
_POINTER_ONLY = {"pattern_trends"}


def _delete_by_ids(tx: duckdb.DuckDBPyConnection, ids: list[int], counts: dict[str, int]) -> None:
    """Remove every row about the interactions `ids` (see module docstring)."""
    flag_ids = [int(r[0]) for r in tx.execute(
        "SELECT id FROM flags WHERE interaction_id IN (SELECT unnest(?::BIGINT[]))", [ids]
    ).fetchall()]  # fmt: skip
    for table in tables_with(tx, "flag_id"):
        if table in _POINTER_ONLY:
            tx.execute(f'UPDATE "{table}" SET flag_id = NULL WHERE flag_id IN (SELECT unnest(?::BIGINT[]))',
                       [flag_ids])
            continue
        n = tx.execute(f'DELETE FROM "{table}" WHERE flag_id IN (SELECT unnest(?::BIGINT[]))',
                       [flag_ids]).fetchone()
        counts[table] = counts.get(table, 0) + int(n[0] if n else 0)
    for column in ("previous_id", "first_id"):
        for table in tables_with(tx, column):
            n = tx.execute(f'DELETE FROM "{table}" WHERE {column} IN (SELECT unnest(?::BIGINT[]))', [ids]).fetchone()
            counts[table] = counts.get(table, 0) + int(n[0] if n else 0)
    for table in tables_with(tx, "interaction_id"):
        if table in _POINTER_ONLY:
            tx.execute(f'UPDATE "{table}" SET interaction_id = NULL '
                       "WHERE interaction_id IN (SELECT unnest(?::BIGINT[]))", [ids])
            continue
        n = tx.execute(f'DELETE FROM "{table}" WHERE interaction_id IN (SELECT unnest(?::BIGINT[]))',
                       [ids]).fetchone()
        counts[table] = counts.get(table, 0) + int(n[0] if n else 0)
    # cluster examples are id lists
    for cid, examples in tx.execute("SELECT id, examples FROM clusters WHERE examples IS NOT NULL").fetchall():
        keep = [e for e in examples if e not in set(ids)]
        if len(keep) != len(examples):
            tx.execute("UPDATE clusters SET examples = ? WHERE id = ?", [keep, cid])
            counts["clusters.examples"] = counts.get("clusters.examples", 0) + len(examples) - len(keep)


def _scrub_json(value: Any, needles: Sequence[str]) -> tuple[Any, int]:
    """`value` without dict entries / list items whose key or text contains a needle."""
    def hit(s: str) -> bool:
        low = s.lower()
        return any(n in low for n in needles)

    if isinstance(value, dict):
        out, removed = {}, 0
        for k, v in value.items():
            if hit(str(k)) or (isinstance(v, str) and hit(v)):
                removed += 1
                continue
            out[k], r = _scrub_json(v, needles)
            removed += r
        return out, removed
    if isinstance(value, list):
        out_l, removed = [], 0
        for v in value:
            if isinstance(v, str) and hit(v):
                removed += 1
                continue
            nv, r = _scrub_json(v, needles)
            out_l.append(nv)
            removed += r
        return out_l, removed
    return value, 0


def _needles(plan: ErasurePlan) -> list[str]:
    """Lower-cased strings that identify the person or the erased items in free text:
    the key's forms, raw references (with and without folders) and external ids."""
    out = set(plan.needles)
    for ref in plan.raw_refs:
        out.add(ref.lower())
        out.add(Path(ref).name.lower())
    for _s, ext in plan.interactions:
        if len(ext) >= 8:
            out.add(ext.lower())
    return sorted(n for n in out if len(n) >= 4)


def delete_plan(tx: duckdb.DuckDBPyConnection, plan: ErasurePlan, counts: dict[str, int]) -> None:
    """Delete everything in `plan` and add its suppression hashes, inside the caller's
    transaction `tx`; `counts` gets the rows removed per table."""
    ids = plan.interaction_ids
    needles = _needles(plan)
    if ids:
        _delete_by_ids(tx, ids, counts)
    if plan.messages:
        tx.execute("CREATE TEMP TABLE IF NOT EXISTS _erase_msgs (source VARCHAR, message_key VARCHAR)")
        tx.execute("DELETE FROM _erase_msgs")
        tx.executemany("INSERT INTO _erase_msgs VALUES (?, ?)", plan.messages)
        n = tx.execute("DELETE FROM email_messages m USING _erase_msgs e "
                       "WHERE m.source = e.source AND m.message_key = e.message_key").fetchone()
        counts["email_messages"] = int(n[0] if n else 0)
    if ids:
        n = tx.execute("DELETE FROM interactions WHERE id IN (SELECT unnest(?::BIGINT[]))", [ids]).fetchone()
        counts["interactions"] = int(n[0] if n else 0)
    # quarantine entries for the same items or naming the person
    item_keys = [e for _s, e in plan.interactions] + [k for _s, k in plan.messages]
    n = tx.execute(
        "DELETE FROM quarantine WHERE item_key IN (SELECT unnest(?::VARCHAR[])) "
        "OR raw_ref IN (SELECT unnest(?::VARCHAR[])) "
        "OR EXISTS (SELECT 1 FROM unnest(?::VARCHAR[]) AS n(x) "
        "  WHERE contains(lower(coalesce(excerpt, '') || ' ' || reason || ' ' || item_key), n.x))",
        [item_keys, plan.raw_refs, needles],
    ).fetchone()
    counts["quarantine"] = int(n[0] if n else 0)
    # connector cursors that name the erased files or the person (e.g. a file name with
    # the caller's number), and pattern outputs quoting the key
    scrubbed = 0
    for source, key, cursor in tx.execute("SELECT source, key, cursor FROM sync_state").fetchall():
        if cursor is None or not needles:
            continue
        data = json.loads(cursor) if isinstance(cursor, str) else cursor
        new, removed = _scrub_json(data, needles)
        if removed:
            tx.execute("UPDATE sync_state SET cursor = ? WHERE source = ? AND key = ?",
                       [json.dumps(new), source, key])
            scrubbed += removed
    counts["sync_state_entries"] = scrubbed
    # earlier audit rows that quote the person (a question naming their address): the
    # record of who did what stays, the key is replaced
    audited = 0
    for needle in needles:
        pat = "(?i)" + re.escape(needle)
        n = tx.execute(
            "UPDATE audit_log SET target = regexp_replace(target, ?, '[erased]', 'g'), "
            "detail = regexp_replace(CAST(detail AS VARCHAR), ?, '[erased]', 'g')::JSON "
            "WHERE contains(lower(coalesce(target, '') || CAST(detail AS VARCHAR)), ?)",
            [pat, pat, needle],
        ).fetchone()
        audited += int(n[0] if n else 0)
    counts["audit_log_quotes"] = audited
    if needles:
        for table, col in (("pattern_phrases", "phrase"), ("pattern_traits", "feature")):
            n = tx.execute(
                f"DELETE FROM {table} WHERE EXISTS (SELECT 1 FROM unnest(?::VARCHAR[]) AS n(x) "
                f"WHERE contains(lower({col}), n.x))", [needles]
            ).fetchone()
            counts[table] = int(n[0] if n else 0)
        n = tx.execute(
            "UPDATE clusters SET label = NULL, terms = [] WHERE EXISTS (SELECT 1 FROM "
            "unnest(?::VARCHAR[]) AS n(x) WHERE contains(lower(coalesce(label, '') || ' ' || "
            "array_to_string(coalesce(terms, []), ' ')), n.x))", [needles]
        ).fetchone()
        counts["clusters.label"] = int(n[0] if n else 0)
    rows = [(_interaction_hash(s, e), "interaction") for s, e in plan.interactions]
    rows += [(_message_hash(s, k), "email_message") for s, k in plan.messages]
    if rows:
        tx.executemany(
            "INSERT INTO erasure_suppressions (key_hash, kind) SELECT ?, ? WHERE NOT EXISTS "
            "(SELECT 1 FROM erasure_suppressions WHERE key_hash = ?)", [(h, k, h) for h, k in rows]
        )
    counts["suppressions"] = len(rows)


def erase(store: Store, plan: ErasurePlan, *, actor: str, reason: str, key_hash: str,
          via: str = "cli") -> dict[str, int]:
    """Delete everything in `plan` in one transaction with its audit row and suppressions.

    The audit row names the key only by `key_hash` (`key_digest`) and lists interaction ids and
    counts per table. Safe to re-run: a second run finds nothing and records an empty
    erasure."""
    counts: dict[str, int] = {}
    with store.transaction() as tx:
        delete_plan(tx, plan, counts)
        audit.log(store, actor, "erase", f"{digest_label()}:{key_hash}",
                  {"reason": reason, "via": via, "interaction_ids": plan.interaction_ids,
                   "counts": counts}, con=tx)
    return counts


def erase_agent_voiceprint(store: Store, agent: str, *, actor: str, reason: str,
                           via: str = "cli") -> dict[str, int]:  # fmt: skip
    """Erase an agent's voiceprint (biometric data, store/speakers.py) in one transaction
    with its audit row and a suppression hash that stops enrolment from rebuilding it.

    The agent's calls stay (they are the business's records, and the customer's data has
    its own erasure); only the embedding goes. The audit row names the agent only by its
    digest (`key_digest`). Safe to re-run: a second run deletes nothing and records an empty erasure."""
    from store import speakers

    def run(tx: Any) -> dict[str, int]:
        counts = {"agent_voiceprints": speakers.erase(tx, agent)}
        audit.log(store, actor, "erase", f"{digest_label()}:{speakers.agent_digest(agent)}",
                  {"reason": reason, "via": via, "kind": "agent_voiceprint", "counts": counts}, con=tx)
        return counts

    # retried when an enrolment of the same agent commits first (store/speakers.py): the
    # next attempt sees that print and deletes it
    return store.retrying(run)


# -- verification and compaction ---------------------------------------------------------------


def varchar_hits(store: Store, needles: Iterable[str]) -> list[tuple[str, str, int]]:
    """(table, column, rows) where a VARCHAR/JSON/VARCHAR[] column contains a needle
    (case-insensitive): the raw scan `convoscope forget --verify` and the tests run."""
    cur = store.cursor()
    terms = [n.lower() for n in needles if n]
    cols = cur.execute(
        "SELECT c.table_name, c.column_name, c.data_type FROM information_schema.columns c "
        "JOIN information_schema.tables t ON t.table_name = c.table_name AND t.table_schema = c.table_schema "
        "WHERE c.table_schema = 'main' AND t.table_type = 'BASE TABLE' "
        "AND (c.data_type IN ('VARCHAR', 'JSON') OR c.data_type LIKE 'VARCHAR[]%')"
    ).fetchall()
    hits = []
    for table, col, _dtype in cols:
        expr = f'lower(CAST("{col}" AS VARCHAR))'
        n = cur.execute(
            f'SELECT count(*) FROM "{table}" WHERE EXISTS (SELECT 1 FROM unnest(?::VARCHAR[]) AS n(x) '
            f"WHERE contains({expr}, n.x))",
            [terms],
        ).fetchone()
        if n and n[0]:
            hits.append((table, col, int(n[0])))
    return hits


def compact(path: str | os.PathLike[str]) -> dict[str, int]:
    """Rewrite a *closed* database file so deleted values are physically gone.

    DuckDB leaves deleted strings in shared and freed blocks; copying every object into a
    fresh file (`COPY FROM DATABASE`: tables, views, macros, sequences past their current
    values) and renaming it over the old one drops them. A crash before the rename leaves
    the old file intact (and a `.compact` file that the next run overwrites)."""
    src = Path(path)
    tmp = src.with_name(src.name + ".compact")
    for p in (tmp, Path(str(tmp) + ".wal")):
        p.unlink(missing_ok=True)
    before = src.stat().st_size
    con = duckdb.connect(str(src))
    try:
        con.execute("CHECKPOINT")
        con.execute(f"ATTACH '{str(tmp).replace(chr(39), chr(39) * 2)}' AS fresh")
        db = con.execute("SELECT current_database()").fetchone()[0]  # type: ignore[index]
        con.execute(f'COPY FROM DATABASE "{db}" TO fresh')
        con.execute("DETACH fresh")
    finally:
        con.close()
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, src)
    Path(str(src) + ".wal").unlink(missing_ok=True)
    dir_fd = os.open(src.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    return {"bytes_before": before, "bytes_after": src.stat().st_size}


def plan_json(plan: ErasurePlan) -> dict[str, Any]:
    """The plan without the person's key (for reports and dry runs)."""
    d = asdict(plan)
    d.pop("needles")
    return {"interactions": len(plan.interaction_ids), "interaction_ids": plan.interaction_ids,
            "email_messages": len(plan.messages), "files": len(d["raw_refs"])}
