-- Every view of the warehouse, as it is now: the one place a view is defined or changed.
-- Applied whole, with CREATE OR REPLACE, each time the schema is brought up to date
-- (after the pending migrations, in the same step: store/migrations.py), so a fresh
-- warehouse and an upgraded one get the same views. Migrations create and alter
-- tables (and macros) only; the views some early ones created (001-004) are history,
-- replaced here by the same definitions. A view may use any table or macro of the
-- migrations, and the views above it.
-- Every view of matches carries `is_sample`, so demo rows can be left out with
-- `WHERE NOT is_sample`. Times are UTC; "when" is the publication time, or the fetch
-- time where a page gave none.

-- One row per (article, claim) matched, with the claim's text and the article's columns
-- (the contract view: DESIGN.md), for a claim read from a fact-check, its verdict,
-- who gave it and where, and for a match a person confirmed, who and when.
CREATE OR REPLACE VIEW claim_matches AS
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
    m.run_id,
    f.verdict,
    f.fact_checker,
    f.review_url AS fact_check_url,
    r.reviewer AS confirmed_by,
    r.decided_at AS confirmed_at
FROM matches AS m
JOIN articles AS a ON a.url = m.article_url
LEFT JOIN claims AS c ON c.id = m.claim_id
LEFT JOIN fact_checks AS f ON f.claim_id = m.claim_id
-- A match a person confirmed (or moved here from another claim): who and when, first decision.
LEFT JOIN (
    SELECT article_url, claim_id, arg_min(reviewer, decided_at) AS reviewer,
           min(decided_at) AS decided_at
    FROM reviews
    WHERE decision = 'confirmed'
    GROUP BY article_url, claim_id
) AS r ON r.article_url = m.article_url AND r.claim_id = m.claim_id;

-- One row per pending suggestion: a sentence close in meaning to a claim, not yet
-- confirmed or rejected (`claimwatch review`), in an article where the claim is not
-- matched (the contract view: DESIGN.md).
CREATE OR REPLACE VIEW claim_suggestions AS
SELECT
    s.id,
    s.claim_id,
    c.text AS claim_text,
    a.url AS article_url,
    a.title,
    a.outlet,
    a.source,
    a.is_sample,
    a.language,
    a.published_at,
    a.fetched_at,
    s.score,
    s.matched_text,
    s.snippet,
    s.field,
    s.variant,
    s.signals,
    s.reason,
    s.match_start,
    s.match_end,
    s.suggested_at,
    s.run_id
FROM suggestions AS s
JOIN articles AS a ON a.url = s.article_url
LEFT JOIN claims AS c ON c.id = s.claim_id
WHERE NOT EXISTS (SELECT 1 FROM reviews AS r WHERE r.suggestion_id = s.id)
  AND NOT EXISTS (
      SELECT 1 FROM matches AS m WHERE m.article_url = s.article_url AND m.claim_id = s.claim_id
  );

-- The story of each article: the id given when it was stored (article_sketches, by text
-- similarity: src/claimwatch/store/stories.py). Every article has its row (migration 009
-- gave articles stored before sketches existed theirs, by the rule they had: the same
-- headline, else the same canonical URL, else the same text), so this reads one table.
CREATE OR REPLACE VIEW article_stories AS
SELECT article_url, story_id
FROM article_sketches;

-- One row per (claim, day): how many articles repeated it, from how many outlets and stories.
CREATE OR REPLACE VIEW daily_mentions AS
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
CREATE OR REPLACE VIEW claim_first_seen AS
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
CREATE OR REPLACE VIEW claim_outlets AS
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
CREATE OR REPLACE VIEW claim_stories AS
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
CREATE OR REPLACE VIEW pass_history AS
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
-- status, in order of precedence: 'paused' (disabled), 'unknown' (no pass yet), 'failing'
-- (its latest poll failed; not the latest pass, which may not have polled it), 'silent'
-- (no new item for more than three times its usual gap between new items, once it has a
-- history of three or more), 'off-topic' (in the last 7 days it yielded pages, all of
-- them left out by its filters), 'degraded' (pages failed in the latest pass), 'ok'.
CREATE OR REPLACE VIEW source_health AS
-- Passes only: a re-match (status 'rematch', or 'rematch stopped') reads no source.
WITH passes AS (
    SELECT * FROM runs WHERE status NOT LIKE 'rematch%'
),
latest AS (
    SELECT run_id FROM passes ORDER BY started_at DESC LIMIT 1
),
feed_failed AS (
    SELECT DISTINCT f.source, r.run_id, r.started_at
    FROM fetch_failures AS f JOIN passes AS r USING (run_id)
    WHERE f.stage = 'discover'
),
last_ok AS (
    SELECT s.name AS source, max(r.started_at) AS last_ok_pass
    FROM sources AS s CROSS JOIN passes AS r
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
        WHEN (SELECT count(*) FROM passes) = 0 THEN 'unknown'
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

-- One row per (channel, article, claim) a channel accepted, with when and where
-- (destination_key: what the ledger counts deliveries by; NULL on rows from before it
-- until a digest run adopts them).
CREATE OR REPLACE VIEW delivered_matches AS
SELECT i.channel, i.article_url, i.claim_id, d.digest_id, d.finished_at AS delivered_at,
    d.destination_key
FROM digest_items AS i
JOIN digests AS d USING (attempt_id)
WHERE d.status = 'delivered';
