#!/usr/bin/env bash
# Every validation of deploy/ that runs on this machine (no Docker engine, no
# Kubernetes cluster); installs what it needs (Debian packages, a Python venv
# of PyPI wheels), idempotent, a few minutes at most:
#   - hadolint on the Dockerfile, shellcheck on the scripts; the image's
#     entrypoint (down to a SCRAM login with the password from its file),
#     health check and make-secrets;
#   - `docker compose config` on the compose files, and their segregation
#     (networks, published ports, health checks, secrets); compose up
#     emulated: each Ticketera service run as a process with the environment
#     and command compose resolved for it, passing its compose health check;
#   - `kubectl kustomize` of the base and of each overlay, validated strictly
#     against Kubernetes' schemas and the CRDs kept in deploy/k8s/crds, and
#     cross-checked (selectors, ports, probes, resources, alerts);
#   - monitoring against the four services running as separate processes
#     (deploy/test-monitoring.sh);
#   - the nginx gateway in front of the real binary (deploy/test-gateway.sh).
#
# usage: deploy/test.sh [<ticketera binary>]   (default target/debug/ticketera)
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
. scripts/lib.sh

bin=${1:-target/debug/ticketera}
[ -x "$bin" ] || { say "deploy/test.sh: no ticketera binary at $bin (cargo build -p ticketera)"; exit 1; }
passed=0
failed=0
check() { # check NAME COMMAND...: output shown on failure
  local out
  if out=$("${@:2}" 2>&1); then
    passed=$((passed + 1)); echo "ok - $1"
  else
    failed=$((failed + 1)); echo "FAILED - $1"; printf '%s\n' "$out" | sed 's/^/    /' | tail -n 40
  fi
}
show() { # show NAME COMMAND...: like check, and prints the output
  local out
  if out=$("${@:2}" 2>&1); then
    passed=$((passed + 1)); echo "ok - $1"; printf '%s\n' "$out"
  else
    failed=$((failed + 1)); echo "FAILED - $1"; printf '%s\n' "$out" | sed 's/^/    /' | tail -n 40
  fi
}

ensure_deploy_tools
apt_install openssl
py="$DEPLOY_VENV/bin/python"
kubectl="$DEPLOY_VENV/bin/kubectl"
work=$(mktemp -d /tmp/ticketera-deploy.XXXXXX)
trap 'rm -rf "$work"' EXIT
# `docker compose` is the Compose CLI plugin of the venv when a docker CLI is
# here, else the same binary standalone: `config` needs no engine either way.
compose() {
  if command -v docker >/dev/null 2>&1; then
    DOCKER_CONFIG="$DEPLOY_DOCKER_CONFIG" docker compose "$@"
  else
    "$DEPLOY_VENV/bin/docker-compose" "$@"
  fi
}

say "deploy/: the image"
check "hadolint deploy/Dockerfile" "$DEPLOY_VENV/bin/hadolint" deploy/Dockerfile
check "shellcheck deploy/*.sh (warnings and errors)" "$DEPLOY_VENV/bin/shellcheck" -x -S warning deploy/*.sh
printf 's3cret pass\n' > "$work/pw"
check "entrypoint: PGPASSWORD_FILE becomes PGPASSWORD (trailing newline dropped), the _FILE variable is gone" bash -c \
  "out=\$(env -i PATH=/usr/bin:/bin PGPASSWORD_FILE='$work/pw' sh deploy/entrypoint.sh sh -c 'printf \"%s|%s\" \"\$PGPASSWORD\" \"\${PGPASSWORD_FILE-unset}\"'); test \"\$out\" = 's3cret pass|unset'"
check "entrypoint: the admin password and webhook secret files too" bash -c \
  "out=\$(env -i PATH=/usr/bin:/bin TICKETERA_ADMIN_PASSWORD_FILE='$work/pw' TICKETERA_WEBHOOK_SECRET_FILE='$work/pw' sh deploy/entrypoint.sh sh -c 'printf \"%s|%s\" \"\$TICKETERA_ADMIN_PASSWORD\" \"\$TICKETERA_WEBHOOK_SECRET\"'); test \"\$out\" = 's3cret pass|s3cret pass'"
check "entrypoint: VAR and VAR_FILE both set is refused" bash -c \
  "! env -i PATH=/usr/bin:/bin PGPASSWORD=x PGPASSWORD_FILE='$work/pw' sh deploy/entrypoint.sh true 2>/dev/null"
check "entrypoint: an unreadable file is refused" bash -c \
  "! env -i PATH=/usr/bin:/bin PGPASSWORD_FILE='$work/missing' sh deploy/entrypoint.sh true 2>/dev/null"
free_port=$("$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
check "ticketera-healthcheck fails when nothing answers" bash -c "! TICKETERA_HTTP_ADDR=0.0.0.0:$free_port deploy/healthcheck.sh /readyz 2>/dev/null"
check "make-secrets makes every compose secret once, then keeps them" bash -c \
  "deploy/make-secrets.sh '$work/secrets' >/dev/null && a=\$(cat '$work/secrets/db_password') && deploy/make-secrets.sh '$work/secrets' | grep -q 'already' \
   && test \"\$a\" = \"\$(cat '$work/secrets/db_password')\" && openssl x509 -noout -in '$work/secrets/tls_cert' \
   && for s in db_password admin_password key_encryption_key grafana_admin_password tls_cert tls_key; do test -s '$work/secrets/'\$s || exit 1; done"

# The secret path end to end: a private PostgreSQL on loopback that wants
# SCRAM, DATABASE_URL without a password as in the compose file, the
# password from PGPASSWORD_FILE through the entrypoint.
ensure_postgres_packages
pgbin=$(pg_bin_dir)
pgdir="$work/pg"
mkdir -p "$pgdir"
printf 'scram-secret-%s\n' "$RANDOM$RANDOM" > "$work/db_password"
runas=()
if [ "$(id -u)" -eq 0 ]; then
  # initdb and pg_ctl refuse to run as root (as in scripts/test).
  chown postgres "$pgdir" "$work" 2>/dev/null || chown nobody "$pgdir" "$work"
  runas=(runuser -u "$(stat -c %U "$pgdir")" --)
fi
pgport=$("$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
if "${runas[@]}" "$pgbin/initdb" -D "$pgdir/data" -U ticketera --pwfile="$work/db_password" -A scram-sha-256 --locale=C >/dev/null 2>&1 \
   && "${runas[@]}" "$pgbin/pg_ctl" -D "$pgdir/data" -l "$pgdir/log" -w \
        -o "-p $pgport -k $pgdir -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null 2>&1; then
  trap '"${runas[@]}" "$pgbin/pg_ctl" -D "$pgdir/data" -m immediate stop >/dev/null 2>&1; rm -rf "$work"' EXIT
  check "entrypoint + PGPASSWORD_FILE: ticketera migrate authenticates with SCRAM, no password in DATABASE_URL" \
    env -u PGPASSWORD DATABASE_URL="postgres://ticketera@127.0.0.1:$pgport/postgres?sslmode=disable" PGPASSWORD_FILE="$work/db_password" \
    sh deploy/entrypoint.sh "$bin" migrate
  printf 'wrong\n' > "$work/wrong_password"
  check "entrypoint + a wrong PGPASSWORD_FILE: refused" bash -c \
    "! env -u PGPASSWORD DATABASE_URL='postgres://ticketera@127.0.0.1:$pgport/postgres?sslmode=disable' PGPASSWORD_FILE='$work/wrong_password' sh deploy/entrypoint.sh '$bin' migrate"
  say "deploy/: compose up, emulated (no engine)"
  # compose up, emulated: migrate, then each Ticketera service as a process
  # with the very environment and command the compose file gives it (hosts,
  # ports and secret paths rewritten to this machine), through the image's
  # entrypoint, checked with the compose file's own health check.
  compose -f deploy/docker-compose.yml config --format json > "$work/compose-env.json" 2>/dev/null
  cp "$work/db_password" "$work/secrets/db_password"
  PGPASSWORD=$(cat "$work/db_password") "$pgbin/createdb" -h 127.0.0.1 -p "$pgport" -U ticketera ticketera >/dev/null 2>&1
  free() { "$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
  compose_service() { # compose_service NAME HTTP_PORT: its environment, one per line, NUL-separated
    "$py" deploy/tools/compose_env.py "$work/compose-env.json" "$1" "$work/secrets" "127.0.0.1:$pgport" "$2" "$(free)"
  }
  compose_pids=()
  for svc in migrate command-api query-api projector ingest; do
    svc_port=$(free)
    svc_env=()
    while IFS= read -r -d '' line; do svc_env+=("$line"); done < <(compose_service "$svc" "$svc_port"; printf '\0')
    cmd=$(printf '%s\n' "${svc_env[@]}" | sed -n 's/^TICKETERA_COMPOSE_COMMAND=//p')
    health=$(printf '%s\n' "${svc_env[@]}" | sed -n 's/^TICKETERA_COMPOSE_HEALTH=//p')
    if [ "$svc" = migrate ]; then
      # shellcheck disable=SC2086 # the command's words
      check "compose's migrate: its environment and command, through the entrypoint" \
        env -i PATH="$PATH" RUST_LOG=warn "${svc_env[@]}" sh deploy/entrypoint.sh "$bin" $cmd
      continue
    fi
    # shellcheck disable=SC2086
    env -i PATH="$PATH" RUST_LOG=warn "${svc_env[@]}" sh deploy/entrypoint.sh "$bin" $cmd >"$work/compose-$svc.log" 2>&1 &
    compose_pids+=($!)
    for _ in $(seq 1 150); do
      env -i TICKETERA_HTTP_ADDR="127.0.0.1:$svc_port" bash deploy/healthcheck.sh /readyz 2>/dev/null && break
      sleep 0.2
    done
    check "compose's $svc: starts with its environment and passes its health check ($health)" bash -c \
      "test '$health' = '/usr/local/bin/ticketera-healthcheck /readyz' && env -i TICKETERA_HTTP_ADDR=127.0.0.1:$svc_port bash deploy/healthcheck.sh /readyz"
    if [ "$svc" = command-api ]; then
      check "compose's admin_password secret is the first admin's password" bash -c \
        "curl -s -d grant_type=password -d username=admin --data-urlencode \"password=\$(cat '$work/secrets/admin_password')\" \
           http://127.0.0.1:$svc_port/api/v1/auth/token | grep -q access_token"
    fi
  done
  for p in "${compose_pids[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${compose_pids[@]}"; do wait "$p" 2>/dev/null; done
else
  failed=$((failed + 1)); echo "FAILED - a private PostgreSQL with SCRAM for the secret path"; sed 's/^/    /' "$pgdir/log" 2>/dev/null | tail -n 5
fi

say "deploy/: compose"
check "docker compose config (deploy/docker-compose.yml)" compose -f deploy/docker-compose.yml config -q
check "docker compose config (with compose.ops.yml)" compose -f deploy/docker-compose.yml -f deploy/compose.ops.yml config -q
compose -f deploy/docker-compose.yml config --format json > "$work/compose.json" 2>/dev/null
show "compose segregation: internal ticketera_net, only 80/443 and 514 published, health checks, secrets" \
  "$py" deploy/tools/compose_check.py < "$work/compose.json"
check "every secret the compose file names is made by make-secrets" bash -c \
  "for s in \$('$py' -c 'import json,sys; print(\" \".join(json.load(open(sys.argv[1]))[\"secrets\"]))' '$work/compose.json'); do test -s '$work/secrets/'\$s || { echo \"missing \$s\"; exit 1; }; done"

say "deploy/: Kubernetes ($("$kubectl" version --client 2>/dev/null | sed -n 's/Kustomize Version: //p' | sed 's/^/kustomize /'))"
versions="1.31.0 1.37.0"
for k in base overlays/small overlays/ha; do
  if "$kubectl" kustomize "deploy/k8s/$k" > "$work/$(basename "$k").yaml" 2>"$work/kustomize.err"; then
    passed=$((passed + 1)); echo "ok - kubectl kustomize deploy/k8s/$k"
  else
    failed=$((failed + 1)); echo "FAILED - kubectl kustomize deploy/k8s/$k"; sed 's/^/    /' "$work/kustomize.err"
    continue
  fi
  # shellcheck disable=SC2086
  show "deploy/k8s/$k: strict schemas (Kubernetes $versions, CRDs) and cross-checks" \
    "$py" deploy/tools/k8s_validate.py deploy/k8s/crds deploy/prometheus/alerts.yml $versions < "$work/$(basename "$k").yaml"
done
# shellcheck disable=SC2086
check "deploy/k8s/restore/cluster-pitr.yaml (with the base): strict schemas" bash -c \
  "{ cat '$work/base.yaml'; echo ---; cat deploy/k8s/restore/cluster-pitr.yaml; } | '$py' deploy/tools/k8s_validate.py deploy/k8s/crds deploy/prometheus/alerts.yml $versions"
check "the kept CRDs are the published files (SHA256SUMS)" bash -c "cd deploy/k8s/crds && sha256sum --quiet -c SHA256SUMS"
check "overlays: small is 1 instance, ha 3 with synchronous replication; the projector is 2 replicas and has no HPA; replicas = HPA minimum" \
  "$py" - "$work/small.yaml" "$work/ha.yaml" <<'PY'
import sys, yaml
for path, instances, sync, mins in ((sys.argv[1], 1, False, 1), (sys.argv[2], 3, True, 3)):
    docs = [d for d in yaml.safe_load_all(open(path)) if d]
    kind = lambda k: [d for d in docs if d["kind"] == k]
    (cluster,) = kind("Cluster")
    assert cluster["spec"]["instances"] == instances, (path, cluster["spec"]["instances"])
    assert ("synchronous" in cluster["spec"].get("postgresql", {})) == sync, path
    deps = {d["metadata"]["name"]: d for d in kind("Deployment")}
    assert deps["projector"]["spec"]["replicas"] == 2, path
    hpas = {h["spec"]["scaleTargetRef"]["name"]: h for h in kind("HorizontalPodAutoscaler")}
    assert sorted(hpas) == ["command-api", "ingest", "query-api"], sorted(hpas)
    for name, h in hpas.items():
        assert h["spec"]["minReplicas"] == mins == deps[name]["spec"]["replicas"], (path, name)
    assert sorted(p["spec"]["selector"]["matchLabels"]["app.kubernetes.io/component"] for p in kind("PodDisruptionBudget")) == ["command-api", "ingest", "projector", "query-api"]
    assert [b["spec"]["cluster"]["name"] for b in kind("ScheduledBackup")] == ["ticketera-db"]
PY

say "deploy/: monitoring against the running services"
if deploy/test-monitoring.sh "$bin" "$py"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAILED - deploy/test-monitoring.sh"; fi

say "deploy/: the nginx gateway in front of the real binary"
if deploy/test-gateway.sh "$bin"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAILED - deploy/test-gateway.sh"; fi

echo "deploy: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
