-- The first schema: sources, catalog, passes, articles, matches, failures.
-- No primary keys or secondary indexes: DuckDB blocks some later ALTERs on indexed
-- tables, and every write already deduplicates with an anti-join.

CREATE TABLE sources (
    name        VARCHAR NOT NULL,
    kind        VARCHAR NOT NULL,
    url         VARCHAR NOT NULL,
    is_sample   BOOLEAN NOT NULL,
    enabled     BOOLEAN NOT NULL,
    updated_at  TIMESTAMP NOT NULL
);

CREATE TABLE claims (
    id             VARCHAR NOT NULL,
    text           VARCHAR NOT NULL,
    kind           VARCHAR NOT NULL,
    variants       VARCHAR[] NOT NULL,
    document       VARCHAR,
    attributed_to  VARCHAR,
    said_on        VARCHAR,
    tags           VARCHAR[] NOT NULL,
    threshold      DOUBLE,
    in_catalog     BOOLEAN NOT NULL,   -- false once removed from the claims file
    updated_at     TIMESTAMP NOT NULL
);

CREATE TABLE runs (
    run_id          VARCHAR NOT NULL,
    started_at      TIMESTAMP NOT NULL,
    finished_at     TIMESTAMP NOT NULL,
    status          VARCHAR NOT NULL,  -- 'completed' or 'completed with failures'
    sources_total   INTEGER NOT NULL,
    sources_failed  INTEGER NOT NULL,
    items_seen      INTEGER NOT NULL,
    pages_skipped   INTEGER NOT NULL,  -- already stored, not fetched again
    pages_fetched   INTEGER NOT NULL,
    articles_new    INTEGER NOT NULL,
    matches_new     INTEGER NOT NULL,
    failures        INTEGER NOT NULL
);

CREATE TABLE articles (
    url             VARCHAR NOT NULL,  -- normalised URL the article was found under
    final_url       VARCHAR NOT NULL,  -- after redirects
    canonical_url   VARCHAR,
    source          VARCHAR NOT NULL,
    is_sample       BOOLEAN NOT NULL,
    outlet          VARCHAR NOT NULL,
    title           VARCHAR,
    author          VARCHAR,
    text            VARCHAR NOT NULL,
    language        VARCHAR,
    published_at    TIMESTAMP,         -- UTC
    fetched_at      TIMESTAMP NOT NULL,
    content_sha256  VARCHAR NOT NULL,
    run_id          VARCHAR NOT NULL
);

CREATE TABLE matches (
    article_url   VARCHAR NOT NULL,
    claim_id      VARCHAR NOT NULL,
    score         DOUBLE NOT NULL,     -- 0-100
    field         VARCHAR NOT NULL,    -- 'title' or 'text'
    variant       VARCHAR NOT NULL,    -- the wording of the claim that matched
    matched_text  VARCHAR NOT NULL,
    match_start   INTEGER NOT NULL,    -- offsets into the field
    match_end     INTEGER NOT NULL,
    snippet       VARCHAR NOT NULL,
    matched_at    TIMESTAMP NOT NULL,
    run_id        VARCHAR NOT NULL
);

CREATE TABLE fetch_failures (
    run_id     VARCHAR NOT NULL,
    source     VARCHAR NOT NULL,
    url        VARCHAR NOT NULL,
    stage      VARCHAR NOT NULL,      -- 'discover', 'fetch' or 'extract'
    reason     VARCHAR NOT NULL,
    failed_at  TIMESTAMP NOT NULL
);

CREATE VIEW claim_matches AS
SELECT
    m.claim_id,
    c.text AS claim_text,
    a.url AS article_url,
    a.final_url,
    a.title,
    a.source,
    a.outlet,
    a.is_sample,
    a.language,
    a.published_at,
    a.fetched_at,
    m.score,
    m.matched_text,
    m.snippet,
    m.field,
    m.variant,
    m.match_start,
    m.match_end,
    m.matched_at,
    m.run_id
FROM matches AS m
JOIN articles AS a ON a.url = m.article_url
LEFT JOIN claims AS c ON c.id = m.claim_id;
