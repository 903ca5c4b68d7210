"""Schema extensions: the disclosure of every operation, and error codes at the edge."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from graphql import (
    DirectiveNode,
    EnumValueNode,
    FragmentDefinitionNode,
    GraphQLError,
    OperationDefinitionNode,
    StringValueNode,
    VariableNode,
    get_operation_ast,
)
from graphql import (
    ExecutionResult as GraphQLExecutionResult,
)
from strawberry.extensions import SchemaExtension

from fieldgate.authz.conditions import conditions_for
from fieldgate.authz.consent import compile_gates
from fieldgate.authz.decisions import (
    Disclosure,
    FieldRule,
    Outcome,
    decide_field,
    effective_purpose,
)
from fieldgate.authz.digest import document_hash
from fieldgate.authz.disclosure import DisclosureContext
from fieldgate.authz.plans import CompiledRequest
from fieldgate.errors import FieldgateError, ServiceUnavailable
from fieldgate.infra.faults import refused_input
from fieldgate.resolvers.audit import audit_operation
from fieldgate.resolvers.context import RequestContext
from fieldgate.resolvers.outcomes import DatabaseFaulted
from fieldgate.schema.argument_refusals import argument_refusal, audit_refused_arguments
from fieldgate.schema.denials import denial_errors
from fieldgate.schema.faults import withhold_on_database_fault
from fieldgate.schema.plan_keys import condition_values
from fieldgate.schema.planning import plan_operation


def declared_purpose(
    operation: OperationDefinitionNode, variables: dict[str, Any] | None
) -> str | None:
    """The ``@purpose(name: …)`` of an operation, if any."""
    directive: DirectiveNode | None = next(
        (d for d in operation.directives or () if d.name.value == "purpose"), None
    )
    if directive is None:
        return None
    for argument in directive.arguments or ():
        if argument.name.value != "name":
            continue
        value = argument.value
        if isinstance(value, (EnumValueNode, StringValueNode)):
            return value.value
        if isinstance(value, VariableNode):
            found = (variables or {}).get(value.name.value)
            return str(found) if found is not None else None
    return None


_FULL = Outcome(Disclosure.FULL, rule="disclosure switched off")


class DisclosureExtension(SchemaExtension):
    """Compiles (or fetches) the plan before execution; reports withheld fields after it."""

    def on_execute(self) -> Iterator[None]:
        execution = self.execution_context
        ctx: RequestContext = execution.context
        services = ctx.services
        document = execution.graphql_document
        assert document is not None
        operation = get_operation_ast(document, execution.operation_name)
        assert operation is not None
        ctx.operation_name = operation.name.value if operation.name else None
        ctx.operation_type = operation.operation.value
        principal = ctx.principal
        try:
            purpose = effective_purpose(
                services.policy, principal, declared_purpose(operation, execution.variables)
            )
        except FieldgateError as refused:
            # A result set before execution stops it: the operation returns no data at all.
            execution.result = GraphQLExecutionResult(
                data=None,
                errors=[
                    GraphQLError(
                        refused.message, extensions={"code": refused.code, **refused.extensions}
                    )
                ],
            )
            yield
            return
        fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        policy = services.policy
        hashed = document_hash(execution.query or "")
        key = (
            hashed,
            execution.operation_name,
            principal.kind,
            principal.roles,
            principal.scopes,
            purpose,
            policy.version,
            services.disclosure_enabled,
            services.arguments_checked,
            condition_values(document, execution.query or "", operation, execution.variables),
        )
        plan = services.plans.get(key)
        cached = plan is not None
        if plan is None:
            catalog = services.catalog

            def decide(coordinate: str) -> FieldRule:
                if not services.disclosure_enabled:
                    return FieldRule(coordinate, _FULL)
                return decide_field(catalog.classifications[coordinate], principal, purpose, policy)

            plan = plan_operation(
                execution.schema._schema,
                catalog,
                operation,
                fragments,
                execution.variables or {},
                purpose=purpose,
                policy_version=policy.version,
                decide=decide,
                row_scopes=lambda type_name: policy.row_scopes(principal.roles, type_name),
                check_arguments=services.arguments_checked and services.disclosure_enabled,
            )
            services.plans.put(key, plan)
        refused_arguments = plan.refused_arguments
        if refused_arguments:
            execution.result = argument_refusal(refused_arguments, purpose)
            audit_refused_arguments(
                ctx,
                refused_arguments,
                purpose=purpose,
                policy_version=policy.version,
                operation_name=ctx.operation_name,
                document_hash=hashed,
            )
            yield
            return
        shadow = services.live.shadow  # a candidate policy: compared, never applied
        if shadow is not None and services.disclosure_enabled:
            shadow.observe(key, plan, principal, purpose, services.catalog)
        gates = compile_gates(principal, purpose, policy.vocabulary, do_not_track=ctx.do_not_track)
        planned = plan

        def start_disclosure() -> None:
            ctx.disclosure = DisclosureContext(
                planned,
                conditions_for(principal),
                services.pseudonyms.resolver(principal),
                services.relation_coordinates,
                sensitive=services.sensitive_coordinates,
                personal=services.personal_coordinates,
                gates=gates,
                load_facts=ctx.subject_facts,
                encrypted=services.encrypted_coordinates,
                decrypt=services.decrypt,
                reads=services.audit_enabled,
            )
            if not services.subjects_asked:
                ctx.disclosure.ignore_subjects()
            ctx.loaders = {}

        start_disclosure()
        if cached and services.compiled_path and ctx.operation_type == "query":
            ctx.compiled = CompiledRequest(plan.compiled, start_disclosure, services.plans.compiled)
        yield
        disclosure = ctx.disclosed  # the general path may have started it afresh
        result = execution.result
        fault = withhold_on_database_fault(result) if result is not None else None
        if fault is not None:
            ctx.outcome = DatabaseFaulted(fault)  # nothing that loaded leaves: nothing to audit
            return
        denials = disclosure.denials() if disclosure.denied else []
        name = operation.name.value if operation.name else None
        if audit_operation(ctx, operation_name=name, document_hash=hashed, denials=denials):
            # fail closed: what the trail cannot record does not leave
            if result is not None:
                unavailable = ServiceUnavailable("the audit trail cannot take this response now")
                result.data = None
                result.errors = [
                    GraphQLError(unavailable.message, extensions={"code": unavailable.code})
                ]
            return
        if result is None or not denials:
            return
        errors = denial_errors(denials)
        if ctx.strict:
            result.data = None
            result.errors = errors
        else:
            result.errors = [*(result.errors or []), *errors]

    def get_results(self) -> dict[str, Any]:
        ctx = self.execution_context.context
        if isinstance(ctx, RequestContext) and ctx.disclosure is not None:
            return {"disclosure": ctx.disclosure.summary()}
        return {}


# graphql-core repeats a value it cannot coerce (a variable's, or a literal's) in its
# message; the value may be a secret (a password, an ID number sent as a number).
_VARIABLE_VALUE = re.compile(r"^(Variable '\$\w+') (?:got|has) invalid value.*", re.DOTALL)
_LITERAL_VALUE = re.compile(r"^(Expected value of type '[^']+'), found .*", re.DOTALL)


# What graphql-core says after the value (``…; REASON`` or ``…: REASON. Found: VALUE.``)
# is kept when it quotes only identifiers (an unknown field and its suggestion).
_REASON = re.compile(r"(?:; |value: )(?P<reason>[^;]*?)(?: Found: .*)?$", re.DOTALL)
_IDENTIFIERS_ONLY = re.compile(r"(?:[^':]|'[\w!\[\]]+')*")


def without_values(message: str) -> str:
    """A validation or coercion message with the value it refused taken out."""
    if _VARIABLE_VALUE.match(message):
        found = _REASON.search(message)
        reason = found.group("reason") if found else ""
        kept = f"; {reason}" if reason and _IDENTIFIERS_ONLY.fullmatch(reason) else ""
        return _VARIABLE_VALUE.sub(r"\1 got an invalid value", message) + kept
    return _LITERAL_VALUE.sub(r"\1 (the value given is not one)", message)


class ErrorCodes(SchemaExtension):
    """Every error leaves with a code; unexpected ones lose their message (no trace, no SQL)."""

    def on_operation(self) -> Iterator[None]:
        try:
            yield
        except GraphQLError as error:
            # A document the parser cache refuses raises through the operation; Strawberry
            # then makes the raised error the result, so it must leave here with its code.
            raise self._coded(error) from None
        result = self.execution_context.result
        if result is None or not result.errors:
            return
        result.errors = [self._coded(error) for error in result.errors]

    @staticmethod
    def _coded(error: GraphQLError) -> GraphQLError:
        original = error.original_error
        if original is not None and not isinstance(original, FieldgateError):
            original = refused_input(original) or original
        if isinstance(original, FieldgateError):
            return GraphQLError(
                original.message,
                nodes=error.nodes,
                path=error.path,
                extensions={"code": original.code, **original.extensions},
            )
        if original is not None and not isinstance(original, GraphQLError):
            return GraphQLError(
                "internal error",
                nodes=error.nodes,
                path=error.path,
                extensions={"code": "INTERNAL_SERVER_ERROR"},
            )
        if error.extensions and "code" in error.extensions:
            return error
        code = (
            "GRAPHQL_PARSE_FAILED"
            if error.message.startswith("Syntax Error")
            else "GRAPHQL_VALIDATION_FAILED"
        )
        return GraphQLError(
            without_values(error.message),
            nodes=error.nodes,
            source=error.source,  # a syntax error has no node, only a position in its source
            positions=error.positions,
            path=error.path,
            extensions={**(error.extensions or {}), "code": code},
        )
