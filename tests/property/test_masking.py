"""Properties of the mask strategies over generated input (Hypothesis)."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fieldgate.authz.masking import (
    DATE_SENTINEL,
    MONTH_SENTINEL,
    MaskStrategy,
    mask_address,
    mask_bank_card,
    mask_date_month,
    mask_date_year,
    mask_email,
    mask_function,
    mask_id_number,
    mask_ip,
    mask_name,
    mask_phone,
    mask_redact,
    mask_region_province,
)
from fieldgate.authz.pseudonyms import make_pseudonymizer

KEY = bytes(range(32))

HAN = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF)
# Characters the masks look for, so that generated text often almost parses.
HINTS = st.sampled_from(list("0123456789 -+@.:xX*省市区县旗盟州自治北京广东"))
ANY_TEXT = st.text(st.one_of(st.characters(), HAN, HINTS, st.characters(categories=["Cs"])))
DIGITS = re.compile(r"[0-9]")

STRING_MASKS: dict[str, Callable[[str], str]] = {
    "PHONE": mask_phone,
    "ID_NUMBER": mask_id_number,
    "BANK_CARD": mask_bank_card,
    "NAME": mask_name,
    "EMAIL": mask_email,
    "ADDRESS": mask_address,
    "IP": mask_ip,
    "PSEUDONYM": make_pseudonymizer(KEY),
    "REDACT": mask_redact,
}


# -- every strategy ----------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(STRING_MASKS))
@given(value=ANY_TEXT)
def test_total_and_deterministic(name: str, value: str) -> None:
    mask = STRING_MASKS[name]
    masked = mask(value)
    assert isinstance(masked, str)
    assert masked == mask(value)


@pytest.mark.parametrize("name", sorted(STRING_MASKS))
@given(value=ANY_TEXT.filter(lambda s: "*" not in s))
def test_never_returns_the_original(name: str, value: str) -> None:
    # Input containing "*" may already be a masked value, which masks to itself.
    assert STRING_MASKS[name](value) != value


@pytest.mark.parametrize("strategy", list(MaskStrategy))
@given(
    value=st.one_of(
        st.none(), st.integers(), st.floats(), ANY_TEXT, st.dates(), st.datetimes(), st.binary()
    )
)
def test_mask_function_never_raises(strategy: MaskStrategy, value: object) -> None:
    masked = mask_function(strategy, pseudonym_key=KEY)(value)
    assert (masked is None) == (value is None)


# -- PHONE -------------------------------------------------------------------------------

MOBILE = st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True)
PHONE_FORMATS: list[Callable[[str], str]] = [
    lambda n: n,
    lambda n: f"{n[:3]} {n[3:7]} {n[7:]}",
    lambda n: f"{n[:3]}-{n[3:7]}-{n[7:]}",
    lambda n: f"+86 {n}",
    lambda n: f"+86-{n[:3]}-{n[3:7]}-{n[7:]}",
    lambda n: f"0086{n}",
    lambda n: f"86 {n}",
]


@given(number=MOBILE, written=st.sampled_from(PHONE_FORMATS))
def test_phone_keeps_first_three_and_last_four(number: str, written: Callable[[str], str]) -> None:
    masked = mask_phone(written(number)).removeprefix("+86 ")
    assert masked[:3] == number[:3]
    assert masked[-4:] == number[-4:]
    assert masked[3:-4] == "****"


@given(value=ANY_TEXT)
def test_phone_never_shows_a_middle_digit(value: str) -> None:
    body = mask_phone(value).removeprefix("+86 ")
    assert set(body[3:-4]) <= {"*"}
    assert len(DIGITS.findall(body)) <= 7


# -- ID_NUMBER ---------------------------------------------------------------------------

ID_18 = st.from_regex(r"[1-9][0-9]{16}[0-9X]", fullmatch=True)


@st.composite
def id_numbers_with_birth_dates(draw: st.DrawFn) -> tuple[str, str]:
    region = draw(st.from_regex(r"[1-6][0-9]{5}", fullmatch=True))
    born = draw(st.dates(min_value=date(1900, 1, 1), max_value=date(2025, 12, 31)))
    sequence = draw(st.from_regex(r"[0-9]{3}", fullmatch=True))
    check = draw(st.sampled_from("0123456789X"))
    birth = born.strftime("%Y%m%d")
    return f"{region}{birth}{sequence}{check}", birth


@given(value=ID_18)
def test_id_number_keeps_first_three_and_last_four(value: str) -> None:
    masked = mask_id_number(value)
    assert len(masked) == 18
    assert masked[:3] == value[:3]
    assert masked[-4:] == value[-4:]
    assert masked[3:14] == "*" * 11


@given(case=id_numbers_with_birth_dates())
def test_id_number_hides_the_birth_date(case: tuple[str, str]) -> None:
    value, birth = case
    masked = mask_id_number(value)
    assert masked[6:14] == "********"
    assert birth not in masked


@given(value=st.from_regex(r"[1-9][0-9]{14}", fullmatch=True))
def test_old_id_number_hides_the_birth_date(value: str) -> None:
    masked = mask_id_number(value)
    assert masked[:3] == value[:3]
    assert masked[-3:] == value[-3:]
    assert masked[3:12] == "*" * 9


@given(value=ANY_TEXT)
def test_id_number_positions_7_to_14_never_hold_a_digit(value: str) -> None:
    masked = mask_id_number(value)
    assert not DIGITS.search(masked[6:14])
    assert masked == "***" or len(masked) in (15, 18)


# -- BANK_CARD ---------------------------------------------------------------------------


@given(value=st.from_regex(r"[0-9]{8,19}", fullmatch=True))
def test_bank_card_keeps_the_last_four_and_hides_the_length(value: str) -> None:
    assert mask_bank_card(value) == "*" * 12 + value[-4:]


@given(value=ANY_TEXT)
def test_bank_card_shows_at_most_the_last_four_digits(value: str) -> None:
    masked = mask_bank_card(value)
    assert len(masked) == 16
    assert masked[:12] == "*" * 12
    kept = masked[12:]
    assert kept == "****" or DIGITS.findall(value)[-4:] == list(kept)


# -- NAME --------------------------------------------------------------------------------


@given(value=ANY_TEXT)
def test_name_keeps_only_the_first_character(value: str) -> None:
    name = value.strip()
    masked = mask_name(value)
    if len(name) <= 1:
        assert masked == "*"
    else:
        assert masked == name[0] + "*" * (len(name) - 1)


@given(value=st.text(HAN, min_size=2, max_size=6))
def test_chinese_name(value: str) -> None:
    masked = mask_name(value)
    assert masked[0] == value[0]
    assert set(masked[1:]) == {"*"}
    assert len(masked) == len(value)


# -- EMAIL -------------------------------------------------------------------------------


@given(value=st.emails())
def test_email_keeps_first_character_and_domain(value: str) -> None:
    local, _, domain = value.rpartition("@")
    expected = "***" if len(local) == 1 else f"{local[0]}***"
    assert mask_email(value) == f"{expected}@{domain}"


@given(value=ANY_TEXT)
def test_email_never_shows_more_of_the_local_part(value: str) -> None:
    masked = mask_email(value)
    shown, at, domain = masked.partition("@")
    assert shown in ("***", value.strip()[:1] + "***")
    assert not at or (domain and value.strip().endswith("@" + domain))


# -- ADDRESS -----------------------------------------------------------------------------

PREFIXES = st.sampled_from(
    [
        "北京市海淀区",
        "上海市浦东新区",
        "重庆市渝中区",
        "广东省深圳市南山区",
        "浙江省杭州市西湖区",
        "新疆维吾尔自治区乌鲁木齐市天山区",
        "内蒙古自治区锡林郭勒盟锡林浩特市",
        "湖北省恩施土家族苗族自治州恩施市",
        "西藏自治区阿里地区噶尔县",
        "香港特别行政区九龙城区",
        "江苏省南京市",
        "深圳市南山区",
    ]
)
# After the district an address names a street and a number; a street text that itself
# reads like a district ("一一市") is indistinguishable from one by suffixes alone.
STREET = st.text(
    st.one_of(
        HAN.filter(lambda c: c not in "省市区县旗盟"), st.sampled_from("0123456789号路街道弄")
    ),
    min_size=1,
)


@given(prefix=PREFIXES, street=STREET)
def test_address_keeps_the_administrative_prefix(prefix: str, street: str) -> None:
    assert mask_address(prefix + street) == prefix + "****"


@given(value=ANY_TEXT)
def test_address_keeps_at_most_a_prefix_of_han_characters(value: str) -> None:
    masked = mask_address(value)
    kept = masked.removesuffix("****")
    assert masked.endswith("****")
    assert "".join(value.split()).startswith(kept)
    assert all("\u3400" <= c <= "\u9fff" for c in kept)


# -- IP ----------------------------------------------------------------------------------


@given(address=st.ip_addresses(v=4))
def test_ipv4_keeps_the_first_two_octets(address: ipaddress.IPv4Address) -> None:
    first, second, _, _ = str(address).split(".")
    assert mask_ip(str(address)) == f"{first}.{second}.*.*"


@given(address=st.ip_addresses(v=6))
def test_ipv6_keeps_the_first_two_groups(address: ipaddress.IPv6Address) -> None:
    first, second = (int(g, 16) for g in address.exploded.split(":")[:2])
    assert mask_ip(str(address)) == f"{first:x}:{second:x}:*:*:*:*:*:*"
    assert mask_ip(address.exploded) == mask_ip(str(address))


@given(value=ANY_TEXT)
def test_ip_output_has_a_masked_shape(value: str) -> None:
    assert re.fullmatch(
        r"\*\.\*\.\*\.\*|[0-9]{1,3}\.[0-9]{1,3}\.\*\.\*|[0-9a-f]{1,4}:[0-9a-f]{1,4}(:\*){6}",
        mask_ip(value),
    )


# -- DATE_YEAR ---------------------------------------------------------------------------


@given(value=st.dates())
def test_date_year_of_a_date(value: date) -> None:
    masked = mask_date_year(value)
    assert type(masked) is date
    assert masked == date(value.year, 1, 1)


@given(value=st.datetimes(timezones=st.sampled_from([None, UTC, timezone(timedelta(hours=8))])))
def test_date_year_of_a_datetime(value: datetime) -> None:
    masked = mask_date_year(value)
    assert isinstance(masked, datetime)
    assert masked == value.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
    assert masked.tzinfo is value.tzinfo


@given(value=st.dates())
def test_date_year_of_an_iso_string(value: date) -> None:
    assert mask_date_year(value.isoformat()) == f"{value.year:04d}-01-01"


@given(value=ANY_TEXT)
def test_date_year_reveals_at_most_the_year(value: str) -> None:
    masked = mask_date_year(value)
    assert isinstance(masked, str)
    if masked != DATE_SENTINEL:
        assert masked[:4] == value.strip()[:4]
        assert re.fullmatch(r"[0-9]{4}-01-01(?:[T ]00:00:00(?:Z|[+-][0-9:]{4,5})?)?", masked)
    # The only strings that mask to themselves are 1 January at midnight already.
    if masked == value:
        assert value[4:10] == "-01-01"


# -- DATE_MONTH --------------------------------------------------------------------------


@given(value=st.dates())
def test_date_month_of_a_date(value: date) -> None:
    masked = mask_date_month(value)
    assert type(masked) is date
    assert masked == date(value.year, value.month, 1)


@given(value=st.datetimes(timezones=st.sampled_from([None, UTC, timezone(timedelta(hours=8))])))
def test_date_month_of_a_datetime(value: datetime) -> None:
    masked = mask_date_month(value)
    assert isinstance(masked, datetime)
    assert masked == value.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    assert masked.tzinfo is value.tzinfo


@given(value=st.dates())
def test_date_month_of_an_iso_string(value: date) -> None:
    assert mask_date_month(value.isoformat()) == f"{value.year:04d}-{value.month:02d}-01"


@given(value=ANY_TEXT)
def test_date_month_reveals_at_most_the_month(value: str) -> None:
    masked = mask_date_month(value)
    assert isinstance(masked, str)
    if masked != MONTH_SENTINEL:
        assert masked[:7] == value.strip()[:7]
        assert re.fullmatch(r"[0-9]{4}-[01][0-9]-01(?:[T ]00:00:00(?:Z|[+-][0-9:]{4,5})?)?", masked)
    # The only strings that mask to themselves are the first of a month at midnight already.
    if masked == value:
        assert value[7:10] == "-01"


# -- REGION_PROVINCE ---------------------------------------------------------------------

PROVINCE_TEXT = st.text(
    st.one_of(HAN, st.sampled_from(list("省市区自治特别行政北京上海广东内蒙古新疆香港吉林")))
)


@given(value=st.one_of(ANY_TEXT, PROVINCE_TEXT))
def test_region_province_keeps_an_official_province_or_nothing(value: str) -> None:
    masked = mask_region_province(value)
    assert masked == "****" or masked.endswith(("省", "市", "自治区", "特别行政区"))
    if masked != "****":
        # the province named at the start of the value, and nothing after it
        assert masked[:2] == value.strip()[:2]
        assert len(masked) <= 8
    # a value is its own generalisation only when it names a province and nothing else
    if masked == value:
        assert mask_region_province(value + "深圳市") == value


@given(value=st.sampled_from(["广东", "广东省"]), city=st.sampled_from(["", "深圳市", "广州市"]))
def test_region_province_spellings_compare_equal(value: str, city: str) -> None:
    assert mask_region_province(value + city) == "广东省"


# -- PSEUDONYM ---------------------------------------------------------------------------


@given(value=ANY_TEXT)
def test_pseudonym_is_stable_across_builds(value: str) -> None:
    token = make_pseudonymizer(KEY)(value)
    assert token == make_pseudonymizer(KEY)(value)
    assert re.fullmatch(r"p_[0-9a-f]{20}", token)


@given(values=st.lists(ANY_TEXT, min_size=2, max_size=50, unique=True))
def test_pseudonyms_of_distinct_inputs_are_distinct(values: list[str]) -> None:
    pseudonymize = make_pseudonymizer(KEY)
    assert len({pseudonymize(v) for v in values}) == len(values)


@given(value=st.text(min_size=6))
def test_pseudonym_does_not_contain_the_input(value: str) -> None:
    assert value not in make_pseudonymizer(KEY)(value)


@given(
    keys=st.lists(st.binary(min_size=32, max_size=32), min_size=2, max_size=2, unique=True),
    value=ANY_TEXT,
)
def test_pseudonym_depends_on_the_key(keys: list[bytes], value: str) -> None:
    first, second = keys
    assert make_pseudonymizer(first)(value) != make_pseudonymizer(second)(value)


# -- REDACT ------------------------------------------------------------------------------


@given(value=st.one_of(ANY_TEXT, st.integers(), st.none()))
def test_redact_is_constant(value: object) -> None:
    assert mask_redact(value) == "***"
