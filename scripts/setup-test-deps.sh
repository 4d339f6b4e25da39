#!/usr/bin/env bash
# Installs what the test suite needs on Debian/Ubuntu: ffmpeg (publisher/player), redis-server
# and nats-server (cluster tests start their own instances), bubblewrap, chromium (browser
# playback), GStreamer (an independent RTSP player), nginx with its RTMP module (the bench's peer),
# and the npm dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v ffmpeg >/dev/null || missing+=(ffmpeg)
command -v ffprobe >/dev/null || missing+=(ffmpeg)
command -v redis-server >/dev/null || missing+=(redis-server)
command -v nats-server >/dev/null || missing+=(nats-server)
# NATS TLS tests make a throwaway CA and certificates with the openssl CLI.
command -v openssl >/dev/null || missing+=(openssl)
# Redis Sentinel tests; a clock-shifted origin (libfaketime preloaded) in the fault tests.
command -v redis-sentinel >/dev/null || missing+=(redis-sentinel)
ls /usr/lib/*/faketime/libfaketimeMT.so.1 >/dev/null 2>&1 || missing+=(faketime)
# The production bundle run unprivileged on a read-only file system (scripts/check-runtime.sh);
# setpriv, unshare, nsenter and script (a terminal for the pretty-log test) come with util-linux,
# ip (listen tests in a private network namespace) with iproute2.
command -v bwrap >/dev/null || missing+=(bubblewrap)
command -v setpriv >/dev/null || missing+=(util-linux)
command -v script >/dev/null || missing+=(bsdutils)
command -v ip >/dev/null || missing+=(iproute2)
# Browser playback (hls.js, mpegts.js) in headless Chromium at the path the test launches;
# Debian's build plays H.264/AAC (on Ubuntu the package is a snap wrapper: not supported).
[ -x /usr/bin/chromium ] || missing+=(chromium)
# GStreamer as a second, independent RTSP player: rtspsrc (plugins-good), h264parse/h265parse
# (plugins-bad), avdec_* decoders (libav), aacparse (plugins-good).
command -v gst-launch-1.0 >/dev/null || missing+=(gstreamer1.0-tools)
gst_plugin() { gst-inspect-1.0 "$1" >/dev/null 2>&1; }
gst_plugin rtspsrc || missing+=(gstreamer1.0-plugins-good)
gst_plugin h264parse || missing+=(gstreamer1.0-plugins-bad)
gst_plugin avdec_h264 || missing+=(gstreamer1.0-libav)
# nginx-rtmp as the bench's peer (npm run bench -- --peer nginx-rtmp): Debian 12's nginx (nginx-light
# is only a metapackage of nginx and an echo module there) and the RTMP module it loads.
[ -x /usr/sbin/nginx ] || missing+=(nginx)
[ -f /usr/lib/nginx/modules/ngx_rtmp_module.so ] || missing+=(libnginx-mod-rtmp)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "missing: ${missing[*]} — run as root (or install them) first" >&2
    exit 1
  fi
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends $(printf '%s\n' "${missing[@]}" | sort -u) >/dev/null
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
