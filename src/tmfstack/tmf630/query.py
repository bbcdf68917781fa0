"""Parse a TMF630 query string into a ``Query``.

    parse_query([("lifecycleStatus", "Active,Launched"), ("lastUpdate.gt", "2025-01-01"),
                 ("fields", "name"), ("sort", "-lastUpdate"), ("limit", "20")])
    -> Query(conditions=(eq lifecycleStatus ['Active','Launched'], gt lastUpdate ['2025-01-01']),
             fields={'name'}, sort=((('lastUpdate',), True),), offset=0, limit=20)

Filter forms accepted: ``a=v`` (equality; ``a=v1,v2`` and repeated ``a`` are OR),
``a.gt|gte|lt|lte|eq=v``, ``a.ne=v`` (extension: has ``a`` and no value equal),
``a.regex=re`` and ``a*=re`` (regular expression, searched), ``a>=v`` / ``a<=v``
(operator inside the name), ``a>v`` / ``a<v`` (a key without ``=``). Nested
attributes use dots and match when any array element matches. Different
parameters are ANDed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import re2

from ..errors import InvalidQuery, TmfError

OPERATORS = frozenset({"eq", "ne", "gt", "gte", "lt", "lte", "regex"})
RESERVED = frozenset({"fields", "offset", "limit", "sort"})
UNSUPPORTED = frozenset({"filter", "depth", "expand", "before", "after"})
_NAME = re.compile(r"^@?[A-Za-z_][\w\-]*$")
#: bounds on the work one query string may ask for (a 400 beyond them)
MAX_FILTERS = 20  #: filter parameters in one request
MAX_VALUES = 100  #: OR values of one attribute
MAX_PATTERN = 256  #: characters of a regular expression
_RE2 = re2.Options()
_RE2.log_errors, _RE2.never_capture, _RE2.max_mem = False, True, 1 << 20


class NotImplementedQuery(TmfError):
    status, code, reason = 501, "NOT_IMPLEMENTED", "Query feature not implemented"


@dataclass(frozen=True)
class Condition:
    path: tuple[str, ...]
    op: str
    values: tuple[str, ...]
    #: a compiled RE2 expression (``search``): linear time in the text, whatever the pattern
    pattern: Any = None

    @property
    def attribute(self) -> str:
        return ".".join(self.path)


@dataclass(frozen=True)
class Query:
    conditions: tuple[Condition, ...] = ()
    fields: frozenset[str] | None = None
    sort: tuple[tuple[tuple[str, ...], bool], ...] = ()
    offset: int = 0
    limit: int = 100
    limit_given: bool = False


#: classify(path) -> "scalar" | "object" | "unknown" | "invalid"; see Contract.path_kind
Classifier = Callable[[list[str]], str]
#: canonical(attribute, value) -> value as stored (e.g. lifecycle casing)
Canonical = Callable[[str, str], str]


def _split_key(key: str, value: str) -> tuple[str, str, str]:
    """Return (attribute, operator, value) for one query parameter."""
    if not value and ("<" in key or ">" in key):
        m = re.match(r"^(.+?)(>=|<=|>|<)(.+)$", key)
        if m:
            return m.group(1), {">": "gt", "<": "lt", ">=": "gte", "<=": "lte"}[m.group(2)], m.group(3)
    if key.endswith(">") or key.endswith("<"):
        return key[:-1], "gte" if key.endswith(">") else "lte", value
    if key.endswith("*"):
        return key[:-1], "regex", value
    attribute, _, last = key.rpartition(".")
    if attribute and last in OPERATORS:
        return attribute, last, value
    return key, "eq", value


def _path(attribute: str, classify: Classifier | None) -> tuple[str, ...]:
    parts = attribute.split(".")
    if not all(_NAME.match(p) for p in parts):
        raise InvalidQuery(f"{attribute!r} is not a valid attribute name")
    if classify is not None and classify(parts) == "invalid":
        head, _, tail = attribute.rpartition(".")
        raise InvalidQuery(
            f"{tail!r} is neither an attribute of {head!r} nor an operator (operators: {', '.join(sorted(OPERATORS))})"
        )
    return tuple(parts)


def compile_pattern(key: str, raw: str) -> Any:
    """A regular expression for RE2, which guarantees linear-time matching (no backtracking):
    back-references and look-arounds, which need backtracking, are refused with a 400."""
    if len(raw) > MAX_PATTERN:
        raise InvalidQuery(f"{key}: a regular expression is limited to {MAX_PATTERN} characters")
    try:
        return re2.compile(raw, _RE2)
    except re2.error as exc:
        reason = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        raise InvalidQuery(f"{key}: regular expression not supported ({reason})") from None


def parse_filters(
    params: Iterable[tuple[str, str]],
    classify: Classifier | None = None,
    canonical: Canonical | None = None,
) -> tuple[Condition, ...]:
    equal: dict[tuple[str, ...], list[str]] = {}
    others: list[Condition] = []
    params = list(params)
    if len(params) > MAX_FILTERS:
        raise InvalidQuery(f"at most {MAX_FILTERS} filter parameters per request, got {len(params)}")
    for key, value in params:
        attribute, op, raw = _split_key(key, value)
        path = _path(attribute, classify)
        if op in ("eq", "ne"):
            values = [v for v in re.split(r"[,;]", raw)] if raw else [""]
            if canonical is not None:
                values = [canonical(attribute, v) for v in values]
            if op == "eq":
                equal.setdefault(path, []).extend(values)
                if len(equal[path]) > MAX_VALUES:
                    raise InvalidQuery(f"{attribute}: at most {MAX_VALUES} values in one filter")
            else:
                if len(values) > MAX_VALUES:
                    raise InvalidQuery(f"{attribute}: at most {MAX_VALUES} values in one filter")
                others.append(Condition(path, op, tuple(values)))
            continue
        if raw == "":
            raise InvalidQuery(f"{key}: the {op} operator needs a value")
        if op == "regex":
            others.append(Condition(path, op, (raw,), compile_pattern(key, raw)))
        else:
            if canonical is not None:
                raw = canonical(attribute, raw)
            others.append(Condition(path, op, (raw,)))
    conds = [Condition(path, "eq", tuple(values)) for path, values in equal.items()]
    return tuple(conds + others)


def _int(name: str, value: str, low: int) -> int:
    try:
        number = int(value)
    except ValueError:
        raise InvalidQuery(f"{name} must be an integer, got {value!r}") from None
    if number < low:
        raise InvalidQuery(f"{name} must be at least {low}, got {number}")
    return number


def parse_query(
    params: Iterable[tuple[str, str]],
    *,
    default_limit: int = 100,
    max_limit: int = 1000,
    classify: Classifier | None = None,
    canonical: Canonical | None = None,
) -> Query:
    fields: frozenset[str] | None = None
    sort: list[tuple[tuple[str, ...], bool]] = []
    offset, limit, limit_given = 0, default_limit, False
    filters: list[tuple[str, str]] = []
    for key, value in params:
        if key == "fields":
            names = {f.strip().split(".")[0] for f in value.split(",") if f.strip()}
            fields = (fields or frozenset()) | frozenset(names - {"none"})
        elif key == "offset":
            offset = _int("offset", value, 0)
        elif key == "limit":
            limit, limit_given = _int("limit", value, 1), True
            if limit > max_limit:
                raise InvalidQuery(f"limit must be at most {max_limit}, got {limit}")
        elif key == "sort":
            for item in value.split(","):
                item = item.strip()
                if not item:
                    continue
                desc = item.startswith("-")
                sort.append((_path(item.lstrip("+-"), classify), desc))
        elif key in UNSUPPORTED:
            raise NotImplementedQuery(f"the {key!r} query parameter is not supported by this server")
        else:
            filters.append((key, value))
    return Query(
        conditions=parse_filters(filters, classify, canonical),
        fields=fields,
        sort=tuple(sort),
        offset=offset,
        limit=limit,
        limit_given=limit_given,
    )
