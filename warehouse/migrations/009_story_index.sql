-- Stories that stay right and cost the same however large the archive grows
-- (src/claimwatch/store/stories.py, story_lookup.py).
--
-- article_sketches becomes what a new article's story is looked up in, alone: beside
-- each sketch, a second, independent 64-bit half (two halves square the chance that an
-- unrelated text comes close), when the article was fetched (a batch reads only the
-- recent rows), and the keys a short text is grouped by. Every article gets a row, so
-- the article_stories view reads this one table instead of anti-joining the articles.
-- `claimwatch warehouse import` runs the UPDATE and INSERT below again after it copies
-- an older warehouse's rows in (store/importer.py): they fill in only what is missing.

ALTER TABLE article_sketches ADD COLUMN simhash2 UBIGINT;     -- NULL for sketches made before
ALTER TABLE article_sketches ADD COLUMN fetched_at TIMESTAMP;  -- the article's
ALTER TABLE article_sketches ADD COLUMN text_sha256 VARCHAR;   -- the article's content_sha256
ALTER TABLE article_sketches ADD COLUMN page VARCHAR;          -- canonical URL, else final URL
ALTER TABLE article_sketches ADD COLUMN headline VARCHAR;      -- texts too short to sketch only

UPDATE article_sketches AS s
SET fetched_at = a.fetched_at,
    text_sha256 = a.content_sha256,
    page = coalesce(a.canonical_url, a.final_url),
    headline = CASE
        WHEN s.simhash IS NULL AND length(story_headline(a.title)) >= 16
        THEN story_headline(a.title)
    END
FROM articles AS a
WHERE a.url = s.article_url AND s.fetched_at IS NULL;

-- Articles stored before sketches existed (migration 004) keep the story the rule of
-- their time gave them: the same headline, else the same canonical URL, else the same text;
-- a short text still joins them by headline.
INSERT INTO article_sketches
    (article_url, simhash, story_id, assigned_at, fetched_at, text_sha256, page, headline)
SELECT
    a.url,
    NULL,
    substr(md5(
        CASE
            WHEN length(story_headline(a.title)) >= 16 THEN 'headline:' || story_headline(a.title)
            WHEN a.canonical_url IS NOT NULL THEN 'canonical:' || a.canonical_url
            ELSE 'text:' || a.content_sha256
        END
    ), 1, 12),
    now() AT TIME ZONE 'UTC',
    a.fetched_at,
    a.content_sha256,
    coalesce(a.canonical_url, a.final_url),
    CASE WHEN length(story_headline(a.title)) >= 16 THEN story_headline(a.title) END
FROM articles AS a
WHERE NOT EXISTS (SELECT 1 FROM article_sketches AS s WHERE s.article_url = a.url);
