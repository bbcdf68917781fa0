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

from .. import limits
from ..errors import InvalidQuery, TmfError

OPERATORS = frozenset({"eq", "ne", "gt", "gte", "lt", "lte", "regex"})
RESERVED = frozenset({"fields", "offset", "limit", "sort"})
UNSUPPORTED = frozenset({"filter", "depth", "expand", "before", "after"})
_NAME = re.compile(r"^@?[A-Za-z_][\w\-]*$")
# bounds on the work one query string may ask for (a 400 beyond them) are ``limits.current``:
# filter parameters per request, OR values per attribute, characters of a pattern, fields entries
_MAX_NAME = 256  #: characters of an attribute path (no TMF attribute path comes near)
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
    if len(attribute) > _MAX_NAME:
        raise InvalidQuery(f"an attribute path is at most {_MAX_NAME} characters")
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
    if len(raw) > limits.current.pattern:
        raise InvalidQuery(f"{key}: a regular expression is limited to {limits.current.pattern} characters")
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
    bound = limits.current
    if len(params) > bound.filters:
        raise InvalidQuery(f"at most {bound.filters} filter parameters per request, got {len(params)}")
    for key, value in params:
        if "\x00" in key or "\x00" in value:  # no stored value holds one; a driver would refuse it
            raise InvalidQuery(f"{key[:40]!r}: a NUL character is not accepted in a query")
        attribute, op, raw = _split_key(key, value)
        path = _path(attribute, classify)
        if op in ("eq", "ne"):
            values = [v for v in re.split(r"[,;]", raw)] if raw else [""]
            if canonical is not None:
                values = [canonical(attribute, v) for v in values]
            if op == "eq":
                equal.setdefault(path, []).extend(values)
                if len(equal[path]) > bound.or_values:
                    raise InvalidQuery(f"{attribute}: at most {bound.or_values} values in one filter")
            else:
                if len(values) > bound.or_values:
                    raise InvalidQuery(f"{attribute}: at most {bound.or_values} values in one filter")
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


_MAX_INT = (1 << 62) - 1


def _int(name: str, value: str, low: int) -> int:
    try:
        number = int(value)
    except ValueError:
        raise InvalidQuery(f"{name} must be an integer, got {value[:20]!r}") from None
    if number < low or number > _MAX_INT:  # beyond a 63-bit integer no driver can take it
        raise InvalidQuery(f"{name} must be between {low} and {_MAX_INT}, got {value[:20]!r}")
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
            if len(fields) > limits.current.fields:
                raise InvalidQuery(f"fields: at most {limits.current.fields} attributes, got {len(fields)}")
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
                if len(sort) > limits.current.fields:
                    raise InvalidQuery(f"sort: at most {limits.current.fields} attributes")
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
