"""``IdempotencyTx`` as both backends run it, on their dialect's statements (``sql_sqlite`` /
``sql_postgres``): the insert never raises on a taken key (``ON CONFLICT``), so a PostgreSQL
transaction stays usable and the caller decides what a taken key means."""

from __future__ import annotations

from .base import IdempotencyRow
from .queries import TxQueries


class SharedIdempotencyTx(TxQueries):
    async def idempotent_get(self, client_id: str, path: str, key: str, since: float) -> IdempotencyRow | None:
        rows = await self._rows(self.sql.IDEM_GET, client_id, path, key, since)
        if not rows:
            return None
        client_id, path, key, fingerprint, status, location, etag, body, created = rows[0]
        return IdempotencyRow(client_id, path, key, fingerprint, status, location, etag, bytes(body), float(created))

    async def idempotent_put(self, row: IdempotencyRow, since: float) -> bool:
        values = (row.client_id, row.path, row.key, row.fingerprint, row.status, row.location, row.etag)
        return bool(await self._rows(self.sql.IDEM_PUT, *values, row.body, row.created, since))

    async def idempotent_prune(self, before: float, limit: int) -> None:
        await self._rows(self.sql.IDEM_PRUNE, before, limit)
