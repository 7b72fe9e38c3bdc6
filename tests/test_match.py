import pytest

from claimwatch.catalog import Catalog, Claim
from claimwatch.match import Matcher


@pytest.fixture(scope="module")
def matcher(catalog: Catalog) -> Matcher:
    return Matcher(catalog)


@pytest.mark.parametrize(
    ("text", "claim_id", "quoted"),
    [
        (
            'A commentary argued that "Where NATO goes, war is most likely." Brussels disagreed.',
            "where-nato-goes-war-is-most-likely",
            "Where NATO goes, war is most likely",
        ),
        (
            "The headline read: WHERE NATO GOES, WAR IS MOST LIKELY — and it spread.",
            "where-nato-goes-war-is-most-likely",
            "WHERE NATO GOES, WAR IS MOST LIKELY",
        ),
        (
            "Kishida warned that Ukraine today may be East Asia tomorrow.",
            "ukraine-today-asia-tomorrow",
            "Ukraine today may be East Asia tomorrow",
        ),
        (
            "Officials repeated the slogan “Ukraine today, Asia tomorrow” at the forum.",
            "ukraine-today-asia-tomorrow",
            "Ukraine today, Asia tomorrow",
        ),
        (
            "The spokesman said wherever NATO shows up, turmoil and chaos will follow, again.",
            "wherever-nato-shows-up-turmoil-follows",
            "wherever NATO shows up, turmoil and chaos will follow",
        ),
        (
            "The allies said China has become a decisive enabler of Russia’s war against Ukraine.",
            "china-decisive-enabler-of-russias-war",
            "China has become a decisive enabler of Russia’s war against Ukraine",
        ),
    ],
)
def test_finds_quotes_with_exact_spans(
    matcher: Matcher, text: str, claim_id: str, quoted: str
) -> None:
    hits = {h.claim_id: h for h in matcher.find(text)}
    assert claim_id in hits
    hit = hits[claim_id]
    assert hit.matched_text == quoted
    assert text[hit.start : hit.end] == quoted
    assert hit.score >= 95
    assert hit.field == "text"
    assert quoted in hit.snippet


def test_near_quote_is_found_with_lower_score(matcher: Matcher) -> None:
    text = (
        "Moscow insisted that NATO will not expand to include any country"
        " from the Indo-Pacific as members."
    )
    (hit,) = [
        h for h in matcher.find(text) if h.claim_id == "nato-will-not-admit-indo-pacific-members"
    ]
    assert 88 <= hit.score < 100
    assert hit.matched_text.startswith("NATO will not expand")


def test_quote_split_across_sentences(matcher: Matcher) -> None:
    text = "European and Indo-Pacific security. Are not divisible, the summit said."
    assert "european-and-indo-pacific-security-indivisible" in {
        h.claim_id for h in matcher.find(text)
    }


@pytest.mark.parametrize(
    "text",
    [
        "Where NATO goes, investment follows, the chamber of commerce said.",
        "The panel on Ukraine opens today. Asia is the theme of tomorrow's keynote session.",
        "NATO ministers met in Brussels to discuss ammunition stocks and air defence.",
        "War.",
        "",
    ],
)
def test_hard_negatives_are_not_matched(matcher: Matcher, text: str) -> None:
    assert matcher.find(text) == []


def test_headline_counts_as_text(matcher: Matcher) -> None:
    hits = matcher.find(
        "Nothing relevant in the body.", title="Where NATO Goes, War Is Most Likely"
    )
    assert [(h.claim_id, h.field, h.start) for h in hits] == [
        ("where-nato-goes-war-is-most-likely", "title", 0)
    ]


def test_per_claim_threshold_overrides_default() -> None:
    claim = Claim(id="c", text="Where NATO goes, war is most likely")
    text = "He wrote that where NATO goes, war is likely."
    lenient = Matcher(Catalog(claims=(claim,)), threshold=80)
    strict = Matcher(Catalog(claims=(claim.model_copy(update={"threshold": 99.0}),)), threshold=80)
    assert lenient.find(text)
    assert strict.find(text) == []


def test_rank_returns_top_k_whatever_the_score(matcher: Matcher) -> None:
    ranked = matcher.rank("NATO ministers met in Brussels.", top=3)
    assert len(ranked) == 3
    assert [h.score for h in ranked] == sorted((h.score for h in ranked), reverse=True)
    assert all(h.score < 88 for h in ranked)


def test_best_wording_is_reported(matcher: Matcher) -> None:
    (hit,) = [h for h in matcher.find("Ukraine today may be East Asia tomorrow.")]
    assert hit.variant == "Ukraine today may be East Asia tomorrow"
