"""tmfstack HTTP benchmark: seed, serve on one core, load with wrk on the other, report against the targets.

    .venv/bin/python bench/run.py                       # 1,000,000 offerings (seeded once, then cached)
    .venv/bin/python bench/run.py --offerings 100000    # quicker iteration
    .venv/bin/python bench/run.py --profile             # also py-spy every tmfstack scenario
    .venv/bin/python bench/run.py --auth on             # only with tokens (default: off and on, compared)

See bench/README.md for what each scenario does and how the numbers are measured.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))

from catalog import OfferingFactory
from profile_summary import summarize
from seed import seed

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
# the one server-process helper of the tests and the benchmarks
from tests.support.servers import ServerFailed, ServerProcess, serve_command

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"
LUA = BENCH / "lua"
PYTHON = ROOT / ".venv" / "bin" / "python"
TMFSTACK = ROOT / ".venv" / "bin" / "tmfstack"
PYSPY = ROOT / ".venv" / "bin" / "py-spy"
PO = "/tmf-api/productCatalogManagement/v4/productOffering"
LIST_QUERY = f"{PO}?lifecycleStatus=Launched&limit=20"
FLAT = ("list_filter", "list_all")  #: measured at --offerings and at --flat-offerings
ALL_QUERY = f"{PO}?limit=20"
PAGED_QUERY = f"{PO}?lifecycleStatus=Launched&limit=20&fields=name,lifecycleStatus"
#: measured with authentication off and on in one run; on must reach AUTH_RATIO of off
AUTH_COMPARED = ("get_by_id", "list_filter", "post")
AUTH_RATIO = 0.85
NO_AUTH = "/no-auth"  #: suffix of the results measured with authentication off
#: the same request through TMF620 v5 (the mapping at the edge), measured in the same run as v4;
#: v5 must reach VERSION_RATIO of v4 on each
V5 = " v5"
VERSION_COMPARED = ("get_by_id", "list_filter", "post")
VERSION_RATIO = 0.8


@dataclass
class Scenario:
    name: str
    server: str  #: "hello" or "tmf"
    method: str
    path: str  #: the path a single pre-flight request uses
    expected: int  #: the status every response must have
    script: str | None = None
    script_args: list[str] = field(default_factory=list)
    body: bytes | None = None
    content_type: str | None = None
    connections: int | None = None  #: overrides --connections (for scenarios slow enough to time out)


@dataclass
class Result:
    scenario: str
    offerings: int
    rps: float
    p50_ms: float
    p75_ms: float
    p90_ms: float
    p99_ms: float
    requests: int
    non_2xx_3xx: int
    socket_errors: int
    seconds: float
    #: CPU (in cores) used during the measured run by processes other than the server and wrk: noise
    other_cpu: float = 0.0
    #: CPU (in cores) stolen by the hypervisor during the measured run: noise too
    steal_cpu: float = 0.0
    connections: int = 0
    #: server CPU (user + system) per request, microseconds: the cost, less sensitive to noise than req/s
    server_us: float = 0.0
    error: str | None = None


# -- seeding -----------------------------------------------------------------------------


def fingerprint() -> str:
    """What a cached seed depends on: the store schema and the document generator."""
    from tmfstack.store.schema import MIGRATIONS

    digest = hashlib.sha256("\0".join(MIGRATIONS).encode())
    digest.update((BENCH / "catalog.py").read_bytes())
    return digest.hexdigest()[:16]


def ensure_seed(n: int, reseed: bool) -> tuple[Path, dict[str, Any]]:
    db = RESULTS / f"seed-{n}.db"
    meta_file = RESULTS / f"seed-{n}.json"
    if not reseed and db.exists() and meta_file.exists() and Path(f"{db}.ids").exists():
        meta = json.loads(meta_file.read_text())
        if meta.get("fingerprint") == fingerprint():
            print(f"seed: {n:,} offerings cached in {db.name} (seeded in {meta['seconds']:.1f} s)", flush=True)
            return db, meta
        print(f"seed: schema or generator changed since {db.name} was seeded", flush=True)
    print(f"seed: writing {n:,} offerings to {db.name} …", flush=True)
    tmp = RESULTS / f"seed-{n}.partial.db"
    meta: dict[str, Any] = {**asyncio.run(seed(tmp, n)), "fingerprint": fingerprint()}
    for suffix in ("", ".ids"):
        os.replace(f"{tmp}{suffix}", f"{db}{suffix}")
    meta_file.write_text(json.dumps(meta, indent=2))
    print(
        f"seed: {n:,} offerings in {meta['seconds']:.1f} s ({n / meta['seconds']:,.0f}/s; build "
        f"{meta['build_seconds']:.1f} s, write {meta['write_seconds']:.1f} s), avg doc {meta['avg_doc_bytes']} B, "
        f"db {meta['db_bytes'] / 1e6:,.0f} MB",
        flush=True,
    )
    return db, meta


def working_copy(db: Path) -> Path:
    """The server runs on a copy, so POST/PATCH never dirty the cached seed."""
    run = db.with_name(db.name.replace("seed-", "run-"))
    for suffix in ("", "-wal", "-shm"):
        Path(f"{run}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(db, run)
    return run


# -- servers -----------------------------------------------------------------------------


class BenchServer(ServerProcess):
    """A server of the benchmark, started at once on ``core``: ``hello`` (bench/hello.py) or ``tmf`` (tmfstack
    over ``db``, with a bearer token in ``headers`` when ``auth``), logging to results/server-<kind>.log."""

    def __init__(self, kind: str, port: int, core: int, db: Path | None = None, auth: bool = True) -> None:
        self.kind, self.db_file = kind, db
        #: the Authorization header every request carries (auth on), else none
        self.headers: dict[str, str] = {}
        base = f"http://127.0.0.1:{port}"
        if kind == "hello":
            cmd, ready = [str(PYTHON), str(BENCH / "hello.py"), "--port", str(port)], "/"
        else:
            cmd, ready = serve_command(port, f"sqlite:///{db}", *([] if auth else ["--no-auth"])), "/health"
            if auth:
                self.headers = {"Authorization": f"Bearer {bench_token(f'sqlite:///{db}', base)}"}
        env = {**os.environ, "TMFSTACK_EXPORT_DIR": str(RESULTS / "exports")}
        env.pop("TMFSTACK_AUTH", None)
        log = RESULTS / f"server-{kind}{'' if auth else '-no-auth'}.log"
        super().__init__(["taskset", "-c", str(core), *cmd], port, log, env, ready_path=ready, cwd=RESULTS)
        try:
            self.start(timeout=120)
        except ServerFailed as exc:
            raise SystemExit(f"{kind} server: {exc}") from None

    @property
    def base(self) -> str:
        return self.url


def bench_token(database: str, base: str) -> str:
    """Register the bench's operator client (a rate it cannot reach) and print it a token for the
    scopes the scenarios need, as a client would ask for (a token of every scope is twice as long)."""
    tmfstack = [str(TMFSTACK)]
    unlimited = ["--rate", "10000000/s", "--burst", "10000000"]
    subprocess.run(
        [*tmfstack, "client", "add", "bench", "--scope", "operator", *unlimited, "--database", database],
        capture_output=True,
        text=True,
    )  # already registered in a reused copy: fine
    done = subprocess.run(
        [
            *tmfstack,
            "token",
            "bench",
            "--scope",
            "tmf620:read tmf620:write",
            "--database",
            database,
            "--public-url",
            base,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


# -- CPU accounting ----------------------------------------------------------------------

_TICK = os.sysconf("SC_CLK_TCK")


def busy_seconds() -> float:
    """CPU seconds all cores spent in user and system mode since boot.

    irq and softirq time is left out: on loopback it is mostly our own packets, charged to no process.
    """
    fields = _cpu_fields()
    return (fields[0] + fields[1] + fields[2]) / _TICK


def steal_seconds() -> float:
    """CPU seconds the hypervisor gave to other guests while ours wanted to run."""
    return _cpu_fields()[7] / _TICK


def _cpu_fields() -> list[int]:
    return [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]


def process_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK


def children_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def wait_quiet(limit: float, seconds: float) -> float:
    """Wait (up to ``seconds``) until other processes use under ``limit`` cores; return what they use."""
    deadline = time.perf_counter() + seconds
    while True:
        t0, b0 = time.perf_counter(), busy_seconds()
        time.sleep(1)
        used = (busy_seconds() - b0) / (time.perf_counter() - t0)
        if used < limit or time.perf_counter() > deadline:
            return used
        print(f"  waiting: other processes use {used:.2f} cores", flush=True)


# -- wrk ---------------------------------------------------------------------------------

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS[unit]


def parse_wrk(out: str) -> dict[str, float]:
    pct = dict(re.findall(r"^\s+(50|75|90|99)%\s+(\S+)\s*$", out, re.M))
    done = re.search(r"^\s+(\d+) requests in ([\d.]+)(\w+),", out, re.M)
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", out, re.M)
    if not (pct and done and rps):
        raise SystemExit(f"cannot parse wrk output:\n{out}")
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return {
        "rps": float(rps.group(1)),
        "p50_ms": _ms(pct["50"]),
        "p75_ms": _ms(pct["75"]),
        "p90_ms": _ms(pct["90"]),
        "p99_ms": _ms(pct["99"]),
        "requests": int(done.group(1)),
        "seconds": _ms(done.group(2) + done.group(3)) / 1e3,
        "non_2xx_3xx": int(non2xx.group(1)) if non2xx else 0,
        "socket_errors": sum(int(x) for x in sock.groups()) if sock else 0,
    }


def wrk(
    args: argparse.Namespace,
    base: str,
    sc: Scenario,
    seconds: float,
    server_pid: int = 0,
    headers: dict[str, str] | None = None,
) -> dict[str, float]:
    cmd = ["taskset", "-c", str(args.wrk_core), "wrk", f"-t{args.threads}", f"-c{sc.connections or args.connections}"]
    cmd += [f"-d{max(1, round(seconds))}s", "--latency", "--timeout", "10s"]
    for name, value in (headers or {}).items():
        cmd += ["-H", f"{name}: {value}"]
    url = base + (sc.path if sc.script is None else "/")
    if sc.script:
        cmd += ["-s", str(LUA / sc.script), url, "--", *sc.script_args]
    else:
        cmd.append(url)
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    (RESULTS / f"wrk-{sc.name}.txt").write_text(out)
    if server_pid:
        wait_idle(server_pid)
    return parse_wrk(out)


def wait_idle(pid: int, limit: float = 120) -> None:
    """Let the server finish the requests wrk left in flight, so they do not leak into the next run."""
    deadline = time.perf_counter() + limit
    while time.perf_counter() < deadline:
        before = process_seconds(pid)
        time.sleep(0.3)
        if process_seconds(pid) - before < 0.03:
            return


def preflight(base: str, sc: Scenario, auth: dict[str, str] | None = None) -> None:
    """One request by hand: the scenario must get exactly the status it expects (wrk only counts >= 400)."""
    headers = {**(auth or {}), **({"Content-Type": sc.content_type} if sc.content_type else {})}
    request = urllib.request.Request(base + sc.path, data=sc.body, method=sc.method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            status, body = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, body = exc.code, exc.read()
    if status != sc.expected:
        raise SystemExit(f"{sc.name}: {sc.method} {sc.path} answered {status}, expected {sc.expected}: {body[:500]!r}")


def measure(args: argparse.Namespace, server: BenchServer, sc: Scenario, offerings: int, label: str = "") -> Result:
    preflight(server.base, sc, server.headers)
    if args.warmup:
        wrk(args, server.base, sc, args.warmup, server.pid, server.headers)
    best: Result | None = None
    for attempt in range(args.retries + 1):
        if attempt:
            noisy = f"other processes used {best.other_cpu:.2f} cores, steal {best.steal_cpu:.2f}"
            print(f"  {sc.name}: {noisy}; measuring again", flush=True)
        wait_quiet(args.quiet, args.quiet_wait)
        t0, busy0, srv0, kids0 = time.perf_counter(), busy_seconds(), process_seconds(server.pid), children_seconds()
        steal0 = steal_seconds()
        got = wrk(args, server.base, sc, args.duration, headers=server.headers)
        served = process_seconds(server.pid) - srv0
        ours = served + children_seconds() - kids0
        elapsed = time.perf_counter() - t0
        other = max(0.0, (busy_seconds() - busy0 - ours) / elapsed)
        steal = (steal_seconds() - steal0) / elapsed
        wait_idle(server.pid)
        connections = sc.connections or args.connections
        run = Result(
            sc.name + label,
            offerings,
            **got,
            other_cpu=round(other, 2),
            steal_cpu=round(steal, 2),
            connections=connections,
            server_us=round(served / max(got["requests"], 1) * 1e6, 1),
        )
        if best is None or run.other_cpu + run.steal_cpu < best.other_cpu + best.steal_cpu:
            best = run
        if best.other_cpu + best.steal_cpu <= args.quiet:
            break
    assert best is not None
    result, other = best, best.other_cpu + best.steal_cpu
    print(
        f"  {sc.name + label:<22} {result.rps:>9,.0f} req/s  p50 {result.p50_ms:6.2f} ms  p99 {result.p99_ms:6.2f} ms"
        f"  non-2xx {result.non_2xx_3xx}  socket errors {result.socket_errors}  other CPU {result.other_cpu:.2f} cores"
        f"  steal {result.steal_cpu:.2f}",
        flush=True,
    )
    if other > args.quiet:
        print(f"  WARNING: {other:.2f} cores of noise (other processes, steal) during {sc.name}", flush=True)
    if result.non_2xx_3xx or result.socket_errors:
        result.error = f"{result.non_2xx_3xx} non-2xx responses, {result.socket_errors} socket errors"
        print(f"  ERROR: {sc.name}: {result.error} (expected only {sc.expected})", flush=True)
    if args.profile and server.kind == "tmf":
        profile(args, server, sc)
    return result


def profile(args: argparse.Namespace, server: BenchServer, sc: Scenario) -> None:
    """Extra load runs under py-spy, then perf (the measured run above is never sampled).

    py-spy names the Python functions; it stops the process to sample (ptrace), which
    over-weights system calls, so perf's split by shared object (interpreter, kernel,
    libsqlite3, ...) is the ground truth for where the CPU goes.
    """
    raw = RESULTS / f"profile-{sc.name}.txt"
    seconds = str(int(args.duration))
    sampler = [
        str(PYSPY),
        "record",
        "--pid",
        str(server.pid),
        "--rate",
        "200",
        "--duration",
        seconds,
        "--format",
        "raw",
        "--output",
        str(raw),
        *(["--native"] if args.native else []),
    ]
    parts = []
    if sample(args, server, sc, sampler) and raw.exists():
        parts.append(summarize(raw, top=args.profile_top))
    data = RESULTS / f"perf-{sc.name}.data"
    if shutil.which("perf") and sample(
        args,
        server,
        sc,
        ["perf", "record", "-F", "999", "-p", str(server.pid), "-o", str(data), "--", "sleep", seconds],
    ):
        parts.append(perf_summary(data, sc.name, args.profile_top))
    summary = "\n".join(parts)
    (RESULTS / f"profile-{sc.name}.md").write_text(summary)
    print(summary, flush=True)


def sample(args: argparse.Namespace, server: BenchServer, sc: Scenario, sampler: list[str]) -> bool:
    proc = subprocess.Popen(
        ["taskset", "-c", str(args.wrk_core), *sampler], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    time.sleep(0.5)
    wrk(args, server.base, sc, args.duration, server.pid, server.headers)
    _, err = proc.communicate()
    if proc.returncode != 0:
        print(f"  {sampler[0]} failed: {err.decode()[-500:]}", flush=True)
    return proc.returncode == 0


def perf_summary(data: Path, name: str, top: int) -> str:
    def report(sort: str) -> list[tuple[str, str]]:
        out = subprocess.run(
            ["perf", "report", "-i", str(data), "--no-children", "--sort", sort, "--stdio", "-g", "none"],
            capture_output=True,
            text=True,
        ).stdout
        rows = [line.split(None, 1) for line in out.splitlines() if line.strip() and not line.startswith("#")]
        return [(row[0], " ".join(row[1].split())) for row in rows if len(row) == 2][:top]

    lines = [f"### perf {name} (CPU by shared object)", "", "| shared object | % |", "|---|---:|"]
    lines += [f"| `{what}` | {pct.rstrip('%')} |" for pct, what in report("dso")]
    lines += ["", "| symbol | % |", "|---|---:|"]
    lines += [f"| `{what}` | {pct.rstrip('%')} |" for pct, what in report("dso,sym")]
    return "\n".join(lines) + "\n"


# -- scenarios ---------------------------------------------------------------------------


def scenarios(ids_file: Path, offerings: int, pages: int) -> list[Scenario]:
    ids = [line for line in ids_file.read_text().split() if line]
    factory = OfferingFactory(seed=4242)
    body = factory.body()
    body["name"] = "NAME_MARKER"
    body["lifecycleStatus"] = "In design"
    body_file = RESULTS / "post-body.json"
    body_file.write_bytes(orjson.dumps(body))
    pages = max(1, min(pages, int(offerings * 0.5) // 20))
    patch = b'{"description":"Repriced offer, revision 0: same speed, new promotional terms."}'
    po5 = PO.replace("/v4/", "/v5/")
    return [
        Scenario("hello", "hello", "GET", "/", 200),
        Scenario("get_by_id" + V5, "tmf", "GET", f"{po5}/{ids[0]}", 200, "get_by_id.lua", [str(ids_file), f"{po5}/"]),
        Scenario("list_filter" + V5, "tmf", "GET", LIST_QUERY.replace(PO, po5), 206),
        Scenario(
            "post" + V5,
            "tmf",
            "POST",
            po5,
            201,
            "post.lua",
            [po5, str(body_file)],
            body_file.read_bytes().replace(b"NAME_MARKER", b"Bench offering preflight"),
            "application/json",
        ),
        Scenario("get_by_id", "tmf", "GET", f"{PO}/{ids[0]}", 200, "get_by_id.lua", [str(ids_file), f"{PO}/"]),
        Scenario("list_filter", "tmf", "GET", LIST_QUERY, 206),
        # unfiltered: slow enough on big catalogs that 32 connections would time out
        Scenario("list_all", "tmf", "GET", ALL_QUERY, 206, connections=4),
        Scenario(
            "list_paged",
            "tmf",
            "GET",
            f"{PAGED_QUERY}&offset=0",
            206,
            "list_paged.lua",
            [PAGED_QUERY, "20", str(pages)],
        ),
        Scenario(
            "post",
            "tmf",
            "POST",
            PO,
            201,
            "post.lua",
            [PO, str(body_file)],
            body_file.read_bytes().replace(b"NAME_MARKER", b"Bench offering preflight"),
            "application/json",
        ),
        Scenario(
            "patch",
            "tmf",
            "PATCH",
            f"{PO}/{ids[-1]}",
            200,
            "patch.lua",
            [str(ids_file), f"{PO}/"],
            patch,
            "application/merge-patch+json",
        ),
    ]


# -- report ------------------------------------------------------------------------------


def _fmt_ms(value: float) -> str:
    return f"{value:.2f} ms"


def targets(results: dict[str, Result]) -> dict[str, tuple[str, bool]]:
    hello = results["hello"].rps if "hello" in results else float("nan")
    out: dict[str, tuple[str, bool]] = {}
    if "get_by_id" in results:
        r = results["get_by_id"]
        third = hello != hello or r.rps >= hello / 3  # NaN: hello-world not measured in this run
        out["get_by_id"] = ("≥ 8000 req/s and ≥ 1/3 hello", r.rps >= 8000 and third)
    if "list_filter" in results:  # the target: a filtered list, limit=20, over the full catalog
        r = results["list_filter"]
        out["list_filter"] = ("≥ 3000 req/s, p99 ≤ 20 ms", r.rps >= 3000 and r.p99_ms <= 20)
    if "post" in results:
        out["post"] = ("≥ 1500 req/s", results["post"].rps >= 1500)
    for name in AUTH_COMPARED:
        off = results.get(name + NO_AUTH)
        if off is not None and name in results:
            ratio = results[name].rps / off.rps
            out[f"{name} auth on/off"] = (f"≥ {AUTH_RATIO} (measured {ratio:.2f})", ratio >= AUTH_RATIO)
    for name in VERSION_COMPARED:
        v4, v5 = results.get(name), results.get(name + V5)
        if v4 is not None and v5 is not None:
            ratio = v5.rps / v4.rps
            out[f"{name} v5/v4"] = (f"≥ {VERSION_RATIO} (measured {ratio:.2f})", ratio >= VERSION_RATIO)
    for name, r in results.items():  # unexpected statuses fail every scenario, with or without a target
        if r.error:
            out[name] = (out.get(name, ("expected statuses only", False))[0], False)
    return out


def report(results: dict[str, Result], flat: dict[str, Result], offerings: int, seeding: dict[str, Any]) -> str:
    hello = results["hello"].rps if "hello" in results else None
    verdicts = targets(results)
    lines = [
        f"## tmfstack bench: {offerings:,} product offerings",
        "",
        "| scenario | req/s | p50 | p99 | ratio to hello-world | target | result | other CPU / steal |",
        "|---|---:|---:|---:|---:|---|---|---:|",
    ]
    for name, r in results.items():
        ratio = f"{r.rps / hello:.2f}" if hello else "n/a"
        if name.endswith(NO_AUTH):
            verdicts.setdefault(name, ("(authentication off)", None))
        target, ok = verdicts.get(name, ("", None))
        verdict = "" if ok is None else ("PASS" if ok else "FAIL")
        if r.error:
            verdict = f"FAIL ({r.error})"
        lines.append(
            f"| {name} | {r.rps:,.0f} | {_fmt_ms(r.p50_ms)} | {_fmt_ms(r.p99_ms)} | {ratio} | {target} | {verdict} "
            f"| {r.other_cpu:.2f} / {r.steal_cpu:.2f} |"
        )
    versions = [(name, verdicts[f"{name} v5/v4"]) for name in VERSION_COMPARED if f"{name} v5/v4" in verdicts]
    if versions:
        lines += [
            "",
            "The same request through TMF620 v5 (the mapping at the edge) against v4, same run and server:",
            "",
            "| scenario | v4 req/s | v5 req/s | v4 p99 | v5 p99 | target | result |",
            "|---|---:|---:|---:|---:|---|---|",
        ]
        for name, (target, ok) in versions:
            v4, v5 = results[name], results[name + V5]
            lines.append(
                f"| {name} | {v4.rps:,.0f} | {v5.rps:,.0f} | {_fmt_ms(v4.p99_ms)} | {_fmt_ms(v5.p99_ms)} "
                f"| {target} | {'PASS' if ok else 'FAIL'} |"
            )
    compared = [(name, verdicts[f"{name} auth on/off"]) for name in AUTH_COMPARED if f"{name} auth on/off" in verdicts]
    if compared:
        lines += [
            "",
            "Authentication on (bearer token, scope check, rate limit) against off, same run: the median"
            " of alternating runs; server CPU per request from /proc:",
            "",
        ]
        lines += [
            "| scenario | off req/s | on req/s | on p99 | ratio | CPU/request off → on | target | result |",
            "|---|---:|---:|---:|---:|---:|---|---|",
        ]
        for name, (_, ok) in compared:
            off, on = results[name + NO_AUTH], results[name]
            lines.append(
                f"| {name} | {off.rps:,.0f} | {on.rps:,.0f} | {_fmt_ms(on.p99_ms)} | {on.rps / off.rps:.2f} "
                f"| {off.server_us:.0f} → {on.server_us:.0f} µs | ≥ {AUTH_RATIO} | {'PASS' if ok else 'FAIL'} |"
            )
    if flat:
        lines += ["", "List latency flatness (same query and settings at two catalog sizes):", ""]
        lines += ["| scenario | offerings | req/s | p50 | p99 |", "|---|---:|---:|---:|---:|"]
        for r in sorted(flat.values(), key=lambda r: (r.scenario, r.offerings)):
            lines.append(
                f"| {r.scenario} | {r.offerings:,} | {r.rps:,.0f} | {_fmt_ms(r.p50_ms)} | {_fmt_ms(r.p99_ms)} |"
            )
    lines += [
        "",
        f"Seeding {seeding['offerings']:,}: {seeding['seconds']:.1f} s, avg document {seeding['avg_doc_bytes']} B.",
        "other CPU / steal: cores used by other processes / stolen by the hypervisor during the run (noise;"
        " the server has core 0, wrk core 1).",
    ]
    return "\n".join(lines) + "\n"


# -- main --------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--offerings", type=int, default=1_000_000, help="catalog size (default 1,000,000)")
    parser.add_argument(
        "--flat-offerings", type=int, default=10_000, help="small catalog for the flatness run (0: skip)"
    )
    parser.add_argument("--reseed", action="store_true", help="ignore the cached seeded databases")
    parser.add_argument("--duration", type=float, default=10, help="seconds per measured wrk run")
    parser.add_argument("--warmup", type=float, default=3, help="seconds of unmeasured warm-up per scenario (0: none)")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--pages", type=int, default=100, help="list_paged picks a random page among the first N")
    parser.add_argument("--server-core", type=int, default=0)
    parser.add_argument("--wrk-core", type=int, default=1)
    parser.add_argument("--port", type=int, default=18620)
    parser.add_argument("--quiet", type=float, default=0.25, help="max cores others may use before a run")
    parser.add_argument("--quiet-wait", type=float, default=60, help="seconds to wait for a quiet machine")
    parser.add_argument("--retries", type=int, default=2, help="re-measure a run disturbed by other processes")
    parser.add_argument("--only", help="comma-separated scenario names")
    parser.add_argument(
        "--auth",
        choices=["both", "on", "off"],
        default="both",
        help="tmfstack with tokens, without, or both (compared)",
    )
    parser.add_argument("--rounds", type=int, default=5, help="alternating off/on runs per compared scenario")
    parser.add_argument("--profile", action="store_true", help="py-spy each tmfstack scenario in an extra run")
    parser.add_argument("--profile-top", type=int, default=15)
    parser.add_argument("--native", action="store_true", help="py-spy --native: split time spent in C extensions")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install -y wrk)")
    RESULTS.mkdir(parents=True, exist_ok=True)

    db, seeding = ensure_seed(args.offerings, args.reseed)
    chosen = scenarios(Path(f"{db}.ids"), args.offerings, args.pages)
    if args.only:
        wanted = set(args.only.split(","))
        chosen = [s for s in chosen if s.name in wanted]
    results: dict[str, Result] = {}
    flat: dict[str, Result] = {}

    hello = [s for s in chosen if s.server == "hello"]
    if hello:
        server = BenchServer("hello", args.port, args.server_core)
        try:
            print(f"hello-world on core {args.server_core}, wrk on core {args.wrk_core}", flush=True)
            for sc in hello:
                results[sc.name] = measure(args, server, sc, args.offerings)
        finally:
            server.stop()

    tmf = [s for s in chosen if s.server == "tmf"]
    if tmf:
        copy = working_copy(db)
        # both servers on one database copy and one core: the compared scenarios alternate between
        # them (--rounds times each, the median kept), so drift on the machine hits both alike
        off = BenchServer("tmf", args.port + 3, args.server_core, copy, auth=False) if args.auth != "on" else None
        on = BenchServer("tmf", args.port + 1, args.server_core, copy) if args.auth != "off" else None
        try:
            ready = ", ".join(f"{s.startup:.1f} s" for s in (off, on) if s is not None)
            print(f"tmfstack on {args.offerings:,} offerings, without and with tokens (ready in {ready})", flush=True)
            # compared runs alternate, --rounds times each, the median kept: off and on (auth), and
            # a v5 scenario with its v4 one, so that drift (a POST's growing table) hits both alike
            twins = {sc.name.removesuffix(V5): sc for sc in tmf if sc.name.endswith(V5)}
            for sc in tmf:
                if sc.name.endswith(V5) and sc.name.removesuffix(V5) in [s.name for s in tmf]:
                    continue  # measured with its v4 twin
                entries: list[tuple[Scenario, BenchServer, str]] = []
                if sc.name in AUTH_COMPARED and off and on:
                    entries += [(sc, off, NO_AUTH), (sc, on, "")]
                else:
                    server = on or off
                    assert server is not None
                    entries.append((sc, server, "" if server is on else NO_AUTH))
                twin = twins.get(sc.name)
                if twin is not None:
                    entries.append((twin, on or off, ""))  # type: ignore[arg-type]
                runs: dict[str, list[Result]] = {}
                for _ in range(args.rounds if len(entries) > 1 else 1):
                    for scenario, server, label in entries:
                        key = scenario.name + label
                        runs.setdefault(key, []).append(measure(args, server, scenario, args.offerings, label))
                for key, measured in runs.items():
                    results[key] = sorted(measured, key=lambda r: r.rps)[len(measured) // 2]
        finally:
            for server in (off, on):
                if server is not None:
                    server.stop()
        for name in FLAT:
            if name in results:
                flat[f"{name}@{args.offerings}"] = results[name]

    flat_runs = [s for s in chosen if s.name in FLAT and s.name in results]
    if args.flat_offerings and flat_runs and args.flat_offerings != args.offerings:
        small, _ = ensure_seed(args.flat_offerings, args.reseed)
        server = BenchServer("tmf", args.port + 2, args.server_core, working_copy(small), auth=args.auth != "off")
        try:
            print(f"tmfstack on {args.flat_offerings:,} offerings (ready in {server.startup:.1f} s)", flush=True)
            plain = argparse.Namespace(**{**vars(args), "profile": False})
            for sc in flat_runs:
                flat[f"{sc.name}@{args.flat_offerings}"] = measure(plain, server, sc, args.flat_offerings)
        finally:
            server.stop()

    md = report(results, flat, args.offerings, seeding)
    print("\n" + md)
    (RESULTS / "latest.md").write_text(md)
    verdicts = targets(results)
    (RESULTS / "latest.json").write_text(
        json.dumps(
            {
                "offerings": args.offerings,
                "settings": {
                    k: getattr(args, k) for k in ("duration", "warmup", "connections", "threads", "server_core")
                },
                "seeding": seeding,
                "results": {k: asdict(v) for k, v in results.items()},
                "flatness": {k: asdict(v) for k, v in flat.items()},
                "targets": {k: {"target": t, "pass": ok} for k, (t, ok) in verdicts.items()},
            },
            indent=2,
        )
    )
    return 0 if all(ok for _, ok in verdicts.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
