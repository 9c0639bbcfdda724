"""Call recordings from a folder (a PBX export, an SFTP drop, a recorder's share).

Each poll walks the folder for audio files (by extension) and takes a file only once it
has stopped changing: its (size, mtime) must be the same as on the previous poll
(`stable_polls` polls in a row), or its mtime must be at least `settle_seconds` old.
The sizes seen are kept in the connector's cursor in the store, so this also works
across one-shot `convoscope ingest` runs.

A taken file is hashed (SHA-256 of its bytes = the interaction's `external_id`, so the
same recording twice or renamed is one interaction), probed with PyAV (decoded through,
for its true duration and channel count; a file FFmpeg cannot read is not a call), and
described by its sidecar (`<basename>.json`: agent, customer, queue, started_at,
direction, plus any other keys kept in `metadata["sidecar"]`) and/or the configured
`filename_pattern` (a regex with named groups agent/customer/queue/started_at/direction;
sidecar values win where both give one). Unreadable audio and bad sidecars go to the
quarantine with the reason; after `max_attempts` the file is left alone until it changes.
Records, quarantine entries and the cursor are written in one transaction per batch.

Re-polls are cheap: a file whose (path, size, mtime, sidecar) signature was already
ingested is skipped without being read. Files are left in place (the store keeps their
absolute path as `raw_ref`; if a known recording turns up under a new path and the old
one is gone, `raw_ref` follows it).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from connectors.base import Source, SyncReport
from store import Store
from store import calls as calls_q
from store import interactions as interactions_q
from store import quarantine as quarantine_q
from store import sync as sync_q
from store.records import Interaction, QuarantineItem, content_hash

log = logging.getLogger(__name__)

FIELDS = ("agent", "customer", "queue", "started_at", "direction")
_TIME_FORMATS = ("%Y%m%dT%H%M%S", "%Y%m%d-%H%M%S", "%Y%m%d_%H%M%S", "%Y%m%d%H%M%S",
                 "%Y-%m-%d_%H-%M-%S", "%Y-%m-%dT%H-%M-%S")  # fmt: skip
_PHONEISH = re.compile(r"^[+(\d][\d\s().\-/]{5,}$")


@dataclass
class DropFolderOptions:
    """`[dropfolder]`: where call recordings land and how to read their metadata."""

    __pydantic_config__ = {"extra": "forbid"}  # noqa: RUF012

    path: str = ""  # "" = no drop folder
    extensions: list[str] = field(
        default_factory=lambda: ["wav", "mp3", "flac", "ogg", "opus", "m4a"]
    )
    recursive: bool = True
    filename_pattern: str = ""  # regex with named groups agent/customer/queue/started_at/direction
    started_at_format: str = ""  # strptime format of started_at in file names; "" = common forms
    assume_timezone: str = "UTC"  # for started_at values without an offset
    default_region: str = "US"  # phone numbers without +country are read in this region
    stable_polls: int = 1
    settle_seconds: float = 10.0
    max_attempts: int = 3
    source_name: str = "dropfolder"
    batch_size: int = 100

    def __post_init__(self) -> None:
        self.extensions = [e.lower().lstrip(".") for e in self.extensions]
        if not self.extensions:
            raise ValueError("extensions must name at least one file extension")
        if self.filename_pattern:
            try:
                rx = re.compile(self.filename_pattern)
            except re.error as exc:
                raise ValueError(f"filename_pattern is not a valid regex: {exc}") from None
            unknown = set(rx.groupindex) - set(FIELDS)
            if unknown:
                raise ValueError(
                    f"filename_pattern has unknown groups {sorted(unknown)}; allowed: {', '.join(FIELDS)}"
                )
        try:
            ZoneInfo(self.assume_timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"assume_timezone {self.assume_timezone!r} is not an IANA time zone") from None
        import phonenumbers

        if self.default_region.upper() not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(f"default_region {self.default_region!r} is not a known region code (e.g. US, GB, DE)")
        if self.stable_polls < 0 or self.settle_seconds < 0:
            raise ValueError("stable_polls and settle_seconds must be >= 0")
        if self.max_attempts < 1 or self.batch_size < 1:
            raise ValueError("max_attempts and batch_size must be >= 1")
        if not self.source_name.strip():
            raise ValueError("source_name must not be empty")


class ProbeError(ValueError):
    """The file is not usable audio; the message is the quarantine reason."""


@dataclass(slots=True)
class AudioProbe:
    duration: float
    channels: int
    sample_rate: int
    codec: str
    container: str


def probe_audio(path: Path) -> AudioProbe:
    """Open and decode the first audio stream through (PyAV); raise ProbeError if unusable."""
    import av

    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            if not container.streams.audio:
                raise ProbeError(f"no audio stream (container {container.format.name})")
            stream = container.streams.audio[0]
            samples = 0
            rate = stream.codec_context.sample_rate or 0
            for frame in container.decode(stream):
                samples += frame.samples
                rate = rate or frame.sample_rate
            channels = int(stream.codec_context.channels)
            codec = stream.codec_context.name
            fmt = container.format.name
    except ProbeError:
        raise
    except Exception as exc:  # PyAV raises many FFmpeg error types; all mean "not audio"
        raise ProbeError(f"not readable audio: {exc}") from None
    if samples == 0 or not rate:
        raise ProbeError("the audio stream holds no samples")
    return AudioProbe(samples / rate, channels, int(rate), codec, fmt)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def normalise_customer(value: str | None, region: str) -> str | None:
    """A phone number as E.164 (+14155550134), else the id itself, trimmed and lower-cased."""
    if value is None or not str(value).strip():
        return None
    s = str(value).strip()
    if _PHONEISH.match(s):
        import phonenumbers

        try:
            num = phonenumbers.parse(s, region.upper())
            if phonenumbers.is_possible_number(num):
                return phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)
        except phonenumbers.NumberParseException:
            pass
    return s.lower()


def parse_time(value: Any, fmt: str, tz: str) -> datetime:
    """started_at from a sidecar/file name: ISO 8601, epoch seconds, `fmt`, or common forms."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    s = str(value).strip()
    dt: datetime | None = None
    if fmt:
        dt = datetime.strptime(s, fmt)
    else:
        try:
            dt = datetime.fromisoformat(s)
        except ValueError:
            for f in _TIME_FORMATS:
                try:
                    dt = datetime.strptime(s, f)
                    break
                except ValueError:
                    continue
    if dt is None:
        raise ValueError(f"started_at {s!r} is not a date-time (use ISO 8601, e.g. 2026-11-24T09:30:00+01:00)")
    return dt if dt.tzinfo else dt.replace(tzinfo=ZoneInfo(tz))


@dataclass(slots=True)
class _Candidate:
    path: Path
    rel: str
    sig: str


class DropFolderSource(Source):
    """Ingests call recordings from `options.path` (see the module docstring)."""

    def __init__(self, options: DropFolderOptions) -> None:
        self.options = options
        self.name = options.source_name
        self.root = Path(options.path).expanduser()
        self._pattern = re.compile(options.filename_pattern) if options.filename_pattern else None

    # -- scanning -------------------------------------------------------------------

    def _audio_files(self) -> list[Path]:
        exts = {f".{e}" for e in self.options.extensions}
        it = self.root.rglob("*") if self.options.recursive else self.root.glob("*")
        return sorted(
            p for p in it
            if p.suffix.lower() in exts and p.is_file() and not p.name.startswith(".")
        )  # fmt: skip

    @staticmethod
    def _sidecar(path: Path) -> Path:
        return path.with_suffix(".json")

    def _signature(self, path: Path, st: os.stat_result) -> str:
        side = self._sidecar(path)
        try:
            sst = side.stat()
            side_sig = f"{sst.st_size}:{sst.st_mtime_ns}"
        except FileNotFoundError:
            side_sig = "-"
        return f"{st.st_size}:{st.st_mtime_ns}:{side_sig}"

    # -- metadata -------------------------------------------------------------------

    def _metadata(self, path: Path) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        """(fields, sidecar extras, fields from the file name); ValueError on a bad sidecar."""
        from_name: dict[str, Any] = {}
        if self._pattern:
            m = self._pattern.search(path.stem)
            if m:
                from_name = {k: v for k, v in m.groupdict().items() if v}
        fields: dict[str, Any] = dict(from_name)
        extras: dict[str, Any] = {}
        side = self._sidecar(path)
        if side.is_file():
            try:
                data = json.loads(side.read_text("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise ValueError(f"sidecar {side.name} is not valid JSON: {exc}") from None
            if not isinstance(data, dict):
                raise ValueError(f"sidecar {side.name} must hold a JSON object, not {type(data).__name__}")
            for k, v in data.items():
                if k in FIELDS:
                    if v is not None and v != "":
                        fields[k] = v
                else:
                    extras[k] = v
        return fields, extras, from_name

    def _interaction(
        self, cand: _Candidate, sha: str, probe: AudioProbe, fields: dict[str, Any],
        extras: dict[str, Any], from_name: dict[str, Any],
    ) -> Interaction:
        opts = self.options
        started = (
            parse_time(fields["started_at"], opts.started_at_format, opts.assume_timezone)
            if fields.get("started_at") not in (None, "")
            else datetime.fromtimestamp(cand.path.stat().st_mtime, UTC) - timedelta(seconds=probe.duration)
        )
        customer = str(fields["customer"]) if fields.get("customer") not in (None, "") else None
        direction = str(fields["direction"]).strip().lower() if fields.get("direction") else None
        described = {
            "agent": str(fields["agent"]) if fields.get("agent") not in (None, "") else None,
            "customer": customer,
            "queue": str(fields["queue"]) if fields.get("queue") not in (None, "") else None,
            "direction": direction,
            "started_at": started.isoformat(),
            "sidecar": extras,
        }
        metadata: dict[str, Any] = {
            "file": cand.path.name,
            "channels": probe.channels,
            "sample_rate": probe.sample_rate,
            "codec": probe.codec,
            "container": probe.container,
            "size_bytes": cand.path.stat().st_size,
            "metadata_from": ("sidecar" if self._sidecar(cand.path).is_file() else "")
            + ("+filename" if from_name else ""),
        }
        if extras:
            metadata["sidecar"] = extras
        if from_name:
            metadata["filename_fields"] = from_name
        return Interaction(
            channel="call",
            source=self.name,
            external_id=sha,
            content_hash=content_hash(sha, described),
            started_at=started,
            ended_at=started + timedelta(seconds=probe.duration),
            duration=round(probe.duration, 3),
            agent=described["agent"],
            customer=customer,
            customer_key=normalise_customer(customer, opts.default_region),
            queue=described["queue"],
            direction=direction,
            status="new",
            raw_ref=str(cand.path.resolve()),
            metadata=metadata,
        )

    # -- the poll -------------------------------------------------------------------

    def sync(self, store: Store) -> SyncReport:
        report = SyncReport(source=self.name)
        if not self.root.is_dir():
            report.errors.append(f"drop folder {self.root} does not exist or is not a folder")
            log.error("%s", report.errors[-1])
            return report
        cursor = sync_q.get_cursor(store, self.name) or {}
        done: dict[str, list[str]] = cursor.get("done", {})
        seen: dict[str, list[Any]] = cursor.get("seen", {})
        gaveup: dict[str, str] = cursor.get("gaveup", {})
        now = time.time()
        present: set[str] = set()
        candidates: list[_Candidate] = []
        for path in self._audio_files():
            rel = path.relative_to(self.root).as_posix()
            present.add(rel)
            try:
                st = path.stat()
            except FileNotFoundError:
                continue
            sig = self._signature(path, st)
            if (rel in done and done[rel][0] == sig) or gaveup.get(rel) == sig:
                continue
            prev = seen.get(rel)
            polls = prev[1] + 1 if prev and prev[0] == sig else 0
            if polls >= self.options.stable_polls or now - st.st_mtime >= self.options.settle_seconds:
                candidates.append(_Candidate(path, rel, sig))
            else:
                seen[rel] = [sig, polls]
                report.skipped += 1
        # forget files that are gone
        for table in (done, seen, gaveup):
            for rel in [r for r in table if r not in present]:
                del table[rel]
        state = {"done": done, "seen": seen, "gaveup": gaveup}
        for i in range(0, len(candidates), self.options.batch_size):
            self._ingest_batch(store, candidates[i : i + self.options.batch_size], state, report)
        if not candidates:
            sync_q.save_cursor(store, self.name, state)
        return report

    def _ingest_batch(
        self, store: Store, batch: list[_Candidate], state: dict[str, Any], report: SyncReport
    ) -> None:
        opts = self.options
        items: list[Interaction] = []
        item_rel: list[tuple[str, str, str]] = []  # (rel, sig, external_id)
        failures: list[tuple[_Candidate, QuarantineItem]] = []
        for cand in batch:
            try:
                sha = sha256_file(cand.path)
            except OSError as exc:
                report.errors.append(f"{cand.rel}: cannot read ({exc})")
                continue
            try:
                fields, extras, from_name = self._metadata(cand.path)
                meta_key = None
                probe = probe_audio(cand.path)
                it = self._interaction(cand, sha, probe, fields, extras, from_name)
            except ProbeError as exc:
                meta_key = sha
                reason = f"{cand.rel}: {exc}"
            except ValueError as exc:  # sidecar / metadata problems
                side = self._sidecar(cand.path)
                side_hash = sha256_file(side)[:16] if side.is_file() else "-"
                meta_key = f"{sha}:meta:{side_hash}"
                reason = f"{cand.rel}: {exc}"
            if meta_key is not None:
                if quarantine_q.should_skip(store, self.name, meta_key, opts.max_attempts):
                    state["gaveup"][cand.rel] = cand.sig
                    state["seen"].pop(cand.rel, None)
                    continue
                excerpt = None
                with contextlib.suppress(OSError), cand.path.open("rb") as f:
                    excerpt = f.read(200).decode("utf-8", "replace")
                failures.append(
                    (cand, QuarantineItem(self.name, meta_key, reason, str(cand.path.resolve()), excerpt))
                )
                continue
            items.append(it)
            item_rel.append((cand.rel, cand.sig, sha))
        with store.transaction() as tx:
            for cand, q in failures:
                attempts = quarantine_q.record(store, q, con=tx)
                report.quarantined += 1
                report.errors.append(f"quarantined {q.reason} (attempt {attempts}/{opts.max_attempts})")
                log.warning("%s: quarantined %s (attempt %d)", self.name, q.reason, attempts)
                if attempts >= opts.max_attempts:
                    state["gaveup"][cand.rel] = cand.sig
                    state["seen"].pop(cand.rel, None)
                else:
                    state["seen"][cand.rel] = [cand.sig, 0]
            if items:
                res = interactions_q.upsert(store, items, con=tx)
                report.inserted += len(res.inserted)
                report.updated += len(res.updated)
                report.unchanged += len(res.unchanged)
                if res.unchanged:
                    self._follow_moves(store, items, set(res.unchanged), tx)
            for rel, sig, sha in item_rel:
                state["done"][rel] = [sig, sha]
                state["seen"].pop(rel, None)
            sync_q.save_cursor(store, self.name, state, con=tx)

    def _follow_moves(self, store: Store, items: list[Interaction], unchanged: set[int], tx: Any) -> None:
        """A known recording under a new path whose old path is gone: point raw_ref at it."""
        refs = calls_q.raw_refs(store, self.name, [i.external_id for i in items if i.id in unchanged], con=tx)
        for it in items:
            if it.id not in unchanged or it.external_id not in refs:
                continue
            iid, old = refs[it.external_id]
            if it.raw_ref and old != it.raw_ref and (not old or not Path(old).exists()):
                calls_q.set_raw_ref(store, iid, it.raw_ref, con=tx)
