-- Suggestions and reviews (matching by meaning): a sentence close in meaning to a claim
-- is kept as a suggestion with its evidence; a person confirms or rejects it
-- (`claimwatch review`). A confirmed suggestion becomes a row of `matches`; a rejected
-- one stays in `reviews`, where later passes read it as a veto for that claim.

CREATE TABLE suggestions (
    id            VARCHAR NOT NULL,   -- stable: the first 12 hex digits of md5(article_url, claim_id)
    article_url   VARCHAR NOT NULL,
    claim_id      VARCHAR NOT NULL,
    score         DOUBLE NOT NULL,    -- cosine of the sentence and the nearest wording, x100
    field         VARCHAR NOT NULL,   -- 'title' or 'text'
    variant       VARCHAR NOT NULL,   -- the claim's wording nearest in meaning
    matched_text  VARCHAR NOT NULL,   -- the sentence
    match_start   INTEGER NOT NULL,   -- offsets into the field
    match_end     INTEGER NOT NULL,
    snippet       VARCHAR NOT NULL,
    signals       VARCHAR NOT NULL,   -- JSON object: what fired (meaning, coverage)
    suggested_at  TIMESTAMP NOT NULL,
    run_id        VARCHAR NOT NULL
);

CREATE TABLE reviews (
    suggestion_id  VARCHAR NOT NULL,
    article_url    VARCHAR NOT NULL,
    claim_id       VARCHAR NOT NULL,
    decision       VARCHAR NOT NULL,  -- 'confirmed' or 'rejected'
    sentence       VARCHAR NOT NULL,  -- the suggested sentence, which the matcher learns from
    note           VARCHAR,
    reviewer       VARCHAR NOT NULL,
    decided_at     TIMESTAMP NOT NULL
);

ALTER TABLE claims ADD COLUMN suggest_threshold DOUBLE;
