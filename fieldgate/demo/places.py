"""Real administrative divisions of mainland China, for ID area codes, addresses and regions."""

from __future__ import annotations

import random
from dataclasses import dataclass

# Province-level codes (first two digits of an area code) under GB/T 2260, plus Taiwan,
# Hong Kong and Macao, which GB 11643 reserves.
PROVINCE_CODES = frozenset(
    {
        "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36",
        "37", "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62",
        "63", "64", "65", "71", "81", "82",
    }
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class District:
    """A county-level division: its GB/T 2260 code and names."""

    code: str
    province: str
    city: str
    district: str

    @property
    def region(self) -> str:
        """Province and city as a profile shows them (municipalities once)."""
        return self.province if self.province == self.city else f"{self.province}{self.city}"

    @property
    def prefix(self) -> str:
        """Province, city and district, the part of an address a mask keeps."""
        return f"{self.region}{self.district}"


DISTRICTS: tuple[District, ...] = (
    District("110101", "北京市", "北京市", "东城区"),
    District("110102", "北京市", "北京市", "西城区"),
    District("110105", "北京市", "北京市", "朝阳区"),
    District("110106", "北京市", "北京市", "丰台区"),
    District("110108", "北京市", "北京市", "海淀区"),
    District("110114", "北京市", "北京市", "昌平区"),
    District("120101", "天津市", "天津市", "和平区"),
    District("120104", "天津市", "天津市", "南开区"),
    District("130102", "河北省", "石家庄市", "长安区"),
    District("140105", "山西省", "太原市", "小店区"),
    District("150102", "内蒙古自治区", "呼和浩特市", "新城区"),
    District("210102", "辽宁省", "沈阳市", "和平区"),
    District("210202", "辽宁省", "大连市", "中山区"),
    District("220102", "吉林省", "长春市", "南关区"),
    District("230103", "黑龙江省", "哈尔滨市", "南岗区"),
    District("310101", "上海市", "上海市", "黄浦区"),
    District("310104", "上海市", "上海市", "徐汇区"),
    District("310105", "上海市", "上海市", "长宁区"),
    District("310115", "上海市", "上海市", "浦东新区"),
    District("320102", "江苏省", "南京市", "玄武区"),
    District("320106", "江苏省", "南京市", "鼓楼区"),
    District("320508", "江苏省", "苏州市", "姑苏区"),
    District("330102", "浙江省", "杭州市", "上城区"),
    District("330106", "浙江省", "杭州市", "西湖区"),
    District("330203", "浙江省", "宁波市", "海曙区"),
    District("340104", "安徽省", "合肥市", "蜀山区"),
    District("350102", "福建省", "福州市", "鼓楼区"),
    District("350203", "福建省", "厦门市", "思明区"),
    District("360102", "江西省", "南昌市", "东湖区"),
    District("370102", "山东省", "济南市", "历下区"),
    District("370202", "山东省", "青岛市", "市南区"),
    District("410105", "河南省", "郑州市", "金水区"),
    District("420106", "湖北省", "武汉市", "武昌区"),
    District("420111", "湖北省", "武汉市", "洪山区"),
    District("430104", "湖南省", "长沙市", "岳麓区"),
    District("440104", "广东省", "广州市", "越秀区"),
    District("440106", "广东省", "广州市", "天河区"),
    District("440304", "广东省", "深圳市", "福田区"),
    District("440305", "广东省", "深圳市", "南山区"),
    District("450103", "广西壮族自治区", "南宁市", "青秀区"),
    District("460105", "海南省", "海口市", "秀英区"),
    District("500103", "重庆市", "重庆市", "渝中区"),
    District("500106", "重庆市", "重庆市", "沙坪坝区"),
    District("510104", "四川省", "成都市", "锦江区"),
    District("510107", "四川省", "成都市", "武侯区"),
    District("520102", "贵州省", "贵阳市", "南明区"),
    District("530102", "云南省", "昆明市", "五华区"),
    District("540102", "西藏自治区", "拉萨市", "城关区"),
    District("610113", "陕西省", "西安市", "雁塔区"),
    District("620102", "甘肃省", "兰州市", "城关区"),
    District("630103", "青海省", "西宁市", "城中区"),
    District("640104", "宁夏回族自治区", "银川市", "兴庆区"),
    District("650102", "新疆维吾尔自治区", "乌鲁木齐市", "天山区"),
)

_ROAD_SUFFIXES = ("路", "大街", "街", "大道")


def street_address(rng: random.Random, district: District, street: str) -> str:
    """A full delivery address: province, city, district, street, number and flat.

    ``street`` is a street name without its suffix (Faker's ``street_name`` drops in as is).
    """
    if not street.endswith(_ROAD_SUFFIXES):
        street += rng.choice(_ROAD_SUFFIXES)
    address = f"{district.prefix}{street}{rng.randint(1, 999)}号"
    if rng.random() < 0.7:  # most people live in a residential compound
        building, unit = rng.randint(1, 30), rng.randint(1, 6)
        flat = rng.randint(1, 33) * 100 + rng.randint(1, 6)
        address += f"{building}栋{unit}单元{flat}室"
    return address
