"""Two partners and an operator on one secured server with the demo loaded (tests/security and the
version tests share it): what partner isolation is checked on."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager

from starlette.testclient import TestClient

from tests.support.ordering import load_demo
from tests.support.security import Caller, Secured
from tmfstack.settings import Settings
from tmfstack.web.app import create_app


@dataclasses.dataclass
class World:
    secured: Secured
    operator: Caller
    a: Caller  #: partner org-a's client
    b: Caller  #: partner org-b's client


@contextmanager
def partners(secure_settings: Settings) -> Iterator[World]:
    settings = dataclasses.replace(secure_settings, allow_private_callbacks="127.0.0.0/8")  # loopback listeners
    with TestClient(create_app(settings)) as client:
        secured = Secured(client)
        operator = secured.login("ops", ["operator"])
        load_demo(operator)
        a = secured.login("partner-a", ["partner"], party="org-a")
        b = secured.login("partner-b", ["partner"], party="org-b")
        yield World(secured, operator, a, b)
