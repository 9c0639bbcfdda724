-- Leases on work (issue #17): a driver that sends a batch of interactions to a Ray cluster
-- first leases them, so a second driver (another `serve`, a one-shot `analyze --ray`) skips
-- them until the lease is released or expires (a killed driver's leases simply run out).
-- One row per (stage, interaction); `batch` groups the rows one claim took, so a batch is
-- renewed and released as one. Claims are a keyed anti-join inside one transaction
-- (store/leases.py), which is how a DuckLake catalog without unique constraints can keep it.
CREATE TABLE work_leases (
    stage          VARCHAR NOT NULL,
    interaction_id BIGINT NOT NULL,
    holder         VARCHAR NOT NULL,
    batch          VARCHAR NOT NULL,
    leased_at      TIMESTAMPTZ NOT NULL,
    expires_at     TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (stage, interaction_id)
);
