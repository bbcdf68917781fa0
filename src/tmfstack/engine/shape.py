"""How a document looks in a served version: a plan compiled from that version's schemas.

A version's mapping (``versions.py``) is declared as attribute rules (``Attr``); this module
places each rule where the served schema has the attribute, and walks documents along the
schema in both directions:

- ``render``: stored (canonical) -> served; every object missing ``@type`` gets the name of
  its schema at that position (v5 requires ``@type`` on every entity, ref and value),
- ``accept``: served -> stored, the rules reversed,
- ``path``: a served attribute path (a filter, a sort) -> the stored one.

A plan node is compiled once per schema name from the generated contract (``$ref``, ``allOf``
inheritance, ``oneOf``/``anyOf`` options, discriminator mappings, ``if``/``then`` dispatch);
recursive schemas share nodes, so a plan is finite whatever the nesting of a document.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..tmf import Doc


@dataclass(frozen=True)
class Attr:
    """One attribute's difference between the stored model and a served version.

    ``served``: its name in the served version; ``canonical``: its stored name (default: the same);
    ``values``: stored literal -> served literal (enums whose spelling changed); ``out``/``into``:
    the value converted (stored -> served / served -> stored) where its shape changed, with
    ``paths`` (served sub-path -> stored sub-path) so that filters reach into it; ``at``: the served
    schema names where it applies (empty: wherever the served schema has the attribute); ``not_at``:
    those where it does not (a value that has an attribute of the same name itself: v5
    ``RelatedPlaceRef {role, place}``, served where v4 has ``place``).
    """

    served: str
    canonical: str = ""
    values: Mapping[str, str] = field(default_factory=dict)
    out: Callable[[Any], Any] | None = None
    into: Callable[[Any], Any] | None = None
    paths: Mapping[str, str] = field(default_factory=dict)
    at: frozenset[str] = frozenset()
    not_at: frozenset[str] = frozenset()

    @property
    def stored(self) -> str:
        return self.canonical or self.served

    def render(self, value: Any) -> Any:
        if self.values and isinstance(value, str):
            value = self.values.get(value, value)
        if self.out is not None:
            value = self.out(value)
        return value

    def accept(self, value: Any) -> Any:
        if self.values and isinstance(value, str):
            value = self.reverse.get(value, value)
        if self.into is not None:
            value = self.into(value)
        return value

    @property
    def reverse(self) -> dict[str, str]:
        return {v: k for k, v in self.values.items()}


class Node:
    """One schema position: the attributes below it, its options (by ``@type``), its rules."""

    __slots__ = ("_kids", "_pair", "name", "options", "props", "ref", "rules_in", "rules_out", "typed")

    def __init__(self, name: str, typed: bool = True) -> None:
        self.name = name  #: the schema's name: the ``@type`` an object here gets when it has none
        self.typed = typed  #: whether the served version requires ``@type`` (v5: everywhere; v3/v4: nowhere)
        self.props: dict[str, Node | None] = {}  #: served attribute -> node of its value (None: scalar)
        self.options: dict[str, Node] = {}  #: ``@type`` -> node, where the schema is polymorphic
        self.ref: Node | None = None  #: of a oneOf [X, XRef]: the reference option
        self.rules_out: dict[str, Attr] = {}  #: stored attribute -> its rule here
        self.rules_in: dict[str, Attr] = {}  #: served attribute -> its rule here
        self._kids: dict[str, Node] | None = None
        self._pair: tuple[str, str] | tuple[()] | None = None  #: (reference option, value option), asked once

    @property
    def kids(self) -> dict[str, Node]:
        """The attributes whose values are objects with a plan of their own (asked once the plan
        is compiled: a recursive schema's node is shared before it is complete)."""
        if self._kids is None:
            self._kids = {k: n for k, n in self.props.items() if n is not None}
        return self._kids

    def pick(self, obj: Doc) -> Node:
        """The option describing ``obj``: by its ``@type``; without one, a reference when it has no more
        than a reference's attributes, else the value (or this node, where it is concrete itself)."""
        if not self.options:
            return self
        kind = obj.get("@type")
        if isinstance(kind, str) and kind in self.options:
            return self.options[kind]
        if self.ref is not None and kind is None:
            if all(k in self.ref.props or k == "@referredType" for k in obj):
                return self.ref
            for option in self.options.values():
                if option is not self.ref:
                    return option
        named = self.ref_or_value(obj)  # a dispatch (if/then) rather than a oneOf names the options
        return self.options[named] if named is not None else self

    def ref_or_value(self, obj: Doc) -> str | None:
        """Of a ``oneOf [X, XRef]`` dispatched on ``@type`` (an ``_FVO`` one included): the ``@type``
        ``obj`` is read as when it has none: the reference when it has no more than its attributes."""
        if "@type" in obj:
            return None
        pair = self._pair
        if pair is None:
            refs = [k for k in self.options if k.endswith("Ref")] if len(self.options) == 2 else []
            value = [k for k in self.options if k not in refs]
            pair = self._pair = (refs[0], value[0]) if len(refs) == 1 and len(value) == 1 else ()
        if not pair:
            return None
        ref = self.options[pair[0]].props
        return pair[0] if all(k in ref or k == "@referredType" for k in obj) else pair[1]


class Plan:
    """The compiled plan of one served contract (schemas by name), with one version's rules."""

    def __init__(self, definitions: Mapping[str, Any], rules: tuple[Attr, ...] = (), typed: bool = True) -> None:
        self.definitions = definitions
        self.rules = rules
        self.typed = typed
        self.nodes: dict[str, Node] = {}

    def node(self, name: str) -> Node:
        found = self.nodes.get(name)
        if found is None:
            found = self.nodes[name] = Node(name, self.typed)
            self._fill(found, self.definitions.get(name, {}))
            for rule in self.rules:
                if rule.served in found.props and (not rule.at or name in rule.at) and name not in rule.not_at:
                    found.rules_out[rule.stored] = rule
                    found.rules_in[rule.served] = rule
        return found

    def _fill(self, node: Node, schema: Mapping[str, Any]) -> None:
        ref = schema.get("$ref")
        if isinstance(ref, str):
            node.props.update(self.node(_name(ref)).props)
        for part in schema.get("allOf", ()):
            if "if" in part and "then" in part:
                self._dispatch(node, part)
            else:
                self._fill(node, part)
        if "else" in schema:
            self._fill(node, schema["else"])
        for attr, sub in schema.get("properties", {}).items():
            node.props[attr] = self._value(sub, f"{node.name}.{attr}")
        options = [o for key in ("oneOf", "anyOf") for o in schema.get(key, ())]
        for option in options:
            if "$ref" in option:
                target = self.node(_name(option["$ref"]))
                node.options.setdefault(target.name, target)
                if target.name.endswith("Ref") and len(options) == 2:
                    node.ref = target
        mapping = schema.get("discriminator", {}).get("mapping", {})
        for kind, target_ref in mapping.items():
            named = _name(target_ref)
            node.options.setdefault(kind, node if named == node.name else self.node(named))
        if "if" in schema and "then" in schema:
            self._dispatch(node, schema)

    def _dispatch(self, node: Node, part: Mapping[str, Any]) -> None:
        kind = part["if"].get("properties", {}).get("@type", {}).get("const")
        then = part["then"]
        if isinstance(kind, str) and "$ref" in then:
            target = _name(then["$ref"])
            node.options.setdefault(kind, node if target == node.name else self.node(target))
        if "else" in part:
            self._fill(node, part["else"])

    def _value(self, schema: Mapping[str, Any], where: str) -> Node | None:
        """The node of an attribute's value (arrays are transparent: the node of their items)."""
        while schema.get("type") == "array" or "items" in schema:
            schema = schema.get("items", {})
        if "$ref" in schema and len(schema) == 1:
            return self.node(_name(schema["$ref"]))
        if any(k in schema for k in ("$ref", "allOf", "oneOf", "anyOf", "properties")):
            inline = Node(where, self.typed)
            self._fill(inline, schema)
            return inline
        return None


def _name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def render(node: Node, obj: Doc, fresh: bool = False) -> Doc:
    """``obj`` (stored) as the served version shows it at ``node``. ``fresh``: ``obj`` was just
    parsed for this answer and is nobody else's, so it is changed in place (a 2 KB offering: ~8 µs
    instead of ~15 µs); otherwise a copy is made and ``obj`` stays as it is."""
    if node.options:
        node = node.pick(obj)
    out = obj if fresh else dict(obj)
    rules = node.rules_out
    if rules:
        for key in [k for k in out if k in rules]:
            rule = rules[key]
            out[rule.served] = rule.render(out.pop(key))
    kids = node._kids
    if kids is None:
        kids = node.kids
    if kids:
        for key, value in out.items():  # values replaced, no key added: iterating stays valid
            child = kids.get(key)
            if child is not None:
                if type(value) is dict:
                    out[key] = render(child, value, fresh)
                elif type(value) is list:
                    out[key] = [render(child, v, fresh) if type(v) is dict else v for v in value]
    if node.typed and "@type" not in out:
        out["@type"] = node.name
    return out


def accept(node: Node, obj: Doc) -> Doc:
    """``obj`` (served, e.g. a request body) as it is stored."""
    node = node.pick(obj)
    out: Doc = {}
    rules, props = node.rules_in, node.props
    for key, value in obj.items():
        child = props.get(key)
        if child is not None:
            if type(value) is dict:
                value = accept(child, value)
            elif type(value) is list:
                value = [accept(child, v) if type(v) is dict else v for v in value]
        rule = rules.get(key)
        if rule is not None:
            key, value = rule.stored, rule.accept(value)
        out[key] = value
    return out


def path(node: Node, served: tuple[str, ...]) -> tuple[tuple[str, ...], Attr | None]:
    """The stored path of a served attribute path, and the rule of its last attribute (its values)."""
    out: list[str] = []
    current: Node | None = node
    rule: Attr | None = None
    i = 0
    while i < len(served):
        part = served[i]
        rule = current.rules_in.get(part) if current is not None else None
        if rule is not None and rule.paths:
            rest = ".".join(served[i + 1 :])
            for sub, stored in sorted(rule.paths.items(), key=lambda kv: -len(kv[0])):
                if rest == sub or rest.startswith(sub + "."):
                    tail = rest[len(sub) :].lstrip(".")
                    inner = [*stored.split("."), *tail.split(".")]
                    return (*out, rule.stored, *(x for x in inner if x)), None
        out.append(rule.stored if rule is not None else part)
        current = current.props.get(part) if current is not None else None
        i += 1
    return tuple(out), rule
