"""Terms of normalised text, and the term index's coverage."""

from __future__ import annotations

import numpy as np

from claimwatch.matching.terms import TermIndex, terms, wording_terms


def test_latin_words_are_prefixes_without_stopwords() -> None:
    assert terms("where nato goes, war is most likely") == {
        "where",
        "nato",
        "goes",
        "war",
        "likely",
    }
    assert terms("the divisibility of security") == {"divisi", "securi"}


def test_a_latin_word_written_against_japanese_is_a_term_of_its_own() -> None:
    found = terms("natoが現れるところ")
    assert "nato" in found and "現れ" in found
    assert not any("nato" in t and t != "nato" for t in found)


def test_chinese_bigrams_do_not_bridge_a_latin_word() -> None:
    found = terms("北约nato峰会")
    assert {"北约", "峰会", "nato"} <= found
    assert "约峰" not in found


def test_best_coverage_can_be_limited_to_some_wordings() -> None:
    index = TermIndex(["where nato goes war is most likely", "ukraine today asia tomorrow"])
    found = terms("ukraine today, they said")
    assert index.best_coverage(found) > 0.3
    assert index.best_coverage(found, np.array([True, False])) == 0.0
    assert index.best_coverage(terms("nothing shared here")) == 0.0


def test_best_covered_keeps_every_windows_best_wordings() -> None:
    """On a catalog where an article's terms reach thousands of wordings, the rows
    best_covered keeps give each window the same `keep` best coverages, ties included, as
    the exact coverage of every candidate does."""
    rng = np.random.default_rng(3)
    vocabulary = [f"word{n:03d}" for n in range(300)]
    wordings = [" ".join(rng.choice(vocabulary, size=rng.integers(4, 10))) for _ in range(5000)]
    wordings += wordings[:200]  # exact ties
    index = TermIndex(wordings)
    windows = [terms(" ".join(rng.choice(vocabulary, size=12))) for _ in range(6)]
    windows.append(windows[0] | windows[1])  # a pair of adjacent sentences
    unions = [None] * 6 + [(0, 1)]
    everything = index.candidates(set().union(*windows), 0.0)
    keep = 16
    kept = index.best_covered(everything, windows, unions, keep)
    assert keep < len(kept) < len(everything) // 4  # it does leave most of them out
    full = index.coverage_matrix(everything, windows, unions)
    part = index.coverage_matrix(kept, windows, unions)
    for w in range(len(windows)):
        kth = np.sort(full[w])[-keep]
        assert np.sort(part[w])[-keep] == kth
        best = set(everything[full[w] >= kth].tolist())
        assert best <= set(kept.tolist())


def test_a_wordings_function_words_are_left_out_in_its_language() -> None:
    german = "wo die nato hingeht, ist krieg am wahrscheinlichsten"
    assert wording_terms(german, "de") == {"wo", "nato", "hingeh", "krieg", "wahrsc"}
    assert {"die", "ist", "am"} <= terms(german)  # a text's terms keep them
    # "war" is a term of an English wording, and German for "was".
    assert "war" in wording_terms("where nato goes, war is most likely")
    assert "war" not in wording_terms("es war einmal", "de")
    assert wording_terms("là où va l'otan, la guerre est la plus probable", "fr") == {
        "où", "va", "otan", "guerre", "probab"
    }  # fmt: skip
    # A page's small words no longer cover a German wording: "die" and "ist" held more
    # of its weight than "krieg".
    index = TermIndex([german, "ukraine today asia tomorrow"], ["de", None])
    assert index.best_coverage(terms("wo die sonne am heissesten ist")) < 0.3
    assert index.best_coverage(terms("wo die nato hingeht, droht krieg")) > 0.6
