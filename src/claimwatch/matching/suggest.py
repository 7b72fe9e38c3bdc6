"""Which sentences are suggested for review: candidates, their evidence, the verifier's say.

Each sentence embedded by the detector is a candidate for its two best claims (by
score, 100 x (cosine + lift) / 2). The verifier (verifier.py) gives each candidate a
probability over its evidence (evidence.py); a sentence speaks for its likeliest claim
only, a claim keeps its likeliest sentence, and an article gets at most MAX_SUGGESTIONS,
those at or above the verifier's threshold (tuned on the "tune" half of
tests/data/articles.jsonl for precision >= 0.5 with the most restatements found).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from claimwatch.matching.catalog import Catalog
from claimwatch.matching.evidence import ClaimFacts, Evidence, gather
from claimwatch.matching.sentences import Sentence, not_english
from claimwatch.matching.verifier import Verifier, default_verifier

MAX_SUGGESTIONS = 2
# Claims a sentence is a candidate for: the restated one was the sentence's best or
# second best in every labelled article of the tune half where it was embedded at all.
CLAIMS_PER_SENTENCE = 2
# Candidates scoring under this are not weighed: no repeat of the tune half scored under
# 23, and gathering evidence for every candidate cost 12% of detection on real pages.
MIN_SCORE = 20.0


@dataclass(frozen=True, slots=True)
class Candidate:
    """A (sentence, claim) pair worth a second look."""

    sentence: int
    claim: int
    row: int  # the claim's wording nearest in meaning (a row of the claim vectors)
    score: float  # 100 x (cosine + lift) / 2
    evidence: Evidence


@dataclass(frozen=True, slots=True)
class Scores:
    """A text's sentences against every claim."""

    cosines: np.ndarray  # sentence x claim: with the claim's nearest wording
    lift: np.ndarray
    scores: np.ndarray


def claim_scores(cosines: np.ndarray, first_row: np.ndarray) -> Scores:
    """Sentences against every claim, from their cosines with every wording (sentence x
    wording; `first_row`: where each claim's wordings start)."""
    claim_cosines = np.maximum.reduceat(cosines, first_row, axis=1)
    lift = claim_cosines - claim_cosines.mean(axis=1, keepdims=True)
    return Scores(claim_cosines, lift, 100 * (claim_cosines + lift) / 2)


class Suggester:
    """The candidates of a text, and the verifier's choice among them."""

    def __init__(
        self, catalog: Catalog, first_row: np.ndarray, verifier: Verifier | None = None
    ) -> None:
        self.claim_ids = [c.id for c in catalog.claims]
        # A claim's own threshold (its score, 0-100), where the catalog sets one, decides
        # for it in the verifier's stead: an analyst chose it.
        self.own = {
            c: claim.suggest_threshold
            for c, claim in enumerate(catalog.claims)
            if claim.suggest_threshold is not None
        }
        self.facts = [ClaimFacts.of(c) for c in catalog.claims]
        self.first_row = first_row
        # The shipped verifier is read when first needed (verifier_fit.py builds a
        # detector to write it).
        self._verifier = verifier

    @property
    def verifier(self) -> Verifier:
        if self._verifier is None:
            self._verifier = default_verifier()
        return self._verifier

    def scores(self, cosines: np.ndarray) -> Scores:
        """`cosines`: sentence x wording."""
        return claim_scores(cosines, self.first_row)

    def candidates(
        self,
        sentences: Sequence[Sentence],
        cosines: np.ndarray,
        scored: Scores,
        allowed: Callable[[int, int], bool],
    ) -> list[Candidate]:
        """Each sentence's best claims for which `allowed(sentence, claim)`."""
        found = []
        top = np.argsort(-scored.scores, axis=1)[:, :CLAIMS_PER_SENTENCE]
        for s, sentence in enumerate(sentences):
            foreign = not_english(sentence.text)
            for c in top[s].tolist():
                if scored.scores[s, c] >= MIN_SCORE and allowed(s, c):
                    found.append(self.candidate(sentence, s, c, cosines[s], scored, foreign))
        return found

    def candidate(
        self,
        sentence: Sentence,
        s: int,
        c: int,
        wording_cosines: np.ndarray,
        scored: Scores,
        foreign: bool,
    ) -> Candidate:
        first = int(self.first_row[c])
        nearest = int(np.argmax(wording_cosines[first : first + len(self.facts[c].wordings)]))
        evidence = gather(
            sentence.text,
            sentence.original[sentence.start : sentence.end],
            self.facts[c],
            nearest,
            scored.scores[s],
            claim=c,
            foreign=foreign,
            title=sentence.field == "title",
            cosine=float(scored.cosines[s, c]),
            lift=float(scored.lift[s, c]),
        )
        return Candidate(s, c, first + nearest, float(scored.scores[s, c]), evidence)

    def probabilities(self, candidates: Sequence[Candidate]) -> np.ndarray:
        if not candidates:
            return np.zeros(0)
        return self.verifier.probabilities(np.array([c.evidence.values for c in candidates]))

    def chosen(
        self, candidates: Sequence[Candidate], probabilities: np.ndarray
    ) -> list[tuple[Candidate, float]]:
        """The candidates to suggest, likeliest first."""
        return choose(candidates, probabilities, self.verifier.threshold, self.own)

    def refitted(self, rows: np.ndarray, labels: Sequence[bool]) -> Suggester:
        """This suggester with its verifier fitted again on reviewers' decisions."""
        again = Suggester.__new__(Suggester)
        again.claim_ids, again.facts, again.first_row = self.claim_ids, self.facts, self.first_row
        again.own = self.own
        again._verifier = self.verifier.refit(rows, labels)
        return again


def choose(
    candidates: Sequence[Candidate],
    probabilities: np.ndarray,
    threshold: float,
    own: Mapping[int, float] | None = None,
) -> list[tuple[Candidate, float]]:
    """The likeliest candidates at or above `threshold` (or, for a claim in `own`, whose
    score reaches the claim's own threshold), at most MAX_SUGGESTIONS, no two for the
    same sentence or the same claim."""
    sentences: set[int] = set()
    claims: set[int] = set()
    kept: list[tuple[Candidate, float]] = []
    for i in np.argsort(-probabilities, kind="stable").tolist():
        candidate, p = candidates[i], float(probabilities[i])
        if len(kept) == MAX_SUGGESTIONS:
            break
        mine = own.get(candidate.claim) if own else None
        if p < threshold if mine is None else candidate.score < mine:
            continue
        if candidate.sentence in sentences or candidate.claim in claims:
            continue
        sentences.add(candidate.sentence)
        claims.add(candidate.claim)
        kept.append((candidate, p))
    return kept
