#!/usr/bin/env bash
# A DELETE that MinIO acknowledges (204) and then undoes: plain S3 calls
# (curl --aws-sigv4) against 4 MinIO servers on loopback, 1 drive each
# (one erasure set, EC:2). Needs root (chattr), a `minio` binary on PATH or
# in $MINIO, curl >= 7.75 and an ext4/xfs /tmp. Prints each step's answer;
# exits 1 when the deleted object reads back ("RESURRECTED"), 0 when not.
#
#   sudo MINIO=/path/to/minio bash delete-resurrection-repro.sh
#   VERSIONED=1 ...   the same with a versioned bucket (stays deleted)
#   CASE=lookup ...   a versioned bucket, every server up: the look-up before
#                     the delete sees 2 of 4 drives and reads "not found"
set -euo pipefail
MINIO=${MINIO:-minio}
ROOT=$(mktemp -d /tmp/minio-repro.XXXXXX)
PORTS=(19101 19102 19103 19104)
export MINIO_ROOT_USER=repro$RANDOM MINIO_ROOT_PASSWORD=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
ENDPOINTS=$(for i in 0 1 2 3; do printf 'http://127.0.0.1:%s%s/d%s ' "${PORTS[$i]}" "$ROOT" "$i"; done)
declare -a PIDS
# MINIO_CI_CD: drives on the root filesystem are allowed. _MINIO_SERVER_LOCAL:
# inside a container MinIO otherwise waits for loopback endpoints to "resolve".
export MINIO_CI_CD=1 MINIO_BROWSER=off MINIO_UPDATE=off
start() {
  _MINIO_SERVER_LOCAL="127.0.0.1:${PORTS[$1]}" "$MINIO" server --quiet --address "127.0.0.1:${PORTS[$1]}" \
    $ENDPOINTS >"$ROOT/server$1.log" 2>&1 &
  PIDS[$1]=$!
}
cleanup() { chattr -R -i "$ROOT" 2>/dev/null || true; kill "${PIDS[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$ROOT"; }
trap cleanup EXIT
[ -n "${KEEP:-}" ] && trap - EXIT
s3() { # s3 SERVER METHOD PATH [curl args...] -> prints the HTTP status
  local server=$1 method=$2 path=$3; shift 3
  curl -s -o "$ROOT/body" -w '%{http_code}' --max-time 20 -X "$method" \
    --aws-sigv4 aws:amz:us-east-1:s3 --user "$MINIO_ROOT_USER:$MINIO_ROOT_PASSWORD" \
    -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" \
    "http://127.0.0.1:${PORTS[$server]}$path" "$@"
}
wait_health() { # wait_health SERVER: until it reports write quorum
  for _ in $(seq 120); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:${PORTS[$1]}/minio/health/cluster")" = 200 ] && return
    sleep 0.5
  done
  echo "server $1 never reached quorum"; exit 2
}

for i in 0 1 2 3; do start "$i"; done
wait_health 0
echo "MinIO: $("$MINIO" --version | head -1)"
echo "create bucket: $(s3 0 PUT /bkt)"
if [ -n "${VERSIONED:-}" ] || [ "${CASE:-}" = lookup ]; then
  echo "enable versioning: $(s3 0 PUT '/bkt?versioning=' --data '<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>')"
fi
if [ "${CASE:-overwrite}" = lookup ]; then
head -c 1024 /dev/urandom >"$ROOT/v1"
echo "PUT v1 (acknowledged): $(s3 2 PUT /bkt/key --data-binary @"$ROOT/v1")"
# As after a restart: server 2 wrote v1 while not yet connected to drive 3
# (its copy is removed here), then the drives of servers 0 and 1 are ones
# it has not reconnected (their format.json moved aside: MinIO skips them).
rm -rf "$ROOT/d3/bkt/key"
mv "$ROOT/d0/.minio.sys/format.json" "$ROOT/d0/.minio.sys/format.away"
mv "$ROOT/d1/.minio.sys/format.json" "$ROOT/d1/.minio.sys/format.away"
sleep 3
echo "GET with drives 0 and 1 unusable: $(s3 2 GET /bkt/key)   (v1 was acknowledged and never deleted)"
echo "DELETE with drives 0 and 1 unusable: $(s3 2 DELETE /bkt/key -D "$ROOT/headers")"
grep -qi '^x-amz-delete-marker: true' "$ROOT/headers" && echo "  a delete marker was written" \
  || echo "  no x-amz-delete-marker header: nothing was written"
mv "$ROOT/d0/.minio.sys/format.away" "$ROOT/d0/.minio.sys/format.json"
mv "$ROOT/d1/.minio.sys/format.away" "$ROOT/d1/.minio.sys/format.json"
sleep 3
status=$(s3 2 GET /bkt/key)
echo "GET after the drives are back: $status"
if [ "$status" = 200 ] && cmp -s "$ROOT/body" "$ROOT/v1"; then
  echo "RESURRECTED: the acknowledged DELETE did not hold; v1 reads back"; exit 1
fi
echo "the delete held"; exit 0
fi

head -c 1024 /dev/urandom >"$ROOT/v1"
echo "PUT v1 (acknowledged): $(s3 0 PUT /bkt/key --data-binary @"$ROOT/v1")"

# The commit of the overwrite fails on drives 2 and 3, as it does when their
# servers die between writing the data and committing it: their copy of the
# object's directory is made immutable for this one PUT. The PUT goes to
# server 2, so the drives it does reach (0 and 1) are remote to it.
chattr +i "$ROOT/d2/bkt/key" "$ROOT/d3/bkt/key"
echo "PUT v2 (commit refused on 2 of 4 drives): $(s3 2 PUT /bkt/key --data-binary @"$ROOT/v1")"
chattr -i "$ROOT/d2/bkt/key" "$ROOT/d3/bkt/key"
for i in 0 1 2 3; do printf 'drive %s has xl.meta: %s\n' "$i" "$([ -f "$ROOT/d$i/bkt/key/xl.meta" ] && echo yes || echo no)"; done

# One server down (within write quorum): one of the two drives that still hold v1.
kill -9 "${PIDS[3]}"; wait "${PIDS[3]}" 2>/dev/null || true; sleep 3
echo "GET with server 3 down: $(s3 0 GET /bkt/key)   (v1 was acknowledged and never deleted)"
echo "DELETE with server 3 down: $(s3 0 DELETE /bkt/key)"

start 3; wait_health 3; sleep 20
status=$(s3 0 GET /bkt/key)
echo "GET after server 3 is back: $status"
if [ "$status" = 200 ] && cmp -s "$ROOT/body" "$ROOT/v1"; then
  echo "RESURRECTED: the acknowledged DELETE did not hold; v1 reads back"; exit 1
fi
echo "the delete held"
