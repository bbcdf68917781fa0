"""A real ``tmfstack serve`` process for durability tests: start, SIGKILL, restart on one database."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx

TMFSTACK = Path(__file__).resolve().parents[1] / ".venv" / "bin" / "tmfstack"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """One ``tmfstack serve`` process at a time, on a fixed port and SQLite file."""

    def __init__(self, db: Path, log: Path, env: dict[str, str] | None = None) -> None:
        self.db, self.log = db, log
        self.extra_env = dict(env or {})
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def env(self) -> dict[str, str]:
        env = {**os.environ, "TMFSTACK_EXPORT_DIR": str(self.db.parent / "exports"), **self.extra_env}
        for name in ("TMFSTACK_DATABASE_URL", "TMFSTACK_STRICT_ORDERS"):
            env.pop(name, None)
        return env

    def load_demo(self) -> None:
        done = subprocess.run(
            [str(TMFSTACK), "demo", "--database", f"sqlite:///{self.db}"],
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0 and "Succeeded" in done.stdout, done.stdout + done.stderr

    def start(self, timeout: float = 20.0) -> None:
        assert self.proc is None
        self.starts += 1
        with self.log.open("ab") as out:
            out.write(f"\n==== start {self.starts} ====\n".encode())
            out.flush()
            self.proc = subprocess.Popen(
                [
                    str(TMFSTACK),
                    "serve",
                    *("--host", "127.0.0.1", "--port", str(self.port)),
                    *("--database", f"sqlite:///{self.db}", "--log-level", "warning"),
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=self.env(),
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise AssertionError(f"server exited with {self.proc.returncode}:\n{self.log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, f"no /health 200 within {timeout}s:\n{self.log.read_text()[-3000:]}"
            time.sleep(0.05)

    def kill9(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        assert self.proc.wait(timeout=10) == -signal.SIGKILL
        self.proc = None

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=10)
