"""Every SQL statement of the SQLite backend, by name ("?" placeholders; the delivery claim numbers
them, "?1", as its PostgreSQL twin does). Builders shared with PostgreSQL are in ``sqlparts``."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from .base import RECOUNT
from .sqlparts import DELIVERY_COLS, claim_sql, task_listing

# -- schema and meta -------------------------------------------------------------------
META_TABLE = "CREATE TABLE IF NOT EXISTS tmfstack_meta (key TEXT PRIMARY KEY, value TEXT)"
META = "SELECT value FROM tmfstack_meta WHERE key=?"
SET_META = "INSERT INTO tmfstack_meta(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value"
META_SETDEFAULT = "INSERT INTO tmfstack_meta(key, value) VALUES(?, ?) ON CONFLICT(key) DO NOTHING"

# -- resource records ------------------------------------------------------------------
#: a row's face when it is the one asked for (the first parameter) and current (``faces.py``)
SHOWN = "CASE WHEN shown_face = ? AND shown_version = version THEN shown END"
GET = "SELECT id, version, doc FROM resource WHERE kind=? AND id=?"
INSERT = (
    "INSERT INTO resource(kind, id, version, name, status, last_update, type, doc, shown, shown_face, shown_version)"
    " VALUES(?,?,1,?,?,?,?,?,?,?,1)"
)
#: the indexed values before an update, when ``version`` is still the stored one
OLD = "SELECT name, status, last_update, type, seq FROM resource WHERE kind=? AND id=? AND version=?"
UPDATE = (
    "UPDATE resource SET version=version+1, name=?, status=?, last_update=?, type=?, doc=?,"
    " shown=?, shown_face=?, shown_version=version+1 WHERE kind=? AND id=?"
)
GET_SHOWN = f"SELECT id, version, doc, {SHOWN} FROM resource WHERE kind=? AND id=?"
SET_SHOWN = "UPDATE resource SET shown=?, shown_face=?, shown_version=version WHERE seq=? AND version=?"
KIND_ROWS = "SELECT seq, version, doc FROM resource WHERE kind=? AND seq > ? ORDER BY seq LIMIT ?"
DELETE = "DELETE FROM resource WHERE kind=? AND id=? RETURNING name, status, last_update, type, seq"
DELETE_VERSION = (
    "DELETE FROM resource WHERE kind=? AND id=? AND version=? RETURNING name, status, last_update, type, seq"
)
COUNT_CHANGE = (
    "INSERT INTO resource_count(kind, facet, value, n) VALUES(?,?,?,?)"
    " ON CONFLICT(kind, facet, value) DO UPDATE SET n = n + excluded.n"
)
WRITE_REFS = "INSERT OR IGNORE INTO resource_ref(kind, path, value, seq) VALUES(?,?,?,?)"
DROP_REFS = "DELETE FROM resource_ref WHERE kind=? AND seq=? RETURNING path, value"
#: keyset pagination of a scan: sizes first (length() reads no content), then the documents that fit
SCAN_SIZES = "SELECT seq, length(doc) FROM resource WHERE {where} AND seq > ? ORDER BY seq LIMIT {batch}"
SCAN_DOCS = "SELECT doc FROM resource WHERE {where} AND seq > ? AND seq <= ? ORDER BY seq"
# re-indexing a kind's references
KIND_DROP_REFS = "DELETE FROM resource_ref WHERE kind=?"
KIND_DOCS = "SELECT seq, doc FROM resource WHERE kind=?"
KIND_DROP_COUNTED = "DELETE FROM resource_count WHERE kind=? AND facet LIKE '@%'"
KIND_RECOUNT = RECOUNT.format("?")
# pool-member holds
HOLD = "INSERT INTO pool_hold(kind, id, holder, customer) VALUES {values} ON CONFLICT DO NOTHING RETURNING id"
HOLD_ROW = "(?,?,?,?)"
UNHOLD = "DELETE FROM pool_hold WHERE kind=? AND id=?"
HELD = "SELECT COUNT(*) FROM pool_hold WHERE customer=? AND kind=?"

# -- outbox ----------------------------------------------------------------------------
_HUB = "id, api, callback, query, doc, client_id, party"
GET_HUB = f"SELECT {_HUB} FROM hub WHERE api=? AND id=?"
HUBS = f"SELECT {_HUB} FROM hub WHERE api=?"
INSERT_HUB = (
    "INSERT INTO hub(id, api, callback, query, created, doc, client_id, party, secret) VALUES(?,?,?,?,?,?,?,?,?)"
    " ON CONFLICT(id) DO NOTHING RETURNING id"
)
COUNT_HUBS = "SELECT COUNT(*) FROM hub WHERE api=? AND client_id=?"
DELETE_HUB = "DELETE FROM hub WHERE api=? AND id=? RETURNING id"
#: undelivered work of a removed subscription is dropped; delivered rows stay as history
DROP_UNDELIVERED = "DELETE FROM delivery WHERE hub_id=? AND status IN ('pending', 'dead')"
ADD_EVENT = "INSERT INTO event(event_id, api, event_type, created, payload) VALUES(?,?,?,?,?) RETURNING seq"
ADD_DELIVERY = "INSERT INTO delivery(hub_id, event_seq, status, next_attempt) VALUES(?,?,'pending',?)"
CLAIM_DELIVERIES = claim_sql("?", "")
_DELIVERIES = (
    f"SELECT {DELIVERY_COLS} FROM delivery d JOIN event e ON e.seq = d.event_seq JOIN hub h ON h.id = d.hub_id"
)
#: the deliveries whose ids are given (a JSON list: ``id_list``)
DELIVERIES_BY_ID = f"{_DELIVERIES} WHERE d.id IN (SELECT value FROM json_each(?)) ORDER BY d.id"
DELIVERIES = f"{_DELIVERIES} ORDER BY d.id LIMIT ?"
DELIVERIES_WITH_STATUS = f"{_DELIVERIES} WHERE d.status=? ORDER BY d.id LIMIT ?"
MARK_DELIVERED = (
    "UPDATE delivery SET status='delivered', delivered_at=?, last_status=?, attempts=attempts+1,"
    " lease_owner=NULL, lease_until=NULL WHERE id=?"
)
MARK_FAILED = (
    "UPDATE delivery SET status=?, attempts=attempts+1, next_attempt=?, last_error=?,"
    " lease_owner=NULL, lease_until=NULL WHERE id=?"
)
#: a hub's health follows its latest attempt (failed attempts in a row)
HUB_OK = "UPDATE hub SET failures=0 WHERE id=(SELECT hub_id FROM delivery WHERE id=?) AND failures<>0"
HUB_FAILED = "UPDATE hub SET failures=failures+1 WHERE id=(SELECT hub_id FROM delivery WHERE id=?)"
ATTEMPT_OK = "INSERT INTO delivery_attempt(delivery_id, at, status_code) VALUES(?,?,?)"
ATTEMPT_FAILED = "INSERT INTO delivery_attempt(delivery_id, at, error) VALUES(?,?,?)"
REDELIVER = (
    "UPDATE delivery SET status='pending', next_attempt=?, attempts=0, lease_owner=NULL, lease_until=NULL"
    " WHERE id=? AND status IN ('dead', 'delivered') AND hub_id IN (SELECT id FROM hub)"
)
AUDIT_REDELIVER = "INSERT INTO delivery_audit(delivery_id, at, actor, action, reason) VALUES(?,?,?,'redeliver',?)"
AUDIT = "SELECT delivery_id, at, actor, action, reason FROM delivery_audit ORDER BY seq DESC LIMIT ?"
#: a leased delivery is not due before its lease ends (a crashed owner's lease must expire)
NEXT_DUE = "SELECT MIN(MAX(next_attempt, COALESCE(lease_until, 0))) FROM delivery WHERE status='pending'"


def id_list(ids: Sequence[int]) -> Any:
    """The one parameter of ``DELIVERIES_BY_ID``."""
    return json.dumps(list(ids))


# -- task queue ------------------------------------------------------------------------
_TASK = "id, queue, key, gen, attempts, last_error, due, parked"
_TASK_AUDIT = "queue, key, at, actor, action, reason, error"
SCHEDULE = (
    "INSERT INTO task(queue, key, due) VALUES(?,?,?) ON CONFLICT(queue, key) DO UPDATE"
    " SET due = MIN(task.due, excluded.due), gen = task.gen + 1,"
    # new work for a parked key re-arms it (e.g. an operator released its order)
    " attempts = CASE WHEN task.parked IS NULL THEN task.attempts ELSE 0 END, parked = NULL"
)
#: finishing deletes the task unless it was re-scheduled since the claim (then it is released)
FINISH_TASK = "DELETE FROM task WHERE id=? AND gen=? RETURNING id"
RELEASE_TASK = "UPDATE task SET lease_owner=NULL, lease_until=NULL WHERE id=?"
CLAIM_TASKS = (
    "UPDATE task SET lease_owner=?1, lease_until=?2, attempts=attempts+1 WHERE id IN ("
    " SELECT id FROM task WHERE due <= ?3 AND (lease_until IS NULL OR lease_until < ?3) AND parked IS NULL"
    " ORDER BY due LIMIT ?4) RETURNING id, queue, key, gen, attempts, last_error"
)
FAIL_TASK = (
    "UPDATE task SET due=?2, last_error=?3, lease_owner=NULL, lease_until=NULL, attempts=attempts-?4 WHERE id=?1"
)
NEXT_TASK_DUE = "SELECT MIN(MAX(due, COALESCE(lease_until, 0))) FROM task WHERE parked IS NULL"
PARK_TASK = "UPDATE task SET parked=?2, last_error=?3, lease_owner=NULL, lease_until=NULL WHERE id=?1"
UNPARK_TASK = "UPDATE task SET parked=NULL, attempts=0 WHERE queue=? AND key=? AND parked IS NOT NULL RETURNING id"
TASK_AUDIT = f"INSERT INTO task_audit({_TASK_AUDIT}) VALUES(?,?,?,?,?,?,?)"
TASK_HISTORY = f"SELECT {_TASK_AUDIT} FROM task_audit WHERE queue=? AND key=? ORDER BY id DESC LIMIT ?"


def tasks_query(queue: str | None, key: str | None, parked: bool | None, limit: int) -> tuple[str, list[Any]]:
    return task_listing(_TASK, queue, key, parked, limit, "?")


# -- security records ------------------------------------------------------------------
_CLIENT = "id, name, secret_hash, scopes, party, rate, burst, status, created, updated"
_KEY = "kid, alg, private_key, public_jwk, created, retired"
GET_CLIENT = f"SELECT {_CLIENT} FROM oauth_client WHERE id=?"
LIST_CLIENTS = f"SELECT {_CLIENT} FROM oauth_client ORDER BY id"
INSERT_CLIENT = f"INSERT INTO oauth_client({_CLIENT}) VALUES(?,?,?,?,?,?,?,?,?,?)"
UPDATE_CLIENT = (
    "UPDATE oauth_client SET name=?, secret_hash=?, scopes=?, party=?, rate=?, burst=?, status=?,"
    " created=?, updated=? WHERE id=?"
)
SIGNING_KEYS = f"SELECT {_KEY} FROM signing_key ORDER BY created, kid"
RETIRE_KEYS = "UPDATE signing_key SET retired=? WHERE retired IS NULL"
INSERT_KEY = f"INSERT INTO signing_key({_KEY}) VALUES(?,?,?,?,?,?)"
DELETE_KEY = "DELETE FROM signing_key WHERE kid=?"

# -- idempotency records (``idempotency``) ---------------------------------------------
_IDEM = "client_id, path, key, fingerprint, status, location, etag, body, created"
IDEM_GET = f"SELECT {_IDEM} FROM idempotency WHERE client_id=? AND path=? AND key=? AND created >= ?"
#: a new record, or one replacing an expired record of the same key; no row returned: the key is taken
IDEM_PUT = (
    f"INSERT INTO idempotency({_IDEM}) VALUES(?,?,?,?,?,?,?,?,?) ON CONFLICT(client_id, path, key) DO UPDATE SET"
    " fingerprint=excluded.fingerprint, status=excluded.status, location=excluded.location, etag=excluded.etag,"
    " body=excluded.body, created=excluded.created WHERE idempotency.created < ? RETURNING 1"
)
IDEM_PRUNE = "DELETE FROM idempotency WHERE rowid IN (SELECT rowid FROM idempotency WHERE created < ? LIMIT ?)"
