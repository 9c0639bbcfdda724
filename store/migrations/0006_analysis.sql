-- Analysis (issue 4): the headline metrics as columns, so the bot, the TUI and pattern jobs
-- can filter ("calls with more than 30 s of silence") without parsing scores.metrics JSON,
-- and a fingerprint of what produced a score (rules, taxonomy, models) so a rescore can tell
-- stale rows. The full metric set stays in scores.metrics.
ALTER TABLE scores ADD COLUMN non_talk_seconds DOUBLE;
ALTER TABLE scores ADD COLUMN non_talk_pct DOUBLE;
ALTER TABLE scores ADD COLUMN interruptions INTEGER;
ALTER TABLE scores ADD COLUMN agent_talk_ratio DOUBLE;
ALTER TABLE scores ADD COLUMN first_response_seconds DOUBLE;
ALTER TABLE scores ADD COLUMN analysis_key VARCHAR;
