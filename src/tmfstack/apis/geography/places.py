"""Places and markets: the reference data an operator loads for qualification.

One data set (``POST /admin/reference``, ``tmfstack reference FILE``, the demo) holds:

- ``regions``: a hierarchy (``parent``) such as country → state → city. An offering's
  ``place`` names regions; a customer's place qualifies when its region is one of them or
  lies within one.
- ``marketSegments``: a hierarchy of customer segments (``residential`` → ``youth``); an
  offering's ``marketSegment`` qualifies a customer of that segment or of a sub-segment.
- ``technologies``: access technologies (FTTH, VDSL…) with the service specifications they
  deliver, a ``family`` (services of one family can stand in for each other, e.g. a slower
  broadband) and optionally the TMF685 ``resourcePool`` whose free stock is its capacity.
- ``areas``: where technologies are available: a postcode, a street's house-number range
  (``from``/``to``) or one address (``streetNr``), each with its ``region`` and, per
  technology, ``maxDownloadSpeed``/``maxUploadSpeed`` (Mbit/s) and ``availableFrom``; an
  area may name its own ``resourcePool`` (an exchange's ports) and ``nextCapacityDate``.

The data is reference data, not TMF resources (``engine.reference``, its own table): the
header (regions, segments, technologies) in one entry, parsed once per version, and the areas
keyed so that an address is found with at most two primary-key reads (its street, else its
postcode), whatever the data set's size.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ... import limits
from ...clock import iso, now_iso, parse_time
from ...errors import BadRequest
from ...tmf import Doc

if TYPE_CHECKING:
    from ...engine.core import Engine
    from ...engine.unit import Unit

#: the data sets of ``engine.reference`` (the names the data had as store kinds before)
HEADER, AREA, STREET, POSTCODE = "geo.reference", "geo.area", "geo.street", "geo.postcode"
_HEADER_ID = "current"
#: the characteristic names a requested speed is read from, unless the data set says otherwise
SPEED_CHARACTERISTICS = {"download": "Download speed", "upload": "Upload speed"}


class InvalidReference(BadRequest):
    code = "INVALID_REFERENCE_DATA"


@dataclass(frozen=True)
class Reference:
    """The header of the data set: hierarchies and technologies."""

    regions: dict[str, Doc] = field(default_factory=dict)
    segments: dict[str, Doc] = field(default_factory=dict)
    technologies: dict[str, Doc] = field(default_factory=dict)
    speed: dict[str, str] = field(default_factory=lambda: dict(SPEED_CHARACTERISTICS))
    loaded: bool = False

    def lineage(self, tree: dict[str, Doc], id: str) -> list[str]:
        """``id`` and its ancestors, nearest first (a cycle in the data stops the walk)."""
        out: list[str] = []
        current: str | None = id
        while current is not None and current not in out:
            out.append(current)
            current = (tree.get(current) or {}).get("parent")
        return out

    def region_within(self, region: str, allowed: set[str]) -> bool:
        return any(r in allowed for r in self.lineage(self.regions, region))

    def segment_within(self, segments: set[str], allowed: set[str]) -> bool:
        return any(s in allowed for seg in segments for s in self.lineage(self.segments, seg))

    def technologies_of(self, spec_id: str) -> list[Doc]:
        """The technologies that deliver a service specification ([]: it does not depend on the place)."""
        return [t for t in self.technologies.values() if spec_id in t.get("serviceSpecification", ())]

    def name_of(self, tree: dict[str, Doc], id: str) -> str:
        name = (tree.get(id) or {}).get("name")
        return f"{name} ({id})" if name else id


@dataclass(frozen=True)
class Area:
    """Where a place lies: its region and the technologies offered there."""

    id: str | None
    label: str
    region: str | None
    offers: tuple[Doc, ...] = ()  #: {"id": technology, "maxDownloadSpeed", "maxUploadSpeed", "availableFrom"}
    pool: str | None = None
    next_capacity: str | None = None


# -- normalised keys -----------------------------------------------------------------------


def fold_address(text: Any) -> str:
    """A postcode or street name as keys compare it: folded like ``tmf.fold``, and also NFKC,
    ß as ss, ``str.`` as ``strasse`` and punctuation as spaces ("Hauptstr. 1" == "hauptstrasse 1")."""
    text = unicodedata.normalize("NFKC", str(text)).casefold().replace("ß", "ss")
    text = re.sub(r"\bstr\.?(?=\s|$)", "strasse", text)
    text = re.sub(r"(?<=\w)str\.?$", "strasse", text)
    return " ".join(re.sub(r"[^\w]+", " ", text).split())


def street_key(postcode: Any, street: Any) -> str:
    return f"{fold_address(postcode)}|{fold_address(street)}"


def house_number(value: Any) -> int | None:
    """The number a house number starts with (``"12a"`` -> 12); None when it has none, or one of
    more digits than any house has (``int()`` of 5,000 digits would raise, not answer)."""
    match = re.match(r"\s*(\d+)", str(value)[:64]) if value is not None else None
    return limits.small_int(match.group(1)) if match else None


def address_of(place: Doc) -> tuple[str | None, str | None, int | None]:
    """(postcode, street, house number) of a GeographicAddress value (v4 or v5 spelling)."""
    postcode = place.get("postcode") or place.get("postCode")
    street = place.get("streetName") or place.get("street")
    if street and place.get("streetType") and not str(street).casefold().endswith(str(place["streetType"]).casefold()):
        street = f"{street} {place['streetType']}"
    return (
        str(postcode) if postcode else None,
        str(street) if street else None,
        house_number(place.get("streetNr")),
    )


def describe(place: Doc) -> str:
    postcode, street, number = address_of(place)
    if postcode or street:
        city = place.get("city") or ""
        return " ".join(str(p) for p in (street, number, postcode, city) if p)
    return str(place.get("name") or place.get("id") or "the place")


# -- reading -------------------------------------------------------------------------------


def _header(doc: Doc) -> Reference:
    return Reference(
        regions={r["id"]: r for r in doc.get("regions", [])},
        segments={s["id"]: s for s in doc.get("marketSegments", [])},
        technologies={t["id"]: t for t in doc.get("technologies", [])},
        speed={**SPEED_CHARACTERISTICS, **(doc.get("speedCharacteristics") or {})},
        loaded=True,
    )


async def reference(engine: Engine, unit: Unit | None = None) -> Reference:
    """The loaded header (empty when nothing was loaded), parsed once per stored version."""
    return await engine.reference.cached(HEADER, _HEADER_ID, _header, unit) or Reference()


def _area(doc: Doc) -> Area:
    label = doc.get("name")
    if not label:
        houses = doc.get("streetNr") or (
            f"{doc['from']}-{doc['to']}"
            if doc.get("from") is not None and doc.get("to") != doc.get("from")
            else doc.get("from")
        )
        street = " ".join(str(p) for p in (doc.get("street"), houses) if p)
        town = " ".join(str(p) for p in (doc.get("postcode"), doc.get("city")) if p)
        label = ", ".join(p for p in (street, town) if p) or str(doc.get("id"))
    return Area(
        doc.get("id"),
        str(label),
        doc.get("region"),
        tuple(doc.get("technologies") or ()),
        doc.get("resourcePool"),
        doc.get("nextCapacityDate"),
    )


async def locate(engine: Engine, unit: Unit, place: Doc | None) -> Area | None:
    """The area a place lies in: an address by street (its house-number range), else its
    postcode; a place by id is an area of the data set, or a region."""
    if not isinstance(place, dict):
        return None
    postcode, street, number = address_of(place)
    if postcode and street:
        stored = engine.reference
        found = await stored.get(STREET, street_key(postcode, street), unit)
        if found is not None:
            best = None
            for entry in found["areas"]:
                low, high = entry.get("from"), entry.get("to")
                if number is None and low is not None:
                    continue
                if low is not None and not (low <= (number or 0) <= (high if high is not None else low)):
                    continue
                width = (high or low or 0) - (low or 0) if low is not None else float("inf")
                if best is None or width < best[0]:
                    best = (width, entry)
            if best is not None:
                return _area(best[1])
    if postcode:
        area = await engine.reference.get(POSTCODE, fold_address(postcode), unit)
        if area is not None:
            return _area(area)
    place_id = place.get("id")
    if isinstance(place_id, str) and place_id:
        area = await engine.reference.get(AREA, place_id, unit)
        if area is not None:
            return _area(area)
        ref = await reference(engine, unit)
        if place_id in ref.regions:
            return Area(place_id, ref.name_of(ref.regions, place_id), place_id)
    return None


# -- loading -------------------------------------------------------------------------------


def _check_tree(items: Any, what: str, known: dict[str, Doc]) -> dict[str, Doc]:
    if not isinstance(items, list):
        raise InvalidReference(f"{what} must be a list")
    tree = dict(known)
    for entry in items:
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str) or not entry["id"]:
            raise InvalidReference(f"every entry of {what} needs an id: {entry!r}")
        tree[entry["id"]] = {k: entry[k] for k in ("id", "name", "parent") if k in entry}
    for entry in tree.values():
        parent = entry.get("parent")
        if parent is not None and parent not in tree:
            raise InvalidReference(f"{what}: {entry['id']!r} names an unknown parent {parent!r}")
    return tree


def _check_technologies(items: Any, known: dict[str, Doc]) -> dict[str, Doc]:
    if not isinstance(items, list):
        raise InvalidReference("technologies must be a list")
    out = dict(known)
    for t in items:
        if not isinstance(t, dict) or not isinstance(t.get("id"), str) or not t["id"]:
            raise InvalidReference(f"every technology needs an id: {t!r}")
        specs = t.get("serviceSpecification", [])
        if not isinstance(specs, list) or not all(isinstance(s, str) for s in specs):
            raise InvalidReference(f"technology {t['id']!r}: serviceSpecification must be a list of ids")
        out[t["id"]] = t
    return out


def _check_area(n: int, a: Any, ref: Reference) -> Doc:
    where = f"areas[{n}]"
    if not isinstance(a, dict):
        raise InvalidReference(f"{where} must be an object")
    if not a.get("postcode") and not a.get("id"):
        raise InvalidReference(f"{where} needs a postcode (with a street and house numbers) or an id")
    if a.get("street") and not a.get("postcode"):
        raise InvalidReference(f"{where}: a street needs its postcode")
    if a.get("region") is not None and a["region"] not in ref.regions:
        raise InvalidReference(f"{where}: unknown region {a['region']!r}")
    offers = a.get("technologies", [])
    if not isinstance(offers, list):
        raise InvalidReference(f"{where}: technologies must be a list")
    doc = dict(a)
    doc["technologies"] = []
    for o in offers:
        if not isinstance(o, dict) or o.get("id") not in ref.technologies:
            raise InvalidReference(f"{where}: unknown technology {o!r}")
        for speed in ("maxDownloadSpeed", "maxUploadSpeed"):
            if o.get(speed) is not None and (isinstance(o[speed], bool) or not isinstance(o[speed], int | float)):
                raise InvalidReference(f"{where}: {speed} must be a number (Mbit/s)")
        offer = dict(o)
        if o.get("availableFrom") is not None:
            offer["availableFrom"] = _date_time(f"{where}.availableFrom", o["availableFrom"])
        doc["technologies"].append(offer)
    if a.get("nextCapacityDate") is not None:
        doc["nextCapacityDate"] = _date_time(f"{where}.nextCapacityDate", a["nextCapacityDate"])
    if a.get("streetNr") is not None and not a.get("street"):
        raise InvalidReference(f"{where}: a house number needs its street")
    if a.get("streetNr") is not None:
        number = house_number(a["streetNr"])
        if number is None:
            raise InvalidReference(f"{where}: streetNr {a['streetNr']!r} has no number")
        doc["from"] = doc["to"] = number
    for bound in ("from", "to"):
        if doc.get(bound) is not None and (isinstance(doc[bound], bool) or not isinstance(doc[bound], int)):
            raise InvalidReference(f"{where}: {bound} must be a house number")
    if (doc.get("from") is None) != (doc.get("to") is None) and doc.get("to") is not None:
        raise InvalidReference(f"{where}: 'to' needs 'from'")
    if doc.get("to") is not None and doc["to"] < doc["from"]:
        raise InvalidReference(f"{where}: 'from' {doc['from']} is after 'to' {doc['to']}")
    return doc


def _date_time(where: str, value: Any) -> str:
    """An ISO date or date-time as the UTC date-time answers carry (a date is its midnight, UTC)."""
    moment = parse_time(value)
    if moment is None:
        raise InvalidReference(f"{where}: {value!r} is not an ISO 8601 date or date-time")
    return iso(moment)


async def _forget_old_place(engine: Engine, unit: Unit, area: Doc, key: str | None, moved: dict[str, set[str]]) -> None:
    """An area loaded again under its id may have moved: it no longer covers its old place."""
    stored = engine.reference
    old = await stored.get(AREA, area["id"], unit)
    if old is None:
        return
    if old.get("street"):
        old_key = street_key(old["postcode"], old["street"])
        if old_key != key:
            moved.setdefault(old_key, set()).add(area["id"])
    elif old.get("postcode") and (key or fold_address(old["postcode"]) != fold_address(area.get("postcode") or "")):
        current = await stored.get(POSTCODE, fold_address(old["postcode"]), unit)
        if current is not None and current.get("id") == area["id"]:
            await stored.delete(unit, POSTCODE, fold_address(old["postcode"]))


async def load(engine: Engine, data: Any) -> Doc:
    """Merge a data set into the stored one (entries with the same id, and areas with the same
    id or the same street range, replace the stored ones); all or nothing. Returns a summary."""
    if not isinstance(data, dict):
        raise InvalidReference("the reference data must be a JSON object")
    unknown = set(data) - {"regions", "marketSegments", "technologies", "areas", "speedCharacteristics"}
    if unknown:
        raise InvalidReference(f"unknown sections {sorted(unknown)}")
    stored = engine.reference
    async with engine.unit() as unit:
        old = await reference(engine, unit)
        ref = Reference(
            regions=_check_tree(data.get("regions", []), "regions", old.regions),
            segments=_check_tree(data.get("marketSegments", []), "marketSegments", old.segments),
            technologies=_check_technologies(data.get("technologies", []), old.technologies),
            speed={**old.speed, **(data.get("speedCharacteristics") or {})},
        )
        areas = data.get("areas", [])
        if not isinstance(areas, list):
            raise InvalidReference("areas must be a list")
        streets: dict[str, list[Doc]] = {}
        moved: dict[str, set[str]] = {}  # street key -> ids of areas that now lie elsewhere
        postcodes = 0
        for n, raw in enumerate(areas):
            area = _check_area(n, raw, ref)
            key = street_key(area["postcode"], area["street"]) if area.get("street") else None
            if area.get("id"):
                await _forget_old_place(engine, unit, area, key, moved)
                await stored.put(unit, AREA, area["id"], area)
            if key:
                streets.setdefault(key, []).append(area)
            elif area.get("postcode"):
                await stored.put(unit, POSTCODE, fold_address(area["postcode"]), area)
                postcodes += 1
        for key in set(streets) | set(moved):
            new = list({(a.get("from"), a.get("to")): a for a in streets.get(key, [])}.values())  # last wins
            kept = ((await stored.get(STREET, key, unit)) or {}).get("areas", [])
            ranges = {(a.get("from"), a.get("to")) for a in new}
            gone = {a["id"] for a in new if a.get("id")} | moved.get(key, set())
            kept = [a for a in kept if (a.get("from"), a.get("to")) not in ranges and a.get("id") not in gone]
            await stored.put(unit, STREET, key, {"areas": kept + new})
        header = {
            "regions": list(ref.regions.values()),
            "marketSegments": list(ref.segments.values()),
            "technologies": list(ref.technologies.values()),
            "speedCharacteristics": ref.speed,
            "updated": now_iso(),
        }
        await stored.put(unit, HEADER, _HEADER_ID, header)
    return {
        "regions": len(ref.regions),
        "marketSegments": len(ref.segments),
        "technologies": len(ref.technologies),
        "areasLoaded": len(areas),
        "streets": len(streets),
        "postcodes": postcodes,
    }
