"""The course catalogue and learning records."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel


class Course(SQLModel, table=True):
    __tablename__ = "courses"

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=128, index=True)
    category: str = Field(max_length=32, index=True)
    description: str = ""
    teacher: str = Field(max_length=64)
    price_cents: int = Field(ge=0)
    ships_materials: bool = False
    merchant_id: int | None = Field(default=None, foreign_key="partners.id", index=True)
    created_at: datetime


class Enrollment(SQLModel, table=True):
    __tablename__ = "enrollments"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    course_id: int = Field(foreign_key="courses.id", index=True)
    progress: int = Field(default=0, ge=0, le=100)
    study_minutes: int = Field(default=0, ge=0)
    completed: bool = False
    enrolled_at: datetime
