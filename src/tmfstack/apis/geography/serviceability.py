"""Can a service specification be delivered at a place, and when? (TMF645's question)

A specification that no technology of the reference data delivers (mobile voice, a roaming
profile) does not depend on the place: it is serviceable anywhere. Otherwise the place must
lie in a covered area offering one of its technologies, and that offer must

- be available by the wanted date (``availableFrom``; else ``NOT_YET_AVAILABLE`` with that date),
- reach the requested speeds (``SPEED_NOT_AVAILABLE``),
- have capacity: a free resource in the area's (or technology's) TMF685 pool (``NO_CAPACITY``,
  with the area's ``nextCapacityDate`` when known).

Alternatives, when asked: the same specification at the highest speed the place gets, or
the specifications of other technologies of the same family that are available there
(a VDSL line where fibre is not built yet).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ...clock import parse_time
from ...tmf import Doc
from ..inventory import pools
from .places import Area, Reference, describe, locate, reference

if TYPE_CHECKING:
    from ...engine.core import Engine
    from ...engine.unit import Unit


@dataclass
class Verdict:
    result: str  #: qualified, unqualified or alternate
    reasons: list[tuple[str, str]] = field(default_factory=list)  #: (code, label)
    available: str | None = None  #: when the service can be delivered (or is expected to be)
    technology: str | None = None
    offer: Doc | None = None  #: the technology offer that qualified
    alternates: list[Doc] = field(default_factory=list)  #: {"spec", "technology", "offer", "date", "speed"}


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        digits = value.strip().split(" ")[0].replace(",", ".")
        try:
            return float(digits)
        except ValueError:
            return None
    return None


def wanted_speeds(ref: Reference, characteristics: Any) -> dict[str, float]:
    """Requested speeds (Mbit/s) by direction, from the characteristics the data set names."""
    out = {}
    by_name = {str(c.get("name", "")).casefold(): c.get("value") for c in characteristics or [] if isinstance(c, dict)}
    for direction, name in ref.speed.items():
        value = _number(by_name.get(name.casefold()))
        if value is not None:
            out[direction] = value
    return out


class Capacity:
    """Whether pools have a free resource, read once per check (a qualification may ask many times)."""

    def __init__(self, engine: Engine, unit: Unit) -> None:
        self.engine, self.unit = engine, unit
        self._free: dict[str, bool | None] = {}

    async def free(self, pool_id: str) -> bool | None:
        """Whether the pool has a free member; None when the pool is unknown (capacity is then not judged)."""
        if pool_id not in self._free:
            pool = await pools.pools(self.engine).read(pool_id, self.unit)
            if pool is None:
                self._free[pool_id] = None
            else:
                specs = pools.pool_specs(pool)
                self._free[pool_id] = any([await pools.has_free(self.engine, self.unit, s) for s in specs])
        return self._free[pool_id]


async def _judge(
    ref: Reference, area: Area, offer: Doc, speeds: dict[str, float], when: datetime, capacity: Capacity
) -> tuple[list[tuple[str, str]], str | None]:
    """Reasons an offer does not serve (empty: it does) and the date it could."""
    tech = ref.technologies[offer["id"]]
    label = tech.get("name") or offer["id"]
    reasons: list[tuple[str, str]] = []
    date: str | None = None
    start = parse_time(offer.get("availableFrom"))
    if start is not None and start > when:
        date = offer["availableFrom"]
        reasons.append(("NOT_YET_AVAILABLE", f"{label} is available at {area.label} from {offer['availableFrom']}."))
    for direction in ("download", "upload"):
        limit = offer.get(f"max{direction.capitalize()}Speed")
        if direction in speeds and limit is not None and speeds[direction] > limit:
            reasons.append(
                (
                    "SPEED_NOT_AVAILABLE",
                    f"{label} at {area.label} reaches {limit:g} Mbit/s {direction}, "
                    f"not the {speeds[direction]:g} asked for.",
                )
            )
    pool = area.pool or tech.get("resourcePool")
    if pool and await capacity.free(pool) is False:
        date = max(d for d in (area.next_capacity, date) if d) if area.next_capacity or date else None
        more = f"; more is expected from {area.next_capacity}" if area.next_capacity else ""
        reasons.append(("NO_CAPACITY", f"No free {label} capacity at {area.label} (pool {pool}){more}."))
    return reasons, date


def _later(reasons: list[tuple[str, str]]) -> bool:
    """Whether an offer serves now or only later: nothing but its build date stands in the way."""
    return all(code == "NOT_YET_AVAILABLE" for code, _ in reasons)


async def check(
    engine: Engine,
    unit: Unit,
    spec: Doc,
    place: Doc | None,
    characteristics: Any = None,
    wanted: str | None = None,
    alternatives: bool = False,
    capacity: Capacity | None = None,
) -> Verdict:
    """Serviceability of ``spec`` (a TMF633 specification) at ``place``, by the date ``wanted``."""
    ref = await reference(engine, unit)
    techs = {t["id"] for t in ref.technologies_of(spec["id"])}
    if not techs:
        return Verdict("qualified")
    if not place:
        return Verdict("unqualified", [("PLACE_MISSING", f"{spec.get('name')} depends on the place; none was given.")])
    area = await locate(engine, unit, place)
    if area is None or (not area.offers and area.id in ref.regions):  # a region is no address
        return Verdict(
            "unqualified", [("ADDRESS_NOT_COVERED", f"There is no coverage information for {describe(place)}.")]
        )
    capacity = capacity or Capacity(engine, unit)
    when = max(parse_time(wanted) or datetime.now(UTC), datetime.now(UTC))
    speeds = wanted_speeds(ref, characteristics)
    own = [o for o in area.offers if o.get("id") in techs]
    verdict = Verdict("unqualified")
    if not own:
        here = ", ".join(ref.technologies[o["id"]].get("name") or o["id"] for o in area.offers) or "none"
        wants = ", ".join(sorted(techs))
        verdict.reasons.append(
            (
                "TECHNOLOGY_NOT_AVAILABLE",
                f"{spec.get('name')} needs {wants}, which {area.label} does not have (available: {here}).",
            )
        )
    for offer in own:
        reasons, date = await _judge(ref, area, offer, speeds, when, capacity)
        if not reasons:
            start = parse_time(offer.get("availableFrom"))
            available = offer["availableFrom"] if start and start > datetime.now(UTC) else None
            return Verdict("qualified", available=available, technology=offer["id"], offer=offer)
        if not verdict.reasons or (date and not verdict.available):
            verdict.reasons, verdict.available = reasons, date
    if alternatives:
        verdict.alternates = await _alternates(ref, area, spec, own, techs, when, capacity)
        if verdict.alternates:
            verdict.result = "alternate"
    return verdict


async def _alternates(
    ref: Reference, area: Area, spec: Doc, own: list[Doc], techs: set[str], when: datetime, capacity: Capacity
) -> list[Doc]:
    found = []
    for offer in own:  # the same service, slower
        reasons, _ = await _judge(ref, area, offer, {}, when, capacity)
        if not reasons:
            speed = {d: offer.get(f"max{d.capitalize()}Speed") for d in ("download", "upload")}
            found.append({"spec": spec["id"], "technology": offer["id"], "offer": offer, "speed": speed})
    families = {ref.technologies[t].get("family") for t in techs} - {None}
    for offer in area.offers:
        tech = ref.technologies.get(offer["id"], {})  # every offer names a known technology (load checks)
        if offer.get("id") in techs or tech.get("family") not in families:
            continue
        reasons, date = await _judge(ref, area, offer, {}, when, capacity)
        if not _later(reasons):
            continue
        for other in tech.get("serviceSpecification", []):
            found.append({"spec": other, "technology": offer["id"], "offer": offer, "date": date})
    return found


async def available_here(
    engine: Engine, unit: Unit, place: Doc, wanted: str | None = None
) -> tuple[Area | None, list[Doc]]:
    """What can be delivered at ``place`` (TMF645 query): one entry per service specification,
    on its best technology there."""
    area = await locate(engine, unit, place)
    if area is None:
        return None, []
    ref = await reference(engine, unit)
    capacity = Capacity(engine, unit)
    when = max(parse_time(wanted) or datetime.now(UTC), datetime.now(UTC))
    best: dict[str, Doc] = {}
    for offer in area.offers:
        tech = ref.technologies.get(offer["id"])
        if tech is None:
            continue
        reasons, date = await _judge(ref, area, offer, {}, when, capacity)
        if not _later(reasons):
            continue
        start = parse_time(offer.get("availableFrom"))
        if date is None and start is not None and start > datetime.now(UTC):
            date = offer["availableFrom"]  # wanted later than it is built: still not available today
        entry = {"technology": offer["id"], "offer": offer, "date": date}
        for spec_id in tech.get("serviceSpecification", []):
            held = best.get(spec_id)
            if held is None or _rank(entry) < _rank(held):
                best[spec_id] = {"spec": spec_id, **entry}
    return area, list(best.values())


def _rank(entry: Doc) -> tuple[bool, float]:
    """Available now before available later, then the fastest."""
    return entry["date"] is not None, -(entry["offer"].get("maxDownloadSpeed") or 0)
