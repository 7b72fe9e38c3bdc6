"""The sentence index's answer for a focused re-match: the articles one of whose sentences
the detector could suggest or confirm for a focus claim on meaning, in any language, and
those sentences (the detector embeds no other of the article).

Sentences within NEAR_BITS of a focus wording's sign bits (of 512) are re-scored by their
int8 vectors against every wording of the catalog, as the detector scores a sentence
(suggest.py: each claim's cosine, and its lift over the others). An article counts when
one of them reaches MIN_COSINE with a focus claim and ranks it among its TOP_CLAIMS
claims. The detector weighs a sentence for its two best claims only
(suggest.CLAIMS_PER_SENTENCE), but it embeds the sentence case-folded, and the index as
written, which keeps search better (case-folded, the seed claims' wordings found the
sentences quoting them with MRR@10 0.628 against 0.662 in English, 0.481 against 0.523
in other languages): a score moves by up to 6 points between the two, so more claims
are allowed for.

Measured over the devset's sentences, the labelled articles and the 127 sample and corpus
pages, against the 28 seed claims: the 148 (text, claim) pairs a full detection finds by
meaning alone all had a sentence at 0.46 or more with their claim, ranked among its five
best claims. A sentence at 0.42 or more lay in 2,953 pairs; ranking the claim among its
six best kept 2,090 of them, all 148 included (at 0.5, a focused re-match lost 5 of the
346 matches and suggestions of the devset and labelled articles). Cosine 0.4 and up lies
within 207 bits; unrelated sentences near 256.
"""

from __future__ import annotations

import sys
from collections.abc import Collection
from pathlib import Path

import numpy as np
import pyarrow as pa

from claimwatch.archive.codes import WORDS, column_hamming, sign_codes, vectors
from claimwatch.archive.search import sign_bits
from claimwatch.matching.catalog import Catalog
from claimwatch.matching.claim_vectors import claim_vectors, wording_rows
from claimwatch.matching.encoder import Encoder
from claimwatch.matching.suggest import claim_scores
from claimwatch.records import SentenceSpan
from claimwatch.store.connection import connect
from claimwatch.store.sentence_near import Near

NEAR_BITS = 205
MIN_COSINE = 0.42
TOP_CLAIMS = 6
# Candidates whose vectors one query fetches: handed to DuckDB as an Arrow table, their
# range written into the SQL so that only its row groups are read (see search.py). The
# 59,025 of 10^5 articles took 7.6 s fetched as lists of 5,000 numbers in the SQL, 1.2 s
# so. Scored as float32 (20 MB a fetch): at 10^5 articles, 20,000 at a time took this
# process to 449 MB, 10,000 to 343 MB, in no more time.
FETCH = 10_000
# Numbers held at a time while candidates are scored against every wording (a catalog of
# 10^5 claims has some 3x10^5 wordings): their vectors, then their cosines, 4 MB each.
SCORED_CELLS = 1_000_000


def near_articles(
    db: Path,
    catalog: Catalog,
    focus: Collection[str],
    encoder: Encoder,
    cache_dir: Path,
    *,
    wait: float = 0.0,
) -> Near:
    """The articles with a sentence near a wording of the `focus` claims, among the best
    claims of the whole `catalog` for that sentence, as the index's model (`encoder`;
    the catalog's vectors cached in `cache_dir`) codes them."""
    wordings, first_row = wording_rows(catalog)
    focused = [c for c, claim in enumerate(catalog.claims) if claim.id in focus]
    if not focused or not wordings:
        return Near(encoder.version)
    every = claim_vectors(wordings, encoder, cache_dir)
    last = [*first_row[1:].tolist(), len(wordings)]
    focus_vectors = every[np.concatenate([np.arange(first_row[c], last[c]) for c in focused])]
    codes = sign_codes(focus_vectors)
    sentences: dict[str, list[SentenceSpan]] = {}
    with connect(db, read_only=True, wait=wait) as con:
        con.execute("BEGIN TRANSACTION")  # one snapshot for both reads
        numbers = []
        for batch in sign_bits(db, con):
            columns = [batch.column(f"h{w}").to_numpy() for w in range(WORDS)]
            nearest = np.full(batch.num_rows, WORDS * 64, dtype=np.int32)
            for code in codes:
                np.minimum(nearest, column_hamming(columns, code), out=nearest)
            numbers.append(batch.column("sentence_no").to_numpy()[nearest <= NEAR_BITS])
        candidates = np.sort(np.concatenate(numbers)) if numbers else np.array([], np.int64)
        for first in range(0, len(candidates), FETCH):
            part = candidates[first : first + FETCH]
            con.register("candidates", pa.table({"sentence_no": part}))
            rows = con.execute(
                f"""SELECT article_url, field, sentence_start, sentence_end, vector, scale
                    FROM sentence_index
                    WHERE sentence_no BETWEEN {int(part[0])} AND {int(part[-1])}
                    AND sentence_no IN (SELECT sentence_no FROM candidates)"""
            ).fetchall()
            if rows:
                found = vectors([r[4] for r in rows], np.array([r[5] for r in rows]))
                kept = _suggestible(found, every, first_row, focused, focus_vectors)
                for url, field, start, end, *_ in (rows[i] for i in np.flatnonzero(kept)):
                    # One "text" string for them all: 10^5 such sentences at 10^6 articles.
                    sentences.setdefault(url, []).append((sys.intern(field), start, end))
    return Near(encoder.version, {url: tuple(spans) for url, spans in sentences.items()})


def _suggestible(
    found: np.ndarray,
    every: np.ndarray,
    first_row: np.ndarray,
    focused: list[int],
    focus_vectors: np.ndarray,
) -> np.ndarray:
    """For each stored sentence vector (rows of `found`), whether some focus claim reaches
    MIN_COSINE with it and ranks among its TOP_CLAIMS claims (`every`: the catalog's
    wordings' vectors, `focus_vectors` those of the focus claims' wordings)."""
    kept = np.zeros(len(found), dtype=bool)
    # Only a sentence near a focus claim is scored against every wording.
    close = np.flatnonzero((found @ focus_vectors.T).max(axis=1) >= MIN_COSINE)
    step = max(1, SCORED_CELLS // max(len(every), found.shape[1]))
    for start in range(0, len(close), step):
        rows = close[start : start + step]
        scored = claim_scores(found[rows] @ every.T, first_row)
        for c in focused:
            above = (scored.scores > scored.scores[:, [c]]).sum(axis=1)
            kept[rows] |= (scored.cosines[:, c] >= MIN_COSINE) & (above < TOP_CLAIMS)
    return kept
