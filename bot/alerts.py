"""Instant alerts: each new flag at or above the configured severity, posted once.

`Alerter.dispatch(store)` is cheap when there is nothing to do (one indexed-free scan of
recent flags), so the service runs it every couple of seconds and the analysis pipeline
may call it right after it commits — that is how an alert lands within ~5 s.

Delivery guarantee: exactly once, where Slack lets us check. The flags of one message
are *claimed* in `alerts_sent` (committed, with a fresh `post_key`) before the post, and
the message carries Slack message metadata naming that post_key (bot/reconcile.py). Then
- a crash or restart before the claim: the flag is still pending and is posted later;
- Slack refuses the post (an error answer, 429): the claim is released, retried next tick;
- Slack refuses it for good (channel_not_found, ...): recorded as failed, said loudly;
- no answer (timeout, dropped connection) or a crash before the answer was recorded:
  the claim is *in doubt*. At start-up and every `reconcile_interval_seconds`, claims in
  doubt for longer than `reconcile_grace_seconds` are looked up in the channel's history
  (`conversations.history`, include_all_metadata, from the claim time minus
  `reconcile_margin_seconds`): found ones are marked posted with their ts, the others
  are released and posted again. If the history cannot be read (missing
  channels:history / groups:history scope) they stay in doubt, and after
  `max_age_hours` are given up — never posted twice.
The client posts without the SDK's transport retry, which would re-send a request whose
answer was lost. Re-running dispatch, or running it from two threads, never posts a
flag twice (the claim is a primary-key insert).

Bursts: when more than `burst_threshold` alerts would reach one channel within
`burst_window_minutes`, the pending ones become a single summary message (and, while the
burst lasts, at most one summary a minute); its metadata lists the flags and one
post_key settles them all. Quiet hours: nothing is posted; flags are held and, when the
quiet hours end, posted — as one summary if there are more than the threshold, which is
the usual case after a night.
"""

from __future__ import annotations

import fnmatch
import logging
import threading
import time as _time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot import blocks as bk
from bot import safety
from bot.options import AlertOptions
from bot.reconcile import HistoryUnavailable, alert_metadata, find_posts, without_transport_retry
from store import alerts as store_alerts
from store.db import Store
from store.reviews import low_confidence


def confidence_text(value: Any) -> str:
    return "unknown" if value is None else f"{float(value):.0%}"

log = logging.getLogger(__name__)
SUMMARY_EVERY = timedelta(minutes=1)
# Slack errors that a retry cannot fix (https://api.slack.com/methods/chat.postMessage).
PERMANENT_ERRORS = frozenset({
    "channel_not_found", "not_in_channel", "is_archived", "invalid_auth", "account_inactive",
    "token_revoked", "missing_scope", "restricted_action", "invalid_blocks", "msg_too_long",
})  # fmt: skip


def _slack_error(exc: Exception) -> str | None:
    """The `error` code of a Slack API error response, if that is what `exc` is."""
    resp = getattr(exc, "response", None)
    try:
        return resp.get("error") if resp is not None else None  # type: ignore[union-attr]
    except Exception:
        return None


def _http_status(exc: Exception) -> int | None:
    return getattr(getattr(exc, "response", None), "status_code", None)


@dataclass(frozen=True, slots=True)
class ReconcileResult:
    found: int = 0
    reposted: int = 0
    unresolved: int = 0
    given_up: int = 0


@dataclass(frozen=True, slots=True)
class DispatchResult:
    posted_messages: int
    alerted_flags: int
    held: int


def in_window(t: time, window: tuple[time, time]) -> bool:
    """Whether local time `t` falls in [start, end), a window that may wrap midnight."""
    start, end = window
    if start < end:
        return start <= t < end
    return t >= start or t < end


class Alerter:
    def __init__(
        self,
        options: AlertOptions,
        client: Any,
        tz: ZoneInfo,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        sleep: Callable[[float], None] = _time.sleep,
        may_hear: Callable[[str], bool] | None = None,
    ) -> None:
        """`may_hear(slack_channel)`: whether that channel's readers may hear calls
        (`bot.clips.channel_may_hear` over the access grants); None: no channel may, so
        `attach_clips` posts nothing."""
        self.options = options
        self.may_hear = may_hear
        self.client = client
        self._post_client = without_transport_retry(client)
        self.tz = tz
        self.clock = clock
        self.sleep = sleep
        self._lock = threading.Lock()
        self._last_summary: dict[str, datetime] = {}
        self._next_reconcile: datetime | None = None  # None: at the first dispatch
        self.last: DispatchResult | None = None
        self.last_reconcile: ReconcileResult | None = None

    # -- routing -------------------------------------------------------------------------

    def route(self, kind: str, queue: str | None) -> str | None:
        """The channel for a flag of `kind` in `queue`: first matching route, else default."""
        for r in self.options.routes:
            if fnmatch.fnmatch(kind, r.kind) and (r.queue == "*" or fnmatch.fnmatch(queue or "", r.queue)):
                return r.channel
        return self.options.default_channel or None

    def quiet_now(self, now: datetime) -> bool:
        window = self.options.quiet_window()
        return window is not None and in_window(now.astimezone(self.tz).time(), window)

    # -- dispatch ------------------------------------------------------------------------

    def dispatch(self, store: Store) -> int:
        """Post what is due; returns the number of flags alerted (0 when nothing to do)."""
        with self._lock:
            result = self._dispatch(store)
        self.last = result
        return result.alerted_flags

    def _dispatch(self, store: Store) -> DispatchResult:
        now = self.clock()
        if self._next_reconcile is None or now >= self._next_reconcile:
            self._next_reconcile = now + timedelta(seconds=self.options.reconcile_interval_seconds)
            if store_alerts.has_unsettled(store):
                self.last_reconcile = self._reconcile(store, now)
        since = now - timedelta(hours=self.options.max_age_hours)
        pending = store_alerts.pending_flags(store, self.options.min_severity_value, since)
        if not pending:
            return DispatchResult(0, 0, 0)
        if self.quiet_now(now):
            return DispatchResult(0, 0, len(pending))
        by_channel: dict[str, list[dict[str, Any]]] = {}
        for f in pending:
            ch = self.route(f["kind"], f["queue"])
            if ch is None:
                continue
            by_channel.setdefault(ch, []).append(f)
        posted = alerted = held = 0
        window_start = now - timedelta(minutes=self.options.burst_window_minutes)
        for channel, flags in by_channel.items():
            recent = store_alerts.sent_since(store, channel, window_start)
            if recent + len(flags) > self.options.burst_threshold:
                last = self._last_summary.get(channel)
                if last is not None and now - last < SUMMARY_EVERY:
                    held += len(flags)
                    continue
                if self._post(store, channel, flags, now, summary=True):
                    posted += 1
                    alerted += len(flags)
                    self._last_summary[channel] = now
                continue
            for f in flags:
                if self._post(store, channel, [f], now, summary=False):
                    posted += 1
                    alerted += 1
        return DispatchResult(posted, alerted, held)

    # -- reconciliation --------------------------------------------------------------------

    def reconcile(self, store: Store) -> ReconcileResult:
        """Settle the claims in doubt now (the dispatcher does it on its own schedule)."""
        with self._lock:
            result = self._reconcile(store, self.clock())
        self.last_reconcile = result
        return result

    def _reconcile(self, store: Store, now: datetime) -> ReconcileResult:
        """Look the in-doubt claims up in their channels' history (see module docstring)."""
        opts = self.options
        rows = store_alerts.unsettled(store, now - timedelta(seconds=opts.reconcile_grace_seconds))
        if not rows:
            return ReconcileResult()
        found = reposted = unresolved = given_up = 0
        too_old = now - timedelta(hours=opts.max_age_hours)
        by_channel: dict[str, list[dict[str, Any]]] = {}
        for r in rows:
            if r["post_key"] is None or r["claimed_at"] < too_old:
                # a claim from before message metadata, or older than any alert we would
                # still send: whether it reached Slack cannot be known; never re-send
                store_alerts.give_up(store, [r["flag_id"]], r["channel"])
                given_up += 1
                continue
            by_channel.setdefault(r["channel"], []).append(r)
        if given_up:
            log.warning("%d alert(s) in doubt could not be checked against Slack and are not "
                        "re-sent (claimed before message metadata, or older than "
                        "max_age_hours)", given_up)  # fmt: skip
        for channel, chan_rows in by_channel.items():
            keys: dict[str, list[int]] = {}
            for r in chan_rows:
                keys.setdefault(r["post_key"], []).append(r["flag_id"])
            oldest = min(r["claimed_at"] for r in chan_rows) - timedelta(seconds=opts.reconcile_margin_seconds)
            try:
                ts_by_key = find_posts(self.client, channel, oldest.timestamp(), keys, sleep=self.sleep)
            except HistoryUnavailable as exc:
                unresolved += len(chan_rows)
                log.error("%d alert(s) to %s are in doubt and cannot be checked: %s; they are not "
                          "re-sent until the history can be read", len(chan_rows), channel, exc)  # fmt: skip
                continue
            for key in keys:
                if key in ts_by_key:
                    found += store_alerts.mark_posted(store, key, ts_by_key[key], settled_by="history")
                else:
                    reposted += store_alerts.release_post(store, key)
        if found or reposted:
            log.warning("alerts in doubt settled from Slack's history: %d were in the channel "
                        "(kept), %d were not (posted again)", found, reposted)  # fmt: skip
        return ReconcileResult(found, reposted, unresolved, given_up)

    # -- posting ---------------------------------------------------------------------------

    def _post(self, store: Store, channel: str, flags: list[dict[str, Any]], now: datetime,
              *, summary: bool) -> bool:  # fmt: skip
        post_key = store_alerts.new_post_key()
        ids = store_alerts.claim(store, [f["id"] for f in flags], channel, now, post_key)
        if not ids:
            return False
        mine = [f for f in flags if f["id"] in set(ids)]
        text, blocks = self.render_summary(mine) if summary or len(mine) > 1 else self.render_one(mine[0])
        try:
            resp = self._post_client.chat_postMessage(channel=channel, text=text, blocks=blocks,
                                                      metadata=alert_metadata(post_key, mine))  # fmt: skip
            ts = resp.get("ts") if hasattr(resp, "get") else None
        except Exception as exc:
            code = _slack_error(exc)
            status = _http_status(exc)
            if status is None or status >= 500:
                # No answer (timeout, dropped connection) or a server error: Slack may have
                # stored the message. Leave it in doubt; the reconciliation decides soon.
                log.warning("posting %d alert(s) to %s got no answer (%s); will check the "
                            "channel's history before posting again", len(ids), channel, exc)  # fmt: skip
                store_alerts.mark_unknown(store, post_key)
                soon = now + timedelta(seconds=self.options.reconcile_grace_seconds + 1)
                if self._next_reconcile is None or soon < self._next_reconcile:
                    self._next_reconcile = soon
                return False
            if code in PERMANENT_ERRORS:
                # Retrying cannot help (wrong channel, bot not invited, bad token): record
                # the failure so the flag is not retried every tick, and say it loudly.
                log.error("alerts to %s cannot be posted (%s): fix [alerts] routes or invite "
                          "the bot; %d flag(s) skipped", channel, code, len(ids))  # fmt: skip
                store_alerts.mark_sent(store, ids, channel, f"failed:{code}")
                return False
            log.warning("posting %d alert(s) to %s failed, will retry: %s", len(ids), channel, exc)
            store_alerts.release(store, ids, channel)
            return False
        store_alerts.mark_posted(store, post_key, str(ts or ""))
        if self.options.attach_clips and len(mine) == 1 and ts and mine[0].get("channel") == "call":
            self._attach_clip(store, channel, int(mine[0]["id"]), str(ts))
        return True

    def _attach_clip(self, store: Store, channel: str, flag_id: int, ts: str) -> None:
        """Post the flag's redacted clip into its alert's thread, where the channel's readers
        may hear calls. The alert is already posted and recorded: a clip that cannot be made
        or uploaded is a warning (the Listen button still offers it), never a lost alert."""
        from analysis.clips import ClipError
        from bot.clips import post_clip

        if self.may_hear is None or not self.may_hear(channel):
            log.info("no clip attached to the alert of flag %s: channel %s may not hear calls "
                     "(grant it supervisors in [access])", flag_id, channel)  # fmt: skip
            return
        try:
            post_clip(self.client, store, flag_id, channel, ts, actor="alerts")
        except (KeyError, ClipError) as exc:
            log.warning("no clip attached to the alert of flag %s: %s", flag_id, exc)
        except Exception as exc:  # Slack refused the upload (scope, size, network): the alert stands
            log.warning("attaching the clip of flag %s to its alert in %s failed: %s", flag_id, channel, exc)

    # -- rendering -----------------------------------------------------------------------

    def _where(self, f: dict[str, Any]) -> str:
        bits = [f"{f['channel']} #{f['interaction_id']}"]
        if f.get("agent"):
            bits.append(f"agent {bk.escape(str(f['agent']))}")
        if f.get("queue"):
            bits.append(bk.escape(str(f["queue"])))
        bits.append(bk.fmt_time(f.get("started_at"), self.tz))
        return " · ".join(bits)

    def render_one(self, f: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
        f = {**f, "summary": safety.safe(f.get("summary"))}
        sev = bk.severity_name(f["severity"])
        text = f"{sev.title()} flag {f['kind']} on {f['channel']} #{f['interaction_id']}"
        # confidence routing: a high-severity verdict its evidence is unsure of says so
        unsure = "confidence" in f and low_confidence(int(f["severity"]), f.get("confidence"))
        label = (" — low confidence (" + confidence_text(f.get("confidence")) + "): please check the "
                 "evidence before acting") if unsure else ""  # fmt: skip
        text += label
        if f.get("summary"):
            text += f": {f['summary']}"
        blocks = [
            bk.section(f"{bk.SEVERITY_ICON.get(int(f['severity']), '')} *{bk.escape(f['kind'])}* "
                       f"({sev}) — {self._where(f)}" + (f"\n:warning: *{bk.escape(label[3:])}*" if unsure else "")
                       + (f"\n{bk.escape(str(f['summary']))}" if f.get("summary") else "")),
            bk.review_buttons(int(f["id"]), int(f["interaction_id"]), listen=f.get("channel") == "call"),
            bk.context(f"Details: `/convoscope show {f['channel']} {f['interaction_id']}`"),
        ]  # fmt: skip
        return text, blocks

    def render_summary(self, flags: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
        kinds = Counter(f["kind"] for f in flags)
        parts = ", ".join(f"{n} {k}" for k, n in kinds.most_common())
        text = f"{len(flags)} new flags: {parts}"
        worst = sorted(flags, key=lambda f: (-int(f["severity"]), f["id"]))[:5]
        lines = "\n".join(
            f"• {bk.escape(f['kind'])} ({bk.severity_name(f['severity'])}) — {self._where(f)}"
            for f in worst
        )
        more = len(flags) - len(worst)
        blocks = [
            bk.section(f":rotating_light: *{len(flags)} new flags* — {bk.escape(parts)}"),
            bk.section(lines + (f"\n…and {more} more" if more > 0 else "")),
            bk.context("Many flags at once, so they are summarised. Ask `/convoscope flagged "
                       "interactions today` for the list."),
        ]  # fmt: skip
        return text, blocks
