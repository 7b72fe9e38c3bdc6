-- Why a sentence was suggested, in words: the verifier's evidence (closeness in meaning to
-- which wording, names, numbers, negation: src/claimwatch/matching/evidence.py), for the
-- person reviewing it. NULL for suggestions made before the verifier.

ALTER TABLE suggestions ADD COLUMN reason VARCHAR;
