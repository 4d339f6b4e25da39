#!/usr/bin/env bash
# Runs the production bundle the way the container image runs it, without a container engine:
# the bundle is laid out as the image holds it (scripts/stage-bundle.sh: compiled JavaScript,
# production dependencies only) and every role runs as an unprivileged user (uid 65534, no
# capabilities) in a bubblewrap sandbox whose whole file system is read-only except a mounted
# /data, with node as PID 1. Each role must start, serve a stream (ffmpeg publishes, ffprobe
# plays), pass the image's health check, and exit 0 on SIGTERM. redis-server and nats-server
# stand in for the cluster's Services on 127.0.0.1.
#
#   bash scripts/check-runtime.sh [--node PATH] [--keep]
#
#   --node PATH  the Node.js binary to run the bundle with (default: node on PATH), e.g. a
#                Node 22 binary to check the image's runtime
#   --keep       keep the work directory (bundle, logs) for inspection
#
# Exit status: 0 passed, 1 failed, 77 the sandbox cannot run here (no bwrap, or no user
# namespaces): the test suite reports that as a skip.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

node_bin=$(command -v node)
keep=0
while [ $# -gt 0 ]; do
  case $1 in
    --node) node_bin=$(readlink -f "$2"); shift 2 ;;
    --keep) keep=1; shift ;;
    *) echo "usage: $0 [--node PATH] [--keep]" >&2; exit 2 ;;
  esac
done

say() { printf '%s\n' "check-runtime: $*"; }
fail() { say "FAIL: $*" >&2; exit 1; }

for tool in bwrap setpriv ffmpeg ffprobe redis-server nats-server; do
  command -v "$tool" >/dev/null || { say "SKIP: $tool is not installed (bash scripts/setup-test-deps.sh)"; exit 77; }
done
# As root, drop to uid 65534 with no capabilities (setpriv) before bwrap; as anyone else, bwrap
# runs as that user, which is unprivileged already.
if [ "$(id -u)" -eq 0 ]; then
  uid=65534
  unprivileged=(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all)
else
  uid=$(id -u)
  unprivileged=()
fi
if ! err=$("${unprivileged[@]}" bwrap --unshare-user --unshare-pid --ro-bind / / true 2>&1); then
  say "SKIP: bwrap cannot create an unprivileged sandbox here: $err"
  exit 77
fi

work=$(mktemp -d /tmp/sluice-runtime-XXXXXX)
chmod 755 "$work"
bundle=$work/app
data=$work/data
mkdir -p "$data"
chown "$uid" "$data"

pids=()
cleanup() {
  local status=$?
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ $status -ne 0 ] || [ $keep -eq 1 ]; then
    say "work directory kept: $work" >&2
    if [ $status -ne 0 ]; then
      for f in "$work"/*.log; do [ -f "$f" ] && { echo "--- $f"; tail -n 20 "$f"; } >&2; done
    fi
  else
    rm -rf "$work"
  fi
  exit $status
}
trap cleanup EXIT

say "staging the bundle (npm run build; npm ci --omit=dev)"
bash scripts/stage-bundle.sh "$bundle" >"$work/stage.log" 2>&1 || fail "staging failed: $(tail -n 5 "$work/stage.log")"
[ ! -e "$bundle/node_modules/typescript" ] && [ ! -e "$bundle/node_modules/tsx" ] ||
  fail "the bundle holds development dependencies"
say "bundle: $(du -sh "$bundle" | cut -f1), node: $("$node_bin" --version) ($node_bin)"

# The root of each sandbox: an empty read-only file system with the host's /usr and /etc
# read-only, the bundle at /app, node at /opt/node/bin/node, /tmp present but read-only, and
# only /data writable. PID, IPC and UTS namespaces of its own; the host's loopback network.
sandbox_args=(
  --unshare-user --unshare-pid --unshare-ipc --unshare-uts --as-pid-1 --die-with-parent --new-session
  --ro-bind /usr /usr --ro-bind /etc /etc
)
for d in bin sbin lib lib64; do
  if [ -L "/$d" ]; then
    sandbox_args+=(--symlink "$(readlink "/$d")" "/$d")
  elif [ -d "/$d" ]; then
    sandbox_args+=(--ro-bind "/$d" "/$d")
  fi
done
sandbox_args+=(
  --proc /proc --dev /dev --dir /tmp
  --ro-bind "$bundle" /app --bind "$data" /data
  --ro-bind "$node_bin" /opt/node/bin/node
  --chdir /app --remount-ro /
  --clearenv --setenv PATH /opt/node/bin:/usr/bin:/bin --setenv HOME /nonexistent --setenv NODE_ENV production
  # The publisher is still live at SIGTERM: a short drain, so "exit 0 within 15 s" holds.
  --setenv SLUICE_DRAIN_TIMEOUT_MS 3000
)

# sandbox [VAR=value ...] -- COMMAND ...: runs COMMAND unprivileged (uid $uid) in the sandbox.
sandbox() {
  local env=()
  while [ "$1" != -- ]; do env+=(--setenv "${1%%=*}" "${1#*=}"); shift; done
  shift
  "${unprivileged[@]}" bwrap "${sandbox_args[@]}" "${env[@]}" "$@"
}

free_port() {
  node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"
}

# wait_for FILE TEXT SECONDS
wait_for() {
  local i
  for ((i = 0; i < $3 * 10; i++)); do
    grep -qF -- "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  fail "no \"$2\" in $(basename "$1") within $3 s"
}

say "the sandbox: unprivileged, read-only but /data"
sandbox UID_WANTED="$uid" -- /bin/sh -c '
  [ "$(id -u)" = "$UID_WANTED" ] || { echo "uid $(id -u)"; exit 1; }
  for p in / /app /tmp /etc /usr; do touch "$p/.w" 2>/dev/null && { echo "$p is writable"; exit 1; }; done
  touch /data/.w && rm /data/.w' || fail "the sandbox is not what it claims"

# start_role NAME ROLE [VAR=value ...]: starts `sluice ROLE` in a sandbox, logs to NAME.log.
declare -A bwrap_pid
start_role() {
  local name=$1 role=$2
  shift 2
  local env=(--setenv SLUICE_NODE_ID "$name") kv
  for kv in "$@"; do env+=(--setenv "${kv%%=*}" "${kv#*=}"); done
  # Not through a function: $! must be bwrap's pid (setpriv execs it), whose child is node.
  "${unprivileged[@]}" bwrap "${sandbox_args[@]}" "${env[@]}" node bin/sluice.js "$role" \
    >"$work/$name.log" 2>&1 &
  bwrap_pid[$name]=$!
  pids+=($!)
}

# node_pid NAME: the sluice process of NAME (PID 1 of its sandbox), checked to be unprivileged.
node_pid() {
  local p
  # The only child of bwrap (--as-pid-1). Not by name: Node 24 names its main thread MainThread.
  p=$(pgrep -P "${bwrap_pid[$1]}") || fail "$1: no process under bwrap"
  grep -q "^Uid:[[:space:]]*$uid[[:space:]]" "/proc/$p/status" || fail "$1 runs as $(grep ^Uid "/proc/$p/status")"
  grep -q '^CapEff:[[:space:]]*0*$' "/proc/$p/status" || fail "$1 has capabilities: $(grep ^CapEff "/proc/$p/status")"
  echo "$p"
}

# healthy NAME [VAR=value ...]: the image's HEALTHCHECK, run in a sandbox like the container's.
healthy() {
  local name=$1
  shift
  sandbox "$@" -- node bin/healthcheck.js >>"$work/$name.health.log" 2>&1 ||
    fail "$name: health check failed: $(tail -n 2 "$work/$name.health.log")"
}

# stop_role NAME: SIGTERM to sluice; it must exit 0 within 15 s.
stop_role() {
  local name=$1 p b status=0 i
  p=$(node_pid "$name")
  b=${bwrap_pid[$name]}
  kill -TERM "$p"
  for ((i = 0; i < 150; i++)); do
    kill -0 "$b" 2>/dev/null || break
    sleep 0.1
  done
  kill -0 "$b" 2>/dev/null && fail "$name still running 15 s after SIGTERM"
  wait "$b" || status=$?
  [ "$status" -eq 0 ] || fail "$name exited $status after SIGTERM"
  say "$name: SIGTERM -> exit 0"
}

# publish URL: a test pattern in real time, H.264 + AAC, in the background.
publish() {
  ffmpeg -nostdin -loglevel error -re -f lavfi -i testsrc2=size=320x180:rate=25 \
    -f lavfi -i sine=frequency=440:sample_rate=44100 -c:v libx264 -preset ultrafast -tune zerolatency \
    -g 25 -c:a aac -b:a 64k -t 60 -f flv "$1" >"$work/ffmpeg.log" 2>&1 &
  publisher=$!
  pids+=($publisher)
}

# play NAME URL: ffprobe reads 2 s of the stream; both tracks must have packets.
play() {
  local out
  out=$(timeout 30 ffprobe -v error -rw_timeout 15000000 -read_intervals '%+2' -count_packets \
    -show_entries stream=codec_name,nb_read_packets -of csv=p=0 "$2" 2>&1) ||
    fail "$1: ffprobe $2 failed: $out"
  echo "$out" | grep -Eq '^h264,[1-9]' || fail "$1: no H.264 packets from $2: $out"
  echo "$out" | grep -Eq '^aac,[1-9]' || fail "$1: no AAC packets from $2: $out"
  say "$1: played $2 ($(echo "$out" | tr '\n' ' '))"
}

# The web console's page and both player libraries come from the bundle (dist/ and production
# node_modules).
console_served() { # name base-url
  local path code
  for path in /console/ /console/main.js /console/vendor/hls.min.js /console/vendor/mpegts.js; do
    code=$(node -e "fetch('$2$path').then(r=>console.log(r.status),()=>console.log(0))")
    [ "$code" = 200 ] || fail "$1: $path answered $code"
  done
  say "$1: console served"
}

# --- standalone -----------------------------------------------------------------------------
rtmp=$(free_port) http=$(free_port) api=$(free_port)
start_role standalone standalone SLUICE_RTMP_LISTEN="127.0.0.1:$rtmp" \
  SLUICE_HTTP_LISTEN="127.0.0.1:$http" SLUICE_API_LISTEN="127.0.0.1:$api" SLUICE_RTSP_LISTEN=127.0.0.1:0
wait_for "$work/standalone.log" '"sluice node listening"' 20
node_pid standalone >/dev/null
grep -q '"msg":"sluice starting"' "$work/standalone.log" || fail "no start line"
say "standalone: listening as uid $uid ($(grep -o '"nodejs":"[^"]*"' "$work/standalone.log"))"
publish "rtmp://127.0.0.1:$rtmp/live/check"
play standalone "http://127.0.0.1:$http/live/check.flv"
play standalone "rtmp://127.0.0.1:$rtmp/live/check"
healthy standalone SLUICE_API_LISTEN="127.0.0.1:$api"
console_served standalone "http://127.0.0.1:$api"
stop_role standalone
kill "$publisher" 2>/dev/null || true
wait "$publisher" 2>/dev/null || true

# --- cluster: origin, edge, scheduler -------------------------------------------------------
redis_port=$(free_port) nats_port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no >"$work/redis.log" 2>&1 &
pids+=($!)
nats-server -a 127.0.0.1 -p "$nats_port" >"$work/nats.log" 2>&1 &
pids+=($!)
wait_for "$work/redis.log" 'Ready to accept connections' 10
wait_for "$work/nats.log" 'Server is ready' 10
cluster_env=(
  SLUICE_REDIS_URL="redis://127.0.0.1:$redis_port" SLUICE_NATS_URL="nats://127.0.0.1:$nats_port"
  SLUICE_RELAY_SECRET=check-runtime-secret SLUICE_ADVERTISE_HOST=127.0.0.1
)
o_rtmp=$(free_port) o_http=$(free_port) o_api=$(free_port)
e_rtmp=$(free_port) e_http=$(free_port) e_api=$(free_port)
s_port=$(free_port)
start_role origin-1 origin "${cluster_env[@]}" SLUICE_RTMP_LISTEN="127.0.0.1:$o_rtmp" \
  SLUICE_HTTP_LISTEN="127.0.0.1:$o_http" SLUICE_API_LISTEN="127.0.0.1:$o_api" SLUICE_RTSP_LISTEN=127.0.0.1:0
start_role edge-1 edge "${cluster_env[@]}" SLUICE_RTMP_LISTEN="127.0.0.1:$e_rtmp" \
  SLUICE_HTTP_LISTEN="127.0.0.1:$e_http" SLUICE_API_LISTEN="127.0.0.1:$e_api" SLUICE_RTSP_LISTEN=127.0.0.1:0
start_role scheduler scheduler "${cluster_env[@]:0:2}" SLUICE_SCHEDULER_LISTEN="127.0.0.1:$s_port"
wait_for "$work/origin-1.log" '"sluice node listening"' 20
wait_for "$work/edge-1.log" '"sluice node listening"' 20
wait_for "$work/scheduler.log" '"scheduler listening"' 20
for n in origin-1 edge-1 scheduler; do node_pid "$n" >/dev/null; done
say "origin-1, edge-1, scheduler: listening as uid $uid"
publish "rtmp://127.0.0.1:$o_rtmp/live/check"
wait_for "$work/origin-1.log" '"live/check"' 15
play edge-1 "http://127.0.0.1:$e_http/live/check.flv"
play edge-1 "rtmp://127.0.0.1:$e_rtmp/live/check"
# The scheduler redirects a player to the edge (once it has heard the edge's heartbeat).
for ((i = 0; i < 100; i++)); do
  code=$(node -e "fetch('http://127.0.0.1:$s_port/play/live/check.flv',{redirect:'manual'}).then(r=>console.log(r.status),()=>console.log(0))")
  [ "$code" = 302 ] && break
  sleep 0.1
done
[ "$code" = 302 ] || fail "scheduler: /play answered $code, not 302"
play scheduler "http://127.0.0.1:$s_port/play/live/check.flv"
healthy origin-1 SLUICE_API_LISTEN="127.0.0.1:$o_api"
healthy edge-1 SLUICE_API_LISTEN="127.0.0.1:$e_api"
healthy scheduler SLUICE_SCHEDULER_LISTEN="127.0.0.1:$s_port"
console_served scheduler "http://127.0.0.1:$s_port"
stop_role edge-1
stop_role origin-1
stop_role scheduler
say "PASS: every role ran unprivileged on a read-only file system, served the stream, and exited 0"
