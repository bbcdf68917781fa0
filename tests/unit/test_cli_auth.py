"""``tmfstack client``, ``token`` and ``key`` on a real database, and ``serve --no-auth`` refused off loopback."""

from __future__ import annotations

from pathlib import Path

import jwt
import pytest

from tmfstack.cli import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().out


def test_clients_are_administered_from_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = ("--database", f"sqlite:///{tmp_path / 'a.db'}")
    code, out = run(capsys, "client", "add", "acme-portal", "--scope", "partner", "--party", "org-acme",
                    "--rate", "20/s", "--burst", "40", *db)  # fmt: skip
    assert code == 0, out
    secret = next(line.split()[1] for line in out.splitlines() if line.startswith("secret:"))
    assert secret.startswith("tmfs_") and "shown once" in out
    assert "org-acme" in out and "20/s burst 40" in out
    code, out = run(capsys, "client", "add", "acme-portal", "--scope", "partner", *db)
    assert code == 2 and "already exists" in out
    code, out = run(capsys, "client", "add", "root", "--scope", "admin", "--party", "org-acme", *db)
    assert code == 2 and "admin" in out
    code, out = run(capsys, "client", "add", "x", "--scope", "everything", *db)
    assert code == 2 and "unknown scope" in out
    code, out = run(capsys, "client", "list", *db)
    assert code == 0 and "acme-portal" in out and secret not in out
    code, out = run(capsys, "client", "show", "acme-portal", *db)
    assert code == 0 and "tmf622:write" in out and "admin" not in out and secret not in out
    code, out = run(capsys, "token", "acme-portal", "--scope", "tmf622:read", *db)
    assert code == 0
    claims = jwt.decode(out.strip(), options={"verify_signature": False})
    assert claims["sub"] == "acme-portal" and claims["scope"] == "tmf622:read" and claims["party_id"] == "org-acme"
    assert claims["iss"] == "http://127.0.0.1:8080"
    code, out = run(capsys, "token", "acme-portal", "--scope", "admin", *db)
    assert code == 2 and "not granted" in out
    code, out = run(capsys, "client", "rotate-secret", "acme-portal", *db)
    assert code == 0 and secret not in out and "tmfs_" in out
    code, out = run(capsys, "client", "revoke", "acme-portal", *db)
    assert code == 0 and "revoked" in out
    code, out = run(capsys, "token", "acme-portal", *db)
    assert code == 2 and "revoked" in out


def test_signing_keys_rotate_from_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = ("--database", f"sqlite:///{tmp_path / 'k.db'}")
    assert run(capsys, "client", "add", "ops", "--scope", "operator", *db)[0] == 0
    code, first = run(capsys, "token", "ops", *db)
    assert code == 0
    code, out = run(capsys, "key", "rotate", *db)
    assert code == 0 and "new signing key" in out
    code, listed = run(capsys, "key", "list", *db)
    lines = listed.strip().splitlines()
    assert len(lines) == 2 and "retired" in lines[0] and lines[1].endswith("signing")
    _, second = run(capsys, "token", "ops", *db)
    assert jwt.get_unverified_header(first.strip())["kid"] != jwt.get_unverified_header(second.strip())["kid"]


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "::"])
def test_serving_without_authentication_is_refused_off_loopback(
    host: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["serve", "--no-auth", "--host", host, "--database", f"sqlite:///{tmp_path / 's.db'}"])
    assert code == 2
    assert "loopback only" in capsys.readouterr().err
