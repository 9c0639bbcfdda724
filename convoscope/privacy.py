"""Retention and erasure jobs: configuration, files on disk, and the store calls.

`[retention]` keeps each kind of data a number of days per channel (0 = forever):

    [retention.call]
    audio_days = 30            # recordings (drop folder) and the redacted audio copies
    original_text_days = 90    # unredacted transcripts, e-mail bodies and headers
    redacted_text_days = 365   # redacted text, search documents, embeddings
    aggregates_days = 0        # scores, flags and verdicts; 0 keeps them

    [retention]
    voiceprint_days = 0        # agent voiceprints not refreshed by a call for this long

`run_retention` is the scheduled job (the service runs it daily at `run_at`) and
`convoscope retention run [--dry-run]`. `forget` erases one person or interaction
everywhere, or one agent's voiceprint (`convoscope forget`, `POST /api/privacy/forget`).
Both write the audit log.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from store import Store, audit, privacy
from store import retention as rq
from store import speakers as speakers_q
from store.permissions import allowed
from store.search import refresh_search_index

log = logging.getLogger(__name__)

CHANNELS = ("call", "chat", "email")


@dataclass
class ChannelRetention:
    """Days to keep each kind of data of one channel; 0 keeps it forever."""

    __pydantic_config__ = {"extra": "forbid"}  # noqa: RUF012
    #: recordings and redacted audio copies (calls only)
    audio_days: int = 0
    #: unredacted text: turns become their redacted text, e-mail bodies/headers are cleared
    original_text_days: int = 0
    #: all text: turns, search documents, embeddings (scores, flags and counts stay)
    redacted_text_days: int = 0
    #: the interaction itself with its scores and flags (daily pattern counts stay)
    aggregates_days: int = 0

    def __post_init__(self) -> None:
        for name in ("audio_days", "original_text_days", "redacted_text_days", "aggregates_days"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0 (0 keeps forever)")
        stages = [d for d in (self.original_text_days, self.redacted_text_days, self.aggregates_days) if d]
        if stages != sorted(stages):
            raise ValueError("original_text_days <= redacted_text_days <= aggregates_days "
                             "(a later stage cannot come before an earlier one)")


@dataclass
class RetentionOptions:
    """`[retention]`: how long personal data is kept, per channel, and when the job runs."""

    __pydantic_config__ = {"extra": "forbid"}  # noqa: RUF012
    call: ChannelRetention = field(default_factory=ChannelRetention)
    chat: ChannelRetention = field(default_factory=ChannelRetention)
    email: ChannelRetention = field(default_factory=ChannelRetention)
    #: local time (the configured timezone) at which `serve` runs the job each day
    run_at: str = "03:30"
    #: also delete the source recording (and its sidecar) from the drop folder when a
    #: call's audio expires or its customer is forgotten; false leaves the drop folder alone
    delete_source_audio: bool = True
    #: agent voiceprints (biometric: an embedding of the agent's voice, issue #16) that no
    #: enrolment or stereo call of that agent refreshed for this many days are deleted;
    #: 0 keeps them
    voiceprint_days: int = 0

    def __post_init__(self) -> None:
        if self.voiceprint_days < 0:
            raise ValueError("voiceprint_days must be >= 0 (0 keeps forever)")
        try:
            hh, mm = (int(x) for x in self.run_at.split(":"))
        except ValueError as exc:
            raise ValueError(f"run_at must be HH:MM, got {self.run_at!r}") from exc
        if not (0 <= hh < 24 and 0 <= mm < 60):
            raise ValueError(f"run_at must be HH:MM, got {self.run_at!r}")

    def for_channel(self, channel: str) -> ChannelRetention:
        return getattr(self, channel)

    @property
    def enabled(self) -> bool:
        return bool(self.voiceprint_days) or any(
            d for ch in CHANNELS for d in vars(self.for_channel(ch)).values() if isinstance(d, int)
        )


# -- files ------------------------------------------------------------------------------------


def audio_files(call_id: int, raw_ref: str | None, *, audio_dir: str, delete_source: bool,
                source_root: str = "") -> list[Path]:
    """The files holding a call's audio: the redacted copy `<audio_dir>/<id>.flac` and, when
    `delete_source`, the recording and its sidecar — only inside the drop folder `source_root`
    (nothing outside it is ever deleted)."""
    out: list[Path] = []
    if audio_dir:
        out.append(Path(audio_dir).expanduser() / f"{call_id}.flac")
    if delete_source and raw_ref and source_root:
        ref = Path(raw_ref).expanduser()
        root = Path(source_root).expanduser().resolve()
        try:
            ref.resolve().relative_to(root)
        except ValueError:
            log.warning("not deleting %s: outside the drop folder", ref)
        else:
            out += [ref, ref.with_suffix(".json")]
    return out


def _remove(paths: list[Path], errors: list[str]) -> int:
    n = 0
    for p in paths:
        try:
            os.remove(p)
            n += 1
        except FileNotFoundError:
            continue
        except OSError as exc:
            errors.append(f"{p}: {exc.strerror}")
    return n


# -- retention --------------------------------------------------------------------------------


@dataclass
class RetentionReport:
    dry_run: bool
    now: datetime
    #: channel -> stage -> interactions affected
    due: dict[str, dict[str, int]] = field(default_factory=dict)
    files_deleted: int = 0
    quarantine_excerpts: int = 0
    #: agent voiceprints past `voiceprint_days` (deleted unless a dry run)
    voiceprints: int = 0
    errors: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        head = "retention (dry run: nothing deleted)" if self.dry_run else "retention"
        out = [f"{head} at {self.now.isoformat(timespec='seconds')}"]
        for ch, stages in self.due.items():
            if any(stages.values()):
                out.append(f"  {ch}: " + ", ".join(f"{k} {v}" for k, v in stages.items()))
        if self.voiceprints:
            out.append(f"  agent voiceprints: {self.voiceprints}")
        if len(out) == 1:
            out.append("  nothing is due")
        if not self.dry_run:
            out.append(f"  files deleted: {self.files_deleted}; quarantine excerpts cleared: {self.quarantine_excerpts}")
        out += [f"  error: {e}" for e in self.errors]
        return out


def run_retention(store: Store, options: RetentionOptions, *, now: datetime, audio_dir: str = "",
                  dropfolder: str = "", dry_run: bool = False, actor: str = "retention") -> RetentionReport:
    """Delete what is past its keep period (see module docstring); one audit row per run.

    Audio files go first, then the store in one transaction, so a crash half way leaves
    nothing half-deleted in the store and the next run finishes the files."""
    if now.tzinfo is None:
        raise ValueError("retention needs an aware 'now'")
    report = RetentionReport(dry_run=dry_run, now=now)
    plans: dict[str, dict[str, list[tuple[int, str | None]]]] = {}
    for ch in CHANNELS:
        opts = options.for_channel(ch)
        stages = {"audio": opts.audio_days if ch == "call" else 0, "original": opts.original_text_days,
                  "redacted": opts.redacted_text_days, "interaction": opts.aggregates_days}
        plans[ch] = {st: rq.due(store, ch, st, now - timedelta(days=days)) if days else []
                     for st, days in stages.items()}  # fmt: skip
        report.due[ch] = {st: len(rows) for st, rows in plans[ch].items()}
    vp_cutoff = now - timedelta(days=options.voiceprint_days) if options.voiceprint_days else None
    if vp_cutoff is not None:
        report.voiceprints = speakers_q.expired(store, vp_cutoff)
    if dry_run:
        return report
    # audio of calls whose audio expired, or that go entirely
    audio_rows = {iid: ref for st in ("audio", "interaction") for iid, ref in plans["call"][st]}
    for iid, ref in audio_rows.items():
        report.files_deleted += _remove(
            audio_files(iid, ref, audio_dir=audio_dir, delete_source=options.delete_source_audio,
                        source_root=dropfolder), report.errors)
    original_days = [options.for_channel(c).original_text_days for c in CHANNELS]
    with store.transaction() as tx:
        rq.mark_audio_deleted(tx, [i for i, _ in plans["call"]["audio"]], now)
        for ch in CHANNELS:
            rq.drop_original(tx, [i for i, _ in plans[ch]["original"]], now)
            rq.drop_redacted(tx, [i for i, _ in plans[ch]["redacted"]], now)
            rq.drop_interactions(store, tx, [i for i, _ in plans[ch]["interaction"]])
        if all(original_days):
            report.quarantine_excerpts = rq.clear_quarantine_excerpts(tx, now - timedelta(days=min(original_days)))
        if vp_cutoff is not None:
            report.voiceprints = speakers_q.expire(tx, vp_cutoff)
        audit.log(store, actor, "retention", None,
                  {"now": now.isoformat(), "due": report.due, "files_deleted": report.files_deleted,
                   "voiceprints": report.voiceprints, "errors": report.errors}, con=tx)  # fmt: skip
    if any(n for stages in report.due.values() for n in stages.values()):
        refresh_search_index(store)
    if report.voiceprints or any(n for stages in report.due.values() for n in stages.values()):
        store.checkpoint()  # deleted rows (text, expired voiceprints) leave the WAL for the file
    if report.voiceprints and store.backend == "ducklake":  # old snapshots still hold the prints
        from store.backend import purge_lake_history

        purge_lake_history(store.cursor())
    return report


# -- erasure ----------------------------------------------------------------------------------


def customer_key_forms(key: str, region: str = "US") -> list[str]:
    """The forms a customer key may be stored in: as given (lower-cased), and for a phone
    number its E.164 form and national number (file names and sidecars use those)."""
    import phonenumbers

    forms = {key.strip().lower()}
    s = key.strip()
    if any(ch.isdigit() for ch in s) and "@" not in s:
        try:
            num = phonenumbers.parse(s, region.upper())
        except phonenumbers.NumberParseException:
            num = None
        if num is not None and phonenumbers.is_possible_number(num):
            e164 = phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)
            forms |= {e164, e164.lstrip("+"), str(num.national_number)}
    return sorted(f for f in forms if f)


def scrub_forms(key: str, region: str = "US") -> list[str]:
    """Extra strings that name the person in mined text (cluster names, phrases, cursors):
    an e-mail address's local part as written, spaced and spoken ("ann.smith", "ann smith",
    "ann dot smith"; only when 5+ characters, so a bare first name does not match strangers),
    and a phone number's national number spaced as dictated ("415 555 0199")."""
    s = key.strip().lower()
    out: set[str] = set()
    if "@" in s:
        local = s.split("@", 1)[0]
        if len(local) >= 5:
            out |= {local, local.replace(".", " ").replace("_", " "), local.replace(".", " dot ")}
    for form in customer_key_forms(key, region):
        if form.isdigit() and len(form) == 10:
            out.add(f"{form[:3]} {form[3:6]} {form[6:]}")
    return sorted(out)


@dataclass
class ForgetResult:
    key_hash: str
    interaction_ids: list[int]
    counts: dict[str, int]
    files_deleted: int
    errors: list[str]
    dry_run: bool = False
    compacted: dict[str, int] | None = None
    # what kind of digest `key_hash` is (`key-hmac-sha256` under CONVOSCOPE_DIGEST_KEY, else
    # `key-sha256`), the prefix the audit log gives it; fixed when the erasure runs
    digest_kind: str = field(default_factory=privacy.digest_label)

    def to_json(self) -> dict[str, Any]:
        return {"key_digest": self.key_hash, "digest_kind": self.digest_kind, "interaction_ids": self.interaction_ids,
                "counts": self.counts, "files_deleted": self.files_deleted, "errors": self.errors,
                "dry_run": self.dry_run, "compacted": self.compacted}  # fmt: skip


def forget(store: Store, *, customer: str | None = None, interaction_id: int | None = None,
           agent: str | None = None, actor: str, reason: str = "", via: str = "cli", region: str = "US",
           audio_dir: str = "", dropfolder: str = "", delete_source_audio: bool = True,
           dry_run: bool = False) -> ForgetResult:  # fmt: skip
    """Erase a customer (every interaction and message carrying the key) or one interaction:
    files first, then the store in one audited transaction (the search postings of the
    erased interactions included), then the index is refreshed and the store checkpointed. `compact` (run by the CLI when it owns the file)
    then makes the deleted bytes unrecoverable from the file.

    `agent`: erase that agent's voiceprint instead (biometric data; their calls stay) and
    stop it from being enrolled again (store/speakers.py)."""
    if sum(x is not None for x in (customer, interaction_id, agent)) != 1:
        raise ValueError("give exactly one of a customer key, an interaction id or an agent id")
    if agent is not None:
        return _forget_agent(store, agent, actor=actor, reason=reason, via=via, dry_run=dry_run)
    if customer is not None:
        forms = customer_key_forms(customer, region)
        plan = privacy.find_plan(store, customer_keys=forms)
        plan.needles = sorted(set(plan.needles) | set(scrub_forms(customer, region)))
        digest = privacy.key_digest("customer", forms[0])
    else:
        plan = privacy.find_plan(store, interaction_ids=[int(interaction_id)])  # type: ignore[arg-type]
        digest = privacy.key_digest("interaction", str(interaction_id))
    if dry_run:
        return ForgetResult(digest, plan.interaction_ids, {"interactions": len(plan.interaction_ids),
                            "email_messages": len(plan.messages)}, 0, [], dry_run=True)  # fmt: skip
    errors: list[str] = []
    files = 0
    for iid, ref in plan.call_refs.items():
        files += _remove(audio_files(iid, ref, audio_dir=audio_dir, delete_source=delete_source_audio,
                                     source_root=dropfolder), errors)
    counts = privacy.erase(store, plan, actor=actor, reason=reason, key_hash=digest, via=via)
    refresh_search_index(store)
    store.checkpoint()
    if store.backend == "ducklake":  # old snapshots and files still hold the erased rows
        from store.backend import purge_lake_history

        purge_lake_history(store.cursor())
    return ForgetResult(digest, plan.interaction_ids, counts, files, errors)


def _forget_agent(store: Store, agent: str, *, actor: str, reason: str, via: str, dry_run: bool) -> ForgetResult:
    if not agent.strip():
        raise ValueError("the agent id is empty")
    digest = speakers_q.agent_digest(agent)
    if dry_run:
        return ForgetResult(digest, [], {"agent_voiceprints": speakers_q.count_voiceprints(store, agent)}, 0, [],
                            dry_run=True)  # fmt: skip
    counts = privacy.erase_agent_voiceprint(store, agent, actor=actor, reason=reason, via=via)
    # (no checkpoint here: the CLI compacts the file it owns, which checkpoints first; under
    # the service, `convoscope compact` does, as after any API erasure)
    if store.backend == "ducklake":  # old snapshots and files still hold the erased print
        from store.backend import purge_lake_history

        purge_lake_history(store.cursor())
    return ForgetResult(digest, [], counts, 0, [])


# -- who may erase ----------------------------------------------------------------------------

#: roles that may erase by default
def _default_erase_gate(actor: str, role: str | None) -> bool:
    return allowed(role or "none", "forget")


_erase_gate: Callable[[str, str | None], bool] = _default_erase_gate


def set_erase_gate(gate: Callable[[str, str | None], bool] | None) -> None:
    """Replace the erasure role check (`gate(actor, role) -> allowed`); None restores the
    default (the `forget` column of the one role table, `store.permissions`)."""
    global _erase_gate
    _erase_gate = gate or _default_erase_gate


def authorize_erasure(actor: str, role: str | None) -> None:
    """The single gate in front of erasure through the API."""
    if not _erase_gate(actor, role):
        raise PermissionError(f"{actor or 'anonymous'} (role {role or 'none'}) may not erase data")


def make_api_forget(store: Store, *, role_of: Callable[[str], str | None], region: str, audio_dir: str,
                    dropfolder: str, delete_source_audio: bool) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """`POST /api/privacy/forget` for the service: body `{"actor": "<Slack user id>",
    "customer": KEY | "interaction_id": ID | "agent": AGENT_ID, "reason": "...", "dry_run": false}`. With a
    person's token the API sets actor and role from the token; with the service token the
    actor's role comes from `role_of` ([access] grants). The role table decides (forget:
    supervisors and admins). The file is not
    compacted while the service holds it (see README: run `convoscope compact` after)."""

    def handle(body: dict[str, Any]) -> dict[str, Any]:
        actor = str(body.get("actor") or "").strip()
        if not actor:
            raise ValueError("actor is required (who asks for the erasure)")
        # a person's API token carries its role; the service token names a Slack user
        role = str(body["role"]) if body.get("role") else role_of(actor)
        authorize_erasure(actor, role)
        customer = body.get("customer")
        iid = body.get("interaction_id")
        agent = body.get("agent")
        if sum(x is not None for x in (customer, iid, agent)) != 1:
            raise ValueError("give exactly one of customer, interaction_id or agent")
        if agent is not None:
            return forget(store, agent=str(agent), actor=f"api:{actor}", reason=str(body.get("reason") or ""),
                          via="api", dry_run=bool(body.get("dry_run"))).to_json()
        try:
            iid_int = int(iid) if iid is not None else None
        except (TypeError, ValueError):
            raise ValueError("interaction_id must be an integer") from None
        res = forget(store, customer=str(customer) if customer is not None else None, interaction_id=iid_int,
                     actor=f"api:{actor}", reason=str(body.get("reason") or ""), via="api", region=region,
                     audio_dir=audio_dir, dropfolder=dropfolder, delete_source_audio=delete_source_audio,
                     dry_run=bool(body.get("dry_run")))
        return res.to_json()

    return handle
