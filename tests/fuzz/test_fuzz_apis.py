"""Property-based fuzzing of every served API from its official OpenAPI file (Schemathesis).

Authentication is on: the requests carry an operator client's token (every scope). For each
API, each operation of its official file gets ``TMFSTACK_FUZZ_EXAMPLES`` positive and as many
negative requests (derandomized: the same on every run), and every answer must pass
not_a_server_error, response_schema_conformance, status_code_conformance and
content_type_conformance. Departures are listed, with their reasons, in spec_exceptions.py.
"""

from __future__ import annotations

import os

import pytest
from fuzzing import SPECS_DIR, fuzz_api, report
from spec_exceptions import SPEC_FIXES

from security_helpers import Secured
from tmfstack.apis import all_apis

APIS = {api.key: api for api in all_apis()}

pytestmark = pytest.mark.skipif(
    not SPECS_DIR.is_dir() and not os.environ.get("TMFSTACK_REQUIRE_SERVICES"),
    reason=f"the official OpenAPI files are not at {SPECS_DIR}",
)


@pytest.mark.parametrize("key", sorted(APIS))
def test_fuzz_api(secure: Secured, key: str) -> None:
    operator = secure.login("fuzz-operator", ["operator"])
    run = fuzz_api(APIS[key], secure.client, operator.token)
    assert run.sent > 0
    assert not run.findings, report(run)


def test_every_spec_fix_names_an_api_we_serve() -> None:
    for fix in SPEC_FIXES:
        assert fix.api == "*" or fix.api in APIS, fix
        assert fix.problem and fix.why, fix
