"""The demo's resource pools: TMF685 pools and their free TMF639 members.

One pool per pooled resource specification of ``data/resource_catalog.json``; ``size`` members
each (VLAN ids stop at 4094). Values are deterministic, so the demo orders can ask for a
number (``+436641234567`` lies in the MSISDN pool). Stocking twice adds nothing: a pool that
exists is left as it is.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..apis.inventory import pools
from ..apis.ordering.shared import stable_id
from ..engine.core import Engine
from ..tmf import Doc

CATALOG = "tmf634"
_BATCH = 500  #: members written per transaction


@dataclass(frozen=True)
class PoolDef:
    id: str
    description: str
    spec: str
    resource_type: str
    member: Callable[[int], tuple[str, dict[str, Any]]]  #: index -> (name, characteristics)
    limit: int | None = None


def _msisdn(i: int) -> tuple[str, dict[str, Any]]:
    number = f"+43664123{4000 + i:04d}" if i < 6000 else f"+4366412{i + 40000:05d}"
    return number, {"value": number}


def _sim(i: int) -> tuple[str, dict[str, Any]]:
    iccid = f"8943010{i:012d}"
    return iccid, {"ICCID": iccid, "IMSI": f"23201{i:010d}", "eSIM": False}


def _port(i: int) -> tuple[str, dict[str, Any]]:
    olt, slot, port = f"OLT-VIE-{i // 1024 + 1:02d}", i // 64 % 16 + 1, i % 64 + 1
    return f"{olt}/{slot}/{port}", {"OLT": olt, "slot": slot, "port": port}


def _vlan(i: int) -> tuple[str, dict[str, Any]]:
    return f"C-VLAN {100 + i}", {"VLAN id": 100 + i}


def _ipv4(i: int) -> tuple[str, dict[str, Any]]:
    address = str(ipaddress.ip_address("198.18.0.1") + i)
    return address, {"address": address, "prefix length": 32}


def _serial(prefix: str, model: str) -> Callable[[int], tuple[str, dict[str, Any]]]:
    def member(i: int) -> tuple[str, dict[str, Any]]:
        serial = f"{prefix}{i:08d}"
        return serial, {"Serial number": serial, "Model": model}

    return member


DEMO_POOLS = (
    PoolDef("pool-msisdn", "Mobile numbers +43 664", "rs-msisdn", "LogicalResource", _msisdn),
    PoolDef("pool-sim", "SIM cards in stock", "rs-sim-card", "PhysicalResource", _sim),
    PoolDef("pool-olt-port", "GPON ports, OLTs Vienna", "rs-olt-port", "PhysicalResource", _port),
    PoolDef("pool-vlan", "Customer VLAN ids", "rs-vlan", "LogicalResource", _vlan, limit=3995),
    PoolDef("pool-ipv4", "Public IPv4 addresses 198.18.0.0/15", "rs-ipv4-address", "LogicalResource", _ipv4),
    PoolDef(
        "pool-cpe", "Home gateways in the warehouse", "rs-cpe-router", "PhysicalResource", _serial("HGW", "HGW-6000")
    ),
    PoolDef("pool-stb", "IPTV set-top boxes in the warehouse", "rs-stb", "PhysicalResource", _serial("STB", "STB-4K")),
)


async def stock_pools(engine: Engine, size: int) -> list[str]:
    """Create each demo pool that does not exist, with ``size`` free members; one line per pool."""
    pool_svc = pools.pools(engine)
    members = pools.resources(engine)
    specs = engine.resource(CATALOG, "resourceSpecification")
    lines = []
    for pool in DEMO_POOLS:
        if await pool_svc.row(pool.id) is not None:
            lines.append(f"resourcePool {pool.id}: already stocked")
            continue
        spec = await specs.read(pool.spec)
        if spec is None:
            lines.append(f"resourcePool {pool.id}: skipped, resource specification {pool.spec} is missing")
            continue
        count = min(size, pool.limit or size)
        body: Doc = {
            "id": pool.id,
            "description": pool.description,
            "resourceCollection": [
                {
                    "objectId": spec["id"],
                    "name": spec.get("name"),
                    "href": spec["href"],
                    "@referredType": "ResourceSpecification",
                }
            ],
            "@type": "ResourcePool",
        }
        created = pool_svc.prepare_create(body, keep_id=True)
        for start in range(0, count, _BATCH):
            async with engine.unit() as unit:
                for i in range(start, min(start + _BATCH, count)):
                    name, chars = pool.member(i)
                    body = {
                        "id": stable_id(pool.id, name),
                        **pools.member(created, spec, name, pool.resource_type, chars),
                    }
                    if await members.row(body["id"], unit) is None:  # a crash may have stocked part
                        await members.insert(unit, members.prepare_create(body, keep_id=True))
        async with engine.unit() as unit:  # last: a pool that exists is complete
            await pool_svc.insert(unit, created)
        lines.append(f"resourcePool {pool.id}: {count} free {spec.get('name')}")
    return lines
