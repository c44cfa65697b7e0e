#!/bin/bash
# ticketera-healthcheck [PATH]: exits 0 when GET PATH (default /readyz) on
# this container's own service answers 200. The port is the one of
# TICKETERA_HTTP_ADDR. Plain bash (/dev/tcp): the image carries no curl.
set -u
path=${1:-/readyz}
addr=${TICKETERA_HTTP_ADDR:-127.0.0.1:8080}
port=${addr##*:}
exec 3<>"/dev/tcp/127.0.0.1/$port" || exit 1
printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' "$path" >&3
IFS= read -r -t 3 status <&3 || exit 1
case $status in
  "HTTP/1."?" 200 "*) exit 0 ;;
  *) echo "GET $path: ${status%$'\r'}" >&2; exit 1 ;;
esac
