#!/bin/sh
# ticketera-entrypoint COMMAND...: the image's entrypoint (under tini).
#
# Secrets arrive as files (compose secrets, Kubernetes secret volumes), not in
# the environment. For each variable below, VAR_FILE=<path> sets VAR to the
# file's content (trailing newlines removed) before COMMAND runs; setting
# both VAR and VAR_FILE is refused.
#   PGPASSWORD                 the database password (DATABASE_URL then carries none)
#   TICKETERA_ADMIN_PASSWORD   the first admin's password
#   TICKETERA_WEBHOOK_SECRET   the SIEM webhook's signing secret
set -eu
for var in PGPASSWORD TICKETERA_ADMIN_PASSWORD TICKETERA_WEBHOOK_SECRET; do
  eval "file=\${${var}_FILE:-}"
  [ -n "$file" ] || continue
  eval "both=\${${var}+set}"
  if [ -n "$both" ]; then
    echo "ticketera-entrypoint: both $var and ${var}_FILE are set; set one" >&2
    exit 64
  fi
  if [ ! -r "$file" ]; then
    echo "ticketera-entrypoint: ${var}_FILE=$file cannot be read" >&2
    exit 66
  fi
  value=$(cat "$file")
  export "$var=$value"
  unset "${var}_FILE"
done
exec "$@"
