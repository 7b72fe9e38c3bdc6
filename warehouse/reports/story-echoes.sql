-- title: Stories and their echoes
-- description: Each story carried by several articles (wire copy, AMP and print pages, republications): where it was first seen and every later copy with its outlet, link and time, and the claims its copies carry.
-- param days: 90  # stories first seen in the last N days; 0 for all time
-- param claim_id: null  # only stories with a copy that carries this claim
-- param min_copies: 2  # 1 lists single-copy stories too
-- param include_sample: true
-- param limit: 100
-- Bounded by the period before anything is aggregated: every copy of a story first seen
-- in the period is seen in it, so only the period's articles are grouped, and a story
-- that was seen before the period is left out by a look-up of its earlier copies alone.
WITH copies AS (
    SELECT
        s.story_id,
        a.url,
        a.final_url,
        a.title,
        a.outlet,
        coalesce(a.published_at, a.fetched_at) AS seen_at
    FROM articles AS a
    JOIN article_stories AS s ON s.article_url = a.url
    WHERE (NOT a.is_sample OR $include_sample)
      AND ($days = 0 OR coalesce(a.published_at, a.fetched_at)
                        >= (now() AT TIME ZONE 'UTC') - to_days($days))
),
-- Stories with enough copies in the period; a story seen before it is not first seen in it.
counted AS (
    SELECT story_id FROM copies GROUP BY story_id HAVING count(*) >= $min_copies
),
-- Every copy of those stories, whenever seen: a few per story, found before any join.
counted_copies AS MATERIALIZED (
    SELECT article_url, story_id
    FROM article_stories
    WHERE $days <> 0 AND story_id IN (SELECT story_id FROM counted)
),
seen_before AS (
    SELECT DISTINCT s.story_id
    FROM counted_copies AS s
    JOIN articles AS a ON a.url = s.article_url
    WHERE (NOT a.is_sample OR $include_sample)
      AND coalesce(a.published_at, a.fetched_at) < (now() AT TIME ZONE 'UTC') - to_days($days)
),
kept AS (
    SELECT story_id FROM counted WHERE story_id NOT IN (SELECT story_id FROM seen_before)
),
stories AS (
    SELECT
        story_id,
        count(*) AS copies,
        count(DISTINCT outlet) AS outlets,
        min(seen_at) AS first_seen,
        max(seen_at) AS last_seen
    FROM copies
    WHERE story_id IN (SELECT story_id FROM kept)
    GROUP BY story_id
),
claimed AS (
    SELECT s.story_id, list(DISTINCT m.claim_id ORDER BY m.claim_id) AS claims
    FROM article_stories AS s
    JOIN matches AS m ON m.article_url = s.article_url
    WHERE s.story_id IN (SELECT story_id FROM kept)
    GROUP BY s.story_id
),
-- The stories shown; their copies are listed for these alone.
shown AS MATERIALIZED (
    SELECT st.*, coalesce(c.claims, []) AS claims
    FROM stories AS st
    LEFT JOIN claimed AS c USING (story_id)
    WHERE $claim_id IS NULL OR list_contains(c.claims, $claim_id)
    ORDER BY st.last_seen DESC, st.story_id
    LIMIT $limit
),
echoes AS (
    SELECT
        story_id,
        arg_min(outlet, (seen_at, url)) AS first_outlet,
        arg_min(title, (seen_at, url)) AS title,
        arg_min(final_url, (seen_at, url)) AS first_url,
        -- The copies after the first, in the order they appeared.
        list(outlet ORDER BY seen_at, url)[2:] AS echo_outlets,
        list(final_url ORDER BY seen_at, url)[2:] AS echo_urls,
        list(seen_at ORDER BY seen_at, url)[2:] AS echo_seen_at
    FROM copies
    WHERE story_id IN (SELECT story_id FROM shown)
    GROUP BY story_id
)
SELECT
    st.story_id,
    e.title,
    st.first_seen,
    e.first_outlet,
    st.copies,
    st.outlets,
    e.echo_outlets,
    e.echo_seen_at,
    st.claims,
    e.first_url,
    e.echo_urls
FROM shown AS st
JOIN echoes AS e USING (story_id)
ORDER BY st.last_seen DESC, st.story_id;
