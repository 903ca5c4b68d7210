// The mask formats the support_agent rules use, ported from fieldgate's
// fieldgate/authz/masking.py (PHONE, NAME, ADDRESS, EMAIL) so the servers answer the same bytes.

const REDACTED = '***';

export function maskPhone(value) {
  let digits = value.replace(/[^0-9]+/g, '');
  let count = digits.length;
  let prefix = '';
  if (count === 13 && digits.startsWith('861')) {
    [prefix, digits, count] = ['+86 ', digits.slice(2), 11];
  } else if (count === 15 && digits.startsWith('00861')) {
    [prefix, digits, count] = ['+86 ', digits.slice(4), 11];
  }
  if (count <= 7) return REDACTED;
  return `${prefix}${digits.slice(0, 3)}${'*'.repeat(count - 7)}${digits.slice(-4)}`;
}

const EMAIL = /^\s*(\S+)@([^\s@]+)\s*$/;

export function maskEmail(value) {
  const match = EMAIL.exec(value);
  if (!match) return REDACTED;
  const [, local, domain] = match;
  return [...local].length === 1 ? `***@${domain}` : `${[...local][0]}***@${domain}`;
}

export function maskName(value) {
  const name = [...value.trim()];
  if (name.length <= 1) return '*';
  return name[0] + '*'.repeat(name.length - 1);
}

const MUNICIPALITIES = ['北京', '上海', '天津', '重庆'];
const PROVINCES = [
  '河北', '山西', '辽宁', '吉林', '黑龙江', '江苏', '浙江', '安徽', '福建', '江西', '山东',
  '河南', '湖北', '湖南', '广东', '海南', '四川', '贵州', '云南', '陕西', '甘肃', '青海', '台湾',
];
const REGIONS = {
  内蒙古: '内蒙古自治区', 广西: '广西壮族自治区', 西藏: '西藏自治区', 宁夏: '宁夏回族自治区',
  新疆: '新疆维吾尔自治区',
};
const SPECIAL = ['香港', '澳门'];
const byLength = (names) => [...names].sort((a, b) => b.length - a.length).join('|');
const PROVINCE_NAMES = byLength([
  ...PROVINCES.map((p) => `${p}省`), ...PROVINCES,
  ...Object.values(REGIONS), ...Object.keys(REGIONS).map((r) => `${r}自治区`), ...Object.keys(REGIONS),
  ...SPECIAL.map((s) => `${s}特别行政区`), ...SPECIAL,
]);
const CHAR = '[\\p{Script=Han}--[省市区县旗盟]]';
const CITY = `${CHAR}{1,5}?(?:市|地区|盟)|${CHAR}{1,10}?自治州`;
const DISTRICT = `${CHAR}{1,6}?(?:区|县|旗)|${CHAR}{2,6}?市|${CHAR}{1,12}?自治[县旗]`;
const MUNICIPALITY = new RegExp(`^\\s*((?:${byLength(MUNICIPALITIES)})市?)\\s*(${DISTRICT})?`, 'v');
const PROVINCE = new RegExp(
  `^\\s*(?:(${PROVINCE_NAMES})(?!市))?\\s*(${CITY})?\\s*(${DISTRICT})?`, 'v',
);

export function maskAddress(value) {
  const hidden = '****';
  const municipal = MUNICIPALITY.exec(value);
  if (municipal) return `${municipal[1]}${municipal[2] ?? ''}${hidden}`;
  const match = PROVINCE.exec(value);
  if (!match || !(match[1] || match[2])) return hidden;
  return `${match[1] ?? ''}${match[2] ?? ''}${match[3] ?? ''}${hidden}`;
}
