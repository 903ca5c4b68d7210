"""Descriptions for developers: each field's classification and each purpose's meaning.

GraphiQL's docs, the explorer and the printed SDL show a field's description; writing the
classification there (level, mask, purposes) puts the policy's inputs next to the field,
and the ``Purpose`` enum carries the descriptions of ``purposes.toml``.
"""

from __future__ import annotations

from graphql import GraphQLEnumType, GraphQLObjectType, GraphQLSchema

from fieldgate.authz.classification import Catalog, Classification
from fieldgate.authz.purposes import PurposeVocabulary


def classification_text(classification: Classification) -> str:
    """One line: ``SENSITIVE · mask PHONE · purposes: A, B · never for: C``."""
    parts = [classification.level.value]
    if classification.relation:
        parts.append("relation")
    parts.append(f"mask {classification.mask.value}" if classification.mask else "no mask")
    parts.append("purposes: " + (", ".join(sorted(classification.purposes)) or "any"))
    if classification.prohibits:
        parts.append("never for: " + ", ".join(sorted(classification.prohibits)))
    return " · ".join(parts)


def describe_schema(schema: GraphQLSchema, catalog: Catalog, vocabulary: PurposeVocabulary) -> None:
    """Write the classification into every classified field's description and the
    purposes' descriptions into the ``Purpose`` enum (in place, before it is printed)."""
    for coordinate, classification in catalog.classifications.items():
        type_name, field_name = coordinate.split(".", 1)
        owner = schema.type_map.get(type_name)
        if not isinstance(owner, GraphQLObjectType) or field_name not in owner.fields:
            continue
        field = owner.fields[field_name]
        text = classification_text(classification)
        if field.description and text not in field.description:
            field.description = f"{field.description}\n\n{text}"
        elif not field.description:
            field.description = text
    purposes = schema.type_map.get("Purpose")
    if isinstance(purposes, GraphQLEnumType):
        for name, value in purposes.values.items():
            described = vocabulary.descriptions.get(name)
            if described:
                parent = vocabulary.parents.get(name)
                consent = (
                    " (needs the data subject's consent)"
                    if name in vocabulary.needs_consent
                    else ""
                )
                under = f" (part of {parent})" if parent else ""
                value.description = f"{described}{under}{consent}"
