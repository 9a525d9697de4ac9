"""A row filter the user types (`label == 1 and len(text) > 20`), parsed with `ast` against a strict whitelist.

Nothing is ever passed to `eval`: the expression is checked node by node and then walked by a small
interpreter, so only column reads, literals, comparisons, boolean logic, arithmetic and a handful of
named functions can run.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any


class FilterError(ValueError):
    """A filter that cannot be used; the message says what is wrong in plain words."""


def _contains(value: Any, part: Any) -> bool:
    return part in value


def _startswith(value: Any, prefix: Any) -> bool:
    return str(value).startswith(prefix)


def _lower(value: Any) -> str:
    return str(value).lower()


def _upper(value: Any) -> str:
    return str(value).upper()


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "len": len,
    "lower": _lower,
    "upper": _upper,
    "abs": abs,
    "str": str,
    "int": int,
    "float": float,
    "contains": _contains,
    "startswith": _startswith,
}

_COMPARISONS: dict[type[ast.cmpop], Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.In: lambda left, right: left in right,
    ast.NotIn: lambda left, right: left not in right,
}
_ARITHMETIC: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Mod: operator.mod,
}
_CONSTANT_NAMES = {"True": True, "False": False, "None": None}
# Errors a well-formed filter can still hit on an odd row (None, a list where a number was expected, ...).
_ROW_ERRORS = (TypeError, ValueError, ZeroDivisionError, AttributeError, KeyError, OverflowError)


@dataclass(frozen=True)
class RowFilter:
    """A checked filter expression; calling it with a row says whether the row matches."""

    text: str
    columns: tuple[str, ...]
    _tree: ast.expr = field(repr=False, compare=False, default_factory=lambda: ast.Constant(True))

    def __call__(self, row: dict[str, Any]) -> bool:
        """True when the row matches; a row the expression cannot be evaluated on does not match."""
        try:
            return bool(_evaluate(self._tree, row))
        except _ROW_ERRORS:
            return False


def parse_row_filter(text: str, columns: Sequence[str]) -> RowFilter:
    """Parse and check `text` against the known `columns`; raises FilterError for anything not allowed."""
    source = text.strip()
    if not source:
        raise FilterError("the filter is empty")
    try:
        tree = ast.parse(source, mode="eval").body
    except SyntaxError as error:
        raise FilterError(f"not a valid filter: {error.msg} (at column {error.offset or 0})") from None
    named: list[str] = []
    _check(tree, tuple(columns), named)
    return RowFilter(text=source, columns=tuple(dict.fromkeys(named)), _tree=tree)


def _unknown_column(name: str, columns: tuple[str, ...]) -> FilterError:
    known = ", ".join(columns) if columns else "(none)"
    return FilterError(f"no column named {name!r}; columns are: {known}")


def _row_key(node: ast.Subscript) -> str | None:
    """The column of a `row["name"]` read, or None when the subscript has any other shape."""
    if isinstance(node.value, ast.Name) and node.value.id == "row":
        key = node.slice
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            return key.value
    return None


def _check(node: ast.AST, columns: tuple[str, ...], named: list[str]) -> None:
    """Raise FilterError unless every node is on the whitelist; collect the columns read."""
    if isinstance(node, ast.Constant):
        if node.value is not None and not isinstance(node.value, str | int | float | bool):
            raise FilterError(f"unsupported literal {node.value!r}")
        return
    if isinstance(node, ast.Name):
        if node.id.startswith("__"):
            raise FilterError(f"names like {node.id!r} are not allowed")
        if node.id in _CONSTANT_NAMES:
            return
        if node.id not in columns:
            if node.id in FUNCTIONS:
                raise FilterError(f"{node.id!r} is a function; call it like {node.id}(column)")
            raise _unknown_column(node.id, columns)
        named.append(node.id)
        return
    if isinstance(node, ast.Subscript):
        key = _row_key(node)
        if key is None:
            raise FilterError('only row["column name"] may use square brackets')
        if key not in columns:
            raise _unknown_column(key, columns)
        named.append(key)
        return
    if isinstance(node, ast.Tuple | ast.List):
        for item in node.elts:
            _check(item, columns, named)
        return
    if isinstance(node, ast.BoolOp):
        for value in node.values:
            _check(value, columns, named)
        return
    if isinstance(node, ast.UnaryOp):
        if not isinstance(node.op, ast.Not | ast.USub | ast.UAdd):
            raise FilterError("only 'not', '-' and '+' may stand before a value")
        _check(node.operand, columns, named)
        return
    if isinstance(node, ast.BinOp):
        if type(node.op) not in _ARITHMETIC:
            raise FilterError("only + - * / % arithmetic is allowed")
        _check(node.left, columns, named)
        _check(node.right, columns, named)
        return
    if isinstance(node, ast.Compare):
        for op in node.ops:
            if type(op) not in _COMPARISONS:
                raise FilterError("only == != < <= > >= in and not in comparisons are allowed")
        _check(node.left, columns, named)
        for comparator in node.comparators:
            _check(comparator, columns, named)
        return
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            allowed = ", ".join(FUNCTIONS)
            raise FilterError(f"only these functions may be called: {allowed}")
        if node.keywords:
            raise FilterError(f"{node.func.id}() takes no keyword arguments")
        for argument in node.args:
            if isinstance(argument, ast.Starred):
                raise FilterError("'*' arguments are not allowed")
            _check(argument, columns, named)
        return
    if isinstance(node, ast.Attribute):
        raise FilterError(f"attribute access ('.{node.attr}') is not allowed; use lower(x), contains(x, 'y') ...")
    raise FilterError(f"{type(node).__name__.lower()} expressions are not allowed in a filter")


def _evaluate(node: ast.expr, row: dict[str, Any]) -> Any:
    """Evaluate a checked tree on one row."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        if node.id in _CONSTANT_NAMES:
            return _CONSTANT_NAMES[node.id]
        return row[node.id]
    if isinstance(node, ast.Subscript):
        return row[_row_key(node)]  # type: ignore[index]
    if isinstance(node, ast.Tuple | ast.List):
        return tuple(_evaluate(item, row) for item in node.elts)
    if isinstance(node, ast.BoolOp):
        if isinstance(node.op, ast.And):
            return all(_evaluate(value, row) for value in node.values)
        return any(_evaluate(value, row) for value in node.values)
    if isinstance(node, ast.UnaryOp):
        operand = _evaluate(node.operand, row)
        if isinstance(node.op, ast.Not):
            return not operand
        return -operand if isinstance(node.op, ast.USub) else +operand
    if isinstance(node, ast.BinOp):
        return _ARITHMETIC[type(node.op)](_evaluate(node.left, row), _evaluate(node.right, row))
    if isinstance(node, ast.Compare):
        left = _evaluate(node.left, row)
        for op, comparator in zip(node.ops, node.comparators, strict=True):
            right = _evaluate(comparator, row)
            if not _COMPARISONS[type(op)](left, right):
                return False
            left = right
        return True
    if isinstance(node, ast.Call):
        function = FUNCTIONS[node.func.id]  # type: ignore[attr-defined]
        return function(*(_evaluate(argument, row) for argument in node.args))
    raise FilterError(f"{type(node).__name__} cannot be evaluated")  # unreachable after _check
