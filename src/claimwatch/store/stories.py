"""Stories: one text carried by many outlets (wire copy, AMP and print pages, republications).

Every stored article gets a sketch: two 64-bit simhashes of the set of its 3-word
shingles (words lowercased, punctuation dropped), each shingle hashed with blake2b
(8 bytes; Python's `hash()` changes between processes), the second half keyed with
SECOND_KEY so that its bits are independent of the first's. Two texts are one story
when their sketches differ in at most `MAX_DISTANCE` of the 128 bits.

Measured on a 444-word wire story with 64 hash keys (tests/test_stories.py, run
with -s), on one 64-bit half: copies with other boilerplate, six edited words or cut to 90 %
lie 6-7 bits away on average, with a new intro paragraph 9, cut to 80 % 11; different
stories on the same topic, sharing much of the vocabulary, 29-31 and never
closer than 20; a follow-up reusing 3 of its 7 paragraphs 22, never closer than
15. k = 3, the usual choice for web pages, would group only exact copies; 1- and
2-word shingles bring different stories closer; 4 and 5 words change little.

Why 128 bits: with one half at 12 bits, an unrelated article joined another story
0.37 % of the time among 10^4 stored, 1.9 % among 10^5 and 13 % among 10^6: at
2 * 10^-7 per pair, a large archive always holds some sketch that close by chance.
Two independent halves square that chance, while a copy's distance stays about twice
the half's. Measured on 8 * 10^8 pairs of synthetic texts drawn from one pool of 251
sentences (`benchmarks/bench_scale.py stories`; harder than news, where texts share
less): 12 bits of one half joined unrelated texts at 1.5e-5 per pair, 24 of 128 bits at
3.8e-9, so 0.37 % of new articles among 10^6 candidates, and found 96.7 % of copies
(12 bits of one half: 95 %).

Lookup is not all-pairs: each half is cut into 8 bands of 8 bits (bytes), and only
texts that share at least one of the 16 bands are compared. By the pigeonhole
principle every pair within 15 bits shares one. And only articles fetched within
`WINDOW` (a setting; 30 days by default) before a new one are looked at: stories are
news echoes, and what a batch reads then does not grow with the archive.

Texts under `MIN_WORDS` words (teasers, stubs) give unstable sketches; they
group by their exact text, their page (canonical URL, else final URL) or, as
before sketches existed, by the same headline as another short text or as an
article stored before sketches existed. Any text joins a story on an equal page
or text; a long text never by its headline alone ("Live: NATO summit").

A new article joins the story of its nearest match (fewest differing bits, then
the earliest fetched, then URL) among the stored articles and the articles of
the same pass fetched before it; otherwise it starts a story named after its
URL. Story ids never change once given: an article close to two stories joins
one, it does not merge them. Sketches stored before the second half existed
(migration 009) are compared by their first half, within `HALF_DISTANCE` bits.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import numpy as np

SHINGLE_WORDS = 3
MAX_DISTANCE = 24  # of the 128 bits of both halves
# A sketch stored before its second half existed: its first half within this many bits.
HALF_DISTANCE = 8
MIN_WORDS = 50
BANDS = 8  # per 64-bit half, of 64 / BANDS = 8 bits each
BAND_BITS = 64 // BANDS
SECOND_KEY = b"claimwatch-sketch-2"
# Candidates of a new article: the articles fetched within this long before it.
WINDOW = timedelta(days=30)

_WORD = re.compile(r"[^\W_]+")


def words(text: str) -> list[str]:
    """The words of a text, lowercased, without punctuation (quotes, dashes, hyphens)."""
    return _WORD.findall(unicodedata.normalize("NFKC", text).casefold())


def simhash(text: str, *, key: bytes = b"") -> int | None:
    """The text's 64-bit sketch, or None when it has fewer than MIN_WORDS words.

    `key` (up to 64 bytes) picks another hash function, to measure how distances vary;
    stored sketches all use the default.
    """
    shingles = _shingles(text)
    return _simhash(shingles, key) if shingles else None


def simhashes(text: str, *, key: bytes = b"") -> tuple[int, int] | None:
    """Both halves of the text's sketch (the second keyed with SECOND_KEY after `key`), or
    None when it has fewer than MIN_WORDS words."""
    shingles = _shingles(text)
    if not shingles:
        return None
    return _simhash(shingles, key), _simhash(shingles, key + SECOND_KEY)


def _shingles(text: str) -> set[str]:
    tokens = words(text)
    if len(tokens) < MIN_WORDS:
        return set()
    return {" ".join(tokens[i : i + SHINGLE_WORDS]) for i in range(len(tokens) - SHINGLE_WORDS + 1)}


def _simhash(shingles: set[str], key: bytes) -> int:
    digests = b"".join(
        hashlib.blake2b(s.encode("utf-8"), digest_size=8, key=key).digest() for s in shingles
    )
    # One row of 64 bits per shingle, bit i of the row = bit i of the little-endian hash.
    bits = np.unpackbits(np.frombuffer(digests, dtype=np.uint8), bitorder="little")
    ones = bits.reshape(-1, 64).sum(axis=0, dtype=np.int64)
    majority = (2 * ones > len(shingles)).astype(np.uint8)
    return int.from_bytes(np.packbits(majority, bitorder="little").tobytes(), "little")


def hamming(a: int, b: int) -> int:
    """How many bits of two sketches differ."""
    return (a ^ b).bit_count()


def distance(
    first: int, second: int | None, other_first: int, other_second: int | None
) -> int | None:
    """How many of the 128 bits of two sketches differ, or None when they are not within
    MAX_DISTANCE. A sketch without its second half (stored before it existed) counts its
    first half twice, and only within HALF_DISTANCE bits."""
    if second is None or other_second is None:
        half = hamming(first, other_first)
        return 2 * half if half <= HALF_DISTANCE else None
    bits = hamming(first, other_first) + hamming(second, other_second)
    return bits if bits <= MAX_DISTANCE else None


def bands(sketch: int) -> tuple[int, ...]:
    """The sketch's bands, low bits first: two sketches are compared only if one is equal."""
    mask = (1 << BAND_BITS) - 1
    return tuple((sketch >> (BAND_BITS * i)) & mask for i in range(BANDS))


def new_story_id(url: str) -> str:
    """The id of a story an article starts: stable, from its URL."""
    return hashlib.sha256(url.encode("utf-8")).hexdigest()[:12]


def page_key(canonical_url: str | None, final_url: str | None) -> str | None:
    """The page an article is a copy of; None for a site's home page (a lazy canonical tag)."""
    page = canonical_url or final_url
    if not page:
        return None
    try:
        path = urlsplit(page).path
    except ValueError:
        return None
    return page if path.strip("/") else None


@dataclass(frozen=True, slots=True)
class Sketch:
    """What story detection keeps of one article."""

    url: str
    simhash: int | None  # None: fewer than MIN_WORDS words
    page: str | None  # page_key()
    headline: str | None  # the normalised headline, if 16 characters or more
    text_sha256: str
    fetched_at: datetime
    simhash2: int | None = None  # the second half; None as for simhash


# Both halves of a text's sketch, or None for a text under MIN_WORDS words (`simhashes`).
Halves = tuple[int, int] | None


def sketch(
    url: str,
    halves: Halves,
    *,
    page: str | None,
    headline: str | None,
    text_sha256: str,
    fetched_at: datetime,
) -> Sketch:
    first, second = halves if halves else (None, None)
    return Sketch(url, first, page, headline, text_sha256, fetched_at, second)


@dataclass(frozen=True, slots=True)
class Candidate:
    """A stored article that may carry the same story as a new one."""

    new_url: str
    url: str
    story_id: str
    distance: int  # differing bits of 128; 0 for an equal page, text or headline
    fetched_at: datetime


@dataclass(frozen=True, slots=True)
class Assignment:
    """The story a new article joins or starts."""

    url: str
    simhash: int | None
    story_id: str
    joined: str | None  # the article whose story it joined; None: it starts one
    distance: int | None
    simhash2: int | None = None


def assign_stories(
    sketches: Sequence[Sketch],
    stored: Iterable[Candidate],
    *,
    max_distance: int = MAX_DISTANCE,
) -> list[Assignment]:
    """Give each new article a story, in the order they were fetched (then by URL).

    `stored`: the stored articles that share a band within `max_distance`, or an
    equal page, text or headline, with each new one (see `story_lookup`).
    Articles of the batch are compared with each other by the same rules, so a
    copy gets the same story whether it arrives in the pass of its original or later.
    """
    options: dict[str, list[Candidate]] = defaultdict(list)
    for c in stored:
        if c.distance <= max_distance:
            options[c.new_url].append(c)
    by_band: dict[tuple[int, int, int], list[Sketch]] = defaultdict(list)
    by_key: dict[tuple[str, str], list[Sketch]] = defaultdict(list)
    story_of: dict[str, str] = {}
    assignments = []
    for s in sorted(sketches, key=lambda s: (s.fetched_at, s.url)):
        found = list(options.get(s.url, ()))
        for earlier, distance in _batch_matches(s, by_band, by_key, max_distance):
            found.append(
                Candidate(s.url, earlier.url, story_of[earlier.url], distance, earlier.fetched_at)
            )
        best = min(found, key=lambda c: (c.distance, c.fetched_at, c.url), default=None)
        story_id = best.story_id if best else new_story_id(s.url)
        story_of[s.url] = story_id
        assignments.append(
            Assignment(
                s.url,
                s.simhash,
                story_id,
                best.url if best else None,
                best.distance if best else None,
                s.simhash2,
            )
        )
        _index(s, by_band, by_key)
    return assignments


def _keys(s: Sketch) -> list[tuple[str, str]]:
    keys = [("text", s.text_sha256)]
    if s.page:
        keys.append(("page", s.page))
    if s.headline and s.simhash is None:
        keys.append(("headline", s.headline))
    return keys


def _all_bands(s: Sketch) -> list[tuple[int, int, int]]:
    """(half, band, value) of each band of the sketch's halves."""
    halves = [h for h in (s.simhash, s.simhash2) if h is not None]
    return [(half, i, v) for half, h in enumerate(halves) for i, v in enumerate(bands(h))]


def _index(
    s: Sketch,
    by_band: dict[tuple[int, int, int], list[Sketch]],
    by_key: dict[tuple[str, str], list[Sketch]],
) -> None:
    for band in _all_bands(s):
        by_band[band].append(s)
    for key in _keys(s):
        by_key[key].append(s)


def _batch_matches(
    s: Sketch,
    by_band: dict[tuple[int, int, int], list[Sketch]],
    by_key: dict[tuple[str, str], list[Sketch]],
    max_distance: int,
) -> Iterable[tuple[Sketch, int]]:
    """Earlier articles of the same batch that carry the same story as `s`."""
    for key in _keys(s):
        yield from ((e, 0) for e in by_key.get(key, ()))
    if s.simhash is not None:
        seen: set[str] = set()
        for band in _all_bands(s):
            for e in by_band.get(band, ()):
                if e.url in seen or e.simhash is None:
                    continue
                seen.add(e.url)
                bits = distance(s.simhash, s.simhash2, e.simhash, e.simhash2)
                if bits is not None and bits <= max_distance:
                    yield e, bits
