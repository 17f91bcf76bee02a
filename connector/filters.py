"""Subscription filters: validation when a hook is saved, matching when an event is routed.

A filter is a JSON object; every condition must hold. Keys are dotted paths into
the payload; a scalar means equals, a list means one of, an object holds
operators. Numeric operators compare numeric strings as numbers.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from . import catalog

OPERATORS = ("eq", "ne", "in", "gt", "gte", "lt", "lte", "contains", "exists")
PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+)*$")
_MISSING = object()


def validate(
    filters: Any, max_conditions: int = 50, *, max_depth: int = 8, max_values: int = 100, max_bytes: int = 16384
) -> dict[str, str]:
    """Problems with a filter object, keyed by where they are; empty when it is valid.

    The limits keep matching cheap on the ingest path: conditions per filter,
    segments per dotted path (depth), values per list, and the whole filter's
    size as compact JSON.
    """
    if not isinstance(filters, dict):
        return {"filters": "must be a JSON object of path: condition"}
    errors: dict[str, str] = {}
    if len(filters) > max_conditions:
        errors["filters"] = f"at most {max_conditions} conditions (CONNECTOR_MAX_FILTER_CONDITIONS)"
    elif _size(filters) > max_bytes:
        errors["filters"] = f"at most {max_bytes} bytes as compact JSON (CONNECTOR_MAX_FILTER_BYTES)"
    for path, condition in filters.items():
        where = f"filters.{path}"
        if not PATH.match(path) or len(path) > 200:
            errors[where] = f"malformed path {path!r}: use dotted field names such as 'form.content.size'"
        elif path.count(".") >= max_depth:
            errors[where] = f"at most {max_depth} levels in a path (CONNECTOR_MAX_FILTER_DEPTH)"
        elif _longest_list(condition) > max_values:
            errors[where] = f"at most {max_values} values in a list (CONNECTOR_MAX_FILTER_VALUES)"
        elif isinstance(condition, dict):
            errors.update(_validate_operators(where, condition))
        elif isinstance(condition, list):
            problem = _scalar_list_problem(condition)
            if problem:
                errors[where] = problem
        elif not _is_scalar(condition):
            errors[where] = "must be a value, a list of values or an object of operators"
    return errors


def _size(filters: dict[str, Any]) -> int:
    try:
        return len(json.dumps(filters, ensure_ascii=False, separators=(",", ":")).encode())
    except (TypeError, ValueError):
        return 0  # not JSON at all: the checks below name what is wrong


def _longest_list(condition: Any) -> int:
    if isinstance(condition, list):
        return len(condition)
    if isinstance(condition, dict):
        return max((len(v) for v in condition.values() if isinstance(v, list)), default=0)
    return 0


def _validate_operators(where: str, condition: dict[str, Any]) -> dict[str, str]:
    if not condition:
        return {where: f"an operator object needs at least one of {', '.join(OPERATORS)}"}
    errors = {}
    for op, operand in condition.items():
        at = f"{where}.{op}"
        if op not in OPERATORS:
            errors[at] = f"unknown operator {op!r}: use one of {', '.join(OPERATORS)}"
        elif op == "in":
            problem = _scalar_list_problem(operand)
            if problem:
                errors[at] = problem
        elif op == "exists":
            if not isinstance(operand, bool):
                errors[at] = "must be true or false"
        elif op in ("gt", "gte", "lt", "lte"):
            if isinstance(operand, bool) or not isinstance(operand, (int, float, str)):
                errors[at] = "must be a number or a string"
        elif not _is_scalar(operand):
            errors[at] = "must be a single value"
    return errors


def _scalar_list_problem(values: Any) -> str | None:
    if not isinstance(values, list) or not values:
        return "must be a non-empty list of values"
    if not all(_is_scalar(v) for v in values):
        return "a list may hold only strings, numbers, booleans or null"
    return None


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


def matches(filters: dict[str, Any], payload: dict[str, Any]) -> bool:
    """Whether every condition of a (validated) filter holds for a payload."""
    for path, condition in filters.items():
        value = _resolve(payload, path)
        if isinstance(condition, dict):
            if not all(_apply(op, value, operand) for op, operand in condition.items()):
                return False
        elif isinstance(condition, list):
            if not _apply("in", value, condition):
                return False
        elif not _apply("eq", value, condition):
            return False
    return True


def _resolve(payload: Any, path: str) -> Any:
    value = payload
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return _MISSING
        value = value[part]
    return value


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float, str)):
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            return None
        return number if number.is_finite() else None
    return None


def _equal(value: Any, operand: Any) -> bool:
    if isinstance(value, bool) or isinstance(operand, bool):
        return value is operand
    a, b = _number(value), _number(operand)
    if a is not None and b is not None:
        return a == b
    return value == operand


def _apply(op: str, value: Any, operand: Any) -> bool:
    if op == "exists":
        return (value is not _MISSING and value is not None) is operand
    if op == "ne":
        return value is _MISSING or not _equal(value, operand)
    if value is _MISSING:
        return False
    if op == "eq":
        return _equal(value, operand)
    if op == "in":
        return any(_equal(value, o) for o in operand)
    if op == "contains":
        if isinstance(value, str) and isinstance(operand, str):
            return operand.casefold() in value.casefold()
        return isinstance(value, list) and any(_equal(v, operand) for v in value)
    return _compare(op, value, operand)


def _compare(op: str, value: Any, operand: Any) -> bool:
    a, b = _number(value), _number(operand)
    if a is None or b is None:
        if not (isinstance(value, str) and isinstance(operand, str)):
            return False
        a, b = value, operand  # ISO dates and times compare as strings
    if op == "gt":
        return a > b
    if op == "gte":
        return a >= b
    if op == "lt":
        return a < b
    return a <= b


def from_inputs(trigger_key: str, inputs: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Turn the catalog's filter inputs (as Zapier or Make send them) into a filter object.

    Blank values mean "no filter", as Zapier sends them for fields left empty.
    """
    offered = catalog.TRIGGERS[trigger_key].filters
    filters: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for key, raw in inputs.items():
        where = f"filter_inputs.{key}"
        if key not in offered:
            errors[where] = f"not a filter of {trigger_key}: use one of {', '.join(offered) or 'none'}"
            continue
        spec = catalog.FILTER_INPUTS[key]
        values = [v for v in (raw if isinstance(raw, list) else [raw]) if v not in (None, "")]
        if not values:
            continue
        converted = [_convert(spec.type, v) for v in values]
        if any(c is None for c in converted):
            errors[where] = f"must be {'a list of ' if spec.operator == 'in' else ''}{spec.type} values"
            continue
        if spec.operator == "in":
            if spec.choices:
                allowed = catalog.choices(spec.choices, trigger_key)
                unknown = [c for c in converted if c not in allowed]
                if unknown:
                    errors[where] = f"unknown {spec.choices} {unknown[0]!r}: use one of {', '.join(map(str, allowed))}"
                    continue
            filters[spec.path] = {"in": converted}
        elif len(converted) > 1:
            errors[where] = "takes a single value"
        else:
            filters[spec.path] = converted[0] if spec.operator == "eq" else {spec.operator: converted[0]}
    return filters, errors


def _convert(type_: str, value: Any) -> Any:
    if type_ == "string":
        return value if isinstance(value, str) else (str(value) if _is_scalar(value) and not isinstance(value, bool) else None)
    number = _number(value)
    if number is None:
        return None
    if type_ == "integer":
        return int(number) if number == number.to_integral_value() else None
    return int(number) if number == number.to_integral_value() else float(number)
