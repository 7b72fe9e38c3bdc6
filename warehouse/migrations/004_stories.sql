-- Stories by text similarity: each article stored from now on gets a sketch of its text
-- and a story id when it is stored (src/claimwatch/stories.py). Copies of one story (wire
-- copy, AMP and print pages, republications under another headline or with other
-- boilerplate) share the story id, so views and reports can count stories as well as
-- articles. Uses only tables of 001 and 002.

-- A headline as the story rules compare it: lowercase, letters and digits, single spaces.
CREATE MACRO story_headline(title) AS
    trim(regexp_replace(lower(coalesce(title, '')), '[^\pL\pN]+', ' ', 'g'));

CREATE TABLE article_sketches (
    article_url  VARCHAR NOT NULL,
    simhash      UBIGINT,             -- 64-bit simhash of the text; NULL under 50 words
    story_id     VARCHAR NOT NULL,    -- the story's first article's, given when stored
    assigned_at  TIMESTAMP NOT NULL
);

-- Same columns as before, so daily_mentions, claim_outlets and claim_stories keep working.
-- Articles stored before this migration have no sketch and keep the rule they had:
-- the same headline, else the same canonical URL, else the same text.
CREATE OR REPLACE VIEW article_stories AS
SELECT article_url, story_id
FROM article_sketches
UNION ALL
SELECT
    a.url AS article_url,
    substr(md5(
        CASE
            WHEN length(story_headline(a.title)) >= 16 THEN 'headline:' || story_headline(a.title)
            WHEN a.canonical_url IS NOT NULL THEN 'canonical:' || a.canonical_url
            ELSE 'text:' || a.content_sha256
        END
    ), 1, 12) AS story_id
FROM articles AS a
WHERE NOT EXISTS (SELECT 1 FROM article_sketches AS s WHERE s.article_url = a.url);
