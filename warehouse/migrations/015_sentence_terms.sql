-- The archive's terms, per sentence (src/claimwatch/archive/terms.py): a quote lies
-- within one sentence or two adjacent ones, so a focused re-match reads only the articles
-- where a claim's terms stand that close, not those holding them anywhere. They replace
-- 014's terms per article, read by SQL from the raw text: every article's terms are
-- stored again (`claimwatch index`); until then its text is scanned, as before 014.
DROP TABLE article_terms;
DELETE FROM term_indexed_articles;

-- `sentence`: the sentence's number in the text as the fuzzy matcher cuts it (furniture
-- blanked, normalised); -1 is the title.
CREATE TABLE sentence_terms (
    article_url     VARCHAR NOT NULL,
    sentence        INTEGER NOT NULL,
    term            VARCHAR NOT NULL
);
