"""Posting the daily digest to Slack, now or on a schedule.

Each `[[digests]]` entry becomes an APScheduler 3.x `CronTrigger(hour, minute,
timezone)`: the zone is the digest's own (or the top-level one), so "08:00" stays 08:00
local across DST changes. A digest posted on day D covers day D-1 (the last complete
local day). The message is Block Kit with fallback text, followed by the 14-day chart
uploaded through Slack's external upload flow (`files.getUploadURLExternal`, POST the
bytes, `files.completeUploadExternal`), which `WebClient.files_upload_v2` performs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from analysis import digest as content
from bot import blocks as bk
from bot.options import DigestOptions, parse_hhmm
from store import audit
from store import digest as store_digest
from store.db import Store

log = logging.getLogger(__name__)
CHANNEL_NOUN = {"call": "Calls", "email": "Emails", "chat": "Chats"}


@dataclass(frozen=True, slots=True)
class Posted:
    channel: str
    day: date
    message_ts: str | None
    file_id: str | None


def digest_blocks(d: content.Digest, tz: ZoneInfo) -> tuple[str, list[dict[str, Any]]]:
    text = "\n".join(content.summary_lines(d))
    fields = []
    for ch in content.CHANNELS:
        now, before = d.volumes.get(ch, 0), d.volumes_before.get(ch, 0)
        fields.append({"type": "mrkdwn", "text": f"*{CHANNEL_NOUN[ch]}*\n{now} ({now - before:+d})"})
    sent = "–" if d.sentiment is None else f"{d.sentiment:+.2f}"
    if d.sentiment_change is not None:
        sent += f" ({d.sentiment_change:+.2f})"
    fields.append({"type": "mrkdwn", "text": f"*Avg customer sentiment*\n{sent}"})
    if d.sentiment_agent is not None:
        fields.append({"type": "mrkdwn", "text": f"*Avg agent sentiment*\n{d.sentiment_agent:+.2f}"})
    blocks: list[dict[str, Any]] = [
        bk.header(f"Convoscope daily digest — {d.day.strftime('%a %d %b %Y')}"),
        {"type": "section", "fields": fields},
    ]
    if d.top_topics:
        blocks.append(bk.section("*Top topics*\n" + "\n".join(
            f"{i + 1}. {bk.escape(t)} — {n}" for i, (t, n) in enumerate(d.top_topics))))  # fmt: skip
    if d.rising:
        blocks.append(bk.section("*Rising issues*\n" + "\n".join(
            f"• {bk.escape(str(r['topic']))}: {r['before']} → {r['count']}" for r in d.rising)))  # fmt: skip
    if d.angriest:
        blocks.append(bk.section("*Angriest interactions*\n" + "\n".join(
            f"• {a['channel']} #{a['id']} — anger {a['anger']:.2f}, sentiment {bk.fmt_num(a['sentiment'])}"
            + (f", agent {bk.escape(str(a['agent']))}" if a["agent"] else "")
            + (f", {bk.escape(str(a['topic']))}" if a["topic"] else "")
            for a in d.angriest)))  # fmt: skip
    comp = f"*Compliance violations awaiting review: {d.compliance_open}*"
    if d.compliance:
        comp += "\n" + "\n".join(
            f"• {bk.escape(c['kind'])} ({bk.severity_name(c['severity'])}) — {c['channel']} "
            f"#{c['interaction_id']}, {bk.fmt_time(c['started_at'], tz)}" for c in d.compliance)  # fmt: skip
    blocks.append(bk.section(comp))
    if d.repeats:
        blocks.append(bk.section("*Repeat contacts*\n" + "\n".join(
            f"• {r['contacts']} contacts: " + ", ".join(f"#{i}" for i in r["interaction_ids"][:6])
            + f" ({'/'.join(r['channels'])})" for r in d.repeats)))  # fmt: skip
    blocks.append(bk.context(f"Day {d.day.isoformat()} in {d.timezone}. Ask me for details, "
                             "e.g. `/convoscope show call 123`."))  # fmt: skip
    return text, blocks


def post_digest(store: Store, client: Any, channel: str, day: date, tz: ZoneInfo, *,
                chart: bool = True) -> Posted:  # fmt: skip
    """Build the digest for `day` and post it (message, then the chart) to `channel`."""
    d = content.build(store, day, tz)
    text, blocks = digest_blocks(d, tz)
    resp = client.chat_postMessage(channel=channel, text=text, blocks=blocks)
    ts = resp.get("ts")
    file_id = None
    if chart:
        png = content.chart_png(d)
        up = client.files_upload_v2(
            channel=channel, content=png, filename=f"convoscope-{day.isoformat()}.png",
            title=f"Convoscope — last 14 days to {day.isoformat()}",
        )  # fmt: skip
        files = up.get("files") or []
        file_id = files[0]["id"] if files else None
    audit.log(store, "convoscope", "digest.post", channel, {"day": day.isoformat(), "ts": ts})
    return Posted(channel, day, ts, file_id)


def digest_trigger(opts: DigestOptions, default_tz: ZoneInfo) -> Any:
    """The APScheduler CronTrigger of one digest (its zone, or the top-level one)."""
    from apscheduler.triggers.cron import CronTrigger

    at = parse_hhmm(opts.time, "digests.time")
    return CronTrigger(hour=at.hour, minute=at.minute, timezone=ZoneInfo(opts.timezone) if opts.timezone else default_tz)


def schedule_digests(scheduler: Any, store: Store, client: Any, digests: Sequence[DigestOptions],
                     tz: ZoneInfo, *,
                     clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> list[str]:  # fmt: skip
    """Add one cron job per digest; returns the job ids. Each run posts the digest of the
    local day before the run (per `clock`).

    Catch-up: the scheduler keeps its jobs in memory, so a service that was down at
    digest time would skip that day. When today's time has already passed and the audit
    log shows no digest for yesterday in that channel, one is posted right away.
    """
    ids = []
    for i, opts in enumerate(digests):
        zone = ZoneInfo(opts.timezone) if opts.timezone else tz
        job_id = f"convoscope.digest.{i}.{opts.channel}"

        def run(opts: DigestOptions = opts, zone: ZoneInfo = zone) -> None:
            day = clock().astimezone(zone).date() - timedelta(days=1)
            try:
                post_digest(store, client, opts.channel, day, zone, chart=opts.chart)
            except Exception:
                log.exception("digest for %s to %s failed", day, opts.channel)

        scheduler.add_job(run, digest_trigger(opts, tz), id=job_id, replace_existing=True,
                          misfire_grace_time=3600, coalesce=True, max_instances=1)  # fmt: skip
        ids.append(job_id)
        local_now = clock().astimezone(zone)
        due = local_now.time() >= parse_hhmm(opts.time, "digests.time")
        yesterday = local_now.date() - timedelta(days=1)
        if due and yesterday not in store_digest.posted_days(store, opts.channel, yesterday):
            scheduler.add_job(run, "date", run_date=datetime.now(UTC), id=f"{job_id}.catchup",
                              replace_existing=True, misfire_grace_time=3600)  # fmt: skip
            ids.append(f"{job_id}.catchup")
    return ids
