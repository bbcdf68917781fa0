"""The TMF630 parser on its own: every accepted form, every refused one."""

from __future__ import annotations

import pytest

from tmfstack.errors import InvalidQuery
from tmfstack.tmf630 import Condition, parse_query
from tmfstack.tmf630.query import NotImplementedQuery

Parsed = list[tuple[tuple[str, ...], str, tuple[str, ...]]]


def conds(*params: tuple[str, str]) -> Parsed:
    return [(c.path, c.op, c.values) for c in parse_query(list(params)).conditions]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ([("name", "a")], [(("name",), "eq", ("a",))]),
        ([("name", "a,b")], [(("name",), "eq", ("a", "b"))]),
        ([("name", "a"), ("name", "b")], [(("name",), "eq", ("a", "b"))]),
        ([("name", "a;b")], [(("name",), "eq", ("a", "b"))]),
        ([("relatedParty.id", "7")], [(("relatedParty", "id"), "eq", ("7",))]),
        ([("lastUpdate.gt", "2025")], [(("lastUpdate",), "gt", ("2025",))]),
        ([("lastUpdate.gte", "2025")], [(("lastUpdate",), "gte", ("2025",))]),
        ([("lastUpdate.lt", "2025")], [(("lastUpdate",), "lt", ("2025",))]),
        ([("lastUpdate.lte", "2025")], [(("lastUpdate",), "lte", ("2025",))]),
        ([("version.eq", "1")], [(("version",), "eq", ("1",))]),
        ([("version.ne", "1")], [(("version",), "ne", ("1",))]),
        ([("lastUpdate>", "2025")], [(("lastUpdate",), "gte", ("2025",))]),
        ([("lastUpdate<", "2025")], [(("lastUpdate",), "lte", ("2025",))]),
        ([("lastUpdate>2025", "")], [(("lastUpdate",), "gt", ("2025",))]),
        ([("lastUpdate<2025", "")], [(("lastUpdate",), "lt", ("2025",))]),
        ([("name*", "^Mo")], [(("name",), "regex", ("^Mo",))]),
        ([("name.regex", "^Mo")], [(("name",), "regex", ("^Mo",))]),
        ([("@type", "ProductOffering")], [(("@type",), "eq", ("ProductOffering",))]),
    ],
)
def test_filter_forms(params: list[tuple[str, str]], expected: Parsed) -> None:
    assert conds(*params) == expected


def test_paging_sort_fields() -> None:
    q = parse_query([("fields", "name,lifecycleStatus"), ("sort", "-lastUpdate,name"), ("offset", "5"), ("limit", "7")])
    assert q.fields == frozenset({"name", "lifecycleStatus"})
    assert q.sort == ((("lastUpdate",), True), (("name",), False))
    assert (q.offset, q.limit, q.limit_given) == (5, 7, True)
    assert parse_query([("fields", "none")]).fields == frozenset()
    assert parse_query([], default_limit=42).limit == 42


@pytest.mark.parametrize(
    "params",
    [
        [("limit", "abc")],
        [("limit", "0")],
        [("limit", "1001")],
        [("offset", "-1")],
        [("offset", "1.5")],
        [("name.gt", "")],
        [("name*", "(")],
        [("na me", "x")],
        [("sort", "na me")],
    ],
)
def test_refused(params: list[tuple[str, str]]) -> None:
    with pytest.raises(InvalidQuery):
        parse_query(params, max_limit=1000)


def test_unknown_operator_needs_the_schema() -> None:
    # name is a string in the schema, so "name.foo" can only be a bad operator
    def classify(path: list[str]) -> str:
        return "invalid" if path[0] == "name" and len(path) > 1 else "unknown"

    with pytest.raises(InvalidQuery, match="'foo' is neither an attribute"):
        parse_query([("name.foo", "x")], classify=classify)
    assert parse_query([("channel.foo", "x")], classify=classify).conditions == (
        Condition(("channel", "foo"), "eq", ("x",)),
    )


@pytest.mark.parametrize("key", ["filter", "depth", "expand"])
def test_unsupported_features_are_501(key: str) -> None:
    with pytest.raises(NotImplementedQuery) as info:
        parse_query([(key, "x")])
    assert info.value.status == 501
