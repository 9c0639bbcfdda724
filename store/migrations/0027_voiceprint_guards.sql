-- One row per agent whose voiceprint was ever enrolled or erased, named only by the
-- agent's digest (store/speakers.py `agent_digest`). Enrolment and erasure both rewrite
-- this row (DELETE + INSERT of the same key) in their own transaction, so when the two
-- run at once on the DuckDB file — a first enrolment has no voiceprint row yet for the
-- erasure's DELETE to collide with — one of them fails at commit as a conflict and is
-- retried (`Store.retrying`), seeing the other's result: the erasure then deletes the new
-- print, or the enrolment finds the suppression. On a lake writers already take turns.
CREATE TABLE voiceprint_guards (
    key_hash   VARCHAR PRIMARY KEY,
    touched_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
);
