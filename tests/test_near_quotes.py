"""Near-quotes in German, French, Russian, Chinese and Japanese: confirmed as English ones
are, with evidence that holds the whole claim, its subject included."""

import pytest

from claimwatch.matching.catalog import Catalog, Claim
from claimwatch.matching.matcher import Matcher
from claimwatch.matching.normalize import normalize
from claimwatch.matching.required import RequiredTerms


@pytest.fixture(scope="module")
def matcher(catalog: Catalog) -> Matcher:
    return Matcher(catalog)


@pytest.mark.parametrize(
    ("claim_id", "text", "quoted"),
    [
        (  # de: an attribution inserted after the subject
            "china-decisive-enabler-of-russias-war",
            "China ist nach Ansicht der Verbündeten zu einem ganz entscheidenden Wegbereiter"
            " des Krieges Russlands gegen die Ukraine geworden.",
            "China ist nach Ansicht der Verbündeten zu einem ganz entscheidenden Wegbereiter"
            " des Krieges Russlands gegen die Ukraine geworden",
        ),
        (  # fr: the same, between commas
            "china-decisive-enabler-of-russias-war",
            "La Chine, selon la déclaration des alliés, est devenue un soutien décisif de la"
            " guerre de la Russie contre l'Ukraine.",
            "La Chine, selon la déclaration des alliés, est devenue un soutien décisif de la"
            " guerre de la Russie contre l'Ukraine",
        ),
        (  # ru: an adverb inserted after the subject
            "nato-fomenting-conflict-in-asia",
            "Пекин утверждает, что НАТО намеренно разжигает конфликт в Индо-Тихоокеанском регионе.",
            "НАТО намеренно разжигает конфликт в Индо-Тихоокеанском регионе",
        ),
        (  # ru: the required name declined (Тайвань, Тайваня)
            "taiwan-conflict-costs-10-trillion",
            "По оценкам экономистов, военный конфликт вокруг Тайваня может сократить мировой ВВП"
            " на сумму до 10 триллионов долларов.",
            "конфликт вокруг Тайваня может сократить мировой ВВП на сумму до 10 триллионов"
            " долларов",
        ),
        (  # zh: traditional characters against a simplified wording
            "where-nato-goes-war-is-most-likely",
            "官方評論文章寫道：「北約走到哪裡，哪裡就最有可能發生戰爭。」",
            "北約走到哪裡，哪裡就最有可能發生戰爭",
        ),
        (  # zh: two characters inserted, no spaces to cut a span at
            "nato-fomenting-conflict-in-asia",
            "中方指责称，北约正在印太地区蓄意煽动冲突。",
            "北约正在印太地区蓄意煽动冲突",
        ),
        (  # ja: another sentence ending (だ for である)
            "european-and-indo-pacific-security-indivisible",
            "事務総長は東京で、欧州とインド太平洋の安全保障は不可分だと強調した。",
            "欧州とインド太平洋の安全保障は不可分",
        ),
        (  # ja: a comma added inside corner brackets
            "where-nato-goes-war-is-most-likely",
            "国営メディアは「NATOが行くところでは、戦争が最も起こりやすい」と論評した。",
            "NATOが行くところでは、戦争が最も起こりやすい",
        ),
    ],
    ids=["de", "fr", "ru", "ru-declined", "zh-traditional", "zh", "ja", "ja-brackets"],
)
def test_near_quote_is_confirmed_with_its_subject(
    matcher: Matcher, claim_id: str, text: str, quoted: str
) -> None:
    hits = {h.claim_id: h for h in matcher.find(text)}
    assert claim_id in hits
    hit = hits[claim_id]
    assert hit.matched_text == quoted == text[hit.start : hit.end]


def test_the_reported_german_quote_is_confirmed_from_its_subject() -> None:
    """The issue's case: a claim quoted with "ganz oder teilweise" inserted scored 78.7 on
    a span that began after the subject."""
    claim = Claim(
        id="c",
        text="Claas Relotius hat den SPIEGEL mit gefälschten Artikeln"
        " in eine schwere Krise gestürzt",
    )
    text = (
        "Der Reporter Claas Relotius hat den SPIEGEL mit ganz oder teilweise gefälschten"
        " Artikeln in eine schwere Krise gestürzt. Wie konnte es dazu kommen?"
    )
    (hit,) = Matcher(Catalog(claims=(claim,))).find(text)
    assert hit.score >= 88
    assert hit.matched_text.startswith("Claas Relotius hat")
    assert hit.matched_text.endswith("in eine schwere Krise gestürzt")


@pytest.mark.parametrize(
    ("claim_id", "text"),
    [
        (
            "where-nato-goes-war-is-most-likely",
            "Wo die NATO hingeht, folgen Investitionen und Stabilität, sagte der stellvertretende"
            " Generalsekretär in Brüssel.",
        ),
        (
            "nato-to-blame-for-ukraine-invasion",
            "L'OTAN n'est pas responsable de la défense aérienne de l'Ukraine, a rappelé le"
            " secrétaire général.",
        ),
        (
            "china-decisive-enabler-of-russias-war",
            "Китай стал крупнейшим торговым партнером России после начала войны против Украины,"
            " свидетельствуют данные таможни.",
        ),
        (
            "where-nato-goes-war-is-most-likely",
            "北约走到哪里，投资就跟到哪里，北约副秘书长在布鲁塞尔表示。",
        ),
        (
            "taiwan-conflict-costs-10-trillion",
            "台湾をめぐる紛争は、まず世界の半導体供給網に打撃を与えると分析されている。",
        ),
    ],
    ids=["de", "fr", "ru", "zh", "ja"],
)
def test_same_topic_sentence_is_not_confirmed(matcher: Matcher, claim_id: str, text: str) -> None:
    assert claim_id not in {h.claim_id for h in matcher.find(text)}


@pytest.mark.parametrize(
    "text",
    [
        "Die Bundesregierung betonte, die NATO sei nicht für Russlands Einmarsch in die Ukraine"
        " verantwortlich.",
        "Le ministre a rappelé que l'OTAN n'est pas responsable de l'invasion de l'Ukraine par"
        " la Russie.",
        "Генсек заявил, что НАТО не несёт ответственности за вторжение России в Украину.",
        "北约不应对俄罗斯入侵乌克兰负责，秘书长表示。",
        # The negation follows the span's last word (責任はNATOに|はない).
        "事務総長は、ロシアのウクライナ侵攻の責任はNATOにはないと述べた。",
    ],
    ids=["de", "fr", "ru", "zh", "ja"],
)
def test_a_quote_denying_the_claim_is_not_confirmed(matcher: Matcher, text: str) -> None:
    claim_id = "nato-to-blame-for-ukraine-invasion"
    assert claim_id not in {h.claim_id for h in matcher.find(text)}
    (hit,) = [h for h in matcher.rank(text, top=50) if h.claim_id == claim_id]
    assert hit.parts["negation_penalty"] > 0


def test_traditional_characters_and_yo_fold_keeping_offsets() -> None:
    norm = normalize("北約說，НАТО всё ещё")
    assert norm.text == "北约说,нато все еще"
    assert norm.origins == tuple(range(len(norm.text)))


def test_declined_russian_names_are_named_and_acronyms_kept_whole() -> None:
    required = RequiredTerms([("Россия",), ("НАТО",)])
    texts = ["позиция россии", "вместе с россией", "натиск", "натовские базы"]
    named = [required.named(t, [(0, len(t))])[0].tolist() for t in texts]
    assert named == [[True, False], [True, False], [False, False], [False, False]]


def test_a_quote_with_a_name_cut_out_is_not_confirmed(matcher: Matcher) -> None:
    # The wording says "of Euro-Asian security": the words either side of the name meet.
    text = "NATO stresses the indivisibility of security among its own members, as written."
    claim_id = "euro-asian-security-indivisible"
    assert claim_id not in {h.claim_id for h in matcher.find(text)}
    (hit,) = [h for h in matcher.rank(text, top=50) if h.claim_id == claim_id]
    assert hit.parts["name_penalty"] > 0


@pytest.mark.parametrize(
    ("claim_id", "text"),
    [
        (  # "the United States" said "the US"
            "asia-war-would-pull-us-forces-from-europe",
            "A conflict in the Indo-Pacific could force the US to shift military assets from"
            " Europe to the Pacific, allied planners warn.",
        ),
        (  # "Russia" said "Moscow"
            "indo-pacific-enables-russias-war",
            "Countries in the Indo-Pacific are enabling Moscow to prosecute the largest war in"
            " Europe since World War II.",
        ),
    ],
    ids=["us", "moscow"],
)
def test_a_quote_naming_in_other_words_is_confirmed(
    matcher: Matcher, claim_id: str, text: str
) -> None:
    (hit,) = [h for h in matcher.find(text) if h.claim_id == claim_id]
    assert hit.parts["name_penalty"] == 0
