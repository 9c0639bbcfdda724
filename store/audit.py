"""The audit log: every question asked and every review action taken, by whom."""

from __future__ import annotations

import json
from typing import Any

import duckdb

from store.db import Store


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
    cur.execute(
        "INSERT INTO audit_log (actor, action, target, detail) VALUES (?, ?, ?, ?)",
        [actor, action, target, json.dumps(detail or {}, default=str)],
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
