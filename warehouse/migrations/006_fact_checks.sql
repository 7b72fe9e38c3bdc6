-- Fact-checks as a catalog source: each ClaimReview a `claimreview` source read (from
-- a fact-checker's pages or a ClaimReview export) is a row here, and its claim joins the
-- catalog of every later pass (its `claims` row carries the claim's text). A review is
-- updated when its page changes and kept when the page disappears.

CREATE TABLE fact_checks (
    claim_id          VARCHAR NOT NULL,   -- 'fc-' + 12 hex digits of sha256(review URL)
    review_url        VARCHAR NOT NULL,
    claim_text        VARCHAR NOT NULL,   -- claimReviewed
    verdict           VARCHAR,            -- reviewRating.alternateName: 'False', 'Misleading'...
    rating_value      DOUBLE,
    fact_checker      VARCHAR,            -- the review's author
    fact_checker_url  VARCHAR,
    reviewed_on       DATE,
    claim_author      VARCHAR,            -- who made the claim, where the review says
    claim_date        DATE,
    appearance_url    VARCHAR,            -- where the claim appeared
    language          VARCHAR,
    source            VARCHAR NOT NULL,   -- the claimreview source that read it
    first_seen_at     TIMESTAMP NOT NULL,
    updated_at        TIMESTAMP NOT NULL
);

ALTER TABLE claims ADD COLUMN source_url VARCHAR;
