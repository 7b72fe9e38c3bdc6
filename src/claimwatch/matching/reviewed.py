"""The verifier fitted again on reviewers' decisions, so that a decision changes the next pass.

Each decided (claim, sentence) pair is read as a pass would read the sentence: its
cosines with every wording, its evidence for the claim; a confirmed one is a repeat,
a rejected one is not. The sentence itself is left out of the wordings (a confirmed
sentence became a wording of its claim, and would be its own nearest one).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from claimwatch.matching.encoder import Encoder
from claimwatch.matching.evidence import FEATURES
from claimwatch.matching.normalize import normalize_text
from claimwatch.matching.sentences import Sentence, not_english
from claimwatch.matching.suggest import Suggester

# Decisions the verifier is fitted on; beyond this many, embedding them would cost a
# pass's worker more than a few seconds at start.
MAX_DECISIONS = 2000
# A wording whose vector is this near a decided sentence's is the sentence itself.
SAME_VECTOR = 0.999


def learned(
    suggester: Suggester,
    encoder: Encoder,
    vectors: np.ndarray,
    wordings: Sequence[str],
    decided: Sequence[tuple[str, str, bool]],
) -> Suggester:
    """`suggester` with its verifier fitted again on (claim id, sentence, confirmed?)
    decisions; `vectors`: the catalog's wording vectors, one row per wording."""
    rows, labels = evidence_rows(suggester, encoder, vectors, wordings, decided[:MAX_DECISIONS])
    return suggester.refitted(rows, labels) if labels else suggester


def evidence_rows(
    suggester: Suggester,
    encoder: Encoder,
    vectors: np.ndarray,
    wordings: Sequence[str],
    decided: Sequence[tuple[str, str, bool]],
) -> tuple[np.ndarray, list[bool]]:
    """The evidence of each (claim id, sentence, repeats it?) triple, and its label."""
    index = {claim_id: c for c, claim_id in enumerate(suggester.claim_ids)}
    chosen = [d for d in decided if d[0] in index and d[1].strip()]
    if not chosen:
        return np.zeros((0, len(FEATURES))), []
    texts = [normalize_text(sentence) for _, sentence, _ in chosen]
    cosines = encoder.encode(texts) @ vectors.T
    normalised = [normalize_text(w) for w in wordings]
    own = np.array([[w == t for w in normalised] for t in texts])
    cosines[own | (cosines > SAME_VECTOR)] = -1.0
    scored = suggester.scores(cosines)
    rows, labels = [], []
    for s, (claim_id, sentence, repeats) in enumerate(chosen):
        read = Sentence("text", sentence, 0, len(sentence), texts[s], 0.0)
        foreign = not_english(texts[s])
        candidate = suggester.candidate(read, s, index[claim_id], cosines[s], scored, foreign)
        rows.append(candidate.evidence.values)
        labels.append(repeats)
    return np.array(rows), labels
