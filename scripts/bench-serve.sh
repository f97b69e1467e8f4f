#!/usr/bin/env bash
# bench-serve.sh - `mcpauth serve` against nginx as a plain reverse proxy, in one run.
#
#   bash scripts/bench-serve.sh [path/to/mcpauth] [seconds per case (5)]
#
# Installs nginx-light and wrk from Debian packages when they are missing (apt-get; as root),
# builds build/mcpauth when no binary is given and none is built. Then, all on 127.0.0.1
# ephemeral ports, it starts the MCP-shaped test upstream (tests/http/upstream.mjs, node) and
# measures with wrk, 8 keep-alive connections POSTing a small JSON-RPC body to /mcp:
#   upstream      the upstream directly
#   nginx         nginx, one worker process, upstream keep-alive, checking nothing
#   serve+token   mcpauth serve with a valid ES256 token (the token checked on every request)
#   serve-open    mcpauth serve on an unprotected path (/echo): the proxying alone
# and prints requests/s, the median latency and the proxy's CPU time per request (user +
# system of the nginx worker / the serve process, from /proc) of each, and the ratios to nginx.
# SERVE_FLAGS="--threads 1" passes flags to mcpauth serve. ROUNDS=N (1) measures the four cases
# N times, interleaved (upstream, nginx, serve+token, serve-open, then again), and prints each
# figure's median over the rounds: on a shared machine one round is easily skewed.
# The machine is shared by the load generator, the proxy and the upstream: compare the
# figures of one run with each other, not across machines.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
MCPAUTH=${1:-$ROOT/build/mcpauth}
SECS=${2:-5}
ROUNDS=${ROUNDS:-1}
case $ROUNDS in '' | *[!0-9]* | 0) echo "bench-serve: ROUNDS must be a positive whole number" >&2; exit 2 ;; esac
CONNS=8

need_pkg() { # COMMAND PACKAGE
    command -v "$1" >/dev/null 2>&1 && return 0
    if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
        echo "bench-serve: $1 is missing (Debian package $2); install it or run as root" >&2
        exit 2
    fi
    echo "# installing $2 (apt-get)"
    # keep the package from starting its service (Debian's policy-rc.d protocol)
    local made_policy=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d && made_policy=1
    fi
    (apt-get install -y -q "$2" >/tmp/bench-serve-apt.log 2>&1 ||
        (apt-get update -q && apt-get install -y -q "$2") >>/tmp/bench-serve-apt.log 2>&1)
    local rc=$?
    [ $made_policy -eq 1 ] && rm -f /usr/sbin/policy-rc.d
    [ $rc -eq 0 ] || { echo "bench-serve: apt-get install $2 failed (/tmp/bench-serve-apt.log)" >&2; exit 2; }
}
need_pkg wrk wrk
[ -x /usr/sbin/nginx ] || command -v nginx >/dev/null || need_pkg nginx nginx-light
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
command -v node >/dev/null || { echo "bench-serve: node is required (the upstream)" >&2; exit 2; }
if [ ! -x "$MCPAUTH" ]; then
    echo "# building $MCPAUTH"
    (cd "$ROOT" && cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null && cmake --build build -j2 --target mcpauth_cli >/dev/null) ||
        { echo "bench-serve: build failed" >&2; exit 2; }
fi

WORK=$(mktemp -d /tmp/bench-serve.XXXXXX)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
    node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}
wait_port() { # PORT
    for _ in $(seq 1 200); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.05
    done
    echo "bench-serve: nothing listens on port $1" >&2
    exit 1
}

# ---- upstream, keys, token ------------------------------------------------------------------
PUP=$(free_port)
node "$ROOT/tests/http/upstream.mjs" "$PUP" >"$WORK/upstream.out" 2>&1 &
PIDS+=($!)
wait_port "$PUP"

PS=$(free_port)
PN=$(free_port)
ISS="http://127.0.0.1:$(free_port)" # never contacted: the keys are inline
JWKS=$(node "$ROOT/tests/http/jwt.mjs" keygen "$WORK/keys.json")
NOW=$(date +%s)
TOKEN=$(node "$ROOT/tests/http/jwt.mjs" mint "$WORK/keys.json" \
    "{\"iss\":\"$ISS\",\"aud\":\"http://127.0.0.1:$PS/mcp\",\"sub\":\"bench\",\"iat\":$NOW,\"exp\":$((NOW + 3600)),\"scope\":\"mcp:read\"}")
cat >"$WORK/serve.json" <<EOF
{"issuer":"$ISS","jwks":$JWKS,"baseUrl":"http://127.0.0.1:$PS","requiredScopes":["mcp:read"],
 "authorizationEndpoint":"$ISS/authorize","tokenEndpoint":"$ISS/token"}
EOF
"$MCPAUTH" serve --config "$WORK/serve.json" --upstream "http://127.0.0.1:$PUP" --listen "127.0.0.1:$PS" \
    ${SERVE_FLAGS:-} >"$WORK/serve.out" 2>"$WORK/serve.err" &
PIDS+=($!)
SERVE_PID=$!
wait_port "$PS"

mkdir -p "$WORK/nginx/logs"
cat >"$WORK/nginx/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $WORK/nginx/body;
    proxy_temp_path $WORK/nginx/proxy;
    fastcgi_temp_path $WORK/nginx/fastcgi;
    uwsgi_temp_path $WORK/nginx/uwsgi;
    scgi_temp_path $WORK/nginx/scgi;
    upstream mcp { server 127.0.0.1:$PUP; keepalive 32; }
    server {
        listen 127.0.0.1:$PN;
        location / {
            proxy_pass http://mcp;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
    }
}
EOF
"$NGINX" -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" >"$WORK/nginx.out" 2>&1 &
PIDS+=($!)
NGINX_PID=$!
wait_port "$PN"
NGINX_WORKER=$(pgrep -P "$NGINX_PID" | head -n1)

BODY='{"jsonrpc":"2.0","id":1,"method":"ping"}'
make_lua() { # FILE [TOKEN]
    {
        echo 'wrk.method = "POST"'
        echo "wrk.body = '$BODY'"
        echo 'wrk.headers["Content-Type"] = "application/json"'
        echo 'wrk.headers["Accept"] = "application/json, text/event-stream"'
        [ -n "${2:-}" ] && echo "wrk.headers[\"Authorization\"] = \"Bearer $2\""
    } >"$1"
}
make_lua "$WORK/plain.lua"
make_lua "$WORK/token.lua" "$TOKEN"

# sanity: every case answers 200 before it is measured
check() { # NAME URL [TOKEN]
    local auth=()
    [ -n "${3:-}" ] && auth=(-H "Authorization: Bearer $3")
    local st
    st=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' "${auth[@]}" --data "$BODY" "$2")
    [ "$st" == 200 ] || { echo "bench-serve: $1 answers $st, not 200" >&2; exit 1; }
}
check upstream "http://127.0.0.1:$PUP/mcp"
check nginx "http://127.0.0.1:$PN/mcp"
check serve+token "http://127.0.0.1:$PS/mcp" "$TOKEN"
check serve-open "http://127.0.0.1:$PS/echo"

# run NAME URL LUA -> "NAME RPS P50_US"
to_us() { # wrk latency like 264.00us / 1.07ms / 2.00s
    awk -v v="$1" 'BEGIN{ n=v+0; if (v ~ /us$/) print n; else if (v ~ /ms$/) print n*1000; else if (v ~ /s$/) print n*1000000; else print n }'
}
# CPU time (user + system, clock ticks) of a process and its threads
ticks() { [ -n "${1:-}" ] && awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
HZ=$(getconf CLK_TCK)
RESULTS=()
run() { # NAME URL LUA [PID whose CPU time per request is reported]
    wrk -t2 -c$CONNS -d1s -s "$3" "$2" >/dev/null 2>&1 # warm-up (keep-alive pools, caches)
    local out t0 t1
    t0=$(ticks "${4:-}")
    out=$(wrk -t2 -c$CONNS -d"${SECS}s" --latency -s "$3" "$2" 2>&1)
    t1=$(ticks "${4:-}")
    local rps p50 non2xx reqs cpu
    reqs=$(echo "$out" | awk '/requests in/{print $1}')
    cpu=-
    [ -n "${4:-}" ] && [ "${reqs:-0}" -gt 0 ] && cpu=$(awk -v d=$((t1 - t0)) -v hz="$HZ" -v n="$reqs" 'BEGIN{printf "%.0f", d / hz * 1e6 / n}')
    rps=$(echo "$out" | awk '/^Requests\/sec:/{print $2}')
    p50=$(to_us "$(echo "$out" | awk '$1=="50%"{print $2}')")
    non2xx=$(echo "$out" | awk '/Non-2xx/{print $NF}')
    [ -n "$non2xx" ] && echo "bench-serve: $1: $non2xx non-2xx answers" >&2
    RESULTS+=("$1 $rps $p50 $cpu")
}
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
for _ in $(seq 1 "$ROUNDS"); do
    run upstream "http://127.0.0.1:$PUP/mcp" "$WORK/plain.lua"
    run nginx "http://127.0.0.1:$PN/mcp" "$WORK/plain.lua" "$NGINX_WORKER"
    run serve+token "http://127.0.0.1:$PS/mcp" "$WORK/token.lua" "$SERVE_PID"
    run serve-open "http://127.0.0.1:$PS/echo" "$WORK/plain.lua" "$SERVE_PID"
done
if [ "$ROUNDS" -gt 1 ]; then
    # one line per case: the median of each figure over the rounds
    median() { sort -g | awk '{v[NR]=$1} END{if (NR==0) print "-"; else if (NR%2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}'; }
    MEDIANS=()
    for name in upstream nginx serve+token serve-open; do
        line=$name
        for col in 2 3 4; do
            line="$line $(printf '%s\n' "${RESULTS[@]}" | awk -v n="$name" -v c=$col '$1==n && $c!="-"{print $c}' | median)"
        done
        MEDIANS+=("$line")
    done
    RESULTS=("${MEDIANS[@]}")
fi

echo "# $CONNS keep-alive connections, ${SECS}s each, POST /mcp ${#BODY}-byte JSON-RPC body; $(nproc) CPUs"
[ "$ROUNDS" -gt 1 ] && echo "# medians over $ROUNDS interleaved rounds"
echo "# load average before the run: $LOAD_BEFORE, after: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine skews every figure)"
printf '%-12s %12s %10s %14s\n' case "requests/s" "p50 (us)" "proxy CPU us/req"
NG_RPS=0
NG_P50=0
for r in "${RESULTS[@]}"; do
    set -- $r
    printf '%-12s %12.0f %10.0f %14s\n' "$1" "$2" "$3" "$4"
    if [ "$1" == nginx ]; then NG_RPS=$2; NG_P50=$3; fi
done
for r in "${RESULTS[@]}"; do
    set -- $r
    case $1 in serve*)
        awk -v n="$1" -v r="$2" -v p="$3" -v nr="$NG_RPS" -v np="$NG_P50" \
            'BEGIN{printf "%s: %.2fx nginx requests/s, p50 %+.0f us vs nginx\n", n, r/nr, p-np}' ;;
    esac
done
