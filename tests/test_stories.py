"""Stories: sketches measured on realistic copies of one wire story, and stories in real
warehouses written as the monitor flow writes a pass (tests/warehouses.py).

The texts below were written for these tests: a 440-word wire story, two other stories
on the same topic that share much of its vocabulary, and a follow-up that reuses three
of its paragraphs. `variants()` makes the copies outlets publish of a wire story.
"""

from __future__ import annotations

import random
import re
import shutil
import statistics
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from claimwatch.matching.catalog import Catalog
from claimwatch.store.connection import connect, migrate
from claimwatch.store.passes import store_batch
from claimwatch.store.stories import (
    BAND_BITS,
    BANDS,
    MAX_DISTANCE,
    MIN_WORDS,
    assign_stories,
    bands,
    hamming,
    new_story_id,
    page_key,
    simhash,
    simhashes,
    sketch,
    words,
)
from tests.conftest import MIGRATIONS
from tests.warehouses import UKRAINE, article, match_in, store

WIRE = """\
BRUSSELS (Polar Wire) - NATO foreign ministers agreed on Tuesday to deepen cooperation with \
four partners in the Indo-Pacific, saying that security in Europe and in Asia could no \
longer be treated as separate questions after Russia's full-scale invasion of Ukraine.

The ministers met their counterparts from Japan, South Korea, Australia and New Zealand for \
a two-hour session on cyber defence, maritime security and the protection of undersea \
cables, according to a joint statement released after the talks at the alliance's \
headquarters.

"What happens in Europe matters for Asia, and what happens in Asia matters for us," the \
alliance's secretary general told reporters. He said the four partners had sent weapons, \
money and fuel to Kyiv and had joined sanctions against Moscow, and that the alliance wanted \
to learn from their experience of watching China's military build-up at close quarters.

Japan's foreign minister repeated a warning first made by her prime minister two years ago, \
that Ukraine today could be East Asia tomorrow. She said Tokyo would open a small liaison \
team inside its embassy in Brussels next spring and would send officers to three NATO \
exercises in the Baltic Sea during the summer.

Diplomats said the statement had been softened during the night at the request of France and \
Hungary, which argued that the alliance should not present itself as a player in the \
Pacific. An earlier draft seen by Polar Wire described China as a systemic challenge to the \
Euro-Atlantic area; the final text speaks only of "the challenges posed by the People's \
Republic of China to our interests, our security and our values".

China's mission to the European Union said in a written reply that NATO was stretching its \
reach far beyond the North Atlantic and was bringing bloc confrontation to a region that \
wanted peace and growth. It urged the alliance to abandon what it called a Cold War \
mentality and to stop hyping a threat from Beijing.

South Korea's vice foreign minister said Seoul would share intelligence on North Korean \
missile launches and on the transfer of North Korean artillery shells to Russia. Australia \
pledged to fund a training course on defending undersea cables, which carry almost all of \
the internet traffic between the two regions, and New Zealand offered staff for a new centre \
on countering disinformation.

The ministers will meet again in June, ahead of a summit of NATO leaders in The Hague. \
Officials said the four partners had been invited to that summit as well, for the fourth \
year in a row, although no decision had yet been taken on a formal partnership agreement."""

JAPAN_BALTIC = """\
TOKYO (Eastern Star Daily) - Japan will send officers to NATO exercises in the Baltic Sea \
for the first time this summer, the defence ministry said on Friday, as Tokyo moves closer \
to the alliance while insisting that it has no plans to join it.

The ministry said three officers from the Maritime Self-Defense Force would observe the \
exercises and that a liaison team inside the Japanese embassy in Brussels would open next \
spring. Officials said the team would handle cyber defence, space and the protection of \
undersea cables, areas in which Japan and NATO agreed to work together last year.

The prime minister has often said that Ukraine today could be East Asia tomorrow, arguing \
that a Russian victory would encourage China to use force against Taiwan. Japan has sent \
money, fuel and non-lethal equipment to Kyiv and joined Western sanctions against Moscow, \
but its post-war constitution limits the weapons it may supply.

Opposition lawmakers asked the defence minister in parliament whether the liaison team was \
the first step towards a NATO office in Tokyo. An office of that kind was proposed two years \
ago but was blocked by France, whose president argued that the alliance should stay focused \
on the North Atlantic. The minister replied that the government was not discussing an office \
and that the team would have fewer than ten staff.

China's foreign ministry said Japan was inviting bloc confrontation into the Asia-Pacific \
region and urged Tokyo to learn the lessons of history. A spokesman said NATO had already \
caused enough turmoil in Europe and should not stretch its reach to the Pacific, where \
countries wanted peace and growth rather than a new Cold War.

Analysts in Tokyo said the government was trying to balance its security ties with \
Washington and Europe against its trade with China, its largest trading partner. South \
Korea, Australia and New Zealand face the same choice, and all four governments have sent \
their leaders to recent NATO summits without signing a formal partnership agreement.

The defence ministry said Japanese warships would also join exercises with British, French \
and Italian ships in the Pacific in the autumn, and that a British aircraft carrier group \
would visit Japanese ports on its way to Australia. North Korea's missile launches and its \
shipments of artillery shells to Russia would be on the agenda of talks between the defence \
ministers of Japan and South Korea next month, the ministry said."""

CHINA_REACTS = """\
BEIJING (Meridian Post) - China accused NATO on Wednesday of bringing bloc confrontation to \
the Asia-Pacific after the alliance's foreign ministers met their counterparts from Japan, \
South Korea, Australia and New Zealand in Brussels to discuss security in the Indo-Pacific.

A foreign ministry spokeswoman told a regular news conference in Beijing that NATO was a \
product of the Cold War and should abandon its Cold War mentality instead of stretching its \
reach far beyond the North Atlantic. "The Asia-Pacific is not a wrestling ground for \
geopolitical competition," she said. "Countries in the region want peace and growth, not a \
new bloc confrontation."

She rejected a statement issued after the Brussels meeting that referred to the challenges \
posed by the People's Republic of China, saying the alliance was hyping a threat from \
Beijing to justify higher military spending. China had never sent weapons to either side in \
Ukraine, she added, and had always worked for a ceasefire and peace talks.

Chinese state media said Japan was using the war in Ukraine as an excuse to rearm. An \
editorial in a Communist Party newspaper mocked the Japanese prime minister's warning that \
Ukraine today could be East Asia tomorrow, calling it a slogan invented in Washington to \
draw Asian countries into a conflict in Europe. It said Tokyo's plan to open a liaison team \
in Brussels and to send officers to exercises in the Baltic Sea showed that Japan was \
abandoning its pacifist constitution.

South Korea's foreign ministry said on Thursday that its cooperation with NATO was aimed at \
the threat from North Korea, whose missile launches and shipments of artillery shells to \
Russia violated United Nations resolutions. Australia's foreign minister said the meeting \
was about protecting undersea cables and countering disinformation, and that China had \
nothing to fear from it.

Diplomats in Brussels said China's reaction had been expected and was milder than last year, \
when Beijing summoned several ambassadors after a NATO summit described China as a systemic \
challenge. They said France and Hungary had again insisted that the alliance should not \
present itself as a player in the Pacific, and that the final statement had been softened at \
their request.

The foreign ministry spokeswoman said China would take the necessary steps to protect its \
sovereignty and security interests, without giving details. NATO leaders will meet in The \
Hague in June, and officials said the four Indo-Pacific partners had again been invited to \
attend the summit."""

FOLLOW_UP = """\
BRUSSELS (Polar Wire) - NATO and Japan signed an agreement on Thursday to share classified \
information on cyber attacks, two days after the alliance's foreign ministers met their \
Indo-Pacific partners, in the first such deal the alliance has made with a country outside \
Europe and North America.

The agreement allows Japanese officials to read threat reports from NATO's cyber centre in \
Tallinn and to take part in its annual exercise, which simulates attacks on power grids, \
ports and hospitals. Japan will send two officers to the centre from next year, the Japanese \
mission to NATO said.

A senior alliance official said talks on similar agreements with South Korea and Australia \
were under way but would take longer, because both countries had asked for changes to the \
rules on how shared material can be stored. New Zealand has not asked for an agreement.

The official, who spoke on condition of anonymity, said the deal had been ready for months \
but had been held back until after the ministers' meeting so as not to overshadow it.

Diplomats said the statement had been softened during the night at the request of France and \
Hungary, which argued that the alliance should not present itself as a player in the \
Pacific. An earlier draft seen by Polar Wire described China as a systemic challenge to the \
Euro-Atlantic area; the final text speaks only of "the challenges posed by the People's \
Republic of China to our interests, our security and our values".

China's mission to the European Union said in a written reply that NATO was stretching its \
reach far beyond the North Atlantic and was bringing bloc confrontation to a region that \
wanted peace and growth. It urged the alliance to abandon what it called a Cold War \
mentality and to stop hyping a threat from Beijing.

The ministers will meet again in June, ahead of a summit of NATO leaders in The Hague. \
Officials said the four partners had been invited to that summit as well, for the fourth \
year in a row, although no decision had yet been taken on a formal partnership agreement."""

NEW_INTRO = (
    "Alliance diplomats gathered in Brussels on a cold and rainy Tuesday as the war in Ukraine "
    "entered its fourth winter, and for once the talk in the corridors was less about Russia "
    "than about the Pacific Ocean, thousands of miles away."
)
HEADER = (
    "Advertisement. Sign up for our free morning newsletter and get the day's top stories in "
    "your inbox. World | Europe | Updated 2 hours ago"
)
FOOTER = (
    "Reporting by Anna Keller in Brussels and Ken Mori in Tokyo; editing by Paul Grant. Our "
    "standards: the Polar Wire trust principles. Read more: NATO summit to be held in The "
    "Hague. Share this article."
)
EDITS = [
    ("agreed on Tuesday", "agreed on Monday"),
    ("told reporters", "said at a news conference"),
    ("defence", "defense"),
    ("small liaison", "new liaison"),
    ("almost all", "nearly all"),
    ("in June", "in early June"),
]
WIRE_QUOTE = "Ukraine today could be East Asia tomorrow"


def edited(text: str) -> str:
    for old, new in EDITS:
        text = text.replace(old, new, 1)
    return text


def with_new_intro(text: str) -> str:
    return "\n\n".join([NEW_INTRO, *text.split("\n\n")[1:]])


def cut(text: str, share: float) -> str:
    """The text cut to `share` of its length, at the end of a sentence."""
    head = text[: int(len(text) * share)]
    return head[: head.rfind(".") + 1]


def variants() -> dict[str, str]:
    """Copies of WIRE as outlets publish them, lightest first."""
    return {
        "print/AMP page": re.sub(r"\s+", " ", WIRE).replace('"', "\u201c").upper(),
        "other boilerplate": f"{HEADER}\n\n{WIRE}\n\n{FOOTER}",
        "6 words edited": edited(WIRE),
        "cut to 90%": cut(WIRE, 0.9),
        "new intro paragraph": with_new_intro(WIRE),
        "boilerplate and edits": edited(f"{HEADER}\n\n{WIRE}\n\n{FOOTER}"),
        "cut to 80%": cut(WIRE, 0.8),
        "new intro, edits, byline": with_new_intro(edited(WIRE)) + "\n\nReporting by A. Keller.",
        "cut to 60%": cut(WIRE, 0.6),
    }


DIFFERENT = {
    "same topic: Japan in the Baltic": JAPAN_BALTIC,
    "same topic: China reacts": CHINA_REACTS,
    "follow-up reusing 3 of 7 paragraphs": FOLLOW_UP,
}
LIGHT = [
    "other boilerplate",
    "6 words edited",
    "cut to 90%",
    "new intro paragraph",
    "boilerplate and edits",
]
HEAVY = ["cut to 80%", "new intro, edits, byline"]
KEYS = [bytes([i]) * 8 for i in range(1, 65)]


def share_band(a: int, b: int) -> bool:
    return any(x == y for x, y in zip(bands(a), bands(b), strict=True))


def grouped(a: str, b: str, key: bytes = b"") -> tuple[bool, int]:
    """Whether a lookup groups two texts (a shared band of either half, within the distance)
    and their distance in bits of 128."""
    x, y = simhashes(a, key=key), simhashes(b, key=key)
    assert x is not None and y is not None
    distance = hamming(x[0], y[0]) + hamming(x[1], y[1])
    banded = share_band(x[0], y[0]) or share_band(x[1], y[1])
    return distance <= MAX_DISTANCE and banded, distance


# --- the sketch, measured -------------------------------------------------------------------


def test_sketch_ignores_case_spacing_and_quotes_and_skips_short_texts() -> None:
    assert simhash(variants()["print/AMP page"]) == simhash(WIRE)
    assert words("NATO's “Indo-Pacific” push—again") == [
        "nato",
        "s",
        "indo",
        "pacific",
        "push",
        "again",
    ]
    assert simhash(" ".join(f"w{i}" for i in range(MIN_WORDS - 1))) is None
    assert simhash(" ".join(f"w{i}" for i in range(MIN_WORDS))) is not None
    assert len(words(WIRE)) == 444


def test_distances_over_64_hash_keys(capsys: pytest.CaptureFixture[str]) -> None:
    """The measurement behind MAX_DISTANCE = 12 (3-word shingles), printed with -s.

    One fixed hash gives one distance per pair; 64 keyed hashes show how it varies.
    """
    shares, spread = {}, {}
    pairs = [(name, WIRE, text) for name, text in {**variants(), **DIFFERENT}.items()] + [
        ("same topic: Japan ~ China", JAPAN_BALTIC, CHINA_REACTS),
        ("same topic: follow-up ~ Japan", FOLLOW_UP, JAPAN_BALTIC),
        ("same topic: follow-up ~ China", FOLLOW_UP, CHINA_REACTS),
    ]
    for name, a, b in pairs:
        results = [grouped(a, b, key) for key in KEYS]
        shares[name] = sum(g for g, _ in results) / len(KEYS)
        spread[name] = [d for _, d in results]
    with capsys.disabled():
        print(f"\n{'pair':40} mean  min  max  grouped (k={MAX_DISTANCE})")
        for name, ds in spread.items():
            mean = statistics.mean(ds)
            print(f"{name:40} {mean:4.1f} {min(ds):4d} {max(ds):4d}  {shares[name]:.2f}")
    assert spread["print/AMP page"] == [0] * len(KEYS)
    assert all(shares[name] >= 0.85 for name in LIGHT), shares
    assert all(shares[name] >= 0.6 for name in HEAVY), shares
    assert shares["cut to 60%"] <= 0.25  # measured 0.14: mostly a story of its own
    # Different stories on the same topic: never closer than 20 bits (k + 8) here.
    different = [d for name, ds in spread.items() if name.startswith("same topic") for d in ds]
    assert min(different) >= MAX_DISTANCE + 7
    assert min(spread["follow-up reusing 3 of 7 paragraphs"]) > MAX_DISTANCE
    assert sum(shares[n] for n in DIFFERENT) == 0


def test_with_the_stored_hash_every_copy_is_grouped_and_no_other_story() -> None:
    found = {name: grouped(WIRE, text) for name, text in {**variants(), **DIFFERENT}.items()}
    copies = set(variants()) - {"cut to 60%"}  # mostly a story of its own (see above)
    assert {name for name, (g, _) in found.items() if g} == copies
    assert {name for name, (g, _) in found.items() if not g} == {"cut to 60%", *DIFFERENT}
    # The distances this hash gives (bits of 128), for the record:
    assert {name: d for name, (_, d) in found.items()} == {
        "print/AMP page": 0,
        "other boilerplate": 17,
        "6 words edited": 10,
        "cut to 90%": 13,
        "new intro paragraph": 19,
        "boilerplate and edits": 17,
        "cut to 80%": 15,
        "new intro, edits, byline": 17,
        "cut to 60%": 27,
        "same topic: Japan in the Baltic": 55,
        "same topic: China reacts": 40,
        "follow-up reusing 3 of 7 paragraphs": 32,
    }


def test_bands_find_every_pair_within_7_bits_and_not_always_beyond() -> None:
    rng = random.Random(7)
    for _ in range(2000):
        a = rng.getrandbits(64)
        b = a
        for bit in rng.sample(range(64), rng.randint(0, BANDS - 1)):
            b ^= 1 << bit
        assert share_band(a, b)
    # One bit in every band: 8 bits apart, and no band alike.
    b = a
    for band in range(BANDS):
        b ^= 1 << (band * BAND_BITS)
    assert hamming(a, b) == BANDS and not share_band(a, b)


def test_page_key_ignores_home_pages() -> None:
    assert page_key("https://x.example/a/story", "https://m.x.example/a") == (
        "https://x.example/a/story"
    )
    assert page_key(None, "https://x.example/a") == "https://x.example/a"
    assert page_key("https://x.example/", "https://x.example/a") is None


def test_assignment_does_not_depend_on_the_order_given() -> None:
    start = datetime(2026, 10, 1)
    texts = [WIRE, *variants().values(), *DIFFERENT.values()]
    sketches = [
        sketch(
            f"http://x.example/{i}",
            simhashes(text),
            page=None,
            headline=None,
            text_sha256=str(i),
            fetched_at=start + timedelta(hours=i),
        )
        for i, text in enumerate(texts)
    ]
    first = assign_stories(sketches, [])
    for seed in range(5):
        shuffled = list(sketches)
        random.Random(seed).shuffle(shuffled)
        assert assign_stories(shuffled, []) == first
    story = new_story_id("http://x.example/0")
    # Cut to 60 %, too far from the wire story, joins it through a copy cut to 80 %.
    assert [a.story_id for a in first[: len(variants()) + 1]] == [story] * (len(variants()) + 1)
    assert len({a.story_id for a in first}) == 1 + len(DIFFERENT)


# --- stories in a warehouse ---------------------------------------------------------------


def copies_and_others() -> tuple[list, list]:
    """Four copies of the wire story in four outlets, and three other stories."""
    v = variants()
    copies = [
        article("nato-asia", "Polar Wire", 1, WIRE, title="NATO widens its Indo-Pacific ties"),
        article(
            "allies-look-east",
            "The Meridian Post",
            2,
            v["boilerplate and edits"],
            title="Allies look east as Tokyo joins Baltic drills",
            source="meridian",
        ),
        article(
            "amp/nato-asia",
            "Eastern Star Daily",
            3,
            v["print/AMP page"],
            title="NATO and Pacific partners agree closer ties",
            source="star",
        ),
        article("nato", "Tideline", 4, v["cut to 80%"], title="NATO ministers", source="tide"),
    ]
    others = [
        article("japan-baltic", "Eastern Star Daily", 2, JAPAN_BALTIC, source="star"),
        article("china-reacts", "The Meridian Post", 3, CHINA_REACTS, source="meridian"),
        article("nato-japan-cyber", "Polar Wire", 5, FOLLOW_UP),
    ]
    return copies, others


def story_ids(db: Path) -> dict[str, str]:
    with connect(db, read_only=True) as con:
        return dict(con.execute("SELECT article_url, story_id FROM article_stories").fetchall())


@pytest.mark.parametrize("how", ["one pass", "one pass, reversed", "a pass each"])
def test_copies_in_other_outlets_are_one_story(how: str, tmp_path: Path, catalog: Catalog) -> None:
    db = tmp_path / "w.duckdb"
    copies, others = copies_and_others()
    everything = copies + others
    if how == "a pass each":
        for i, art in enumerate(sorted(everything, key=lambda a: a.fetched_at)):
            store(db, catalog, f"run-{i}", 10 + i, [art], [])
    else:
        store(db, catalog, "run-1", 10, everything[:: -1 if "reversed" in how else 1], [])
    ids = story_ids(db)
    wire_story = new_story_id(copies[0].url)
    assert {a.url: ids[a.url] for a in copies} == {a.url: wire_story for a in copies}
    assert {a.url: ids[a.url] for a in others} == {a.url: new_story_id(a.url) for a in others}
    with connect(db, read_only=True) as con:
        sketched = con.execute(
            "SELECT count(*), count(simhash), count(DISTINCT story_id) FROM article_sketches"
        ).fetchone()
    assert sketched == (7, 7, 4)


def test_storing_again_adds_no_sketch(tmp_path: Path, catalog: Catalog) -> None:
    db = tmp_path / "w.duckdb"
    copies, others = copies_and_others()
    store(db, catalog, "run-1", 10, copies, [])
    before = story_ids(db)
    store(db, catalog, "run-2", 11, copies + others[:1], [])
    with connect(db, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM article_sketches").fetchone() == (5,)
    assert story_ids(db) == before | {others[0].url: new_story_id(others[0].url)}


def test_short_texts_group_by_text_page_or_headline(tmp_path: Path, catalog: Catalog) -> None:
    db = tmp_path / "w.duckdb"
    teaser = "Ministers met in Brussels to discuss the Pacific."
    first = article("brief", "Polar Wire", 1, teaser, title="Ministers meet on Pacific security")
    same_text = article("brief-2", "Tideline", 2, teaser, title="Brussels talks", source="tide")
    same_headline = article(
        "brief-3", "Meridian", 3, "A shorter teaser.", title="MINISTERS MEET ON PACIFIC SECURITY!"
    )
    amp = replace(
        article("amp-brief", "Polar Wire AMP", 4, "Teaser, AMP edition.", title="AMP"),
        canonical_url=first.final_url,
    )
    # Two long texts under one generic headline are two stories.
    live_1 = article("live-1", "Polar Wire", 5, WIRE, title="Live: NATO ministers meet")
    live_2 = article("live-2", "Polar Wire", 6, CHINA_REACTS, title="Live: NATO ministers meet")
    # A canonical tag naming the home page says nothing.
    lazy_1 = replace(
        article("lazy-1", "Lazy", 7, "One text."), canonical_url="http://lazy.example/"
    )
    lazy_2 = replace(article("lazy-2", "Lazy", 8, "Another."), canonical_url="http://lazy.example/")
    arts = [first, same_text, same_headline, amp, live_1, live_2, lazy_1, lazy_2]
    store(db, catalog, "run-1", 10, arts, [])
    ids = story_ids(db)
    assert {ids[a.url] for a in (first, same_text, same_headline, amp)} == {new_story_id(first.url)}
    assert ids[live_1.url] != ids[live_2.url]
    assert ids[lazy_1.url] != ids[lazy_2.url]
    with connect(db, read_only=True) as con:
        assert con.execute("SELECT count(simhash) FROM article_sketches").fetchone() == (2,)


def migrations_without(tmp_path: Path, *names: str) -> Path:
    folder = tmp_path / "migrations"
    folder.mkdir()
    for path in MIGRATIONS.glob("*.sql"):
        if path.name not in names:
            shutil.copy(path, folder / path.name)
    return folder


def test_articles_stored_before_sketches_keep_their_story(tmp_path: Path, catalog: Catalog) -> None:
    db = tmp_path / "w.duckdb"
    migrate(db, migrations_without(tmp_path, "004_stories.sql", "009_story_index.sql"))
    old = article("old", "Polar Wire", 1, WIRE, title="Wire: NATO looks to the Pacific")
    with connect(db) as con:
        con.execute(
            "INSERT INTO articles VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [*(getattr(old, f) for f in old.__dataclass_fields__), "old-run"],
        )
        (before,) = con.execute(
            "SELECT story_id FROM article_stories WHERE article_url = ?", [old.url]
        ).fetchone()
    # The same headline over a teaser joins it, by the rule the old article was stored under;
    # a long copy under another headline does not: the old article has no sketch.
    teaser = article(
        "teaser", "Tideline", 2, "NATO looks east.", title="Wire: NATO looks to the Pacific"
    )
    long_copy = article("copy", "Meridian", 3, variants()["other boilerplate"], title="Other")
    store(db, catalog, "run-1", 10, [teaser, long_copy], [])
    ids = story_ids(db)
    assert ids[old.url] == ids[teaser.url] == before
    assert ids[long_copy.url] == new_story_id(long_copy.url)


def test_stories_migration_needs_nothing_of_003(tmp_path: Path, catalog: Catalog) -> None:
    db = tmp_path / "w.duckdb"
    partial = migrations_without(tmp_path, "003_incremental_sources.sql")
    assert "004_stories.sql" in migrate(db, partial)
    copies, _ = copies_and_others()
    store(db, catalog, "run-1", 10, copies[:2], [match_in(copies[0], UKRAINE, WIRE_QUOTE)])
    assert set(story_ids(db).values()) == {new_story_id(copies[0].url)}
    with connect(db, read_only=True) as con:
        names = [r[0] for r in con.execute("SELECT name FROM schema_migrations").fetchall()]
    assert names[-1] == "003_incremental_sources.sql"  # applied late, by the pass


# --- precise at any size, bounded by a window ----------------------------------------------


def _flip(value: int, bits: list[int]) -> int:
    for bit in bits:
        value ^= 1 << bit
    return value


def test_a_sketch_close_in_one_half_only_is_another_story(tmp_path: Path, catalog: Catalog) -> None:
    """Within 12 bits of the first half (the old rule's distance, and a shared band) an
    unrelated text is found by chance in a large archive; the second half tells it apart."""
    db = tmp_path / "w.duckdb"
    copies, others = copies_and_others()
    new = copies[0]
    halves = simhashes(new.text)
    assert halves is not None
    first, second = halves
    rng = random.Random(3)
    # Ten bits flipped in the low four bands of the first half: the high four stay equal.
    close = _flip(first, rng.sample(range(32), 10))
    chance = _flip(second, rng.sample(range(64), 30))  # the second half: unrelated
    copy = _flip(second, rng.sample(range(64), 6))
    stored = others[:2]
    store(db, catalog, "run-1", 10, stored, [])
    with connect(db) as con:
        for art, second_half in zip(stored, (chance, copy), strict=True):
            con.execute(
                "UPDATE article_sketches SET simhash = ?, simhash2 = ? WHERE article_url = ?",
                [close, second_half, art.url],
            )
    assert hamming(close, first) == 10 <= 12 and share_band(close, first)
    store(db, catalog, "run-2", 11, [new], [])
    ids = story_ids(db)
    # 10 + 30 bits of 128 apart: not the same story; 10 + 6: the same.
    assert ids[new.url] == ids[stored[1].url] != ids[stored[0].url]


def test_a_batch_is_stored_with_the_sketches_its_workers_made(
    tmp_path: Path, catalog: Catalog
) -> None:
    """Sketches given with a batch are the ones stored (no text is sketched again);
    articles without one given are sketched in the store."""
    db = tmp_path / "w"
    copies, _ = copies_and_others()
    given, left = copies[0], copies[1]
    made = (12345, 67890)  # not the text's own: proof it was taken as given
    assert simhashes(given.text) != made
    migrate(db, MIGRATIONS)
    store_batch(
        db, run_id="r", articles=[given, left], matches=[], failures=[], attempts=[],
        sketches={given.url: made},
    )  # fmt: skip
    with connect(db, read_only=True) as con:
        found = con.execute("SELECT article_url, simhash, simhash2 FROM article_sketches")
        rows = {url: (first, second) for url, first, second in found.fetchall()}
    assert rows == {given.url: made, left.url: simhashes(left.text)}


def test_stories_are_looked_for_within_the_window(tmp_path: Path, catalog: Catalog) -> None:
    db = tmp_path / "w.duckdb"
    copies, _ = copies_and_others()
    original = copies[0]
    store(db, catalog, "run-1", 10, [original], [])
    window = timedelta(days=30)

    def stored_story(slug: str, days_later: int) -> str:
        copy = replace(
            article(slug, "Tideline", 0, original.text, source="tide"),
            fetched_at=original.fetched_at + timedelta(days=days_later),
        )
        store_batch(
            db, run_id=slug, articles=[copy], matches=[], failures=[], attempts=[],
            story_window=window,
        )  # fmt: skip
        return story_ids(db)[copy.url]

    assert stored_story("a-week-later", 7) == new_story_id(original.url)
    # The same text fetched 40 days after: a story of its own, as the window says.
    assert stored_story("weeks-later", 40) == new_story_id(
        replace(original, url="http://tide.example/weeks-later").url
    )


def test_sketches_from_before_the_second_half_match_by_the_first_closely(
    tmp_path: Path, catalog: Catalog
) -> None:
    """A sketch stored before migration 009 has no second half: its first half must lie
    within HALF_DISTANCE bits, tighter than the old 12 (precise without the second)."""
    db = tmp_path / "w.duckdb"
    copies, _ = copies_and_others()
    original = copies[0]
    store(db, catalog, "run-1", 10, [original], [])
    with connect(db) as con:
        con.execute("UPDATE article_sketches SET simhash2 = NULL")
    v = variants()
    edited_copy = article("edited", "Tideline", 2, v["6 words edited"], source="tide")
    far_copy = article("far", "Meridian", 3, v["cut to 60%"], source="meridian")
    store(db, catalog, "run-2", 11, [edited_copy], [])
    store(db, catalog, "run-3", 12, [far_copy], [])
    ids = story_ids(db)
    assert ids[edited_copy.url] == ids[original.url]  # 2 bits of 64 apart
    assert ids[far_copy.url] == new_story_id(far_copy.url)  # 10 bits: within 12, not 8
