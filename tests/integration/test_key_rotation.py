"""Rotating the data key while the gateway serves, retiring the old key, and their guards.

The rotation under load runs ``fieldgate keys rotate`` as a separate process on the same
database and key file, as an operator would beside a live gateway.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Table, select, update
from sqlmodel import SQLModel
from typer.testing import CliRunner

from fieldgate.app import create_app
from fieldgate.cli import app
from fieldgate.crypto.encrypted import BINARY_COLUMNS, ENCRYPTED_COLUMNS
from fieldgate.crypto.keyring import Keyring, load_keyring
from fieldgate.crypto.rotation import PLAINTEXT, _batches, _reencrypt_batch, key_usage, reencrypt
from fieldgate.settings import Settings
from tests.gateway import Gateway, seeded_database

ROOT = Path(__file__).resolve().parents[2]
DatabaseFactory = Callable[[str], Awaitable[str]]

# (subject, operation): readers of every encrypted coordinate, FULL and MASKED, and one
# support query that reads none.
READERS = [
    ("alice", "{ me { idNumber } }"),
    (
        "verifier1",
        "query @purpose(name: IDENTITY_VERIFICATION) "
        "{ users(first: 100) { edges { node { id idNumber } } } }",
    ),
    (
        "security1",
        "query @purpose(name: SECURITY) "
        "{ users(first: 100) { edges { node { id devices { imei mac } } } } }",
    ),
    (
        "finance1",
        "query @purpose(name: PAYMENT) { orders(first: 100) { edges { node { id bankCard } } } }",
    ),
    (
        "support1",
        "query @purpose(name: CUSTOMER_SUPPORT) "
        "{ tickets(first: 50) { edges { node { id subject contactPhone } } } }",
    ),
]


def table(name: str) -> Table:
    return SQLModel.metadata.tables[name]


@dataclass
class Rig:
    """A gateway on its own seeded database and key file, and the CLI beside it."""

    gateway: Gateway
    settings: Settings

    @property
    def key_file(self) -> Path:
        return self.settings.key_dir / "data-keys.json"

    def environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("FIELDGATE_")}
        env.update(
            FIELDGATE_ENV="development",
            FIELDGATE_DATABASE_URL=self.settings.database_url,
            FIELDGATE_KEY_DIR=str(self.settings.key_dir),
        )
        return env

    async def start(self, *args: str) -> asyncio.subprocess.Process:
        return await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "fieldgate.cli",
            "keys",
            *args,
            cwd=ROOT,
            env=self.environment(),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )

    async def keys(self, *args: str) -> tuple[int, str, str]:
        """Run ``fieldgate keys ARGS`` in this process: (exit code, stdout, stderr).

        The command runs its own event loop, so it runs in a thread; the environment it
        reads is set for the call only.
        """
        overrides: dict[str, str | None] = {
            k: None for k in os.environ if k.startswith("FIELDGATE_")
        }
        overrides.update(
            {k: v for k, v in self.environment().items() if k.startswith("FIELDGATE_")}
        )
        result = await asyncio.to_thread(CliRunner().invoke, app, ["keys", *args], env=overrides)
        return result.exit_code, result.stdout, result.stderr

    async def status(self) -> dict[str, tuple[str, int]]:
        """``fieldgate keys status`` as key -> (state, values)."""
        code, out, err = await self.keys("status")
        assert code == 0, err
        lines = out.strip().splitlines()
        assert lines[0].split() == ["key", "state", "values"]
        rows = (line.split() for line in lines[1:])
        return {key: (state, int(values)) for key, state, values in rows}

    async def read_all(self, tokens: dict[str, str]) -> list[Any]:
        responses = []
        for subject, query in READERS:
            response = await self.gateway.post(query, token=tokens[subject])
            assert response.status_code == 200, response.text
            responses.append(response.json())
        return responses


@pytest.fixture
async def rig(
    backend: str, database_factory: DatabaseFactory, tmp_path: Path
) -> AsyncIterator[Rig]:
    key_dir = tmp_path / "keys"
    url = await seeded_database(database_factory, backend, load_keyring(Settings(key_dir=key_dir)))
    settings = Settings(env="development", database_url=url, key_dir=key_dir, data_key_file=None)
    app = create_app(settings)
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")
    gateway = Gateway(app, client, url)
    try:
        yield Rig(gateway, settings)
    finally:
        await client.aclose()
        if gateway.services.audit is not None:
            await gateway.services.audit.close()  # the audit trail's writer is a task
        await gateway.services.engine.dispose()


async def stored_values(rig: Rig) -> dict[tuple[str, str, int], Any]:
    values = {}
    async with rig.gateway.services.engine.connect() as conn:
        for name, columns in ENCRYPTED_COLUMNS.items():
            t = table(name)
            for column in columns:
                rows = await conn.execute(
                    select(t.c.id, t.c[column]).where(t.c[column].is_not(None))
                )
                values.update({(name, column, row_id): value for row_id, value in rows})
    return values


def opened(keyring: Keyring, values: dict[tuple[str, str, int], Any]) -> dict[Any, Any]:
    return {
        key: keyring.decrypt_bytes(value)
        if (key[0], key[1]) in BINARY_COLUMNS
        else keyring.decrypt(value)
        for key, value in values.items()
    }


async def test_rotate_while_serving_then_retire(rig: Rig) -> None:
    tokens = {subject: await rig.gateway.token(subject) for subject, _ in READERS}
    before = await rig.read_all(tokens)
    body = json.dumps(before)
    for value in ("idNumber", "imei", "mac", "bankCard"):  # each encrypted field was read
        assert f'"{value}": "' in body, value
    assert "*" in body and "enc:v1:" not in body  # masked values came from opened ones
    old = load_keyring(rig.settings).active_key_id
    plain_before = opened(load_keyring(rig.settings), await stored_values(rig))
    assert await rig.status() == {old: ("active", len(plain_before))}

    rotation = await rig.start("rotate", "--batch-size", "7")
    assert rotation.stdout is not None and rotation.stderr is not None
    lines: list[str] = []

    async def follow(stream: asyncio.StreamReader) -> None:
        async for line in stream:
            lines.append(line.decode())

    following = asyncio.create_task(follow(rotation.stderr))
    printed = asyncio.create_task(rotation.stdout.read())
    during = 0  # rounds read while values were being re-encrypted
    while not following.done():  # the gateway serves throughout, with the same answers
        re_encrypting = any(" re-encrypted" in line for line in lines)
        assert await rig.read_all(tokens) == before
        during += re_encrypting and not following.done()
    assert await rotation.wait() == 0, "".join(lines)
    out, err = (await printed).decode(), "".join(lines)
    assert during > 0

    keyring = load_keyring(rig.settings)
    new = keyring.active_key_id
    assert new != old and f"key {new} is now active" in err
    assert f"{len(plain_before)} of {len(plain_before)} values re-encrypted" in out
    assert "users.id_number:" in err and "devices.mac:" in err
    stored = await stored_values(rig)
    assert {Keyring.key_id_of(value) for value in stored.values()} == {new}
    assert opened(keyring, stored) == plain_before
    assert await rig.read_all(tokens) == before
    assert await rig.status() == {new: ("active", len(stored)), old: ("readable", 0)}

    code, _, err_text = await rig.keys("retire", old)
    assert code == 0, err_text
    document = json.loads(rig.key_file.read_text())
    assert old not in document["keys"] and document["retired"] == [old]
    assert await rig.read_all(tokens) == before
    fresh = load_keyring(rig.settings)  # a gateway started now has no trace of the old key
    assert old not in fresh.key_ids and opened(fresh, await stored_values(rig)) == plain_before
    assert await rig.status() == {new: ("active", len(stored)), old: ("retired", 0)}


async def test_retire_refuses_a_key_still_in_use(rig: Rig) -> None:
    old = load_keyring(rig.settings).active_key_id
    new = load_keyring(rig.settings).add_active_key()  # a new key, nothing re-encrypted yet
    in_use = len(await stored_values(rig))

    code, _, err = await rig.keys("retire", old)
    assert code == 1
    assert f"key {old} still seals {in_use} stored values" in err
    assert old in json.loads(rig.key_file.read_text())["keys"]
    code, _, err = await rig.keys("retire", new)
    assert code == 1 and "active key" in err
    code, _, err = await rig.keys("retire", "nosuchkey")
    assert code == 1 and "no key nosuchkey" in err

    # --no-new-key finishes the rotation onto the key already active; then retiring works
    code, out, err = await rig.keys("rotate", "--no-new-key")
    assert code == 0, err
    assert f"{in_use} of {in_use} values re-encrypted under key {new}" in out
    code, _, err = await rig.keys("retire", old)
    assert code == 0, err


async def test_a_concurrent_change_is_never_overwritten(rig: Rig) -> None:
    engine = rig.gateway.services.engine
    keyring = load_keyring(rig.settings)
    devices = table("devices")
    batches = [rows async for rows in _batches(engine, "devices", "imei", 5)]
    stale = batches[0]
    keyring.add_active_key()
    changed_id = stale[0][0]
    written = keyring.encrypt("356938035643809")  # a gateway's write between read and write
    async with engine.begin() as conn:
        await conn.execute(update(devices).where(devices.c.id == changed_id).values(imei=written))

    rewritten, lost, unreadable = await _reencrypt_batch(engine, keyring, "devices", "imei", stale)
    assert (rewritten, lost, unreadable) == (len(stale) - 1, 1, 0)
    async with engine.connect() as conn:
        kept = await conn.scalar(select(devices.c.imei).where(devices.c.id == changed_id))
    assert kept == written


async def test_plaintext_values_are_sealed_and_indexed_by_a_rotation(rig: Rig) -> None:
    engine = rig.gateway.services.engine
    keyring = load_keyring(rig.settings)
    users, devices = table("users"), table("devices")
    async with engine.begin() as conn:
        user_id = await conn.scalar(select(users.c.id).where(users.c.username == "bob"))
        await conn.execute(
            update(users)
            .where(users.c.id == user_id)
            .values(id_number="11010119900307123X", id_number_index=None)
        )
        await conn.execute(update(devices).where(devices.c.user_id == user_id).values(mac="plain"))
    usage = await key_usage(engine)
    assert usage[PLAINTEXT] > 1

    report = await reencrypt(engine, keyring)
    assert report.rewritten == usage[PLAINTEXT] and report.unreadable == 0
    assert PLAINTEXT not in await key_usage(engine)
    async with engine.connect() as conn:
        number, index = (
            await conn.execute(
                select(users.c.id_number, users.c.id_number_index).where(users.c.id == user_id)
            )
        ).one()
        macs = (await conn.execute(select(devices.c.mac).where(devices.c.user_id == user_id))).all()
    assert keyring.decrypt(number) == "11010119900307123X"
    assert index == keyring.blind_index("11010119900307123X")
    assert macs and all(keyring.decrypt(mac) == "plain" for (mac,) in macs)


async def test_unreadable_values_fail_the_rotation_and_are_left_alone(rig: Rig) -> None:
    engine = rig.gateway.services.engine
    orders = table("orders")
    foreign = Keyring.generate().encrypt("6222021234567890123")  # sealed with another key file
    async with engine.begin() as conn:
        order_id = await conn.scalar(select(orders.c.id).order_by(orders.c.id).limit(1))
        await conn.execute(update(orders).where(orders.c.id == order_id).values(bank_card=foreign))

    code, out, err = await rig.keys("rotate")
    assert code == 1
    assert "1 could not be opened" in out and "could not be opened" in err
    async with engine.connect() as conn:
        assert (
            await conn.scalar(select(orders.c.bank_card).where(orders.c.id == order_id)) == foreign
        )
    statuses = await rig.status()
    assert statuses[Keyring.key_id_of(foreign)] == ("unknown", 1)
