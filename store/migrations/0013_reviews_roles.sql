-- Reviews that count (issue 13): a review revision for optimistic checks, contests by
-- agents, a confidence per verdict, and per-user API tokens carrying a role.
-- `review_rev` grows by one on every review change; a reviewer's change names the revision
-- it was made against and is refused when the flag moved on in between (store/reviews.py).
ALTER TABLE flags ADD COLUMN review_rev INTEGER DEFAULT 0;
ALTER TABLE flags ADD COLUMN contested BOOLEAN DEFAULT FALSE;
ALTER TABLE flags ADD COLUMN contest_reason VARCHAR;
ALTER TABLE flags ADD COLUMN contested_by VARCHAR;
ALTER TABLE flags ADD COLUMN confidence DOUBLE;

-- One row per person who may call the local API. Only a SHA-256 of the token is kept;
-- `token_prefix` (the token's public first part) finds the row without scanning hashes.
CREATE SEQUENCE IF NOT EXISTS api_user_id_seq START 1;
CREATE TABLE api_users (
    id           BIGINT PRIMARY KEY DEFAULT nextval('api_user_id_seq'),
    name         VARCHAR NOT NULL,
    role         VARCHAR NOT NULL,
    agent        VARCHAR,
    token_prefix VARCHAR NOT NULL UNIQUE,
    token_hash   VARCHAR NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
    revoked_at   TIMESTAMPTZ
);
