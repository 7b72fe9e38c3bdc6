"""Catalogs as analysts have them: their own ids, and tables (CSV, TSV, JSON lines)."""

import json
from pathlib import Path

import pytest
import yaml

from claimwatch.exceptions import CatalogError
from claimwatch.matching.catalog import export_catalog, load_catalog
from tests.commands import claimwatch
from tests.conftest import SEEDS

IDS = ["H01", "FC-2024:17", "claim_3.b"]


def _catalog_with_ids(tmp_path: Path, ids: list[str]) -> Path:
    claims = [{"id": i, "text": f"Claim number {n} about the alliance"} for n, i in enumerate(ids)]
    path = tmp_path / "claims.yaml"
    path.write_text(yaml.safe_dump({"claims": claims}), encoding="utf-8")
    return path


def test_ids_as_catalogs_have_them_load_and_compare_exactly(tmp_path: Path) -> None:
    catalog = load_catalog(_catalog_with_ids(tmp_path, [*IDS, "h01"]))
    assert [c.id for c in catalog.claims] == [*IDS, "h01"]  # H01 and h01 are two claims
    assert catalog.get("FC-2024:17").text == "Claim number 1 about the alliance"


@pytest.mark.parametrize("bad", ["H 01", "H01\nH02", "claim/3", "", "x" * 121])
def test_a_bad_id_gets_one_line_naming_the_claim_and_what_is_allowed(
    tmp_path: Path, bad: str
) -> None:
    path = _catalog_with_ids(tmp_path, ["H00", bad])
    with pytest.raises(CatalogError) as info:
        load_catalog(path)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: claim ")
    assert "field 'id'" in message
    assert "letters, digits and - _ . : (at most 120 characters)" in message


def _listed(path: Path) -> list[dict]:
    result = claimwatch("claims", "list", "--claims", str(path), "--format", "json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize("fmt", ["csv", "tsv", "jsonl", "yaml"])
def test_the_same_catalog_in_every_format_lists_the_same_and_round_trips(
    tmp_path: Path, fmt: str
) -> None:
    seeds = SEEDS / "claims.yaml"
    path = tmp_path / f"claims.{fmt}"
    result = claimwatch(
        "claims", "export", "--claims", str(seeds), "--format", fmt, "--output", str(path)
    )
    assert result.returncode == 0, result.stderr
    assert _listed(path) == _listed(seeds)
    # Every field of every claim survives: variants with their languages, thresholds, terms.
    assert load_catalog(path).claims == load_catalog(seeds).claims
    again = claimwatch("claims", "export", "--claims", str(path), "--format", fmt)
    assert again.stdout == path.read_text(encoding="utf-8")


def test_a_spreadsheet_catalog_reads_lists_and_languages(tmp_path: Path) -> None:
    path = tmp_path / "claims.csv"
    path.write_text(
        "id,text,variants,tags,threshold,attributed_to,said_on,source_url\n"
        'H01,"Ukraine today, Asia tomorrow","Ukraine today, East Asia tomorrow|Today Ukraine,'
        ' tomorrow Asia",nato|asia,,A prime minister,2022-06,https://example.org/a\n'
        '"FC-2024:17","Where NATO goes,\nwar follows",'
        '"[{""text"": ""Là où va l\'OTAN, la guerre suit"", ""language"": ""fr""}]",,90,,,\n',
        encoding="utf-8",
    )
    first, second = load_catalog(path).claims
    assert first.variants[1].text == "Today Ukraine, tomorrow Asia"
    assert first.tags == ("nato", "asia") and first.said_on == "2022-06"
    assert first.source_url == "https://example.org/a"
    assert second.id == "FC-2024:17" and second.threshold == 90
    assert second.variants[0].language == "fr"
    assert export_catalog(load_catalog(path), "csv").splitlines()[0].startswith("id,text,")


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        # A quoted cell across two lines: the bad row is still named by its first line.
        (
            "c.csv",
            'id,text,threshold\na,"one\ntwo",\nb,fine text,high\n',
            "c.csv: line 4: field 'threshold': Input should be a valid number",
        ),
        ("c.tsv", "id\ttext\nbad id\tsome text\n", "c.tsv: line 2: field 'id': 'bad id' is not"),
        ("c.csv", "id,text,speaker\na,b,c\n", "c.csv: line 1: unknown column 'speaker'"),
        ("c.csv", "id,variants\na,b\n", "c.csv: line 1: no 'text' column"),
        ("c.csv", "id,text\na,one\na,two\n", "c.csv: line 3: claim id 'a' is used twice (first"),
        ("c.jsonl", '{"id": "a", "text": "x"}\n\n{"id": "b",\n', "c.jsonl: line 3: not JSON"),
        ("c.jsonl", '{"id": "a", "txt": "x"}\n', "c.jsonl: line 1: unknown field 'txt'"),
        ("c.jsonl", "\n", "c.jsonl: no claims"),
        ("c.txt", "a", "unknown catalog format '.txt': use .csv, .jsonl"),
    ],
)
def test_a_bad_table_is_named_by_file_line_and_column(
    tmp_path: Path, name: str, content: str, expected: str
) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(CatalogError) as info:
        load_catalog(path)
    assert str(info.value).startswith(str(tmp_path))
    assert expected in str(info.value)
    assert "\n" not in str(info.value)


def test_a_missing_catalog_says_how_to_point_at_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = claimwatch("claims", "list", env={"PATH": "/usr/bin:/bin"})
    assert result.returncode != 0
    assert result.stderr.strip() == (
        f"Error: seeds/claims.yaml: no such claims file (relative to {tmp_path}): "
        "give one with --claims FILE or the CLAIMWATCH_CLAIMS variable"
    )


def test_a_table_catalog_comes_from_the_environment_too(tmp_path: Path) -> None:
    path = tmp_path / "claims.jsonl"
    path.write_text(export_catalog(load_catalog(SEEDS / "claims.yaml"), "jsonl"), "utf-8")
    result = claimwatch("claims", "validate", env={"CLAIMWATCH_CLAIMS": str(path)})
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"{path}: OK: ")


def test_a_yaml_catalog_too_large_says_to_use_a_table(tmp_path: Path) -> None:
    path = tmp_path / "claims.yaml"
    claims = [{"id": f"c{n}", "text": f"Claim number {n} " + "x" * 200} for n in range(30_000)]
    path.write_text(yaml.safe_dump({"claims": claims}), encoding="utf-8")
    with pytest.raises(CatalogError, match=r"keep a large catalog as \.csv, \.tsv or \.jsonl"):
        load_catalog(path)
    table = tmp_path / "claims.jsonl"
    table.write_text("".join(json.dumps(c) + "\n" for c in claims), encoding="utf-8")
    assert len(load_catalog(table).claims) == 30_000
