-- The archive searched by meaning (src/claimwatch/archive/): each stored article's sentences
-- as the multilingual encoder sees them. A search scans the sign bits (64 bytes a sentence:
-- Hamming distance stands in for the cosine) and re-scores the nearest few hundred with
-- the int8 vector; over the Tatoeba set's queries that pair lost nothing against float
-- cosines (MAP@5 0.902 both), the sign bits alone 0.871.
CREATE TABLE sentence_index (
    sentence_no     BIGINT NOT NULL,    -- 1, 2, 3... in the order written: files and row
                                        -- groups hold ranges of it, so a search fetches
                                        -- its candidates from their row groups alone
    article_url     VARCHAR NOT NULL,
    field           VARCHAR NOT NULL,   -- 'title' or 'text'
    sentence_start  INTEGER NOT NULL,   -- offsets of the sentence in the field
    sentence_end    INTEGER NOT NULL,
    h0 UBIGINT NOT NULL, h1 UBIGINT NOT NULL, h2 UBIGINT NOT NULL, h3 UBIGINT NOT NULL,
    h4 UBIGINT NOT NULL, h5 UBIGINT NOT NULL, h6 UBIGINT NOT NULL, h7 UBIGINT NOT NULL,
    vector          BLOB NOT NULL,      -- 512 int8 components
    scale           FLOAT NOT NULL      -- the vector is vector * scale / 127
);

-- Which articles are indexed, from which text and with which model: an article whose text
-- changed, or an index made by another model, is indexed again.
CREATE TABLE indexed_articles (
    article_url     VARCHAR NOT NULL,
    content_sha256  VARCHAR,
    model           VARCHAR NOT NULL,
    sentences       INTEGER NOT NULL,
    indexed_at      TIMESTAMP NOT NULL
);
