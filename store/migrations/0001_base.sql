-- Convoscope base schema. One row per interaction; turns, scores and flags hang off it.
-- Write ownership: connectors write interactions/turns/sync_state/quarantine;
-- analysis writes turn_scores/scores/flags/clusters and the interaction status;
-- bot writes alerts_sent; reviews (bot, TUI, API) update flag review columns; all write audit_log.

CREATE SEQUENCE IF NOT EXISTS interaction_id_seq START 1;
CREATE TABLE interactions (
    id             BIGINT PRIMARY KEY DEFAULT nextval('interaction_id_seq'),
    channel        VARCHAR NOT NULL CHECK (channel IN ('call', 'email', 'chat')),
    source         VARCHAR NOT NULL,
    external_id    VARCHAR NOT NULL,
    version        INTEGER NOT NULL DEFAULT 1,
    started_at     TIMESTAMPTZ,
    ended_at       TIMESTAMPTZ,
    duration       DOUBLE,
    agent          VARCHAR,
    customer       VARCHAR,
    customer_key   VARCHAR,
    queue          VARCHAR,
    direction      VARCHAR,
    subject        VARCHAR,
    language       VARCHAR,
    status         VARCHAR NOT NULL DEFAULT 'new',
    status_reason  VARCHAR,
    attempts       INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ,
    content_hash   VARCHAR NOT NULL,
    raw_ref        VARCHAR,
    metadata       JSON,
    ingested_at    TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
    updated_at     TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
    UNIQUE (source, external_id)
);

CREATE TABLE turns (
    interaction_id BIGINT NOT NULL,
    seq            INTEGER NOT NULL,
    speaker        VARCHAR NOT NULL,
    speaker_name   VARCHAR,
    start_s        DOUBLE,
    end_s          DOUBLE,
    sent_at        TIMESTAMPTZ,
    text           VARCHAR NOT NULL,
    words          JSON,
    channel_index  INTEGER,
    meta           JSON,
    PRIMARY KEY (interaction_id, seq)
);

CREATE TABLE turn_scores (
    interaction_id BIGINT NOT NULL,
    seq            INTEGER NOT NULL,
    sentiment      DOUBLE,
    sentiment_label VARCHAR,
    anger          DOUBLE,
    loudness       DOUBLE,
    redacted_text  VARCHAR,
    emotions       JSON,
    PRIMARY KEY (interaction_id, seq)
);

CREATE TABLE scores (
    interaction_id     BIGINT PRIMARY KEY,
    version            INTEGER NOT NULL,
    analysed_at        TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
    sentiment          DOUBLE,
    sentiment_agent    DOUBLE,
    sentiment_customer DOUBLE,
    customer_trend     DOUBLE[],
    agent_trend        DOUBLE[],
    anger              DOUBLE,
    metrics            JSON,
    topics             JSON,
    keywords           VARCHAR[],
    top_topic          VARCHAR,
    cluster_id         BIGINT,
    model              VARCHAR
);

CREATE SEQUENCE IF NOT EXISTS flag_id_seq START 1;
CREATE TABLE flags (
    id             BIGINT PRIMARY KEY DEFAULT nextval('flag_id_seq'),
    interaction_id BIGINT NOT NULL,
    kind           VARCHAR NOT NULL,
    rule           VARCHAR,
    dedupe_key     VARCHAR NOT NULL UNIQUE,
    severity       SMALLINT NOT NULL CHECK (severity BETWEEN 1 AND 4),
    score          DOUBLE,
    summary        VARCHAR,
    evidence       JSON,
    active         BOOLEAN NOT NULL DEFAULT TRUE,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
    review_status  VARCHAR NOT NULL DEFAULT 'open' CHECK (review_status IN ('open', 'confirmed', 'dismissed')),
    reviewer       VARCHAR,
    review_reason  VARCHAR,
    reviewed_at    TIMESTAMPTZ
);

CREATE TABLE sync_state (
    source     VARCHAR NOT NULL,
    key        VARCHAR NOT NULL,
    cursor     JSON,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
    PRIMARY KEY (source, key)
);

CREATE SEQUENCE IF NOT EXISTS quarantine_id_seq START 1;
CREATE TABLE quarantine (
    id         BIGINT PRIMARY KEY DEFAULT nextval('quarantine_id_seq'),
    source     VARCHAR NOT NULL,
    item_key   VARCHAR NOT NULL,
    reason     VARCHAR NOT NULL,
    raw_ref    VARCHAR,
    excerpt    VARCHAR,
    attempts   INTEGER NOT NULL DEFAULT 1,
    first_seen TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
    last_seen  TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
    UNIQUE (source, item_key)
);

CREATE TABLE alerts_sent (
    flag_id    BIGINT NOT NULL,
    channel    VARCHAR NOT NULL,
    message_ts VARCHAR,
    sent_at    TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
    PRIMARY KEY (flag_id, channel)
);

CREATE SEQUENCE IF NOT EXISTS audit_id_seq START 1;
CREATE TABLE audit_log (
    id     BIGINT PRIMARY KEY DEFAULT nextval('audit_id_seq'),
    at_time TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
    actor  VARCHAR NOT NULL,
    action VARCHAR NOT NULL,
    target VARCHAR,
    detail JSON
);

CREATE TABLE clusters (
    id         BIGINT PRIMARY KEY,
    label      VARCHAR,
    terms      VARCHAR[],
    size       INTEGER NOT NULL DEFAULT 0,
    examples   BIGINT[],
    created_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
);

-- No secondary ART indexes: DuckDB's zone maps serve range scans on started_at, and an
-- index on a column turns every UPDATE of it into delete+insert.
