"""The claim catalog: seed documents and the claims to monitor, from a YAML file or a
table (catalog_tables.py)."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Iterator
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Self

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)

from claimwatch.exceptions import CatalogError
from claimwatch.matching.catalog_tables import COLUMNS, TABLE_FORMATS, read_rows, write_rows
from claimwatch.yamlfile import (
    MAX_LISTED_ERRORS,
    MAX_YAML_BYTES,
    describe_validation_error,
    read_yaml,
    validate,
)

Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length=120)]
YAML_SUFFIXES = {".yaml", ".yml"}
EXPORT_FORMATS = ("yaml", "csv", "tsv", "jsonl")
# The tag of every claim read from a fact-check (a `claimreview` source).
FACT_CHECK_TAG = "fact-check"
# Claim and document ids as catalogs already have them (H01, FC-2024:17, claim_3.b),
# compared exactly, case included.
ID_PATTERN = re.compile(r"[A-Za-z0-9_.:-]+")
MAX_ID_LENGTH = 120
ID_RULE = f"letters, digits and - _ . : (at most {MAX_ID_LENGTH} characters)"


def _checked_id(value: str) -> str:
    if len(value) > MAX_ID_LENGTH or not ID_PATTERN.fullmatch(value):
        raise ValueError(f"{value!r} is not an id: use {ID_RULE}")
    return value


Id = Annotated[str, AfterValidator(_checked_id)]
TAG_PATTERN = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")
# Items of a tag list written as one string: "NATO|Asia", "nato; asia", "nato, asia".
TAG_SEPARATORS = re.compile(r"[|;,]")


def normal_tag(value: str) -> str:
    """A tag as stored: lowercase, spaces and underscores as single hyphens ("Indo Pacific",
    "indo_pacific" and "Indo-Pacific" are all indo-pacific)."""
    return re.sub(r"[\s_-]+", "-", value.strip().lower()).strip("-")


def _checked_tag(value: str) -> str:
    tag = normal_tag(value)
    if len(tag) > MAX_ID_LENGTH or not TAG_PATTERN.fullmatch(tag):
        raise ValueError(
            f"{value!r} is not a tag: use letters, digits, spaces or hyphens (such as "
            f"state-media or Indo Pacific), at most {MAX_ID_LENGTH} characters"
        )
    return tag


def _tag_items(value: object) -> object:
    """A tag list as the user wrote it: one string of separated items, or a list whose
    strings may hold separated items too (a table cell's `nato;asia`)."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple):
        return value
    items: list[object] = []
    for item in value:
        if isinstance(item, int) and not isinstance(item, bool):
            item = str(item)  # a year as a tag: 2024
        if isinstance(item, str):
            items.extend(part for part in TAG_SEPARATORS.split(item) if part.strip())
        else:
            items.append(item)
    return items


Tag = Annotated[str, AfterValidator(_checked_tag)]
# Normalised tags, each once, in the order first written.
Tags = Annotated[
    tuple[Tag, ...], BeforeValidator(_tag_items), AfterValidator(lambda t: tuple(dict.fromkeys(t)))
]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
# YYYY, YYYY-MM or YYYY-MM-DD: analysts often know only the year or month of a statement.


def _real_date(value: str) -> str:
    # The pattern lets 2022-13 or 2022-02-30 through: check the calendar too.
    year, month, day = [*value.split("-"), "01", "01"][:3]
    try:
        date(int(year), int(month), int(day))
    except ValueError:
        raise ValueError(f"{value!r} is not a date of the calendar") from None
    return value


PartialDate = Annotated[
    str,
    StringConstraints(pattern=r"^\d{4}(-\d{2}(-\d{2})?)?$"),
    AfterValidator(_real_date),
]
Url = Annotated[str, StringConstraints(pattern=r"^https?://\S+$", max_length=2000)]
Language = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ClaimKind(StrEnum):
    slogan = "slogan"
    quote = "quote"
    estimate = "estimate"
    thesis = "thesis"
    statement = "statement"


class Variant(_Strict):
    """Another wording of a claim; `language` marks a translation."""

    text: Text
    language: Language | None = None


class Document(_Strict):
    """A seed document that claims are taken from."""

    id: Id
    title: Text
    author: Text | None = None
    publisher: Text | None = None
    file: str | None = None


class Claim(_Strict):
    """One claim to monitor, with the wordings it circulates in."""

    id: Id
    text: Text
    # The language of `text`, where it is not English (ISO 639-1, like a variant's).
    language: Language | None = None
    kind: ClaimKind = ClaimKind.statement
    variants: tuple[Variant, ...] = ()
    document: Id | None = None
    attributed_to: Text | None = None
    said_on: PartialDate | None = None
    # Where the claim was made or reviewed (a fact-check's page).
    source_url: Url | None = None
    tags: Tags = ()
    threshold: Annotated[float, Field(ge=0, le=100)] | None = None
    # Closeness in meaning (cosine x 100) from which a sentence is suggested for review.
    suggest_threshold: Annotated[float, Field(ge=0, le=100)] | None = None
    # A match must mention one of these (whole words, any case) in the matched
    # sentences: a claim about NATO must name NATO or the alliance, not North Korea.
    required_terms: tuple[Text, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _variants_may_be_plain_strings(cls, data: object) -> object:
        if isinstance(data, dict) and isinstance(data.get("variants"), list):
            data = dict(data)
            data["variants"] = [{"text": v} if isinstance(v, str) else v for v in data["variants"]]
        return data

    def record(self) -> dict[str, Any]:
        """The claim as a row of a table catalog: its set fields, in column order; a
        variant is its text alone unless it has a language."""
        data = self.model_dump(mode="json", exclude_defaults=True)
        data["kind"] = self.kind.value
        data["variants"] = [v if v.get("language") else v["text"] for v in data.get("variants", [])]
        return {name: data[name] for name in COLUMNS if data.get(name) not in (None, [])}

    @property
    def wordings(self) -> tuple[str, ...]:
        """The canonical text first, then every variant."""
        return (self.text, *(v.text for v in self.variants))

    @property
    def wording_languages(self) -> tuple[str | None, ...]:
        """The language of each of `wordings` (None: English, or not said)."""
        return (self.language, *(v.language for v in self.variants))


class Catalog(_Strict):
    """Every claim of a catalog file, in file order."""

    documents: tuple[Document, ...] = ()
    claims: Annotated[tuple[Claim, ...], Field(min_length=1)]

    @model_validator(mode="after")
    def _ids_unique_and_documents_known(self) -> Self:
        seen: set[str] = set()
        for claim in self.claims:
            if claim.id in seen:
                raise ValueError(f"claim id {claim.id!r} is used twice; ids must be unique")
            seen.add(claim.id)
        known_docs = {d.id for d in self.documents}
        for claim in self.claims:
            if claim.document and claim.document not in known_docs:
                raise ValueError(
                    f"claim {claim.id!r}: document {claim.document!r} is not listed under documents"
                )
        return self

    def with_wordings(self, extra: Iterable[tuple[str, str]]) -> Catalog:
        """This catalog with more wordings: (claim id, text) pairs, such as sentences a
        reviewer confirmed. Pairs naming a claim no longer listed, or a wording the claim
        has, are left out."""
        added: dict[str, list[Variant]] = {}
        for claim_id, text in extra:
            wording = " ".join(text.split())[:2000]
            if wording:
                added.setdefault(claim_id, []).append(Variant(text=wording))
        if not added:
            return self
        claims = []
        for claim in self.claims:
            new = [v for v in added.get(claim.id, ()) if v.text not in claim.wordings]
            unique = list({v.text: v for v in new}.values())
            claims.append(claim.model_copy(update={"variants": (*claim.variants, *unique)}))
        return self.model_copy(update={"claims": tuple(claims)})

    def with_claims(self, claims: Iterable[Claim]) -> Catalog:
        """This catalog and `claims` after it, but for those whose id it has already."""
        known = {c.id for c in self.claims}
        added = tuple(c for c in claims if c.id not in known)
        return self.model_copy(update={"claims": self.claims + added}) if added else self

    def only(self, claim_ids: Collection[str]) -> Catalog:
        """This catalog with just the claims named (their documents stay)."""
        unknown = sorted(set(claim_ids) - {c.id for c in self.claims})
        if unknown:
            raise CatalogError(
                f"no claim {', '.join(map(repr, unknown))} in the catalog: "
                "see `claimwatch claims list` for its ids"
            )
        wanted = set(claim_ids)  # once: a focus of many ids on a large catalog
        return self.model_copy(update={"claims": tuple(c for c in self.claims if c.id in wanted)})

    def get(self, claim_id: str) -> Claim:
        for claim in self.claims:
            if claim.id == claim_id:
                return claim
        raise KeyError(claim_id)


def load_catalog(path: Path | str) -> Catalog:
    """Read and validate a claims file, YAML or a table (.csv, .tsv, .jsonl); raise
    CatalogError with a one-line reason."""
    path = Path(path)
    if not path.exists():
        where = "" if path.is_absolute() else f" (relative to {Path.cwd()})"
        raise CatalogError(
            f"{path}: no such claims file{where}: give one with --claims FILE "
            "or the CLAIMWATCH_CLAIMS variable"
        )
    suffix = path.suffix.lower()
    if suffix in TABLE_FORMATS:
        return _from_rows(path, read_rows(path, TABLE_FORMATS[suffix]))
    if suffix not in YAML_SUFFIXES:
        known = ", ".join(sorted(YAML_SUFFIXES | set(TABLE_FORMATS)))
        raise CatalogError(f"{path}: unknown catalog format {suffix or '(none)'!r}: use {known}")
    if (size := path.stat().st_size) > MAX_YAML_BYTES:
        raise CatalogError(
            f"{path}: {size} bytes, more than a YAML catalog may hold ({MAX_YAML_BYTES}): "
            "keep a large catalog as .csv, .tsv or .jsonl"
        )
    catalog: Catalog = validate(
        Catalog, read_yaml(path, CatalogError), path, "claims", CatalogError
    )
    return catalog


def export_catalog(catalog: Catalog, fmt: str) -> str:
    """The catalog as text in one of EXPORT_FORMATS; each loads back as the same claims."""
    records = [c.record() for c in catalog.claims]
    if fmt != "yaml":
        return write_rows(records, fmt)
    documents = [d.model_dump(exclude_defaults=True) for d in catalog.documents]
    data = {"documents": documents, "claims": records} if documents else {"claims": records}
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)


def _from_rows(path: Path, rows: Iterator[tuple[int, dict[str, Any]]]) -> Catalog:
    """A table's claims, each validated on its own so that an error names its line; every
    row's errors are listed, one a line."""
    claims: list[Claim] = []
    first_line: dict[str, int] = {}
    errors: list[str] = []
    for line, row in rows:
        where = Path(f"{path}: line {line}")
        try:
            claim = Claim.model_validate(row)
        except ValidationError as exc:
            errors.extend(describe_validation_error(where, exc, [], "claims").splitlines())
            continue
        if claim.id in first_line:
            errors.append(
                f"{where}: claim id {claim.id!r} is used twice (first on line "
                f"{first_line[claim.id]}); ids must be unique"
            )
        first_line.setdefault(claim.id, line)
        claims.append(claim)
    if errors:
        listed = errors[:MAX_LISTED_ERRORS]
        if len(errors) > MAX_LISTED_ERRORS:
            listed.append(f"{path}: {len(errors) - MAX_LISTED_ERRORS} more errors not listed")
        raise CatalogError("\n".join(listed))
    if not claims:
        raise CatalogError(f"{path}: no claims: expected a header row and a row per claim")
    named = sorted({c.document for c in claims if c.document})
    return Catalog(documents=tuple(Document(id=d, title=d) for d in named), claims=tuple(claims))
