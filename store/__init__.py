"""Convoscope's storage: the DuckDB schema, its migrations, records and every SQL query.

Nothing outside this package writes SQL. Modules are grouped by what they query
(`interactions`, `quarantine`, `sync`, `audit`, ...) and take a `Store` first.
"""

from store.db import (
    SchemaTooNewError,
    Store,
    StoreError,
    StoreLockedError,
    StoreUnreadableError,
    latest_version,
)

__all__ = [
    "SchemaTooNewError",
    "Store",
    "StoreError",
    "StoreLockedError",
    "StoreUnreadableError",
    "latest_version",
]
