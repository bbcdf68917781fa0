"""Shared fixtures: a real server app over a real database, through an in-process client.

The backend is SQLite in a temporary folder, or PostgreSQL when
``TMFSTACK_TEST_DATABASE_URL`` names a server (``.ci/run`` runs the suite both ways).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from tests.support.database import fresh_database_url
from tests.support.listener import Listener
from tests.support.security import Secured
from tmfstack.settings import Settings
from tmfstack.web.app import create_app

# The suite exercises the APIs themselves with authentication off and loopback listeners
# allowed, also in the servers it starts as processes (they inherit the environment);
# tests/security/ builds its apps with auth on and the strict outbound policy.
os.environ.setdefault("TMFSTACK_AUTH", "off")
os.environ.setdefault("TMFSTACK_ALLOW_PRIVATE_CALLBACKS", "127.0.0.0/8,::1/128")

CATALOG = "/tmf-api/productCatalogManagement/v4"


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return fresh_database_url(tmp_path)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        public_url="http://testserver",
        export_dir=tmp_path / "exports",
        import_dir=tmp_path,
        retry_base=0.05,
        retry_max=0.2,
        max_attempts=4,
    )


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as c:
        yield c


@pytest.fixture
def listener() -> Iterator[Listener]:
    """A real HTTP listener on 127.0.0.1 that records what is delivered to it (tests/support/listener.py)."""
    with Listener() as it:
        yield it


@pytest.fixture
def secure_settings(settings: Settings) -> Settings:
    """Authentication on and the strict outbound policy (tests/security); limits that do not get in the way."""
    return dataclasses.replace(
        settings,
        auth=True,
        allow_private_callbacks="",
        rate="10000/s",
        burst=20000,
        anon_rate="10000/s",
        anon_burst=20000,
    )


@pytest.fixture
def secure(secure_settings: Settings) -> Iterator[Secured]:
    """An app with authentication on: register clients and get their tokens with ``secure.login``."""
    with TestClient(create_app(secure_settings)) as client:
        yield Secured(client)
