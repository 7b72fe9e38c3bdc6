"""The sentences around a piece of evidence, for a person judging it.

A suggested sentence read alone often misleads ("They say so." — who, what?); the
sentence before and after it usually settles whether it restates the claim. The
sentences are those the matcher splits the text into, mapped back to the stored text.
"""

from __future__ import annotations

from typing import NamedTuple

from claimwatch.matching.normalize import normalize, sentence_spans

# A neighbouring "sentence" longer than this (a paragraph without full stops) is cut.
MAX_CONTEXT_CHARS = 400


class Context(NamedTuple):
    before: str  # the sentence before the evidence, or ""
    sentence: str  # the evidence as stored, from `start` to `end`
    after: str  # the sentence after it, or ""


def sentence_context(text: str, start: int, end: int) -> Context:
    """The evidence at [start, end) of `text` with one sentence on either side.

    Offsets outside the text (a text changed since) give the stored slice, whatever it
    is, and no context.
    """
    if not (0 <= start < end <= len(text)):
        return Context("", text[max(start, 0) : max(end, 0)], "")
    norm = normalize(text)
    spans = [norm.original_span(a, b) for a, b in sentence_spans(norm.text)]
    first = next((i for i, (_, b) in enumerate(spans) if b > start), None)
    last = next((i for i in range(len(spans) - 1, -1, -1) if spans[i][0] < end), None)
    if first is None or last is None:
        return Context("", text[start:end], "")
    before = _clip(text[slice(*spans[first - 1])], tail=True) if first > 0 else ""
    after = _clip(text[slice(*spans[last + 1])], tail=False) if last + 1 < len(spans) else ""
    return Context(before, text[start:end], after)


def _clip(sentence: str, *, tail: bool) -> str:
    """A long neighbour cut to the part nearest the evidence."""
    sentence = " ".join(sentence.split())
    if len(sentence) <= MAX_CONTEXT_CHARS:
        return sentence
    return "…" + sentence[-MAX_CONTEXT_CHARS:] if tail else sentence[:MAX_CONTEXT_CHARS] + "…"
