"""The benchmark's disclosure switch: on by default, off only in development."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import pytest
from pydantic import ValidationError

from fieldgate.app import build_services
from fieldgate.settings import Settings


def test_disclosure_is_on_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FIELDGATE_DISCLOSURE", raising=False)
    assert Settings().disclosure_enabled is True


def test_disclosure_off_from_the_environment_in_development(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FIELDGATE_ENV", "development")
    monkeypatch.setenv("FIELDGATE_DISCLOSURE", "off")
    assert Settings().disclosure_enabled is False


def test_disclosure_off_is_refused_in_production(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FIELDGATE_ENV", "production")
    monkeypatch.setenv("FIELDGATE_DISCLOSURE", "off")
    with pytest.raises(ValidationError, match="refused in production"):
        Settings()


def test_unknown_value_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FIELDGATE_DISCLOSURE", "false")
    with pytest.raises(ValidationError):
        Settings()


@pytest.mark.parametrize(("value", "enabled"), [("on", True), ("off", False)])
def test_build_services_follows_the_setting(
    tmp_path: Path, value: Literal["on", "off"], enabled: bool
) -> None:
    settings = Settings(
        env="development",
        database_url="sqlite+aiosqlite:///:memory:",
        key_dir=tmp_path,
        signing_key_file=None,
        data_key_file=None,
        disclosure=value,
    )
    assert build_services(settings).disclosure_enabled is enabled
