"""The ``tmfstack`` command: ``serve``, ``demo``, ``reference``, and the security edge's ``client``,
``token`` and ``key`` (``cli_auth.py``)."""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import logging
import sys

from . import cli_auth
from .bootstrap import build_engine
from .settings import DEFAULT_PUBLIC_URL, Settings


async def _demo(settings: Settings, pool_size: int | None = None) -> None:
    from .auth.scopes import ScopeTable
    from .demo import POOL_SIZE, load_demo

    engine = build_engine(settings)
    await engine.open()
    try:
        for line in await load_demo(engine, pool_size=pool_size or POOL_SIZE):
            print(line)
        table = ScopeTable.of((api.key, api.partner_access) for api in engine.apis.values())
        for line in await cli_auth.demo_clients(settings, engine.store, table, engine.public_url):
            print(line)
    finally:
        await engine.drain()
        await engine.store.close()


async def _reference(settings: Settings, path: str) -> None:
    from pathlib import Path

    import orjson

    from .apis.geography.places import load

    engine = build_engine(settings)
    await engine.open()
    try:
        try:
            data = orjson.loads(Path(path).read_bytes())
        except orjson.JSONDecodeError as exc:
            raise ValueError(f"{path} is not JSON: {exc}") from None
        print(orjson.dumps(await load(engine, data)).decode())
    finally:
        await engine.store.close()


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tmfstack", description="TM Forum Open APIs server")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve every API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--database", help="sqlite:///file.db (default) or postgresql://user:pass@host:port/db")
    serve.add_argument("--public-url", help="base of hrefs and the tokens' issuer (default http://HOST:PORT)")
    serve.add_argument("--demo", action="store_true", help="load the demo catalog and orders before serving")
    serve.add_argument("--no-auth", action="store_true", help="no tokens: every caller is the operator (loopback only)")
    serve.add_argument("--log-level", default="warning")
    demo = sub.add_parser("demo", help="load the demo catalog and place demo orders (idempotent)")
    demo.add_argument("--database")
    demo.add_argument("--public-url", help=f"base of hrefs and the tokens' issuer (default {DEFAULT_PUBLIC_URL})")
    demo.add_argument("--pool-size", type=int, help="free resources per demo pool (default 2000)")
    reference = sub.add_parser("reference", help="load places-and-markets data (regions, segments, coverage)")
    reference.add_argument("file", help="a JSON data set (README: Qualification)")
    reference.add_argument("--database")
    cli_auth.add_parsers(sub)
    args = parser.parse_args(argv)

    settings = Settings()
    if args.database:
        settings.database_url = args.database
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.command in ("client", "token", "key"):
        return cli_auth.run(args, settings)
    if args.command == "demo":
        settings.public_url = args.public_url or settings.public_url or DEFAULT_PUBLIC_URL
        asyncio.run(_demo(settings, args.pool_size))
        return 0
    if args.command == "reference":
        from .errors import TmfError

        try:
            asyncio.run(_reference(settings, args.file))
        except (TmfError, OSError, ValueError) as exc:  # a bad file: say why, no traceback
            print(f"tmfstack reference: {exc}", file=sys.stderr)
            return 2
        return 0

    import uvicorn

    from .web.app import create_app

    if args.no_auth:
        settings.auth = False
    if not settings.auth and not _loopback(args.host):
        print(
            f"tmfstack serve: refusing to serve without authentication on {args.host} (loopback only)", file=sys.stderr
        )
        return 2
    try:
        settings.check()
    except ValueError as exc:
        print(f"tmfstack serve: {exc}", file=sys.stderr)
        return 2
    settings.public_url = args.public_url or settings.public_url or f"http://{args.host}:{args.port}"
    settings.listen_host, settings.listen_port = args.host, args.port  # callbacks may never point here
    if args.demo:
        asyncio.run(_demo(settings))
    app = create_app(settings)
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        access_log=False,
        proxy_headers=bool(settings.forwarded_allow_ips),
        forwarded_allow_ips=settings.forwarded_allow_ips or None,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
