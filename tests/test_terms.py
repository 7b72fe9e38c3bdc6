"""Terms of normalised text, and the term index's coverage."""

from __future__ import annotations

import numpy as np

from claimwatch.matching.terms import TermIndex, terms


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
