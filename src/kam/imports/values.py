"""Reading the values people type in spreadsheets: dates, amounts, yes/no, names.

Every parser takes the cell's text and returns the value or raises
``BadValue`` with a message in the user's language saying what is wrong.

Dates (``parse_date``):

- year first: ISO ``2026-03-05`` (a time after it is ignored), ``2026/3/5``,
  ``2026.3.5``, ``20260305`` and Chinese ``2026年3月5日``;
- year last: ``03/05/2026``, ``3/5/26``, ``05.03.2026``, ... Month first (US)
  or day first? A value that fits only one reading takes it (``03/25/2026``
  is US, ``25/03/2026`` day first). When both fit (``03/05/26``), the column
  decides: the importer reads every date of the column first
  (``infer_date_order``) and when its other values fit only one reading, that
  reading is used; when none tells, the value is refused as ambiguous, naming
  both readings, unless ``--date-format`` says which (``us``/``mdy``, ``dmy``,
  ``ymd``, or a ``strptime`` pattern such as ``%d.%m.%Y``);
- month names: ``5-Mar-26``, ``Mar 5, 2026``, ``5 March 2026``;
- two-digit years: 00-68 are 2000-2068, 69-99 are 1969-1999 (as ``strptime``).

Amounts (``parse_amount``): thousands separators (``1,234,567``,
``1 234 567``, ``1'234``), a decimal comma when it cannot be a thousands
separator (``12,5``; ``1.234,56``), currency signs and codes before or after
(``¥ $ € £ 元 CNY RMB USD ...``), which also give the currency, and the Chinese
multipliers ``万`` (x 10,000) and ``亿`` (x 100,000,000): ``12.5万`` is 125,000.
Accounting negatives ``(1,000)`` are read as negative and refused by the record.
"""

import datetime as dt
import re
import unicodedata
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.utils.translation import gettext as _


class BadValue(ValueError):
    """A cell that cannot be read; ``str()`` is the reason in the user's language."""


class AmbiguousDate(BadValue):
    """A date that reads both month-first and day-first."""


def clean(text: str) -> str:
    """A cell as compatibility characters normalised: full-width digits and letters
    become ASCII, the ideographic space a space; trimmed."""
    return unicodedata.normalize("NFKC", text).strip()


def key(text: str) -> str:
    """The form names are compared in: case, spaces, punctuation and width ignored
    (``Closed Won``, ``closed_won`` and ``CLOSED-WON`` are one name)."""
    return re.sub(r"[\W_]+", "", clean(text).casefold())


def one_line(text: str) -> str:
    """Text for a one-line field: runs of white space become one space."""
    return " ".join(text.split())


def many_lines(text: str) -> str:
    """Text for a multi-line field: line ends unified, outer blank space trimmed."""
    return text.replace("\r\n", "\n").replace("\r", "\n").strip()


# ---------------------------------------------------------------------------
# Yes / no
# ---------------------------------------------------------------------------

_TRUE = {"true", "yes", "y", "1", "t", "x", "on", "是", "对", "有", "√", "✓", "✔"}
_FALSE = {"false", "no", "n", "0", "f", "off", "否", "不", "不是", "无", "没有", "×", "✗"}


def parse_bool(text: str) -> bool:
    value = clean(text).casefold()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise BadValue(_("“%(value)s” is not yes or no (TRUE/FALSE, 是/否, 1/0).") % {"value": text})


# ---------------------------------------------------------------------------
# Dates
# ---------------------------------------------------------------------------

US, DMY, YMD = "us", "dmy", "ymd"
DATE_ORDERS = {"us": US, "mdy": US, "dmy": DMY, "dayfirst": DMY, "eu": DMY, "ymd": YMD, "iso": YMD}

# A time after a date is allowed and ignored: 08:55, 08:55:00.123, 8:55 PM, +08:00.
_TIME = (
    r"(?:[ T]+\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?"
    r"\s*(?:[AaPp]\.?[Mm]\.?)?\s*(?:Z|[+-]\d{2}:?\d{2})?)?"
)
_YEAR_FIRST = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})" + _TIME)
_CHINESE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]?" + r"(?:\s*\S.*)?")
_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})")
_YEAR_LAST = re.compile(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{4}|\d{2})" + _TIME)
_NAMED = ("%d-%b-%y", "%d-%b-%Y", "%d %b %Y", "%d %B %Y", "%b %d, %Y", "%B %d, %Y", "%b %d %Y")


def date_order(value: str) -> str:
    """``us``, ``dmy`` or ``ymd`` as given to ``--date-format``; a ``strptime``
    pattern (it contains ``%``) is returned as it is."""
    if "%" in value:
        return value
    try:
        return DATE_ORDERS[value.strip().lower()]
    except KeyError:
        raise BadValue(
            _("Unknown date format %(format)s: use us, dmy, ymd or a pattern such as %%d.%%m.%%Y.")
            % {"format": value}
        ) from None


def _year(text: str) -> int:
    year = int(text)
    if len(text) == 2:
        year += 2000 if year <= 68 else 1900
    return year


def _date(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def readings(text: str) -> dict[str, dt.date]:
    """The orders a year-last date fits, with the date each gives (empty for other forms)."""
    match = _YEAR_LAST.fullmatch(clean(text))
    if not match:
        return {}
    a, b, year = int(match[1]), int(match[2]), _year(match[3])
    found = {US: _date(year, a, b), DMY: _date(year, b, a)}
    return {order: day for order, day in found.items() if day is not None}


class OrderEvidence:
    """What the year-last dates of one column say about their order, value by value."""

    def __init__(self):
        self.possible = {US, DMY}
        self.told = False

    def add(self, value: str) -> None:
        fits = readings(value)
        if len(fits) == 1:
            self.told = True
            self.possible &= set(fits)

    @property
    def order(self) -> str | None:
        """``us`` or ``dmy`` when some value fits only it and none contradicts it."""
        return next(iter(self.possible)) if self.told and len(self.possible) == 1 else None


def infer_date_order(values) -> str | None:
    """The order (``us`` or ``dmy``) that every year-last value of a column fits
    when at least one value fits only it; None when nothing tells or they disagree."""
    evidence = OrderEvidence()
    for value in values:
        evidence.add(value)
    return evidence.order


def parse_date(text: str, order: str | None = None, *, column_order: str | None = None) -> dt.date:
    """The date a cell holds; ``order`` from ``--date-format`` wins, then
    ``column_order`` (what ``infer_date_order`` found in the column)."""
    value = clean(text)
    if order is not None and "%" in order:
        try:
            return dt.datetime.strptime(value, order).date()
        except ValueError:
            raise BadValue(
                _("“%(value)s” is not a date in the format %(format)s.")
                % {"value": text, "format": order}
            ) from None
    for pattern in (_YEAR_FIRST, _CHINESE, _COMPACT):
        match = pattern.fullmatch(value)
        if match:
            day = _date(int(match[1]), int(match[2]), int(match[3]))
            if day is None:
                break
            return day
    else:
        fits = readings(value)
        if fits:
            return _pick(text, fits, order or column_order)
        for pattern in _NAMED:
            try:
                return dt.datetime.strptime(value, pattern).date()
            except ValueError:
                continue
    raise BadValue(
        _("“%(value)s” is not a date: write it as 2026-03-05, 2026年3月5日 or 03/05/2026.")
        % {"value": text}
    )


def _pick(text: str, fits: dict[str, dt.date], order: str | None) -> dt.date:
    if order in fits:
        return fits[order]
    if order in (US, DMY):
        pattern = _("month/day/year") if order == US else _("day/month/year")
        raise BadValue(
            _("“%(value)s” is not a date in the order %(order)s.")
            % {"value": text, "order": pattern}
        )
    if len(set(fits.values())) == 1:
        return next(iter(fits.values()))
    raise AmbiguousDate(
        _(
            "“%(value)s” can be %(us)s (month first, US) or %(dmy)s (day first): "
            "say which with --date-format us or --date-format dmy."
        )
        % {"value": text, "us": fits[US].isoformat(), "dmy": fits[DMY].isoformat()}
    )


# ---------------------------------------------------------------------------
# Amounts
# ---------------------------------------------------------------------------

# Longest first, so that "人民币" is not read as "币" and "US$" not as "$".
_CURRENCY_WORDS = {
    "人民币": "CNY",
    "美元": "USD",
    "欧元": "EUR",
    "英镑": "GBP",
    "港币": "HKD",
    "港元": "HKD",
    "日元": "JPY",
    "US$": "USD",
    "HK$": "HKD",
    "RMB": "CNY",
    "CNY": "CNY",
    "USD": "USD",
    "EUR": "EUR",
    "GBP": "GBP",
    "HKD": "HKD",
    "JPY": "JPY",
    "元": "CNY",
    "¥": "CNY",
    "$": "USD",
    "€": "EUR",
    "£": "GBP",
}
_CURRENCY = re.compile(
    "|".join(re.escape(w) for w in sorted(_CURRENCY_WORDS, key=len, reverse=True)), re.IGNORECASE
)
_MULTIPLIERS = {"万": Decimal(10_000), "亿": Decimal(100_000_000)}
_CENT = Decimal("0.01")


def parse_amount(text: str) -> tuple[Decimal, str | None]:
    """The amount a cell holds and the currency its sign or code names (or None)."""
    value = clean(text).replace("\u00a0", "").replace("\u202f", "")
    currencies = {_CURRENCY_WORDS[m.upper()] for m in _CURRENCY.findall(value)}
    value = _CURRENCY.sub("", value).strip()
    negative = False
    if value.startswith("(") and value.endswith(")"):
        negative, value = True, value[1:-1].strip()
    multiplier = Decimal(1)
    if value and value[-1] in _MULTIPLIERS:
        multiplier, value = _MULTIPLIERS[value[-1]], value[:-1].strip()
    if value.startswith("-"):
        negative, value = not negative, value[1:].strip()
    value = re.sub(r"[ '’]", "", value)
    number = _number(value)
    if number is None or len(currencies) > 1:
        raise BadValue(
            _("“%(value)s” is not an amount: write it as 1234567.89, 1,234,567.89 or 123.5万.")
            % {"value": text}
        )
    amount = number * multiplier
    if negative:
        amount = -amount
    if amount.as_tuple().exponent < -2:
        amount = amount.quantize(_CENT, rounding=ROUND_HALF_UP)
    return amount, (currencies.pop() if currencies else None)


def _number(value: str) -> Decimal | None:
    if not re.fullmatch(r"\d[\d.,]*|\.\d+", value):
        return None
    if "," in value and "." in value:
        decimal_mark = "," if value.rfind(",") > value.rfind(".") else "."
    elif "," in value:
        # 1,234 and 1,234,567 are thousands; 12,5 and 1234,56 a decimal comma.
        decimal_mark = "." if re.fullmatch(r"\d{1,3}(,\d{3})+", value) else ","
    else:
        decimal_mark = "."
    thousands = "," if decimal_mark == "." else "."
    whole, _sep, fraction = value.partition(decimal_mark)
    if thousands in fraction or decimal_mark in fraction:
        return None
    if thousands in whole and not re.fullmatch(rf"\d{{1,3}}(\{thousands}\d{{3}})+", whole):
        return None
    try:
        return Decimal(whole.replace(thousands, "") + ("." + fraction if _sep else ""))
    except InvalidOperation:
        return None
