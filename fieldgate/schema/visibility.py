"""Which fields a principal could ever receive: the contents of its view of the schema.

A field is visible when some purpose the principal may declare (its roles' purposes,
narrowed by the token's), or no purpose at all, gives it FULL or MASKED on some kind of
row it can meet (own rows for users, assigned tickets for staff), within the token's
scopes. The decision is ``decide_field``, the one the gateway runs for every plan, so
the view never shows a field that the disclosure engine would always deny.
"""

from __future__ import annotations

from fieldgate.authz.classification import Catalog
from fieldgate.authz.decisions import RIGHTS, Disclosure, FieldRule, decide_field
from fieldgate.authz.policy import Policy
from fieldgate.authz.policy_rules import RowCondition
from fieldgate.authz.principal import Principal, PrincipalKind

_SHOWN = frozenset({Disclosure.FULL, Disclosure.MASKED})

# Mutations each kind of principal may call (the resolvers refuse every other caller).
_USER_MUTATIONS = frozenset(
    {
        "login",
        "logout",
        "register",
        "updateMyProfile",
        "placeOrder",
        "openTicket",
        "grantConsent",
        "withdrawConsent",
        "exportMyData",
        "closeMyAccount",
        "changeMyPassword",
        "replyToTicket",
    }
)
MUTATIONS_BY_KIND: dict[PrincipalKind, frozenset[str]] = {
    PrincipalKind.ANONYMOUS: frozenset({"login", "register"}),
    PrincipalKind.USER: _USER_MUTATIONS,
    PrincipalKind.STAFF: frozenset({"login", "logout", "replyToTicket"}),
    PrincipalKind.PARTNER: frozenset(),
}
KNOWN_MUTATIONS = frozenset().union(*MUTATIONS_BY_KIND.values())
# Roots and mutations operating the gateway (tokens, policy, documents) are shown to staff
# only; the policy decides at execution which staff roles may use them.
OPERATOR_KINDS = frozenset({PrincipalKind.STAFF})
# Roots answering about the caller's own account: only users have one.
OWN_ACCOUNT_ROOTS = frozenset({"me", "myConsents", "myAccessLog"})
OWN_ACCOUNT_KINDS = frozenset({PrincipalKind.USER})
# ...of which ``me`` is shown to everyone else too, answering null (with ``User.id`` at least,
# so that ``{ me { id } }`` validates for a signed-out page).
NULL_FOR_OTHERS = frozenset({"me"})

# A signed-in user's operations: an anonymous caller using one is told to sign in
# (UNAUTHENTICATED), not that it does not exist; the web frontend shows them to everyone.
USER_ROOTS = (OWN_ACCOUNT_ROOTS | _USER_MUTATIONS) - MUTATIONS_BY_KIND[PrincipalKind.ANONYMOUS]


def candidate_purposes(policy: Policy, principal: Principal) -> tuple[str | None, ...]:
    """Every purpose the principal's operations may run under; None is "none declared"."""
    declarable = policy.declarable_purposes(principal.roles)
    if principal.purposes:
        vocabulary = policy.vocabulary
        declarable = frozenset(p for p in declarable if vocabulary.covers(principal.purposes, p))
    if principal.kind is PrincipalKind.USER:
        declarable |= {RIGHTS}  # a user's operations default to RIGHTS
    return (None, *sorted(declarable))


def _conditions(kind: PrincipalKind) -> frozenset[RowCondition]:
    """The row conditions this kind of principal can meet (see ``authz.conditions``)."""
    if kind is PrincipalKind.USER:
        return frozenset({RowCondition.ANY, RowCondition.OWNER})
    if kind is PrincipalKind.STAFF:
        return frozenset({RowCondition.ANY, RowCondition.ASSIGNED})
    return frozenset({RowCondition.ANY})


def _shows(rule: FieldRule, conditions: frozenset[RowCondition]) -> bool:
    if rule.default.disclosure in _SHOWN:
        return True
    return any(c in conditions and o.disclosure in _SHOWN for c, o in rule.conditional)


def granted_fields(catalog: Catalog, policy: Policy, principal: Principal) -> frozenset[str]:
    """The classified coordinates some purpose and row condition open to ``principal``.

    Relations are included when granted; whether the rows they lead to show anything is
    for the view to decide (the catalogue does not record their targets).
    """
    purposes = candidate_purposes(policy, principal)
    conditions = _conditions(principal.kind)
    return frozenset(
        coordinate
        for coordinate, classification in catalog.classifications.items()
        if any(
            _shows(decide_field(classification, principal, purpose, policy), conditions)
            for purpose in purposes
        )
    )
