-- Full-text search (store/search.py). One document per analysed interaction: the redacted
-- text of its turns (never the raw text, so search cannot surface PII). DuckDB's FTS index
-- (schema fts_main_search_docs) is static, so it is rebuilt in bulk; documents written since
-- the last rebuild have in_index = FALSE and are found by a scan until the next rebuild.
CREATE TABLE search_docs (
    interaction_id BIGINT PRIMARY KEY,
    analysed_at    TIMESTAMPTZ,
    body           VARCHAR NOT NULL,
    in_index       BOOLEAN NOT NULL DEFAULT FALSE
);
