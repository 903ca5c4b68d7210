"""The user aggregate: profile, third-party logins, devices, login events, consents."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Index, text
from sqlmodel import Field, SQLModel


class User(SQLModel, table=True):
    __tablename__ = "users"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True, index=True)
    password_hash: str = Field(max_length=255)
    nickname: str | None = Field(default=None, max_length=64)
    avatar_url: str | None = Field(default=None, max_length=255)
    region: str | None = Field(default=None, max_length=64)
    phone: str | None = Field(default=None, max_length=32, index=True)
    email: str | None = Field(default=None, max_length=255)
    real_name: str | None = Field(default=None, max_length=64)
    id_number: str | None = Field(default=None, max_length=255, description="encrypted")
    birth_date: date | None = None
    gender: str | None = Field(default=None, max_length=16)
    job_title: str | None = Field(default=None, max_length=64)
    company: str | None = Field(default=None, max_length=128)
    education: str | None = Field(default=None, max_length=32)
    real_name_verified: bool = False
    verified_at: datetime | None = None
    face_template: bytes | None = None
    created_at: datetime
    closed_at: datetime | None = None
    id_number_index: str | None = Field(
        default=None, max_length=64, index=True, description="keyed HMAC of the ID number"
    )


class ThirdPartyLogin(SQLModel, table=True):
    """A binding of the account to WeChat, QQ, Weibo or Apple sign-in."""

    __tablename__ = "third_party_logins"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    provider: str = Field(max_length=16)
    external_id: str = Field(max_length=128)
    external_nickname: str | None = Field(default=None, max_length=64)
    bound_at: datetime


class Device(SQLModel, table=True):
    __tablename__ = "devices"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    model: str | None = Field(default=None, max_length=64)
    os: str | None = Field(default=None, max_length=64)
    imei: str | None = Field(default=None, max_length=255)
    mac: str | None = Field(default=None, max_length=255)
    ip: str | None = Field(default=None, max_length=64)
    last_seen_at: datetime


class LoginEvent(SQLModel, table=True):
    __tablename__ = "login_events"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    ip: str | None = Field(default=None, max_length=64)
    city: str | None = Field(default=None, max_length=64)
    succeeded: bool = True
    at: datetime


class Consent(SQLModel, table=True):
    """A data subject's opt-in to one purpose; withdrawn when ``withdrawn_at`` is set."""

    __tablename__ = "consents"
    # at most one active consent per user and purpose, whatever races to grant it
    __table_args__ = (
        Index(
            "uq_consents_active_user_id_purpose",
            "user_id",
            "purpose",
            unique=True,
            sqlite_where=text("withdrawn_at IS NULL"),
            postgresql_where=text("withdrawn_at IS NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    purpose: str = Field(max_length=32)
    granted_at: datetime
    withdrawn_at: datetime | None = None
    guardian_consent: bool = False
    guardian_name: str | None = Field(default=None, max_length=64)
