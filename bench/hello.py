"""The baseline: a bare Starlette hello-world under the uvicorn settings ``tmfstack serve`` uses.

.venv/bin/python bench/hello.py --port 8001
"""

from __future__ import annotations

import argparse

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


async def hello(request: Request) -> Response:
    return Response(b'{"hello":"world"}', media_type="application/json")


app = Starlette(routes=[Route("/", hello, methods=["GET"])])


def main() -> None:
    parser = argparse.ArgumentParser(description="Starlette hello-world baseline")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    args = parser.parse_args()
    uvicorn.run(
        app, host=args.host, port=args.port, loop="uvloop", http="httptools", log_level="warning", access_log=False
    )


if __name__ == "__main__":
    main()
