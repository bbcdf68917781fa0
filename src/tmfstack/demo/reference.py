"""The demo's places-and-markets data: Austrian regions, customer segments, two access
technologies and coverage for a few hundred addresses in Wien, Linz, Graz and Salzburg.

Generated, not stored: the streets are real names, the coverage is invented but shaped like
an operator's (fibre in the inner districts and Linz, VDSL2 almost everywhere, fibre being
built in some streets with a date, a postcode-wide DSL fallback).
"""

from __future__ import annotations

from ..tmf import Doc

REGIONS = [
    {"id": "AT", "name": "Austria"},
    {"id": "AT-9", "name": "Wien", "parent": "AT"},
    {"id": "AT-4", "name": "Oberösterreich", "parent": "AT"},
    {"id": "AT-4-LINZ", "name": "Linz", "parent": "AT-4"},
    {"id": "AT-6", "name": "Steiermark", "parent": "AT"},
    {"id": "AT-6-GRAZ", "name": "Graz", "parent": "AT-6"},
    {"id": "AT-5", "name": "Salzburg (state)", "parent": "AT"},
    {"id": "AT-5-SZG", "name": "Salzburg", "parent": "AT-5"},
    {"id": "DE", "name": "Germany"},
    {"id": "DE-BY", "name": "Bayern", "parent": "DE"},
]
SEGMENTS = [
    {"id": "residential", "name": "Residential"},
    {"id": "youth", "name": "Youth (under 27)", "parent": "residential"},
    {"id": "business", "name": "Small business"},
    {"id": "enterprise", "name": "Enterprise", "parent": "business"},
]
TECHNOLOGIES = [
    {
        "id": "FTTH",
        "name": "Fibre to the home (GPON)",
        "family": "fixed broadband",
        "serviceSpecification": ["ss-cfs-internet-access", "ss-cfs-home-network", "ss-cfs-iptv"],
        "resourcePool": "pool-olt-port",
    },
    {
        "id": "VDSL",
        "name": "VDSL2 vectoring",
        "family": "fixed broadband",
        "serviceSpecification": ["ss-cfs-internet-vdsl"],
    },
]
FIBRE = {"id": "FTTH", "maxDownloadSpeed": 1000, "maxUploadSpeed": 500}
FIBRE_2027 = {**FIBRE, "availableFrom": "2027-03-01T00:00:00Z"}


def _vdsl(speed: int) -> Doc:
    return {"id": "VDSL", "maxDownloadSpeed": speed, "maxUploadSpeed": 40 if speed > 50 else 10}


#: (postcode, region, streets, technologies by street position)
_CITIES = (
    ("1010", "AT-9", ("Stephansplatz", "Graben", "Kärntner Straße", "Herrengasse", "Rotenturmstraße"), "inner"),
    ("1060", "AT-9", ("Mariahilfer Straße", "Gumpendorfer Straße", "Webgasse", "Stumpergasse"), "inner"),
    ("1100", "AT-9", ("Favoritenstraße", "Quellenstraße", "Laxenburger Straße", "Gudrunstraße"), "mixed"),
    ("1220", "AT-9", ("Wagramer Straße", "Donaustadtstraße", "Erzherzog-Karl-Straße"), "building"),
    ("4020", "AT-4-LINZ", ("Landstraße", "Hauptplatz", "Industriezeile", "Wiener Straße"), "inner"),
    ("8010", "AT-6-GRAZ", ("Herrengasse", "Sporgasse", "Annenstraße", "Elisabethstraße"), "copper"),
    ("5020", "AT-5-SZG", ("Getreidegasse", "Linzer Gasse", "Ignaz-Harrer-Straße"), "mixed"),
)
HOUSES = 12  #: numbers 1..12 of each street


def _technologies(kind: str, street_no: int, house: int) -> list[Doc]:
    if kind == "inner":
        return [FIBRE, _vdsl(250)]
    if kind == "building":  # fibre is being built: available from a date
        return [FIBRE_2027, _vdsl(100)]
    if kind == "copper":
        return [_vdsl(100 if house % 3 else 50)]
    return [FIBRE, _vdsl(250)] if (street_no + house) % 2 == 0 else [_vdsl(100)]


def reference_data() -> Doc:
    areas: list[Doc] = []
    for postcode, region, streets, kind in _CITIES:
        for street_no, street in enumerate(streets):
            for house in range(1, HOUSES + 1):
                areas.append(
                    {
                        "postcode": postcode,
                        "street": street,
                        "streetNr": str(house),
                        "region": region,
                        "technologies": _technologies(kind, street_no, house),
                    }
                )
        # anything else in the postcode: the street cabinets' DSL
        areas.append({"postcode": postcode, "region": region, "technologies": [_vdsl(50)]})
    return {"regions": REGIONS, "marketSegments": SEGMENTS, "technologies": TECHNOLOGIES, "areas": areas}
