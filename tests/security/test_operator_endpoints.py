"""Operator endpoints read bounded bodies: a body over the limit is a 413 before it is read whole."""

from __future__ import annotations

from tests.support.security import Secured


def test_reference_data_and_callbacks_refuse_oversized_bodies(secure: Secured) -> None:
    admin = secure.login("root", ["admin", "activation"])
    huge = b'{"areas": [' + b'{"postcode": "1010"},' * (2 << 20) + b"{}]}"  # ~44 MB
    r = admin.post("/admin/reference", content=huge, headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and r.json()["code"] == "PAYLOAD_TOO_LARGE", r.text
    r = admin.post("/activation/callback/m-1", content=b" " * (2 << 20), headers={"Content-Type": "application/json"})
    assert r.status_code == 413, r.text
    # within the limits they are served (a small reference set; an unknown monitor)
    assert admin.post("/admin/reference", json={"regions": [{"id": "AT", "name": "Austria"}]}).status_code == 200
    assert admin.post("/activation/callback/m-1", json={"state": "completed"}).status_code == 404
