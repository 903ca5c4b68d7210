"""Validators and generators of the demo data's identifiers, dates and addresses."""

from __future__ import annotations

import random
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fieldgate.crypto.keyring import Keyring
from fieldgate.demo.checksums import (
    credit_code_check_char,
    is_luhn_valid,
    luhn_check_digit,
    mod11_2_check_char,
)
from fieldgate.demo.identity_numbers import (
    BANK_CARD_BINS,
    MOBILE_PREFIXES,
    id_number_birth_date,
    id_number_is_male,
    is_valid_bank_card,
    is_valid_credit_code,
    is_valid_id_number,
    is_valid_imei,
    is_valid_mobile,
    make_bank_card,
    make_credit_code,
    make_id_number,
    make_imei,
    make_mobile,
)
from fieldgate.demo.network import is_valid_ipv4, is_valid_mac, make_ipv4, make_mac
from fieldgate.demo.places import DISTRICTS, PROVINCE_CODES, District, street_address
from fieldgate.demo.seed import SeedReport
from fieldgate.demo.sensitive import seal_sensitive
from fieldgate.demo.timeline import EPOCH_DATE, age_on, birth_window

randoms = st.randoms(use_true_random=False)
districts = st.sampled_from(DISTRICTS)
birth_dates = st.dates(min_value=date(1900, 1, 1), max_value=EPOCH_DATE)

# --- resident ID numbers (GB 11643) -------------------------------------------------------

KNOWN_ID_NUMBER = "11010519491231002X"  # the example of the standard: woman, 1949-12-31


def test_known_id_number_is_valid_and_decodes() -> None:
    assert mod11_2_check_char(KNOWN_ID_NUMBER[:17]) == "X"
    assert is_valid_id_number(KNOWN_ID_NUMBER)
    assert id_number_birth_date(KNOWN_ID_NUMBER) == date(1949, 12, 31)
    assert not id_number_is_male(KNOWN_ID_NUMBER)


@pytest.mark.parametrize(
    ("id_number", "why"),
    [
        ("110105194912310021", "wrong check character"),
        ("11010519491231002x", "lower-case x"),
        ("11010519491231002", "17 characters"),
        ("11010519491231002X0", "19 characters"),
        ("110105194913310024", "month 13"),
        ("110105190002290020", "29 February 1900"),
        ("990105194912310025", "no province 99"),
        ("1101051949123100X2", "X inside"),
        ("１１０１０５１９４９１２３１００２X", "full-width digits"),
        ("", "empty"),
    ],
)
def test_invalid_id_numbers_are_refused(id_number: str, why: str) -> None:
    assert not is_valid_id_number(id_number), why


def test_id_number_check_character_is_recomputed_for_each_cause() -> None:
    # The invalid examples above must fail for their stated reason, not the checksum:
    # with a correct check character, a bad date or province still fails.
    bad_month = "11010519491331002"
    bad_province = "99010519491231002"
    assert not is_valid_id_number(bad_month + mod11_2_check_char(bad_month))
    assert not is_valid_id_number(bad_province + mod11_2_check_char(bad_province))


@given(randoms, districts, birth_dates, st.booleans())
def test_generated_id_numbers_validate_and_encode_birth_and_sex(
    rng: random.Random, district: District, birth_date: date, male: bool
) -> None:
    id_number = make_id_number(rng, district.code, birth_date, male)
    assert len(id_number) == 18
    assert is_valid_id_number(id_number)
    assert id_number.startswith(district.code)
    assert id_number_birth_date(id_number) == birth_date
    assert id_number_is_male(id_number) is male
    assert id_number[14:17] != "000"


@given(randoms, districts, birth_dates, st.booleans(), st.integers(0, 16), st.integers(1, 9))
def test_mod11_2_catches_any_single_digit_change(
    rng: random.Random, district: District, birth: date, male: bool, position: int, shift: int
) -> None:
    id_number = make_id_number(rng, district.code, birth, male)
    changed = str((int(id_number[position]) + shift) % 10)
    tampered = id_number[:position] + changed + id_number[position + 1 :]
    assert mod11_2_check_char(tampered[:17]) != tampered[17]


# --- mobile numbers -------------------------------------------------------------------------


@pytest.mark.parametrize("phone", ["13812345678", "14512345678", "16612345678", "19912345678"])
def test_real_mobile_prefixes_are_valid(phone: str) -> None:
    assert is_valid_mobile(phone)


@pytest.mark.parametrize(
    "phone",
    ["12012345678", "14012345678", "16012345678", "1381234567", "138123456789", "1381234567a", ""],
)
def test_unknown_prefixes_and_wrong_lengths_are_refused(phone: str) -> None:
    assert not is_valid_mobile(phone)


def test_prefix_list_has_the_main_networks_and_no_duplicates() -> None:
    assert len(set(MOBILE_PREFIXES)) == len(MOBILE_PREFIXES)
    assert {"130", "139", "145", "147", "150", "166", "170", "180", "189", "191", "199"} <= set(
        MOBILE_PREFIXES
    )
    assert all(len(prefix) == 3 and prefix.startswith("1") for prefix in MOBILE_PREFIXES)


@given(randoms)
def test_generated_mobiles_validate(rng: random.Random) -> None:
    phone = make_mobile(rng)
    assert is_valid_mobile(phone)
    assert phone[:3] in MOBILE_PREFIXES


# --- Luhn: bank cards and IMEIs -----------------------------------------------------------


@pytest.mark.parametrize("number", ["79927398713", "4111111111111111", "490154203237518"])
def test_known_luhn_numbers_are_valid(number: str) -> None:
    assert is_luhn_valid(number)


@pytest.mark.parametrize("number", ["79927398710", "4111111111111112", "", "7", "7992739871a"])
def test_luhn_refuses_wrong_checks_and_non_digits(number: str) -> None:
    assert not is_luhn_valid(number)


@given(st.text(alphabet="0123456789", min_size=1, max_size=30), st.data())
def test_luhn_check_digit_completes_and_catches_single_digit_changes(
    payload: str, data: st.DataObject
) -> None:
    number = payload + luhn_check_digit(payload)
    assert is_luhn_valid(number)
    position = data.draw(st.integers(0, len(number) - 1))
    changed = str((int(number[position]) + data.draw(st.integers(1, 9))) % 10)
    assert not is_luhn_valid(number[:position] + changed + number[position + 1 :])


def test_known_imei_is_valid() -> None:
    assert is_valid_imei("490154203237518")
    assert not is_valid_imei("490154203237517")
    assert not is_valid_imei("49015420323751")


@given(randoms)
def test_generated_bank_cards_validate(rng: random.Random) -> None:
    card = make_bank_card(rng)
    assert is_valid_bank_card(card)
    assert BANK_CARD_BINS[card[:6]] == len(card)


def test_bank_cards_outside_unionpay_or_of_odd_length_are_refused() -> None:
    visa = "4111111111111111"
    short = "622202" + "12345678"
    short += luhn_check_digit(short)
    assert not is_valid_bank_card(visa)
    assert not is_valid_bank_card(short)


@given(randoms, st.sampled_from(["86", "35"]))
def test_generated_imeis_validate(rng: random.Random, reporting_body: str) -> None:
    imei = make_imei(rng, reporting_body)
    assert is_valid_imei(imei)
    assert imei.startswith(reporting_body)


# --- unified social credit codes (GB 32100) --------------------------------------------------


@pytest.mark.parametrize("code", ["91350100M000100Y43", "91110000802100433B"])
def test_known_credit_codes_are_valid(code: str) -> None:
    assert is_valid_credit_code(code)


@pytest.mark.parametrize(
    "code", ["91350100M000100Y44", "91350100M000100Y53", "9135010OM000100Y43", "91350100M000100Y4"]
)
def test_wrong_credit_codes_are_refused(code: str) -> None:
    assert not is_valid_credit_code(code)


@given(randoms, districts)
def test_generated_credit_codes_validate(rng: random.Random, district: District) -> None:
    code = make_credit_code(rng, district.code)
    assert is_valid_credit_code(code)
    assert code[2:8] == district.code
    assert credit_code_check_char(code[:17]) == code[17]


# --- network identifiers ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mac", "valid"),
    [
        ("02:00:5E:10:00:01", True),
        ("01:00:5E:10:00:01", False),  # multicast
        ("02:00:5e:10:00:01", False),  # lower case
        ("02-00-5E-10-00-01", False),
        ("02:00:5E:10:00", False),
    ],
)
def test_mac_validation(mac: str, valid: bool) -> None:
    assert is_valid_mac(mac) is valid


@given(randoms)
def test_generated_macs_are_locally_administered_unicast(rng: random.Random) -> None:
    mac = make_mac(rng)
    assert is_valid_mac(mac)
    assert int(mac[:2], 16) & 0b11 == 0b10


@pytest.mark.parametrize(
    ("ip", "valid"),
    [("114.114.114.114", True), ("10.0.0.1", False), ("192.168.1.1", False), ("1.2.3", False)],
)
def test_ipv4_validation(ip: str, valid: bool) -> None:
    assert is_valid_ipv4(ip) is valid


@given(randoms)
def test_generated_ipv4s_are_public(rng: random.Random) -> None:
    assert is_valid_ipv4(make_ipv4(rng))


# --- places and dates ------------------------------------------------------------------------


def test_district_codes_are_unique_and_in_known_provinces() -> None:
    codes = [district.code for district in DISTRICTS]
    assert len(set(codes)) == len(codes)
    assert all(len(code) == 6 and code[:2] in PROVINCE_CODES for code in codes)


@given(randoms, districts, st.sampled_from(["中关村", "中关村大街", "南京路"]))
def test_addresses_start_with_province_city_and_district(
    rng: random.Random, district: District, street: str
) -> None:
    address = street_address(rng, district, street)
    assert address.startswith(district.prefix)
    assert address.startswith(district.province)
    assert "号" in address


def test_municipalities_name_their_city_once() -> None:
    beijing = District("110108", "北京市", "北京市", "海淀区")
    assert beijing.prefix == "北京市海淀区"
    shenzhen = District("440305", "广东省", "深圳市", "南山区")
    assert shenzhen.prefix == "广东省深圳市南山区"


@pytest.mark.parametrize(
    ("birth", "age"),
    [
        (date(2008, 6, 1), 18),
        (date(2008, 6, 2), 17),
        (date(2012, 6, 1), 14),
        (date(1965, 1, 1), 61),
    ],
)
def test_age_on_the_epoch(birth: date, age: int) -> None:
    assert age_on(birth) == age


@given(st.integers(0, 90), st.integers(0, 20))
def test_birth_window_gives_exactly_the_ages_asked(youngest: int, extra: int) -> None:
    oldest = youngest + extra
    first, last = birth_window(youngest, oldest)
    assert age_on(first) == oldest
    assert age_on(last) == youngest
    assert age_on(date.fromordinal(first.toordinal() - 1)) == oldest + 1
    assert age_on(date.fromordinal(last.toordinal() + 1)) == youngest - 1


# --- the sensitive-column seam and the report ------------------------------------------------


def test_seal_sensitive_seals_copies_and_keeps_other_tables_untouched() -> None:
    keyring = Keyring.generate()
    rows = [{"id": 1, "id_number": KNOWN_ID_NUMBER, "face_template": b"\x01", "phone": "1"}]
    (sealed,) = seal_sensitive("users", rows, keyring)
    assert rows[0]["id_number"] == KNOWN_ID_NUMBER  # the input rows are not changed
    assert sealed["phone"] == "1"
    assert Keyring.is_encrypted(sealed["id_number"])
    assert Keyring.is_encrypted(sealed["face_template"])
    assert keyring.decrypt(sealed["id_number"]) == KNOWN_ID_NUMBER
    assert keyring.decrypt_bytes(sealed["face_template"]) == b"\x01"
    assert sealed["id_number_index"] == keyring.blind_index(KNOWN_ID_NUMBER)
    courses = [{"id": 1, "title": "t"}]
    assert seal_sensitive("courses", courses, keyring) is courses


def test_seed_report_summary_is_one_line() -> None:
    seeded = SeedReport(False, {"users": 1000, "order_items": 7}, 8.24)
    assert seeded.summary() == "seeded 1000 users, 7 order items in 8.2 s"
    skipped = SeedReport(True, {}, 0.01)
    assert "already" in skipped.summary()
    assert "\n" not in seeded.summary() + skipped.summary()
