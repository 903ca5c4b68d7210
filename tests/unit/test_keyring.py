"""The data keyring: sealing, tamper detection, key files, blind index, access log redaction."""

from __future__ import annotations

import base64
import json
import logging
import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from fieldgate.crypto.encrypted import ENCRYPTED_COLUMNS, ENCRYPTED_COORDINATES
from fieldgate.crypto.keyring import PREFIX, Keyring, load_keyring
from fieldgate.errors import ConfigurationError, DecryptionFailed
from fieldgate.observability.access_log import QueryStringRedaction, redact_access_log_queries
from fieldgate.resolvers.sources import SOURCES
from fieldgate.schema import build_schema
from fieldgate.schema.catalog import build_catalog
from fieldgate.settings import Settings

ID_NUMBER = "11010119900307123X"


def development(tmp_path: Path) -> Settings:
    return Settings(env="development", key_dir=tmp_path / "var" / "keys", data_key_file=None)


def flip(token: str, position: int) -> str:
    """The token with one byte of its nonce + ciphertext flipped."""
    kid_and_body = token[len(PREFIX) :]
    kid, _, body = kid_and_body.partition(":")
    raw = bytearray(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    raw[position] ^= 0x01
    return f"{PREFIX}{kid}:{base64.urlsafe_b64encode(bytes(raw)).rstrip(b'=').decode()}"


def key_file(active: str, keys: dict[str, bytes], index_key: bytes = bytes(32)) -> str:
    def encode(key: bytes) -> str:
        return base64.b64encode(key).decode()

    return json.dumps(
        {
            "active": active,
            "keys": {kid: encode(key) for kid, key in keys.items()},
            "index_key": encode(index_key),
            "retired": [],
        }
    )


# --- sealing and opening -----------------------------------------------------------------


@pytest.mark.parametrize("plaintext", [ID_NUMBER, "", "6222021234567890123", "张三 ✓"])
def test_text_round_trip_with_the_documented_form(plaintext: str) -> None:
    keyring = Keyring.generate()
    token = keyring.encrypt(plaintext)
    assert token.startswith(f"{PREFIX}{keyring.active_key_id}:")
    assert Keyring.is_encrypted(token)
    assert Keyring.key_id_of(token) == keyring.active_key_id
    assert plaintext == "" or plaintext not in token
    assert keyring.decrypt(token) == plaintext


def test_bytes_round_trip_and_every_seal_has_its_own_nonce() -> None:
    keyring = Keyring.generate()
    template = bytes(range(64))
    sealed = keyring.encrypt_bytes(template)
    assert sealed.startswith(PREFIX.encode()) and Keyring.is_encrypted(sealed)
    assert Keyring.key_id_of(sealed) == keyring.active_key_id
    assert keyring.decrypt_bytes(sealed) == template
    assert keyring.encrypt(ID_NUMBER) != keyring.encrypt(ID_NUMBER)


def test_plain_values_are_not_taken_for_sealed_ones() -> None:
    assert not Keyring.is_encrypted(ID_NUMBER)
    assert not Keyring.is_encrypted(b"\x00\x01")
    assert not Keyring.is_encrypted(None)
    assert not Keyring.is_encrypted(42)


@pytest.mark.parametrize("position", [0, 11, 12, 20, -1])  # nonce, ciphertext, tag
def test_a_flipped_byte_is_detected(position: int) -> None:
    keyring = Keyring.generate()
    token = keyring.encrypt(ID_NUMBER)
    with pytest.raises(DecryptionFailed) as failure:
        keyring.decrypt(flip(token, position))
    assert ID_NUMBER not in failure.value.message
    assert token not in failure.value.message


def test_a_value_moved_under_another_key_id_fails() -> None:
    keyring = Keyring.generate()
    first = keyring.active_key_id
    token = keyring.encrypt(ID_NUMBER)
    second = keyring.add_active_key()
    # the key id is the associated data: relabelling is caught even before the key differs
    relabelled = token.replace(f"{PREFIX}{first}:", f"{PREFIX}{second}:", 1)
    with pytest.raises(DecryptionFailed):
        keyring.decrypt(relabelled)
    assert keyring.decrypt(token) == ID_NUMBER  # the old key still opens its own values


def test_an_unknown_key_id_fails_without_naming_the_value() -> None:
    token = Keyring.generate().encrypt(ID_NUMBER)
    with pytest.raises(DecryptionFailed) as failure:
        Keyring.generate().decrypt(token)
    assert failure.value.code == "INTERNAL_SERVER_ERROR"
    assert ID_NUMBER not in str(failure.value) and token not in str(failure.value)


@pytest.mark.parametrize(
    "token",
    [
        ID_NUMBER,
        "enc:v1:",
        "enc:v1:nokeyid",
        "enc:v1:bad kid:AAAA",
        "enc:v1:abcd:!!!not-base64!!!",
        "enc:v1:abcd:AAAA",  # shorter than a nonce and a tag
    ],
)
def test_malformed_values_fail(token: str) -> None:
    keyring = Keyring.generate()
    with pytest.raises(DecryptionFailed):
        keyring.decrypt(token)
    with pytest.raises(DecryptionFailed):
        keyring.decrypt_bytes(token.encode())


def test_text_and_bytes_are_not_confused() -> None:
    keyring = Keyring.generate()
    with pytest.raises(DecryptionFailed):
        keyring.decrypt(keyring.encrypt_bytes(b"x"))  # type: ignore[arg-type]
    with pytest.raises(DecryptionFailed):
        keyring.decrypt_bytes(keyring.encrypt("x"))  # type: ignore[arg-type]
    not_text = keyring.encrypt_bytes(b"\xff\xfe").decode("ascii")  # sealed, but not UTF-8
    with pytest.raises(DecryptionFailed):
        keyring.decrypt(not_text)


# --- the blind index ---------------------------------------------------------------------


def test_blind_index_is_stable_normalised_and_keyed() -> None:
    keyring = Keyring.generate()
    index = keyring.blind_index(ID_NUMBER)
    assert len(index) == 64 and int(index, 16) >= 0
    assert keyring.blind_index(ID_NUMBER) == index
    assert keyring.blind_index(" 110101 19900307 123x ") == index
    assert keyring.blind_index("110101199003071234") != index
    assert Keyring.generate().blind_index(ID_NUMBER) != index  # another index key
    assert ID_NUMBER not in index


def test_rotating_data_keys_keeps_the_blind_index() -> None:
    keyring = Keyring.generate()
    index = keyring.blind_index(ID_NUMBER)
    keyring.add_active_key()
    assert keyring.blind_index(ID_NUMBER) == index


# --- key files -----------------------------------------------------------------------------


def test_development_key_file_is_generated_private_and_reused(tmp_path: Path) -> None:
    settings = development(tmp_path)
    first = load_keyring(settings)
    second = load_keyring(settings)

    path = settings.key_dir / "data-keys.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(settings.key_dir.stat().st_mode) == 0o700
    assert [p.name for p in settings.key_dir.iterdir()] == ["data-keys.json"]
    assert second.active_key_id == first.active_key_id
    assert second.decrypt(first.encrypt(ID_NUMBER)) == ID_NUMBER
    document = json.loads(path.read_text())
    assert set(document) == {"active", "keys", "index_key", "retired", "pseudonyms"}
    assert document["active"] == first.active_key_id and document["retired"] == []
    assert len(base64.b64decode(document["keys"][first.active_key_id])) == 32
    assert len(base64.b64decode(document["index_key"])) == 32


def test_concurrent_first_runs_agree_on_one_key_file(tmp_path: Path) -> None:
    settings = development(tmp_path)
    with ThreadPoolExecutor(max_workers=8) as pool:
        kids = set(pool.map(lambda _: load_keyring(settings).active_key_id, range(16)))
    assert len(kids) == 1
    assert [p.name for p in settings.key_dir.iterdir()] == ["data-keys.json"]


def test_production_refuses_a_missing_setting(tmp_path: Path) -> None:
    settings = Settings(env="production", data_key_file=None, key_dir=tmp_path)
    with pytest.raises(ConfigurationError, match="FIELDGATE_DATA_KEY_FILE is required"):
        load_keyring(settings)
    assert list(tmp_path.iterdir()) == []


def test_a_configured_file_must_exist_and_is_never_generated(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    for env in ("production", "development"):
        settings = Settings(env=env, data_key_file=path, key_dir=tmp_path / "unused")
        with pytest.raises(ConfigurationError, match="does not exist"):
            load_keyring(settings)
    assert list(tmp_path.iterdir()) == []


def test_an_unreadable_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    path.mkdir()  # exists, cannot be read as a file
    with pytest.raises(ConfigurationError, match="cannot be read"):
        load_keyring(Settings(env="production", data_key_file=path))


@pytest.mark.parametrize(
    "document",
    [
        "not json",
        "[]",
        '{"active": "a", "keys": {}, "index_key": ""}',
        '{"active": "b", "keys": {"a": "SECRET-MATERIAL"}, "index_key": "SECRET-MATERIAL"}',
        key_file("a", {"a": b"short"}),
        key_file("a:b", {"a:b": bytes(32)}),  # ':' would break the sealed form
        key_file("a", {"a": bytes(32)}, index_key=b"short"),
    ],
)
def test_invalid_key_files_are_refused_without_their_content(tmp_path: Path, document: str) -> None:
    path = tmp_path / "keys.json"
    path.write_text(document)
    with pytest.raises(ConfigurationError) as failure:
        load_keyring(Settings(env="production", data_key_file=path))
    assert "SECRET-MATERIAL" not in str(failure.value)
    assert str(path) in str(failure.value)


def test_a_configured_key_file_is_read(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    path.write_text(key_file("k2", {"k1": bytes(32), "k2": bytes(range(32))}))
    keyring = load_keyring(Settings(env="production", data_key_file=path, key_dir=tmp_path / "x"))
    assert keyring.active_key_id == "k2" and set(keyring.key_ids) == {"k1", "k2"}
    assert keyring.decrypt(keyring.encrypt(ID_NUMBER)) == ID_NUMBER
    assert not (tmp_path / "x").exists()


def test_a_running_keyring_learns_a_key_added_elsewhere(tmp_path: Path) -> None:
    settings = development(tmp_path)
    server = load_keyring(settings)
    old = server.active_key_id
    rotator = load_keyring(settings)
    new = rotator.add_active_key()
    token = rotator.encrypt(ID_NUMBER)
    assert Keyring.key_id_of(token) == new != old
    assert server.decrypt(token) == ID_NUMBER  # reloaded once on the unknown key id
    assert Keyring.key_id_of(server.encrypt(ID_NUMBER)) == new  # and seals with it now
    path = settings.key_dir / "data-keys.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in settings.key_dir.iterdir()) == [
        ".data-keys.json.lock",
        "data-keys.json",
    ]


def test_a_broken_key_file_does_not_stop_a_running_keyring(tmp_path: Path) -> None:
    settings = development(tmp_path)
    server = load_keyring(settings)
    token = server.encrypt(ID_NUMBER)
    (settings.key_dir / "data-keys.json").write_text('{"active": "SECRET-MATERIAL"}')
    assert server.decrypt(server.encrypt(ID_NUMBER)) == ID_NUMBER  # the keys it holds
    assert server.decrypt(token) == ID_NUMBER
    with pytest.raises(ConfigurationError):
        load_keyring(settings)  # a new process refuses to start on it


def test_reload_rereads_the_file(tmp_path: Path) -> None:
    settings = development(tmp_path)
    server = load_keyring(settings)
    new = load_keyring(settings).add_active_key()
    assert new not in server.key_ids
    server.reload()
    assert server.active_key_id == new


def test_retiring_a_key_removes_its_material(tmp_path: Path) -> None:
    settings = development(tmp_path)
    keyring = load_keyring(settings)
    old = keyring.active_key_id
    token = keyring.encrypt(ID_NUMBER)
    with pytest.raises(ValueError, match="active"):
        keyring.retire(old)
    keyring.add_active_key()
    keyring.retire(old)
    with pytest.raises(ValueError, match="no such key"):
        keyring.retire(old)
    document = json.loads((settings.key_dir / "data-keys.json").read_text())
    assert old not in document["keys"] and document["retired"] == [old]
    reread = load_keyring(settings)
    assert old not in reread.key_ids and reread.retired_key_ids == (old,)
    with pytest.raises(DecryptionFailed):
        reread.decrypt(token)


# --- what is encrypted --------------------------------------------------------------------


def test_encrypted_coordinates_are_exactly_the_fields_reading_encrypted_columns() -> None:
    catalog = build_catalog(build_schema()._schema)
    encrypted = {(t, c) for t, columns in ENCRYPTED_COLUMNS.items() for c in columns}
    reading = set()
    for coordinate, classification in catalog.classifications.items():
        source = SOURCES.get(coordinate.split(".")[0])
        column = source.columns.get(classification.attribute) if source else None
        if column is not None and (column.table.name, column.name) in encrypted:
            reading.add(coordinate)
    assert reading == ENCRYPTED_COORDINATES


# --- access log ------------------------------------------------------------------------------


def test_access_log_lines_lose_their_query_string(caplog: pytest.LogCaptureFixture) -> None:
    redact_access_log_queries("tests.access")
    redact_access_log_queries("tests.access")  # once per process, however often called
    logger = logging.getLogger("tests.access")
    assert sum(isinstance(f, QueryStringRedaction) for f in logger.filters) == 1
    path = f"/graphql?query=%7BuserByIdNumber(idNumber:%22{ID_NUMBER}%22)%7Bid%7D%7D"
    with caplog.at_level(logging.INFO, logger="tests.access"):
        logger.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET", path, "1.1", 400)
    (record,) = caplog.records
    assert ID_NUMBER not in record.getMessage()
    assert '"GET /graphql?… HTTP/1.1" 400' in record.getMessage()
