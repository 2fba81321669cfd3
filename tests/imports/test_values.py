import datetime as dt
from decimal import Decimal

import pytest

from kam.imports.values import (
    AmbiguousDate,
    BadValue,
    date_order,
    infer_date_order,
    key,
    parse_amount,
    parse_bool,
    parse_date,
)

MARCH_5 = dt.date(2026, 3, 5)


@pytest.mark.parametrize(
    "text",
    [
        "2026-03-05",
        "2026-3-5",
        "2026/3/5",
        "2026/03/05",
        "2026.3.5",
        "20260305",
        "2026年3月5日",
        "2026 年 3 月 5 日",
        "２０２６年３月５日",
        "2026年3月5日 星期四",
        "2026-03-05T09:30:00",
        "2026-03-05 09:30",
        "2026-03-05T09:30:00+08:00",
        "5-Mar-26",
        "Mar 5, 2026",
        "5 March 2026",
    ],
)
def test_year_first_chinese_and_named_month_dates_need_no_format(text):
    assert parse_date(text) == MARCH_5


def test_a_year_last_date_that_fits_one_order_only_is_read_in_that_order():
    assert parse_date("03/25/2026") == dt.date(2026, 3, 25)
    assert parse_date("25/03/2026") == dt.date(2026, 3, 25)
    assert parse_date("02/23/26 08:55 PM") == dt.date(2026, 2, 23)


def test_a_date_that_reads_both_ways_is_refused_naming_both_readings():
    with pytest.raises(AmbiguousDate) as caught:
        parse_date("03/05/26")
    message = str(caught.value)
    assert "2026-03-05" in message
    assert "2026-05-03" in message
    assert "--date-format" in message


def test_a_date_format_settles_an_ambiguous_date():
    assert parse_date("03/05/26", date_order("us")) == MARCH_5
    assert parse_date("05/03/26", date_order("dmy")) == MARCH_5
    assert parse_date("05.03.2026", "%d.%m.%Y") == MARCH_5


def test_the_same_day_and_month_is_not_ambiguous():
    assert parse_date("03/03/26") == dt.date(2026, 3, 3)


def test_the_order_of_the_column_settles_an_ambiguous_date():
    assert parse_date("03/05/26", column_order="us") == MARCH_5
    assert parse_date("03/05/26", column_order="dmy") == dt.date(2026, 5, 3)


def test_a_date_against_the_format_given_is_refused():
    with pytest.raises(BadValue, match="month/day/year"):
        parse_date("25/03/2026", "us")


def test_a_column_shows_its_order_when_one_value_fits_only_it():
    assert infer_date_order(["02/03/24", "02/26/24", ""]) == "us"
    assert infer_date_order(["02/03/24", "26/02/24"]) == "dmy"


def test_a_column_whose_values_all_read_both_ways_shows_no_order():
    assert infer_date_order(["02/03/24", "04/05/24", "2026-01-31"]) is None


def test_a_column_whose_values_disagree_shows_no_order():
    assert infer_date_order(["02/26/24", "26/02/24"]) is None


@pytest.mark.parametrize("text", ["2026-02-30", "tomorrow", "13/13/2026", "2026年13月1日"])
def test_what_is_not_a_date_is_refused_with_the_forms_that_work(text):
    with pytest.raises(BadValue, match="2026年3月5日"):
        parse_date(text)


def test_an_unknown_date_format_is_refused():
    with pytest.raises(BadValue, match="us, dmy, ymd"):
        date_order("julian")


@pytest.mark.parametrize(
    ("text", "amount", "currency"),
    [
        ("1234567", "1234567", None),
        ("1,234,567.89", "1234567.89", None),
        ("1 234 567", "1234567", None),
        ("1'234", "1234", None),
        ("12,5", "12.5", None),
        ("1.234,56", "1234.56", None),
        ("¥1,200", "1200", "CNY"),
        ("￥1,200", "1200", "CNY"),
        ("1200元", "1200", "CNY"),
        ("12.5万", "125000", None),
        ("12.5万元", "125000", "CNY"),
        ("￥3万", "30000", "CNY"),
        ("1.2亿", "120000000", None),
        ("$15,000", "15000", "USD"),
        ("USD 15000", "15000", "USD"),
        ("15000 usd", "15000", "USD"),
        ("RMB 8,000", "8000", "CNY"),
        ("人民币8000", "8000", "CNY"),
        ("€99.90", "99.90", "EUR"),
        ("(1,000)", "-1000", None),
        ("-500", "-500", None),
        ("１２３４", "1234", None),
        ("0.125", "0.13", None),
    ],
)
def test_amounts_are_read_as_people_write_them(text, amount, currency):
    assert parse_amount(text) == (Decimal(amount), currency)


@pytest.mark.parametrize("text", ["abc", "1,23,4", "1.234.567", "12 apples", "$5 €5", "万"])
def test_what_is_not_an_amount_is_refused(text):
    with pytest.raises(BadValue, match="not an amount"):
        parse_amount(text)


@pytest.mark.parametrize("text", ["TRUE", "true", "Yes", "1", "是", "√"])
def test_yes_is_read_in_both_languages(text):
    assert parse_bool(text) is True


@pytest.mark.parametrize("text", ["FALSE", "no", "0", "否", "无"])
def test_no_is_read_in_both_languages(text):
    assert parse_bool(text) is False


def test_a_value_neither_yes_nor_no_is_refused():
    with pytest.raises(BadValue):
        parse_bool("maybe")


def test_names_compare_without_case_spaces_punctuation_or_width():
    assert key("Closed Won") == key("closed_won") == key("CLOSED-WON") == key("ClosedWon")
    assert key("Proposal/Price Quote") == key("proposal price quote")
    assert key("客户 名称") == key("客户名称")
