"""What partners and frontends may run, and the policy when it lives in the database."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel


class PersistedDocument(SQLModel, table=True):
    """A registered GraphQL document, addressed by the SHA-256 of its text."""

    __tablename__ = "persisted_documents"

    sha256: str = Field(primary_key=True, max_length=64)
    document: str
    name: str | None = Field(default=None, max_length=128)
    created_at: datetime
    created_by: str = Field(max_length=64, description="principal identity, e.g. staff:1")


class PartnerDocument(SQLModel, table=True):
    """The trusted documents of a partner: the only operations it may run in production."""

    __tablename__ = "partner_documents"

    partner_id: int = Field(
        primary_key=True, foreign_key="partners.id", sa_column_kwargs={"autoincrement": False}
    )
    sha256: str = Field(primary_key=True, foreign_key="persisted_documents.sha256", max_length=64)


class PolicyRule(SQLModel, table=True):
    """One casbin line of a policy kept in the database (``ptype`` p or g)."""

    __tablename__ = "policy_rules"

    id: int | None = Field(default=None, primary_key=True)
    ptype: str = Field(max_length=8)
    v0: str = Field(default="", max_length=255)
    v1: str = Field(default="", max_length=255)
    v2: str = Field(default="", max_length=255)
    v3: str = Field(default="", max_length=255)
    v4: str = Field(default="", max_length=255)
    v5: str = Field(default="", max_length=255)


class PolicyRevision(SQLModel, table=True):
    """Every accepted change of the database policy; instances watch the newest id."""

    __tablename__ = "policy_revisions"

    id: int | None = Field(default=None, primary_key=True)
    version: str = Field(max_length=32)
    changed_at: datetime
    changed_by: str = Field(max_length=64)
    note: str = Field(default="", max_length=255)
