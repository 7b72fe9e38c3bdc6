-- Each stored article's terms, as a focused re-match (`rematch --claim ID`) looks for a
-- claim's: word beginnings and CJK character pairs (src/claimwatch/archive/terms.py).
-- Looked up by term, they spare that re-match a scan of every stored text.
CREATE TABLE article_terms (
    article_url     VARCHAR NOT NULL,
    term            VARCHAR NOT NULL
);

-- Which articles have their terms stored, and from which text: an article whose text
-- changed is scanned until its terms are stored again.
CREATE TABLE term_indexed_articles (
    article_url     VARCHAR NOT NULL,
    content_sha256  VARCHAR
);
