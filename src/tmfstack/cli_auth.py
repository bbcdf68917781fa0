"""``tmfstack client …``, ``tmfstack token`` and ``tmfstack key …``: the embedded authorization
server's administration, run on the server's database (README: Security).

    tmfstack client add portal --scope partner --party org-nordwind --rate 20/s --burst 40
    tmfstack client list | show ID | rotate-secret ID | revoke ID
    tmfstack token ID [--scope "tmf622:read tmf622:write"]     # a token for local use
    tmfstack key rotate | list
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from .auth.scopes import ScopeTable
from .auth.security import Security
from .bootstrap import build_engine
from .errors import TmfError
from .settings import DEFAULT_PUBLIC_URL, Settings, parse_rate
from .store.base import Store
from .store.records import ClientRow


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    client = sub.add_parser("client", help="OAuth clients of the embedded authorization server")
    actions = client.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", help="register a client; prints its secret once")
    add.add_argument("id", help="the client id (letters, digits, '.', '_', '-')")
    add.add_argument(
        "--scope", action="append", required=True, help="scopes or a preset (operator, partner); repeatable"
    )
    add.add_argument("--party", help="the partner party the client acts for (it then sees only its own business)")
    add.add_argument("--rate", help="its steady rate, N/s or N/min (default: TMFSTACK_RATE)")
    add.add_argument("--burst", type=int, help="its burst (default: TMFSTACK_BURST)")
    add.add_argument("--name", help="a readable name")
    actions.add_parser("list", help="every client")
    for action in ("show", "rotate-secret", "revoke"):
        actions.add_parser(action).add_argument("id")
    token = sub.add_parser("token", help="print an access token for a client (for local use)")
    token.add_argument("id")
    token.add_argument("--scope", help="a subset of the client's scopes (default: all of them)")
    key = sub.add_parser("key", help="token signing keys")
    key.add_argument("action", choices=["rotate", "list"])
    for parser in (token, key, *actions.choices.values()):
        parser.add_argument("--database", help="sqlite:///file.db (default) or postgresql://…")
        parser.add_argument(
            "--public-url", help=f"the server's base URL, the tokens' issuer (default {DEFAULT_PUBLIC_URL})"
        )


async def _with_security(settings: Settings, work: Callable[[Security], Awaitable[None]]) -> None:
    engine = build_engine(settings)
    await engine.store.open()
    table = ScopeTable.of((api.key, api.partner_access) for api in engine.apis.values())
    security = Security(settings, engine.store, table, engine.public_url)
    try:
        await work(security)
    finally:
        await security.close()
        await engine.store.close()


def _show(row: ClientRow) -> str:
    limit = f"{row.rate:g}/s burst {row.burst}" if row.rate or row.burst else "server default"
    created = datetime.fromtimestamp(row.created, UTC).isoformat(timespec="seconds")
    return "\n".join(
        [
            f"client:  {row.id} ({row.name}), {row.status}, created {created}",
            f"party:   {row.party or '(operator: not bound to a partner)'}",
            f"rate:    {limit}",
            f"scopes:  {row.scopes}",
        ]
    )


def run(args: argparse.Namespace, settings: Settings) -> int:
    settings.public_url = args.public_url or settings.public_url or DEFAULT_PUBLIC_URL
    if settings.oauth_issuer:
        print("tmfstack: TMFSTACK_OAUTH_ISSUER is set; clients and tokens are the identity provider's")
        return 2
    out: list[str] = []

    async def work(security: Security) -> None:
        command = args.command if args.command != "client" else args.action
        if command == "add":
            rate = parse_rate(args.rate) if args.rate else None
            row, secret = await security.clients.add(args.id, args.scope, args.party, rate, args.burst, args.name)
            out.extend([_show(row), f"secret:  {secret}", "(shown once; only its hash is stored)"])
        elif command == "list":
            rows = await security.clients.store.list_clients()
            out.extend(f"{r.id:24} {r.status:8} {r.party or '-':16} {r.scopes}" for r in rows)
        elif command == "show":
            out.append(_show(await security.clients.require(args.id)))
        elif command == "rotate-secret":
            out.extend([f"secret:  {await security.clients.rotate_secret(args.id)}", "(the old one no longer works)"])
        elif command == "revoke":
            row = await security.clients.revoke(args.id)
            out.append(f"{row.id} revoked: no new tokens; its tokens stop within seconds on every replica")
        elif command == "token":
            await _token(security, args, out)
        elif command == "key":
            await _key(security, args.action, out)

    try:
        asyncio.run(_with_security(settings, work))
    except (TmfError, ValueError) as exc:
        print(f"tmfstack: {exc.message if isinstance(exc, TmfError) else exc}")
        return 2
    print("\n".join(out))
    return 0


async def _token(security: Security, args: argparse.Namespace, out: list[str]) -> None:
    assert security.issuer is not None and security.keys is not None
    row = await security.clients.require(args.id)
    if row.status != "active":
        raise ValueError(f"client {row.id} is {row.status}")
    allowed = frozenset(row.scopes.split())
    asked = frozenset(args.scope.split()) if args.scope else allowed
    if not asked <= allowed:
        raise ValueError(f"not granted to {row.id}: {' '.join(sorted(asked - allowed))}")
    await security.keys.ensure()
    token, _ = await security.issuer.issue(row, asked)
    out.append(token)


async def _key(security: Security, action: str, out: list[str]) -> None:
    assert security.keys is not None
    if action == "rotate":
        await security.keys.ensure()
        kid = await security.keys.rotate()
        out.append(f"new signing key {kid}; older keys verify until their tokens expire")
        return
    await security.keys.ensure()
    now = time.time()
    for key in security.keys.ring():
        state = "signing" if key.retired is None else f"retired {int(now - key.retired)} s ago"
        out.append(f"{key.kid}  {datetime.fromtimestamp(key.created, UTC).isoformat(timespec='seconds')}  {state}")


#: (id, scopes, partner party, rate per second, burst) of the clients ``tmfstack demo`` registers
DEMO_CLIENTS = (
    ("demo-operator", "operator", None, 1000.0, 2000),
    ("demo-nordwind", "partner", "org-nordwind", None, None),
)


async def demo_clients(settings: Settings, store: Store, table: ScopeTable, public_url: str) -> list[str]:
    """Register the demo's operator and partner clients (once); their secrets are printed once."""
    if settings.oauth_issuer:
        return ["clients: TMFSTACK_OAUTH_ISSUER is set; register clients at the identity provider"]
    security = Security(settings, store, table, public_url)
    lines = []
    try:
        for id, scopes, party, rate, burst in DEMO_CLIENTS:
            if await security.clients.store.get_client(id) is not None:
                lines.append(f"client {id}: registered earlier (tmfstack client rotate-secret {id} for a new secret)")
                continue
            _, secret = await security.clients.add(id, [scopes], party, rate, burst)
            lines.append(f"client {id}: secret {secret} ({scopes}{', acting for ' + party if party else ''})")
    finally:
        await security.close()
    lines.append(
        "tokens: TOKEN=$(.venv/bin/tmfstack token demo-operator), or"
        f" curl -u demo-operator:SECRET -d grant_type=client_credentials {public_url}/oauth2/token"
    )
    return lines
