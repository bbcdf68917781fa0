"""Helpers the tests share, one module a purpose (imported as ``tests.support.<module>``).

assertions   official-schema validation and the TMF Error checks
polling      ``wait_until``, the one poll loop
database     a fresh, empty database per test or module (SQLite, or PostgreSQL when configured)
servers      real server processes (``tmfstack serve``; used by bench/ too)
listener     a real HTTP listener that records what is delivered to it
redis_server throwaway redis-server fixtures
idp          an external OpenID provider (oidc-provider on Node.js) fixture
security     apps with authentication on: registered clients and their tokens
ordering     TMF622 orders and TMF637 products through HTTP
sro          service and resource ordering: a catalog, pool and inventory built through the APIs
chain        the fulfilment chain: the demo catalogs and pools, and readers of what the chain wrote
market       markets, segments, places and eligibility rules through HTTP
jobs         catalog importJob and exportJob through HTTP
"""
