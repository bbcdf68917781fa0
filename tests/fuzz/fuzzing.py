"""Schemathesis over one served API, in-process, with an operator's token (a helper module).

The official OpenAPI file is read from ``../shared/specs`` (never copied into the repo),
corrected only by the reviewed entries of ``spec_exceptions.py``, and every operation the
file declares (but the client-side ``/listener`` ones) is sent generated requests, positive
and negative, through the app's own ASGI stack with authentication on. Each answer goes
through Schemathesis' checks; failures are collected (not raised at the first) so one run
lists every class of problem, and the caller asserts the list is empty.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
import schemathesis
import yaml
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.generation.hypothesis import examples
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from starlette.testclient import TestClient

from tests.fuzz.spec_exceptions import KNOWN, SPEC_FIXES, Known
from tmfstack.engine.declaration import ApiDecl
from tmfstack.engine.versions import VersionDecl

SPECS_DIR = Path(__file__).resolve().parents[3] / "shared" / "specs"
CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance, content_type_conformance]
#: generated requests per operation and generation mode (positive, negative); CI's default keeps the
#: whole run of every API within a few minutes on two cores; raise it locally for a longer hunt
EXAMPLES = int(os.environ.get("TMFSTACK_FUZZ_EXAMPLES", "10"))
#: the same for a version served over another's data (v5): half, as it shares the canonical version's
#: code paths and its file's own examples are sent besides; together the run stays near four minutes
EXAMPLES_SERVED = int(os.environ.get("TMFSTACK_FUZZ_SERVED_EXAMPLES", str(max(1, EXAMPLES // 2))))
#: how many references deep generated request bodies go; below, an empty object. TMF bodies nest
#: (an order item holds a product holding characteristics, prices, places...) and some are
#: recursive: unbounded, Hypothesis spends seconds per PATCH body on sizes it then discards
BODY_DEPTH = int(os.environ.get("TMFSTACK_FUZZ_BODY_DEPTH", "3"))
#: unset: derandomized (CI sends the same requests every run); a number: other requests, for a local hunt
SEED = os.environ.get("TMFSTACK_FUZZ_SEED")
#: writes first (they make the resources the reads, updates and deletes then find), deletes last
_ORDER = {"POST": 0, "GET": 1, "PUT": 2, "PATCH": 3, "DELETE": 4}


@dataclass
class Finding:
    api: str  #: "tmf620 v4"
    operation: str  #: "POST /productOffering"
    check: str
    summary: str  #: the failure's title and first lines
    reproduce: str  #: a curl command

    def key(self) -> tuple[str, str, str, str]:
        return self.api, self.operation, self.check, self.summary.splitlines()[0]


@dataclass
class Run:
    api: ApiDecl
    client: TestClient
    token: str
    findings: dict[tuple[str, str, str, str], Finding] = field(default_factory=dict)
    known_hits: set[Known] = field(default_factory=set)
    #: ids of resources created during the run, per collection path ("/productOffering")
    ids: dict[str, list[str]] = field(default_factory=dict)
    sent: int = 0


def label(api: ApiDecl) -> str:
    """The run's name, "tmf637 v4" or "tmf637 v5": versions of one API share a key, each its own file."""
    return f"{api.key} {api.version}"


def load_official(api: ApiDecl) -> dict[str, Any]:
    """The official file as published: Swagger 2 JSON (v4) or OpenAPI 3 YAML (v5)."""
    text = (SPECS_DIR / api.contract.source).read_text(encoding="utf-8")
    if api.contract.source.endswith((".yaml", ".yml")):
        return dict(yaml.load(text, Loader=yaml.CSafeLoader))
    return dict(json.loads(text))


def load_spec(api: ApiDecl) -> dict[str, Any]:
    """The official file with the reviewed corrections of ``spec_exceptions.SPEC_FIXES`` applied."""
    spec = load_official(api)
    for fix in SPEC_FIXES:
        if fix.applies_to(api):
            fix.apply(spec)
    if "openapi" in spec:  # v5 files name a placeholder server (https://serverRoot): where we serve
        spec["servers"] = [{"url": f"http://testserver{api.root}"}]
    return spec


def bound_request_bodies(spec: dict[str, Any], depth: int = BODY_DEPTH) -> None:
    """Inline each request body's schema down to ``depth`` references (recursion cut at once): the
    body parameters of a Swagger 2 file, the ``requestBody`` contents of an OpenAPI 3 one.

    Only what is generated changes: responses are still checked against the file's definitions.
    """
    oas3 = "openapi" in spec
    prefix = "#/components/schemas/" if oas3 else "#/definitions/"
    definitions = spec.get("components", {}).get("schemas", {}) if oas3 else spec.get("definitions", {})

    def inline(node: Any, seen: tuple[str, ...]) -> Any:
        if isinstance(node, list):
            return [inline(v, seen) for v in node]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(prefix):
            name = ref.removeprefix(prefix)
            target = definitions.get(name, {})
            nested = target.get("type") == "object" or "properties" in target or "allOf" in target
            if name in seen or (nested and len(seen) >= depth):
                return {"type": "object", "maxProperties": 0}
            return inline(target, (*seen, name))  # a scalar (an enum of states) is kept whole
        return {k: inline(v, seen) for k, v in node.items()}

    for item in spec["paths"].values():
        for method, op in item.items():
            if method not in ("post", "patch", "put"):
                continue
            if oas3 and "requestBody" in op:
                body = copy.deepcopy(_component(spec, op["requestBody"]))  # shared by operations: a copy each
                for media in body.get("content", {}).values():
                    if "schema" in media:
                        media["schema"] = inline(media["schema"], ())
                op["requestBody"] = body
            for param in op.get("parameters", []):
                if param.get("in") == "body" and "schema" in param:
                    param["schema"] = inline(param["schema"], ())


def _component(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """A ``requestBody`` itself, following its ``$ref`` into ``components``."""
    while "$ref" in node:
        section, name = node["$ref"].removeprefix("#/components/").split("/")
        node = spec["components"][section][name]
    return node


def operations(spec: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(METHOD, path) of every served operation, writes first; ``/listener`` paths are the client's side."""
    ops = [
        (method.upper(), path)
        for path, item in spec["paths"].items()
        if not path.startswith("/listener/")
        for method in item
        if method.upper() in _ORDER
    ]
    yield from sorted(ops, key=lambda op: (_ORDER[op[0]], op[1]))


def fuzz_api(api: ApiDecl, client: TestClient, token: str) -> Run:
    spec = load_spec(api)
    whole = schemathesis.openapi.from_dict(copy.deepcopy(spec))  # the file's examples fit its whole schemas
    bound_request_bodies(spec)
    schema = schemathesis.openapi.from_dict(spec)
    run = Run(api, client, token)
    for method, path in operations(spec):
        operation = schema[path][method]
        _send_file_examples(run, whole[path][method])
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _fuzz_operation(run, operation, mode)
    return run


def _send_file_examples(run: Run, operation: Any) -> None:
    """The file's own request examples first (a v5 file has a realistic one per operation): what they
    create gives the reads, updates and deletes real resources, so full answers get checked too."""
    try:
        cases = [examples.generate_one(s) for s in operation.get_strategies_from_examples()]
    except Exception:  # an example the file gets wrong: the generated requests still run
        return
    known = run.ids.get(operation.path.split("/{", 1)[0], [])
    for case in cases:
        if "id" in (case.path_parameters or {}) and known:
            case.path_parameters["id"] = known[-1]
        _send_and_check(run, case)


def _fuzz_operation(run: Run, operation: Any, mode: GenerationMode) -> None:
    collection = operation.path.split("/{", 1)[0]

    @settings(
        max_examples=EXAMPLES_SERVED if isinstance(run.api, VersionDecl) else EXAMPLES,
        derandomize=SEED is None,  # the same requests on every run: CI is reproducible
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        phases=(Phase.explicit, Phase.generate),  # collected, not shrunk: the report has the request
    )
    @given(case=operation.as_strategy(generation_mode=mode), pick=st.integers(min_value=0, max_value=7))
    def once(case: Any, pick: int) -> None:
        known = run.ids.get(collection, [])
        if "id" in (case.path_parameters or {}) and known and pick < 6:
            # mostly an existing resource: a random id only ever finds the 404 branch
            case.path_parameters["id"] = known[pick % len(known)]
        _send_and_check(run, case)

    if SEED is not None:
        once = seed(int(SEED))(once)
    with contextlib.suppress(Unsatisfiable):  # no negative request exists (a path's only parameter is a string)
        once()


def _send_and_check(run: Run, case: Any) -> None:
    base = f"http://testserver{run.api.root}"  # where we serve it (a v5 file's basePath may be none)
    kwargs = case.as_transport_kwargs(base_url=base)
    try:
        prepared = requests.Request(
            method=kwargs["method"],
            url=kwargs["url"],
            headers=kwargs.get("headers"),
            params=kwargs.get("params"),
            json=kwargs.get("json"),
            data=kwargs.get("data"),
            cookies=kwargs.get("cookies"),
        ).prepare()
    except (ValueError, requests.RequestException):
        return  # a request no HTTP client can send (e.g. a header with a line break)
    headers = {k: v for k, v in prepared.headers.items() if k.lower() not in ("connection", "accept-encoding")}
    headers["Authorization"] = f"Bearer {run.token}"
    operation = f"{case.method.upper()} {case.operation.path}"
    body = prepared.body.encode() if isinstance(prepared.body, str) else prepared.body or b""
    request_text = f"{prepared.url}\n{body.decode('latin-1')}"  # what KNOWN entries may match on
    run.sent += 1
    try:
        method, url = prepared.method or "GET", prepared.url or ""
        response = run.client.request(method, url, headers=headers, content=prepared.body)
    except Exception as exc:  # escaped the app entirely: worse than a 500
        _record(run, operation, "not_a_server_error", f"exception escaped the app: {exc!r}", case, request_text)
        return
    if response.status_code == 201 and case.method.upper() == "POST":
        created = _created_id(response)
        if created:
            run.ids.setdefault(case.operation.path, []).append(created)
    try:
        case.validate_response(response, checks=CHECKS)
    except FailureGroup as group:
        for failure in group.exceptions:
            check = _check_name(failure)
            summary = f"{response.status_code} {failure.title}\n{failure.message}"
            _record(run, operation, check, summary, case, request_text)


def _created_id(response: Any) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body.get("id") if isinstance(body, dict) and isinstance(body.get("id"), str) else None


def _check_name(failure: Any) -> str:
    checks = getattr(failure, "checks", ()) or ("unknown",)
    return str(checks[0])


def _record(run: Run, operation: str, check: str, summary: str, case: Any, request_text: str) -> None:
    for known in KNOWN:
        if known.matches(run.api, operation, check, summary, request_text):
            run.known_hits.add(known)
            return
    finding = Finding(label(run.api), operation, check, summary[:1500], _curl(case))
    run.findings.setdefault(finding.key(), finding)


def _curl(case: Any) -> str:
    try:
        return str(case.as_curl_command(headers={"Authorization": "Bearer $TOKEN"}))
    except Exception:  # the report line only; never hide the finding itself
        return "(no curl rendering)"


def report(run: Run) -> str:
    lines = [f"{len(run.findings)} finding(s) in {label(run.api)} after {run.sent} requests:"]
    for f in run.findings.values():
        lines += [f"- {f.operation} [{f.check}] {f.summary}", f"  reproduce: {f.reproduce}"]
    return "\n".join(lines)
