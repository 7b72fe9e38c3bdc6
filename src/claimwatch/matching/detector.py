"""Detection with two decisions per (article, claim): confirmed, or suggested for review.

Confirmed is what the fuzzy matcher finds (quotes, near-quotes, known wordings), plus
a sentence so close in meaning to a wording that it is near-certain; it feeds the
`claim_matches` view and digests. Suggested is a likely restatement or translation:
a sentence whose meaning is near a claim's, which a verifier (suggest.py, verifier.py)
judges over its evidence, kept with that evidence and its reason in words for a person
to confirm or reject (`claimwatch review`).

Meaning costs an encoder pass per sentence, so a cheap step (sentences.py) picks the
sentences worth it: those holding a share of some wording's rare terms (terms.py), or,
in a text in another language whose topic is near the catalog's or that names a claim's
required term, any sentence; at most MAX_EMBEDDED per text. Page furniture
(navigation, related-story boxes, cookie notices) is never read (furniture.py). A
text shorter than MIN_CONFIRM_WORDS, such as a headline, only ever gets suggestions
from meaning: short texts mislead encoders.
A sentence near-identical to one a reviewer rejected for a claim is not suggested
for it again, and the verifier is fitted again on reviewers' decisions (reviewed.py).
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from rapidfuzz import fuzz

from claimwatch.matching.catalog import Catalog
from claimwatch.matching.claim_vectors import claim_vectors, wording_rows
from claimwatch.matching.encoder import Encoder, load_encoder
from claimwatch.matching.focus import FocusTerms, focus_terms
from claimwatch.matching.furniture import blank_furniture
from claimwatch.matching.matcher import DEFAULT_THRESHOLD, Matcher
from claimwatch.matching.normalize import normalize_text
from claimwatch.matching.reviewed import learned
from claimwatch.matching.sentences import (
    CANDIDATE_COVERAGE,
    Sentence,
    as_match,
    overlaps,
    with_snippet,
    worth_embedding,
)
from claimwatch.matching.suggest import Candidate, Suggester
from claimwatch.matching.terms import TermIndex
from claimwatch.records import Match, SentenceSpan, Suggestion

# A sentence's evidence for a claim: its cosine with the claim's nearest wording, and its
# lift, that cosine less the sentence's mean cosine over every claim (a sentence on the
# topic is near every claim; one that restates a claim stands out for it). The score is
# 100 x (cosine + lift) / 2. Thresholds were tuned on the "tune" half of
# tests/data/articles.jsonl with the multilingual encoder (docs/benchmarks.md#suggestions-measured).
# What is suggested is the verifier's decision (suggest.py); a sentence confirmed on
# meaning also needs this score.
CONFIRM_SCORE = 29.0
# Confirmed outright on meaning alone: a cosine at least 0.1 above any wrong suggestion of
# the tune half (the highest was 0.58; the right ones reached 0.74), in a text long enough
# to judge.
CONFIRM_COSINE = 0.70
MIN_CONFIRM_WORDS = 40
# The cheap step (sentences.py's worth_embedding) picks the sentences holding enough of
# some wording's rare terms (CANDIDATE_COVERAGE), or in another language, where shared
# terms say little (and then TOPIC_GATE decides); at most this many a text are embedded.
MAX_EMBEDDED = 5
# Sentences in another language are embedded only where the text's topic (its title, or
# else its first sentence) has at least this cosine with some wording. The lowest such
# cosine of a text holding a translation in the tune half was 0.31; off-topic real pages
# (../shared/corpora/pages) mostly score under 0.2.
TOPIC_GATE = 0.2
# A sentence this similar (rapidfuzz ratio) to a rejected one is vetoed for that claim.
VETO_SIMILARITY = 90.0


@dataclass(frozen=True)
class DetectorSpec:
    """What a worker process needs to build a Detector: plain, picklable data."""

    catalog: Catalog
    threshold: float = DEFAULT_THRESHOLD
    encoder: str = "none"
    cache_dir: Path | None = None
    # (claim id, sentence) pairs a reviewer rejected.
    vetoes: tuple[tuple[str, str], ...] = ()
    # (claim id, sentence) pairs a reviewer confirmed: the verifier learns from both.
    confirmed: tuple[tuple[str, str], ...] = ()
    # Claims to look for, when not all (a re-match for claims just added).
    focus: tuple[str, ...] = ()

    @classmethod
    def learned(
        cls,
        catalog: Catalog,
        confirmed: Iterable[tuple[str, str]] = (),
        rejected: Iterable[tuple[str, str]] = (),
        **options: Any,
    ) -> DetectorSpec:
        """A pass's detector: the catalog plus the sentences reviewers confirmed, as wordings,
        and what they rejected, as vetoes; the verifier of suggestions is fitted again on
        both. `options`: threshold, encoder, cache_dir (as `Settings.detector_options()`
        gives them)."""
        confirmed = tuple(confirmed)
        return cls(
            catalog.with_wordings(confirmed),
            vetoes=tuple(rejected),
            confirmed=confirmed,
            **options,
        )

    def build(self) -> Detector:
        encoder = load_encoder(self.encoder, self.cache_dir) if self.cache_dir else None
        return Detector(
            self.catalog,
            threshold=self.threshold,
            encoder=encoder,
            cache_dir=self.cache_dir,
            vetoes=self.vetoes,
            confirmed=self.confirmed,
            focus=self.focus or None,
        )

    def focus_terms(self) -> FocusTerms | None:
        """What stored text must hold for the focus claims to be worth looking for in it
        (matching/focus.py); None without a focus."""
        return focus_terms(self.catalog, self.focus)

    def key(self) -> str:
        """A digest of everything the detector is built from."""
        content = hashlib.sha256(self.catalog.model_dump_json().encode())
        settings = (
            self.threshold,
            self.encoder,
            self.cache_dir,
            self.vetoes,
            self.confirmed,
            self.focus,
        )
        content.update(repr(settings).encode())
        return content.hexdigest()


@dataclass(frozen=True, slots=True)
class Detection:
    """What detection found in an article (or several): confirmed matches and suggestions."""

    matches: list[Match]
    suggestions: list[Suggestion]
    articles: int = 1

    @classmethod
    def combined(cls, detections: Iterable[Detection]) -> Detection:
        """What several detections found, together."""
        matches: list[Match] = []
        suggestions: list[Suggestion] = []
        articles = 0
        for detection in detections:
            matches += detection.matches
            suggestions += detection.suggestions
            articles += detection.articles
        return cls(matches, suggestions, articles)


class Detector:
    """Finds a catalog's claims in articles. Build once, use for many articles.

    With `focus`, only those claims are looked for, at a fraction of the cost: the fuzzy
    matcher reads their wordings alone. Which sentences are embedded, and meaning, are
    still judged against the whole catalog (a sentence's lift, the one claim it speaks
    for), so that a focused re-match suggests what a full one does: judged by the focus
    claims' terms alone, it left out sentences a full detection embedded for another
    claim's terms and then suggested for a focus claim (11 of 346 suggestions on the
    devset and labelled articles). It may still miss one where sentences quoting other
    claims, which its matcher does not see, take the places of the five embedded.
    """

    def __init__(
        self,
        catalog: Catalog,
        *,
        threshold: float = DEFAULT_THRESHOLD,
        encoder: Encoder | None = None,
        cache_dir: Path | None = None,
        vetoes: Sequence[tuple[str, str]] = (),
        confirmed: Sequence[tuple[str, str]] = (),
        focus: Collection[str] | None = None,
    ) -> None:
        looked_for = catalog.only(focus) if focus is not None else catalog
        self.matcher = Matcher(looked_for, threshold=threshold)
        # Coverage of the whole catalog's wordings, weighed by their terms' rarity, as in a
        # full detection.
        self._index = self.matcher.term_index if focus is None else TermIndex.of(catalog)
        self._encoder = encoder
        self.claim_ids = [c.id for c in catalog.claims]
        self._focus = {c.id for c in looked_for.claims}
        self._wordings, self._first_row = wording_rows(catalog)
        self._required = self.matcher.required_terms
        self._vectors = None
        if encoder is not None and self._wordings:
            if cache_dir is None:
                raise ValueError("an encoder needs a cache folder for the catalog's vectors")
            self._vectors = claim_vectors(self._wordings, encoder, cache_dir)
        self.suggester = Suggester(catalog, self._first_row)
        self._vetoes: dict[str, list[str]] = {}
        for claim_id, sentence in vetoes:
            self._vetoes.setdefault(claim_id, []).append(normalize_text(sentence))
        if encoder is not None and self._vectors is not None and (vetoes or confirmed):
            decided = [(c, s, True) for c, s in confirmed] + [(c, s, False) for c, s in vetoes]
            self.suggester = learned(
                self.suggester, encoder, self._vectors, self._wordings, decided
            )

    def detect(
        self,
        url: str,
        text: str,
        *,
        title: str | None = None,
        meaning: bool = True,
        near: Sequence[SentenceSpan] | None = None,
    ) -> Detection:
        """The claims confirmed in a text and the suggestions for review; without
        `meaning`, the confirmed quotes and near-quotes alone (nothing is embedded); with
        `near`, only sentences overlapping those are embedded."""
        matches, sentences, _, candidates = self.candidates(
            url, text, title=title, meaning=meaning, near=near
        )
        if not candidates:
            return Detection(matches, [])
        suggester = self.suggester
        suggestions = []
        for candidate, p in suggester.chosen(candidates, suggester.probabilities(candidates)):
            sentence = sentences[candidate.sentence]
            cosine, lift = candidate.evidence.get("cosine"), candidate.evidence.get("lift")
            signals = {
                "meaning": round(100 * cosine, 1),
                "lift": round(100 * lift, 1),
                "coverage": round(100 * sentence.coverage, 1),
                "verifier": round(100 * p, 1),
            }
            found = as_match(
                url,
                self.claim_ids[candidate.claim],
                round(candidate.score, 1),
                self._wordings[candidate.row],
                sentence,
            )
            reason = candidate.evidence.reason(p)
            suggestions.append(Suggestion(**asdict(found), signals=signals, reason=reason))
        return Detection(matches, suggestions)

    def candidates(
        self,
        url: str,
        text: str,
        *,
        title: str | None = None,
        meaning: bool = True,
        near: Sequence[SentenceSpan] | None = None,
    ) -> tuple[list[Match], list[Sentence], np.ndarray, list[Candidate]]:
        """The confirmed matches of a text, the sentences read by meaning (those of the
        pass, or with `near`, those of them that overlap one: see _embedded), their
        cosines with every wording, and the (sentence, claim) candidates the verifier
        judges."""
        prose = blank_furniture(text)
        matches = [with_snippet(m, text) for m in self.matcher.match_text(url, prose, title=title)]
        if self._encoder is None or self._vectors is None or not meaning:
            return matches, [], np.zeros((0, 0)), []
        # A sentence that is the evidence of a match quotes that claim: not suggested.
        quoted = [(m.field, m.start, m.end) for m in matches]
        sentences, cosines = self._embedded(text, prose, title, quoted, near)
        if not sentences:
            return matches, [], cosines, []
        scored = self.suggester.scores(cosines)
        long_text = len(prose.split()) >= MIN_CONFIRM_WORDS
        # Confirmed on meaning: a sentence's best claim, the claim's best sentence.
        best_claim = np.argmax(scored.scores, axis=1)
        for c in sorted(set(best_claim.tolist())):
            s = int(np.flatnonzero(best_claim == c)[np.argmax(scored.scores[best_claim == c, c])])
            claim_id, sentence = self.claim_ids[c], sentences[s]
            cosine = float(scored.cosines[s, c])
            if claim_id not in self._focus or claim_id in {m.claim_id for m in matches}:
                continue
            if scored.scores[s, c] < CONFIRM_SCORE or self._vetoed(claim_id, sentence.text):
                continue
            if cosine >= CONFIRM_COSINE and long_text and sentence.field == "text":
                wording = self._wordings[self._nearest_row(cosines[s], c)]
                matches.append(as_match(url, claim_id, round(100 * cosine, 1), wording, sentence))
                quoted.append((sentence.field, sentence.start, sentence.end))
        done = {m.claim_id for m in matches}
        used = {(f, a, b) for f, a, b in quoted}

        def allowed(s: int, c: int) -> bool:
            claim_id, sentence = self.claim_ids[c], sentences[s]
            return (
                claim_id in self._focus
                and claim_id not in done
                and (sentence.field, sentence.start, sentence.end) not in used
                and not self._vetoed(claim_id, sentence.text)
            )

        return (
            matches,
            sentences,
            cosines,
            self.suggester.candidates(sentences, cosines, scored, allowed),
        )

    def _embedded(
        self,
        text: str,
        prose: str,
        title: str | None,
        quoted: list[tuple[str, int, int]],
        near: Sequence[SentenceSpan] | None = None,
    ) -> tuple[list[Sentence], np.ndarray]:
        """The sentences worth embedding, and their cosines with every wording.

        First those sharing enough of some wording's terms. Sentences in another
        language share few terms with the catalog even when they translate a claim, so
        they are embedded only where the text's topic (its title, or else its first
        sentence) is near some claim, or where they name a claim's required term (НАТО,
        北约): most pages in other languages are about something else, and then cost one
        short sentence.

        A focused re-match knows from the sentence index which sentences lie near its
        claims (`near`, archive/near.py), and embeds only those of the sentences above
        that overlap one: the others could not be suggested for them. Over the 3,940
        articles a one-claim re-match of 10^5 read by meaning, it embedded 3,940 sentences
        rather than 19,700, and detection took 15.0 s of CPU rather than 26.0 s.
        """
        assert self._encoder is not None and self._vectors is not None
        candidates = worth_embedding(text, prose, title, quoted, self._index, self._required)
        shared = [s for s in candidates if s.coverage >= CANDIDATE_COVERAGE][:MAX_EMBEDDED]
        others = [s for s in candidates if s.coverage < CANDIDATE_COVERAGE]
        slots = MAX_EMBEDDED - len(shared)
        if near is not None:  # the same choice, less what is near no claim looked for
            shared = [s for s in shared if overlaps(s, near)]
            if not any(overlaps(s, near) for s in others):
                others = []
        topic = []
        if others and slots > 0:
            topic = [title or min(candidates, key=lambda s: (s.field, s.start)).text]
        cosines = self._encoder.encode([s.text for s in shared] + topic) @ self._vectors.T
        if not topic:
            return shared, cosines
        on_topic = cosines[-1].max() >= TOPIC_GATE
        cosines = cosines[:-1]
        if not on_topic:
            others = [s for s in others if s.names_a_required_term]
        others = others[:slots]
        if near is not None:
            others = [s for s in others if overlaps(s, near)]
        if not others:
            return shared, cosines
        more = self._encoder.encode([s.text for s in others]) @ self._vectors.T
        return shared + others, np.vstack([cosines, more])

    def _nearest_row(self, cosines: np.ndarray, claim: int) -> int:
        """The row of the claim's wording nearest to a sentence, from its cosines."""
        first = int(self._first_row[claim])
        last = int(self._first_row[claim + 1]) if claim + 1 < len(self._first_row) else None
        return first + int(np.argmax(cosines[first:last]))

    def _vetoed(self, claim_id: str, sentence: str) -> bool:
        return any(
            fuzz.ratio(sentence, rejected) >= VETO_SIMILARITY
            for rejected in self._vetoes.get(claim_id, ())
        )
