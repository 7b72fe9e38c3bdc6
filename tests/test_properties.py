"""Property tests: invariants that must hold for any text, not just the examples we thought of."""

import string
from functools import cache

from hypothesis import given, settings
from hypothesis import strategies as st

from claimwatch.matching.catalog import load_catalog
from claimwatch.matching.matcher import Matcher
from claimwatch.matching.normalize import normalize, sentence_spans
from claimwatch.urls import normalize_url
from tests.conftest import SEEDS

# Text with the characters that make normalisation hard: curly quotes, dashes,
# ligatures, combining marks, zero-width and non-breaking spaces, CJK, newlines.
TRICKY = "“”‘’«»—–−ﬁß İ\u00ad\u200b\u00a0\u0301\n\t. !?北约Ж"
texts = st.text(alphabet=st.sampled_from(string.printable + TRICKY), max_size=400) | st.text(
    max_size=200
)

ON_TOPIC = [
    "NATO ministers met in Brussels on Tuesday.",
    "The alliance discussed air defence and ammunition stocks.",
    "Japan and Australia sent observers to the exercise.",
    "Officials declined to comment on the draft communique.",
]


@given(texts)
def test_normalised_characters_map_back_in_order(text: str) -> None:
    norm = normalize(text)
    assert len(norm.origins) == len(norm.text)
    assert list(norm.origins) == sorted(norm.origins)
    assert all(0 <= i < len(text) for i in norm.origins)


@given(texts)
def test_normalisation_is_idempotent_on_its_output(text: str) -> None:
    once = normalize(text).text
    assert normalize(once).text == once


@given(texts)
def test_sentences_are_ordered_disjoint_and_trimmed(text: str) -> None:
    norm = normalize(text).text
    previous_end = 0
    for start, end in sentence_spans(norm):
        assert previous_end <= start < end <= len(norm)
        assert not norm[start].isspace() and not norm[end - 1].isspace()
        previous_end = end


@settings(max_examples=60, deadline=None)
@given(texts)
def test_matcher_never_crashes_and_offsets_cut_the_matched_text(text: str) -> None:
    matcher = _matcher()
    for hit in matcher.find(text, title=text[:80]) + matcher.rank(text, top=3):
        source = text if hit.field == "text" else text[:80]
        assert source[hit.start : hit.end] == hit.matched_text
        assert 0 <= hit.score <= 100


@settings(max_examples=40, deadline=None)
@given(
    claim_index=st.integers(min_value=0, max_value=27),
    before=st.lists(st.sampled_from(ON_TOPIC), max_size=4),
    after=st.lists(st.sampled_from(ON_TOPIC), max_size=4),
    quote=st.sampled_from(['"{}"', "“{}”", "{}", "«{}»"]),
)
def test_a_claim_inserted_into_on_topic_text_is_found(
    claim_index: int, before: list[str], after: list[str], quote: str
) -> None:
    claims = load_catalog(SEEDS / "claims.yaml").claims
    claim = claims[claim_index % len(claims)]
    sentence = "A spokesman said " + quote.format(claim.text) + "."
    text = " ".join([*before, sentence, *after])
    hits = {h.claim_id: h for h in _matcher().find(text)}
    assert claim.id in hits
    assert text[hits[claim.id].start : hits[claim.id].end] == hits[claim.id].matched_text


@cache
def _matcher() -> Matcher:
    return Matcher(load_catalog(SEEDS / "claims.yaml"))


urls = st.builds(
    lambda scheme, host, path, query, fragment: f"{scheme}://{host}/{path}?{query}#{fragment}",
    st.sampled_from(["http", "HTTPS", "https"]),
    st.sampled_from(["Example.org", "news.example.COM:443", "x.example:8080"]),
    st.text(alphabet=string.ascii_letters + "/-_.", max_size=30),
    st.sampled_from(["", "utm_source=rss", "id=4&utm_medium=x", "fbclid=1&a=b"]),
    st.text(alphabet=string.ascii_letters, max_size=5),
)


@given(urls)
def test_url_normalisation_is_idempotent_and_drops_tracking(url: str) -> None:
    once = normalize_url(url)
    assert normalize_url(once) == once
    assert "utm_" not in once and "fbclid" not in once and "#" not in once
    assert once.split("://", 1)[0] in ("http", "https")
