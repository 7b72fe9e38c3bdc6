"""Detection with two decisions: confirmed matches and suggestions, on real encoders."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from claimwatch.matching.article_eval import evaluate_articles, load_articles
from claimwatch.matching.catalog import Catalog
from claimwatch.matching.detector import Detector, DetectorSpec
from claimwatch.matching.encoder import Encoder, encoder_name, load_encoder
from claimwatch.matching.furniture import blank_furniture, is_furniture
from claimwatch.settings import load_settings

CACHE = Path(os.environ["CLAIMWATCH_CACHE_DIR"])
ARTICLES = Path(__file__).parent / "data" / "articles.jsonl"
# (The verifier leaves out weaker restatements, such as "State television told viewers
# that war is the most likely result wherever the alliance goes next.": cosine 0.45,
# probability 0.06 against a threshold of 0.17.)
RESTATED = "The presenter said that war is most likely to follow wherever NATO expands."


@pytest.fixture(scope="module")
def encoder() -> Encoder:
    loaded = load_encoder("use", CACHE)
    assert loaded is not None
    return loaded


@pytest.fixture(scope="module")
def detector(catalog: Catalog, encoder: Encoder) -> Detector:
    return Detector(catalog, encoder=encoder, cache_dir=CACHE)


@pytest.mark.parametrize(
    "line",
    [
        "Home | World | Asia | Opinion",
        "Related: 'Ukraine today, Asia tomorrow' — what the slogan means",
        "Most read: Where NATO goes, war is most likely",
        "We use cookies to improve your experience.",
        "MANAGE COOKIE-SETTINGS",
        "当サイトではクッキーを使用しています。",
        "Subscribe to our Asia newsletter for daily updates.",
        "À lire aussi : l'OTAN en Asie",
        "Relacionado: «Ucrania hoy, Asia mañana»",
        "Читайте также: НАТО в Азии",
        "相关阅读：北约走到哪里",
    ],
)
def test_page_furniture_is_recognised(line: str) -> None:
    assert is_furniture(line)


@pytest.mark.parametrize(
    "line",
    [
        "Related talks between the two ministries resumed on Monday.",
        "The ministry said: where NATO goes, war is most likely.",
        "Latest figures show trade between the two countries fell by a fifth.",
    ],
)
def test_prose_is_not_furniture(line: str) -> None:
    assert not is_furniture(line)


def test_blanking_furniture_keeps_every_offset() -> None:
    text = "Home | World | Asia\nWhere NATO goes, war is most likely, it said.\nWe use cookies."
    blanked = blank_furniture(text)
    assert len(blanked) == len(text)
    assert blanked.split("\n")[1] == text.split("\n")[1]
    assert blanked.split("\n")[0].strip() == blanked.split("\n")[2].strip() == ""


def test_a_quote_is_confirmed_and_a_restatement_suggested(detector: Detector) -> None:
    text = (
        "Ministers met in Brussels on Tuesday. "
        "The editorial repeated that Ukraine today could be East Asia tomorrow. "
        f"{RESTATED} The meeting ended without a statement."
    )
    found = detector.detect("http://x.example/a", text)
    assert [m.claim_id for m in found.matches] == ["ukraine-today-asia-tomorrow"]
    (suggestion,) = [
        s for s in found.suggestions if s.claim_id == "where-nato-goes-war-is-most-likely"
    ]
    assert suggestion.matched_text == RESTATED == text[suggestion.start : suggestion.end]
    assert set(suggestion.signals) == {"meaning", "lift", "coverage", "verifier"}
    assert suggestion.reason.startswith("close in meaning (0.")
    assert "to the claim's English wording" in suggestion.reason
    # The quoted sentence speaks for its claim only: never suggested for another.
    quote = found.matches[0]
    assert all(not (s.start < quote.end and quote.start < s.end) for s in found.suggestions)
    # Without meaning (a focused re-match's article with no sentence near the claim in the
    # index), the quote alone.
    words = detector.detect("http://x.example/a", text, meaning=False)
    assert words.matches == found.matches and not words.suggestions


def test_furniture_quoting_a_claim_is_never_evidence(detector: Detector) -> None:
    text = (
        "Related: Where NATO goes, war is most likely\n"
        "Trade ministers discussed tariffs on steel and aluminium at length on Monday.\n"
        "Most read: Ukraine today, Asia tomorrow"
    )
    found = detector.detect("http://x.example/b", text)
    assert found.matches == [] and found.suggestions == []


def test_a_translation_in_another_script_is_suggested(detector: Detector) -> None:
    text = (
        "Депутаты обсуждали бюджет. Эксперт сказал, что война наиболее вероятна там, куда"
        " идёт НАТО. Заседание закончилось поздно."
    )
    found = detector.detect("http://x.example/c", text)
    assert "where-nato-goes-war-is-most-likely" in {s.claim_id for s in found.suggestions}


class CountingEncoder:
    """The real encoder, counting the texts it is asked to embed."""

    def __init__(self, encoder: Encoder) -> None:
        self.encoder, self.version, self.dimensions = encoder, encoder.version, encoder.dimensions
        self.batch_dependent = encoder.batch_dependent
        self.texts: list[str] = []

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.texts += texts
        return self.encoder.encode(texts)


# An Italian page about a football match, with a sentence that reads like a claim but
# names no claim's required term: off the catalog's topic, it costs its title alone. (In a
# language the catalog has a wording in, a look-alike sharing that wording's rare words is
# read, as an English one is: "wo dieser Verein hingehe, sei ein Sieg am
# wahrscheinlichsten" against "Wo die NATO hingeht, ist Krieg am wahrscheinlichsten".)
FOOTBALL = (
    "La squadra ha vinto sabato per tre a uno contro la capolista. L'allenatore ha detto"
    " dopo la partita che ovunque vada questa squadra arriva quasi sempre un successo."
    " La squadra giocherà in trasferta a Torino la prossima settimana."
)


def test_a_page_in_another_language_about_something_else_costs_its_title(
    catalog: Catalog, encoder: Encoder
) -> None:
    counting = CountingEncoder(encoder)
    detector = Detector(catalog, encoder=counting, cache_dir=CACHE)
    counting.texts.clear()  # the catalog's wordings, when not cached yet
    found = detector.detect("http://x.example/f", FOOTBALL, title="Vittoria in casa")
    assert counting.texts == ["Vittoria in casa"] and not found.suggestions
    counting.texts.clear()
    detector.detect("http://x.example/g", FOOTBALL, title="Dove va la NATO, arriva la guerra")
    assert len(counting.texts) > 1  # on the topic: its sentences are read


def test_a_focused_detector_looks_for_its_claims_alone(catalog: Catalog, encoder: Encoder) -> None:
    text = f"Ministers met on Tuesday. {RESTATED} They said: Ukraine today, Asia tomorrow."
    full = Detector(catalog, encoder=encoder, cache_dir=CACHE).detect("http://x.example/h", text)
    claims = {m.claim_id for m in full.matches} | {s.claim_id for s in full.suggestions}
    assert {"where-nato-goes-war-is-most-likely", "ukraine-today-asia-tomorrow"} <= claims
    focused = Detector(
        catalog, encoder=encoder, cache_dir=CACHE, focus=["where-nato-goes-war-is-most-likely"]
    ).detect("http://x.example/h", text)
    found = {m.claim_id for m in focused.matches} | {s.claim_id for s in focused.suggestions}
    assert found == {"where-nato-goes-war-is-most-likely"}


# Labelled articles where a focused detector, choosing what to embed by its claim's terms
# alone, missed a suggestion a full one made (a sentence embedded for another claim's
# terms that then spoke for the focus claim).
MISSED_BY_FOCUS = ("a018", "a035", "a042", "a048", "a057", "a060")


def test_a_focused_detector_suggests_what_a_full_one_does(
    catalog: Catalog, encoder: Encoder, detector: Detector
) -> None:
    known = {c.id for c in catalog.claims}
    articles = [a for a in load_articles(ARTICLES, known) if a.id in MISSED_BY_FOCUS]
    assert len(articles) == len(MISSED_BY_FOCUS)
    focused: dict[str, Detector] = {}
    compared = 0
    for article in articles:
        full = detector.detect(article.id, article.text, title=article.title)
        for claim_id in {s.claim_id for s in full.suggestions}:
            if claim_id not in focused:
                focused[claim_id] = Detector(
                    catalog, encoder=encoder, cache_dir=CACHE, focus=[claim_id]
                )
            found = focused[claim_id].detect(article.id, article.text, title=article.title)
            assert claim_id in {s.claim_id for s in found.suggestions}, (article.id, claim_id)
            compared += 1
    assert compared >= len(MISSED_BY_FOCUS)


def test_a_rejected_sentence_vetoes_its_near_copies(
    catalog: Catalog, encoder: Encoder, detector: Detector
) -> None:
    text = f"Ministers met on Tuesday. {RESTATED}"
    claim = "where-nato-goes-war-is-most-likely"
    assert claim in {s.claim_id for s in detector.detect("http://x.example/d", text).suggestions}
    vetoed = Detector(
        catalog,
        encoder=encoder,
        cache_dir=CACHE,
        vetoes=[("where-nato-goes-war-is-most-likely", RESTATED.replace("said", "says"))],
    )
    found = vetoed.detect("http://x.example/d", text)
    assert claim not in {s.claim_id for s in found.suggestions}


def test_without_an_encoder_only_the_fuzzy_matcher_runs(catalog: Catalog) -> None:
    spec = DetectorSpec(catalog, encoder="none", cache_dir=CACHE)
    found = spec.build().detect("http://x.example/e", f"Ministers met on Tuesday. {RESTATED}")
    assert found.matches == [] and found.suggestions == []


def test_auto_ranks_with_minilm_and_suggests_with_use() -> None:
    assert encoder_name("auto", "ranking") == "minilm"
    assert encoder_name("auto", "detection") == "use"
    assert encoder_name("none", "detection") == "none"


def test_the_report_half_of_the_labelled_articles_meets_the_targets(catalog: Catalog) -> None:
    """Thresholds were tuned on the other half: these are the numbers docs/benchmarks.md reports."""
    detector = DetectorSpec.learned(catalog, **load_settings().detector_options()).build()
    report = [
        a for a in load_articles(ARTICLES, {c.id for c in catalog.claims}) if a.split == "report"
    ]
    result = evaluate_articles(detector, report)
    found = result.found["restatement"] + result.found["translation"]
    labelled = result.labelled["restatement"] + result.labelled["translation"]
    # The verifier's numbers when written: 15 of 22 found (the target, 0.80, is out of
    # reach of the multilingual USE's evidence: see matching/verifier.py), 0.81
    # suggestions per article, precision 0.56 (before it: 17 of 22, 1.81, 0.29).
    assert found / labelled >= 15 / 22
    assert result.suggestions_per_article <= 1.0
    assert result.suggestion_precision is not None and result.suggestion_precision >= 0.5
    assert result.from_furniture == 0, result.errors
    # No wrong match: the hard negative "NATO stresses the indivisibility of security
    # among its own members" (a fuzzy match of the Euro-Asian claim before names.py) too.
    assert result.false_matches == 0
    # Counted by language too, the same repeats and suggestions, each in its language.
    by_language = result.by_language
    assert set(by_language) == {a.language for a in report}
    assert sum(c.articles for c in by_language.values()) == len(report)
    assert sum(c.repeats for c in by_language.values()) == sum(result.labelled.values())
    assert sum(c.found for c in by_language.values()) == sum(result.found.values())
    assert sum(c.right_suggestions for c in by_language.values()) == result.right_suggestions
    assert by_language["ja"].repeats == sum(len(a.repeats) for a in report if a.language == "ja")
