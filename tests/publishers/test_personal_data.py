"""The personal-data detectors (DR-10): generated valid numbers are found inside any Chinese
text, in full width and with separators; generated invalid ones (a wrong check digit, a wrong
Luhn digit) are not. Pure functions: no database.

Derandomized, with bounded examples, so CI sees the same cases every run."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum import luhn
from stdnum.cn import ric, uscc

from publishers import personal_data as pd
from publishers.personal_data import Kind

PROPERTY = settings(max_examples=80, deadline=None, derandomize=True)

#: Real county codes (python-stdnum checks the place of birth, so a made-up one is invalid).
AREAS = ["110101", "310101", "310104", "440305", "330106", "510104", "120101", "320102"]
#: Chinese text around a datum: CJK ideographs and Chinese punctuation, never a digit or a
#: Latin letter right beside it (that would make it part of a longer number or code).
CJK = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5)
PUNCTUATION = st.sampled_from(list("，。：；、（）「」《》 \n"))
TEXT = st.text(st.one_of(CJK, PUNCTUATION), max_size=30)
SEPARATORS = st.sampled_from(["", " ", "-", "－", "\u3000"])


def full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


@st.composite
def resident_ids(draw: st.DrawFn) -> str:
    born = draw(st.dates(date(1930, 1, 1), date(2020, 12, 31)))
    body = f"{draw(st.sampled_from(AREAS))}{born:%Y%m%d}{draw(st.integers(0, 999)):03d}"
    return body + ric.calc_check_digit(body + "0")


@st.composite
def cards(draw: st.DrawFn) -> str:
    length = draw(st.integers(16, 19))
    body = draw(st.sampled_from("3456789")) + "".join(
        draw(st.lists(st.sampled_from("0123456789"), min_size=length - 2, max_size=length - 2))
    )
    return body + luhn.calc_check_digit(body)


@st.composite
def sole_trader_codes(draw: st.DrawFn) -> str:
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    body = "92" + f"{draw(st.integers(0, 999999)):06d}"
    body += "".join(draw(st.lists(st.sampled_from(alphabet), min_size=9, max_size=9)))
    return body + uscc.calc_check_digit(body)


@st.composite
def mobiles(draw: st.DrawFn) -> str:
    return f"1{draw(st.sampled_from('3456789'))}{draw(st.integers(0, 10**9 - 1)):09d}"


def grouped(number: str, separator: str, size: int = 4) -> str:
    return separator.join(number[i : i + size] for i in range(0, len(number), size))


def found(text: str, kind: Kind, value: str, terms: tuple[str, ...] = ()) -> bool:
    return any(m.kind is kind and m.value == value for m in pd.find(text, terms))


@PROPERTY
@given(before=TEXT, after=TEXT, number=resident_ids(), sep=SEPARATORS, wide=st.booleans())
def test_a_valid_resident_id_is_found_in_any_text(
    before: str, after: str, number: str, sep: str, wide: bool
) -> None:
    written = f"{number[:6]}{sep}{number[6:14]}{sep}{number[14:]}"
    text = before + (full_width(written) if wide else written) + after
    assert found(text, Kind.RESIDENT_ID, number)


@PROPERTY
@given(before=TEXT, after=TEXT, number=resident_ids(), wrong=st.integers(1, 10))
def test_a_resident_id_with_a_wrong_check_digit_is_not_found(
    before: str, after: str, number: str, wrong: int
) -> None:
    digits = "0123456789X"
    bad = number[:17] + digits[(digits.index(number[17]) + wrong) % 11]
    assert not ric.is_valid(bad)
    assert not any(m.kind is Kind.RESIDENT_ID for m in pd.find(before + bad + after))


@PROPERTY
@given(before=TEXT, after=TEXT, number=cards(), sep=SEPARATORS, wide=st.booleans())
def test_a_valid_bank_card_is_found_in_any_text(
    before: str, after: str, number: str, sep: str, wide: bool
) -> None:
    written = grouped(number, sep)
    text = before + (full_width(written) if wide else written) + after
    assert any(m.value == number for m in pd.find(text))


@PROPERTY
@given(before=TEXT, after=TEXT, number=cards(), wrong=st.integers(1, 9), sep=SEPARATORS)
def test_a_card_number_failing_luhn_is_not_found(
    before: str, after: str, number: str, wrong: int, sep: str
) -> None:
    bad = number[:-1] + str((int(number[-1]) + wrong) % 10)
    assert not luhn.is_valid(bad)
    assert not any(m.kind is Kind.BANK_CARD for m in pd.find(before + grouped(bad, sep) + after))


@PROPERTY
@given(before=TEXT, after=TEXT, code=sole_trader_codes(), wide=st.booleans())
def test_a_sole_traders_code_beside_a_person_is_found(
    before: str, after: str, code: str, wide: bool
) -> None:
    text = f"{before}经营者王某，统一社会信用代码{full_width(code) if wide else code}{after}"
    assert found(text, Kind.SOLE_TRADER_CODE, code)


@PROPERTY
@given(code=sole_trader_codes(), wrong=st.integers(1, 30))
def test_a_sole_traders_code_with_a_wrong_check_character_is_not_found(
    code: str, wrong: int
) -> None:
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    bad = code[:17] + alphabet[(alphabet.index(code[17]) + wrong) % 31]
    assert not any(m.kind is Kind.SOLE_TRADER_CODE for m in pd.find(f"经营者王某，代码{bad}"))


def test_a_sole_traders_code_needs_a_person_beside_it() -> None:
    code = "92310101" + "MA1K0000" + "0"
    code = code[:17] + uscc.calc_check_digit(code[:17])
    assert found(f"个体工商户经营者：{code}", Kind.SOLE_TRADER_CODE, code)
    assert found(f"王小明：{code}", Kind.SOLE_TRADER_CODE, code, ("王小明",))
    assert not any(m.kind is Kind.SOLE_TRADER_CODE for m in pd.find(f"供应商代码{code}"))
    # A company (91…) is not a person: its code is public information.
    company = "91310101MA1K00000"
    company += uscc.calc_check_digit(company)
    assert not pd.find(f"经营者：{company}")


@PROPERTY
@given(before=TEXT, after=TEXT, number=mobiles(), sep=SEPARATORS, wide=st.booleans())
def test_a_mobile_number_is_found_in_any_text(
    before: str, after: str, number: str, sep: str, wide: bool
) -> None:
    written = f"{number[:3]}{sep}{number[3:7]}{sep}{number[7:]}"
    text = before + (full_width(written) if wide else written) + after
    assert found(text, Kind.MOBILE, number)


@pytest.mark.parametrize(
    ("text", "kind", "masked"),
    [
        ("联系电话：021-62321234", Kind.LANDLINE, "021-****1234"),
        ("（０５７１）８８８８ １２３４转", Kind.LANDLINE, "0571-****1234"),
        ("请联系＋８６ １３８ １２３４ ５６７８。", Kind.MOBILE, "138****5678"),
        ("邮箱：Zhang.San＠Example.cn。", Kind.EMAIL, "z***@example.cn"),
        ("护照号码E12345678，", Kind.PASSPORT, "E1*****78"),
        ("护照：EA1234567", Kind.PASSPORT, "EA*****67"),
        ("旧身份证310101900101123，", Kind.RESIDENT_ID, "3101*******1123"),
    ],
)
def test_other_kinds_and_their_masks(text: str, kind: Kind, masked: str) -> None:
    (match,) = pd.find(text)
    assert (match.kind, match.masked) == (kind, masked)
    assert pd.normalise(text)[match.start : match.end].replace(" ", "") != ""


@pytest.mark.parametrize(
    "text",
    [
        "项目编号E12345678",  # a passport's shape without the word: a code
        "电话62321234",  # a local number without its area code
        "02162321234",  # no separator after the area code: could be any account
        "999999900101123",  # 15 digits, but no such county
        "310101901301123",  # 15 digits of a county, but no 13th month
        "12345678901",  # 11 digits, but no mobile network starts 12
        "预算执行数1,234,567.89元，2021-2023年度完成率98.5%，共12个项目",
        "P2024-001-0003",
    ],
)
def test_ordinary_numbers_are_not_personal_data(text: str) -> None:
    assert pd.find(text) == []


def test_registered_terms_are_found_whole_ignoring_width_and_case() -> None:
    text = "补贴发放给张三丰（ＡＢＣ合作社）"
    kinds = [(m.kind, m.value) for m in pd.find(text, ("张三丰", "abc合作社"))]
    assert kinds == [(Kind.PROTECTED_TERM, "张三丰"), (Kind.PROTECTED_TERM, "abc合作社")]
    assert pd.find(text, ("李四",)) == []
    assert pd.find(text, ("",)) == []


def test_a_datum_followed_by_a_year_is_still_found() -> None:
    number = "11010519491231002X"
    assert found(f"{number} 2024年", Kind.RESIDENT_ID, number)
    assert found(f"2023 {number}", Kind.RESIDENT_ID, number)


def test_normalising_keeps_every_offset() -> None:
    text = "电话：１３８－１２３４－５６７８\u3000完"
    assert len(pd.normalise(text)) == len(text)
    (match,) = pd.find(text)
    assert text[match.start : match.end] == "１３８－１２３４－５６７８"


def test_normalising_maps_exactly_the_wide_characters_over_all_of_unicode() -> None:
    """The runs it translates are those of the table's characters: every code point, alone and
    between others, comes out as the table says (and unchanged where the table is silent)."""
    every = "".join(chr(code) for code in range(0x110000) if not 0xD800 <= code <= 0xDFFF)
    assert pd.normalise(every) == every.translate(pd._WIDTH)
    assert pd.normalise("ａ－ｂ，c　 —") == "a-b,c  -"
    assert pd.normalise("（１３８）") == "(138)"


def test_masks_hide_the_middle() -> None:
    assert pd.mask(Kind.RESIDENT_ID, "310101199001011234") == "3101**********1234"
    assert pd.mask(Kind.PROTECTED_TERM, "张三") == "张*"
    assert pd.mask(Kind.PASSPORT, "E1234567") == "E1****67"


def test_a_long_run_of_numbers_is_searched_in_linear_time() -> None:
    # Every window of a run is tried, but only windows of at most 19 digits: a table of numbers
    # joined by spaces does not explode.
    text = " ".join(str(n) for n in range(10_000))
    assert len(pd.find(text)) < 10_000


def test_digests_are_stable_and_depend_on_the_place() -> None:
    (match,) = pd.find("电话13812345678")
    assert match.digest("a", "f") == match.digest("a", "f")
    assert match.digest("a", "f") != match.digest("a", "g")
    assert len(match.digest("a", "f")) == 16


def test_every_date_of_birth_in_range_is_accepted() -> None:
    # the generator's own boundary: stdnum validates the date, so 29 Feb only in leap years
    day = date(2000, 2, 28)
    for offset in range(3):
        born = day + timedelta(days=offset)
        body = f"310101{born:%Y%m%d}123"
        number = body + ric.calc_check_digit(body + "0")
        assert found(f"号{number}。", Kind.RESIDENT_ID, number)


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        ("（编码 130-2021-0001）", []),  # a project code of the district demo
        ("项目编号：13020210001", []),
        ("文号13912345678", []),
        ("电话130-2021-0001", [Kind.MOBILE]),  # the same shape, after no code word
        ("编号11010519491231002X", [Kind.RESIDENT_ID]),  # a check digit says what it is
        ("编号6222020200112233445", []),
    ],
)
def test_a_number_after_a_code_word_is_a_code_unless_its_check_digit_agrees(
    text: str, kinds: list[Kind]
) -> None:
    assert [m.kind for m in pd.find(text)] == kinds


def test_a_card_after_a_code_word_is_still_found() -> None:
    body = "622202020011223344"
    card = body + luhn.calc_check_digit(body)
    assert [m.kind for m in pd.find(f"编号{card}")] == [Kind.BANK_CARD]


def test_identifier_fields_are_not_searched() -> None:
    from publishers import privacy

    data = {
        "code": "130-2021-0001",
        "departmentCode": "13912345678",
        "subjectKey": "13912345678",
        "kindLabel": "13912345678",
        "summary": "电话13912345678",
        "rows": [{"deviationReason": "x"}],
    }
    assert [path for path, _ in privacy.texts(data)] == ["summary", "rows[0].deviationReason"]
