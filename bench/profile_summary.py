"""Summarise a ``py-spy record --format raw`` file: where the server's CPU time goes.

    .venv/bin/python bench/profile_summary.py bench/results/profile-get_by_id.txt

Prints the top functions by self time and by inclusive time (% of all samples), and
self time grouped by package (starlette, uvicorn, tmfstack.<module>, sqlite3, ...).
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^()]*?)(?::\d+)?\)$")


def _frame(raw: str) -> tuple[str, str]:
    """("function (short/file.py)", package) for one collapsed-stack frame."""
    m = _FRAME.match(raw.strip())
    if not m:
        return raw.strip(), "?"
    func, file = m["func"], m["file"]
    short = file
    for marker in ("site-packages/", "lib/python3", "src/"):
        if marker in file:
            short = file.split(marker, 1)[1]
            if marker == "lib/python3":
                short = "stdlib/" + short.split("/", 1)[-1]
            break
    parts = short.split("/")
    if parts[0] == "tmfstack" and len(parts) > 1:
        package = "tmfstack." + parts[1].removesuffix(".py")
    elif parts[0] == "stdlib":
        package = "stdlib." + parts[1].removesuffix(".py") if len(parts) > 1 else "stdlib"
    else:
        package = parts[0].removesuffix(".py")
    return f"{func} ({short})", package


def summarize(path: Path, top: int = 15) -> str:
    self_time: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    packages: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = [_frame(f) for f in stack.split(";") if f.strip()]
        if not frames:
            continue
        leaf, package = frames[-1]
        self_time[leaf] += n
        packages[package] += n
        for name in {name for name, _ in frames}:
            inclusive[name] += n
    if not total:
        return f"{path.name}: no samples\n"

    def table(title: str, counter: Counter[str]) -> list[str]:
        rows = [f"| {title} | % |", "|---|---:|"]
        rows += [f"| `{name}` | {100 * n / total:.1f} |" for name, n in counter.most_common(top)]
        return rows

    out = [f"### {path.stem} ({total} samples)", ""]
    out += [*table("self time by package", packages), ""]
    out += [*table("self time by function", self_time), ""]
    # frames on (nearly) every stack (the event loop, uvicorn's entry) say nothing
    inclusive = Counter({name: n for name, n in inclusive.items() if n < 0.97 * total})
    out += table("inclusive time by function", inclusive)
    return "\n".join(out) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args()
    for path in args.files:
        print(summarize(path, args.top))


if __name__ == "__main__":
    main()
