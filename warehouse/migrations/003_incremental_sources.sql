-- What makes passes incremental and sources observable: validators and cursors per
-- source, pages fetched but not stored (with when to try them again), and a fetch log.

-- The validators of each URL a source is read from (feeds, sitemaps, home pages).
CREATE TABLE source_validators (
    source         VARCHAR NOT NULL,
    url            VARCHAR NOT NULL,
    etag           VARCHAR,
    last_modified  VARCHAR,
    body_sha256    VARCHAR NOT NULL,
    changed_at     TIMESTAMP NOT NULL,  -- the body last changed (or was first seen)
    verified_at    TIMESTAMP NOT NULL,  -- the body was last fetched in full
    conditional    BOOLEAN NOT NULL     -- false once the server answered 304 for a change
);

-- When each source was last polled and where its next poll resumes.
CREATE TABLE source_state (
    source     VARCHAR NOT NULL,
    polled_at  TIMESTAMP NOT NULL,
    cursor     VARCHAR               -- kind-specific, e.g. the end of the last GDELT slice
);

-- Announced pages that were fetched but not stored as articles: failed, or left out by
-- a source's topic or language filter. A page is not fetched again before `retry_at`;
-- never again when `retry_at` is NULL.
CREATE TABLE page_attempts (
    url              VARCHAR NOT NULL,
    source           VARCHAR NOT NULL,
    title            VARCHAR,
    published_at     TIMESTAMP,
    archive          VARCHAR,
    stage            VARCHAR NOT NULL,  -- 'fetch', 'extract' or 'filter'
    reason           VARCHAR NOT NULL,
    attempts         INTEGER NOT NULL,
    last_attempt_at  TIMESTAMP NOT NULL,
    retry_at         TIMESTAMP,
    run_id           VARCHAR NOT NULL
);

-- One row per pass and source: what reading it cost and what it yielded.
CREATE TABLE fetch_log (
    run_id         VARCHAR NOT NULL,
    source         VARCHAR NOT NULL,
    polled         BOOLEAN NOT NULL,  -- false: not due yet (poll_minutes)
    requests       INTEGER NOT NULL,  -- source documents: feeds, sitemaps, API pages
    ok             INTEGER NOT NULL,  -- answered with a new or changed body
    not_modified   INTEGER NOT NULL,  -- 304, or an unchanged body
    errors         INTEGER NOT NULL,
    bytes          BIGINT NOT NULL,
    seconds        DOUBLE NOT NULL,
    items_seen     INTEGER NOT NULL,
    items_new      INTEGER NOT NULL,  -- not stored or attempted before
    pages_failed   INTEGER NOT NULL,
    off_topic      INTEGER NOT NULL,  -- left out by the topic or language filter
    articles_new   INTEGER NOT NULL,
    failed         BOOLEAN NOT NULL,  -- the source itself could not be read
    logged_at      TIMESTAMP NOT NULL
);
