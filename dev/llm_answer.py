"""The LLM stand-in's deterministic "model": arithmetic ("847293 + 651824" -> "1499117"), else
an acknowledgement of what it was told; chat envelopes are stripped first. No I/O."""

from __future__ import annotations

import ast
import operator
import re
from collections.abc import Callable
from typing import Any

_BINARY_OPS: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_MAX_EXPONENT = 64
_MAX_MAGNITUDE = 10**60
# A run of numbers joined by operators, e.g. "847293 + 651824", "(2+3)*4", "12 x 7".
_TIMES, _DIVIDE = "\u00d7", "\u00f7"  # the multiplication and division signs people type
_EXPRESSION = re.compile(
    r"[(\s]*-?\d+(?:\.\d+)?[)\s]*(?:(?:\*\*|[-+*/%x^"
    + _TIMES
    + _DIVIDE
    + r"])[(\s]*-?\d+(?:\.\d+)?[)\s]*)+"
)
# Envelopes chat front-ends put before the user's words, e.g. "[Sun 2026-11-22 02:30 UTC] ".
_ENVELOPE = re.compile(r"^\s*\[[^\]\n]{0,120}\]\s*")
# Older OpenClaw (2026.2, the moltworker era) appends "\n[message_id: <uuid>]" to webchat turns.
_TRAILING_ID = re.compile(r"\s*\[message_id: [^\]\n]{1,120}\]\s*$")
_DATE_LIKE = re.compile(r"^\s*\d{4}-\d{2}-\d{2}")


class _Unsafe(ValueError):
    pass


def _evaluate(node: ast.AST) -> int | float:
    if isinstance(node, ast.Expression):
        return _evaluate(node.body)
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        if isinstance(node.value, bool):
            raise _Unsafe("booleans are not numbers here")
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        inner = _evaluate(node.operand)
        return -inner if isinstance(node.op, ast.USub) else inner
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY_OPS:
        left, right = _evaluate(node.left), _evaluate(node.right)
        if isinstance(node.op, ast.Pow) and abs(right) > _MAX_EXPONENT:
            raise _Unsafe("exponent too large")
        result: int | float = _BINARY_OPS[type(node.op)](left, right)
        if abs(result) > _MAX_MAGNITUDE:
            raise _Unsafe("result too large")
        return result
    raise _Unsafe(f"unsupported expression element {type(node).__name__}")


def _format_number(value: int | float) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, float):
        return f"{value:.10g}"
    return str(value)


def evaluate_arithmetic(text: str) -> str | None:
    """The value of the last arithmetic expression in `text`, or None if there is none."""
    found: str | None = None
    for match in _EXPRESSION.finditer(text):
        candidate = match.group(0).strip()
        if _DATE_LIKE.match(candidate):
            continue
        source = candidate.replace(_TIMES, "*").replace(_DIVIDE, "/").replace("x", "*")
        source = source.replace("^", "**")
        try:
            found = _format_number(_evaluate(ast.parse(source, mode="eval")))
        except (SyntaxError, _Unsafe, ZeroDivisionError, OverflowError, ValueError):
            continue
    return found


def strip_envelope(text: str) -> str:
    """Drop leading bracketed envelopes (timestamps, channel tags) before the user's words."""
    previous = None
    while previous != text:
        previous, text = text, _ENVELOPE.sub("", text, count=1)
    text = _TRAILING_ID.sub("", text)
    return text.strip()


def answer(user_text: str) -> str:
    """The stand-in's whole intelligence: arithmetic, else a deterministic acknowledgement."""
    text = strip_envelope(user_text)
    result = evaluate_arithmetic(text)
    if result is not None:
        return result
    shown = " ".join(text.split())
    if len(shown) > 200:
        shown = shown[:197] + "..."
    return f"Stand-in model here (no real LLM configured). You said: {shown}" if shown else "OK"
