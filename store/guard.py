"""The store's last line of defence: a text guard applied to everything before it is written.

Why in the store: PCI DSS forbids storing a card's security code at all, and a card
number only protected. With `[redaction] pci = true` the composition root hands the store
a guard (`analysis.redaction.PciGuard`; the store never imports analysis) as
`store.text_guard`, and every writer of free text calls the functions here first: the
turns of an interaction (conversation-level, so a card read over several turns is
found) with their word lists and metadata, the subject and metadata of interactions,
e-mail message bodies and subjects, quarantine excerpts and reasons. Connectors and the
ASR job need not know: whatever path text takes into the file, it passes through here.
Without a guard (the default) these functions return their input unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from store.records import Interaction, Turn


class TextGuard(Protocol):
    """What the store needs from a guard."""

    def turns(self, turns: Sequence[Turn]) -> None:
        """Redact the turns of one conversation in place (text, words, meta)."""

    def text(self, text: str) -> str: ...

    def value(self, value: Any) -> Any:
        """Every string inside a JSON-like value."""


def _guard(store: Any) -> TextGuard | None:
    return getattr(store, "text_guard", None)


def interactions(store: Any, items: Sequence[Interaction]) -> None:
    """Guard interactions in place before they are written (turns, subject, metadata)."""
    g = _guard(store)
    if g is None:
        return
    for it in items:
        g.turns(it.turns)
        if it.subject:
            it.subject = g.text(it.subject)
        if it.metadata:
            it.metadata = g.value(it.metadata)


def turns(store: Any, items: Sequence[Turn]) -> None:
    """Guard one conversation's turns in place (the ASR job's transcript)."""
    g = _guard(store)
    if g is not None:
        g.turns(items)


def text(store: Any, value: str | None) -> str | None:
    g = _guard(store)
    return g.text(value) if g is not None and value else value


def value(store: Any, obj: Any) -> Any:
    g = _guard(store)
    return g.value(obj) if g is not None and obj else obj
