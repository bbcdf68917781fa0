"""Schema migrations, shared by the backends (the dialect differences are substituted).

Each entry is applied once, in order, and recorded in ``tmfstack_meta``; a new
version appends an entry and never edits an old one.
"""

from __future__ import annotations

#: {seq} is the auto-increment primary key type, {blob} the bytes type, {real} a float
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE resource (
        seq {seq},
        kind TEXT NOT NULL,
        id TEXT NOT NULL,
        version INTEGER NOT NULL,
        name TEXT,
        status TEXT,
        last_update TEXT,
        type TEXT,
        doc {blob} NOT NULL,
        UNIQUE (kind, id)
    );
    CREATE INDEX resource_name ON resource (kind, name{collate}, seq);
    CREATE INDEX resource_status ON resource (kind, status{collate}, seq);
    CREATE INDEX resource_last_update ON resource (kind, last_update{collate}, seq);
    CREATE INDEX resource_type ON resource (kind, type{collate}, seq);
    CREATE TABLE resource_count (
        kind TEXT NOT NULL,
        facet TEXT NOT NULL,
        value TEXT NOT NULL,
        n BIGINT NOT NULL,
        PRIMARY KEY (kind, facet, value)
    );
    CREATE TABLE event (
        seq {seq},
        event_id TEXT NOT NULL UNIQUE,
        api TEXT NOT NULL,
        event_type TEXT NOT NULL,
        created {real} NOT NULL,
        payload {blob} NOT NULL
    );
    CREATE TABLE hub (
        id TEXT PRIMARY KEY,
        api TEXT NOT NULL,
        callback TEXT NOT NULL,
        query TEXT,
        created {real} NOT NULL,
        doc {blob} NOT NULL
    );
    CREATE INDEX hub_api ON hub (api);
    CREATE TABLE delivery (
        id {seq},
        hub_id TEXT NOT NULL,
        event_seq BIGINT NOT NULL,
        status TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt {real} NOT NULL,
        lease_owner TEXT,
        lease_until {real},
        last_error TEXT,
        last_status INTEGER,
        delivered_at {real}
    );
    CREATE INDEX delivery_queue ON delivery (status, hub_id, id);
    CREATE TABLE delivery_attempt (
        delivery_id BIGINT NOT NULL,
        at {real} NOT NULL,
        status_code INTEGER,
        error TEXT
    );
    CREATE INDEX delivery_attempt_id ON delivery_attempt (delivery_id);
    """,
    # 2: durable task queue for orchestration (order manager steps, scheduled starts)
    """
    CREATE TABLE task (
        id {seq},
        queue TEXT NOT NULL,
        key TEXT NOT NULL,
        due {real} NOT NULL,
        gen INTEGER NOT NULL DEFAULT 1,
        attempts INTEGER NOT NULL DEFAULT 0,
        lease_owner TEXT,
        lease_until {real},
        last_error TEXT,
        UNIQUE (queue, key)
    );
    CREATE INDEX task_due ON task (due);
    """,
    # 3: values of declared nested paths (relatedParty.id, ...) for indexed equality filters
    """
    CREATE TABLE resource_ref (
        kind TEXT NOT NULL,
        path TEXT NOT NULL,
        value TEXT NOT NULL,
        seq BIGINT NOT NULL,
        PRIMARY KEY (kind, path, value, seq)
    ){without_rowid};
    CREATE INDEX resource_ref_seq ON resource_ref (kind, seq);
    """,
    # 4: unfiltered lists page in insertion order without sorting the whole kind
    """
    CREATE INDEX resource_kind_seq ON resource (kind, seq);
    """,
    # 5: the security edge: OAuth clients, token signing keys, who registered each hub
    """
    CREATE TABLE oauth_client (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        secret_hash TEXT NOT NULL,
        scopes TEXT NOT NULL,
        party TEXT,
        rate {real},
        burst INTEGER,
        status TEXT NOT NULL,
        created {real} NOT NULL,
        updated {real} NOT NULL
    );
    CREATE TABLE signing_key (
        kid TEXT PRIMARY KEY,
        alg TEXT NOT NULL,
        private_key {blob} NOT NULL,
        public_jwk TEXT NOT NULL,
        created {real} NOT NULL,
        retired {real}
    );
    ALTER TABLE hub ADD COLUMN client_id TEXT;
    ALTER TABLE hub ADD COLUMN party TEXT;
    """,
    # 6: pool-member holding: one row per taken pool member, so no member is ever held twice
    # (the primary key), whatever its document says; resources reserved before are held by ''
    """
    CREATE TABLE pool_hold (
        kind TEXT NOT NULL,
        id TEXT NOT NULL,
        holder TEXT NOT NULL,
        customer TEXT NOT NULL,
        PRIMARY KEY (kind, id)
    ){without_rowid};
    CREATE INDEX pool_hold_customer ON pool_hold (customer, kind);
    INSERT INTO pool_hold(kind, id, holder, customer)
        SELECT kind, id, '', '' FROM resource WHERE kind = 'tmf639.resource' AND status = 'reserved';
    """,
    # 7: parked tasks (a step that kept failing waits for an operator) and their history
    """
    ALTER TABLE task ADD COLUMN parked {real};
    CREATE TABLE task_audit (
        id {seq},
        queue TEXT NOT NULL,
        key TEXT NOT NULL,
        at {real} NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        reason TEXT,
        error TEXT
    );
    CREATE INDEX task_audit_key ON task_audit (queue, key, id);
    """,
    # 8: webhook signing secret and health of each hub (failed attempts in a row, for fair
    # delivery), hubs counted per client, and the audit of operators' redeliveries
    """
    ALTER TABLE hub ADD COLUMN secret TEXT;
    ALTER TABLE hub ADD COLUMN failures INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX hub_client ON hub (api, client_id);
    CREATE TABLE delivery_audit (
        seq {seq},
        delivery_id BIGINT NOT NULL,
        at {real} NOT NULL,
        actor TEXT,
        action TEXT NOT NULL,
        reason TEXT
    );
    CREATE INDEX delivery_audit_delivery ON delivery_audit (delivery_id);
    """,
    # 9: reference data (places and markets) gets its own table (``reference_data.py``); it was
    # stored as resources of kinds geo.*, which move here unchanged (same keys and versions)
    """
    CREATE TABLE reference_data (
        dataset TEXT NOT NULL,
        key TEXT NOT NULL,
        version INTEGER NOT NULL,
        doc {blob} NOT NULL,
        PRIMARY KEY (dataset, key)
    ){without_rowid};
    INSERT INTO reference_data(dataset, key, version, doc)
        SELECT kind, id, version, doc FROM resource WHERE kind LIKE 'geo.%';
    DELETE FROM resource_ref WHERE kind LIKE 'geo.%';
    DELETE FROM resource_count WHERE kind LIKE 'geo.%';
    DELETE FROM resource WHERE kind LIKE 'geo.%';
    """,
    # 10: each served version's rendition of the document (``faces.py``), in the same row: a read
    # through another version is one lookup, as a read through the stored one
    """
    ALTER TABLE resource ADD COLUMN shown {blob};
    ALTER TABLE resource ADD COLUMN shown_face TEXT;
    ALTER TABLE resource ADD COLUMN shown_version INTEGER;
    """,
    # 11: the answers to POSTs that carried an Idempotency-Key (``engine/idempotency.py``), written
    # with the creation they answer; one per (client, path, key), replaced once expired
    """
    CREATE TABLE idempotency (
        client_id TEXT NOT NULL,
        path TEXT NOT NULL,
        key TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        status INTEGER NOT NULL,
        location TEXT,
        etag TEXT,
        body {blob} NOT NULL,
        created {real} NOT NULL,
        PRIMARY KEY (client_id, path, key)
    );
    CREATE INDEX idempotency_created ON idempotency (created);
    """,
)

SQLITE = {
    "seq": "INTEGER PRIMARY KEY",
    "blob": "BLOB",
    "real": "REAL",
    "collate": "",
    "without_rowid": " WITHOUT ROWID",
}
POSTGRES = {
    "seq": "BIGSERIAL PRIMARY KEY",
    "blob": "BYTEA",
    "real": "DOUBLE PRECISION",
    "collate": ' COLLATE "C" NULLS FIRST',
    "without_rowid": "",
}


def statements(migration: str, dialect: dict[str, str]) -> list[str]:
    sql = migration.format(**dialect)
    return [s.strip() for s in sql.split(";") if s.strip()]
