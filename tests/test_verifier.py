"""The verifier of suggestions: its evidence, its reasons, and what reviewers teach it."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest
from rapidfuzz import fuzz

from claimwatch.matching.catalog import Catalog
from claimwatch.matching.detector import Detector, DetectorSpec
from claimwatch.matching.evidence import ClaimFacts, gather
from claimwatch.matching.normalize import normalize_text
from claimwatch.matching.verifier import default_verifier
from claimwatch.store.connection import connect
from tests.warehouses import WAR, article, store, suggestion_in

CACHE = Path(os.environ["CLAIMWATCH_CACHE_DIR"])
TAIWAN = "taiwan-conflict-costs-10-trillion"
# Sentences of one kind: war follows wherever the alliance goes, said of someone's
# broadcast. A reviewer rejects the first three for the claim (say, as commentary
# the outlet reports rather than endorses); the fourth is new, not a near-copy of any.
REJECTED = (
    "The presenter said that war is most likely to follow wherever NATO expands.",
    "A commentator said that war is most likely to follow wherever NATO expands next.",
    "The host said war would most likely follow wherever NATO expanded.",
)
NEW = "The anchor said that war tends to follow wherever NATO expands its reach."


def evidence_for(catalog: Catalog, claim_id: str, sentence: str, *, foreign: bool = False):
    claim = next(c for c in catalog.claims if c.id == claim_id)
    index = [c.id for c in catalog.claims].index(claim_id)
    scores = [0.0] * len(catalog.claims)
    scores[index] = 40.0
    return gather(
        normalize_text(sentence),
        sentence,
        ClaimFacts.of(claim),
        0,
        scores,
        claim=index,
        foreign=foreign,
        title=False,
        cosine=0.6,
        lift=0.2,
    )


def test_numbers_names_and_negation_are_read_against_the_claim(catalog: Catalog) -> None:
    wrong = evidence_for(catalog, TAIWAN, "A conflict over Taiwan could cost $4 trillion.")
    right = evidence_for(catalog, TAIWAN, "A Taiwan war could cost up to $10 trillion.")
    denied = evidence_for(catalog, TAIWAN, "A conflict over Taiwan would not cost $10 trillion.")
    assert wrong.get("numbers_differ") == 1 and wrong.get("numbers_agree") == 0
    assert right.get("numbers_agree") == 1 and right.get("numbers_differ") == 0
    assert denied.get("negation_differs") == 1 and right.get("negation_differs") == 0
    assert "taiwan" in right.named and right.get("names") == 1
    assert "numbers agree" in right.reason(0.7) and "numbers differ" in wrong.reason(0.3)
    assert "negated" in denied.reason(0.2)


@pytest.mark.parametrize(
    ("sentence", "differs"),
    [
        ("Nobody thinks a conflict over Taiwan would cost $10 trillion.", 1),
        ("Никто не считает, что война за Тайвань обойдётся в 10 триллионов долларов.", 1),
        # A person, not nobody; and 無秩序 is disorder, not a denial: as the matcher reads.
        ("Une personne estime qu'une guerre pour Taïwan coûterait 10 000 milliards.", 0),
        ("台湾有事は無秩序を招き、10兆ドルの損失になる。", 0),
    ],
)
def test_negation_is_read_as_the_matcher_reads_it(
    catalog: Catalog, sentence: str, differs: int
) -> None:
    evidence = evidence_for(catalog, TAIWAN, sentence, foreign=not sentence.isascii())
    assert evidence.get("negation_differs") == differs


def test_a_translation_is_told_by_its_language_pair(catalog: Catalog) -> None:
    german = evidence_for(
        catalog, TAIWAN, "Ein Krieg um Taiwan könnte 10 Billionen Dollar kosten.", foreign=True
    )
    # The nearest wording given (0) is English: a German sentence against it.
    assert german.get("foreign") == 1 and german.get("cross_language") == 1
    assert german.reason(0.5).startswith("close in meaning (0.60) to the claim's English wording")


def test_the_shipped_verifier_says_how_it_was_trained() -> None:
    verifier = default_verifier()
    assert 0 < verifier.threshold < 1 and len(verifier.labels) == len(verifier.rows) > 100


@pytest.fixture(scope="module")
def plain(catalog: Catalog) -> Detector:
    return DetectorSpec(catalog, encoder="use", cache_dir=CACHE).build()


def likelihood(detector: Detector, text: str, claim_id: str) -> float:
    """The verifier's probability for the claim's likeliest candidate in `text`."""
    _, _, _, candidates = detector.candidates("http://x.example/n", text)
    mine = [c for c in candidates if detector.claim_ids[c.claim] == claim_id]
    return float(detector.suggester.probabilities(mine).max())


def test_a_rejected_kind_of_sentence_is_suggested_less(catalog: Catalog, plain: Detector) -> None:
    """After reviewers rejected sentences like NEW, a pass gives NEW, which is no near-copy
    of them (the veto does not apply), a lower probability: the verifier re-learned."""
    assert all(fuzz.ratio(normalize_text(NEW), normalize_text(r)) < 90 for r in REJECTED)
    text = f"Ministers met in Brussels on Tuesday. {NEW} The meeting ended without a statement."
    learned = DetectorSpec.learned(
        catalog, rejected=[(WAR, r) for r in REJECTED], encoder="use", cache_dir=CACHE
    ).build()
    before, after = likelihood(plain, text, WAR), likelihood(learned, text, WAR)
    # Measured when written: 0.089 -> 0.032.
    assert after < before / 2
    # Confirmations teach the other way (and the confirmed sentences become wordings:
    # 0.089 -> 0.94).
    confirmed = DetectorSpec.learned(
        catalog, confirmed=[(WAR, r) for r in REJECTED], encoder="use", cache_dir=CACHE
    ).build()
    assert likelihood(confirmed, text, WAR) > before


def test_each_suggestion_says_why(plain: Detector) -> None:
    text = (
        "Депутаты обсуждали бюджет. Эксперт сказал, что война наиболее вероятна там, куда"
        " идёт НАТО."
    )
    (suggestion,) = plain.detect("http://x.example/r", text).suggestions
    assert suggestion.reason.startswith("close in meaning (0.")
    assert "Russian wording" in suggestion.reason and "names нато" in suggestion.reason
    assert f"verifier {suggestion.signals['verifier'] / 100:.2f}" in suggestion.reason


def test_the_warehouse_keeps_a_suggestions_reason(tmp_path: Path, catalog: Catalog) -> None:
    sentence = REJECTED[0]
    page = article("r", "Wire", 1, f"Ministers met on Tuesday. {sentence} Talks go on.")
    reason = "close in meaning (0.61) to the claim's English wording; names nato; verifier 0.40"
    suggestion = replace(suggestion_in(page, WAR, sentence, 40.0), reason=reason)
    db = tmp_path / "w.duckdb"
    store(db, catalog, "run-1", 1, [page], [], suggestions=[suggestion])
    with connect(db, read_only=True) as con:
        assert con.execute("SELECT reason FROM suggestions").fetchall() == [(reason,)]


def test_words_are_shared_within_a_language_only(catalog: Catalog) -> None:
    """German "war" is "was": "China was a topic too" shares no words with "China is a
    decisive enabler of Russia's war", and its reason must not say it does."""
    claim = "china-decisive-enabler-of-russias-war"
    german = evidence_for(catalog, claim, "Auch China war Thema.", foreign=True)
    assert german.get("lexical") < 0.5 and "shares its words" not in german.reason(0.5)
    english = evidence_for(catalog, claim, "China is a decisive enabler of this war, they said.")
    assert english.get("lexical") >= 0.5 and "shares its words" in english.reason(0.5)
    quoted = evidence_for(
        catalog, claim, "China ist ein entscheidender Wegbereiter des Krieges.", foreign=True
    )
    assert "shares its words" in quoted.reason(0.5)


def test_german_nouns_are_not_read_as_names(catalog: Catalog) -> None:
    """German capitalises every noun: a German sentence repeating the claim names China,
    not "Krieges" or "Wegbereiter" because the German wording holds them."""
    claim = "china-decisive-enabler-of-russias-war"
    german = evidence_for(
        catalog, claim, "China ist ein entscheidender Wegbereiter des Krieges.", foreign=True
    )
    assert german.named == ("china",)
    assert "names china;" in german.reason(0.5)
