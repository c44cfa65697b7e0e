#!/usr/bin/env python3
"""The environment compose gives a service, for running it here as a process.

  compose_env.py COMPOSE_JSON SERVICE SECRETS_DIR PG_HOSTPORT HTTP_PORT SYSLOG_PORT

Prints `KEY=value` lines (NUL-separated) of the service's environment as
`docker compose config --format json` resolved it, rewritten only where a
container differs from this host: the `postgres` host → PG_HOSTPORT,
/run/secrets/<name> → SECRETS_DIR/<name>, the 0.0.0.0 listeners → loopback
ports. Everything else (names, values, URL parameters) is kept, so the
binary parses exactly what compose would pass it.
"""
import json
import sys

cfg_path, service, secrets, pg, http_port, syslog_port = sys.argv[1:]
svc = json.load(open(cfg_path))["services"][service]
given = {s["source"] if isinstance(s, dict) else s for s in svc.get("secrets") or []}
out = []
for key, value in (svc.get("environment") or {}).items():
    value = "" if value is None else str(value)
    if value.startswith("/run/secrets/"):
        name = value[len("/run/secrets/"):]
        if name not in given:
            sys.exit(f"{service}: {key} names secret {name}, which the service does not get")
        value = f"{secrets}/{name}"
    if key == "DATABASE_URL":
        value = value.replace("@postgres:5432/", f"@{pg}/")
    if key == "TICKETERA_HTTP_ADDR":
        value = f"127.0.0.1:{http_port}"
    if key in ("TICKETERA_SYSLOG_UDP_ADDR", "TICKETERA_SYSLOG_TCP_ADDR"):
        value = f"127.0.0.1:{syslog_port}"
    out.append(f"{key}={value}")
command = svc.get("command") or []
out.append(f"TICKETERA_COMPOSE_COMMAND={' '.join(command)}")
health = (svc.get("healthcheck") or {}).get("test") or []
out.append(f"TICKETERA_COMPOSE_HEALTH={' '.join(health[1:]) if health[:1] == ['CMD'] else ''}")
sys.stdout.write("\0".join(out))
