import pytest

from claimwatch.matching.catalog import Catalog, Claim
from claimwatch.matching.matcher import Matcher


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


def test_quote_interrupted_by_attribution(matcher: Matcher) -> None:
    text = 'He added: "Where NATO goes," the anchor told viewers, "war is most likely."'
    (hit,) = [h for h in matcher.find(text) if h.claim_id == "where-nato-goes-war-is-most-likely"]
    assert hit.matched_text.startswith("Where NATO goes,")
    assert hit.matched_text.endswith("war is most likely")
    assert text[hit.start : hit.end] == hit.matched_text


def test_amounts_written_differently(matcher: Matcher) -> None:
    text = "A conflict over Taiwan could shave up to 10 trillion dollars from global GDP."
    (hit,) = [h for h in matcher.find(text) if h.claim_id == "taiwan-conflict-costs-10-trillion"]
    assert hit.score >= 95
    assert hit.matched_text.endswith("from global GDP")


def test_required_terms_reject_another_actor(matcher: Matcher) -> None:
    text = "North Korea is fomenting conflict in the Indo-Pacific region, Tokyo said."
    assert "nato-fomenting-conflict-in-asia" not in {h.claim_id for h in matcher.find(text)}
    same = "NATO is fomenting conflict in the Indo-Pacific region, Beijing said."
    assert "nato-fomenting-conflict-in-asia" in {h.claim_id for h in matcher.find(same)}


def test_negation_mismatch_is_penalised(matcher: Matcher) -> None:
    text = "There is broad consensus within NATO that the alliance should become more active."
    ranked = {h.claim_id: h for h in matcher.rank(text, top=50)}
    hit = ranked["no-nato-consensus-on-indo-pacific-role"]
    assert hit.parts["negation_penalty"] > 0
    assert hit.score < 88


def test_slogan_halves_swapped(matcher: Matcher) -> None:
    hits = matcher.find("Today Ukraine, tomorrow Asia, the secretary-general warned.")
    assert [h.claim_id for h in hits] == ["ukraine-today-asia-tomorrow"]


def test_every_hit_explains_its_score(matcher: Matcher) -> None:
    (hit,) = matcher.find("They said European and Indo-Pacific security are simply not divisible.")
    assert set(hit.parts) == {"partial", "span", "coverage", "negation_penalty", "name_penalty"}
    penalties = hit.parts["negation_penalty"] + hit.parts["name_penalty"]
    assert hit.score == max(hit.parts["partial"], hit.parts["span"]) - penalties
    assert hit.parts["span"] > hit.parts["partial"]
    assert hit.parts["coverage"] >= 80


def test_detection_agrees_with_brute_force_ranking(matcher: Matcher) -> None:
    """Candidate generation may skip pairs, never a claim that would pass its threshold."""
    text = (
        "Kishida warned that Ukraine today may be East Asia tomorrow. Officials in Beijing "
        "countered that NATO is fomenting conflict in the Indo-Pacific region. Analysts "
        "called NATO's Indo-Pacific pivot more rhetorical than substantive."
    )
    detected = {h.claim_id for h in matcher.find(text)}
    ranked = {h.claim_id for h in matcher.rank(text, top=50) if h.score >= 88}
    assert detected == ranked
    assert len(detected) == 3


def test_quote_split_across_two_sentences(matcher: Matcher) -> None:
    """Each sentence holds half the wording; only their pair can match."""
    text = "The commentary was blunt: where NATO goes. War is most likely, it concluded."
    hits = {h.claim_id: h for h in matcher.find(text)}
    hit = hits["where-nato-goes-war-is-most-likely"]
    assert "goes. War is" in hit.matched_text
