#!/usr/bin/env bash
# Makes the compose secrets that are missing under deploy/secrets/ (never
# overwrites one): random database, admin and Grafana passwords, a 256-bit
# key-encryption key, and a self-signed TLS certificate for the gateway
# (replace tls_cert and tls_key with your own; CN from $TICKETERA_HOSTNAME).
#
# usage: deploy/make-secrets.sh [DIR]   (default deploy/secrets)
set -euo pipefail
dir=${1:-$(dirname "$0")/secrets}
mkdir -p "$dir"
chmod 700 "$dir"
umask 022 # files 0644 inside a 0700 directory: the containers' users read them, nobody else on the host

made=()
secret() { # secret NAME COMMAND...: NAME from COMMAND's output, when missing
  local f="$dir/$1"
  [ -s "$f" ] && return 0
  "${@:2}" >"$f.tmp" && mv "$f.tmp" "$f"
  made+=("$1")
}
password() { openssl rand -base64 33 | tr -d '\n/+=' | cut -c1-32; }
secret db_password password
secret admin_password password
secret grafana_admin_password password
secret key_encryption_key sh -c 'openssl rand -base64 32'
if [ ! -s "$dir/tls_cert" ] || [ ! -s "$dir/tls_key" ]; then
  host=${TICKETERA_HOSTNAME:-ticketera.local}
  openssl req -x509 -newkey rsa:3072 -nodes -days 365 -subj "/CN=$host" \
    -addext "subjectAltName=DNS:$host" -keyout "$dir/tls_key" -out "$dir/tls_cert" 2>/dev/null
  made+=(tls_cert tls_key)
fi
if [ ${#made[@]} -eq 0 ]; then
  echo "make-secrets: every secret is already in $dir"
else
  echo "make-secrets: made ${made[*]} in $dir"
fi
