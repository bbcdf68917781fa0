"""v4 -> v5 differences the catalog APIs (TMF620, TMF634) share, as ``Attr`` rules.

v4 names a specification's characteristic after its API (``productSpecCharacteristicValue``,
``resourceSpecCharRelationship`` …); v5 has one ``CharacteristicSpecification`` with
``characteristicValueSpecification`` and ``charSpecRelationship``, whose relationship items name
the specification holding the target characteristic ``parentSpecificationId``/``…Href``. v4 gives
a characteristic value's ``value`` any JSON type; v5 names the type in ``@type``
(``StringCharacteristicValueSpecification`` …), derived here from the value when it has none.
"""

from __future__ import annotations

from typing import Any

from ...engine.shape import Attr
from ...engine.versions import ResourceMap
from ..generations import each, value_kind

_RELATIONSHIP = frozenset(f"CharacteristicSpecificationRelationship{s}" for s in ("", "_FVO", "_MVO"))
_BASE = "CharacteristicValueSpecification"
#: a job's attributes the server sets: the v5 FVOs list them, v4 refuses them; a v5 body's are dropped
_JOB_SET = frozenset({"status", "creationDate", "completionDate", "errorLog"})
#: importJob and exportJob: the same in both versions but for what a v5 create may carry
JOBS = {name: ResourceMap(name, dropped=_JOB_SET) for name in ("importJob", "exportJob")}


def _typed_one(item: Any) -> Any:
    if not isinstance(item, dict) or item.get("@type", _BASE) != _BASE or "value" not in item:
        return item
    value = item["value"]
    kinds = {value_kind(v) for v in value} if isinstance(value, list) else {value_kind(value)}
    kind = kinds.pop() if len(kinds) == 1 else None
    if kind is None:
        return item
    return {**item, "@type": f"{kind}{'Array' if isinstance(value, list) else ''}{_BASE}"}


_TYPED = each(_typed_one)


def typed_values(value: Any) -> Any:
    """Characteristic value specifications with the ``@type`` v5 names their value's type by."""
    return _TYPED(value)


def spec_characteristics(prefix: str, target_id: str, target_href: str) -> tuple[Attr, ...]:
    """The rules of a v4 ``<prefix>Characteristic`` as v5 ``CharacteristicSpecification``;
    ``target_id``/``target_href``: the v4 names of a relationship's target specification."""
    return (
        Attr("characteristicValueSpecification", canonical=f"{prefix}CharacteristicValue", out=typed_values),
        Attr("charSpecRelationship", canonical=f"{prefix}CharRelationship"),
        Attr("parentSpecificationId", canonical=target_id, at=_RELATIONSHIP),
        Attr("parentSpecificationHref", canonical=target_href, at=_RELATIONSHIP),
    )
