-- Reviews that count (issue 13): a review revision for optimistic checks, a confidence per
-- verdict, agents' contests, and per-user API tokens carrying a role.
-- `review_rev` grows by one on every review change; a reviewer's change names the revision
-- it was made against and is refused when the flag moved on in between (store/reviews.py).
-- Only two ALTERs on `flags`: DuckDB 1.5 fails to commit a third ALTER of a populated table
-- in one transaction ("another transaction has altered this table"), so contests live in
-- their own table.
ALTER TABLE flags ADD COLUMN review_rev INTEGER DEFAULT 0;
ALTER TABLE flags ADD COLUMN confidence DOUBLE;

-- The latest contest of a flag by its agent; `open` until a verdict settles it.
CREATE TABLE flag_contests (
    flag_id      BIGINT PRIMARY KEY,
    reason       VARCHAR NOT NULL,
    contested_by VARCHAR NOT NULL,
    contested_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
    open         BOOLEAN NOT NULL DEFAULT TRUE
);

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
