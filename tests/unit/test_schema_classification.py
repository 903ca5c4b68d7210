"""The schema refuses to build when a field is misdeclared, naming the field."""

from __future__ import annotations

import pytest
import strawberry

from fieldgate.authz.classification import Level
from fieldgate.authz.masking import MaskStrategy
from fieldgate.authz.purposes import Purpose, PurposeVocabulary, load_purposes
from fieldgate.errors import SchemaMisdeclared
from fieldgate.schema import build_schema
from fieldgate.schema.catalog import build_catalog
from fieldgate.schema.directives import Classified, classified
from fieldgate.settings import PACKAGED_POLICY_DIR


def catalog_of(row_type: type, vocabulary: PurposeVocabulary | None = None) -> object:
    def row() -> None:
        return None

    namespace = {"row": strawberry.field(resolver=row, graphql_type=row_type | None)}
    query = strawberry.type(type("Query", (), namespace))
    schema = strawberry.Schema(query=query, schema_directives=[Classified])
    return build_catalog(schema._schema, vocabulary)


def test_the_real_schema_is_fully_classified() -> None:
    catalog = build_catalog(build_schema()._schema, load_purposes(PACKAGED_POLICY_DIR))
    assert "User.phone" in catalog.classifications  # type: ignore[attr-defined]
    assert catalog.classifications["Order.bankCard"].mask is MaskStrategy.BANK_CARD  # type: ignore[attr-defined]


def test_unclassified_field_is_refused() -> None:
    @strawberry.type(name="Thing")
    class Thing:
        id: strawberry.ID = classified(Level.INTERNAL)
        secret: str | None = None

    with pytest.raises(SchemaMisdeclared, match=r"Thing\.secret has no classification"):
        catalog_of(Thing)


def test_non_null_personal_field_is_refused() -> None:
    @strawberry.type(name="Person")
    class Person:
        id: strawberry.ID = classified(Level.INTERNAL)
        phone: str = classified(Level.SENSITIVE, MaskStrategy.PHONE, (Purpose.ACCOUNT,))

    with pytest.raises(SchemaMisdeclared, match=r"Person\.phone is SENSITIVE but non-null"):
        catalog_of(Person)


def test_personal_field_without_purposes_is_refused() -> None:
    @strawberry.type(name="Note")
    class Note:
        id: strawberry.ID = classified(Level.INTERNAL)
        text: str | None = classified(Level.PERSONAL, MaskStrategy.REDACT)

    with pytest.raises(SchemaMisdeclared, match=r"Note\.text is PERSONAL but allows no purpose"):
        catalog_of(Note)


def test_unknown_purpose_is_refused() -> None:
    @strawberry.type(name="Lead")
    class Lead:
        id: strawberry.ID = classified(Level.INTERNAL)
        email: str | None = classified(Level.PERSONAL, MaskStrategy.EMAIL, (Purpose.MARKETING,))

    full = load_purposes(PACKAGED_POLICY_DIR)
    without_marketing = PurposeVocabulary(
        parents={p: q for p, q in full.parents.items() if p != "MARKETING"},
        needs_consent=full.needs_consent,
        prohibitions={},
    )
    with pytest.raises(SchemaMisdeclared, match=r"Lead\.email names unknown purpose MARKETING"):
        catalog_of(Lead, without_marketing)


def test_unknown_mask_is_refused() -> None:
    @strawberry.type(name="Card")
    class Card:
        id: strawberry.ID = classified(Level.INTERNAL)
        number: str | None = strawberry.field(
            default=None,
            directives=[
                Classified(level=Level.SENSITIVE, mask="ROT13", purposes=[Purpose.PAYMENT])
            ],  # type: ignore[arg-type]
        )

    with pytest.raises(SchemaMisdeclared, match=r"Card\.number has an unknown level or mask"):
        catalog_of(Card)


def test_printed_schema_shows_classification() -> None:
    sdl = build_schema().as_str()
    assert "directive @classified(" in sdl
    assert "directive @purpose(name: Purpose!) on QUERY | MUTATION" in sdl
    assert (
        "idNumber: String @classified(level: SENSITIVE, mask: ID_NUMBER, purposes: [IDENTITY_VERIFICATION], prohibits: [MARKETING, ANALYTICS, RESEARCH, PERSONALISATION]"
        in sdl
    )
