"""Repeat contacts and first-contact resolution (FCR).

Who the customer is: each interaction carries `customer_key` (set by its connector: a
normalised phone number, email address or chat user id) and may carry more identifiers
in its metadata (`customer_ids`, e.g. a chat profile that has both an email and a phone).
Identifiers seen together in one interaction are the same person; a union-find over them
links a customer's call, email and chat even though each channel knows them by a
different key.

What a repeat is: a contact by the same customer within `window_days` of an earlier one
on the same issue — the same top topic or the same cluster (configurable). The repeat
points at the most recent such contact; the first contact of the chain is the "issue".

Resolved first time (`resolved_first_time`): an issue whose resolution verdict (its own,
before a repeat override) is `resolved` AND that no repeat followed. `unresolved` or
`pending` (a follow-up was promised, so the first contact did not finish it) is not
resolved first time even without a repeat. An issue without a verdict (analysed before
the resolution stage existed, or a source it cannot read) falls back to the repeats-only
rule: resolved when no repeat followed. Issues whose window has not yet closed count as
resolved (if their verdict allows) until a repeat arrives (the next run corrects them).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from analysis.patterns.options import RepeatOptions
from store.patterns import InteractionFacts, RepeatRow, ResolutionRow


def normalise_identifier(value: str, default_region: str = "US") -> str | None:
    """A canonical form of an email address, phone number or other id (None when empty)."""
    v = str(value).strip()
    if not v:
        return None
    if "@" in v and " " not in v:
        return "email:" + v.lower().removeprefix("mailto:")
    digits = sum(ch.isdigit() for ch in v)
    if digits >= 7 and all(ch.isdigit() or ch in "+-() ./" for ch in v):
        import phonenumbers

        try:
            num = phonenumbers.parse(v, default_region)
        except phonenumbers.NumberParseException:
            return "phone:" + "".join(ch for ch in v if ch.isdigit())
        return "phone:" + phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)
    return "id:" + v.lower()


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, x: str) -> str:
        self.parent.setdefault(x, x)
        root = x
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[x] != root:
            self.parent[x], x = root, self.parent[x]
        return root

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            # the smaller string wins, so the canonical key does not depend on order
            if rb < ra:
                ra, rb = rb, ra
            self.parent[rb] = ra


def _identifiers(f: InteractionFacts, options: RepeatOptions) -> list[str]:
    raw: list[str] = []
    if f.customer_key:
        raw.append(f.customer_key)
    extra = f.metadata.get(options.identity_metadata_key) if options.identity_metadata_key else None
    if isinstance(extra, str):
        raw.append(extra)
    elif isinstance(extra, Iterable) and not isinstance(extra, dict):
        raw.extend(str(x) for x in extra if x)
    out = []
    for r in raw:
        n = normalise_identifier(r, options.default_region)
        if n and n not in out:
            out.append(n)
    return out


def link_customers(facts: Sequence[InteractionFacts], options: RepeatOptions) -> dict[int, str]:
    """interaction id -> canonical customer key (interactions without identifiers are left out)."""
    uf = _UnionFind()
    per: dict[int, list[str]] = {}
    for f in facts:
        ids = _identifiers(f, options)
        if not ids:
            continue
        per[f.id] = ids
        for other in ids[1:]:
            uf.union(ids[0], other)
    return {iid: uf.find(ids[0]) for iid, ids in per.items()}


@dataclass(slots=True)
class RepeatResult:
    repeats: list[RepeatRow]
    resolutions: list[ResolutionRow]


def _same_issue(a: InteractionFacts, b: InteractionFacts, match_on: Sequence[str]) -> tuple[str, str] | None:
    if "topic" in match_on and a.top_topic and a.top_topic == b.top_topic:
        return "topic", a.top_topic
    if (
        "cluster" in match_on and a.cluster_id is not None and a.cluster_id >= 0
        and a.cluster_id == b.cluster_id
    ):
        return "cluster", str(a.cluster_id)
    return None


def resolved_first_time(verdict: str | None, repeats: int) -> bool:
    """The FCR rule: a repeat always means not resolved first time; otherwise the verdict
    decides, and only a missing verdict falls back to "no repeat = resolved"."""
    if repeats > 0:
        return False
    return verdict is None or verdict == "resolved"


def find_repeats(facts: Sequence[InteractionFacts], options: RepeatOptions) -> RepeatResult:
    """Repeat contacts and the issues (first contacts) with their resolution."""
    customer = link_customers(facts, options)
    by_customer: dict[str, list[InteractionFacts]] = {}
    for f in facts:
        if f.id in customer and f.started_at is not None:
            by_customer.setdefault(customer[f.id], []).append(f)
    window = timedelta(days=options.window_days)
    repeats: list[RepeatRow] = []
    issues: dict[int, ResolutionRow] = {}
    for key, items in by_customer.items():
        items.sort(key=lambda f: (f.started_at, f.id))
        first_of: dict[int, int] = {}
        chain_len: dict[int, int] = {}
        for j, cur in enumerate(items):
            match: tuple[InteractionFacts, tuple[str, str]] | None = None
            for prev in reversed(items[:j]):
                if cur.started_at - prev.started_at > window:  # type: ignore[operator]
                    break
                same = _same_issue(cur, prev, options.match_on)
                if same:
                    match = (prev, same)
                    break
            if match is None:
                first_of[cur.id] = cur.id
                chain_len[cur.id] = 1
                issues[cur.id] = ResolutionRow(
                    interaction_id=cur.id, customer_key=key, started_at=cur.started_at,
                    agent=cur.agent, queue=cur.queue, topic=cur.top_topic, repeats=0,
                    resolved=resolved_first_time(cur.resolution_own, 0),
                )
                continue
            prev, (on, value) = match
            first = first_of[prev.id]
            first_of[cur.id] = first
            chain_len[first] += 1
            issues[first].repeats += 1
            issues[first].resolved = resolved_first_time(None, issues[first].repeats)
            gap = (cur.started_at - prev.started_at).total_seconds() / 3600.0  # type: ignore[operator]
            repeats.append(RepeatRow(
                interaction_id=cur.id, previous_id=prev.id, first_id=first, customer_key=key,
                matched_on=on, match_value=value, gap_hours=round(gap, 3),
                contact_number=chain_len[first],
            ))
    return RepeatResult(repeats=repeats, resolutions=list(issues.values()))


def describe(row: RepeatRow, channel_of: dict[int, str], label: str | None) -> str:
    """e.g. "Contact #2 in 26 h about refund (call, then email)"."""
    gap = f"{row.gap_hours:.0f} h" if row.gap_hours < 48 else f"{row.gap_hours / 24:.1f} days"
    about = label or row.match_value or "the same issue"
    prev_ch = channel_of.get(row.previous_id, "?")
    cur_ch = channel_of.get(row.interaction_id, "?")
    return f"Contact #{row.contact_number} in {gap} about {about} ({prev_ch}, then {cur_ch})"
