-- Personal data (issue 12, part B): one outbound boundary, erasure suppression, retention.
--
-- The boundary: everything that leaves the store (Slack, the API, exports, the TUI's default
-- view, digests, pattern mining) reads these views, never `turns.text` or raw headers.
-- `outbound_turns.text` is the analysis' redacted text (NULL until analysis has redacted the
-- turn: callers withhold it). Free-text header fields that analysis does not redact (e-mail
-- subjects, sender names/addresses, flag summaries quoting matched words) go through
-- `pii_mask`, a conservative mask: e-mail addresses, any run of 5+ digits with separators,
-- and runs of 4+ spoken digit words.
CREATE OR REPLACE MACRO pii_mask(s) AS
    regexp_replace(
        regexp_replace(
            regexp_replace(s, '[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+', '[PII:EMAIL]', 'g'),
            '\+?\d[\d ()./-]{3,}\d', '[PII]', 'g'),
        '\b(zero|oh|one|two|three|four|five|six|seven|eight|nine|double|triple)(\W+(zero|oh|one|two|three|four|five|six|seven|eight|nine|double|triple)){3,}\b',
        '[PII]', 'gi');

CREATE VIEW outbound_turns AS
SELECT t.interaction_id, t.seq, t.speaker, pii_mask(t.speaker_name) AS speaker_name,
       t.start_s, t.end_s, t.sent_at, ts.redacted_text AS text
FROM turns t
LEFT JOIN turn_scores ts ON ts.interaction_id = t.interaction_id AND ts.seq = t.seq;

-- Interactions without customer, customer_key, raw_ref or metadata (identifiers and
-- sidecar fields), with the subject masked.
CREATE VIEW outbound_interactions AS
SELECT id, channel, source, version, started_at, ended_at, duration, agent, queue, direction,
       pii_mask(subject) AS subject, language, status, status_reason, ingested_at, updated_at
FROM interactions;

-- Erased (source, external id) and (source, e-mail message key) pairs, as SHA-256 hashes
-- (the list must not itself hold the personal data): ingest skips them, so a source that
-- still holds an erased conversation does not bring it back.
CREATE TABLE erasure_suppressions (
    key_hash  VARCHAR PRIMARY KEY,
    kind      VARCHAR NOT NULL,                -- 'interaction' | 'email_message'
    erased_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
);

-- What the retention job has already removed per interaction (so a re-run does no work
-- twice and a report can say what is gone). Aggregates (scores, flags, pattern counts)
-- are not listed: they are kept unless `aggregates_days` is set.
CREATE TABLE retention_state (
    interaction_id      BIGINT PRIMARY KEY,
    audio_deleted_at    TIMESTAMPTZ,
    original_deleted_at TIMESTAMPTZ,
    redacted_deleted_at TIMESTAMPTZ
);
