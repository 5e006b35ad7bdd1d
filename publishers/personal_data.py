"""Detectors of personal and third-party data in text about to be published (DR-10).

Pure functions: text in, findings out; nothing here reads the database, the clock or a file.
The gate (`publishers.privacy`) runs them over every text field a release publishes and over
the text of every report file, and turns what they find into check problems.

Precision comes first, because an officer has to clear every finding by hand: a number counts
only when its check digit agrees (resident ID numbers GB 11643, bank cards Luhn, unified social
credit codes GB 32100 — the validators of python-stdnum, not hand-written copies), and the
shapes without a check digit (phones, passports, legacy IDs) need a shape that ordinary budget
text does not produce, or a word next to them that says what they are. Names of natural persons
are not guessed: a department registers the names and terms it wants protected per release.

Full-width digits, letters and separators (１３８－１２３４－５６７８, ＠) count as their ASCII
forms. The translation keeps every character in place, so offsets into the normalised text are
offsets into the original.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import Enum

from stdnum import luhn, numdb
from stdnum.cn import ric, uscc


class Kind(str, Enum):
    """What a finding is, with the Chinese label the console and `check` show."""

    RESIDENT_ID = "resident_id"
    MOBILE = "mobile"
    LANDLINE = "landline"
    BANK_CARD = "bank_card"
    EMAIL = "email"
    SOLE_TRADER_CODE = "sole_trader_code"
    PASSPORT = "passport"
    PROTECTED_TERM = "protected_term"

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    Kind.RESIDENT_ID: "居民身份证号码",
    Kind.MOBILE: "手机号码",
    Kind.LANDLINE: "固定电话号码",
    Kind.BANK_CARD: "银行卡号",
    Kind.EMAIL: "电子邮箱",
    Kind.SOLE_TRADER_CODE: "个体工商户统一社会信用代码",
    Kind.PASSPORT: "护照号码",
    Kind.PROTECTED_TERM: "登记的受保护姓名或名称",
}


@dataclass(frozen=True, slots=True)
class Match:
    """One piece of personal data in a text: where it is, what it is, and its value in a
    canonical form (ASCII, no separators) that the masked form and the digest are made from."""

    kind: Kind
    start: int
    end: int
    value: str

    @property
    def masked(self) -> str:
        return mask(self.kind, self.value)

    def digest(self, *context: str) -> str:
        """A stable identifier of this datum at a place (`context`: release, record, field), for
        the officer's exception: the same datum at the same place has the same digest on every
        run, and a correction of the text makes it disappear."""
        material = "\x1f".join((*context, self.kind.value, self.value))
        return hashlib.sha256(material.encode()).hexdigest()[:16]


# --- normalisation ---------------------------------------------------------------------------

_DASHES = "‐‑‒–—―−﹣－"
#: Full-width ASCII (U+FF01…U+FF5E) to ASCII, the ideographic space to a space, every dash to
#: "-". One character to one character: offsets survive.
_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {
    0x3000: ord(" "),
    0x00A0: ord(" "),
    **{ord(dash): ord("-") for dash in _DASHES},
}


#: Runs of the characters `_WIDTH` changes. Translating only those is ~7× faster than
#: `str.translate` over the whole text, which looks every character up in the table (~150 ns
#: each): the publisher and the leak scans normalise every published text.
_WIDE_RUN = re.compile("[" + "".join(re.escape(chr(code)) for code in sorted(_WIDTH)) + "]+")


def normalise(text: str) -> str:
    """Full-width digits, letters and separators as ASCII, with every offset unchanged."""
    return _WIDE_RUN.sub(lambda run: run.group().translate(_WIDTH), text)


# --- masking ---------------------------------------------------------------------------------


def mask(kind: Kind, value: str) -> str:
    """The datum with its middle hidden, for consoles, logs and `check`: enough to find it in
    the text, not enough to use it (3101**********1234, 138****5678, z***@example.cn, 张*)."""
    if kind is Kind.EMAIL:
        local, _, domain = value.partition("@")
        return f"{local[:1]}***@{domain}"
    if kind is Kind.PROTECTED_TERM:
        return value[:1] + "*" * max(len(value) - 1, 1)
    if kind is Kind.LANDLINE:
        area, _, number = value.partition("-")
        return f"{area}-{'*' * (len(number) - 4)}{number[-4:]}"
    if kind is Kind.MOBILE:
        return value[:3] + "*" * (len(value) - 7) + value[-4:]
    if len(value) >= 12:
        return value[:4] + "*" * (len(value) - 8) + value[-4:]
    keep = max(len(value) // 4, 1)
    return value[:keep] + "*" * (len(value) - 2 * keep) + value[-keep:]


# --- the detectors ---------------------------------------------------------------------------

#: A run of digit groups joined by at most one separator each (space, hyphen, dot): how numbers
#: are written by hand. An ID number may end in X. Letters or digits around it make it part of
#: something else (a code, a longer number), so it is not a candidate.
_RUN = re.compile(r"(?<![0-9A-Za-z])(?>\+?[0-9]+(?:[ .\-][0-9]+)*[Xx]?)(?![0-9A-Za-z])")
_GROUP = re.compile(r"[0-9]+[Xx]?|[Xx]")
#: A landline written with its area code in brackets: (021)6232 1234, （0571）88881234.
_BRACKETED_LANDLINE = re.compile(
    r"[(（](0[1-9][0-9]{1,2})[)）] ?([0-9]{3,4}[ \-]?[0-9]{4})(?![0-9])"
)
_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9][A-Za-z0-9._%+\-]{0,63}@"
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?![A-Za-z0-9])"
)
#: Chinese passports: E + 8 digits, E + a letter (not I or O) + 7 digits (since 2019), G + 8
#: digits (before 2012); diplomatic and service ones D/S/P + 7 or 8. No check digit, and codes of
#: this shape occur in project numbering, so a passport needs the word 护照 (or passport) close by.
_PASSPORT = re.compile(
    r"(?<![0-9A-Za-z])(E[0-9]{8}|E[A-HJ-NP-Z][0-9]{7}|G[0-9]{8}|[DSP]E?[0-9]{7,8})(?![0-9A-Za-z])"
)
_PASSPORT_CONTEXT = re.compile(r"护照|passport", re.IGNORECASE)
#: A unified social credit code: 18 characters of the GB 32100 alphabet; 92 is a sole trader
#: (个体工商户, registered by market regulation).
_USCC = re.compile(r"(?<![0-9A-Z])(92[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10})(?![0-9A-Z])")
#: Words that say a person is next to a sole trader's code: the code of 个体工商户 identifies
#: its owner, but only with a person beside it is it the person's datum rather than a shop's.
_PERSON_CONTEXT = re.compile(
    r"个体|经营者|业主|户主|负责人|法定代表人|姓名|本人|先生|女士|农户|村民|居民"
)
_CONTEXT_CHARS = 20
#: The most digits a number found here has: a 19-digit card, or +86 and a mobile number.
_LONGEST = 19
_MOBILE_PREFIX = re.compile(r"(?:\+?86)?(1[3-9][0-9]{9})")
_AREA = re.compile(r"0[1-9][0-9]{1,2}")


#: python-stdnum's table of county codes (GB/T 2260, with the years each was in use).
_COUNTIES = numdb.get("cn/loc")


def _known_county(code: str) -> bool:
    """Whether a county code ever existed. Not whether it existed at the birth date, as
    `ric.validate` asks: the code is where the card was issued, and a person born in 1982 may
    hold a card of a district made in 1990 (440305 南山区)."""
    return any(props for _, props in _COUNTIES.info(code))


def _valid_id(number: str) -> bool:
    """GB 11643: 17 digits (county, birth date, sequence) and the check character; the county a
    real one and the date a real day (python-stdnum's check digit, date and county table)."""
    if len(number) != 18 or not number[:17].isdigit():
        return False
    try:
        ric.get_birth_date(number)
    except ValueError:
        return False
    return ric.calc_check_digit(number) == number[17] and _known_county(number[:6])


def _valid_legacy_id(digits: str) -> bool:
    """A 15-digit ID number (issued before 1999): county, YYMMDD of a 19xx birth, sequence. No
    check digit, so the county must be a real one and the date a real day."""
    if len(digits) != 15 or not digits.isdigit():
        return False
    try:
        ric.get_birth_date(f"{digits[:6]}19{digits[6:]}0")
    except ValueError:
        return False
    return _known_county(digits[:6])


def _number_kind(compact: str, groups: list[str]) -> tuple[Kind, str] | None:
    """What a run of digits (separators removed) is, if anything, and its canonical value."""
    upper = compact.upper()
    if _valid_id(upper):
        return Kind.RESIDENT_ID, upper
    if not compact.isdigit():
        return None
    if 16 <= len(compact) <= 19 and luhn.is_valid(compact) and compact[0] in "3456789":
        return Kind.BANK_CARD, compact
    if _valid_legacy_id(compact):
        return Kind.RESIDENT_ID, compact
    mobile = _MOBILE_PREFIX.fullmatch(compact)
    if mobile:
        return Kind.MOBILE, mobile.group(1)
    # A landline needs its area code written apart (021-62321234): a bare run of 10–12 digits
    # starting with 0 is as likely an account or a code.
    if len(groups) >= 2 and _AREA.fullmatch(groups[0]) and 7 <= len(compact) - len(groups[0]) <= 8:
        rest = compact[len(groups[0]) :]
        if rest[0] != "0":
            return Kind.LANDLINE, f"{groups[0]}-{rest}"
    return None


#: A number right after one of these words is a code or a document number (项目编码 130-2021-0001,
#: 文号 …), whatever it looks like: shapes without a check digit (phones, legacy IDs) are not
#: taken there. Numbers with a check digit are, because the check says what they are.
_CODE_BEFORE = re.compile(
    r"(?:编码|编号|代码|代号|项目号|文号|序号|No\.?)\s*[:：]?\s*$", re.IGNORECASE
)
_CHECKED = frozenset({Kind.BANK_CARD})


def _after_code_word(text: str, start: int) -> bool:
    return _CODE_BEFORE.search(text, max(start - 8, 0), start) is not None


def _numbers(text: str) -> Iterator[Match]:
    """IDs, bank cards and phone numbers in runs of digit groups. Every contiguous window of a
    run's groups is tried, longest first, so that an ID followed by a space and a year
    (310101199001011234 2024) is still found; a window that is found takes its groups. Windows
    hold at most 19 digits, so a long table of numbers costs time linear in its length."""
    for run in _RUN.finditer(text):
        at = run.start()
        groups = [(g.start() + at, g.end() + at) for g in _GROUP.finditer(run.group())]
        taken = [False] * len(groups)
        windows = []
        for i in range(len(groups)):
            digits = 0
            for j in range(i + 1, len(groups) + 1):
                digits += groups[j - 1][1] - groups[j - 1][0]
                if digits > _LONGEST:
                    break
                windows.append((digits, i, j))
        windows.sort(key=lambda w: (-w[0], w[1]))
        for _, i, j in windows:
            if any(taken[i:j]):
                continue
            parts = [text[a:b] for a, b in groups[i:j]]
            compact = "".join(parts)
            found = _number_kind(compact, parts)
            if found is None:
                continue
            # Part of a run counts only with a check that chance rarely passes (an 18-digit ID:
            # check character, date and county), or as a landline followed by its extension; a
            # Luhn digit alone agrees with one window in ten of a long grouped number.
            whole = i == 0 and j == len(groups)
            partial_ok = (found[0] is Kind.RESIDENT_ID and len(found[1]) == 18) or (
                found[0] is Kind.LANDLINE and i == 0
            )
            if not whole and not partial_ok:
                continue
            checked = found[0] in _CHECKED or len(found[1]) == 18
            if not checked and _after_code_word(text, groups[i][0]):
                continue
            start = groups[i][0]
            if i == 0 and text[run.start()] == "+":
                start = run.start()
            taken[i:j] = [True] * (j - i)
            yield Match(found[0], start, groups[j - 1][1], found[1])
    for bracketed in _BRACKETED_LANDLINE.finditer(text):
        rest = re.sub(r"[ \-]", "", bracketed.group(2))
        if rest[0] != "0" and 7 <= len(rest) <= 8:
            value = f"{bracketed.group(1)}-{rest}"
            yield Match(Kind.LANDLINE, bracketed.start(), bracketed.end(), value)


def _near(pattern: re.Pattern[str], text: str, start: int, end: int) -> bool:
    window = text[max(start - _CONTEXT_CHARS, 0) : end + _CONTEXT_CHARS]
    return pattern.search(window) is not None


def _codes(text: str, protected: Iterable[str]) -> Iterator[Match]:
    names = [n for n in protected if n]
    for found in _USCC.finditer(text):
        code = found.group(1)
        if not uscc.is_valid(code):
            continue
        window = text[max(found.start() - _CONTEXT_CHARS, 0) : found.end() + _CONTEXT_CHARS]
        if _PERSON_CONTEXT.search(window) or any(n in window for n in names):
            yield Match(Kind.SOLE_TRADER_CODE, found.start(), found.end(), code)
    for found in _PASSPORT.finditer(text):
        if _near(_PASSPORT_CONTEXT, text, found.start(), found.end()):
            yield Match(Kind.PASSPORT, found.start(), found.end(), found.group(1))
    for found in _EMAIL.finditer(text):
        yield Match(Kind.EMAIL, found.start(), found.end(), found.group().lower())


def _terms(text: str, protected: Iterable[str]) -> Iterator[Match]:
    folded = text.casefold()
    for term in protected:
        needle = normalise(term).strip().casefold()
        if not needle:
            continue
        at = folded.find(needle)
        while at >= 0:
            yield Match(Kind.PROTECTED_TERM, at, at + len(needle), normalise(term).strip())
            at = folded.find(needle, at + len(needle))


def find(text: str, protected: Iterable[str] = ()) -> list[Match]:
    """Every piece of personal data in `text`, in order of position; where two overlap, the
    longer (then the earlier) one wins. `protected`: the names and terms registered for the
    release, matched whole, ignoring case and width."""
    if not text:
        return []
    plain = normalise(text)
    terms = tuple(protected)
    candidates = [*_codes(plain, terms), *_numbers(plain), *_terms(plain, terms)]
    candidates.sort(key=lambda m: (m.start - m.end, m.start))
    kept: list[Match] = []
    for candidate in candidates:
        if all(candidate.end <= k.start or candidate.start >= k.end for k in kept):
            kept.append(candidate)
    return sorted(kept, key=lambda m: (m.start, m.end))


def redacted_marker(basis: str) -> str:
    """What a redacted field says in the published data instead of its text (区分处理, Art. 37)."""
    return f"【已依法删除：{basis}】"
