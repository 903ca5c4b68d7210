"""Arguments checked at the edge, by type, before anything runs.

Every text argument of an operation (``String`` and ``ID``, in arguments, lists and input
objects, literals and variables alike) is checked once, before execution, against what
the databases store:

- no NUL, no other C0 control character but tab, line feed and carriage return, and no
  lone surrogate (PostgreSQL refuses NUL and cannot encode a surrogate; none belongs in
  a name, a phone number or a message);
- at most as many characters as the column it is written to or compared with
  (:data:`LIMITS`, by coordinate; :data:`DEFAULT_LIMIT` for any other).

One bad value refuses the whole operation with ``BAD_USER_INPUT`` naming the argument:
no resolver runs, so a mutation refused here has changed nothing. The message names the
rule, never the value. Formats (phone numbers, ID numbers, e-mail addresses) and row ids
are parsed where their meaning is known (``resolvers.arguments``,
``resolvers.identifiers``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
    GraphQLSchema,
    OperationDefinitionNode,
    TypeInfo,
    TypeInfoVisitor,
    ValueNode,
    Visitor,
    get_operation_ast,
    value_from_ast_untyped,
    visit,
)
from graphql import ExecutionResult as GraphQLExecutionResult
from strawberry.extensions import SchemaExtension

from fieldgate.errors import BadUserInput

TEXT_SCALARS = frozenset({"String", "ID"})
REFUSED_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")
DEFAULT_LIMIT = 255  # the widest VARCHAR of the schema's tables

# Characters per argument (``Type.field(argument)``) or input field (``Input.field``), as
# the columns they reach are wide. The README lists them.
LIMITS: Mapping[str, int] = {
    "Mutation.login(username)": 64,
    "Mutation.login(password)": 128,
    "RegisterInput.username": 32,
    "RegisterInput.password": 128,
    "RegisterInput.phone": 32,
    "RegisterInput.email": 254,
    "RegisterInput.nickname": 64,
    "ProfileInput.nickname": 64,
    "ProfileInput.avatarUrl": 255,
    "ProfileInput.region": 64,
    "ProfileInput.phone": 32,
    "ProfileInput.email": 254,
    "ProfileInput.gender": 16,
    "ProfileInput.jobTitle": 64,
    "ProfileInput.company": 128,
    "ProfileInput.education": 32,
    "ProfileInput.realName": 64,
    "ProfileInput.idNumber": 32,  # 18, written with spaces
    "PlaceOrderInput.deliveryAddress": 255,
    "PlaceOrderInput.invoiceTitle": 128,
    "PlaceOrderInput.invoiceTaxId": 32,
    "PlaceOrderInput.remarks": 500,
    "OpenTicketInput.subject": 200,
    "OpenTicketInput.body": 5000,
    "OpenTicketInput.contactPhone": 32,
    "OpenTicketInput.contactEmail": 254,
    "Mutation.replyToTicket(body)": 5000,
    "Mutation.grantConsent(purpose)": 32,
    "Mutation.grantConsent(guardianName)": 64,
    "Mutation.withdrawConsent(purpose)": 32,
    "Mutation.addPolicyRule(line)": 1000,
    "Mutation.removePolicyRule(line)": 1000,
    "Mutation.replacePolicy(lines)": 1000,
    "Mutation.setShadowPolicy(lines)": 1000,
    "Mutation.registerDocument(document)": 100_000,
    "Query.userByIdNumber(idNumber)": 32,
    "Query.courses(search)": 128,
    "Query.courses(category)": 32,
    "Query.orders(status)": 16,
    "Query.tickets(status)": 16,
}


@dataclass(frozen=True, slots=True)
class Slot:
    """One argument given in the document: where it is declared, and its value's node."""

    coordinate: str
    name: str
    type: GraphQLInputType
    value: ValueNode


class InputChecks(SchemaExtension):
    """Refuses, before execution, an operation with a text argument the databases refuse."""

    def on_execute(self) -> Iterator[None]:
        execution = self.execution_context
        document = execution.graphql_document
        query = execution.query or ""
        if execution.result is None and document is not None and "(" in query:
            schema = execution.schema._schema
            key = (id(schema), query, execution.operation_name)
            slots = _SLOTS.get(key)
            if slots is None:
                operation = get_operation_ast(document, execution.operation_name)
                slots = argument_slots(schema, document, operation) if operation else ()
                if len(_SLOTS) >= _SLOTS_KEPT:
                    _SLOTS.pop(next(iter(_SLOTS)))
                _SLOTS[key] = slots
            refused = first_refusal(slots, execution.variables or {})
            if refused is not None:
                error = GraphQLError(
                    refused.message, extensions={"code": refused.code, **refused.extensions}
                )
                execution.result = GraphQLExecutionResult(None, [error])
        yield


_SLOTS: dict[tuple[int, str, str | None], tuple[Slot, ...]] = {}
_SLOTS_KEPT = 512


def first_refusal(slots: tuple[Slot, ...], variables: dict[str, Any]) -> BadUserInput | None:
    """The refusal of the first argument that does not pass, with these variables."""
    for slot in slots:
        value = value_from_ast_untyped(slot.value, variables)
        refusal = _check(slot.type, value, slot.coordinate, slot.name)
        if refusal is not None:
            return refusal
    return None


def argument_slots(
    schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode
) -> tuple[Slot, ...]:
    """Every argument given in ``operation`` and in the document's fragments."""
    type_info = TypeInfo(schema)
    found: list[Slot] = []

    class Arguments(Visitor):
        def enter_field(self, node: FieldNode, *_: Any) -> None:
            definition = type_info.get_field_def()
            parent = type_info.get_parent_type()
            if definition is None or parent is None:
                return
            for argument in node.arguments or ():
                name = argument.name.value
                declared = definition.args.get(name)
                if declared is not None:
                    coordinate = f"{parent.name}.{node.name.value}({name})"
                    found.append(Slot(coordinate, name, declared.type, argument.value))

    for definition in (operation, *_fragments(document)):
        visit(definition, TypeInfoVisitor(type_info, Arguments()))
    return tuple(found)


def _fragments(document: DocumentNode) -> Iterator[FragmentDefinitionNode]:
    for definition in document.definitions:
        if isinstance(definition, FragmentDefinitionNode):
            yield definition


def _check(
    graphql_type: GraphQLInputType, value: Any, coordinate: str, name: str
) -> BadUserInput | None:
    """The refusal of ``value`` as a value of ``graphql_type`` (None when it passes, or when
    it is not of the type at all: the executor's own coercion refuses that)."""
    if value is None:
        return None
    if isinstance(graphql_type, GraphQLNonNull):
        return _check(graphql_type.of_type, value, coordinate, name)
    if isinstance(graphql_type, GraphQLList):
        items = value if isinstance(value, list) else [value]
        for item in items:
            refusal = _check(graphql_type.of_type, item, coordinate, name)
            if refusal is not None:
                return refusal
        return None
    if isinstance(graphql_type, GraphQLInputObjectType):
        if not isinstance(value, dict):
            return None
        for field_name, field in graphql_type.fields.items():
            if field_name in value:
                inner = f"{graphql_type.name}.{field_name}"
                refusal = _check(field.type, value[field_name], inner, field_name)
                if refusal is not None:
                    return refusal
        return None
    if isinstance(graphql_type, GraphQLScalarType) and graphql_type.name in TEXT_SCALARS:
        return _check_text(value, coordinate, name) if isinstance(value, str) else None
    return None


def _check_text(value: str, coordinate: str, name: str) -> BadUserInput | None:
    if REFUSED_CHARACTERS.search(value):
        return BadUserInput(
            f"{name} contains a control character or a lone surrogate", argument=name
        )
    limit = LIMITS.get(coordinate, DEFAULT_LIMIT)
    if len(value) > limit:
        return BadUserInput(f"{name} is longer than {limit} characters", argument=name)
    return None
