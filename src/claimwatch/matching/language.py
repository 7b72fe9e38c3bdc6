"""Is a text in English? Ranking weighs its signals by the answer.

py3langid (a naive Bayes model over byte n-grams, numpy only) names the language. Its
97 languages include some that short English sentences resemble (Nigerian Pidgin,
Welsh, Afrikaans): limited to the languages of news claimwatch meets, it called 45 of
the 10,000 English sentences of benchmarks/data/xling "not English" (0.45%) and 9 of
their 10,000 translations "English", and every one of CLEF 2020's 997 train and dev
tweets English (lowercased first: capitals led it astray on 44 of them).
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

# The languages a text is told apart from English among: the multilingual encoder's
# sixteen, and the other languages of Europe and Asia with a large press.
LANGUAGES = (
    "en de fr es it nl pl pt ru zh ja ko ar tr th uk el sv da no fi cs sk hu ro bg sr hr he fa "
    "hi id vi ca lt lv et sl"
)
# Characters read: a few sentences say the language of a text.
SAMPLE = 600
_NOISE = re.compile(r"https?://\S*|pic\.twitter\.com/\S*|\bwww\.\S+|[@#]\w*")


@cache
def _identifier() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE)
    identifier.set_languages(LANGUAGES.split())
    return identifier


def is_english(text: str) -> bool:
    """Whether the text reads as English (links, handles and hashtags aside)."""
    sample = _NOISE.sub(" ", text[:SAMPLE]).lower()
    if not any(c.isalpha() for c in sample):
        return True  # nothing to tell by: the English rankers lose nothing on it
    language, _ = _identifier().classify(sample)
    return bool(language == "en")
