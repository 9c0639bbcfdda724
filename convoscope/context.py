"""What a command needs: the validated config and (lazily) the open store.

Commands never read the config file or open DuckDB themselves; they ask the context, so
`--config`, `--db` and the user-facing error messages are handled in one place.
"""

from __future__ import annotations

from convoscope import config as config_mod
from store import Store, StoreError


class UserError(RuntimeError):
    """An error whose message is for the user (printed without a traceback)."""


def storage_failure(exc: BaseException, ctx: Context) -> str | None:
    """A one-line explanation when `exc` is the database or its disk failing, else None.

    Disk full and read-only media reach commands as DuckDB errors or OSError from any
    write; every write commits together with its connector cursor, so the work that failed
    is simply done again by the next run.
    """
    from store.db import storage_failure as kind_of

    if isinstance(exc, StoreError):
        return str(exc)
    kind = kind_of(exc)
    if kind is None:
        return None
    where = ctx.db_path if ctx._config is not None else "the database"
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if kind == "full":
        return (f"the disk holding {where} is full ({text}); nothing after the last commit "
                "was kept and connector cursors did not move past it: free some space and "
                "run the command again")
    if kind == "readonly":
        return (f"cannot write {where} ({text}): the file or its folder is read-only; fix the "
                "permissions (or the mount) and run the command again")
    return f"the database {where} failed: {text}; run `convoscope doctor` to check it"


class Context:
    def __init__(self, config_path: str | None = None, db_override: str | None = None) -> None:
        self.config_path = config_path
        self.db_override = db_override
        self._config: config_mod.Config | None = None
        self._store: Store | None = None

    @property
    def config(self) -> config_mod.Config:
        if self._config is None:
            try:
                self._config = config_mod.load(self.config_path)
            except config_mod.ConfigError as exc:
                raise UserError(str(exc)) from None
            if self.db_override:
                self._config.store.path = self.db_override
            # One redactor for everything that leaves this process (bot, alerts, digests),
            # built from [redaction]: the configured kinds and phone region.
            from analysis import outbound

            outbound.configure(self._config.redaction)
            # One confidence-routing threshold for the queue order and the alert label.
            from store import reviews

            reviews.set_low_confidence(self._config.analysis.low_confidence_below)
        return self._config

    @property
    def db_path(self) -> str:
        return self.config.store.path

    def store(self, *, read_only: bool = False) -> Store:
        """The open store (opened on first use; read-only opens never migrate)."""
        if self._store is None:
            try:
                self._store = Store.open(self.config.store.target(), read_only=read_only)
            except StoreError as exc:
                raise UserError(str(exc)) from None
            from convoscope.wiring import guard_store

            guard_store(self.config, self._store)
        return self._store

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None
