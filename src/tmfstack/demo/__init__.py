"""``tmfstack demo``: the demo catalog and a few customers' orders, through the API's own code paths.

The catalogs are loaded by importJobs (``data/*_catalog.json``); then each demo order is
submitted like ``POST /productOrder`` (the TMF622 productOrder service's ``create``) and
left to the order manager, which validates, prices and fulfils it into TMF637 products.
The order manager runs in a ``TaskRunner``; the web app starts one in its lifespan, and
``load_demo`` starts its own for as long as it waits for the orders (several runners on
one database share the work through their leases).

Loading twice creates nothing twice: catalog entities keep their ids (existing ones are
skipped by the import) and demo orders carry a stable ``externalId``: one already placed
is reported, not placed again.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from typing import Any

from ..apis.geography.places import load as load_reference
from ..apis.ordering.states import TERMINAL
from ..engine.core import Engine
from ..engine.tasks import TaskRunner
from ..tmf import Doc
from .pools import stock_pools
from .reference import reference_data

#: (API number, demo file in ``data/``), in dependency order: a service specification's
#: characteristic mappings name product and service specifications
DEMO_FILES = (
    ("tmf634", "resource_catalog.json"),
    ("tmf620", "product_catalog.json"),
    ("tmf633", "service_catalog.json"),
)
#: free members per demo pool (numbers, SIMs, ports, VLAN ids, addresses, CPE)
POOL_SIZE = 2000
PRODUCT_ORDERING = "tmf622"
PARTY = "tmf632"
PARTY_ROLES = "tmf669"
PRODUCT_INVENTORY = "tmf637"
#: how long one demo order may take to reach a terminal state (seconds)
ORDER_TIMEOUT = 60.0


@dataclass(frozen=True)
class Customer:
    id: str
    name: str
    referred_type: str  #: Individual or Organization (TMF632)
    billing_account: str
    channel: str  #: a sales channel of the demo catalog
    email: str = ""
    city: str = "Wien"
    role_name: str = "customer"  #: its TMF669 role
    street: str = ""
    street_nr: str = ""
    postcode: str = ""
    segment: str = "residential"  #: a market segment of ``reference.SEGMENTS``

    def address(self) -> Doc:
        """Where the customer's fixed line is installed (a TMF673-style GeographicAddress value)."""
        return {
            "role": "installationAddress",
            "streetName": self.street,
            "streetNr": self.street_nr,
            "postcode": self.postcode,
            "city": self.city,
            "country": "AT",
            "@type": "GeographicAddress",
        }

    def as_party(self) -> tuple[str, Doc]:
        """(TMF632 resource, body) of this customer, under the id orders refer to."""
        contact = [
            {"mediumType": "email", "preferred": True, "characteristic": {"emailAddress": self.email}},
            {
                "mediumType": "postalAddress",
                "characteristic": {
                    "street1": f"{self.street} {self.street_nr}",
                    "postCode": self.postcode,
                    "city": self.city,
                    "country": "AT",
                },
            },
        ]
        segment = [{"name": "marketSegment", "value": self.segment, "valueType": "string"}]
        if self.referred_type == "Organization":
            return "organization", {
                "id": self.id,
                "name": self.name,
                "tradingName": self.name,
                "isLegalEntity": True,
                "organizationType": "company",
                "contactMedium": contact,
                "partyCharacteristic": segment,
                "status": "validated",
            }
        given, family = self.name.split(" ", 1)
        return "individual", {
            "id": self.id,
            "givenName": given,
            "familyName": family,
            "fullName": self.name,
            "contactMedium": contact,
            "partyCharacteristic": segment,
            "status": "validated",
        }

    def role(self) -> Doc:
        """Their TMF669 customer role, with the billing account."""
        return {
            "id": f"pr-{self.id}",
            "name": self.role_name,
            "status": "validated",
            "engagedParty": {"id": self.id, "name": self.name, "@referredType": self.referred_type},
            "account": [self.account()],
        }

    def party(self) -> Doc:
        return {"id": self.id, "name": self.name, "role": "customer", "@referredType": self.referred_type}

    def account(self) -> Doc:
        return {"id": self.billing_account, "name": f"{self.name} (monthly invoice)", "@referredType": "BillingAccount"}


ANNA = Customer(
    "cust-anna",
    "Anna Berger",
    "Individual",
    "ba-anna-01",
    "web",
    "anna.berger@example.at",
    street="Mariahilfer Straße",
    street_nr="7",
    postcode="1060",
)
ACME = Customer(
    "cust-acme",
    "ACME Logistics GmbH",
    "Organization",
    "ba-acme-01",
    "telesales",
    "it@acme-logistics.example",
    "Linz",
    street="Industriezeile",
    street_nr="5",
    postcode="4020",
    segment="enterprise",
)
BEN = Customer(
    "cust-ben",
    "Ben Okafor",
    "Individual",
    "ba-ben-01",
    "retail",
    "ben.okafor@example.at",
    street="Webgasse",
    street_nr="4",
    postcode="1060",
    segment="youth",
)
#: a reseller that sells the demo offers under its own brand (TMF669 role "partner")
PARTNER = Customer(
    "org-nordwind",
    "Nordwind Telecom Partners GmbH",
    "Organization",
    "ba-nordwind",
    "partner",
    "wholesale@nordwind.example",
    "Salzburg",
    role_name="partner",
    street="Linzer Gasse",
    street_nr="3",
    postcode="5020",
    segment="business",
)
CUSTOMERS = (ANNA, ACME, BEN)


def _char(name: str, value: Any, value_type: str) -> Doc:
    return {"name": name, "value": value, "valueType": value_type}


def _add(
    item_id: str,
    offering: str,
    name: str,
    *chars: Doc,
    children: list[Doc] | None = None,
    place: Customer | None = None,
) -> Doc:
    item: Doc = {
        "id": item_id,
        "action": "add",
        "quantity": 1,
        "productOffering": {"id": offering, "name": name, "@referredType": "ProductOffering"},
    }
    if chars or place:
        item["product"] = {"productCharacteristic": list(chars), "@type": "Product"}
    if place:  # a fixed line: installed at the customer's address, which qualification checks
        item["product"]["place"] = [place.address()]
    if children:
        item["productOrderItem"] = children
    return item


@dataclass(frozen=True)
class DemoOrder:
    external_id: str
    customer: Customer
    summary: str
    #: the order items; a modify order's items are built once the product it changes is known
    items: Callable[[str | None], list[Doc]]
    #: for a modify order: (offering id, status) of the customer's product it changes
    changes: tuple[str, str] | None = None


def _suspend(product_id: str | None) -> list[Doc]:
    return [
        {
            "id": "1",
            "action": "modify",
            "quantity": 1,
            "product": {"id": product_id, "status": "suspended", "@type": "Product"},
        }
    ]


DEMO_ORDERS = (
    DemoOrder(
        "demo-anna-mobile",
        ANNA,
        "Mobile M (eSIM, +436641234567) with Extra data 10 GB",
        lambda _: [
            _add(
                "1",
                "po-mobile-m",
                "Mobile M",
                _char("MSISDN", "+436641234567", "string"),
                _char("eSIM", True, "boolean"),
            ),
            _add("2", "po-extra-data-10gb", "Extra data 10 GB"),
        ],
    ),
    DemoOrder(
        "demo-acme-fibre",
        ACME,
        "Fibre 1000 with technician installation and a Wi-Fi 6 router with 2 mesh extenders",
        lambda _: [
            _add(
                "1",
                "po-fibre-1000",
                "Fibre 1000",
                _char("Installation type", "Technician installation", "string"),
                place=ACME,
            ),
            _add("2", "po-wifi-router", "Wi-Fi 6 router rental", _char("Mesh extenders", 2, "integer")),
        ],
    ),
    DemoOrder(
        "demo-ben-bundle",
        BEN,
        "Home & Mobile bundle: Fibre 500 and Mobile Unlimited (+436641235432)",
        lambda _: [
            _add(
                "1",
                "po-home-mobile-bundle",
                "Home & Mobile bundle",
                children=[
                    _add(
                        "1.1",
                        "po-fibre-500",
                        "Fibre 500",
                        _char("Installation type", "Self-installation", "string"),
                        place=BEN,
                    ),
                    _add("1.2", "po-mobile-unlimited", "Mobile Unlimited", _char("MSISDN", "+436641235432", "string")),
                ],
            )
        ],
    ),
    DemoOrder(
        "demo-anna-suspend",
        ANNA,
        "suspend the Mobile M line (phone reported lost)",
        _suspend,
        changes=("po-mobile-m", "active"),
    ),
)


async def load_demo(engine: Engine, *, orders: bool = True, pool_size: int = POOL_SIZE) -> list[str]:
    """Import the demo catalogs, stock the pools, then place the demo orders; one summary line each."""
    lines = await _import_catalog(engine)
    summary = await load_reference(engine, reference_data())
    lines.append(
        f"reference data: {summary['regions']} regions, {summary['technologies']} technologies,"
        f" coverage of {summary['areasLoaded']} areas"
    )
    lines += await _parties(engine)
    lines += await stock_pools(engine, pool_size)
    if orders:
        runner = TaskRunner(engine)
        runner.start()
        try:
            for demo in DEMO_ORDERS:
                lines.append(await _place(engine, demo))
        finally:
            await runner.stop()
    return lines


async def _parties(engine: Engine) -> list[str]:
    """The demo customers and the partner in TMF632, with their TMF669 roles (kept when present)."""
    created = 0
    for who in (*CUSTOMERS, PARTNER):
        resource, body = who.as_party()
        role = who.role()
        for svc, doc in (
            (engine.resource(PARTY, resource), body),
            (engine.resource(PARTY_ROLES, "partyRole"), role),
        ):
            if await svc.row(doc["id"]) is None:
                await svc.create(doc, keep_id=True)
                created += 1
    return [f"parties: {len(CUSTOMERS)} customers and 1 partner with their roles ({created} records created)"]


async def _import_catalog(engine: Engine) -> list[str]:
    lines = []
    for api, name in DEMO_FILES:
        path = resources.files("tmfstack.demo").joinpath("data", name)
        url = f"file://{path}"
        jobs = engine.resource(api, "importJob")
        job, _, _ = await jobs.create({"url": url, "contentType": "application/json"})
        while True:
            current = await jobs.read(job["id"]) or {}
            if current["status"] in ("Succeeded", "Failed"):
                break
            await asyncio.sleep(0.05)
        lines.append(f"{api}: {current['status']} ({current.get('errorLog', '').splitlines()[0]})")
    return lines


async def _find(engine: Engine, api: str, resource: str, params: list[tuple[str, str]]) -> list[Doc]:
    return await engine.resource(api, resource).find(dict(params))


async def _place(engine: Engine, demo: DemoOrder) -> str:
    label = f"productOrder {demo.external_id} ({demo.customer.name}: {demo.summary})"
    placed = await _find(engine, PRODUCT_ORDERING, "productOrder", [("externalId", demo.external_id)])
    if placed:
        return f"{label}: already placed, {placed[0]['state']} [{placed[0]['id']}]"
    product_id = None
    if demo.changes is not None:
        offering, status = demo.changes
        params = [("relatedParty.id", demo.customer.id), ("productOffering.id", offering), ("status", status)]
        products = await _find(engine, PRODUCT_INVENTORY, "product", params)
        if not products:
            return f"{label}: not placed, the customer has no {status} {offering} product"
        product_id = products[0]["id"]
    body: Doc = {
        "externalId": demo.external_id,
        "description": f"Demo order: {demo.summary}",
        "category": "B2B" if demo.customer.referred_type == "Organization" else "B2C",
        "priority": "4",
        "channel": [{"id": demo.customer.channel, "@referredType": "SalesChannel"}],
        "relatedParty": [demo.customer.party()],
        "billingAccount": demo.customer.account(),
        "productOrderItem": demo.items(product_id),
        "@type": "ProductOrder",
    }
    orders = engine.resource(PRODUCT_ORDERING, "productOrder")
    order, _, _ = await orders.create(body)
    order = await _wait(engine, order["id"])
    outcome = order["state"] if order["state"] in TERMINAL else f"still {order['state']} after {ORDER_TIMEOUT:.0f} s"
    if order["state"] != "completed":
        reasons = [n.get("text", "") for n in order.get("note") or [] if n.get("text", "").startswith("rejected")]
        outcome += f" ({'; '.join(reasons)})" if reasons else ""
    return f"{label}: {outcome} [{order['id']}]"


async def _wait(engine: Engine, order_id: str) -> Doc:
    orders = engine.resource(PRODUCT_ORDERING, "productOrder")
    deadline = time.monotonic() + ORDER_TIMEOUT
    while True:
        order = await orders.read(order_id) or {"state": "missing"}
        if order["state"] in TERMINAL or time.monotonic() > deadline:
            return order
        await asyncio.sleep(0.01)
