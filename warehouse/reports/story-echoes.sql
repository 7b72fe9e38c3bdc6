-- title: Stories and their echoes
-- description: Each story carried by several articles (wire copy, AMP and print pages, republications): where it was first seen and every later copy with its outlet, link and time, and the claims its copies carry.
-- param days: 90  # stories first seen in the last N days; 0 for all time
-- param claim_id: null  # only stories with a copy that carries this claim
-- param min_copies: 2  # 1 lists single-copy stories too
-- param include_sample: true
-- param limit: 100
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
    WHERE NOT a.is_sample OR $include_sample
),
stories AS (
    SELECT
        story_id,
        count(*) AS copies,
        count(DISTINCT outlet) AS outlets,
        min(seen_at) AS first_seen,
        max(seen_at) AS last_seen,
        arg_min(outlet, (seen_at, url)) AS first_outlet,
        arg_min(title, (seen_at, url)) AS title,
        arg_min(final_url, (seen_at, url)) AS first_url,
        -- The copies after the first, in the order they appeared.
        list(outlet ORDER BY seen_at, url)[2:] AS echo_outlets,
        list(final_url ORDER BY seen_at, url)[2:] AS echo_urls,
        list(seen_at ORDER BY seen_at, url)[2:] AS echo_seen_at
    FROM copies
    GROUP BY story_id
),
claimed AS (
    SELECT s.story_id, list(DISTINCT m.claim_id ORDER BY m.claim_id) AS claims
    FROM matches AS m
    JOIN article_stories AS s ON s.article_url = m.article_url
    GROUP BY s.story_id
)
SELECT
    st.story_id,
    st.title,
    st.first_seen,
    st.first_outlet,
    st.copies,
    st.outlets,
    st.echo_outlets,
    st.echo_seen_at,
    coalesce(c.claims, []) AS claims,
    st.first_url,
    st.echo_urls
FROM stories AS st
LEFT JOIN claimed AS c USING (story_id)
WHERE st.copies >= $min_copies
  AND ($days = 0 OR st.first_seen >= (now() AT TIME ZONE 'UTC') - to_days($days))
  AND ($claim_id IS NULL OR list_contains(c.claims, $claim_id))
ORDER BY st.last_seen DESC, st.story_id
LIMIT $limit;
