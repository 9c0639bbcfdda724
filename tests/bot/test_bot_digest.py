"""Daily digest: its numbers, posting with the chart upload flow, cron across DST."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from slackhttp import TZ

from analysis import digest as content
from bot.digest import digest_trigger, post_digest, schedule_digests
from bot.options import DigestOptions
from store.db import Store


def _client(fake: Any) -> Any:
    from slack_sdk import WebClient

    return WebClient(token="xoxb-test", base_url=fake.api_url)


def test_digest_content_matches_the_data(store: Store, seeded: Any, now: datetime) -> None:
    day = now.astimezone(TZ).date() - timedelta(days=1)
    d = content.build(store, day, TZ)
    on = lambda d_: [i for i in seeded.by_id.values() if i["started_at"].astimezone(TZ).date() == d_]  # noqa: E731
    expect = {}
    for i in on(day):
        expect[i["channel"]] = expect.get(i["channel"], 0) + 1
    assert d.volumes == expect
    assert d.total_before == len(on(day - timedelta(days=1)))
    assert len(d.series) == 14 and d.series[-1]["day"] == day
    assert sum(d.series[-1]["counts"].values()) == d.total
    comp_open = sum(1 for i in seeded.by_id.values()
                    if any(k.startswith("compliance") for k, _ in i["flags"])
                    and i["started_at"] < content.day_bounds(day, TZ)[1])  # fmt: skip
    assert d.compliance_open == comp_open
    assert d.angriest and d.angriest[0]["anger"] >= d.angriest[-1]["anger"]
    assert d.top_topics and all(n >= 1 for _t, n in d.top_topics)
    json.dumps(d.to_json())  # serialisable
    assert content.chart_png(d).startswith(b"\x89PNG")


def test_post_digest_uploads_the_chart(store: Store, seeded: Any, fake: Any, now: datetime) -> None:
    day = now.astimezone(TZ).date()
    posted = post_digest(store, _client(fake), "C_DIGEST", day, TZ)
    (msg,) = fake.of("chat.postMessage")
    assert msg.args["channel"] == "C_DIGEST" and msg.args["text"].startswith("Convoscope digest for")
    assert msg.args["blocks"][0]["type"] == "header"
    assert "4111" not in json.dumps(msg.args)
    (get_url,) = fake.of("files.getUploadURLExternal")
    assert get_url.args["filename"].endswith(".png") and int(get_url.args["length"]) > 1000
    (upload,) = fake.of("upload")
    assert upload.raw.startswith(b"\x89PNG")
    (done,) = fake.of("files.completeUploadExternal")
    assert done.args["channel_id"] == "C_DIGEST"
    assert posted.file_id == upload.args["file_id"] and posted.message_ts == msg.args.get("ts", posted.message_ts)


def test_digest_cron_keeps_local_time_across_dst() -> None:
    trig = digest_trigger(DigestOptions(channel="C1", time="08:00", timezone="Europe/Berlin"), ZoneInfo("UTC"))
    fires = []
    prev = None
    now = datetime(2026, 3, 27, 12, 0, tzinfo=UTC)
    for _ in range(3):
        nxt = trig.get_next_fire_time(prev, now)
        fires.append(nxt.astimezone(UTC))
        prev, now = nxt, nxt
    # 08:00 Berlin is 07:00 UTC before the spring change (29 March 2026) and 06:00 after.
    assert fires == [datetime(2026, 3, 28, 7, 0, tzinfo=UTC), datetime(2026, 3, 29, 6, 0, tzinfo=UTC),
                     datetime(2026, 3, 30, 6, 0, tzinfo=UTC)]  # fmt: skip
    autumn = trig.get_next_fire_time(None, datetime(2026, 10, 24, 12, 0, tzinfo=UTC))
    assert autumn.astimezone(UTC) == datetime(2026, 10, 25, 7, 0, tzinfo=UTC)  # back to CET
    # No zone on the digest: the top-level one.
    trig2 = digest_trigger(DigestOptions(channel="C1", time="07:30"), ZoneInfo("America/New_York"))
    got = trig2.get_next_fire_time(None, datetime(2026, 11, 1, 10, 0, tzinfo=UTC))
    assert got.astimezone(UTC) == datetime(2026, 11, 1, 12, 30, tzinfo=UTC)  # EST, the day DST ends


def test_scheduled_job_posts_yesterday(store: Store, seeded: Any, fake: Any) -> None:
    from apscheduler.schedulers.background import BackgroundScheduler

    fire = datetime(2026, 3, 29, 6, 0, 5, tzinfo=UTC)  # 08:00:05 in Berlin, the DST day
    sched = BackgroundScheduler(timezone=TZ)
    ids = schedule_digests(sched, store, _client(fake),
                           [DigestOptions(channel="C_D", time="08:00", timezone="Europe/Berlin", chart=False)],
                           TZ, clock=lambda: fire)  # fmt: skip
    job = sched.get_job(ids[0])
    assert job is not None
    job.func()
    (msg,) = fake.of("chat.postMessage")
    assert "2026-03-28" in msg.args["text"]  # the day before, in Berlin
    assert fake.of("files.getUploadURLExternal") == []  # chart = false


def test_missed_digest_is_caught_up_once(store: Store, seeded: Any, fake: Any) -> None:
    from apscheduler.schedulers.background import BackgroundScheduler

    opts = [DigestOptions(channel="C_D", time="08:00", timezone="Europe/Berlin", chart=False)]
    nine = datetime(2026, 3, 30, 7, 0, tzinfo=UTC)  # 09:00 in Berlin: 08:00 has passed
    sched = BackgroundScheduler(timezone=TZ)
    ids = schedule_digests(sched, store, _client(fake), opts, TZ, clock=lambda: nine)
    catchup = [i for i in ids if i.endswith(".catchup")]
    assert len(catchup) == 1
    sched.get_job(catchup[0]).func()  # what the scheduler runs at start
    assert "2026-03-29" in fake.of("chat.postMessage")[0].args["text"]
    # a restart the same morning: yesterday's digest is in the audit log, nothing to catch up
    again = schedule_digests(BackgroundScheduler(timezone=TZ), store, _client(fake), opts, TZ,
                             clock=lambda: nine)  # fmt: skip
    assert not [i for i in again if i.endswith(".catchup")]
    # before digest time there is nothing to catch up either
    seven = datetime(2026, 3, 31, 5, 0, tzinfo=UTC)  # 07:00 in Berlin
    early = schedule_digests(BackgroundScheduler(timezone=TZ), store, _client(fake), opts, TZ,
                             clock=lambda: seven)  # fmt: skip
    assert not [i for i in early if i.endswith(".catchup")]
