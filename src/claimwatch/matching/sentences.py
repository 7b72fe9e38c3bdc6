"""The sentences detection reads by meaning, and how they become evidence of a match.

Kept apart from detector.py: the detector picks and embeds sentences, suggest.py
judges them, and both hand them on as this module's `Sentence`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from claimwatch.matching.terms import STOPWORDS
from claimwatch.matching.windows import snippet
from claimwatch.records import Match

# Characters read to tell a text's language (a few sentences).
LANGUAGE_SAMPLE = 1000
MIN_SENTENCE_WORDS = 5


@dataclass(frozen=True, slots=True)
class Sentence:
    field: str
    original: str  # the field's original text
    start: int  # offsets into it
    end: int
    text: str  # normalised
    coverage: float
    names_a_required_term: bool = False


def not_english(text: str) -> bool:
    """Whether `text` is in another script (Cyrillic, Chinese...) or in a Latin-script
    language other than English (hardly any English function words), where terms shared
    with an English wording say nothing about a translation. Judged on its beginning:
    reading a whole page cost more than the rest of the cheap step."""
    text = text[:LANGUAGE_SAMPLE]
    if len(_OTHER_SCRIPT.findall(text)) > len(_LETTER.findall(text)) / 2:
        return True
    words = _WORD.findall(text.lower())
    return len(words) >= MIN_SENTENCE_WORDS and sum(w in STOPWORDS for w in words) < len(words) / 10


_WORD = re.compile(r"[^\W\d_]+")
_LETTER = re.compile(r"[^\W\d_]")
# Letters past Latin Extended-B: Cyrillic, Greek, Arabic, Chinese, Japanese...
_OTHER_SCRIPT = re.compile(r"[^\W\d_\x00-\u024f]")


def as_match(url: str, claim_id: str, score: float, wording: str, sentence: Sentence) -> Match:
    """The sentence as the evidence of a claim in an article."""
    return Match(
        url,
        claim_id,
        score,
        sentence.field,
        wording,
        sentence.original[sentence.start : sentence.end],
        sentence.start,
        sentence.end,
        snippet(sentence.original, sentence.start, sentence.end),
    )


def with_snippet(match: Match, text: str) -> Match:
    """The match with its snippet taken from the text as stored, not the blanked one."""
    if match.field != "text":
        return match
    return replace(match, snippet=snippet(text, match.start, match.end))
