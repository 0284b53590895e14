#!/usr/bin/env bash
# CPU cost of the CLI at both ends: `send FILE` -> `recv /dev/null` over 127.0.0.1, measured
# with /usr/bin/time (user, sys and wall seconds, peak RSS in KiB). For before/after figures of
# a hot-path change: build each checkout, run this alternately on each, compare medians.
#   benchmarks/cli-cpu.sh [CHECKOUT] [MiB]        (defaults: this checkout, 512)
set -euo pipefail
D=$(cd "${1:-$(dirname "$0")/..}" && pwd); MIB=${2:-512}
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
CLI="node $D/bin/secure-pipe.js"
$CLI keygen --name server --out "$W/keys" >/dev/null && $CLI keygen --name client --out "$W/keys" >/dev/null
head -c $((MIB * 1048576)) /dev/urandom > "$W/data.bin"
/usr/bin/time -f "%U %S %e %M" -o "$W/recv.time" $CLI recv --listen 127.0.0.1:0 --key "$W/keys/server.pem" \
  --authorized "$W/keys/clientPK.pem" --quiet --force /dev/null 2> "$W/recv.err" &
for _ in $(seq 100); do grep -q "listening on" "$W/recv.err" 2>/dev/null && break; sleep 0.1; done
PORT=$(grep -o "listening on [0-9.:]*" "$W/recv.err" | sed 's/.*://')
/usr/bin/time -f "%U %S %e %M" -o "$W/send.time" $CLI send --connect "127.0.0.1:$PORT" --key "$W/keys/client.pem" \
  --server-key "$W/keys/serverPK.pem" --quiet "$W/data.bin"
wait
read -r su ss se sm < "$W/send.time"; read -r ru rs re rm < "$W/recv.time"
echo "$MIB MiB: send user $su sys $ss wall $se s rss $((sm / 1024)) MB | recv user $ru sys $rs wall $re s rss $((rm / 1024)) MB"
