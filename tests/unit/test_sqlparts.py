"""The SQL fragments both backends build on (``store/sqlparts.py``), run on SQLite with the real
schema and compared with the same conditions evaluated in Python: filters on indexed columns and
reference paths, sort orders with missing values, pages, counts by counter or by rows, the
counter deltas of a batch of writes, and PostgreSQL's numbered placeholders."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tmfstack.store.base import COUNTED, REF, Indexed, SqlCond
from tmfstack.store.schema import MIGRATIONS, SQLITE, statements
from tmfstack.store.sqlparts import count_plan, counter_changes, order_sql, page_sql, scan_window, where_sql

KIND = "tmf620.productOffering"
STATUSES = ["Active", "Launched", "Retired", None]
TYPES = ["ProductOffering", "BundledOffering", None]
NAMES = ["a", "b", "c", None]
DATES = ["2026-01-01", "2026-06-01", "2027-01-01", None]
REFS = ["c1", "c2", "c3"]


def _rows() -> Iterator[dict[str, Any]]:
    n = 0
    for status in STATUSES:
        for type_ in TYPES:
            for name in NAMES:
                n += 1
                yield {
                    "id": f"id{n:03d}",
                    "name": name,
                    "status": status,
                    "type": type_,
                    "last_update": DATES[n % len(DATES)],
                    "refs": {REFS[n % 3], REFS[(n * 7) % 3]},
                }


ROWS = list(_rows())


@pytest.fixture(scope="module")
def db() -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(":memory:")
    for migration in MIGRATIONS:
        for stmt in statements(migration, SQLITE):
            conn.execute(stmt)
    for row in ROWS:
        cur = conn.execute(
            "INSERT INTO resource (kind, id, version, name, status, last_update, type, doc) VALUES (?,?,1,?,?,?,?,?)",
            (KIND, row["id"], row["name"], row["status"], row["last_update"], row["type"], row["id"].encode()),
        )
        for value in row["refs"]:
            conn.execute(
                "INSERT INTO resource_ref (kind, seq, path, value) VALUES (?,?,?,?)",
                (KIND, cur.lastrowid, "category.id", value),
            )
    # another kind, which no query of KIND may see
    conn.execute("INSERT INTO resource (kind, id, version, status, doc) VALUES ('x.y', 'id001', 1, 'Active', x'00')")
    yield conn
    conn.close()


def _holds(row: dict[str, Any], cond: SqlCond) -> bool:
    if cond.column.startswith(REF):
        return bool(row["refs"] & set(cond.values))
    value = row[cond.column]
    if cond.op == "eq":
        return value in cond.values
    if cond.op == "ne":
        return value is not None and value not in cond.values
    if value is None:
        return False
    wanted = cond.values[0]
    return {"gt": value > wanted, "gte": value >= wanted, "lt": value < wanted, "lte": value <= wanted}[cond.op]


COLUMN_VALUES = {"status": STATUSES[:3], "type": TYPES[:2], "name": NAMES[:3], "last_update": DATES[:3]}
conds = st.one_of(
    st.builds(
        lambda column, op, values: SqlCond(column, op, tuple(values[:1]) if op not in ("eq", "ne") else tuple(values)),
        st.sampled_from(sorted(COLUMN_VALUES)),
        st.sampled_from(["eq", "ne", "gt", "gte", "lt", "lte"]),
        st.lists(st.sampled_from(["a", "b", "Active", "Retired", "ProductOffering", "2026-06-01"]), min_size=1),
    ),
    st.builds(
        lambda values: SqlCond(REF + "category.id", "eq", tuple(values)),
        st.lists(st.sampled_from([*REFS, "c9"]), min_size=1, max_size=3),
    ),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(conds, max_size=3))
def test_where_selects_what_the_conditions_say(db: sqlite3.Connection, wanted: list[SqlCond]) -> None:
    where, args = where_sql(KIND, wanted, "?")
    found = {r[0] for r in db.execute(f"SELECT id FROM resource WHERE {where}", args)}
    assert found == {row["id"] for row in ROWS if all(_holds(row, c) for c in wanted)}


@settings(max_examples=100, deadline=None)
@given(st.lists(conds, max_size=2), st.integers(0, 40), st.integers(1, 20))
def test_a_page_is_the_window_of_every_match_in_insertion_order(
    db: sqlite3.Connection, wanted: list[SqlCond], offset: int, limit: int
) -> None:
    sql, args = page_sql(KIND, wanted, [], offset, limit, "?", nulls=False)
    page = [r[0].decode() for r in db.execute(sql, args)]
    matches = [row["id"] for row in ROWS if all(_holds(row, c) for c in wanted)]  # ROWS are in insertion order
    assert page == matches[offset : offset + limit]


@pytest.mark.parametrize("column", sorted(COLUMN_VALUES))
@pytest.mark.parametrize("desc", [False, True])
def test_missing_values_sort_first_ascending_and_last_descending(
    db: sqlite3.Connection, column: str, desc: bool
) -> None:
    sql, args = page_sql(KIND, [], [(column, desc)], 0, 1000, "?", nulls=False)
    got = [r[0].decode() for r in db.execute(sql, args)]
    present = sorted((row for row in ROWS if row[column] is not None), key=lambda r: r[column], reverse=desc)
    missing = [row for row in ROWS if row[column] is None]
    expected = [*missing, *present] if not desc else [*present, *missing]
    # ties keep insertion order (seq), which a stable sort of ROWS reproduces
    assert got == [row["id"] for row in expected]


def test_postgres_order_names_the_null_placement() -> None:
    assert order_sql([("name", False), ("status", True)], nulls=True) == (
        "name ASC NULLS FIRST, status DESC NULLS LAST, seq ASC"
    )
    with pytest.raises(ValueError):
        order_sql([("doc", False)], nulls=False)  # only indexed columns are sortable in SQL


@pytest.mark.parametrize(
    "wanted",
    [
        [],
        [SqlCond("status", "eq", ("Active", "Retired", "Active"))],
        [SqlCond("type", "eq", ("ProductOffering",))],
        [SqlCond(REF + "category.id", "eq", ("c1", "c2"))],
        [SqlCond(REF + "category.id", "eq", ("c3",))],
        [SqlCond("status", "eq", ("Active",)), SqlCond("name", "ne", ("a",))],
    ],
)
def test_a_count_plan_counts_exactly(db: sqlite3.Connection, wanted: list[SqlCond]) -> None:
    db.execute("DELETE FROM resource_count")
    for facet, value, n in counter_changes([(_indexed(row), 1) for row in ROWS]):
        db.execute("INSERT INTO resource_count (kind, facet, value, n) VALUES (?,?,?,?)", (KIND, facet, value, n))
    sql, args = count_plan(KIND, wanted, "?")
    total = sum(r[0] for r in db.execute(sql, args))
    assert total == sum(1 for row in ROWS if all(_holds(row, c) for c in wanted))


def _indexed(row: dict[str, Any]) -> Indexed:
    return Indexed(row["name"], row["status"], row["last_update"], row["type"], ())


def test_counter_changes_are_net_sorted_and_skip_zeros() -> None:
    before = Indexed("n", "Active", None, "A", ((COUNTED + "partner", "p1"), ("category.id", "c1")))
    after = Indexed("n", "Retired", None, "A", ((COUNTED + "partner", "p1"),))
    changes = counter_changes([(before, -1), (after, 1)])
    assert changes == [("status", "Active", -1), ("status", "Retired", 1)]  # type and partner unchanged: no row
    created = counter_changes([(after, 1)])
    assert created == sorted(created) and ("", "", 1) in created and (COUNTED + "partner", "p1", 1) in created
    assert ("category.id", "c1", 1) not in counter_changes([(before, 1)])  # uncounted paths are not counted


@given(st.lists(st.sampled_from(list(COLUMN_VALUES)), max_size=3), st.integers(1, 5))
def test_numbered_placeholders_match_their_arguments(columns: list[str], start: int) -> None:
    wanted = [SqlCond(c, "eq", ("v1", "v2")) for c in columns] + [SqlCond(REF + "a.id", "eq", ("x",))]
    where, args = where_sql(KIND, wanted, "$", start=start)
    marks = [int(m) for m in re.findall(r"\$(\d+)", where)]
    assert marks == list(range(start, start + len(args)))


def test_unknown_columns_and_ranges_on_references_are_refused() -> None:
    with pytest.raises(ValueError):
        where_sql(KIND, [SqlCond("doc", "eq", ("x",))], "?")
    with pytest.raises(ValueError):
        where_sql(KIND, [SqlCond(REF + "a.id", "gt", ("x",))], "?")


@pytest.mark.parametrize(
    ("sizes", "budget", "upto"),
    [
        ([(1, 10), (2, 10), (3, 10)], 25, 2),
        ([(1, 10), (2, 10), (3, 10)], 30, 3),
        ([(5, 100), (6, 1)], 10, 5),  # one row bigger than the budget still makes a batch
        ([(1, None), (2, 5)], 5, 2),  # a row of unknown size counts as 0
    ],
)
def test_a_scan_batch_ends_where_the_byte_budget_does(sizes: list[tuple[int, Any]], budget: int, upto: int) -> None:
    assert scan_window(sizes, budget) == upto
