"""Text normalisation for matching, keeping a map back to the original offsets."""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache

from claimwatch.matching.hanzi import TO_SIMPLIFIED

_QUOTES = "‘’‚‛′`´ʼ"
_DOUBLE_QUOTES = "“”„‟″«»"
_DASHES = "‐‑‒–—―−"
_TRANSLATE = (
    {ord(c): "'" for c in _QUOTES}
    | {ord(c): '"' for c in _DOUBLE_QUOTES}
    | {ord(c): "-" for c in _DASHES}
)
_TYPOGRAPHIC = re.compile(f"[{re.escape(_QUOTES + _DOUBLE_QUOTES + _DASHES)}]")
# Letters written two ways in one language, folded to one: Russian prints "е" for "ё" more
# often than not, and Chinese is written in traditional or simplified characters (hanzi.py).
_SPELLINGS = TO_SIMPLIFIED | str.maketrans("ё", "е")
# Letters whose lower case is two characters: Turkish İ lowers to i and a combining dot,
# which splits the word for the term index ("i̇stanbul" read as "stanbul"); folded as
# DuckDB's lower() folds it, and as a reader reads it.
_LOWER = {"İ": "i"}
# Invisible characters that split words in copy-pasted text.
_DROP = frozenset("\u00ad\u200b\u200c\u200d\u2060\ufeff")
_LINE_BREAKS = frozenset("\n\r\u2028\u2029")
# The end of a sentence: terminal punctuation (and closing quotes) before a space, or a line
# break; in Chinese and Japanese, the ideographic full stop needs no space after it.
_SENTENCE_END = re.compile(r"[.!?…]+[\"')\]]*[ \n]+|。[\"')\]」』]*[ \n]*|\n+")


@dataclass(frozen=True, slots=True)
class Normalized:
    """Normalised text and where each of its characters came from, kept as runs: the
    characters from `run_starts[k]` to the next run's start came from consecutive
    characters of the original, the first of them at `run_origins[k]`. (A list of every
    character's origin made normalising a page a quarter slower.)"""

    text: str
    run_starts: tuple[int, ...]
    run_origins: tuple[int, ...]

    def origin(self, index: int) -> int:
        """The index in the original string that normalised character `index` came from."""
        run = bisect_right(self.run_starts, index) - 1
        return self.run_origins[run] + index - self.run_starts[run]

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """The span of the original string that normalised characters [start, end) came from."""
        return self.origin(start), self.origin(end - 1) + 1

    @property
    def origins(self) -> tuple[int, ...]:
        """Every character's origin, in order."""
        return tuple(self.origin(i) for i in range(len(self.text)))


# The detector reads each article twice, through the fuzzy matcher and then its own cheap
# step; the last few texts are kept so that the second read costs nothing.
@lru_cache(maxsize=4)
def normalize(text: str) -> Normalized:
    """NFKC, case-folded, with one kind of quote and dash and collapsed whitespace.

    Whitespace runs become one space, or one newline if they hold a line break,
    so sentence splitting can still see paragraph ends.
    """
    out: list[str] = []
    starts: list[int] = []
    origins: list[int] = []
    length = 0
    # Whitespace is written only once something visible follows it, so runs
    # around dropped characters collapse and none leads or trails.
    pending_space: tuple[str, int] | None = None

    def emit(value: str, origin: int, *, folded: bool = False) -> None:
        """Writes `value`, whose characters came from the original's, one for one from
        `origin` on, or, `folded`, all from the one character at `origin`."""
        nonlocal pending_space, length
        if not value:
            return
        if pending_space is not None:
            if out:
                out.append(pending_space[0])
                starts.append(length)
                origins.append(pending_space[1])
                length += 1
            pending_space = None
        out.append(value)
        if not folded:
            starts.append(length)
            origins.append(origin)
            length += len(value)
            return
        for _ in value:
            starts.append(length)
            origins.append(origin)
            length += 1

    # Curly quotes and dashes map one to one, so mapping them first keeps every
    # offset and lets the prose around them take the ASCII fast path below.
    text = _TYPOGRAPHIC.sub(lambda found: _TRANSLATE[ord(found.group())], text)
    for piece in _PIECES.finditer(text):
        start, run = piece.start(), piece.group()
        if run[0].isspace():
            newline = any(c in _LINE_BREAKS for c in run)
            if pending_space is None or (newline and pending_space[0] == " "):
                pending_space = ("\n" if newline else " ", start)
        elif run.isascii() and run.isprintable():
            # The common case: one lower-cased character per character.
            emit(run.lower(), start)
        else:
            for offset, char in enumerate(run):
                if char.isspace():
                    newline = char in _LINE_BREAKS
                    if pending_space is None or (newline and pending_space[0] == " "):
                        pending_space = ("\n" if newline else " ", start + offset)
                    continue
                emit(_fold(char), start + offset, folded=True)
    return _rewrite_amounts(Normalized("".join(out), tuple(starts), tuple(origins)))


@lru_cache(maxsize=4096)
def _fold(char: str) -> str:
    """One character as it is compared: one quote and dash, NFKC, case-folded, one
    spelling of letters written two ways."""
    if char in _DROP or unicodedata.category(char) == "Cc":
        return ""
    mapped = (
        _TRANSLATE.get(ord(char))
        or _LOWER.get(char)
        or unicodedata.normalize("NFKC", char).casefold()
    )
    return "".join(m for m in mapped if not m.isspace()).translate(_SPELLINGS)


# Runs of ASCII words with single spaces between them (the fast path), of other
# whitespace, of control characters, and of anything else.
_PIECES = re.compile(r"[!-~]+(?: [!-~]+)*|\s+|[\x00-\x1f\x7f]+|[^\x00-\x7f\s]+")


# Money is written many ways: "$10tn", "US$10 trillion", "10 trillion dollars".
# All become "$10 trillion" so that a number is compared as one wording.
# Each rewrite comes with a string that any text it applies to holds: a cheap
# test that spares most texts the regular expression.
_AMOUNT_REWRITES = (
    ("$", re.compile(r"\bus ?\$"), "$"),
    ("tn", re.compile(r"\$ ?(\d+(?:[.,]\d+)?) ?tn\b"), r"$\1 trillion"),
    ("bn", re.compile(r"\$ ?(\d+(?:[.,]\d+)?) ?bn\b"), r"$\1 billion"),
    (
        "dollars",
        re.compile(
            r"(?<![$\d])(\d+(?:[.,]\d+)?) (trillion|billion|million) (?:us |u\.s\. )?dollars\b"
        ),
        r"$\1 \2",
    ),
)


def _rewrite_amounts(norm: Normalized) -> Normalized:
    text = norm.text
    if not any(needle in text and p.search(text) for needle, p, _ in _AMOUNT_REWRITES):
        return norm  # most texts: no amount, and no origin is needed one by one
    origins = list(norm.origins)
    for needle, pattern, replacement in _AMOUNT_REWRITES:
        if needle not in text or not pattern.search(text):
            continue
        pieces: list[str] = []
        new_origins: list[int] = []
        last = 0
        for found in pattern.finditer(text):
            pieces.append(text[last : found.start()])
            new_origins.extend(origins[last : found.start()])
            new = found.expand(replacement)
            # The first character keeps the match's first origin and the last its
            # last, so spans over the rewritten amount cover the original exactly.
            first, final = origins[found.start()], origins[found.end() - 1]
            new_origins.extend([first] * (len(new) - 1) + [final])
            pieces.append(new)
            last = found.end()
        pieces.append(text[last:])
        new_origins.extend(origins[last:])
        text, origins = "".join(pieces), new_origins
    return _as_runs(text, origins)


def _as_runs(text: str, origins: list[int]) -> Normalized:
    """`text` whose characters came from `origins`, one each."""
    starts: list[int] = []
    firsts: list[int] = []
    for index, origin in enumerate(origins):
        if not starts or origin != firsts[-1] + index - starts[-1]:
            starts.append(index)
            firsts.append(origin)
    return Normalized(text, tuple(starts), tuple(firsts))


def normalize_text(text: str) -> str:
    """Just the normalised string, for wordings that need no offsets."""
    return normalize(text).text.replace("\n", " ")


@lru_cache(maxsize=4)  # as normalize()
def sentence_spans(text: str) -> tuple[tuple[int, int], ...]:
    """[start, end) of each sentence of normalised `text`, without surrounding spaces."""
    spans: list[tuple[int, int]] = []
    start = 0
    for boundary in _SENTENCE_END.finditer(text):
        end = boundary.end()
        _append_stripped(spans, text, start, end)
        start = end
    _append_stripped(spans, text, start, len(text))
    return tuple(spans)


def _append_stripped(spans: list[tuple[int, int]], text: str, start: int, end: int) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        spans.append((start, end))
