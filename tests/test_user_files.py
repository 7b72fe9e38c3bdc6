"""A user's files as they come from spreadsheets and editors: refused with the line and
column at fault and nothing written, or read whole (a BOM, semicolons, tags as people
write them); every validation error listed."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
import yaml

from claimwatch.delivery.config import load_digest_config
from claimwatch.exceptions import CatalogError, DigestConfigError, SourcesError
from claimwatch.matching.catalog import Catalog, export_catalog, load_catalog
from claimwatch.sources.config import load_sources
from claimwatch.store.reviews import ReviewError, read_decision_file
from claimwatch.store.snapshots import list_snapshots
from tests.commands import claimwatch
from tests.conftest import SEEDS
from tests.warehouses import populated_warehouse

UNCLOSED = 'id,text,tags\nA1,"Unclosed quote here,nato\nA2,Second claim,asia\nA3,Third claim,nato\n'
BOM = "\ufeff"


def state_of(db: Path) -> tuple[int, list[tuple[str, int]]]:
    """What any write to the warehouse changes: its newest snapshot (every committed
    transaction makes one) and the data files under it."""
    (newest,) = list_snapshots(db, limit=1)
    data = db / "data"
    files = sorted((str(p.relative_to(data)), p.stat().st_size) for p in data.rglob("*.parquet"))
    return newest.id, files


def test_an_unclosed_quote_fails_claims_validate_naming_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "claims.csv"
    path.write_text(UNCLOSED, encoding="utf-8")
    result = claimwatch("claims", "validate", "--claims", str(path))
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"Error: {path}: line 2, column 4: a quote opens here and never closes"
    )


def test_a_pass_with_a_bad_table_catalog_leaves_the_warehouse_as_it_was(
    tmp_path: Path, catalog: Catalog
) -> None:
    db = populated_warehouse(tmp_path / "w.duckdb", catalog)
    before = state_of(db)
    bad = tmp_path / "claims.csv"
    bad.write_text(UNCLOSED, encoding="utf-8")
    result = claimwatch("run", "--claims", str(bad), "--db", str(db))
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        f"Error: {bad}: line 2, column 4: a quote opens here and never closes"
    ]
    assert state_of(db) == before


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        # The quote of A1 is closed by A2's opening one, which text follows.
        (
            "c.csv",
            'id,text\nA1,"Unclosed\nA2,"Second" claim\n',
            "line 2, column 4: a quote opens here and is not closed on its line (the quote "
            "that closes it, on line 3, column 4, is followed by text)",
        ),
        (
            "c.csv",
            'id,text\nA1,"Quoted" then text\n',
            "line 2, column 12: text after the closing quote of a cell: write a quote inside a "
            'quoted cell as two quotes ("")',
        ),
        (
            "c.csv",
            "id,text\nA1,Where NATO goes, war follows\n",
            "line 2, column 20: cell 3 of a row under a header of 2 columns (a cell holding a "
            "comma must be in double quotes)",
        ),
        (
            "c.tsv",
            "id\ttext\ttags\nA1\tSome claim\n",
            "line 2, column 14: the row ends after 2 cells; the header has 3",
        ),
        (
            "c.csv",
            "id,text\nA1,Some\0claim\n",
            "line 2, column 8: a NUL character: not a text file",
        ),
        (
            "c.csv",
            "id,text\nA1,Caf\xe9 claim\n".encode("latin-1"),
            "line 2, column 7: byte 0xe9 is not UTF-8: save the file as UTF-8 text",
        ),
        ("c.csv", "id,text\nA1,x\n".encode("utf-16"), "line 1, column 1: the file is UTF-16 text"),
        ("c.csv", "id,text,id\nA1,x,y\n", "line 1, column 9: column 'id' appears twice"),
        (
            "c.csv",
            "id,text,\nA1,x,\nA2,y,z\n",
            "line 3, column 6: a value under a column with no name",
        ),
        (
            "c.jsonl",
            '{"id": "A1", "text": "x", "text": "y"}\n',
            'line 1, column 27: "text" appears twice',
        ),
        (
            "c.jsonl",
            '{"id": "A1", "text": "x", "threshold": NaN}\n',
            "line 1, column 40: NaN is not",
        ),
        (
            "c.jsonl",
            '{"id": "A1", "text": "x"} {"id": "A2"}\n',
            "line 1: not JSON: Extra data at column 27",
        ),
    ],
)
def test_a_malformed_table_is_refused_at_its_line_and_column(
    tmp_path: Path, name: str, content: str | bytes, expected: str
) -> None:
    path = tmp_path / name
    if isinstance(content, str):
        content = content.encode("utf-8")
    path.write_bytes(content)
    with pytest.raises(CatalogError) as info:
        load_catalog(path)
    assert str(info.value).startswith(f"{path}: {expected}")
    assert "\n" not in str(info.value)


def test_tables_as_spreadsheets_save_them_are_read_whole(tmp_path: Path) -> None:
    # Excel's "CSV UTF-8" (a BOM, CRLF), a decimal-comma locale's semicolons, a padded
    # empty column, a blank line, and a line separator inside a JSON string.
    excel = tmp_path / "excel.csv"
    excel.write_bytes(
        (
            BOM + 'id;text;tags;\r\nA1;"Where NATO goes; war follows";NATO;\r\n\r\nA2;Second;;\r\n'
        ).encode("utf-8")
    )
    assert [(c.id, c.text, c.tags) for c in load_catalog(excel).claims] == [
        ("A1", "Where NATO goes; war follows", ("nato",)),
        ("A2", "Second", ()),
    ]
    lines = tmp_path / "claims.jsonl"
    lines.write_text(BOM + json.dumps({"id": "A1", "text": "one\u2028two"}, ensure_ascii=False))
    assert load_catalog(lines).claims[0].text == "one\u2028two"


def test_a_claim_text_with_a_lone_carriage_return_exports_and_loads_back(tmp_path: Path) -> None:
    catalog = Catalog.model_validate(
        {"claims": [{"id": "a", "text": "one\rtwo"}, {"id": "b", "text": "x"}]}
    )
    path = tmp_path / "claims.csv"
    path.write_text(export_catalog(catalog, "csv"), encoding="utf-8", newline="")
    assert load_catalog(path).claims == catalog.claims


def test_a_bom_is_accepted_in_every_file(tmp_path: Path) -> None:
    sources = tmp_path / "sources.yaml"
    sources.write_text(BOM + "sources:\n  - name: wire\n    url: http://127.0.0.1:9/f\n", "utf-8")
    assert [s.name for s in load_sources(sources).sources] == ["wire"]
    digest = tmp_path / "digest.yaml"
    digest.write_text(
        BOM
        + "channels:\n  - {name: t, kind: stdout}\nsubscriptions:\n  - {name: s, channels: [t]}\n",
        "utf-8",
    )
    assert [c.name for c in load_digest_config(digest).channels] == ["t"]
    for fmt in ("yaml", "csv", "tsv", "jsonl"):
        path = tmp_path / f"claims.{fmt}"
        path.write_text(BOM + export_catalog(load_catalog(SEEDS / "claims.yaml"), fmt), "utf-8")
        assert load_catalog(path).claims == load_catalog(SEEDS / "claims.yaml").claims
    decisions = tmp_path / "decided.csv"
    decisions.write_text(BOM + "id,decision,note\r\nabc,confirm,ok\r\n", "utf-8")
    assert read_decision_file(decisions) == {"confirm": [("abc", "ok")]}


def test_a_decision_sheet_of_one_row_whose_header_lost_its_line_end_is_refused(
    tmp_path: Path,
) -> None:
    """Its one row reads as more header (found by tests/test_strict_files.py): no rows."""
    decisions = tmp_path / "decided.csv"
    decisions.write_text("id,claim_id,decision,noteabc,where-nato-goes,confirm,\n", "utf-8")
    with pytest.raises(ReviewError, match=r"decided.csv: no rows under the header line"):
        read_decision_file(decisions)


def pending_ids(db: Path) -> list[str]:
    listed = claimwatch("review", "--format", "json", "--db", str(db))
    assert listed.returncode == 0, listed.stderr
    return [row["id"] for row in json.loads(listed.stdout)]


def test_a_decisions_sheet_saved_by_excel_is_imported(tmp_path: Path, catalog: Catalog) -> None:
    db = populated_warehouse(tmp_path / "w.duckdb", catalog)
    (suggestion,) = pending_ids(db)
    exported = claimwatch("review", "--format", "csv", "--db", str(db))
    rows = list(csv.DictReader(io.StringIO(exported.stdout)))
    rows[0]["decision"] = "Confirm"
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    sheet = tmp_path / "pending.csv"
    sheet.write_bytes((BOM + out.getvalue()).encode("utf-8"))  # Excel's "CSV UTF-8"
    imported = claimwatch("review", "import", str(sheet), "--db", str(db))
    assert imported.returncode == 0, imported.stderr
    assert pending_ids(db) == []
    assert (
        suggestion in claimwatch("sql", "SELECT suggestion_id FROM reviews", "--db", str(db)).stdout
    )


def test_a_malformed_decisions_sheet_records_nothing(tmp_path: Path, catalog: Catalog) -> None:
    db = populated_warehouse(tmp_path / "w.duckdb", catalog)
    (suggestion,) = pending_ids(db)
    before = state_of(db)
    sheet = tmp_path / "pending.csv"
    sheet.write_text(f'id,decision,note\n{suggestion},confirm,"fine\nother,reject,x\n', "utf-8")
    result = claimwatch("review", "import", str(sheet), "--db", str(db))
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"Error: {sheet}: line 2, column 22: a quote opens here and never closes"
    )
    sheet.write_text(f"id,decision,note\n{suggestion},confirm\n", "utf-8")
    short = claimwatch("review", "import", str(sheet), "--db", str(db))
    assert short.returncode == 1
    assert short.stderr.strip() == (
        f"Error: {sheet}: line 2, column 21: the row ends after 2 cells; the header has 3"
    )
    assert state_of(db) == before and pending_ids(db) == [suggestion]


def test_tags_are_normalised_in_yaml_and_tables(tmp_path: Path) -> None:
    path = tmp_path / "claims.yaml"
    path.write_text(
        "claims:\n"
        "  - {id: a, text: One claim, tags: NATO|Asia}\n"
        "  - {id: b, text: Two claims, tags: [Indo Pacific, state_media; NATO, nato]}\n",
        encoding="utf-8",
    )
    assert [c.tags for c in load_catalog(path).claims] == [
        ("nato", "asia"),
        ("indo-pacific", "state-media", "nato"),
    ]
    table = tmp_path / "claims.csv"
    table.write_text('id,text,tags\na,One claim,"NATO; Indo Pacific"\n', encoding="utf-8")
    assert load_catalog(table).claims[0].tags == ("nato", "indo-pacific")
    digest = tmp_path / "digest.yaml"
    digest.write_text(
        "channels:\n  - {name: t, kind: stdout}\n"
        "subscriptions:\n  - {name: s, tags: [Indo Pacific], channels: [t]}\n",
        encoding="utf-8",
    )
    assert load_digest_config(digest).subscriptions[0].tags == ("indo-pacific",)


def test_every_validation_error_is_listed_one_a_line(tmp_path: Path) -> None:
    path = tmp_path / "claims.yaml"
    path.write_text(
        "claims:\n"
        "  - {id: a, text: One claim, tags: NATO/Asia, threshold: high}\n"
        "  - {id: b, text: Two, said_on: 2022-13-01, language: French}\n",
        encoding="utf-8",
    )
    result = claimwatch("claims", "validate", "--claims", str(path))
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"Error: {path}: claim 'a': field 'tags.0': 'NATO/Asia' is not a tag: use letters, "
        "digits, spaces or hyphens (such as state-media or Indo Pacific), at most 120 characters",
        f"{path}: claim 'a': field 'threshold': Input should be a valid number, unable to parse "
        "string as a number",
        f"{path}: claim 'b': field 'language': 'French' does not fit: use a two- or three-letter "
        "language code in lowercase (such as en or fr)",
        f"{path}: claim 'b': field 'said_on': '2022-13-01' is not a date of the calendar",
    ]


def test_every_error_of_a_config_is_listed(tmp_path: Path) -> None:
    sources = tmp_path / "sources.yaml"
    sources.write_text(
        "sources:\n  - {name: Wire One, url: http://127.0.0.1:9/f}\n"
        "  - {name: two, url: nowhere}\n",
        encoding="utf-8",
    )
    with pytest.raises(SourcesError) as info:
        load_sources(sources)
    assert str(info.value).splitlines() == [
        f"{sources}: source 'Wire One': field 'name': 'Wire One' does not fit: use lowercase "
        "letters, digits and single hyphens or underscores (such as nato-news)",
        f"{sources}: source 'two': field 'url': Input should be a valid URL, relative URL "
        "without a base",
    ]
    digest = tmp_path / "digest.yaml"
    digest.write_text(
        "channels:\n  - {name: t, kind: stdout, retries: -1}\n  - {name: f, kind: file}\n"
        "subscriptions:\n  - {name: s, channels: [t]}\n",
        encoding="utf-8",
    )
    with pytest.raises(DigestConfigError) as info:
        load_digest_config(digest)
    lines = str(info.value).splitlines()
    assert len(lines) == 2 and "more" not in str(info.value)
    assert lines[0].startswith(f"{digest}: channel 't': field 'retries': ")
    assert lines[1].startswith(f"{digest}: channel 'f': field 'path': Field required")


def test_yaml_keeps_dates_as_written_and_refuses_a_key_given_twice(tmp_path: Path) -> None:
    path = tmp_path / "claims.yaml"
    path.write_text("claims:\n  - {id: a, text: One claim, said_on: 2022-06-01}\n", "utf-8")
    assert load_catalog(path).claims[0].said_on == "2022-06-01"
    path.write_text("claims:\n  - id: a\n    text: One claim\n    text: Another\n", "utf-8")
    with pytest.raises(CatalogError) as info:
        load_catalog(path)
    assert str(info.value) == f"{path}:4: invalid YAML: the key 'text' appears twice (column 5)"
    assert yaml.safe_load(path.read_text())["claims"][0]["text"] == "Another"  # what PyYAML does
