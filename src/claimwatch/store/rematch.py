"""Re-matching: which stored texts a re-match reads, read in batches (`rematch_writes`
commits what is found in them, batch by batch)."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pyarrow as pa
from duckdb import DuckDBPyConnection

from claimwatch.archive.terms import uncovered
from claimwatch.matching.focus import FocusTerms
from claimwatch.matching.terms import CJK, CJK_CHARACTERS, PREFIX
from claimwatch.records import SentenceSpan, StoredText
from claimwatch.store.connection import connect
from claimwatch.store.lake import exists as warehouse_exists
from claimwatch.store.reviews import Decided, decided
from claimwatch.store.sentence_near import Near
from claimwatch.store.writers import url_table

# The name under which `_reading` hands a connection the URLs of the articles whose terms
# are not stored for their text: those focus_selection scans.
UNSTORED_TABLE = "unstored_urls"
# The same for the articles the sentence index does not cover.
UNINDEXED_TABLE = "unindexed_urls"
# Texts read per query: the chosen ones (iter_selected_texts), or row ids (iter_all_texts).
READ_AT_ONCE = 2_000

# How a scan reads the articles whose terms are not stored (_scanned_terms): an article's
# title and text (`searched`).
SEARCHED = "coalesce(title, '') || ' ' || text"
# A word `w` folded as normalize_text folds it, as far as Latin and Cyrillic terms go.
FOLDED = "replace(replace(lower(w), 'ё', 'е'), 'ß', 'ss')"
# The languages whose texts are scanned for CJK character pairs (`language`: the article's).
CJK_LANGUAGE = "(language IS NULL OR language LIKE 'zh%' OR language LIKE 'ja%')"

# Every pair of adjacent CJK characters of `searched`, as matching/terms.py pairs them.
CJK_PAIRS = f"""flatten(list_transform(
    regexp_extract_all(searched, '[{CJK_CHARACTERS}]{{2,}}'),
    r -> list_transform(range(1, length(r)), i -> substr(r, i, 2))))"""


def focus_selection(focus: FocusTerms | None, near: Near | None = None) -> tuple[str, list[object]]:
    """A query of the articles a focused re-match reads (url, and whether to look for
    meaning in it), and its parameters; without `focus`, every article.

    An article is read when it holds `focus.min_share` of a focus wording's term weight
    (terms are word beginnings, "pacifi"; CJK ones, two characters, stand anywhere); or,
    with `near` (the sentence index's answer), when the index covers it and one of its
    sentences is near a wording; or, not covered, when it holds one of the terms or is
    not in English (where a translation shares no term). An article the index covers,
    read for its terms alone, is only looked at for quotes: what the detector suggests
    or confirms on meaning lies near in meaning (archive/near.py).

    The terms are looked up in each article's stored terms (archive/terms.py), where the
    share must stand within two adjacent sentences, as a quote does; the texts of
    articles without them, or whose text changed since, are scanned, and the share may
    stand anywhere in them.
    """
    if focus is None:
        return "SELECT url, true AS meaning FROM articles", []
    terms: list[object] = [term for wording in focus.wordings for term, _ in wording]
    # Each article's best share of a wording's weight: over the terms a scan found in its
    # text (`found`), or over its stored terms, gathered as one bit a term in words of 64
    # bits (`m0`, `m1`...: one aggregate an article, a term counted once however often it
    # is stored; an aggregate a term took the choice to 798 MB at 10^6 articles, one bit a
    # term 395 MB).
    bit = {term: divmod(i, 64) for i, term in enumerate(focus.terms)}
    masks = [
        "bit_or(CASE term "
        + " ".join(f"WHEN ? THEN {1 << b}::UBIGINT" for b in range(len(chunk)))
        + f" ELSE 0::UBIGINT END) AS m{c}"
        for c, chunk in enumerate(_chunks(list(focus.terms), 64))
    ]
    # Shares are summed as DOUBLE: as DECIMAL, the sums over the 948,335 pairs of
    # sentences of 10^5 articles took 2.2 s, 0.35 s so.
    summed = [
        " + ".join(
            f"(CASE WHEN (m{bit[t][0]} >> {bit[t][1]}) & 1 = 1 THEN {share!r}::DOUBLE ELSE 0 END)"
            for t, share in w
        )
        for w in focus.wordings
    ]
    listed = [
        " + ".join(
            f"(CASE WHEN list_contains(found, ?) THEN {share!r} ELSE 0 END)" for _, share in w
        )
        for w in focus.wordings
    ]
    posted_share = f"greatest({', '.join(summed)})" if summed else "0"
    scanned_share = f"greatest({', '.join(listed)})" if listed else "0"
    found, found_parameters = _scanned_terms(focus)
    covered = f"share >= {focus.min_share!r}"
    not_english = "coalesce(language, '') NOT LIKE 'en%'"
    before_index = f"(held > 0 OR {not_english})"
    # Without the sentence index, an article holding a term (every one with stored terms
    # found) or not in English.
    condition, condition_parameters = f"({covered} OR {before_index})", []
    meaning, meaning_parameters = "true", []
    posted_condition, posted_parameters = "true", []
    unposted_condition, unposted_parameters = not_english, []
    if near is not None:
        unindexed = f"url IN (SELECT url FROM {UNINDEXED_TABLE})"
        close, close_parameters = near.near()
        # Read for its words alone (no sentence near in meaning), it needs no embedding.
        meaning, meaning_parameters = f"({close} OR {unindexed})", close_parameters
        condition = f"({covered} OR {close} OR ({unindexed} AND {before_index}))"
        condition_parameters = close_parameters
        # The same condition, where held > 0 (an article found among the stored terms)
        # or held = 0 (the others).
        together = "url IN (SELECT url FROM together)"
        posted_condition = f"({together} OR {close} OR {unindexed})"
        posted_parameters = close_parameters
        unposted_condition = f"({close} OR ({unindexed} AND {not_english}))"
        unposted_parameters = close_parameters
    # The articles found among the stored terms are chosen by their shares alone, and the
    # others by their URL and language, never all of them joined with their shares: at
    # 10^6 articles, of which 881,888 hold a term of "Where NATO goes, war is most
    # likely", that join took the choice to 635 MB, and 553 MB without it. The shares of
    # pairs of adjacent sentences (`first` and the one after it) are summed only in the
    # articles holding a wording's share anywhere (`anywhere`): in all of them, each
    # sentence with a term would be a group of its own, twice. Each term is given to its
    # two pairs once the terms are filtered: unnested in a join instead, every stored
    # term was copied first, and the query took 5.6 GB at 10^5 articles (307 MB so).
    mask_columns = ", ".join(masks)
    query = f"""
        WITH wanted AS (
            SELECT unnest(?::VARCHAR[]) AS term
        ), posted AS (
            SELECT url, {posted_share} AS share FROM (
                SELECT article_url AS url, {mask_columns} FROM sentence_terms
                WHERE term IN (SELECT term FROM wanted) GROUP BY article_url)
        ), anywhere AS (
            SELECT url FROM posted WHERE {covered}
        ), together AS (
            SELECT DISTINCT url FROM (
                SELECT url, {posted_share} AS share FROM (
                    SELECT url, {mask_columns} FROM (
                        SELECT article_url AS url, unnest([sentence, sentence - 1]) AS first,
                            term
                        FROM sentence_terms WHERE term IN (SELECT term FROM wanted)
                            AND article_url IN (SELECT url FROM anywhere))
                    GROUP BY url, first))
            WHERE {covered}
        ), stored AS (
            SELECT url FROM posted WHERE {posted_condition}
            UNION
            SELECT url FROM articles WHERE {unposted_condition}
        ), scanned AS (
            SELECT url, language, {scanned_share} AS share, len(found) AS held FROM (
                SELECT url, language, {found} AS found FROM (
                    SELECT url, language, {SEARCHED} AS searched FROM articles
                    WHERE url IN (SELECT url FROM {UNSTORED_TABLE})))
        )
        SELECT url, {meaning} AS meaning FROM (
            SELECT url FROM stored WHERE url NOT IN (SELECT url FROM {UNSTORED_TABLE})
            UNION ALL
            SELECT url FROM scanned WHERE coalesce({condition}, false))"""
    parameters: list[object] = [list(focus.terms), *focus.terms, *focus.terms]
    parameters += [*posted_parameters, *unposted_parameters]
    parameters += [*terms, *found_parameters, *condition_parameters]
    return query, [*parameters, *meaning_parameters]


def _scanned_terms(focus: FocusTerms) -> tuple[str, list[object]]:
    """An SQL expression of the focus terms a stored text (`searched`) holds, found by
    RE2, and its parameters: terms as the matcher's (matching/terms.py).

    RE2 reads the text unfolded: terms are looked for ignoring case, and a word found is
    folded as terms.py folds it. Lowering and folding every text before the search took
    14.4-18.6 s at 10^5 articles on one thread, against 10.1-10.6 s so.
    """
    latin = [t for t in focus.terms if not CJK.search(t)]
    cjk = [t for t in focus.terms if CJK.search(t)]
    found: list[str] = []
    parameters: list[object] = []
    if latin:
        # The words that begin with a term, cut to their first letters as terms.py cuts
        # them ("warship" is "warshi", not "war"), kept when one is a term: one pass of
        # RE2 over the text.
        found.append(
            f"list_intersect(list_transform(regexp_extract_all(searched, ?, 1),"
            f" w -> left({FOLDED}, {PREFIX})), ?::VARCHAR[])"
        )
        alternatives = "|".join(_unfolded(t) for t in latin)
        parameters += [f"(?i)(?:^|[^\\pL\\pN_])((?:{alternatives})[\\pL\\pN_]*)", latin]
    if cjk:  # character pairs stand anywhere, looked for in texts that may hold them
        found.append(
            f"CASE WHEN {CJK_LANGUAGE} THEN list_intersect({CJK_PAIRS}, ?::VARCHAR[])"
            " ELSE []::VARCHAR[] END"
        )
        parameters.append(cjk)
    return f"list_distinct({' || '.join(found) or '[]::VARCHAR[]'})", parameters


def _chunks(items: list[str], size: int) -> list[list[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _unfolded(term: str) -> str:
    """A RE2 pattern of `term` in text not yet folded: е may be ё, ss may be ß, and so may
    a last s (a term cut at PREFIX letters may keep half of the ss a ß became)."""
    pattern = re.escape(term).replace("ss", "(?:ss|ß)").replace("е", "[её]")
    return pattern[:-1] + "(?:s|ß)" if pattern.endswith("s") else pattern


@contextmanager
def _reading(
    db: Path,
    near: Near | None,
    *,
    wait: float = 0.0,
    threads: int | None = None,
    memory: str | None = None,
) -> Iterator[DuckDBPyConnection]:
    """A read-only connection in a transaction, holding the tables the SQL of
    focus_selection names: `near`'s URLs, those of the articles the sentence index does
    not cover (UNINDEXED_TABLE), and those of the articles whose terms are not stored for
    their text (UNSTORED_TABLE). Found once, before the query: each condition of the
    query that found them took its own hash table of every article's URL (at 10^6
    articles, the choice peaked at 763 MB so, 635 MB found once). With `memory`, DuckDB
    keeps to it, writing what does not fit to a temporary folder, removed after."""
    with ExitStack() as stack:
        # Made before the connection, so that it is removed after DuckDB lets it go.
        spill = (
            stack.enter_context(tempfile.TemporaryDirectory(prefix="claimwatch-choice-"))
            if memory is not None
            else None
        )
        con = stack.enter_context(connect(db, read_only=True, wait=wait))
        if threads is not None:
            con.execute(f"SET threads = {int(threads)}")
        if spill is not None:
            con.execute(f"SET memory_limit = '{memory}'")
            quoted = spill.replace("'", "''")
            con.execute(f"SET temp_directory = '{quoted}'")
        con.execute("BEGIN TRANSACTION")  # one snapshot for the URLs and the query
        if near is not None:
            near.register(con)
            con.register(UNINDEXED_TABLE, con.execute(*near.unindexed()).to_arrow_table())
        unstored = con.execute(f"SELECT url FROM articles AS a WHERE {uncovered('a')}")
        con.register(UNSTORED_TABLE, unstored.to_arrow_table())
        yield con


def iter_stored_texts(
    db: Path, batch_size: int, focus: FocusTerms | None = None, near: Near | None = None
) -> Iterator[list[StoredText]]:
    """The stored articles' URL, title and text, in batches: every article, streamed in
    storage order; or, with `focus`, those `focus_selection` lets through, chosen first
    (select_stored) and read after (iter_selected_texts)."""
    if focus is not None:
        yield from iter_selected_texts(db, batch_size, select_stored(db, focus, near))
        return
    with connect(db, read_only=True) as con:
        cursor = con.execute("SELECT url, title, text, true FROM articles")
        while rows := cursor.fetchmany(batch_size):
            yield [StoredText(*row) for row in rows]


def select_stored(
    db: Path,
    focus: FocusTerms,
    near: Near | None = None,
    *,
    wait: float = 0.0,
    threads: int | None = None,
    memory: str | None = None,
) -> dict[str, bool]:
    """The URLs of the articles a focused re-match reads (focus_selection), each with
    whether to look for meaning in it: the selection made once, its texts read after
    (iter_selected_texts), its complement removed at the end (finish_rematch).

    `threads`: DuckDB's threads for the query, set for the whole process (each thread
    keeps the memory its share of the texts scanned took); `memory`: DuckDB's memory
    limit for it ("300MB"), past which it writes to a temporary folder."""
    query, parameters = focus_selection(focus, near)
    with _reading(db, near, wait=wait, threads=threads, memory=memory) as con:
        rows = con.execute(query, parameters).fetchall()
    return {str(url): bool(meaning) for url, meaning in rows}


def iter_all_texts(db: Path, batch_size: int) -> Iterator[list[StoredText]]:
    """Every stored article's text, in batches, each to be looked at for meaning: what a
    full re-match reads.

    Read READ_AT_ONCE row ids at a time: DuckLake keeps a row's id when an update or a
    compaction moves it, and skips the files a range misses. One query streaming every
    text took the flow's process from 306 MB to 485 MB at once at 10^6 articles (see
    iter_selected_texts); read so, it stayed at 377-439 MB. Articles stored after the
    first query wait for the next re-match: the pass that stored them matched them.
    """
    with connect(db, read_only=True) as con:
        row = con.execute("SELECT max(rowid) FROM articles").fetchone()
        last = row[0] if row else None
        if last is None:  # no article
            return
        reads = (
            con.execute(
                "SELECT url, title, text FROM articles WHERE rowid >= ? AND rowid < ?",
                [first, first + READ_AT_ONCE],
            ).to_arrow_table()
            for first in range(0, int(last) + 1, READ_AT_ONCE)
        )
        yield from _in_batches(reads, batch_size, lambda url: True, {})


def iter_selected_texts(
    db: Path,
    batch_size: int,
    selected: Mapping[str, bool],
    near: Mapping[str, tuple[SentenceSpan, ...]] | None = None,
) -> Iterator[list[StoredText]]:
    """The texts of the articles `select_stored` chose, in batches, each read for meaning
    in its `near` sentences alone where it has some (an article removed since is skipped).

    Read READ_AT_ONCE at a time, in URL order: DuckDB (1.5.5) holds far more of a
    streamed result of long texts than its streaming buffer allows (duckdb-python issue
    617), and one query over the 173,228 texts chosen of 10^6 held 230 MB in the flow's
    process while it ran. Queries of 2,000 held 50 MB, and took 10 s rather than 3 s:
    a query's URLs lie close in order, so DuckDB reads few texts besides theirs (in the
    order chosen, 176 MB and 16 s).
    """
    urls = sorted(selected)
    with connect(db, read_only=True) as con:

        def reads() -> Iterator[pa.Table]:
            for first in range(0, len(urls), READ_AT_ONCE):
                con.register("selected", url_table(urls[first : first + READ_AT_ONCE]))
                yield con.execute(
                    "SELECT url, title, text FROM articles WHERE url IN (SELECT url FROM selected)"
                ).to_arrow_table()

        yield from _in_batches(reads(), batch_size, selected.__getitem__, near or {})


def _in_batches(
    reads: Iterator[pa.Table],
    batch_size: int,
    meaning: Callable[[str], bool],
    near: Mapping[str, tuple[SentenceSpan, ...]],
) -> Iterator[list[StoredText]]:
    """The rows of `reads` (url, title, text) in batches of `batch_size`, the last one
    shorter, each with `meaning(url)` and its `near` sentences.

    Each table stays in Arrow until its batch is due: as Python strings (two or four
    bytes a character, once a text holds one outside Latin-1) 2,000 texts took the flow's
    process from about 415 MB to 460 at 10^5."""
    batch: list[StoredText] = []
    for read in reads:
        start = 0
        while start < read.num_rows:
            part = read.slice(start, batch_size - len(batch))
            start += part.num_rows
            columns = (part.column(name).to_pylist() for name in ("url", "title", "text"))
            for url, title, text in zip(*columns, strict=True):
                batch.append(StoredText(url, title, text, meaning(url), near.get(url)))
            if len(batch) == batch_size:
                yield batch
                batch = []
    if batch:
        yield batch


def count_stored_texts(db: Path, focus: FocusTerms | None = None, near: Near | None = None) -> int:
    """How many articles a re-match reads with `focus` and `near` (every one without)."""
    if focus is None:
        with connect(db, read_only=True) as con:
            row = con.execute("SELECT count(*) FROM articles").fetchone()
    else:
        query, parameters = focus_selection(focus, near)
        with _reading(db, near) as con:
            row = con.execute(f"SELECT count(*) FROM ({query})", parameters).fetchone()
    return int(row[0]) if row else 0


def read_decided(db: Path, *, wait: float = 0.0) -> Decided:
    """What reviewers decided so far, for the detector of a re-match."""
    if not warehouse_exists(db):
        return Decided()
    with connect(db, read_only=True, wait=wait) as con:
        return decided(con)
