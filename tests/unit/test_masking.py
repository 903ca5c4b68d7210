"""Mask strategies: the documented examples, edge cases and the per-plan resolution."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

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
    mask_functions,
    mask_id_number,
    mask_ip,
    mask_name,
    mask_phone,
    mask_redact,
    mask_region_province,
)
from fieldgate.authz.pseudonyms import make_pseudonymizer
from fieldgate.errors import ConfigurationError, PolicyError

KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))


def reference_pseudonym(key: bytes, value: str) -> str:
    return "p_" + hmac.new(key, value.encode(), hashlib.sha256).digest()[:10].hex()


@pytest.mark.parametrize(
    ("strategy", "value", "expected"),
    [
        (MaskStrategy.PHONE, "13812345678", "138****5678"),
        (MaskStrategy.ID_NUMBER, "110101199003071234", "110***********1234"),
        (MaskStrategy.BANK_CARD, "6222021234567890123", "************0123"),
        (MaskStrategy.NAME, "张三丰", "张**"),
        (MaskStrategy.EMAIL, "alice@163.com", "a***@163.com"),
        (MaskStrategy.ADDRESS, "北京市海淀区中关村大街1号", "北京市海淀区****"),
        (MaskStrategy.IP, "203.0.113.42", "203.0.*.*"),
        (MaskStrategy.DATE_YEAR, "1990-03-07", "1990-01-01"),
        (MaskStrategy.DATE_YEAR, date(1990, 3, 7), date(1990, 1, 1)),
        (MaskStrategy.DATE_MONTH, "2026-03-07T10:20:00", "2026-03-01T00:00:00"),
        (MaskStrategy.DATE_MONTH, date(2026, 3, 7), date(2026, 3, 1)),
        (MaskStrategy.REGION_PROVINCE, "广东省深圳市", "广东省"),
        (MaskStrategy.PSEUDONYM, "u_1001", reference_pseudonym(KEY, "u_1001")),
        (MaskStrategy.REDACT, "我想退款，电话13812345678", "***"),
    ],
)
def test_documented_example(strategy: MaskStrategy, value: object, expected: object) -> None:
    assert mask_function(strategy, pseudonym_key=KEY)(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("13812345678", "138****5678"),
        ("138 1234 5678", "138****5678"),
        ("138-1234-5678", "138****5678"),
        ("+86 138 1234 5678", "+86 138****5678"),
        ("+86-13812345678", "+86 138****5678"),
        ("8613812345678", "+86 138****5678"),
        ("0086 13812345678", "+86 138****5678"),
        ("(010) 6275-1234", "010****1234"),
        ("+1 415 555 0100", "141****0100"),
        ("12345678", "123*5678"),
        ("1234567", "***"),
        ("138", "***"),
        ("", "***"),
        ("not a phone", "***"),
        ("电话：13812345678", "138****5678"),
        ("１３８１２３４５６７８", "***"),  # fullwidth digits are dropped, never shown
        ("138****5678", "***"),
    ],
)
def test_phone(value: str, expected: str) -> None:
    assert mask_phone(value) == expected


def test_phone_very_long_input_hides_every_middle_digit() -> None:
    value = "1" + "9" * 100_000 + "2345"
    masked = mask_phone(value)
    assert masked == "199" + "*" * (len(value) - 7) + "2345"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("110101199003071234", "110***********1234"),
        ("11010119900307123X", "110***********123X"),
        ("11010119900307123x", "110***********123X"),
        ("110101 19900307 1234", "110***********1234"),
        ("110101-19900307-1234", "110***********1234"),
        ("110101900307123", "110*********123"),  # 15 digits: birth date at digits 7-12
        ("11010119900307123", "***"),
        ("1101011990030712345", "***"),
        ("11010119900307123Y", "***"),
        ("11010190030712X", "***"),
        ("", "***"),
        ("身份证号码", "***"),
        ("110***********1234", "***"),
    ],
)
def test_id_number(value: str, expected: str) -> None:
    assert mask_id_number(value) == expected


@pytest.mark.parametrize("value", ["110101199003071234", "110101900307123"])
def test_id_number_hides_the_birth_date(value: str) -> None:
    birth_date = value[6:14] if len(value) == 18 else value[6:12]
    masked = mask_id_number(value)
    assert set(masked[3 : len(value) - (4 if len(value) == 18 else 3)]) == {"*"}
    assert birth_date not in masked


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("6222021234567890123", "************0123"),
        ("6222 0212 3456 7890", "************7890"),
        ("6222-0212-3456-7890", "************7890"),
        ("12345678", "************5678"),
        ("1234567", "****************"),
        ("62220212345678901234", "****************"),
        ("************0123", "****************"),
        ("6222O21234567890", "****************"),
        ("", "****************"),
        ("银行卡", "****************"),
    ],
)
def test_bank_card(value: str, expected: str) -> None:
    assert mask_bank_card(value) == expected


def test_bank_card_hides_the_length() -> None:
    assert len(mask_bank_card("62220212")) == len(mask_bank_card("6222021234567890123")) == 16


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("张三丰", "张**"),
        ("张三", "张*"),
        ("欧阳娜娜", "欧***"),
        ("买买提·艾力", "买*****"),
        ("Alice", "A****"),
        ("Alice Lee", "A********"),
        ("  李四  ", "李*"),
        ("张", "*"),
        ("A", "*"),
        ("", "*"),
        ("   ", "*"),
        ("😀😀", "😀*"),
    ],
)
def test_name(value: str, expected: str) -> None:
    assert mask_name(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("alice@163.com", "a***@163.com"),
        ("bo@qq.com", "b***@qq.com"),
        ("a@163.com", "***@163.com"),
        ("  carol.w+tag@example.org ", "c***@example.org"),
        ('"a@b"@example.org', '"***@example.org'),
        ("张三@例子.中国", "张***@例子.中国"),
        ("alice", "***"),
        ("@163.com", "***"),
        ("alice@", "***"),
        ("alice smith@163.com", "***"),
        ("alice@163.com and more", "***"),
        ("", "***"),
    ],
)
def test_email(value: str, expected: str) -> None:
    assert mask_email(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # municipalities: districts directly under them
        ("北京市海淀区中关村大街1号", "北京市海淀区****"),
        ("上海市浦东新区世纪大道100号", "上海市浦东新区****"),
        ("天津市和平区南京路", "天津市和平区****"),
        ("重庆市渝中区解放碑", "重庆市渝中区****"),
        ("北京海淀区中关村", "北京海淀区****"),
        ("北京市", "北京市****"),
        ("北京市建国门外大街超市", "北京市****"),
        # provinces
        ("广东省深圳市南山区科技园", "广东省深圳市南山区****"),
        ("浙江省杭州市西湖区文三路", "浙江省杭州市西湖区****"),
        ("黑龙江省哈尔滨市南岗区", "黑龙江省哈尔滨市南岗区****"),
        ("广东深圳市南山区科技园", "广东深圳市南山区****"),
        ("吉林省吉林市船营区", "吉林省吉林市船营区****"),
        ("湖北省恩施土家族苗族自治州恩施市舞阳大道", "湖北省恩施土家族苗族自治州恩施市****"),
        (
            "云南省临沧市双江拉祜族佤族布朗族傣族自治县勐勐镇",
            "云南省临沧市双江拉祜族佤族布朗族傣族自治县****",
        ),
        ("江苏省南京市", "江苏省南京市****"),
        ("四川省某某路", "四川省****"),
        # autonomous regions
        ("新疆维吾尔自治区乌鲁木齐市天山区解放路", "新疆维吾尔自治区乌鲁木齐市天山区****"),
        ("内蒙古自治区锡林郭勒盟锡林浩特市", "内蒙古自治区锡林郭勒盟锡林浩特市****"),
        ("广西壮族自治区南宁市青秀区", "广西壮族自治区南宁市青秀区****"),
        ("西藏自治区阿里地区噶尔县", "西藏自治区阿里地区噶尔县****"),
        ("内蒙古呼伦贝尔市鄂温克族自治旗", "内蒙古呼伦贝尔市鄂温克族自治旗****"),
        # special administrative regions
        ("香港特别行政区九龙城区太子道", "香港特别行政区九龙城区****"),
        ("澳门特别行政区", "澳门特别行政区****"),
        # a city without its province
        ("深圳市南山区科技园", "深圳市南山区****"),
        ("吉林市船营区", "吉林市船营区****"),
        (" 广东省 深圳市 南山区 科技园", "广东省深圳市南山区****"),
        # no administrative prefix
        ("中关村大街1号", "****"),
        ("海淀区中关村", "****"),
        ("1 Infinite Loop, Cupertino", "****"),
        ("", "****"),
        ("省市区", "****"),
    ],
)
def test_address(value: str, expected: str) -> None:
    assert mask_address(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("203.0.113.42", "203.0.*.*"),
        (" 10.1.2.3 ", "10.1.*.*"),
        ("255.255.255.255", "255.255.*.*"),
        ("2001:db8::1", "2001:db8:*:*:*:*:*:*"),
        ("2001:0DB8:0000:0000:0000:ff00:0042:8329", "2001:db8:*:*:*:*:*:*"),
        ("fe80::1%eth0", "fe80:0:*:*:*:*:*:*"),
        ("::ffff:203.0.113.42", "0:0:*:*:*:*:*:*"),
        ("::", "0:0:*:*:*:*:*:*"),
        ("256.1.1.1", "*.*.*.*"),
        ("01.2.3.4", "*.*.*.*"),
        ("1.2.3", "*.*.*.*"),
        ("203.0.113.42:8080", "*.*.*.*"),
        ("2001:db8:::1", "*.*.*.*"),
        ("localhost", "*.*.*.*"),
        ("", "*.*.*.*"),
        ("２０３.0.113.42", "*.*.*.*"),
    ],
)
def test_ip(value: str, expected: str) -> None:
    assert mask_ip(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1990-03-07", "1990-01-01"),
        ("2008-12-31", "2008-01-01"),
        (" 1990-03-07 ", "1990-01-01"),
        ("1990-03-07T12:34:56", "1990-01-01T00:00:00"),
        ("1990-03-07T12:34:56.789Z", "1990-01-01T00:00:00Z"),
        ("1990-03-07 08:00+08:00", "1990-01-01 00:00:00+08:00"),
        ("1990-13-07", DATE_SENTINEL),
        ("1990-03-32", DATE_SENTINEL),
        ("19900307", DATE_SENTINEL),
        ("07/03/1990", DATE_SENTINEL),
        ("1990", DATE_SENTINEL),
        ("", DATE_SENTINEL),
        ("一九九〇年三月七日", DATE_SENTINEL),
    ],
)
def test_date_year_strings(value: str, expected: str) -> None:
    assert mask_date_year(value) == expected


def test_date_year_keeps_the_date_type() -> None:
    masked = mask_date_year(date(2010, 6, 15))
    assert type(masked) is date
    assert masked == date(2010, 1, 1)


def test_date_year_keeps_the_datetime_type_and_zone() -> None:
    zone = timezone(timedelta(hours=8))
    masked = mask_date_year(datetime(1990, 3, 7, 23, 59, 59, 999, tzinfo=zone))
    assert type(masked) is datetime
    assert masked == datetime(1990, 1, 1, tzinfo=zone)
    assert masked.tzinfo is zone


def test_date_year_sentinel_has_no_year() -> None:
    assert DATE_SENTINEL == "****-01-01"


def test_pseudonym_is_keyed_hmac_sha256() -> None:
    pseudonymize = make_pseudonymizer(KEY)
    assert pseudonymize("u_1001") == reference_pseudonym(KEY, "u_1001")
    assert pseudonymize("张三") == reference_pseudonym(KEY, "张三")
    assert pseudonymize("") == reference_pseudonym(KEY, "")


def test_pseudonym_with_a_key_longer_than_a_block() -> None:
    long_key = bytes(range(100))
    assert make_pseudonymizer(long_key)("u_1001") == reference_pseudonym(long_key, "u_1001")


def test_pseudonym_is_stable_and_depends_on_the_key() -> None:
    first, again = make_pseudonymizer(KEY), make_pseudonymizer(KEY)
    assert first("u_1001") == again("u_1001") == first("u_1001")
    assert first("u_1001") != first("u_1002")
    assert first("u_1001") != make_pseudonymizer(OTHER_KEY)("u_1001")


def test_pseudonym_shape() -> None:
    token = make_pseudonymizer(KEY)("u_1001")
    assert token.startswith("p_")
    assert len(token) == 22
    assert set(token[2:]) <= set("0123456789abcdef")


def test_pseudonym_accepts_lone_surrogates() -> None:
    assert make_pseudonymizer(KEY)("\ud800").startswith("p_")


@pytest.mark.parametrize("key", [b"", b"short", bytes(15)])
def test_pseudonym_key_too_short_is_refused_at_build_time(key: bytes) -> None:
    with pytest.raises(ConfigurationError):
        make_pseudonymizer(key)
    with pytest.raises(ConfigurationError):
        mask_function(MaskStrategy.PSEUDONYM, pseudonym_key=key)


@pytest.mark.parametrize("value", ["", "anything at all", "13812345678", 42, None, b"x"])
def test_redact(value: object) -> None:
    assert mask_redact(value) == "***"


@pytest.mark.parametrize(
    ("strategy", "direct"),
    [
        (MaskStrategy.PHONE, mask_phone),
        (MaskStrategy.ID_NUMBER, mask_id_number),
        (MaskStrategy.BANK_CARD, mask_bank_card),
        (MaskStrategy.NAME, mask_name),
        (MaskStrategy.EMAIL, mask_email),
        (MaskStrategy.ADDRESS, mask_address),
        (MaskStrategy.IP, mask_ip),
        (MaskStrategy.DATE_YEAR, mask_date_year),
        (MaskStrategy.DATE_MONTH, mask_date_month),
        (MaskStrategy.REGION_PROVINCE, mask_region_province),
        (MaskStrategy.REDACT, mask_redact),
    ],
)
def test_mask_function_resolves_each_strategy(strategy: MaskStrategy, direct: object) -> None:
    masked = mask_function(strategy, pseudonym_key=KEY)
    samples = [
        "13812345678",
        "110101199003071234",
        "6222021234567890123",
        "张三丰",
        "alice@163.com",
        "北京市海淀区中关村大街1号",
        "203.0.113.42",
        "1990-03-07",
        "",
    ]
    assert callable(direct)
    assert [masked(s) for s in samples] == [direct(s) for s in samples]


def test_mask_function_resolves_pseudonym_with_the_key() -> None:
    masked = mask_function(MaskStrategy.PSEUDONYM, pseudonym_key=KEY)
    assert masked("u_1001") == make_pseudonymizer(KEY)("u_1001")
    assert masked(1001) == make_pseudonymizer(KEY)("1001")


def test_mask_function_covers_every_strategy() -> None:
    for strategy in MaskStrategy:
        assert mask_function(strategy, pseudonym_key=KEY)("x") is not None


@pytest.mark.parametrize("strategy", list(MaskStrategy))
def test_mask_function_passes_none_through(strategy: MaskStrategy) -> None:
    assert mask_function(strategy, pseudonym_key=KEY)(None) is None


def test_mask_function_accepts_the_strategy_name() -> None:
    masked = mask_function(MaskStrategy("PHONE"), pseudonym_key=KEY)
    assert masked("13812345678") == "138****5678"


def test_mask_function_masks_non_strings_as_their_text() -> None:
    assert mask_function(MaskStrategy.PHONE, pseudonym_key=KEY)(13812345678) == "138****5678"
    assert mask_function(MaskStrategy.NAME, pseudonym_key=KEY)(12345) == "1****"
    assert mask_function(MaskStrategy.DATE_YEAR, pseudonym_key=KEY)(19900307) == DATE_SENTINEL
    moment = datetime(1990, 3, 7, 12, tzinfo=UTC)
    assert mask_function(MaskStrategy.DATE_YEAR, pseudonym_key=KEY)(moment) == datetime(
        1990, 1, 1, tzinfo=UTC
    )


def test_mask_function_needs_the_key_only_for_pseudonyms() -> None:
    assert mask_function(MaskStrategy.PHONE, pseudonym_key=b"")("13812345678") == "138****5678"


def test_mask_function_refuses_an_unknown_strategy() -> None:
    with pytest.raises(PolicyError):
        mask_function("SHUFFLE", pseudonym_key=KEY)  # type: ignore[arg-type]


def test_mask_functions_resolves_every_strategy_once() -> None:
    table = mask_functions(pseudonym_key=KEY)
    assert set(table) == set(MaskStrategy)
    assert table[MaskStrategy.PHONE]("13812345678") == "138****5678"
    assert table[MaskStrategy.PSEUDONYM]("u_1001") == reference_pseudonym(KEY, "u_1001")
    assert table[MaskStrategy.REDACT](None) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("广东省深圳市", "广东省"),
        ("广东深圳市", "广东省"),
        ("北京", "北京市"),
        ("北京市海淀区", "北京市"),
        ("内蒙古呼和浩特市", "内蒙古自治区"),
        ("新疆维吾尔自治区乌鲁木齐市", "新疆维吾尔自治区"),
        ("香港", "香港特别行政区"),
        ("吉林省吉林市", "吉林省"),
        ("吉林市", "****"),  # a city named like its province: not a province
        ("深圳市", "****"),  # no province named: nothing is kept
        ("", "****"),
        ("Guangdong", "****"),
    ],
)
def test_region_province(value: str, expected: str) -> None:
    assert mask_region_province(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-03-07", "2026-03-01"),
        ("2026-03-07 10:20:30.5+08:00", "2026-03-01 00:00:00+08:00"),
        ("2026-12-31T23:59Z", "2026-12-01T00:00:00Z"),
        ("2026-13-01", MONTH_SENTINEL),
        ("March 2026", MONTH_SENTINEL),
        ("", MONTH_SENTINEL),
    ],
)
def test_date_month_strings(value: str, expected: str) -> None:
    assert mask_date_month(value) == expected


def test_date_month_of_dates_and_times_keeps_the_type_and_zone() -> None:
    moment = datetime(2026, 3, 7, 10, 20, tzinfo=timezone(timedelta(hours=8)))
    assert mask_date_month(moment) == datetime(2026, 3, 1, tzinfo=timezone(timedelta(hours=8)))
    assert mask_date_month(date(2026, 3, 7)) == date(2026, 3, 1)
    assert mask_date_month(20260307) == MONTH_SENTINEL  # type: ignore[arg-type]
