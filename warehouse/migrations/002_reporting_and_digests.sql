-- Views an analyst queries (how claims spread, how sources fare) and the digest ledger.
-- Every view carries `is_sample`, so demo rows can be left out with `WHERE NOT is_sample`.
-- Times are UTC; "when" is the publication time, or the fetch time where a page gave none.

-- Copies of one story: articles whose headlines are the same once case, punctuation and
-- spacing are ignored (syndicated and wire copies), else the same canonical URL, else
-- the same extracted text.
CREATE VIEW article_stories AS
WITH keyed AS (
    SELECT
        url,
        content_sha256,
        canonical_url,
        trim(regexp_replace(lower(coalesce(title, '')), '[^\pL\pN]+', ' ', 'g')) AS headline
    FROM articles
)
SELECT
    url AS article_url,
    substr(md5(
        CASE
            WHEN length(headline) >= 16 THEN 'headline:' || headline
            WHEN canonical_url IS NOT NULL THEN 'canonical:' || canonical_url
            ELSE 'text:' || content_sha256
        END
    ), 1, 12) AS story_id
FROM keyed;

-- One row per (claim, day): how many articles repeated it, from how many outlets and stories.
CREATE VIEW daily_mentions AS
SELECT
    m.claim_id,
    CAST(coalesce(m.published_at, m.fetched_at) AS DATE) AS day,
    m.is_sample,
    count(*) AS mentions,
    count(DISTINCT m.outlet) AS outlets,
    count(DISTINCT s.story_id) AS stories,
    round(max(m.score), 1) AS best_score
FROM claim_matches AS m
JOIN article_stories AS s ON s.article_url = m.article_url
GROUP BY ALL;

-- One row per (claim, outlet): when the outlet first carried the claim, in which article,
-- its place in the order of outlets (1 = said it first) and how long after the first it came.
CREATE VIEW claim_first_seen AS
WITH per_outlet AS (
    SELECT
        claim_id,
        outlet,
        is_sample,
        min(coalesce(published_at, fetched_at)) AS first_seen,
        arg_min(article_url, coalesce(published_at, fetched_at)) AS first_url,
        arg_min(title, coalesce(published_at, fetched_at)) AS first_title,
        count(*) AS articles
    FROM claim_matches
    GROUP BY ALL
)
SELECT
    claim_id,
    outlet,
    is_sample,
    first_seen,
    first_url,
    first_title,
    articles,
    row_number() OVER (PARTITION BY claim_id, is_sample ORDER BY first_seen, outlet) AS outlet_rank,
    round(
        date_diff('second', min(first_seen) OVER (PARTITION BY claim_id, is_sample), first_seen)
        / 3600.0,
        1
    ) AS hours_after_first
FROM per_outlet;

-- One row per (claim, outlet): how often it repeats the claim, its share and its rank.
CREATE VIEW claim_outlets AS
SELECT
    m.claim_id,
    m.outlet,
    m.is_sample,
    count(*) AS articles,
    count(DISTINCT s.story_id) AS stories,
    min(coalesce(m.published_at, m.fetched_at)) AS first_seen,
    max(coalesce(m.published_at, m.fetched_at)) AS last_seen,
    round(max(m.score), 1) AS best_score,
    round(100.0 * count(*) / sum(count(*)) OVER (PARTITION BY m.claim_id, m.is_sample), 1)
        AS share_pct,
    rank() OVER (PARTITION BY m.claim_id, m.is_sample ORDER BY count(*) DESC) AS outlet_rank
FROM claim_matches AS m
JOIN article_stories AS s ON s.article_url = m.article_url
GROUP BY m.claim_id, m.outlet, m.is_sample;

-- One row per (claim, story): a story and its copies across outlets.
CREATE VIEW claim_stories AS
SELECT
    m.claim_id,
    s.story_id,
    m.is_sample,
    arg_min(m.title, coalesce(m.published_at, m.fetched_at)) AS title,
    count(*) AS copies,
    count(DISTINCT m.outlet) AS outlets,
    list(DISTINCT m.outlet ORDER BY m.outlet) AS outlet_names,
    min(coalesce(m.published_at, m.fetched_at)) AS first_seen,
    max(coalesce(m.published_at, m.fetched_at)) AS last_seen,
    arg_min(m.article_url, coalesce(m.published_at, m.fetched_at)) AS first_url,
    round(max(m.score), 1) AS best_score
FROM claim_matches AS m
JOIN article_stories AS s ON s.article_url = m.article_url
GROUP BY ALL;

-- One row per pass, with its length and its failures by stage.
CREATE VIEW pass_history AS
SELECT
    r.*,
    round(date_diff('millisecond', r.started_at, r.finished_at) / 1000.0, 1) AS duration_s,
    coalesce(f.discover_failures, 0) AS discover_failures,
    coalesce(f.fetch_failures, 0) AS fetch_failures,
    coalesce(f.extract_failures, 0) AS extract_failures
FROM runs AS r
LEFT JOIN (
    SELECT
        run_id,
        count(*) FILTER (WHERE stage = 'discover') AS discover_failures,
        count(*) FILTER (WHERE stage = 'fetch') AS fetch_failures,
        count(*) FILTER (WHERE stage = 'extract') AS extract_failures
    FROM fetch_failures
    GROUP BY run_id
) AS f USING (run_id);

-- One row per configured source: what it yielded and whether it is failing now.
-- status: 'paused' (disabled), 'failing' (its feed failed in the latest pass), 'degraded'
-- (pages failed in the latest pass), 'ok', or 'unknown' (no pass yet).
CREATE VIEW source_health AS
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
        WHEN coalesce(f.feed_failed_latest_pass, 0) > 0 THEN 'failing'
        WHEN coalesce(f.failures_latest_pass, 0) > 0 THEN 'degraded'
        ELSE 'ok'
    END AS status,
    coalesce(st.failed_passes_in_a_row, 0) AS failed_passes_in_a_row,
    coalesce(y.articles, 0) AS articles,
    coalesce(y.articles_7d, 0) AS articles_7d,
    coalesce(mt.matches, 0) AS matches,
    y.last_article_at,
    lo.last_ok_pass,
    coalesce(f.failures, 0) AS failures,
    f.last_failure_at,
    f.last_failure
FROM sources AS s
LEFT JOIN yield AS y ON y.source = s.name
LEFT JOIN matched AS mt ON mt.source = s.name
LEFT JOIN failures AS f ON f.source = s.name
LEFT JOIN streak AS st ON st.source = s.name
LEFT JOIN last_ok AS lo ON lo.source = s.name;

-- The digest ledger: one row per delivery attempt of a digest to a channel.
CREATE TABLE digests (
    attempt_id       VARCHAR NOT NULL,  -- unique per attempt
    digest_id        VARCHAR NOT NULL,  -- hash of channel and covered matches: same content, same id
    channel          VARCHAR NOT NULL,  -- the channel's name in the digest config
    channel_kind     VARCHAR NOT NULL,  -- 'stdout', 'file', 'directory', 'smtp' or 'webhook'
    destination      VARCHAR NOT NULL,  -- where it went, without credentials
    status           VARCHAR NOT NULL,  -- 'delivered' or 'failed'
    detail           VARCHAR,           -- the channel's answer, or why it failed
    matches          INTEGER NOT NULL,  -- (article, claim) pairs covered
    claims           INTEGER NOT NULL,
    first_matched_at TIMESTAMP,         -- the covered matches' range of matched_at
    last_matched_at  TIMESTAMP,
    since            TIMESTAMP,         -- the lower bound asked for (--since), if any
    attempts         INTEGER NOT NULL,  -- tries within this run
    started_at       TIMESTAMP NOT NULL,
    finished_at      TIMESTAMP NOT NULL
);

-- The matches each attempt covered; they count as delivered only through a 'delivered' row.
CREATE TABLE digest_items (
    attempt_id   VARCHAR NOT NULL,
    channel      VARCHAR NOT NULL,
    article_url  VARCHAR NOT NULL,
    claim_id     VARCHAR NOT NULL,
    score        DOUBLE NOT NULL
);

-- One row per (channel, article, claim) a channel accepted, with when.
CREATE VIEW delivered_matches AS
SELECT i.channel, i.article_url, i.claim_id, d.digest_id, d.finished_at AS delivered_at
FROM digest_items AS i
JOIN digests AS d USING (attempt_id)
WHERE d.status = 'delivered';
