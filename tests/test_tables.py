"""Tables for people fit the terminal, keep URLs whole and align wide characters;
CSV and JSON stay as scripts know them."""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from rich.cells import cell_len

from claimwatch.matching.catalog import Catalog
from claimwatch.output.tables import render, render_table, terminal_width
from tests.commands import claimwatch
from tests.warehouses import UKRAINE, UKRAINE_QUOTE, article, match_in, populated_warehouse, store

LONG_URL = "https://news.example.org/2026/11/30/" + "-".join(["indo-pacific-alliance"] * 6)
LONG_URL += "/" + "x" * (200 - len(LONG_URL) - 6) + ".html"
COLUMNS = ["claim_id", "outlet", "title", "matched_text", "score", "published_at", "article_url"]
TITLE = "Why a warning first heard in Tokyo keeps coming back in commentary across the region"
ROWS = [
    [
        "ukraine-today-asia-tomorrow",
        "The Meridian Post",
        TITLE,
        "Ukraine today, Asia tomorrow, as the minister put it to an audience",
        97.5,
        datetime(2026, 10, 15, 14, 0),
        LONG_URL,
    ],
    [
        "where-nato-goes-war-is-most-likely",
        "新华网",
        "北约在印太地区煽动冲突，专家表示这是危险的信号",
        "哪里有北约，哪里就最有可能发生战争",
        100.0,
        None,
        "http://xinhua.example/a",
    ],
]


def over(text: str, width: int) -> list[str]:
    return [line for line in text.splitlines() if cell_len(line) > width]


def test_url_of_200_characters_stays_whole_in_100_columns() -> None:
    assert len(LONG_URL) == 200
    out = render_table(COLUMNS, ROWS, width=100)
    # The only line allowed past the edge is the URL itself, whole.
    assert over(out, 100) == [LONG_URL]
    assert "…" not in out
    for row in ROWS:
        assert row[-1] in out.splitlines() or any(
            line.endswith(f"  {row[-1]}") for line in out.splitlines()
        )
    # Nothing else is cut either: every word of the long text is there.
    assert set(TITLE.split()) <= set(out.split())


def test_expanded_rows_are_blocks_of_named_values() -> None:
    out = render_table(COLUMNS, ROWS, width=100)
    blocks = re.split(r"^-\[ row \d+ \]-*$", out, flags=re.M)
    assert blocks[0] == "" and len(blocks) == 3
    second = blocks[2].strip("\n").splitlines()
    assert second[0] == "claim_id      where-nato-goes-war-is-most-likely"
    assert second[-1] == "article_url   http://xinhua.example/a"  # fits beside its name
    first = blocks[1].strip("\n").splitlines()
    assert first[-2:] == ["article_url", LONG_URL]  # does not: a line of its own


def test_a_wide_terminal_gets_a_table_with_text_wrapped() -> None:
    rows = [[*r[:-1], "http://meridian.example/ukraine-today"] for r in ROWS]
    out = render_table(COLUMNS, rows, width=160)
    lines = out.splitlines()
    assert lines[0].split() == COLUMNS
    assert set(lines[1]) == {"-", " "}
    assert over(out, 160) == []
    assert len(lines) > 2 + len(rows)  # long text wrapped onto more lines
    assert set(TITLE.split()) <= set(out.split())
    for row in rows:
        assert any(line.endswith(str(row[-1])) for line in lines)


def test_empty_columns_go_first_and_are_named() -> None:
    columns = [*COLUMNS, "verdict", "fact_check_url"]
    rows = [[*r[:-1], "http://meridian.example/ukraine-today", None, None] for r in ROWS]
    out = render_table(columns, rows, width=170)
    assert over(out, 170) == []
    assert out.splitlines()[0].split() == COLUMNS
    assert out.splitlines()[-1] == "(empty columns not shown: verdict, fact_check_url)"
    # Room for every row on one line: nothing is left out.
    wide = render_table(columns, rows, width=1000)
    assert wide.splitlines()[0].split() == columns and len(wide.splitlines()) == 2 + len(rows)


def test_wide_characters_keep_columns_aligned() -> None:
    rows = [
        ["a", "新华网", "北约在印太地区煽动冲突", 1, "http://x.example/1"],
        ["b", "Polar Wire", "Ukraine today, Asia tomorrow", 22, "http://x.example/22"],
        [
            "c",
            "日本経済新聞",
            "ウクライナは明日の東アジアかもしれない",
            333,
            "http://x.example/333",
        ],
    ]
    columns = ["id", "outlet", "title", "n", "link"]
    for width in (None, 80, 64):
        lines = render_table(columns, rows, width=width).splitlines()
        assert over("\n".join(lines), width or 1000) == []
        body = [x for x in lines if "http" in x]
        # Where each row's link starts, in terminal cells: the same in every row.
        assert len({cell_len(line[: line.index("http")]) for line in body}) == 1, lines
        # Numbers right-aligned: they end in the same cell.
        ends = {cell_len(line[: line.index(" http")]) for line in body}
        assert len(ends) == 1, lines
        if width == 64:  # the title column is wrapped, at a character boundary
            assert len(lines) > 2 + len(rows)
            assert not any("ウクライナは明日の東アジアかもしれない" in x for x in lines)
            assert set("ウクライナは明日の東アジアかもしれない") <= set("".join(lines))
    # Too narrow for a table: blocks, whose values all start in the same cell.
    blocks = render_table(columns, rows, width=30).splitlines()
    assert over("\n".join(blocks), 30) == []
    values = [x for x in blocks if not x.startswith("-[")]
    assert {cell_len(x[:8]) for x in values} == {8} and all(x[6:8] == "  " for x in values)
    third = next(i for i, x in enumerate(blocks) if x.startswith("-[ row 3 ]"))
    assert blocks[third + 2] == "outlet  日本経済新聞"


def test_a_link_inside_text_is_never_broken() -> None:
    link = "https://hooks.example.org/services/" + "a" * 40
    detail = f"delivered to {link} after two tries, answered HTTP 200 with a long body"
    rows = [["hook", detail], ["mail", "smtp://mail.example.org:587 accepted it"]]
    for width in (200, 90, 50, 30):
        out = render_table(["channel", "detail"], rows, width=width)
        assert link in out.split()
        # A line past the edge is one that ends in a whole link.
        for line in [x for x in out.splitlines() if cell_len(x) > width]:
            assert line.split()[-1] in {link, "smtp://mail.example.org:587"}, line
        assert set(detail.split()) <= set(out.split())


def test_text_from_the_web_cannot_drive_the_terminal() -> None:
    hostile = "Title\x1b]0;owned\x07 with \x1b[31mred\x1b[0m and \u202eevil\u202c\nnext"
    out = render_table(["title"], [[hostile]], width=80)
    assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out
    assert out.splitlines()[2] == "Title]0;owned with [31mred[0m and evil next"


def test_no_rows_keeps_its_header() -> None:
    assert render_table(["a", "bb"], [], width=100) == "a  bb\n-  --\n(no rows)"


def test_terminal_width_follows_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    assert terminal_width() == 100
    assert over(render(COLUMNS, ROWS), 100) == [LONG_URL]
    # Not a terminal (pytest captures standard output) and no COLUMNS: rows are not wrapped.
    monkeypatch.delenv("COLUMNS")
    assert terminal_width() is None
    out = render(COLUMNS, ROWS)
    assert len(out.splitlines()) == 2 + len(ROWS)


def test_csv_and_json_are_unchanged() -> None:
    columns = ["n", "when", "day", "amount", "tags", "text", "none"]
    rows = [
        [
            1,
            datetime(2026, 1, 2, 3, 4, 5),
            date(2026, 1, 2),
            Decimal("1.5"),
            ["a", "b"],
            'say "hi", 北约',
            None,
        ]
    ]
    assert (
        render(columns, rows, "csv")
        == (
            "n,when,day,amount,tags,text,none\n"
            '1,2026-01-02T03:04:05,2026-01-02,1.5,"[\'a\', \'b\']","say ""hi"", 北约",',
        )[0]
    )
    assert render(columns, rows, "json") == json.dumps(
        [
            {
                "n": 1,
                "when": "2026-01-02T03:04:05",
                "day": "2026-01-02",
                "amount": 1.5,
                "tags": ["a", "b"],
                "text": 'say "hi", 北约',
                "none": None,
            }
        ],
        ensure_ascii=False,
        indent=2,
    )


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory, catalog: Catalog) -> Path:
    """The test warehouse plus an article with a 200-character URL and a Chinese title."""
    db = populated_warehouse(tmp_path_factory.mktemp("tables") / "w.duckdb", catalog)
    slug = "x" * (200 - len("http://wire.example/"))
    text = f"The editorial repeated “{UKRAINE_QUOTE}” in a piece about the alliance."
    long = article(slug, "新华网", 23, text, title="北约在印太地区煽动冲突，专家表示这是危险的信号")
    store(db, catalog, "run-3", 23, [long], [match_in(long, UKRAINE, UKRAINE_QUOTE)])
    return db


def test_report_latest_matches_fits_100_columns(warehouse: Path) -> None:
    env = {"COLUMNS": "100"}
    table = claimwatch("report", "latest-matches", "--db", str(warehouse), env=env)
    assert table.returncode == 0, table.stderr
    urls = [
        r["article_url"]
        for r in json.loads(
            claimwatch(
                "report", "latest-matches", "--format", "json", "--db", str(warehouse)
            ).stdout
        )
    ]
    long = [u for u in urls if len(u) == 200]
    assert len(long) == 1 and len(urls) >= 5
    assert over(table.stdout, 100) == long
    lines = table.stdout.splitlines()
    for url in urls:  # each link whole, on its line or ending it
        assert any(line == url or line.endswith(" " + url) for line in lines), url
    assert "…" not in table.stdout


def test_a_table_written_to_a_file_is_not_fitted(warehouse: Path, tmp_path: Path) -> None:
    out = tmp_path / "latest.txt"
    args = ("report", "latest-matches", "-o", str(out), "--db", str(warehouse))
    result = claimwatch(*args, env={"COLUMNS": "100"})
    assert result.returncode == 0, result.stderr
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0].split()[:2] == ["claim_id", "outlet"]
    assert len(lines) == 2 + 6  # one line a row, however wide
