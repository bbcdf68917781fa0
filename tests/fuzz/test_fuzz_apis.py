"""Property-based fuzzing of every served API from its official OpenAPI file (Schemathesis).

Authentication is on: the requests carry an operator client's token (every scope). For each
API, each operation of its official file gets ``TMFSTACK_FUZZ_EXAMPLES`` positive and as many
negative requests (derandomized: the same on every run), and every answer must pass
not_a_server_error, response_schema_conformance, status_code_conformance and
content_type_conformance. Departures are listed, with their reasons, in spec_exceptions.py.
"""

from __future__ import annotations

import copy
import os

import pytest

from tests.fuzz.fuzzing import SPECS_DIR, fuzz_api, label, load_official, report
from tests.fuzz.spec_exceptions import KNOWN, SPEC_FIXES
from tests.support.security import Secured
from tmfstack.apis import all_apis

#: "tmf637 v4", "tmf637 v5": every served version of an API is fuzzed from its own official file
APIS = {label(api): api for api in all_apis()}

pytestmark = pytest.mark.skipif(
    not SPECS_DIR.is_dir() and not os.environ.get("TMFSTACK_REQUIRE_SERVICES"),
    reason=f"the official OpenAPI files are not at {SPECS_DIR}",
)


@pytest.mark.parametrize("key", sorted(APIS))
def test_fuzz_api(secure: Secured, key: str) -> None:
    operator = secure.login("fuzz-operator", ["operator"])
    run = fuzz_api(APIS[key], secure.client, operator.token)
    assert run.sent > 0
    print(f"{key}: {run.sent} requests")
    for known in run.known_hits:  # shown with -rP: what the reviewed list tolerated in this run
        print(f"tolerated ({known.check}, {known.fragment!r}): {known.reason}")
    assert not run.findings, report(run)


def test_every_spec_fix_corrects_something() -> None:
    """No stale entry: each names an API we serve and still changes the file it applies to."""
    for fix in SPEC_FIXES:
        assert fix.api == "*" or any(fix.applies_to(api) for api in APIS.values()), fix
        assert fix.problem and fix.why, fix
        changed = False
        for api in APIS.values():
            if fix.applies_to(api):
                official = load_official(api)
                edited = copy.deepcopy(official)
                fix.apply(edited)
                changed = changed or edited != official
        assert changed, f"{fix.operation}: the official files no longer need this correction"


def test_every_known_finding_has_a_reason() -> None:
    for known in KNOWN:
        assert known.api == "*" or any(known.applies_to(api) for api in APIS.values()), known
        assert known.check and known.fragment and len(known.reason) > 40, known
