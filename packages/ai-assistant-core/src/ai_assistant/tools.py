"""The assistant's built-in tools.

They are small but real: a model that calls them gets a real answer, and
every provider sees the tool runs through LangChain's tool events.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable
from datetime import datetime
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from langchain_core.tools import BaseTool, tool

__all__ = ["builtin_tools", "calculator", "current_time"]

_OPERATORS: Final[dict[type, Callable[..., float]]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
}
_MAX_DIGITS: Final = 1000


def _evaluate(node: ast.AST) -> float:
    if isinstance(node, ast.Expression):
        return _evaluate(node.body)
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return _bounded(node.value)
    if isinstance(node, ast.UnaryOp) and type(node.op) in _OPERATORS:
        return _bounded(_OPERATORS[type(node.op)](_evaluate(node.operand)))
    if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
        left, right = _evaluate(node.left), _evaluate(node.right)
        if isinstance(node.op, ast.Pow):
            _check_power(left, right)
        return _bounded(_OPERATORS[type(node.op)](left, right))
    raise ValueError("only numbers and + - * / // % ** ( ) are allowed")


def _check_power(base: float, exponent: float) -> None:
    # Estimate the result's size before computing it: 10**400**400 must not
    # run for minutes.
    if abs(base) > 1 and abs(exponent) * math.log10(abs(base)) > _MAX_DIGITS:
        raise ValueError(f"result would have more than {_MAX_DIGITS} digits")


def _bounded(value: object) -> float:
    if isinstance(value, complex):
        raise ValueError("the result is not a real number")
    if isinstance(value, int) and value.bit_length() > _MAX_DIGITS * 3.33:
        raise ValueError(f"result has more than {_MAX_DIGITS} digits")
    assert isinstance(value, int | float)
    return value


@tool
def calculator(expression: str) -> str:
    """Evaluate an arithmetic expression such as '(2 + 3) * 4.5'."""
    try:
        value = _evaluate(ast.parse(expression, mode="eval"))
        if isinstance(value, int):
            return str(value)
        return str(int(value)) if value.is_integer() else repr(value)
    except (SyntaxError, ValueError, ArithmeticError, TypeError) as error:
        return f"error: {error}"


@tool
def current_time(timezone: str = "UTC") -> str:
    """Return the current date and time in an IANA timezone such as 'Europe/Paris'."""
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return f"error: unknown timezone {timezone!r}"
    return datetime.now(zone).isoformat(timespec="seconds")


def builtin_tools() -> list[BaseTool]:
    """Return the tools every assistant gets unless told otherwise."""
    return [calculator, current_time]
