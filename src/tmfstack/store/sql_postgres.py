"""Every SQL statement of the PostgreSQL backend, by name ("$n" placeholders). Builders shared with
SQLite are in ``sqlparts``.

Where SQLite takes a few statements in one unit, PostgreSQL often takes one: a data-modifying CTE,
or a whole list bound as one array parameter (``unnest``), each a single round trip.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .base import RECOUNT
from .sqlparts import DELIVERY_COLS, claim_sql, task_listing

#: text comparisons and orderings in code-point order (as Python), the collation of the indexes
COLLATE = ' COLLATE "C"'

# -- schema and meta -------------------------------------------------------------------
#: pg_advisory_xact_lock key taken while migrating ("tmfstack" in ASCII)
MIGRATION_LOCK = 0x746D66737461636B
LOCK_MIGRATION = "SELECT pg_advisory_xact_lock($1)"
META_TABLE = "CREATE TABLE IF NOT EXISTS tmfstack_meta (key TEXT PRIMARY KEY, value TEXT)"
META = "SELECT value FROM tmfstack_meta WHERE key=$1"
SET_META = "INSERT INTO tmfstack_meta(key, value) VALUES($1, $2) ON CONFLICT (key) DO UPDATE SET value=excluded.value"
META_SETDEFAULT = "INSERT INTO tmfstack_meta(key, value) VALUES($1, $2) ON CONFLICT (key) DO NOTHING"

# -- resource records ------------------------------------------------------------------
GET = "SELECT id, version, doc FROM resource WHERE kind=$1 AND id=$2"
INSERT = (
    "INSERT INTO resource(kind, id, version, name, status, last_update, type, doc, shown, shown_face, shown_version)"
    " VALUES($1, $2, 1, $3, $4, $5, $6, $7, $8, $9, 1) ON CONFLICT (kind, id) DO NOTHING RETURNING seq"
)
#: a compare-and-set on version; the CTE locks the row, and a concurrent committed change fails the re-check
UPDATE = (
    "WITH old AS ("
    " SELECT seq, name, status, last_update, type FROM resource WHERE kind=$1 AND id=$2 AND version=$3 FOR UPDATE)"
    " UPDATE resource r SET version=r.version+1, name=$4, status=$5, last_update=$6, type=$7, doc=$8,"
    " shown=$9, shown_face=$10, shown_version=r.version+1"
    " FROM old WHERE r.seq = old.seq RETURNING old.name, old.status, old.last_update, old.type, old.seq"
)
#: a row's face when it is the one asked for ($1) and current (``faces.py``)
GET_SHOWN = (
    "SELECT id, version, doc, CASE WHEN shown_face = $1 AND shown_version = version THEN shown END"
    " FROM resource WHERE kind=$2 AND id=$3"
)
SET_SHOWN = "UPDATE resource SET shown=$1, shown_face=$2, shown_version=version WHERE seq=$3 AND version=$4"
KIND_ROWS = "SELECT seq, version, doc FROM resource WHERE kind=$1 AND seq > $2 ORDER BY seq LIMIT $3"
#: one redo of a kind's faces at a time, across replicas starting together
LOCK_FACES = "SELECT pg_advisory_xact_lock(hashtext($1))"
DELETE = "DELETE FROM resource WHERE kind=$1 AND id=$2 RETURNING name, status, last_update, type, seq"
DELETE_VERSION = (
    "DELETE FROM resource WHERE kind=$1 AND id=$2 AND version=$3 RETURNING name, status, last_update, type, seq"
)
#: the net counter changes of a write, in key order (no deadlock between writers), in one statement
COUNT_CHANGES = (
    "INSERT INTO resource_count(kind, facet, value, n)"
    " SELECT $1, f, v, n FROM unnest($2::text[], $3::text[], $4::bigint[]) AS t(f, v, n)"
    " ON CONFLICT (kind, facet, value) DO UPDATE SET n = resource_count.n + excluded.n"
)
WRITE_REFS = (
    "INSERT INTO resource_ref(kind, path, value, seq)"
    " SELECT $1, p, v, $2 FROM unnest($3::text[], $4::text[]) AS t(p, v) ON CONFLICT DO NOTHING"
)
DROP_REFS = "DELETE FROM resource_ref WHERE kind=$1 AND seq=$2 RETURNING path, value"
#: keyset pagination of a scan: sizes first, then the documents that fit ({n}: the filter's parameters)
SCAN_SIZES = "SELECT seq, octet_length(doc) FROM resource WHERE {where} AND seq > ${a} ORDER BY seq LIMIT {batch}"
SCAN_DOCS = "SELECT doc FROM resource WHERE {where} AND seq > ${a} AND seq <= ${b} ORDER BY seq"
# re-indexing a kind's references (the lock keeps writers of the index out meanwhile)
LOCK_REFS = "LOCK TABLE resource_ref IN SHARE ROW EXCLUSIVE MODE"
KIND_DROP_REFS = "DELETE FROM resource_ref WHERE kind=$1"
KIND_DOCS = "SELECT seq, doc FROM resource WHERE kind=$1"
KIND_DROP_COUNTED = "DELETE FROM resource_count WHERE kind=$1 AND facet LIKE '@%'"
KIND_RECOUNT = RECOUNT.format("$1")
# pool-member holds
HOLD = (
    "INSERT INTO pool_hold(kind, id, holder, customer) SELECT $1, i, $2, $3 FROM unnest($4::text[]) AS t(i)"
    " ON CONFLICT DO NOTHING RETURNING id"
)
UNHOLD = "DELETE FROM pool_hold WHERE kind=$1 AND id = ANY($2::text[])"
HELD = "SELECT COUNT(*) FROM pool_hold WHERE customer=$1 AND kind=$2"

# -- outbox ----------------------------------------------------------------------------
_HUB = "id, api, callback, query, doc, client_id, party"
GET_HUB = f"SELECT {_HUB} FROM hub WHERE api=$1 AND id=$2"
HUBS = f"SELECT {_HUB} FROM hub WHERE api=$1"
INSERT_HUB = (
    "INSERT INTO hub(id, api, callback, query, created, doc, client_id, party, secret)"
    " VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO NOTHING RETURNING id"
)
COUNT_HUBS = "SELECT COUNT(*) FROM hub WHERE api=$1 AND client_id=$2"
DELETE_HUB = "DELETE FROM hub WHERE api=$1 AND id=$2 RETURNING id"
#: undelivered work of a removed subscription is dropped; delivered rows stay as history
DROP_UNDELIVERED = "DELETE FROM delivery WHERE hub_id=$1 AND status IN ('pending', 'dead')"
#: the event and one delivery per hub (in the given order), in one statement
ADD_EVENT = (
    "WITH e AS ("
    " INSERT INTO event(event_id, api, event_type, created, payload) VALUES($1, $2, $3, $4, $5) RETURNING seq)"
    " INSERT INTO delivery(hub_id, event_seq, status, next_attempt)"
    " SELECT h.hub_id, e.seq, 'pending', $4 FROM e, unnest($6::text[]) WITH ORDINALITY AS h(hub_id, n) ORDER BY h.n"
)
CLAIM_DELIVERIES = claim_sql("$", " FOR UPDATE OF d SKIP LOCKED")
_DELIVERIES = (
    f"SELECT {DELIVERY_COLS} FROM delivery d JOIN event e ON e.seq = d.event_seq JOIN hub h ON h.id = d.hub_id"
)
#: the deliveries whose ids are given (an array: ``id_list``)
DELIVERIES_BY_ID = f"{_DELIVERIES} WHERE d.id = ANY($1::bigint[]) ORDER BY d.id"
DELIVERIES = f"{_DELIVERIES} ORDER BY d.id LIMIT $1"
DELIVERIES_WITH_STATUS = f"{_DELIVERIES} WHERE d.status=$1 ORDER BY d.id LIMIT $2"
# an outcome, the hub's health (failed attempts in a row: its latest attempt) and the attempt's record
MARK_DELIVERED = (
    "WITH done AS ("
    " UPDATE delivery SET status='delivered', delivered_at=$2, last_status=$3, attempts=attempts+1,"
    " lease_owner=NULL, lease_until=NULL WHERE id=$1 RETURNING hub_id),"
    " healthy AS (UPDATE hub SET failures = 0 FROM done WHERE hub.id = done.hub_id AND hub.failures <> 0)"
    " INSERT INTO delivery_attempt(delivery_id, at, status_code) VALUES($1, $2, $3)"
)
MARK_FAILED = (
    "WITH failed AS ("
    " UPDATE delivery SET status=$3, attempts=attempts+1, next_attempt=$4, last_error=$5,"
    " lease_owner=NULL, lease_until=NULL WHERE id=$1 RETURNING hub_id),"
    " sick AS (UPDATE hub SET failures = hub.failures + 1 FROM failed WHERE hub.id = failed.hub_id)"
    " INSERT INTO delivery_attempt(delivery_id, at, error) VALUES($1, $2, $5)"
)
#: the change and its audit row commit together, or neither does
REDELIVER = (
    "WITH queued AS (UPDATE delivery SET status='pending', next_attempt=$2, attempts=0, lease_owner=NULL,"
    " lease_until=NULL WHERE id=$1 AND status IN ('dead', 'delivered') AND hub_id IN (SELECT id FROM hub)"
    " RETURNING id)"
    " INSERT INTO delivery_audit(delivery_id, at, actor, action, reason)"
    " SELECT id, $2, $3, 'redeliver', $4 FROM queued RETURNING delivery_id"
)
AUDIT = "SELECT delivery_id, at, actor, action, reason FROM delivery_audit ORDER BY seq DESC LIMIT $1"
#: a leased delivery is not due before its lease ends (a crashed owner's lease must expire)
NEXT_DUE = "SELECT MIN(GREATEST(next_attempt, COALESCE(lease_until, 0))) FROM delivery WHERE status='pending'"


def id_list(ids: Sequence[int]) -> Any:
    """The one parameter of ``DELIVERIES_BY_ID``."""
    return list(ids)


# -- task queue ------------------------------------------------------------------------
_TASK = "id, queue, key, gen, attempts, last_error, due, parked"
_TASK_AUDIT = "queue, key, at, actor, action, reason, error"
SCHEDULE = (
    "INSERT INTO task(queue, key, due) VALUES($1, $2, $3) ON CONFLICT (queue, key) DO UPDATE"
    " SET due = LEAST(task.due, excluded.due), gen = task.gen + 1,"
    # new work for a parked key re-arms it (e.g. an operator released its order)
    " attempts = CASE WHEN task.parked IS NULL THEN task.attempts ELSE 0 END, parked = NULL"
)
#: finishing deletes the task unless it was re-scheduled since the claim (then it is released)
FINISH_TASK = "DELETE FROM task WHERE id=$1 AND gen=$2 RETURNING id"
RELEASE_TASK = "UPDATE task SET lease_owner=NULL, lease_until=NULL WHERE id=$1"
#: SKIP LOCKED: processes claiming together take disjoint tasks; a task leased meanwhile is
#: re-checked on its latest version by FOR UPDATE and drops out
CLAIM_TASKS = (
    "UPDATE task SET lease_owner=$1, lease_until=$2, attempts=attempts+1 WHERE id IN ("
    " SELECT id FROM task WHERE due <= $3 AND (lease_until IS NULL OR lease_until < $3) AND parked IS NULL"
    " ORDER BY due LIMIT $4 FOR UPDATE SKIP LOCKED) RETURNING id, queue, key, gen, attempts, last_error"
)
FAIL_TASK = (
    "UPDATE task SET due=$2, last_error=$3, lease_owner=NULL, lease_until=NULL, attempts=attempts-$4 WHERE id=$1"
)
NEXT_TASK_DUE = "SELECT MIN(GREATEST(due, COALESCE(lease_until, 0))) FROM task WHERE parked IS NULL"
PARK_TASK = "UPDATE task SET parked=$2, last_error=$3, lease_owner=NULL, lease_until=NULL WHERE id=$1"
UNPARK_TASK = "UPDATE task SET parked=NULL, attempts=0 WHERE queue=$1 AND key=$2 AND parked IS NOT NULL RETURNING id"
TASK_AUDIT = f"INSERT INTO task_audit({_TASK_AUDIT}) VALUES($1, $2, $3, $4, $5, $6, $7)"
TASK_HISTORY = f"SELECT {_TASK_AUDIT} FROM task_audit WHERE queue=$1 AND key=$2 ORDER BY id DESC LIMIT $3"


def tasks_query(queue: str | None, key: str | None, parked: bool | None, limit: int) -> tuple[str, list[Any]]:
    return task_listing(_TASK, queue, key, parked, limit, "$")


# -- security records ------------------------------------------------------------------
_CLIENT = "id, name, secret_hash, scopes, party, rate, burst, status, created, updated"
_KEY = "kid, alg, private_key, public_jwk, created, retired"
GET_CLIENT = f"SELECT {_CLIENT} FROM oauth_client WHERE id=$1"
LIST_CLIENTS = f"SELECT {_CLIENT} FROM oauth_client ORDER BY id"
INSERT_CLIENT = (
    f"INSERT INTO oauth_client({_CLIENT}) VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)"
    " ON CONFLICT (id) DO NOTHING RETURNING id"
)
UPDATE_CLIENT = (
    "UPDATE oauth_client SET name=$2, secret_hash=$3, scopes=$4, party=$5, rate=$6, burst=$7, status=$8,"
    " created=$9, updated=$10 WHERE id=$1"
)
SIGNING_KEYS = f"SELECT {_KEY} FROM signing_key ORDER BY created, kid"
RETIRE_KEYS = "UPDATE signing_key SET retired=$1 WHERE retired IS NULL"
INSERT_KEY = f"INSERT INTO signing_key({_KEY}) VALUES($1,$2,$3,$4,$5,$6)"
DELETE_KEYS = "DELETE FROM signing_key WHERE kid = ANY($1::text[])"

# -- idempotency records (``idempotency``) ---------------------------------------------
_IDEM = "client_id, path, key, fingerprint, status, location, etag, body, created"
IDEM_GET = f"SELECT {_IDEM} FROM idempotency WHERE client_id=$1 AND path=$2 AND key=$3 AND created >= $4"
#: a new record, or one replacing an expired record of the same key; no row returned: the key is taken
#: (a concurrent unit's insert of the key is waited for: its commit takes the key, its rollback frees it)
IDEM_PUT = (
    f"INSERT INTO idempotency({_IDEM}) VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9) ON CONFLICT (client_id, path, key)"
    " DO UPDATE SET fingerprint=excluded.fingerprint, status=excluded.status, location=excluded.location,"
    " etag=excluded.etag, body=excluded.body, created=excluded.created WHERE idempotency.created < $10 RETURNING 1"
)
#: SKIP LOCKED: units pruning together never wait on (or deadlock over) each other's rows
IDEM_PRUNE = (
    "DELETE FROM idempotency WHERE ctid IN"
    " (SELECT ctid FROM idempotency WHERE created < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)"
)
