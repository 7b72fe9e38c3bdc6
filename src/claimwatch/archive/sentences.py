"""Which sentences of an article the index holds: the title, and the sentences of its prose
long enough to say something (page furniture, such as menus and cookie notices, left out).

Each is cut and normalised as the detector reads it (matching/detector.py), so that its
stored vector is the one the detector would embed: the multilingual encoder is
case-sensitive, and a sentence embedded as stored scored 6 points apart from the same
sentence case-folded (29.6 against 35.7 for a claim).
"""

from __future__ import annotations

import re
from typing import NamedTuple

from claimwatch.matching.encoder import Encoder
from claimwatch.matching.furniture import blank_furniture
from claimwatch.matching.normalize import normalize, normalize_text, sentence_spans

# Names how sentences are cut and embedded; changed, every article is indexed again.
FORM = "normalized"
MIN_WORDS = 5
# Chinese and Japanese write no spaces: a sentence counts this many of their characters.
MIN_CJK_CHARACTERS = 10
# A long page (a transcript, a live blog) is indexed up to this many sentences: past them
# a pass of the index would spend more on one page than on a hundred others.
MAX_SENTENCES = 200

_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")


class Sentence(NamedTuple):
    field: str  # "title" or "text"
    start: int  # offsets into the stored field
    end: int
    text: str  # normalised: what is embedded


def index_model(encoder: Encoder) -> str:
    """What an index made with `encoder` is keyed by (indexed_articles.model)."""
    return f"{encoder.version}/{FORM}"


def says_something(sentence: str) -> bool:
    return len(sentence.split()) >= MIN_WORDS or len(_CJK.findall(sentence)) >= MIN_CJK_CHARACTERS


def indexed_sentences(title: str | None, text: str) -> list[Sentence]:
    """The title (when it has three words or more) and the prose's sentences, in order."""
    found = []
    if title and (len(title.split()) >= 3 or len(_CJK.findall(title)) >= 4):
        found.append(Sentence("title", 0, len(title), normalize_text(title)))
    prose = normalize(blank_furniture(text))
    for start, end in sentence_spans(prose.text):
        sentence = prose.text[start:end]
        if says_something(sentence):
            found.append(Sentence("text", *prose.original_span(start, end), sentence))
            if len(found) > MAX_SENTENCES:
                break
    return found
