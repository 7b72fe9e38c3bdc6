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

-- Source health, now from the fetch log too: a source is failing when its latest poll
-- failed (not the latest pass, which may not have polled it). New statuses: 'silent' (no new item for
-- more than three times its usual gap between new items, once it has a history of
-- three or more) and 'off-topic' (in the last 7 days it yielded pages, all of them
-- left out by its filters). Order of precedence: paused, unknown, failing, silent,
-- off-topic, degraded, ok.
CREATE OR REPLACE VIEW source_health AS
WITH latest AS (
    SELECT run_id FROM runs ORDER BY started_at DESC LIMIT 1
),
feed_failed AS (
    SELECT DISTINCT f.source, r.run_id, r.started_at
    FROM fetch_failures AS f JOIN runs AS r USING (run_id)
    WHERE f.stage = 'discover'
),
last_ok AS (
    SELECT s.name AS source, max(r.started_at) AS last_ok_pass
    FROM sources AS s CROSS JOIN runs AS r
    WHERE NOT EXISTS (
        SELECT 1 FROM feed_failed AS ff WHERE ff.source = s.name AND ff.run_id = r.run_id
    )
    GROUP BY s.name
),
streak AS (
    SELECT ff.source, count(*) AS failed_passes_in_a_row
    FROM feed_failed AS ff
    LEFT JOIN last_ok AS lo USING (source)
    WHERE ff.started_at > coalesce(lo.last_ok_pass, TIMESTAMP '1970-01-01')
    GROUP BY ff.source
),
yield AS (
    SELECT
        source,
        count(*) AS articles,
        max(fetched_at) AS last_article_at,
        count(*) FILTER (WHERE fetched_at > (now() AT TIME ZONE 'UTC') - INTERVAL 7 DAY)
            AS articles_7d
    FROM articles
    GROUP BY source
),
matched AS (
    SELECT source, count(*) AS matches FROM claim_matches GROUP BY source
),
failures AS (
    SELECT
        source,
        count(*) AS failures,
        count(*) FILTER (WHERE run_id IN (SELECT run_id FROM latest)) AS failures_latest_pass,
        count(*) FILTER (WHERE run_id IN (SELECT run_id FROM latest) AND stage = 'discover')
            AS feed_failed_latest_pass,
        max(failed_at) AS last_failure_at,
        arg_max(stage || ': ' || reason, failed_at) AS last_failure
    FROM fetch_failures
    GROUP BY source
),
new_items AS (
    SELECT source, logged_at,
           date_diff('second', lag(logged_at) OVER (PARTITION BY source ORDER BY logged_at),
                     logged_at) / 3600.0 AS gap_hours
    FROM fetch_log
    WHERE items_new > 0
),
rhythm AS (
    SELECT source, count(*) AS yields, max(logged_at) AS last_new_item_at,
           median(gap_hours) AS usual_gap_hours
    FROM new_items
    GROUP BY source
),
-- A source polled less often than every pass (poll_minutes) is judged by its own polls.
polls AS (
    SELECT
        source,
        arg_max(failed, logged_at) AS last_poll_failed,
        max(logged_at) FILTER (WHERE NOT failed) AS last_ok_poll
    FROM fetch_log
    WHERE polled
    GROUP BY source
),
poll_streak AS (
    SELECT l.source, count(*) AS failed_polls_in_a_row
    FROM fetch_log AS l JOIN polls AS p USING (source)
    WHERE l.polled AND l.failed AND l.logged_at > coalesce(p.last_ok_poll, TIMESTAMP '1970-01-01')
    GROUP BY l.source
),
recent AS (
    SELECT
        source,
        max(logged_at) FILTER (WHERE polled) AS last_polled_at,
        sum(requests) AS requests_7d,
        sum(not_modified) AS not_modified_7d,
        sum(bytes) AS bytes_7d,
        sum(off_topic) AS off_topic_7d,
        sum(articles_new) AS articles_new_7d
    FROM fetch_log
    WHERE logged_at > (now() AT TIME ZONE 'UTC') - INTERVAL 7 DAY
    GROUP BY source
)
SELECT
    s.name AS source,
    s.kind,
    s.url,
    s.enabled,
    s.is_sample,
    CASE
        WHEN NOT s.enabled THEN 'paused'
        WHEN (SELECT count(*) FROM runs) = 0 THEN 'unknown'
        WHEN coalesce(pl.last_poll_failed, f.feed_failed_latest_pass > 0, false) THEN 'failing'
        WHEN rh.yields >= 3 AND date_diff('second', rh.last_new_item_at, now() AT TIME ZONE 'UTC')
             / 3600.0 > 3 * rh.usual_gap_hours THEN 'silent'
        WHEN coalesce(rc.off_topic_7d, 0) > 0 AND coalesce(rc.articles_new_7d, 0) = 0
            THEN 'off-topic'
        WHEN coalesce(f.failures_latest_pass, 0) > 0 THEN 'degraded'
        ELSE 'ok'
    END AS status,
    coalesce(ps.failed_polls_in_a_row, st.failed_passes_in_a_row, 0) AS failed_passes_in_a_row,
    coalesce(y.articles, 0) AS articles,
    coalesce(y.articles_7d, 0) AS articles_7d,
    coalesce(mt.matches, 0) AS matches,
    y.last_article_at,
    lo.last_ok_pass,
    coalesce(f.failures, 0) AS failures,
    f.last_failure_at,
    f.last_failure,
    rc.last_polled_at,
    rh.last_new_item_at,
    round(rh.usual_gap_hours, 1) AS usual_gap_hours,
    coalesce(rc.requests_7d, 0) AS requests_7d,
    coalesce(rc.not_modified_7d, 0) AS not_modified_7d,
    coalesce(rc.bytes_7d, 0) AS bytes_7d,
    coalesce(rc.off_topic_7d, 0) AS off_topic_7d
FROM sources AS s
LEFT JOIN yield AS y ON y.source = s.name
LEFT JOIN matched AS mt ON mt.source = s.name
LEFT JOIN failures AS f ON f.source = s.name
LEFT JOIN streak AS st ON st.source = s.name
LEFT JOIN last_ok AS lo ON lo.source = s.name
LEFT JOIN rhythm AS rh ON rh.source = s.name
LEFT JOIN recent AS rc ON rc.source = s.name
LEFT JOIN polls AS pl ON pl.source = s.name
LEFT JOIN poll_streak AS ps ON ps.source = s.name;
