from pathlib import Path

import pytest
import yaml

from claimwatch.exceptions import CatalogError
from claimwatch.matching.catalog import Catalog, load_catalog
from tests.conftest import SEEDS


def test_seed_catalog_covers_both_documents(catalog: Catalog) -> None:
    assert len(catalog.claims) >= 18
    documents = {c.document for c in catalog.claims}
    assert {d.id for d in catalog.documents} <= documents
    texts = {c.text for c in catalog.claims}
    assert "Ukraine today, Asia tomorrow" in texts
    assert "Where NATO goes, war is most likely" in texts
    kinds = {c.kind.value for c in catalog.claims}
    assert {"slogan", "quote", "estimate", "thesis"} <= kinds
    for claim in catalog.claims:
        assert claim.tags, claim.id
        assert claim.attributed_to, claim.id


def test_every_seed_document_exists(catalog: Catalog) -> None:
    shared = SEEDS.parent.parent / "shared" / "seeds"
    if not shared.is_dir():
        pytest.skip("../shared/seeds is not beside this checkout")
    for document in catalog.documents:
        assert document.file and (shared / document.file).is_file(), document.id


def _write_variant(tmp_path: Path, change) -> Path:
    data = yaml.safe_load((SEEDS / "claims.yaml").read_text(encoding="utf-8"))
    change(data)
    path = tmp_path / "claims.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def _duplicate_id(data: dict) -> None:
    data["claims"][1]["id"] = data["claims"][0]["id"]


def _missing_text(data: dict) -> None:
    del data["claims"][2]["text"]


def _bad_threshold(data: dict) -> None:
    data["claims"][0]["threshold"] = 140


def _unknown_field(data: dict) -> None:
    data["claims"][0]["speaker"] = "someone"


def _unknown_document(data: dict) -> None:
    data["claims"][0]["document"] = "no-such-document"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (_duplicate_id, "is used twice"),
        (_missing_text, "field 'text': Field required"),
        (_bad_threshold, "field 'threshold'"),
        (_unknown_field, "field 'speaker': Extra inputs are not permitted"),
        (_unknown_document, "'no-such-document' is not listed under documents"),
    ],
)
def test_bad_catalog_names_file_claim_and_field(tmp_path: Path, change, expected: str) -> None:
    path = _write_variant(tmp_path, change)
    with pytest.raises(CatalogError) as info:
        load_catalog(path)
    message = str(info.value)
    assert message.startswith(str(path))
    assert expected in message
    assert "\n" not in message


def test_claim_is_named_in_field_errors(tmp_path: Path) -> None:
    path = _write_variant(tmp_path, _missing_text)
    claim_id = yaml.safe_load(path.read_text())["claims"][2]["id"]
    with pytest.raises(CatalogError, match=f"claim '{claim_id}'"):
        load_catalog(path)


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "claims.yaml"
    path.write_text("claims:\n  - id: a\n    text: [unclosed\n", encoding="utf-8")
    with pytest.raises(CatalogError, match=r"claims\.yaml:\d+: invalid YAML"):
        load_catalog(path)


def test_unsafe_yaml_tags_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "claims.yaml"
    path.write_text("claims: !!python/object/apply:os.system ['true']\n", encoding="utf-8")
    with pytest.raises(CatalogError, match="invalid YAML"):
        load_catalog(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="no such claims file: give one with --claims FILE"):
        load_catalog(tmp_path / "nope.yaml")


def test_variants_accept_strings_and_translations(tmp_path: Path) -> None:
    path = tmp_path / "claims.yaml"
    path.write_text(
        "claims:\n"
        "  - id: c1\n"
        "    text: Alpha beta gamma\n"
        "    variants:\n"
        "      - Alpha and beta and gamma\n"
        "      - {text: Alfa beta gamma, language: es}\n",
        encoding="utf-8",
    )
    claim = load_catalog(path).claims[0]
    assert claim.wordings == ("Alpha beta gamma", "Alpha and beta and gamma", "Alfa beta gamma")
    assert claim.variants[1].language == "es"
