"""TMF632 Party Management v5: the v4 individuals and organizations, mapped at the edge.

=============================================  ============================================================
v4 (stored)                                    v5 (served)
=============================================  ============================================================
``Individual.fullName``                        ``Individual.name``
``Individual.status`` ``deceaded``             ``deceased`` (``initialized``, ``validated`` unchanged)
``contactMedium {mediumType, preferred,        polymorphic by ``@type``: ``EmailContactMedium {emailAddress}``,
characteristic: {emailAddress, phoneNumber,    ``PhoneContactMedium {phoneNumber}``, ``FaxContactMedium``,
street1, city…, contactType}}``                ``GeographicAddressContactMedium {street1, city…}``,
                                               ``SocialContactMedium``; ``contactType``, ``id`` on the medium
``mediumType`` email / phone / fax /           the ``@type`` (a v4 spelling outside these, e.g. ``mobile``,
postalAddress / socialNetwork                  is also shown as ``mediumType`` so nothing is lost)
``externalReference {name,                     ``externalReference: ExternalIdentifier {id,
externalReferenceType}``                       externalIdentifierType, owner}`` (``owner`` kept as given)
``relatedParty {id, name, role,                ``RelatedPartyOrPartyRole {role, partyOrPartyRole: PartyRef |
@referredType}``                               PartyRoleRef}`` (``generations.RELATED_PARTY``)
``partyCharacteristic``                        typed ``Characteristic`` (``generations``)
``creditRating``, ``taxExemptionCertificate``, same attributes; v5-only ones (``PartyCreditProfile.id``,
``skill``, ``languageAbility``, ``disability``, ``certificateNumber``, ``issuingJurisdiction``, ``reason``)
``individualIdentification``,                  are stored as given and returned
``organizationIdentification``, ``otherName``
=============================================  ============================================================

A v5 organization requires ``name`` where v4 requires ``tradingName``: one created through v5
without a ``tradingName`` trades under its ``name``; one made in v4 without a ``name`` is shown
with its ``tradingName`` as ``name`` (``_named``).
"""

from __future__ import annotations

from typing import Any

from ...engine.shape import Attr
from ...engine.versions import ResourceMap, VersionDecl
from ...tmf import Doc
from ..generations import V5_COMMON
from . import tmf632

#: v5 contact medium ``@type`` -> the v4 ``mediumType`` a v5 create stores
MEDIUM_TYPES = {
    "EmailContactMedium": "email",
    "PhoneContactMedium": "phone",
    "FaxContactMedium": "fax",
    "GeographicAddressContactMedium": "postalAddress",
    "SocialContactMedium": "socialNetwork",
}
#: v4 ``mediumType`` spellings (casefolded) -> the v5 ``@type``
_KINDS = {
    **{v.casefold(): k for k, v in MEDIUM_TYPES.items()},
    **dict.fromkeys(("mobile", "telephone", "telephonenumber", "phonenumber", "landline"), "PhoneContactMedium"),
    **dict.fromkeys(("address", "postal", "postaladdress", "geographicaddress"), "GeographicAddressContactMedium"),
    **dict.fromkeys(("social", "socialnetworkid"), "SocialContactMedium"),
    "faxnumber": "FaxContactMedium",
    "emailaddress": "EmailContactMedium",
}
#: the attribute that tells a v4 medium's kind when its ``mediumType`` does not
_TELLING = (
    ("emailAddress", "EmailContactMedium"),
    ("phoneNumber", "PhoneContactMedium"),
    ("faxNumber", "FaxContactMedium"),
    ("socialNetworkId", "SocialContactMedium"),
    ("street1", "GeographicAddressContactMedium"),
    ("city", "GeographicAddressContactMedium"),
)
#: attributes of the medium itself in both versions (the rest is v4's ``characteristic``)
_ON_MEDIUM = frozenset({"id", "preferred", "validFor", "mediumType", "@baseType", "@schemaLocation"})
#: the v5 attributes that are v4 ``characteristic`` ones (a filter on them reaches into it)
_CHARACTERISTIC = (
    "contactType",
    "emailAddress",
    "phoneNumber",
    "faxNumber",
    "socialNetworkId",
    "street1",
    "street2",
    "city",
    "postCode",
    "stateOrProvince",
    "country",
    "geographicAddress",
)


def _medium_out(medium: Any) -> Any:
    if not isinstance(medium, dict) or ("characteristic" not in medium and "mediumType" not in medium):
        return medium
    chars = medium.get("characteristic")
    chars = chars if isinstance(chars, dict) else {}
    out: Doc = {k: v for k, v in medium.items() if k not in ("characteristic", "mediumType", "@type")}
    out.update((k, v) for k, v in chars.items() if not k.startswith("@"))
    given = medium.get("mediumType")
    kind = _KINDS.get(given.casefold()) if isinstance(given, str) else None
    kind = kind or next((k for attr, k in _TELLING if attr in chars), "ContactMedium")
    out["@type"] = kind
    if given is not None and given != MEDIUM_TYPES.get(kind):
        out["mediumType"] = given
    return out


def _medium_in(medium: Any) -> Any:
    if not isinstance(medium, dict) or "characteristic" in medium:
        return medium
    out: Doc = {k: v for k, v in medium.items() if k in _ON_MEDIUM}
    chars = {k: v for k, v in medium.items() if k not in _ON_MEDIUM and k != "@type"}
    kind = medium.get("@type")
    if "mediumType" not in out and isinstance(kind, str) and kind in MEDIUM_TYPES:
        out["mediumType"] = MEDIUM_TYPES[kind]
    if chars:
        out["characteristic"] = chars
    return out


def each(convert: Any) -> Any:
    return lambda value: [convert(v) for v in value] if isinstance(value, list) else convert(value)


#: shared with TMF669 (a party role's contact media are the same structure)
CONTACT_MEDIUM = Attr(
    "contactMedium",
    out=each(_medium_out),
    into=each(_medium_in),
    paths={name: f"characteristic.{name}" for name in _CHARACTERISTIC},
)
_IDENTIFIER = frozenset({"ExternalIdentifier", "ExternalIdentifier_FVO", "ExternalIdentifier_MVO"})
EXTERNAL_IDENTIFIER = (
    Attr("id", canonical="name", at=_IDENTIFIER),
    Attr("externalIdentifierType", canonical="externalReferenceType", at=_IDENTIFIER),
)


def _named(missing: str, given: str) -> Any:
    """A v5 organization requires ``name``, a v4 one ``tradingName``: one stands for the other."""

    def fill(doc: Doc) -> Doc:
        return {**doc, missing: doc[given]} if missing not in doc and isinstance(doc.get(given), str) else doc

    return fill


_INDIVIDUAL = frozenset({"Individual", "Individual_FVO", "Individual_MVO"})

API = VersionDecl.build(
    "TMF632-Party_Management-v5.0.0.oas.yaml",
    of=tmf632.API,
    rules=[*V5_COMMON, CONTACT_MEDIUM, *EXTERNAL_IDENTIFIER],
    resources={
        "individual": ResourceMap(
            "individual",
            rules=[
                Attr("name", canonical="fullName", at=_INDIVIDUAL),
                Attr("status", values={"deceaded": "deceased"}, at=_INDIVIDUAL),
            ],
        ),
        "organization": ResourceMap(
            "organization", out=_named("name", "tradingName"), into=_named("tradingName", "name")
        ),
    },
)
