"""The typed row filter: whitelisted grammar, lazy per-row evaluation, plain-word rejections."""

from __future__ import annotations

import pytest

from hftui.data.row_filter import FilterError, parse_row_filter

COLUMNS = ("text", "label", "score", "with space")
ROW = {"text": "A great movie", "label": 1, "score": 2.5, "with space": "x"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("label == 1", True),
        ("label != 1", False),
        ("label < 2", True),
        ("label <= 0", False),
        ("score > 2", True),
        ("score >= 3", False),
        ("label in (0, 2)", False),
        ("label not in (0, 2)", True),
        ("len(text) > 200", False),
        ("label in (0, 1) and len(text) < 50", True),
        ("label == 0 or score == 2.5", True),
        ("not label == 1", False),
        ("contains(lower(text), 'great')", True),
        ("startswith(text, 'A ')", True),
        ("upper(text) == 'A GREAT MOVIE'", True),
        ("label + 1 == 2 and label * 3 - 1 == 2 and score / 2.5 == 1 and 7 % 2 == label", True),
        ("abs(-score) == 2.5 and int('3') == 3 and float(label) == 1.0 and str(label) == '1'", True),
        ("row['with space'] == 'x'", True),
        ("'great' in text", True),
        ("label == True and text != None", True),
    ],
)
def test_operators(text: str, expected: bool) -> None:
    assert parse_row_filter(text, COLUMNS)(ROW) is expected


def test_columns_named() -> None:
    assert parse_row_filter("label == 1 and len(text) > 2 and label > 0", COLUMNS).columns == ("label", "text")


def test_bad_rows_do_not_match() -> None:
    row_filter = parse_row_filter("len(text) > 3 and label > 0", COLUMNS)
    assert row_filter({"text": None, "label": 1}) is False
    assert row_filter({"text": "long", "label": None}) is False
    assert parse_row_filter("label / 0 == 1", COLUMNS)(ROW) is False


def test_unknown_column_named_in_message() -> None:
    with pytest.raises(FilterError, match=r"no column named 'lable'; columns are: text, label"):
        parse_row_filter("lable == 1", ("text", "label"))
    with pytest.raises(FilterError, match="no column named 'nope'"):
        parse_row_filter("row['nope'] == 1", COLUMNS)


@pytest.mark.parametrize(
    "text",
    [
        "__import__('os')",
        "text.__class__",
        "[x for x in y]",
        "open('f')",
        "text.lower()",
        "lambda: 1",
        "text[0]",
        "{'a': 1}",
        "label ** 2",
        "label is None",
        "f'{text}'",
        "len(text, *label)",
        "",
        "label ==",
        "(label := 1)",
        "__builtins__",
    ],
)
def test_rejections(text: str) -> None:
    with pytest.raises(FilterError):
        parse_row_filter(text, COLUMNS)
