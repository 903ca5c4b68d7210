"""The error vocabulary of fieldgate: every failure a client can see has a code.

Messages never carry a field value, SQL or a trace; codes are turned into GraphQL
error extensions (or HTTP statuses) only at the edge.
"""

from __future__ import annotations

from typing import Any


class FieldgateError(Exception):
    """Base of every error a client may see; ``code`` lands in ``extensions.code``."""

    code = "INTERNAL_SERVER_ERROR"

    def __init__(self, message: str, **extensions: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extensions = extensions


class BadUserInput(FieldgateError):
    code = "BAD_USER_INPUT"


class NotFound(FieldgateError):
    code = "NOT_FOUND"


class Conflict(FieldgateError):
    code = "CONFLICT"


class Forbidden(FieldgateError):
    code = "FORBIDDEN"


class AccountClosed(FieldgateError):
    """The account was closed (possibly by a request racing this one): nothing is written."""

    code = "ACCOUNT_CLOSED"


class Unauthenticated(FieldgateError):
    """A token was presented and failed; ``reason`` names the failure."""

    code = "UNAUTHENTICATED"

    def __init__(self, reason: str, message: str = "authentication failed") -> None:
        super().__init__(message, reason=reason)
        self.reason = reason


class ReauthenticationRequired(FieldgateError):
    """An operation needs a fresh proof of identity (the password) besides the token;
    ``reason`` is ``password_required`` or ``password_incorrect``."""

    code = "REAUTHENTICATION_REQUIRED"

    def __init__(self, reason: str) -> None:
        super().__init__("this operation needs your password", reason=reason)
        self.reason = reason


class PurposeNotAllowed(FieldgateError):
    code = "PURPOSE_NOT_ALLOWED"


class ForbiddenField(FieldgateError):
    code = "FORBIDDEN_FIELD"


class ForbiddenArgument(FieldgateError):
    """An argument reads a field this principal may not read in full: the whole operation
    is refused before it runs."""

    code = "FORBIDDEN_ARGUMENT"


class DecryptionFailed(FieldgateError):
    """A stored encrypted value cannot be opened (unknown key, tampered, malformed).

    The message never carries the stored value or any key.
    """

    code = "INTERNAL_SERVER_ERROR"


class ServiceUnavailable(FieldgateError):
    """The gateway cannot serve the request safely right now (e.g. the audit trail is down)."""

    code = "SERVICE_UNAVAILABLE"


class RateLimited(FieldgateError):
    """Too many requests, or too much estimated query cost, in the current minute."""

    code = "RATE_LIMITED"


class PolicyError(FieldgateError):
    """The policy (model, rules, purposes or classification) is invalid."""

    code = "POLICY_INVALID"


class RequestRefused(FieldgateError):
    """The HTTP request is refused before any GraphQL work; the edge picks the status."""

    code = "BAD_REQUEST"


class RequestTooLarge(RequestRefused):
    code = "REQUEST_TOO_LARGE"


class UnsupportedMediaType(RequestRefused):
    code = "UNSUPPORTED_MEDIA_TYPE"


class NotAcceptable(RequestRefused):
    code = "NOT_ACCEPTABLE"


class MethodNotAllowed(RequestRefused):
    code = "METHOD_NOT_ALLOWED"


class BatchingDisabled(RequestRefused):
    code = "BATCHING_DISABLED"


class BatchTooLarge(RequestRefused):
    code = "BATCH_TOO_LARGE"


class QueryRefused(FieldgateError):
    """The operation is refused after parsing or validation: no resolver ran."""

    code = "QUERY_REFUSED"


class QueryTooManyTokens(QueryRefused):
    code = "QUERY_TOO_MANY_TOKENS"


class QueryTooDeep(QueryRefused):
    code = "QUERY_TOO_DEEP"


class QueryTooManyAliases(QueryRefused):
    code = "QUERY_TOO_MANY_ALIASES"


class QueryTooManyDirectives(QueryRefused):
    code = "QUERY_TOO_MANY_DIRECTIVES"


class QueryTooManyRootFields(QueryRefused):
    code = "QUERY_TOO_MANY_ROOT_FIELDS"


class QueryTooCostly(QueryRefused):
    code = "QUERY_TOO_COSTLY"


class IntrospectionDisabled(QueryRefused):
    code = "INTROSPECTION_DISABLED"


class DocumentNotAllowed(QueryRefused):
    """A partner sent a document that is not among its trusted documents."""

    code = "DOCUMENT_NOT_ALLOWED"


class PersistedQueryNotFound(QueryRefused):
    """A persisted-query hash arrived without its text and no document has that hash."""

    code = "PERSISTED_QUERY_NOT_FOUND"


class PersistedQueryHashMismatch(QueryRefused):
    """A persisted-query hash does not match the SHA-256 of the text sent with it."""

    code = "PERSISTED_QUERY_HASH_MISMATCH"


class PersistedQueryInvalid(QueryRefused):
    """``extensions.persistedQuery`` is not ``{"version": 1, "sha256Hash": HEX}``."""

    code = "PERSISTED_QUERY_INVALID"


class SchemaMisdeclared(Exception):
    """A schema field is misdeclared; raised while the schema is built, naming the field."""


class ConfigurationError(Exception):
    """The process cannot start with this configuration (for example a missing key file)."""
