"""Realistic TMF620 ProductOffering bodies (~1.5-2 KB once the server adds id, href and lastUpdate).

Deterministic for a given seed, so a cached database and a fresh one hold the same kind of data.
"""

from __future__ import annotations

import random
import uuid
from typing import Any

BASE = "http://127.0.0.1:8080/tmf-api/productCatalogManagement/v4"

#: the TMF620 catalog lifecycle, weighted the way a live catalog looks (most offerings Launched)
LIFECYCLE = (
    ("In study", 3),
    ("In design", 7),
    ("In test", 5),
    ("Active", 10),
    ("Launched", 50),
    ("Retired", 15),
    ("Obsolete", 7),
    ("Rejected", 3),
)
_STATES = [s for s, _ in LIFECYCLE]
_WEIGHTS = [w for _, w in LIFECYCLE]

_FAMILIES = (
    ("Fibre", "Home broadband over fibre to the premises"),
    ("5G Mobile", "Postpaid 5G mobile plan with voice, SMS and data"),
    ("Business Fibre", "Symmetric business internet access with a service level agreement"),
    ("TV", "Streaming TV package with live channels and replay"),
    ("Fixed Wireless", "Fixed wireless access for homes outside the fibre footprint"),
    ("IoT Connect", "Connectivity for fleets of IoT devices with pooled data"),
    ("Cloud PBX", "Hosted telephony for small and medium businesses"),
    ("SD-WAN", "Managed SD-WAN with centralised policy and analytics"),
)
_TIERS = ("Lite", "Essential", "Plus", "Premium", "Ultimate", "Pro", "Max")
_SPEEDS = ("100 Mbps", "300 Mbps", "500 Mbps", "1 Gbps", "2 Gbps", "10 GB", "50 GB", "Unlimited")
_TERMS = (12, 24, 36)
_CHANNELS = ("Online shop", "Retail store", "Call centre", "Partner portal", "Field sales", "Mobile app")
_SEGMENTS = ("Residential", "Small business", "Enterprise", "Wholesale", "Public sector")


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


class OfferingFactory:
    """Builds create bodies; reference targets come from fixed pools like in a real catalog."""

    def __init__(self, seed: int = 620) -> None:
        self.rng = random.Random(seed)
        pool = random.Random(seed + 1)
        self.specs = [(_uuid(pool), f"Spec {i:05d}") for i in range(2000)]
        self.prices = [(_uuid(pool), f"Price {i:05d}") for i in range(5000)]
        self.categories = [(_uuid(pool), f"Category {i:03d}") for i in range(60)]
        self.channels = [(_uuid(pool), name) for name in _CHANNELS]
        self.segments = [(_uuid(pool), name) for name in _SEGMENTS]
        self.counter = 0

    def _ref(self, resource: str, item: tuple[str, str], referred: str, **extra: Any) -> dict[str, Any]:
        return {
            "id": item[0],
            "href": f"{BASE}/{resource}/{item[0]}",
            "name": item[1],
            **extra,
            "@referredType": referred,
        }

    def body(self) -> dict[str, Any]:
        rng = self.rng
        self.counter += 1
        family, blurb = rng.choice(_FAMILIES)
        tier, speed, term = rng.choice(_TIERS), rng.choice(_SPEEDS), rng.choice(_TERMS)
        name = f"{family} {tier} {speed} {term}m #{self.counter:07d}"
        year = rng.randint(2021, 2026)
        start = f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T00:00:00Z"
        end = f"{year + rng.choice((2, 3, 5))}-12-31T23:59:59Z"
        spec = rng.choice(self.specs)
        prices = rng.sample(self.prices, rng.randint(1, 2))  # a recurring charge, maybe a one-off fee
        return {
            "name": name,
            "description": (
                f"{blurb}. {tier} tier with {speed} and a {term}-month minimum term. Free install, "
                f"{rng.randint(5, 30)}-day satisfaction guarantee; subject to availability."
            ),
            "version": f"{rng.randint(1, 4)}.{rng.randint(0, 9)}",
            "lifecycleStatus": rng.choices(_STATES, _WEIGHTS)[0],
            "isBundle": False,
            "isSellable": rng.random() < 0.85,
            "validFor": {"startDateTime": start, "endDateTime": end},
            "productSpecification": self._ref("productSpecification", spec, "ProductSpecification"),
            "productOfferingPrice": [self._ref("productOfferingPrice", p, "ProductOfferingPrice") for p in prices],
            # channels and market segments live in other APIs: referenced by id and name only
            "channel": [{"id": c[0], "name": c[1]} for c in [rng.choice(self.channels)]],
            "category": [self._ref("category", rng.choice(self.categories), "Category")],
            "marketSegment": [{"id": m[0], "name": m[1]} for m in [rng.choice(self.segments)]],
            "prodSpecCharValueUse": [
                {
                    "name": "Download speed",
                    "valueType": "string",
                    "productSpecCharacteristicValue": [
                        {"valueType": "string", "value": speed, "isDefault": True},
                    ],
                },
                {
                    "name": "Contract term",
                    "valueType": "integer",
                    "productSpecCharacteristicValue": [
                        {"valueType": "integer", "value": term, "unitOfMeasure": "month", "isDefault": True},
                    ],
                },
            ],
            "@type": "ProductOffering",
        }
