# common.sh - shell helpers shared by tests/http/run.sh and tests/proxy/run.sh.
#
# Source it after setting WORK (the run's scratch directory). It registers the EXIT/INT/TERM
# traps that kill every process started with `start`, and provides:
#   ok NAME / bad NAME [DETAIL] / summary / fatal NAME [DETAIL]   counting PASS and FAIL
#   free_port                   an ephemeral 127.0.0.1 port (via node)
#   start NAME CMD...           CMD in the background, stdout to $WORK/NAME.out, stderr to NAME.err
#   ready NAME KEY              waits (10 s) for NAME's first stdout line, prints its JSON member KEY

PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

PASS=0
FAIL=0
ok() {
    PASS=$((PASS + 1))
    echo "ok - $1"
}
bad() {
    FAIL=$((FAIL + 1))
    echo "not ok - $1"
    [ $# -gt 1 ] && printf '   %s\n' "$2"
    return 0
}
summary() {
    echo "$PASS passed, $FAIL failed"
    [ "$FAIL" -eq 0 ]
}
fatal() {
    bad "$1" "${2:-}"
    for f in "$WORK"/*.err; do
        [ -s "$f" ] && { echo "--- $f"; tail -n 20 "$f"; }
    done
    summary
    exit 1
}

free_port() {
    node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

# start NAME CMD... : runs in the background, stdout to $WORK/NAME.out, stderr to NAME.err
start() {
    local name=$1
    shift
    "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" &
    PIDS+=($!)
}

# ready NAME KEY : waits (10 s) for the first stdout line of NAME and prints its JSON member KEY
ready() {
    local f="$WORK/$1.out"
    for _ in $(seq 1 200); do
        if [ -s "$f" ] && head -n1 "$f" | grep -q '}'; then
            head -n1 "$f" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s)[process.argv[1]]))' "$2"
            return 0
        fi
        sleep 0.05
    done
    return 1
}
