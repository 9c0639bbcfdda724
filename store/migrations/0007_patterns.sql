-- Pattern recognition (analysis/patterns): clusters, rising issues, repeat contacts,
-- traits of low-satisfaction interactions, best agent phrases, conversation stages and
-- QA scorecards. Written only by analysis/patterns through store/patterns.py.

-- One embedding per interaction (customer side), so a re-cluster never re-encodes text
-- that did not change (text_hash) and incremental assignment is a matrix product.
CREATE TABLE interaction_embeddings (
    interaction_id BIGINT PRIMARY KEY,
    model          VARCHAR NOT NULL,
    text_hash      VARCHAR NOT NULL,
    embedding      FLOAT[384] NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
);

-- The centroid and acceptance threshold of each cluster (clusters is in 0001_base).
-- Retired clusters keep their row (active = FALSE) so ids are never reused.
ALTER TABLE clusters ADD COLUMN centroid FLOAT[384];
ALTER TABLE clusters ADD COLUMN threshold DOUBLE;
ALTER TABLE clusters ADD COLUMN active BOOLEAN DEFAULT TRUE;

-- Which cluster each interaction belongs to (-1 = noise), and how it got there.
CREATE TABLE cluster_members (
    interaction_id BIGINT PRIMARY KEY,
    cluster_id     BIGINT NOT NULL,
    similarity     DOUBLE,
    assigned_by    VARCHAR NOT NULL,          -- 'recluster' | 'incremental'
    assigned_at    TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
);

-- Daily counts per dimension ('cluster' | 'topic' | 'flag') and key.
CREATE TABLE pattern_daily_counts (
    day       DATE NOT NULL,
    dimension VARCHAR NOT NULL,
    key       VARCHAR NOT NULL,
    n         INTEGER NOT NULL,
    PRIMARY KEY (day, dimension, key)
);

-- Every rise that was tested and found clear; the `trend` flag carries the alert.
CREATE TABLE pattern_trends (
    day            DATE NOT NULL,
    dimension      VARCHAR NOT NULL,
    key            VARCHAR NOT NULL,
    label          VARCHAR NOT NULL,
    n              INTEGER NOT NULL,
    baseline       DOUBLE NOT NULL,
    ratio          DOUBLE NOT NULL,
    z              DOUBLE NOT NULL,
    p_value        DOUBLE NOT NULL,
    interaction_id BIGINT,
    flag_id        BIGINT,
    summary        VARCHAR NOT NULL,
    detected_at    TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
    PRIMARY KEY (day, dimension, key)
);

-- An interaction that is a repeat of an earlier one by the same customer.
CREATE TABLE repeat_contacts (
    interaction_id BIGINT PRIMARY KEY,
    previous_id    BIGINT NOT NULL,
    first_id       BIGINT NOT NULL,
    customer_key   VARCHAR NOT NULL,
    matched_on     VARCHAR NOT NULL,           -- 'topic' | 'cluster'
    match_value    VARCHAR,
    gap_hours      DOUBLE NOT NULL,
    contact_number INTEGER NOT NULL            -- 2 for the first repeat, 3 for the next...
);

-- First contacts (the start of an issue) and whether they were resolved without a repeat.
CREATE TABLE contact_resolution (
    interaction_id BIGINT PRIMARY KEY,
    customer_key   VARCHAR NOT NULL,
    started_at     TIMESTAMPTZ,
    agent          VARCHAR,
    queue          VARCHAR,
    topic          VARCHAR,
    repeats        INTEGER NOT NULL,
    resolved       BOOLEAN NOT NULL
);

-- What separates low- from high-satisfaction interactions (scope 'all' or 'queue:<name>').
CREATE TABLE pattern_traits (
    scope      VARCHAR NOT NULL,
    kind       VARCHAR NOT NULL,               -- 'topic' | 'metric' | 'phrase'
    feature    VARCHAR NOT NULL,
    statistic  VARCHAR NOT NULL,               -- 'odds_ratio' | 'cohen_d' | 'log_odds_z'
    effect     DOUBLE NOT NULL,
    ci_low     DOUBLE,
    ci_high    DOUBLE,
    value_low  DOUBLE,                         -- mean / share / count in low-satisfaction
    value_high DOUBLE,                         -- ... in high-satisfaction
    n_low      INTEGER NOT NULL,
    n_high     INTEGER NOT NULL,
    rank       INTEGER NOT NULL,
    computed_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
    PRIMARY KEY (scope, kind, feature)
);

-- Agent phrases over-represented in good interactions (scope 'all' | 'topic:<t>' | 'queue:<q>').
CREATE TABLE pattern_phrases (
    scope      VARCHAR NOT NULL,
    phrase     VARCHAR NOT NULL,
    z          DOUBLE NOT NULL,
    delta      DOUBLE NOT NULL,
    count_good INTEGER NOT NULL,
    count_bad  INTEGER NOT NULL,
    n_good     INTEGER NOT NULL,
    n_bad      INTEGER NOT NULL,
    rank       INTEGER NOT NULL,
    computed_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
    PRIMARY KEY (scope, phrase)
);

-- Conversation stage orders seen in good vs bad interactions.
CREATE TABLE pattern_stage_orders (
    outcome  VARCHAR NOT NULL,                 -- 'good' | 'bad'
    sequence VARCHAR NOT NULL,                 -- e.g. 'greeting>discovery>solution>close'
    n        INTEGER NOT NULL,
    share    DOUBLE NOT NULL,
    rank     INTEGER NOT NULL,
    computed_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
    PRIMARY KEY (outcome, sequence)
);

-- One QA scorecard evaluation per interaction and form.
CREATE TABLE scorecard_results (
    interaction_id BIGINT NOT NULL,
    scorecard      VARCHAR NOT NULL,
    agent          VARCHAR,
    queue          VARCHAR,
    started_at     TIMESTAMPTZ,
    score          DOUBLE,                     -- 0..100; NULL when every question was n.a.
    answered       INTEGER NOT NULL,
    not_applicable INTEGER NOT NULL,
    answers        JSON NOT NULL,
    computed_at    TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
    PRIMARY KEY (interaction_id, scorecard)
);
