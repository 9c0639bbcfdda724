-- Resolution per interaction (analysis/resolution.py, issue #19): resolved / unresolved /
-- pending with its confidence, the reasons and evidence, the agent's promised follow-up and
-- when it falls due, the vendor's own status, and — set by the patterns job — the later
-- contact on the same issue that turned a "resolved" into "unresolved".
CREATE TABLE interaction_resolution (
    interaction_id BIGINT PRIMARY KEY,
    verdict        VARCHAR NOT NULL,
    confidence     DOUBLE NOT NULL,
    reasons        JSON,
    evidence       JSON,
    commitment     VARCHAR,
    follow_up_due  TIMESTAMPTZ,
    vendor_status  VARCHAR,
    -- what the analysis said before a repeat contact overrode it (NULL: not overridden)
    analysed_verdict VARCHAR,
    repeat_id      BIGINT,
    updated_at     TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
);
