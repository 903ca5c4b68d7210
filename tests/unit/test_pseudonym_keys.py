"""Pseudonym keys: in the data key file, one per recipient and row type, rotated per period."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fieldgate.authz.masking import MaskStrategy
from fieldgate.authz.principal import ANONYMOUS, Principal, PrincipalKind
from fieldgate.crypto.keyring import Keyring, load_keyring
from fieldgate.crypto.pseudonyms import INTERNAL_RECIPIENT, PseudonymMasks, recipient_of
from fieldgate.errors import BadUserInput, ConfigurationError
from fieldgate.settings import Settings
from tests.unit.test_keyring import ID_NUMBER, development, key_file

INSIGHT = Principal(PrincipalKind.PARTNER, 4, "insight-1", frozenset({"analytics"}))
COURIER = Principal(PrincipalKind.PARTNER, 1, "sf-express", frozenset({"logistics"}))
STAFF = Principal(PrincipalKind.STAFF, 7, "security1", frozenset({"security_analyst"}))


def test_recipients_are_partners_or_internal() -> None:
    assert recipient_of(INSIGHT) == "partner:insight-1"
    assert recipient_of(COURIER) == "partner:sf-express"
    assert recipient_of(STAFF) == recipient_of(ANONYMOUS) == INTERNAL_RECIPIENT


def test_each_recipient_and_row_type_has_its_own_pseudonyms() -> None:
    masks = PseudonymMasks(Keyring.generate())
    insight = masks.resolver(INSIGHT)(MaskStrategy.PSEUDONYM, "User.id")
    courier = masks.resolver(COURIER)(MaskStrategy.PSEUDONYM, "User.id")
    staff = masks.resolver(STAFF)(MaskStrategy.PSEUDONYM, "User.id")
    orders = masks.resolver(INSIGHT)(MaskStrategy.PSEUDONYM, "Order.id")
    assert len({insight("1"), courier("1"), staff("1"), orders("1")}) == 4
    assert insight("1") == insight(1) == masks.pseudonym_of("partner:insight-1", "User", 1)
    assert masks.pseudonym_for(INSIGHT, "User", 1) == insight("1")
    assert insight("1").startswith("p_") and insight(None) is None
    # the other strategies need no key and are the same for everyone
    phone = masks.resolver(INSIGHT)(MaskStrategy.PHONE, "User.phone")
    assert phone("13812345678") == "138****5678"


def test_rotation_changes_every_pseudonym_and_reaches_other_processes(tmp_path: Path) -> None:
    settings = development(tmp_path)
    server = PseudonymMasks(load_keyring(settings))
    before = server.resolver(INSIGHT)(MaskStrategy.PSEUDONYM, "User.id")("1")
    rotator = load_keyring(settings)
    period = rotator.rotate_pseudonyms()
    assert rotator.pseudonym_root is not None and rotator.pseudonym_root[0] == period
    after = server.resolver(INSIGHT)(MaskStrategy.PSEUDONYM, "User.id")("1")
    assert after != before
    assert before not in {server.pseudonym_of("partner:insight-1", "User", i) for i in range(100)}


def test_data_key_changes_keep_the_pseudonym_period(tmp_path: Path) -> None:
    keyring = load_keyring(development(tmp_path))
    period = keyring.pseudonym_root
    old = keyring.active_key_id
    keyring.add_active_key()
    keyring.retire(old)
    assert load_keyring(development(tmp_path)).pseudonym_root == period


def test_an_older_development_key_file_is_given_a_pseudonym_key(tmp_path: Path) -> None:
    settings = development(tmp_path)
    path = settings.key_dir / "data-keys.json"
    path.parent.mkdir(parents=True)
    path.write_text(key_file("k1", {"k1": bytes(range(32))}))
    keyring = load_keyring(settings)
    assert keyring.pseudonym_root is not None
    assert keyring.active_key_id == "k1"
    assert keyring.decrypt(keyring.encrypt(ID_NUMBER)) == ID_NUMBER
    assert "pseudonyms" in json.loads(path.read_text())


def test_production_reads_an_older_key_file_but_serves_no_pseudonyms_without_a_key(
    tmp_path: Path,
) -> None:
    path = tmp_path / "keys.json"
    path.write_text(key_file("k1", {"k1": bytes(range(32))}))
    settings = Settings(env="production", data_key_file=path, key_dir=tmp_path / "x")
    keyring = load_keyring(settings)  # decrypting, rotating, retiring keep working
    assert keyring.pseudonym_root is None
    with pytest.raises(ConfigurationError, match="keys rotate --pseudonyms") as raised:
        PseudonymMasks(keyring)
    assert "key" in str(raised.value) and str(path) in str(raised.value)
    keyring.rotate_pseudonyms()
    PseudonymMasks(load_keyring(settings))  # now it serves


def test_the_pseudonym_key_is_never_shown() -> None:
    keyring = Keyring.generate()
    root = keyring.pseudonym_root
    assert root is not None
    assert root[1].hex() not in repr(keyring._keys)


def test_cursors_are_sealed_per_recipient_and_period(tmp_path: Path) -> None:
    masks = PseudonymMasks(load_keyring(development(tmp_path)))
    insight, courier = masks.cursors(INSIGHT), masks.cursors(COURIER)
    cursor = insight.encode(57)
    assert insight.decode(cursor) == 57 and len(cursor) == 22
    assert "57" not in cursor and cursor != courier.encode(57)
    assert len({insight.encode(i) for i in range(1000)}) == 1000
    with pytest.raises(BadUserInput):
        courier.decode(cursor)  # another recipient's cursor opens to nothing
    for forged in ("", "not-a-cursor", "Y3Vyc29yOjU3", cursor[:-1], "A" * 22, "\u4e2d" * 22):
        with pytest.raises(BadUserInput):
            insight.decode(forged)
    masks.keyring.rotate_pseudonyms()
    with pytest.raises(BadUserInput):
        masks.cursors(INSIGHT).decode(cursor)  # an old period's cursor no longer resolves
