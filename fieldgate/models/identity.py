"""Who may call: staff accounts, partners, and the tokens issued to them."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel


class Staff(SQLModel, table=True):
    __tablename__ = "staff"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True, index=True)
    password_hash: str = Field(max_length=255)
    display_name: str = Field(max_length=64)
    roles: str = Field(max_length=255, description="space-separated role names")
    active: bool = True
    created_at: datetime


class Partner(SQLModel, table=True):
    """An integration: ``kind`` is logistics, payment, merchant or analytics."""

    __tablename__ = "partners"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64, unique=True, index=True)
    kind: str = Field(max_length=16)
    region: str = Field(max_length=16, description="ISO 3166 code; CN is mainland China")
    allowed_purposes: str = Field(max_length=255, description="space-separated purposes")
    active: bool = True
    created_at: datetime


class IssuedToken(SQLModel, table=True):
    """Every token fieldgate signs, so that it can be listed and revoked."""

    __tablename__ = "issued_tokens"

    jti: str = Field(primary_key=True, max_length=64)
    subject: str = Field(max_length=64, index=True, description="user:ID, staff:ID or partner:ID")
    issued_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None
