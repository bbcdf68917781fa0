"""The ``tmfstack`` command: ``serve``, ``demo`` and ``reference``."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from .bootstrap import build_engine
from .settings import Settings


async def _demo(settings: Settings, pool_size: int | None = None) -> None:
    from .demo import POOL_SIZE, load_demo

    engine = build_engine(settings)
    await engine.open()
    try:
        for line in await load_demo(engine, pool_size=pool_size or POOL_SIZE):
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tmfstack", description="TM Forum Open APIs server")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve every API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--database", help="sqlite:///file.db (default) or postgresql://user:pass@host:port/db")
    serve.add_argument("--public-url", help="base of hrefs (default http://HOST:PORT)")
    serve.add_argument("--demo", action="store_true", help="load the demo catalog and orders before serving")
    serve.add_argument("--log-level", default="warning")
    demo = sub.add_parser("demo", help="load the demo catalog and place demo orders (idempotent)")
    demo.add_argument("--database")
    demo.add_argument("--pool-size", type=int, help="free resources per demo pool (default 2000)")
    reference = sub.add_parser("reference", help="load places-and-markets data (regions, segments, coverage)")
    reference.add_argument("file", help="a JSON data set (README: Qualification)")
    reference.add_argument("--database")
    args = parser.parse_args(argv)

    settings = Settings()
    if args.database:
        settings.database_url = args.database
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.command == "demo":
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

    settings.public_url = args.public_url or settings.public_url or f"http://{args.host}:{args.port}"
    if args.demo:
        asyncio.run(_demo(settings))
    app = create_app(settings)
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, access_log=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
