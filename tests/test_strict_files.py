"""Property tests of every reader of a user's file: whatever bytes come, a reader returns
every row or raises claimwatch's error naming the file; it never crashes otherwise and never
drops a row unsaid."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from claimwatch.delivery.config import load_digest_config
from claimwatch.exceptions import ClaimwatchError, ConfigError
from claimwatch.matching.catalog import load_catalog
from claimwatch.sources.config import load_sources
from claimwatch.store.reviews import ReviewError, read_decision_file

PROPERTY = settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
BOM = "\ufeff"
# Cell text with what makes tables hard: separators, quotes, line ends of three kinds,
# a lone CR, characters Python counts as line breaks (U+2028, U+0085), wide and RTL text.
HARD = ",;\t\"'\r\n \u2028\u0085\u00a0|[]{}北约Жعربي"
any_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc")) | st.sampled_from(HARD),
    min_size=1,
    max_size=60,
).filter(lambda t: t.strip())
# Cells with nothing a table treats specially: a writer quotes none of them.
plain_text = st.text(
    alphabet=st.sampled_from("abcdefghijklmnopqrstuvwxyz ABCXYZ0123456789.!?-éüß北约Ж"),
    min_size=1,
    max_size=30,
).filter(lambda t: t.strip())
TAGS = {"NATO": "nato", "Indo Pacific": "indo-pacific", "state_media": "state-media"}
FORMATS = ("csv", "tsv", "jsonl")
# Bytes a corruption inserts: structure, line ends, NUL, a byte that is never UTF-8,
# half of a two-byte character, a BOM in the middle.
INSERTS = [b'"', b",", b"\t", b"\n", b"\r", b"\0", b"\xff", b"\xc3", b"\xef\xbb\xbf", b"{", b"x"]


def write_table(rows: list[dict[str, str]], columns: list[str], fmt: str, style: dict) -> str:
    """Rows as a CSV, TSV or JSON lines text, the way a spreadsheet or script writes them."""
    if fmt == "jsonl":
        return "".join(json.dumps(r, ensure_ascii=False) + style["end"] for r in rows)
    out = io.StringIO()
    delimiter = "\t" if fmt == "tsv" else style["delimiter"]
    # Python 3.11's writer leaves a lone CR unquoted under an LF line end: quote every cell
    # then, as spreadsheets offer to.
    lone_cr = style["end"] == "\n" and any("\r" in v for r in rows for v in r.values())
    quoting = csv.QUOTE_ALL if lone_cr else csv.QUOTE_MINIMAL
    writer = csv.writer(out, delimiter=delimiter, lineterminator=style["end"], quoting=quoting)
    writer.writerow(columns)
    writer.writerows([[r[c] for c in columns] for r in rows])
    return out.getvalue()


styles = st.fixed_dictionaries(
    {
        "bom": st.booleans(),
        "end": st.sampled_from(["\n", "\r\n"]),
        "delimiter": st.sampled_from([",", ";"]),  # ";": a spreadsheet in a decimal-comma locale
    }
)


@st.composite
def catalogs(draw: st.DrawFn, texts: st.SearchStrategy[str] = any_text) -> tuple[list[dict], str]:
    count = draw(st.integers(1, 6))
    rows = []
    for n in range(count):
        tags = draw(st.lists(st.sampled_from(sorted(TAGS)), max_size=3, unique=True))
        # Plain cells stay unquoted: no ";" that a ";"-separated CSV would quote.
        separator = draw(st.sampled_from(["|", ";"] if texts is any_text else ["|"]))
        rows.append({"id": f"C{n}", "text": draw(texts), "tags": separator.join(tags)})
    return rows, draw(st.sampled_from(FORMATS))


def save(path: Path, text: str, style: dict) -> bytes:
    data = ((BOM if style["bom"] else "") + text).encode("utf-8")
    path.write_bytes(data)
    return data


def assert_our_error(error: ClaimwatchError, path: Path) -> None:
    """claimwatch's error: each line names the file (a parse error is one line)."""
    lines = str(error).splitlines()
    assert lines and all(line.startswith(str(path)) for line in lines), str(error)
    assert "Traceback" not in str(error)


@PROPERTY
@given(catalogs(), styles)
def test_a_table_catalog_gives_back_every_row_as_written(
    tmp_path: Path, written: tuple[list[dict], str], style: dict
) -> None:
    rows, fmt = written
    path = tmp_path / f"claims.{fmt}"
    save(path, write_table(rows, ["id", "text", "tags"], fmt, style), style)
    claims = load_catalog(path).claims
    assert [c.id for c in claims] == [r["id"] for r in rows]
    assert [c.text for c in claims] == [r["text"].strip() for r in rows]
    expected_tags = [
        tuple(TAGS[t] for t in r["tags"].replace(";", "|").split("|") if t) for r in rows
    ]
    assert [c.tags for c in claims] == expected_tags


def one_corruption(data: bytes, draw: st.DrawFn) -> bytes:
    at = draw(st.integers(0, len(data)))
    if draw(st.booleans()) and at < len(data):
        return data[:at] + data[at + 1 :]
    return data[:at] + draw(st.sampled_from(INSERTS)) + data[at:]


@PROPERTY
@given(catalogs(plain_text), styles, st.data())
def test_a_table_catalog_with_one_corrupted_byte_is_refused_or_keeps_every_row(
    tmp_path: Path, written: tuple[list[dict], str], style: dict, data: st.DataObject
) -> None:
    rows, fmt = written
    path = tmp_path / f"claims.{fmt}"
    clean = save(path, write_table(rows, ["id", "text", "tags"], fmt, style), style)
    path.write_bytes(one_corruption(clean, data.draw))
    try:
        claims = load_catalog(path).claims
    except ConfigError as error:
        assert_our_error(error, path)
    else:
        assert len(claims) == len(rows)


@PROPERTY
@given(catalogs(plain_text), styles, st.data())
def test_an_opened_quote_is_named_by_its_line_and_column(
    tmp_path: Path, written: tuple[list[dict], str], style: dict, data: st.DataObject
) -> None:
    rows, fmt = written
    if fmt == "jsonl":
        fmt = "csv"
    text = write_table(rows, ["id", "text", "tags"], fmt, style)
    lines = text.splitlines(keepends=True)
    number = data.draw(st.integers(2, len(lines)))  # a row, not the header
    delimiter = "\t" if fmt == "tsv" else style["delimiter"]
    cell_starts = [0] + [i + 1 for i, c in enumerate(lines[number - 1]) if c == delimiter]
    column = data.draw(st.sampled_from(cell_starts)) + 1
    line = lines[number - 1]
    lines[number - 1] = line[: column - 1] + '"' + line[column - 1 :]
    path = tmp_path / f"claims.{fmt}"
    save(path, "".join(lines), style)
    with pytest.raises(ConfigError) as info:
        load_catalog(path)
    assert str(info.value) == (
        f"{path}: line {number}, column {column}: a quote opens here and never closes"
    )


@PROPERTY
@given(catalogs(plain_text), styles, st.data(), st.sampled_from(["\0", b"\xff"]))
def test_a_nul_or_a_byte_not_utf8_is_named_by_its_line_and_column(
    tmp_path: Path, written: tuple[list[dict], str], style: dict, data: st.DataObject, bad: Any
) -> None:
    rows, fmt = written
    text = write_table(rows, ["id", "text", "tags"], fmt, style)
    at = data.draw(st.integers(0, len(text)))
    before = text[:at]
    assume(not before.endswith("\r"))  # between CR and LF, it would make the CR a line end
    line = before.count("\n") + 1
    column = len(before) - (before.rfind("\n") + 1) + 1
    path = tmp_path / f"claims.{fmt}"
    prefix = BOM if style["bom"] else ""
    if isinstance(bad, bytes):
        path.write_bytes((prefix + before).encode() + bad + text[at:].encode())
    else:
        path.write_text(prefix + before + bad + text[at:], encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_catalog(path)
    assert str(info.value).startswith(f"{path}: line {line}, column {column}: ")


@PROPERTY
@given(st.binary(max_size=300), st.sampled_from([*FORMATS, "yaml"]))
@example(b'id,text\nA1,"Unclosed quote here,nato\nA2,b\nA3,c\n', "csv")
@example(b'{"id": "a", "text": NaN}\n', "jsonl")
@example(b"\xef\xbb\xbfid\ttext\na\tb\tc\n", "tsv")
def test_any_bytes_give_a_catalog_or_our_error(tmp_path: Path, data: bytes, fmt: str) -> None:
    path = tmp_path / f"claims.{fmt}"
    path.write_bytes(data)
    try:
        load_catalog(path)
    except ConfigError as error:
        assert_our_error(error, path)


@st.composite
def decision_sheets(draw: st.DrawFn, notes: st.SearchStrategy[str] = any_text) -> list[dict]:
    ids = draw(st.lists(st.from_regex(r"[0-9a-f]{12}", fullmatch=True), min_size=1, max_size=6))
    return [
        {
            "id": i,
            "claim_id": "where-nato-goes",
            "decision": draw(st.sampled_from(["confirm", "reject", "", "Confirm "])),
            "note": draw(notes | st.just("")),
        }
        for i in dict.fromkeys(ids)
    ]


def expected_decisions(rows: list[dict]) -> dict[str, list[tuple[str, str | None]]]:
    expected: dict[str, list[tuple[str, str | None]]] = {}
    for row in rows:
        if row["decision"].strip():
            note = row["note"].strip() or None
            expected.setdefault(row["decision"].strip().lower(), []).append((row["id"], note))
    return expected


@PROPERTY
@given(decision_sheets(), styles)
def test_a_decision_sheet_gives_back_every_decision(
    tmp_path: Path, rows: list[dict], style: dict
) -> None:
    path = tmp_path / "decided.csv"
    save(path, write_table(rows, list(rows[0]), "csv", style), style)
    assert read_decision_file(path) == expected_decisions(rows)


@PROPERTY
@given(decision_sheets(plain_text), styles, st.data())
def test_a_decision_sheet_with_one_corrupted_byte_is_refused_or_keeps_every_decision(
    tmp_path: Path, rows: list[dict], style: dict, data: st.DataObject
) -> None:
    path = tmp_path / "decided.csv"
    clean = save(path, write_table(rows, list(rows[0]), "csv", style), style)
    path.write_bytes(one_corruption(clean, data.draw))
    try:
        decisions = read_decision_file(path)
    except ReviewError as error:
        assert_our_error(error, path)
    else:
        assert sum(map(len, decisions.values())) == sum(map(len, expected_decisions(rows).values()))


@PROPERTY
@given(st.binary(max_size=300))
@example(b'\xef\xbb\xbfid,decision\r\n"abc,confirm\r\ndef,reject\r\n')
def test_any_bytes_give_decisions_or_our_error(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "decided.csv"
    path.write_bytes(data)
    try:
        read_decision_file(path)
    except ReviewError as error:
        assert_our_error(error, path)


SOURCES = {"sources": [{"name": "wire", "url": "http://127.0.0.1:9/feed.xml", "sample": True}]}
DIGEST = {
    "channels": [{"name": "terminal", "kind": "stdout"}],
    "subscriptions": [{"name": "all", "tags": ["NATO"], "channels": ["terminal"]}],
}
CLAIMS = {"claims": [{"id": "a", "text": "Where NATO goes, war follows", "tags": "NATO|Asia"}]}
YAML_READERS: list[tuple[str, dict, Callable[[Path], Any]]] = [
    ("sources.yaml", SOURCES, load_sources),
    ("digest.yaml", DIGEST, load_digest_config),
    ("claims.yaml", CLAIMS, load_catalog),
]


@PROPERTY
@pytest.mark.parametrize(("name", "content", "load"), YAML_READERS)
@given(data=st.data())
def test_a_yaml_config_with_corrupted_bytes_loads_or_gives_our_error(
    tmp_path: Path, name: str, content: dict, load: Callable[[Path], Any], data: st.DataObject
) -> None:
    path = tmp_path / name
    clean = yaml.safe_dump(content, allow_unicode=True).encode()
    if data.draw(st.booleans()):
        clean = BOM.encode() + clean
    corrupted = clean
    for _ in range(data.draw(st.integers(1, 3))):
        corrupted = one_corruption(corrupted, data.draw)
    path.write_bytes(corrupted if data.draw(st.booleans()) else data.draw(st.binary(max_size=200)))
    try:
        load(path)
    except ConfigError as error:
        assert_our_error(error, path)
