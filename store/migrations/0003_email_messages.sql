-- Email: one row per ingested message, so that a thread can be rebuilt as one interaction
-- (each message a turn) when it gains a message, and so that a UIDVALIDITY reset or the
-- same message in two folders never creates a duplicate. `message_id` is the Message-ID
-- (or 'sha256:<hash>' when it has none); `message_key` equals it unless two different
-- messages share one Message-ID, then it is '<id>#<hash prefix>'. `thread_key` is the
-- interaction's external_id. No secondary indexes (see 0001): lookups scan by source.
CREATE TABLE email_messages (
    source        VARCHAR NOT NULL,
    message_key   VARCHAR NOT NULL,
    message_id    VARCHAR NOT NULL,
    content_hash  VARCHAR NOT NULL,
    thread_key    VARCHAR NOT NULL,
    sent_at       TIMESTAMPTZ NOT NULL,
    from_addr     VARCHAR NOT NULL,
    from_name     VARCHAR,
    to_addrs      VARCHAR[],
    cc_addrs      VARCHAR[],
    subject       VARCHAR,
    norm_subject  VARCHAR,
    customer_key  VARCHAR,
    text          VARCHAR NOT NULL,
    meta          JSON,
    raw_ref       VARCHAR,
    ingested_at   TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
    PRIMARY KEY (source, message_key)
);
