"""RequiredTerms: where a normalised text names a claim's required terms."""

from __future__ import annotations

from claimwatch.matching.required import RequiredTerms


def spans_naming(terms: RequiredTerms, text: str, spans: list[tuple[int, int]]) -> list[list[bool]]:
    return terms.named(text, spans).tolist()


def test_a_term_names_itself_with_a_short_ending() -> None:
    terms = RequiredTerms([("NATO", "alliance")])
    text = "nato's leaders met. the alliances held. natoxxxx is a brand. the natomical age."
    spans = [(0, 19), (20, 38), (39, 60), (61, len(text))]
    assert spans_naming(terms, text, spans) == [[True], [True], [False], [False]]


def test_a_term_must_lie_wholly_inside_the_span() -> None:
    terms = RequiredTerms([("NATO",)])
    text = "the nato summit"
    assert spans_naming(terms, text, [(0, 6), (4, 8), (5, 15)]) == [[False], [True], [False]]


def test_groups_share_terms_and_answer_separately() -> None:
    terms = RequiredTerms([("NATO", "bloc"), ("China", "Beijing"), ("NATO",)])
    text = "the bloc warned beijing."
    assert spans_naming(terms, text, [(0, len(text))]) == [[True, True, False]]


def test_chinese_terms_need_no_word_boundary() -> None:
    terms = RequiredTerms([("北约",)])
    text = "有评论指出北约走到哪里"
    assert spans_naming(terms, text, [(0, len(text)), (0, 5)]) == [[True], [False]]


def test_a_later_occurrence_is_found_after_an_earlier_rejected_one() -> None:
    terms = RequiredTerms([("NATO",)])
    text = "natoland and then nato"
    assert spans_naming(terms, text, [(0, 8), (13, len(text))]) == [[False], [True]]


def test_a_latin_term_inside_japanese_text_is_named() -> None:
    terms = RequiredTerms([("NATO",)])
    text = "報道官は、natoが現れるところでは混乱が起きると述べた。"
    assert spans_naming(terms, text, [(0, len(text))]) == [[True]]
    assert spans_naming(terms, "natoxxxxが来る", [(0, 12)]) == [[False]]
