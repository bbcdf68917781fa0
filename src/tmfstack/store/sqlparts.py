"""SQL shared by the backends: WHERE clauses on indexed columns, ORDER BY, count plans, and the
delivery claim's statement, written once for both dialects (``claim_sql``).

Each dialect's own statements are named in ``sql_sqlite`` and ``sql_postgres``."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from .base import COLUMNS, COUNTED, REF, Indexed, SqlCond
from .faces import shown_column

_CMP = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}

#: what the dispatcher reads of a delivery (``Delivery``'s fields), from delivery d, event e, hub h
DELIVERY_COLS = (
    "d.id, d.hub_id, h.callback, e.event_id, e.event_type, e.payload, d.attempts, d.status, d.last_error,"
    " h.failures, h.secret, h.api"
)
#: a claim's condition on the hub's health: any (healthy first), failing lately only, healthy only
HEALTH = {None: "", True: " AND h.failures > 0", False: " AND h.failures = 0"}


def claim_sql(mark: str, lock: str) -> dict[bool | None, str]:
    """The delivery claim, per value of ``failing``: lease each subscription's head (its lowest-id
    pending delivery) when it is due and not leased, those of healthy hubs first, at most ``limit``;
    returns the leased ids. Only heads are candidates, so a later delivery of a hub never overtakes
    an earlier one. Parameters (numbered, ``mark`` being "?" or "$"): owner, lease end, now, limit.

    ``lock`` is how the dialect keeps concurrent claimers apart: nothing on SQLite (one writer at a
    time), ``FOR UPDATE OF d SKIP LOCKED`` on PostgreSQL (a head another process is claiming or
    finishing is skipped; one committed meanwhile is re-checked on its latest version, so a fresh
    lease or a finished delivery drops out).
    """
    return {
        failing: (
            f"UPDATE delivery SET lease_owner = {mark}1, lease_until = {mark}2 WHERE id IN ("
            " SELECT d.id FROM (SELECT MIN(id) AS id FROM delivery WHERE status = 'pending' GROUP BY hub_id) head"
            " JOIN delivery d ON d.id = head.id JOIN hub h ON h.id = d.hub_id"
            f" WHERE d.status = 'pending' AND d.next_attempt <= {mark}3"
            f" AND (d.lease_until IS NULL OR d.lease_until < {mark}3){health}"
            f" ORDER BY h.failures > 0, d.id LIMIT {mark}4{lock}) RETURNING id"
        )
        for failing, health in HEALTH.items()
    }


def _ph(style: str, n: int) -> str:
    return "?" if style == "?" else f"${n}"


def where_sql(
    kind: str, conds: Sequence[SqlCond], style: str, start: int = 1, collate: str = "", alias: str = ""
) -> tuple[str, list[Any]]:
    """``style`` is "?" (sqlite) or "$" (asyncpg numbered placeholders).

    ``collate`` (e.g. ``' COLLATE "C"'``) follows each column, to match the collation of the indexes;
    ``alias`` (e.g. ``"r."``) qualifies the resource table's columns.
    """
    args: list[Any] = [kind]
    parts = [f"{alias}kind = {_ph(style, start)}"]
    for cond in conds:
        if cond.column.startswith(REF):
            # a declared nested path: any of the row's indexed values equals one of the wanted ones
            args.append(kind)
            kind_mark = _ph(style, start + len(args) - 1)
            args.append(cond.column[len(REF) :])
            path_mark = _ph(style, start + len(args) - 1)
            marks = []
            for value in cond.values:
                args.append(value)
                marks.append(_ph(style, start + len(args) - 1))
            if cond.op != "eq":
                raise ValueError(f"only equality is indexed for {cond.column}")
            parts.append(
                f"{alias}seq IN (SELECT seq FROM resource_ref WHERE kind = {kind_mark} AND path = {path_mark}"
                f" AND value IN ({', '.join(marks)}))"
            )
            continue
        if cond.column not in COLUMNS:
            raise ValueError(cond.column)
        col = alias + cond.column + collate
        marks = []
        for value in cond.values:
            args.append(value)
            marks.append(_ph(style, start + len(args) - 1))
        if cond.op == "eq":
            parts.append(f"{col} IN ({', '.join(marks)})")
        elif cond.op == "ne":
            parts.append(f"({col} IS NOT NULL AND {col} NOT IN ({', '.join(marks)}))")
        else:
            parts.append(f"{col} {_CMP[cond.op]} {marks[0]}")
    return " AND ".join(parts), args


def task_listing(
    columns: str, queue: str | None, key: str | None, parked: bool | None, limit: int, style: str
) -> tuple[str, list[Any]]:
    """The operator's task listing: of ``queue``, of ``key``, only parked or only live ones."""
    where: list[str] = []
    args: list[Any] = []
    for column, value in (("queue", queue), ("key", key)):
        if value:
            args.append(value)
            where.append(f"{column}={_ph(style, len(args))}")
    if parked is not None:
        where.append("parked IS NOT NULL" if parked else "parked IS NULL")
    args.append(limit)
    sql = f"SELECT {columns} FROM task" + (" WHERE " + " AND ".join(where) if where else "")
    return sql + f" ORDER BY id LIMIT {_ph(style, len(args))}", args


def page_sql(
    kind: str,
    conds: Sequence[SqlCond],
    order: Sequence[tuple[str, bool]],
    offset: int,
    limit: int,
    style: str,
    nulls: bool,
    collate: str = "",
    face: str | None = None,
) -> tuple[str, list[Any]]:
    """One page of documents (with ``face``: each with that face when current, ``faces.py``).
    Filtered on one reference value and in insertion order (e.g. the free members of one pool),
    the query walks that value's entries of the reference index and joins the rows, instead of
    scanning every row of the kind."""
    refs = [c for c in conds if c.column.startswith(REF)]
    if not order and len(refs) == 1 and len(refs[0].values) == 1 and refs[0].op == "eq":
        ref = refs[0]
        args: list[Any] = [kind, ref.column[len(REF) :], ref.values[0]]
        head = (
            f"SELECT r.doc{_shown(face, 'r.')} FROM resource_ref f JOIN resource r ON r.seq = f.seq"
            f" WHERE f.kind = {_ph(style, 1)}"
            f" AND f.path = {_ph(style, 2)} AND f.value = {_ph(style, 3)}"
        )
        rest = [c for c in conds if c is not ref]
        where, more = where_sql(kind, rest, style, start=4, collate=collate, alias="r.")
        args += more
        n = len(args)
        return f"{head} AND {where} ORDER BY f.seq LIMIT {_ph(style, n + 1)} OFFSET {_ph(style, n + 2)}", [
            *args,
            limit,
            offset,
        ]
    where, args = where_sql(kind, conds, style, collate=collate)
    n = len(args)
    sql = (
        f"SELECT doc{_shown(face, '')} FROM resource WHERE {where}"
        f" ORDER BY {order_sql(order, nulls=nulls, collate=collate)}"
        f" LIMIT {_ph(style, n + 1)} OFFSET {_ph(style, n + 2)}"
    )
    return sql, [*args, limit, offset]


def _shown(face: str | None, alias: str) -> str:
    return "" if face is None else ", " + shown_column(face, alias)


def order_sql(order: Sequence[tuple[str, bool]], nulls: bool, collate: str = "") -> str:
    """Missing values sort first ascending, last descending (as ``tmf630.sort_key``)."""
    parts = []
    for column, desc in order:
        if column not in COLUMNS:
            raise ValueError(column)
        direction = "DESC" if desc else "ASC"
        suffix = (" NULLS LAST" if desc else " NULLS FIRST") if nulls else ""
        parts.append(f"{column}{collate} {direction}{suffix}")
    parts.append("seq ASC")
    return ", ".join(parts)


def count_plan(kind: str, conds: Sequence[SqlCond], style: str, collate: str = "") -> tuple[str, list[Any]]:
    """Use the maintained counters when they answer exactly, else count the rows."""
    if not conds:
        return (f"SELECT n FROM resource_count WHERE kind = {_ph(style, 1)} AND facet = ''", [kind])
    if len(conds) == 1 and conds[0].op == "eq" and conds[0].column in ("status", "type"):
        cond = conds[0]
        values = list(dict.fromkeys(cond.values))
        marks = ", ".join(_ph(style, i + 3) for i in range(len(values)))
        return (
            f"SELECT n FROM resource_count WHERE kind = {_ph(style, 1)} AND facet = {_ph(style, 2)}"
            f" AND value IN ({marks})",
            [kind, cond.column, *values],
        )
    if (
        len(conds) == 1
        and conds[0].op == "eq"
        and conds[0].column.startswith(REF + COUNTED)
        and len(set(conds[0].values)) == 1
    ):
        # a counted reference path (a partner's resources): its counter row, like status and @type
        cond = conds[0]
        return (
            f"SELECT n FROM resource_count WHERE kind = {_ph(style, 1)} AND facet = {_ph(style, 2)}"
            f" AND value = {_ph(style, 3)}",
            [kind, cond.column[len(REF) :], cond.values[0]],
        )
    if len(conds) == 1 and conds[0].op == "eq" and conds[0].column.startswith(REF):
        # one reference path (a partner's orders, a customer's products): count its index entries
        # without visiting the rows; a document holds a (path, value) pair at most once
        cond = conds[0]
        values = list(dict.fromkeys(cond.values))
        marks = ", ".join(_ph(style, i + 3) for i in range(len(values)))
        what = "COUNT(*)" if len(values) == 1 else "COUNT(DISTINCT seq)"
        return (
            f"SELECT {what} FROM resource_ref WHERE kind = {_ph(style, 1)} AND path = {_ph(style, 2)}"
            f" AND value IN ({marks})",
            [kind, cond.column[len(REF) :], *values],
        )
    where, args = where_sql(kind, conds, style, collate=collate)
    return (f"SELECT COUNT(*) FROM resource WHERE {where}", args)


def _facets(idx: Indexed) -> Iterator[tuple[str, str]]:
    yield "", ""
    if idx.status is not None:
        yield "status", idx.status
    if idx.type is not None:
        yield "type", idx.type
    for path, value in idx.refs or ():  # None: unchanged, counted elsewhere
        if path.startswith(COUNTED):
            yield path, value


def counter_changes(changes: Sequence[tuple[Indexed, int]]) -> list[tuple[str, str, int]]:
    """Net (facet, value, delta) changes of the resource counters, in key order, zeros dropped.

    A status change touches only the two status counters; key order avoids deadlocks
    between concurrent writers on PostgreSQL.
    """
    net: dict[tuple[str, str], int] = {}
    for idx, delta in changes:
        for key in _facets(idx):
            net[key] = net.get(key, 0) + delta
    return [(facet, value, n) for (facet, value), n in sorted(net.items()) if n]


def scan_window(sizes: list[tuple[int, int]], budget: int) -> int:
    """The last ``seq`` of a scan batch: rows in order while their sizes fit ``budget`` (at least one)."""
    upto, total = sizes[0][0], 0
    for seq, size in sizes:
        total += size or 0
        if total > budget and seq != sizes[0][0]:
            break
        upto = seq
    return upto
