"""The claim catalog: a YAML file of seed documents and the claims to monitor."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from claimwatch.exceptions import CatalogError
from claimwatch.yamlfile import read_yaml, validate

Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length=120)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
# YYYY, YYYY-MM or YYYY-MM-DD: analysts often know only the year or month of a statement.
PartialDate = Annotated[str, StringConstraints(pattern=r"^\d{4}(-\d{2}(-\d{2})?)?$")]


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
    language: Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}$")] | None = None


class Document(_Strict):
    """A seed document that claims are taken from."""

    id: Slug
    title: Text
    author: Text | None = None
    publisher: Text | None = None
    file: str | None = None


class Claim(_Strict):
    """One claim to monitor, with the wordings it circulates in."""

    id: Slug
    text: Text
    kind: ClaimKind = ClaimKind.statement
    variants: tuple[Variant, ...] = ()
    document: Slug | None = None
    attributed_to: Text | None = None
    said_on: PartialDate | None = None
    tags: tuple[Slug, ...] = ()
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

    @property
    def wordings(self) -> tuple[str, ...]:
        """The canonical text first, then every variant."""
        return (self.text, *(v.text for v in self.variants))


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

    def only(self, claim_ids: Collection[str]) -> Catalog:
        """This catalog with just the claims named (their documents stay)."""
        unknown = sorted(set(claim_ids) - {c.id for c in self.claims})
        if unknown:
            raise CatalogError(
                f"no claim {', '.join(map(repr, unknown))} in the catalog: "
                "see `claimwatch claims list` for its ids"
            )
        return self.model_copy(
            update={"claims": tuple(c for c in self.claims if c.id in set(claim_ids))}
        )

    def get(self, claim_id: str) -> Claim:
        for claim in self.claims:
            if claim.id == claim_id:
                return claim
        raise KeyError(claim_id)


def load_catalog(path: Path | str) -> Catalog:
    """Read and validate a claims file; raise CatalogError with a one-line reason."""
    path = Path(path)
    catalog: Catalog = validate(
        Catalog, read_yaml(path, CatalogError), path, "claims", CatalogError
    )
    return catalog
