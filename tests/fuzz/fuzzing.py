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
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from starlette.testclient import TestClient

from tests.fuzz.spec_exceptions import KNOWN, SPEC_FIXES, Known
from tmfstack.engine.declaration import ApiDecl

SPECS_DIR = Path(__file__).resolve().parents[3] / "shared" / "specs"
CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance, content_type_conformance]
#: generated requests per operation and generation mode (positive, negative); CI's default keeps the
#: whole run of every API within a few minutes on two cores; raise it locally for a longer hunt
EXAMPLES = int(os.environ.get("TMFSTACK_FUZZ_EXAMPLES", "10"))
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
    api: str
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


def load_spec(api: ApiDecl) -> dict[str, Any]:
    """The official file with the reviewed corrections of ``spec_exceptions.SPEC_FIXES`` applied."""
    spec: dict[str, Any] = json.loads((SPECS_DIR / api.contract.source).read_text(encoding="utf-8"))
    for fix in SPEC_FIXES:
        if fix.applies_to(api.key):
            fix.apply(spec)
    return spec


def bound_request_bodies(spec: dict[str, Any], depth: int = BODY_DEPTH) -> None:
    """Inline each body parameter's schema down to ``depth`` references (recursion cut at once).

    Only what is generated changes: responses are still checked against the file's definitions.
    """
    definitions = spec.get("definitions", {})

    def inline(node: Any, seen: tuple[str, ...]) -> Any:
        if isinstance(node, list):
            return [inline(v, seen) for v in node]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/definitions/"):
            name = ref.removeprefix("#/definitions/")
            target = definitions.get(name, {})
            nested = target.get("type") == "object" or "properties" in target or "allOf" in target
            if name in seen or (nested and len(seen) >= depth):
                return {"type": "object", "maxProperties": 0}
            return inline(target, (*seen, name))  # a scalar (an enum of states) is kept whole
        return {k: inline(v, seen) for k, v in node.items()}

    for item in spec["paths"].values():
        for method, op in item.items():
            for param in op.get("parameters", []) if method in ("post", "patch", "put") else []:
                if param.get("in") == "body" and "schema" in param:
                    param["schema"] = inline(param["schema"], ())


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
    bound_request_bodies(spec)
    schema = schemathesis.openapi.from_dict(spec)
    run = Run(api, client, token)
    for method, path in operations(spec):
        operation = schema[path][method]
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _fuzz_operation(run, operation, mode)
    return run


def _fuzz_operation(run: Run, operation: Any, mode: GenerationMode) -> None:
    collection = operation.path.split("/{", 1)[0]

    @settings(
        max_examples=EXAMPLES,
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
    base = f"http://testserver{run.api.contract.base_path}"
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
    label = f"{case.method.upper()} {case.operation.path}"
    body = prepared.body.encode() if isinstance(prepared.body, str) else prepared.body or b""
    request_text = f"{prepared.url}\n{body.decode('latin-1')}"  # what KNOWN entries may match on
    run.sent += 1
    try:
        method, url = prepared.method or "GET", prepared.url or ""
        response = run.client.request(method, url, headers=headers, content=prepared.body)
    except Exception as exc:  # escaped the app entirely: worse than a 500
        _record(run, label, "not_a_server_error", f"exception escaped the app: {exc!r}", case, request_text)
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
            _record(run, label, check, summary, case, request_text)


def _created_id(response: Any) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body.get("id") if isinstance(body, dict) and isinstance(body.get("id"), str) else None


def _check_name(failure: Any) -> str:
    checks = getattr(failure, "checks", ()) or ("unknown",)
    return str(checks[0])


def _record(run: Run, label: str, check: str, summary: str, case: Any, request_text: str) -> None:
    for known in KNOWN:
        if known.matches(run.api.key, label, check, summary, request_text):
            run.known_hits.add(known)
            return
    finding = Finding(run.api.key, label, check, summary[:1500], _curl(case))
    run.findings.setdefault(finding.key(), finding)


def _curl(case: Any) -> str:
    try:
        return str(case.as_curl_command(headers={"Authorization": "Bearer $TOKEN"}))
    except Exception:  # the report line only; never hide the finding itself
        return "(no curl rendering)"


def report(run: Run) -> str:
    lines = [f"{len(run.findings)} finding(s) in {run.api.key} after {run.sent} requests:"]
    for f in run.findings.values():
        lines += [f"- {f.operation} [{f.check}] {f.summary}", f"  reproduce: {f.reproduce}"]
    return "\n".join(lines)
