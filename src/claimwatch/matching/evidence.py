"""The evidence for a suggestion: what a (sentence, claim) pair shows beyond its cosine.

The verifier (verifier.py) weighs these features; the same facts, said in words, tell a
reviewer why a sentence was suggested. Every feature is cheap (a few rapidfuzz calls
and regular expressions per candidate, a handful of candidates per article): the
encoder's cosines come from the detector's pass.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz

from claimwatch.matching.catalog import Claim
from claimwatch.matching.names import capitalised
from claimwatch.matching.negation import negated
from claimwatch.matching.normalize import normalize_text
from claimwatch.matching.terms import CJK

# The verifier's inputs, in the order of its weights (verifier.json).
FEATURES = (
    "cosine",  # with the claim's nearest wording
    "lift",  # that cosine less the sentence's mean cosine over every claim
    "margin",  # the claim's score less the best other claim's, for this sentence
    "best",  # 1 when the claim is the sentence's best
    "lexical",  # token-set overlap with the claim's best wording, 0-1
    "chars",  # character overlap (partial ratio) with the claim's best wording, 0-1
    "numbers_agree",
    "numbers_differ",
    "names",  # the sentence names one of the claim's names or required terms
    "other_names",  # capitalised names in the sentence that no wording has, up to 3, /3
    "negation_differs",  # one of the two is negated, the other not
    "foreign",  # the sentence is not in English
    "cross_language",  # and its nearest wording is in another language than the sentence
    "foreign_cosine",  # per-language calibration of the cosine
    "words",  # log of the sentence's length in words
    "title",  # the sentence is the title
)

LANGUAGE_NAMES = {
    "en": "English",
    "de": "German",
    "fr": "French",
    "es": "Spanish",
    "it": "Italian",
    "nl": "Dutch",
    "pl": "Polish",
    "pt": "Portuguese",
    "ru": "Russian",
    "zh": "Chinese",
    "ja": "Japanese",
    "ko": "Korean",
    "ar": "Arabic",
    "tr": "Turkish",
    "uk": "Ukrainian",
}

_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


@dataclass(frozen=True, slots=True)
class ClaimFacts:
    """What the evidence compares a sentence with, read once per claim."""

    wordings: tuple[str, ...]  # normalised
    languages: tuple[str, ...]  # each wording's language ("en" when unmarked)
    numbers: frozenset[str]
    names: tuple[str, ...]  # lowercased names and required terms of any wording
    # The normalised wordings a sentence's words are compared with: the English ones for
    # an English sentence, the others for one in another language.
    english: tuple[str, ...]
    translated: tuple[str, ...]

    @classmethod
    def of(cls, claim: Claim) -> ClaimFacts:
        languages = tuple(language or "en" for language in claim.wording_languages)
        names = {t.lower() for t in claim.required_terms}
        for wording, language in zip(claim.wordings, languages, strict=True):
            if language != "de":  # German capitalises every noun: Krieg is no name
                names.update(n.lower().removesuffix("'s") for n in capitalised(wording))
        wordings = tuple(normalize_text(w) for w in claim.wordings)
        return cls(
            wordings,
            languages,
            frozenset(n for w in claim.wordings for n in _numbers(w)),
            tuple(sorted(names)),
            tuple(w for w, lang in zip(wordings, languages, strict=True) if lang == "en"),
            tuple(w for w, lang in zip(wordings, languages, strict=True) if lang != "en"),
        )


@dataclass(frozen=True, slots=True)
class Evidence:
    """The features of one candidate, and what the reason text says of them."""

    values: tuple[float, ...]  # in FEATURES order
    wording_language: str
    named: tuple[str, ...]

    def get(self, name: str) -> float:
        return self.values[FEATURES.index(name)]

    def reason(self, probability: float) -> str:
        """Why the sentence was suggested, in words."""
        language = LANGUAGE_NAMES.get(self.wording_language, self.wording_language)
        parts = [f"close in meaning ({self.get('cosine'):.2f}) to the claim's {language} wording"]
        if self.get("best"):
            parts.append(f"nearer to it than to any other claim (by {self.get('margin'):.2f})")
        if self.get("lexical") >= 0.5:
            parts.append(f"shares its words ({self.get('lexical'):.2f})")
        if self.named:
            parts.append("names " + ", ".join(self.named[:3]))
        if self.get("numbers_agree"):
            parts.append("numbers agree")
        if self.get("numbers_differ"):
            parts.append("but its numbers differ")
        if self.get("negation_differs"):
            parts.append("but one of them is negated")
        parts.append(f"verifier {probability:.2f}")
        return "; ".join(parts)


def gather(
    sentence: str,
    original: str,
    facts: ClaimFacts,
    nearest: int,
    scores: Sequence[float],
    *,
    claim: int,
    foreign: bool,
    title: bool,
    cosine: float,
    lift: float,
) -> Evidence:
    """The evidence that normalised `sentence` (as written: `original`) restates a claim.

    `nearest`: the index, among the claim's wordings, of the one nearest in meaning;
    `scores`: the sentence's score (0-100) for every claim of the catalog, `claim` the
    one judged here.
    """
    others = np.delete(np.asarray(scores, dtype=np.float64), claim)
    own = float(scores[claim])
    best_other = float(others.max()) if len(others) else 0.0
    wording = facts.wordings[nearest]
    # Words are shared within a side of the language line only: German "war" (was) is not
    # the English wordings' "war".
    same_side = facts.translated if foreign else facts.english
    lexical = max((fuzz.token_set_ratio(sentence, w) for w in same_side), default=0.0) / 100
    chars = fuzz.partial_ratio(sentence, wording) / 100
    numbers = _numbers(original)
    lowered = sentence.lower()
    named = tuple(n for n in facts.names if _names(lowered, n))
    wordings_text = " ".join(facts.wordings).lower()
    strangers = {n.lower() for n in capitalised(original) if n.lower() not in wordings_text}
    language = facts.languages[nearest]
    cross = foreign == (language == "en")
    values = (
        cosine,
        lift,
        (own - best_other) / 100,
        float(own >= best_other),
        lexical,
        chars,
        float(bool(numbers & facts.numbers)),
        float(bool(numbers) and bool(facts.numbers) and not numbers & facts.numbers),
        float(bool(named)),
        min(len(strangers), 3) / 3,
        float(negated(sentence) != negated(wording)),
        float(foreign),
        float(cross),
        cosine * foreign,
        math.log(1 + len(sentence.split())),
        float(title),
    )
    return Evidence(values, language, named)


def _numbers(text: str) -> frozenset[str]:
    return frozenset(n.replace(",", "").replace(".", "") for n in _NUMBER.findall(text))


def _names(text: str, name: str) -> bool:
    at = text.find(name)
    if at < 0:
        return False
    if CJK.search(name):
        return True
    after = at + len(name)
    return (at == 0 or not text[at - 1].isalnum()) and (
        after >= len(text) or not text[after : after + 4].strip("'s").isalpha()
    )
