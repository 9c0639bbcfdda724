-- Replay protection for the Slack HTTP endpoint (bot/guard.py, store/replay.py): keys of
-- recently accepted requests ("sig:<signature>", "event:<event_id>"), so a second bot
-- instance sharing this store refuses a replayed request and ignores a retried event that
-- the first already ran. Rows expire (expires_at) and are purged by store.replay.
CREATE TABLE slack_seen (
    key        VARCHAR PRIMARY KEY,
    seen_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at TIMESTAMPTZ NOT NULL
);
