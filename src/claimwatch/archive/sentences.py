"""Which sentences of an article the index holds: the title, and the sentences of its prose
long enough to say something (page furniture, such as menus and cookie notices, left out)."""

from __future__ import annotations

import re
from typing import NamedTuple

from claimwatch.matching.furniture import blank_furniture
from claimwatch.matching.normalize import sentence_spans

MIN_WORDS = 5
# Chinese and Japanese write no spaces: a sentence counts this many of their characters.
MIN_CJK_CHARACTERS = 10
# A long page (a transcript, a live blog) is indexed up to this many sentences: past them
# a pass of the index would spend more on one page than on a hundred others.
MAX_SENTENCES = 200

_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")


class Sentence(NamedTuple):
    field: str  # "title" or "text"
    start: int
    end: int
    text: str


def says_something(sentence: str) -> bool:
    return len(sentence.split()) >= MIN_WORDS or len(_CJK.findall(sentence)) >= MIN_CJK_CHARACTERS


def indexed_sentences(title: str | None, text: str) -> list[Sentence]:
    """The title (when it has three words or more) and the prose's sentences, in order."""
    found = []
    if title and (len(title.split()) >= 3 or len(_CJK.findall(title)) >= 4):
        found.append(Sentence("title", 0, len(title), title))
    prose = blank_furniture(text)
    for start, end in sentence_spans(prose):
        sentence = text[start:end]
        if says_something(sentence):
            found.append(Sentence("text", start, end, sentence))
            if len(found) > MAX_SENTENCES:
                break
    return found
