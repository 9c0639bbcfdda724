"""The audit log: every question asked and every review action taken, by whom."""

from __future__ import annotations

import json
from typing import Any

import duckdb

from store.db import Store

#: Longest string kept from any one detail value: what users type (questions, reasons)
#: is capped where it is asked, and this backstop keeps any caller from storing megabytes.
MAX_DETAIL_TEXT = 2000


def _capped(value: Any) -> Any:
    if isinstance(value, str) and len(value) > MAX_DETAIL_TEXT:
        return f"{value[:MAX_DETAIL_TEXT]}… [+{len(value) - MAX_DETAIL_TEXT} chars]"
    return value


def log(
    store: Store,
    actor: str,
    action: str,
    target: str | None = None,
    detail: dict[str, Any] | None = None,
    *,
    con: duckdb.DuckDBPyConnection | None = None,
) -> None:
    cur = con or store.cursor()
    detail = {k: _capped(v) for k, v in (detail or {}).items()}
    (aid,) = store.next_ids("audit_log", con=cur)
    cur.execute(
        "INSERT INTO audit_log (id, actor, action, target, detail) VALUES (?, ?, ?, ?, ?)",
        [aid, actor, action, _capped(target), json.dumps(detail, default=str)],
    )


def recent(store: Store, limit: int = 50, action: str | None = None) -> list[dict[str, Any]]:
    sql = "SELECT id, at_time, actor, action, target, detail FROM audit_log"
    params: list[Any] = []
    if action:
        sql += " WHERE action = ?"
        params.append(action)
    sql += f" ORDER BY id DESC LIMIT {int(limit)}"
    return [
        {"id": r[0], "at": r[1], "actor": r[2], "action": r[3], "target": r[4],
         "detail": json.loads(r[5]) if r[5] else {}}
        for r in store.cursor().execute(sql, params).fetchall()
    ]
