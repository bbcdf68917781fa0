"""Product characteristics against the specification (and the offering's ``prodSpecCharValueUse``).

Types, allowed values and ranges, patterns, cardinalities, configurability, and the defaults
the fulfiller fills in for what the order leaves out.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

from ...tmf import Doc, fold
from .rules import Problem, _dicts, _json_type, _label, _ref_id, _show

# -- characteristic rules ------------------------------------------------------------------


@dataclass(frozen=True)
class CharRule:
    """One specification characteristic as this offering sells it (values narrowed by prodSpecCharValueUse)."""

    name: str
    value_type: str | None
    values: list[Doc]
    fallback: list[Doc]  #: the specification's own values, for its default when the narrowing names none
    min_card: int
    max_card: int | None
    configurable: bool
    regex: str | None

    def default(self) -> tuple[bool, Any]:
        for candidates in (self.values, self.fallback):
            for v in candidates:
                if v.get("isDefault") is True:
                    value = v["value"] if "value" in v else v.get("valueFrom")  # a default range means its start
                    if value is not None and (candidates is self.values or value_matches(value, self.values)):
                        return True, value
        return False, None


def characteristic_rules(spec: Doc | None, offering: Doc | None = None) -> dict[str, CharRule]:
    """The specification's characteristics keyed by folded name, narrowed by the offering."""
    spec_id = spec.get("id") if spec else None
    narrowing: dict[str, Doc] = {}
    for use in _dicts((offering or {}).get("prodSpecCharValueUse")):
        ref = _ref_id(use, "productSpecification")
        if use.get("name") and (ref is None or ref == spec_id):
            narrowing[fold(use["name"])] = use
    rules = {}
    for char in _dicts((spec or {}).get("productSpecCharacteristic")):
        name = char.get("name")
        if not isinstance(name, str):
            continue
        own = _dicts(char.get("productSpecCharacteristicValue"))
        narrowed = _dicts(narrowing.get(fold(name), {}).get("productSpecCharacteristicValue"))
        min_card, max_card = char.get("minCardinality"), char.get("maxCardinality")
        rules[fold(name)] = CharRule(
            name=name,
            value_type=char.get("valueType") if isinstance(char.get("valueType"), str) else None,
            values=narrowed or own,
            fallback=own,
            min_card=min_card if isinstance(min_card, int) else 0,
            max_card=max_card if isinstance(max_card, int) else None,
            configurable=char.get("configurable") is not False,
            regex=char.get("regex") if isinstance(char.get("regex"), str) else None,
        )
    return rules


def default_characteristics(spec: Doc | None, given: list[Doc], offering: Doc | None = None) -> list[Doc]:
    """``given`` plus the default of every characteristic it does not name (offering narrowing first)."""
    out = list(given)
    named = {fold(c.get("name")) for c in given if isinstance(c, dict)}
    for key, rule in characteristic_rules(spec, offering).items():
        found, value = rule.default()
        if key not in named and found:
            out.append(
                {"name": rule.name, "value": value, **({"valueType": rule.value_type} if rule.value_type else {})}
            )
    return out


def merge_characteristics(current: list[Doc], changes: list[Doc]) -> list[Doc]:
    """``current`` with ``changes`` applied by name (case-insensitive; the stored spelling stays)."""
    by_name = {fold(c.get("name", "")): c for c in current}
    for c in changes:
        key = fold(c.get("name", ""))
        by_name[key] = {**c, "name": by_name[key]["name"]} if key in by_name else c
    return list(by_name.values())


def plan_change(spec: Doc | None, current: list[Doc], offering: Doc | None) -> list[Doc]:
    """Characteristics a move to ``offering`` must change: a current value the new offering does
    not sell becomes the new offering's default (e.g. Fibre 1000 → 500: upload 500 → 250)."""
    have = {fold(c.get("name")): c for c in current if isinstance(c, dict)}
    out = []
    for key, rule in characteristic_rules(spec, offering).items():
        found, value = rule.default()
        now = have.get(key)
        if found and now is not None and rule.values and not value_matches(now.get("value"), rule.values):
            out.append(
                {
                    "name": now.get("name", rule.name),
                    "value": value,
                    **({"valueType": rule.value_type} if rule.value_type else {}),
                }
            )
    return out


def type_matches(value: Any, value_type: str | None) -> bool:
    """Lenient on the type's spelling; types other than string/number/integer/boolean are not checked."""
    kind = fold(value_type or "")
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "string":
        return isinstance(value, str)
    if kind in ("number", "float", "double", "decimal"):
        return is_number
    if kind in ("integer", "int", "long"):
        return is_number and float(value).is_integer()
    if kind in ("boolean", "bool"):
        return isinstance(value, bool)
    return True


def _same(a: Any, b: Any) -> bool:
    # True == 1 in Python; a boolean only equals a boolean
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    return bool(a == b)


def _in_range(value: Any, spec: Doc) -> bool:
    low, high = spec.get("valueFrom"), spec.get("valueTo")
    if not isinstance(value, int | float) or isinstance(value, bool):
        return False
    interval = fold(spec.get("rangeInterval") or "closed")
    low_ok = low is None or (value >= low if interval in ("closed", "closedbottom") else value > low)
    high_ok = high is None or (value <= high if interval in ("closed", "closedtop") else value < high)
    return low_ok and high_ok


def value_matches(value: Any, allowed: list[Doc]) -> bool:
    """Whether ``value`` is one of the listed values or inside one of the listed ranges (no list: anything)."""
    usable = [a for a in allowed if "value" in a or "valueFrom" in a or "valueTo" in a]
    if not usable:
        return True
    return any(_same(value, a["value"]) if "value" in a else _in_range(value, a) for a in usable)


def _describe_allowed(allowed: list[Doc]) -> str:
    shown = []
    for a in allowed:
        if "value" in a:
            shown.append(_show(a["value"]))
        elif "valueFrom" in a or "valueTo" in a:
            shown.append(f"{a.get('valueFrom', '…')} to {a.get('valueTo', '…')}")
    return ", ".join(shown)


def check_characteristics(
    item_id: str | None, given: Any, offering: Doc, spec: Doc | None, *, complete: bool
) -> list[Problem]:
    """Given characteristics against the offering's rules; ``complete`` also asks for the mandatory ones."""
    rules = characteristic_rules(spec, offering)
    who = _label(offering, offering.get("id"))
    problems: list[Problem] = []
    counts: Counter[str] = Counter()
    for char in _dicts(given):
        key = fold(char.get("name", ""))
        rule = rules.get(key)
        if rule is None:
            known = ", ".join(r.name for r in rules.values()) or "none"
            problems.append(
                Problem(
                    item_id,
                    "CHARACTERISTIC_UNKNOWN",
                    f"Characteristic {char.get('name')!r} is not defined for {who} (known: {known}).",
                )
            )
            continue
        counts[key] += 1
        if not rule.configurable:
            problems.append(
                Problem(
                    item_id,
                    "CHARACTERISTIC_NOT_CONFIGURABLE",
                    f"Characteristic {rule.name!r} of {who} is set by the operator during fulfilment,"
                    " not by the order.",
                )
            )
            continue
        problems += _check_value(item_id, who, rule, char.get("value"))
    for key, count in counts.items():
        rule = rules[key]
        if rule.max_card is not None and count > rule.max_card:
            problems.append(
                Problem(
                    item_id,
                    "CHARACTERISTIC_CARDINALITY",
                    f"Characteristic {rule.name!r} of {who} is given {count} times; at most {rule.max_card} allowed.",
                )
            )
    if complete:
        problems += _missing_characteristics(item_id, who, rules, counts)
    return problems


def _check_value(item_id: str | None, who: str, rule: CharRule, value: Any) -> list[Problem]:
    if not type_matches(value, rule.value_type):
        return [
            Problem(
                item_id,
                "CHARACTERISTIC_TYPE",
                f"Characteristic {rule.name!r} of {who} must be of type {rule.value_type}, "
                f"but {_show(value)} ({_json_type(value)}) was given.",
            )
        ]
    if not value_matches(value, rule.values):
        return [
            Problem(
                item_id,
                "CHARACTERISTIC_VALUE",
                f"Value {_show(value)} is not offered for characteristic {rule.name!r} of {who}; "
                f"allowed: {_describe_allowed(rule.values)}.",
            )
        ]
    if rule.regex and isinstance(value, str) and not re.fullmatch(rule.regex, value):
        return [
            Problem(
                item_id,
                "CHARACTERISTIC_PATTERN",
                f"Value {value!r} of characteristic {rule.name!r} of {who} does not match the pattern {rule.regex}.",
            )
        ]
    return []


def _missing_characteristics(
    item_id: str | None, who: str, rules: dict[str, CharRule], counts: Counter[str]
) -> list[Problem]:
    problems = []
    for key, rule in rules.items():
        if rule.min_card >= 1 and rule.configurable and not counts[key] and not rule.default()[0]:
            problems.append(
                Problem(
                    item_id,
                    "CHARACTERISTIC_MISSING",
                    f"Characteristic {rule.name!r} is required for {who} and has no default; please give a value.",
                )
            )
    return problems
