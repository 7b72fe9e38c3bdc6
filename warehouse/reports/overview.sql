-- title: Overview of a period
-- description: Per claim, for a period: mentions, outlets, stories, who carried it first, when it was last seen, the best machine score and the matches a person confirmed (how many, by whom, the latest when). With --format html, a self-contained page with charts and the latest evidence.
-- param days: 90  # the period: the last N days by publication time; 0 for all time
-- param claim_id: null  # one claim only
-- param min_score: 0.0  # leave out weaker matches
-- param include_sample: true  # false leaves out the offline sample's rows
-- param top: 5  # outlets named per claim (and latest matches shown in HTML)
WITH m AS (
    SELECT
        cm.*,
        coalesce(cm.published_at, cm.fetched_at) AS seen_at,
        s.story_id
    FROM claim_matches AS cm
    JOIN article_stories AS s ON s.article_url = cm.article_url
    WHERE ($days = 0 OR coalesce(cm.published_at, cm.fetched_at)
                        >= (now() AT TIME ZONE 'UTC') - to_days($days))
      AND ($claim_id IS NULL OR cm.claim_id = $claim_id)
      AND cm.score >= $min_score
      AND (NOT cm.is_sample OR $include_sample)
),
per_outlet AS (
    SELECT claim_id, outlet, count(*) AS articles, min(seen_at) AS first_seen
    FROM m
    GROUP BY claim_id, outlet
)
SELECT
    m.claim_id,
    any_value(m.claim_text) AS claim_text,
    count(*) AS mentions,
    count(DISTINCT m.outlet) AS outlets,
    count(DISTINCT m.story_id) AS stories,
    min(m.seen_at) AS first_seen,
    arg_min(m.outlet, m.seen_at) AS first_outlet,
    max(m.seen_at) AS last_seen,
    round(max(m.score), 1) AS best_score,
    (
        SELECT list(p.outlet ORDER BY p.articles DESC, p.first_seen)[1:$top]
        FROM per_outlet AS p
        WHERE p.claim_id = m.claim_id
    ) AS top_outlets,
    round(max(m.score) FILTER (WHERE m.confirmed_by IS NULL), 1) AS best_machine_score,
    count(m.confirmed_by) AS confirmed,
    string_agg(DISTINCT m.confirmed_by, ', ' ORDER BY m.confirmed_by) AS confirmed_by,
    max(m.confirmed_at) AS last_confirmed_at
FROM m
GROUP BY m.claim_id
ORDER BY mentions DESC, m.claim_id;
