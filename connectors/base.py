"""The contract every source of interactions fulfils.

A source (drop folder, IMAP account, mail archive, Zendesk, Intercom, Front, ...) knows
its primary key (`Interaction.source` + `external_id`) and its incremental cursor. `sync`
pulls everything new since the saved cursor, writes records through `store.interactions.upsert`
and saves the cursor *in the same transaction*, quarantines what it cannot read (with the
reason) and carries on, and returns a `SyncReport`. Running `sync` twice in a row adds
nothing the second time. Secrets arrive in the constructor (from config), never read here.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field

from store import Store


@dataclass(slots=True)
class SyncReport:
    """What one `sync` did; `errors` are human-readable lines (also logged)."""

    source: str
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    quarantined: int = 0
    skipped: int = 0
    errors: list[str] = field(default_factory=list)

    def add(self, other: SyncReport) -> None:
        self.inserted += other.inserted
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.quarantined += other.quarantined
        self.skipped += other.skipped
        self.errors.extend(other.errors)

    def line(self) -> str:
        return (
            f"{self.source}: {self.inserted} new, {self.updated} updated, "
            f"{self.unchanged} unchanged, {self.quarantined} quarantined"
            + (f", {self.skipped} waiting" if self.skipped else "")
        )


class Source(ABC):
    """One place interactions come from. See the module docstring for the contract."""

    #: `Interaction.source` of everything this source writes (e.g. 'dropfolder', 'zendesk:acme').
    name: str

    @abstractmethod
    def sync(self, store: Store) -> SyncReport:
        """Pull what is new, store it idempotently, save the cursor after commit."""
