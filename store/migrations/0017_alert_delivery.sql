-- Alerts exactly once (bot/alerts.py, store/alerts.py). Each alerts_sent row now records
-- which Slack message attempt it belongs to and where that attempt stands:
--   post_key  a random id sent in the message's metadata (event_payload.post_key); all
--             flags of one message (a burst summary) share it, so a message found in the
--             channel's history settles every flag it covers
--   state     claimed  - committed before chat.postMessage; the answer is not in yet
--             unknown  - the request left but no answer came (timeout, dropped connection)
--             posted   - Slack answered with the ts, or the message was found in history
--             failed   - Slack refused it for good (message_ts = 'failed:<error>')
--             given_up - in doubt and cannot be settled (an old row without a post_key, or
--                        one past max_age_hours): never re-sent, logged
--   settled_by reply | history (found by reconciliation) | NULL
ALTER TABLE alerts_sent ADD COLUMN post_key VARCHAR;
ALTER TABLE alerts_sent ADD COLUMN state VARCHAR;
ALTER TABLE alerts_sent ADD COLUMN settled_by VARCHAR;
UPDATE alerts_sent SET state = CASE
    WHEN message_ts IS NULL THEN 'given_up'
    WHEN message_ts LIKE 'failed:%' THEN 'failed'
    ELSE 'posted' END;
