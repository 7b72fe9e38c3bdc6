import pytest

from claimwatch.matching.normalize import normalize, sentence_spans
from claimwatch.matching.terms import terms


def test_quotes_dashes_case_and_spaces() -> None:
    norm = normalize("  “Where  NATO’s\u00a0Goes” —\n\n war ")
    assert norm.text == '"where nato\'s goes" -\nwar'


@pytest.mark.parametrize(
    "text",
    [
        "Plain ASCII text.",
        "Ligature ﬁne and “quotes”",
        "Soft\u00adhyphen and zero\u200bwidth",
        "İstanbul ẞ",
    ],
)
def test_every_normalised_character_maps_back(text: str) -> None:
    norm = normalize(text)
    assert len(norm.origins) == len(norm.text)
    assert list(norm.origins) == sorted(norm.origins)
    for i, char in enumerate(norm.text):
        original = text[norm.origins[i]]
        assert char == " " or char in normalize(original).text or original.isspace()


def test_turkish_dotted_capital_i_folds_to_one_letter() -> None:
    # Lowered as Python lowers it (i and a combining dot), "İstanbul" lost its first term.
    assert normalize("İSTANBUL, İzmir").text == "istanbul, izmir"
    assert terms(normalize("İstanbul").text) == terms(normalize("Istanbul").text) == {"istanb"}


def test_original_span_round_trip() -> None:
    text = "Officials said: “Ukraine Today, Asia Tomorrow.” Nothing more."
    norm = normalize(text)
    start = norm.text.index("ukraine")
    end = norm.text.index("tomorrow") + len("tomorrow")
    s, e = norm.original_span(start, end)
    assert text[s:e] == "Ukraine Today, Asia Tomorrow"


def test_sentence_spans_split_on_punctuation_and_lines() -> None:
    text = normalize('one two. "three four?" five\nsix seven').text
    assert [text[s:e] for s, e in sentence_spans(text)] == [
        "one two.",
        '"three four?"',
        "five",
        "six seven",
    ]


def test_chinese_and_japanese_sentences_end_at_the_ideographic_full_stop() -> None:
    text = normalize(
        "北约走到哪里，哪里就有战争。评论员这样说。「NATOが来る所に混乱が起きる。」と述べた。"
    ).text
    assert [text[a:b] for a, b in sentence_spans(text)] == [
        "北约走到哪里,哪里就有战争。",
        "评论员这样说。",
        "「natoが来る所に混乱が起きる。」",
        "と述べた。",
    ]
