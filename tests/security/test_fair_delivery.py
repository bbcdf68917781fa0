"""A slow or dead subscriber cannot delay the others: 200 hubs whose listener never answers
(connections accepted by the kernel, never read: each attempt runs into its deadline) add
less than a second to a healthy subscriber's delivery, on the first event and the next ones."""

from __future__ import annotations

import dataclasses
import socket
import time
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from tests.support.listener import Listener
from tests.support.security import Caller, Secured
from tmfstack.settings import Settings
from tmfstack.web.app import create_app

CATALOG = "/tmf-api/productCatalogManagement/v4"
HUB = f"{CATALOG}/hub"
PO = f"{CATALOG}/productOffering"
SLOW_HUBS = 200


@pytest.fixture
def black_hole() -> Iterator[str]:
    """A port that accepts connections (the kernel's backlog) and never reads or answers."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(1024)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/slow"
    finally:
        sock.close()


def delivered_in(ops: Caller, healthy: Listener, name: str) -> float:
    """Seconds from the change to its event reaching the healthy listener."""
    seen = len(healthy.requests)
    start = time.time()
    assert ops.post(PO, json={"name": name}).status_code == 201
    return healthy.wait_requests(seen + 1, timeout=60)[seen].at - start


def test_slow_subscribers_do_not_delay_a_healthy_one(secure_settings: Settings, black_hole: str) -> None:
    settings = dataclasses.replace(secure_settings, allow_private_callbacks="127.0.0.0/8")
    with TestClient(create_app(settings)) as client, Listener() as healthy:
        secured = Secured(client)
        ops = secured.login("ops", ["operator"])
        # ten tenants with twenty hubs each (the default limit per client), all listening nowhere
        tenants = [secured.login(f"tenant-{t}", ["operator"]) for t in range(SLOW_HUBS // 20)]
        hub = ops.post(HUB, json={"callback": healthy.url}).json()["id"]
        alone = delivered_in(ops, healthy, "alone")
        assert ops.delete(f"{HUB}/{hub}").status_code == 204
        for i in range(SLOW_HUBS):  # older than the healthy hub: their deliveries come first by age
            assert tenants[i // 20].post(HUB, json={"callback": f"{black_hole}/{i}"}).status_code == 201
        assert ops.post(HUB, json={"callback": healthy.url}).status_code == 201
        # the first event meets 200 hubs nobody knows to be dead; the next ones meet them failing
        crowded = [delivered_in(ops, healthy, f"crowded {n}") for n in range(3)]
        print(f"healthy subscriber alone: {alone:.3f} s; beside {SLOW_HUBS} dead ones: {crowded}")
        assert max(crowded) < alone + 1.0, (alone, crowded)
