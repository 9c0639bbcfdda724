-- Full-text search (store/search.py). One document per analysed interaction: the redacted
-- text of its turns (never the raw text, so search cannot surface PII). The FTS index is a
-- snapshot rebuilt in bulk by refresh_search_index (kept as the derived, term-sorted tables
-- search_postings and search_stats); documents written since the last rebuild have
-- in_index = FALSE and are found by a scan until the next rebuild.
CREATE TABLE search_docs (
    interaction_id BIGINT PRIMARY KEY,
    analysed_at    TIMESTAMPTZ,
    body           VARCHAR NOT NULL,
    in_index       BOOLEAN NOT NULL DEFAULT FALSE
);
