#!/usr/bin/env bash
# Runs the official TM Forum conformance kits (TMF620, TMF622, TMF637 v4) against a fresh server.
#
#   scripts/run-kits.sh [DATABASE_URL]
#
# Loads the demo (catalog and demo orders, so TMF637 has products to find) into
# DATABASE_URL (default: a new SQLite file in a temporary directory; give an empty
# database), registers an operator client for the kits and gets its token, starts
# `tmfstack serve` (authentication on) on a free port, waits for GET /health, runs each
# kit with ../shared/tools/run-ctk, the token as `Authorization: Bearer …`, and its config
# from ctk/ (TMF<N>.config.json, when present; else the kit's own), stops the server and
# prints a summary. Exit status 0 only when every kit reports 0 failed. The work directory (demo output, server log,
# kit outputs and newman reports) is kept when something failed.
#
# Environment: TMFSTACK_SHARED (default ../shared), TMFSTACK_BIN (default .venv/bin/tmfstack).
set -uo pipefail

cd "$(dirname "$0")/.." || exit 2
ROOT=$PWD
SHARED=${TMFSTACK_SHARED:-$(cd .. && pwd)/shared}
BIN=${TMFSTACK_BIN:-$ROOT/.venv/bin/tmfstack}
PY=$ROOT/.venv/bin/python
RUN_CTK=$SHARED/tools/run-ctk
KITS=(
    "TMF620 CTK-TMF620-ProductCatalog /tmf-api/productCatalogManagement/v4"
    "TMF622 CTK-TMF622-ProductOrdering /tmf-api/productOrderingManagement/v4"
    "TMF637 CTK-TMF637-ProductInventory /tmf-api/productInventory/v4"
)

WORK=$(mktemp -d "${TMPDIR:-/tmp}/tmfstack-kits.XXXXXX")
DB=${1:-sqlite:///$WORK/kits.db}
PORT=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
BASE=http://127.0.0.1:$PORT
SERVER_PID=
STATUS=0

say() { printf '%s\n' "run-kits: $*"; }
redact() { sed -E 's#(://[^:/@]*:)[^@]*@#\1***@#'; }  # hide a password in a database URL

stop_server() {
    if [ -n "$SERVER_PID" ]; then
        kill "$SERVER_PID" 2>/dev/null
        wait "$SERVER_PID" 2>/dev/null
        SERVER_PID=
    fi
}

finish() {
    stop_server
    if [ "$STATUS" -eq 0 ]; then
        rm -rf "$WORK"
    else
        say "kept $WORK (demo.log, server.log, <kit>.out, <kit>.report.json)"
    fi
}
trap finish EXIT
trap 'STATUS=130; exit 130' INT TERM

for tool in "$BIN" "$RUN_CTK"; do
    if [ ! -x "$tool" ]; then
        say "missing $tool"
        STATUS=2
        exit 2
    fi
done

say "database $(printf '%s' "$DB" | redact), server $BASE, work $WORK"

# the demo writes hrefs with the public URL: give it the server's
if ! (cd "$WORK" && TMFSTACK_PUBLIC_URL=$BASE "$BIN" demo --database "$DB") >"$WORK/demo.log" 2>&1; then
    cat "$WORK/demo.log"
    say "tmfstack demo failed"
    STATUS=1
    exit 1
fi
grep -E '^(/tmf-api/|productOrder |client )' "$WORK/demo.log" | sed -E 's/secret [^ ]+/secret ***/'
# the kits call with a token of their own client (an operator's scopes, a rate they cannot exceed)
if ! "$BIN" client add ctk-kits --scope operator --rate 100000/s --burst 100000 --database "$DB" >"$WORK/client.log" 2>&1 \
    || ! TOKEN=$("$BIN" token ctk-kits --database "$DB" --public-url "$BASE" 2>"$WORK/token.log"); then
    cat "$WORK/client.log" "$WORK/token.log"
    say "could not register the kits' client"
    STATUS=1
    exit 1
fi
if grep -E '^productOrder ' "$WORK/demo.log" | grep -Ev ': (completed|already placed, completed) \[' >/dev/null; then
    say "a demo order did not complete"
    STATUS=1
    exit 1
fi

(cd "$WORK" && exec "$BIN" serve --port "$PORT" --database "$DB" --public-url "$BASE") >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
up=
for _ in $(seq 1 150); do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
        break
    fi
    if curl -fs "$BASE/health" >/dev/null 2>&1; then
        up=1
        break
    fi
    sleep 0.2
done
if [ -z "$up" ]; then
    tail -n 50 "$WORK/server.log"
    say "the server did not answer GET $BASE/health"
    STATUS=1
    exit 1
fi

declare -a SUMMARY=()
for entry in "${KITS[@]}"; do
    read -r name dir root <<<"$entry"
    args=("$SHARED/ctk/$dir" "$BASE$root" --json "$WORK/$name.report.json" --header "Authorization: Bearer $TOKEN")
    if [ -f "$ROOT/ctk/$name.config.json" ]; then
        args+=(--config "$ROOT/ctk/$name.config.json")
    fi
    printf '\n=== %s %s ===\n' "$name" "$BASE$root"
    "$RUN_CTK" "${args[@]}" 2>&1 | tee "$WORK/$name.out"
    rc=${PIPESTATUS[0]}
    result=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$WORK/$name.out" | tail -n 1)
    result=${result:-no result}
    if [ "$rc" -ne 0 ]; then
        STATUS=1
        result="$result (exit $rc)"
    fi
    SUMMARY+=("$(printf '%-7s %s' "$name" "$result")")
done

# the TMF622 kit only checks the 201; the order it placed must also be fulfilled
config=$ROOT/ctk/TMF622.config.json
if [ -f "$config" ]; then
    if outcome=$("$PY" - "$BASE" "$config" "$TOKEN" <<'PY'
import json, sys, time, urllib.parse, urllib.request

base, config, token = sys.argv[1], sys.argv[2], sys.argv[3]
external = json.load(open(config))["payloads"]["ProductOrder"]["POST"]["payload"]["externalId"]
url = f"{base}/tmf-api/productOrderingManagement/v4/productOrder?" + urllib.parse.urlencode(
    {"externalId": external, "fields": "state,note"}
)
deadline, orders = time.monotonic() + 20, []
while time.monotonic() < deadline:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request) as response:
        orders = json.load(response)
    if orders and all(o["state"] in ("completed", "failed", "partial", "cancelled", "rejected") for o in orders):
        break
    time.sleep(0.2)
states = sorted({o["state"] for o in orders})
print(f"{len(orders)} order(s) {external}: {', '.join(states) or 'none found'}")
if states != ["completed"]:
    for order in orders:
        for note in order.get("note") or []:
            print("   ", note.get("text"))
    sys.exit(1)
PY
    ); then
        SUMMARY+=("$(printf '%-7s %s' "" "kit order: $outcome")")
    else
        STATUS=1
        printf '%s\n' "$outcome"
        SUMMARY+=("$(printf '%-7s %s' "" "kit order NOT fulfilled: ${outcome%%$'\n'*}")")
    fi
fi

stop_server
if [ "$STATUS" -ne 0 ]; then
    printf '\n--- server log (last 40 lines) ---\n'
    tail -n 40 "$WORK/server.log"
fi
printf '\n=== conformance kits on %s ===\n' "$(printf '%s' "$DB" | redact)"
printf '%s\n' "${SUMMARY[@]}"
if [ "$STATUS" -eq 0 ]; then
    say "all kits passed"
else
    say "some kit failed"
fi
exit "$STATUS"
