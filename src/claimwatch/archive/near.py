"""The sentence index's answer for a focused re-match: the articles one of whose sentences
lies near a wording of the focus claims in meaning, in any language.

Sentences within NEAR_BITS of a wording's sign bits (of 512) are re-scored by their int8
vectors, as a search re-scores its candidates; an article counts when one reaches
MIN_COSINE. Of the suggestions the detector makes in the devset's sentences, the
labelled articles and the sample and corpus pages, the lowest had a sentence at 0.459
with its claim; at 0.5, a focused re-match lost 5 of the 346 matches and suggestions of
the devset and labelled articles, at 0.42 none (a match lies near in meaning, or holds
enough of the claim's terms: matching/focus.py). Over the 127 sample and corpus pages, a
claim's sentences at 0.42 or more lay in 1-12 articles (median 6); within 205 bits, in
15-47 (cosine 0.4 and up lies within 207 bits; unrelated sentences near 256).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa

from claimwatch.archive.codes import WORDS, column_hamming, cosines, sign_codes
from claimwatch.archive.search import sign_bits
from claimwatch.matching.catalog import Catalog
from claimwatch.matching.encoder import Encoder
from claimwatch.store.connection import connect
from claimwatch.store.sentence_near import Near

NEAR_BITS = 205
MIN_COSINE = 0.42
# Candidates whose vectors one query fetches: handed to DuckDB as an Arrow table, their
# range written into the SQL so that only its row groups are read (see search.py). The
# 59,025 of 10^5 articles took 7.6 s fetched as lists of 5,000 numbers in the SQL, 1.2 s
# so (10 MB of vectors a query).
FETCH = 20_000


def near_articles(db: Path, catalog: Catalog, encoder: Encoder, *, wait: float = 0.0) -> Near:
    """The articles with a sentence near any wording of the catalog's claims, as the
    index's model (`encoder`) codes them."""
    wordings = [w for c in catalog.claims for w in c.wordings]
    if not wordings:
        return Near(encoder.version, ())
    vectors = encoder.encode(wordings)
    codes = sign_codes(vectors)
    urls: set[str] = set()
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
                f"""SELECT article_url, vector, scale FROM sentence_index
                    WHERE sentence_no BETWEEN {int(part[0])} AND {int(part[-1])}
                    AND sentence_no IN (SELECT sentence_no FROM candidates)"""
            ).fetchall()
            if not rows:
                continue
            blobs, scales = [r[1] for r in rows], np.array([r[2] for r in rows])
            best = np.max([cosines(blobs, scales, v) for v in vectors], axis=0)
            urls.update(r[0] for r, b in zip(rows, best, strict=True) if b >= MIN_COSINE)
    return Near(encoder.version, tuple(sorted(urls)))
