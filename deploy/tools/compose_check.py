#!/usr/bin/env python3
"""Checks the segregation of deploy/docker-compose.yml, as `docker compose
config --format json` resolved it (stdin).

- ticketera_net is internal; postgres and the services are on it and on no
  other network, but the gateway (edge) and ingest (syslog_edge);
- the only published ports are the gateway's 80/443 and ingest's 514 (UDP
  and TCP), straight to ingest's listener;
- every long-running service has a health check; migrate is one-shot and
  gates the services;
- the database password and the key-encryption key are compose secrets, and
  no environment value holds a password.
"""
import json
import sys

cfg = json.load(sys.stdin)
services = cfg["services"]
errors = []


def nets(name):
    return set(services[name].get("networks") or {})


internal = cfg["networks"]["ticketera_net"]
if not internal.get("internal") or internal.get("name") != "ticketera_net":
    errors.append("ticketera_net must be internal and named ticketera_net")
for n, net in cfg["networks"].items():
    if n != "ticketera_net" and net.get("internal"):
        errors.append(f"network {n} is internal: its ports could not be published")

expected = {"gateway": {"edge", "ticketera_net"}, "ingest": {"syslog_edge", "ticketera_net"}}
for name in services:
    want = expected.get(name, {"ticketera_net"})
    if nets(name) != want:
        errors.append(f"{name} is on {sorted(nets(name))}, expected {sorted(want)}")

published = set()
for name, s in services.items():
    for p in s.get("ports") or []:
        published.add((name, str(p.get("published")), p.get("protocol", "tcp"), p.get("target"), p.get("host_ip")))
want = {("gateway", "80", "tcp", 80, None), ("gateway", "443", "tcp", 443, None),
        ("ingest", "514", "udp", 5514, None), ("ingest", "514", "tcp", 5514, None)}
if published != want:
    errors.append(f"published ports are {sorted(map(str, published))}, expected only {sorted(map(str, want))}")
ingest_env = services["ingest"]["environment"]
if not (ingest_env.get("TICKETERA_SYSLOG_UDP_ADDR", "").endswith(":5514") and ingest_env.get("TICKETERA_SYSLOG_TCP_ADDR", "").endswith(":5514")):
    errors.append("ingest must listen for syslog on 5514, the port 514 is published to")
if "INGEST_SYSLOG_UPSTREAM" in services["gateway"].get("environment", {}):
    errors.append("syslog must not go through the gateway (it would hide the senders' addresses)")

for name, s in services.items():
    hc = s.get("healthcheck") or {}
    if name == "migrate":
        if s.get("restart") not in (None, "no"):
            errors.append("migrate is one-shot: restart must be no")
        continue
    if hc.get("disable") or not hc.get("test"):
        errors.append(f"{name} has no health check")
for name in ("command-api", "query-api", "projector", "ingest"):
    dep = services[name].get("depends_on", {}).get("migrate", {})
    if dep.get("condition") != "service_completed_successfully":
        errors.append(f"{name} must wait for migrate to complete")
for name in ("command-api", "query-api", "ingest"):
    if services["gateway"].get("depends_on", {}).get(name, {}).get("condition") != "service_healthy":
        errors.append(f"the gateway must wait for {name} to be healthy")

for secret in ("db_password", "key_encryption_key"):
    if secret not in cfg.get("secrets", {}):
        errors.append(f"no compose secret {secret}")
for name, s in services.items():
    names = {x["source"] if isinstance(x, dict) else x for x in s.get("secrets") or []}
    env = s.get("environment") or {}
    if name in ("postgres", "migrate", "command-api", "query-api", "projector", "ingest") and "db_password" not in names:
        errors.append(f"{name} needs the db_password secret")
    for k, v in env.items():
        if any(w in k for w in ("PASSWORD", "SECRET", "KEY")) and not k.endswith("_FILE") and not str(v).startswith("/run/secrets/"):
            errors.append(f"{name}: {k} is set in the environment; pass it as a secret file")
        if k == "DATABASE_URL" and "@" in v and ":" in v.split("@")[0].split("//")[-1]:
            errors.append(f"{name}: DATABASE_URL carries a password")
for name, s in services.items():
    names = {x["source"] if isinstance(x, dict) else x for x in s.get("secrets") or []}
    for k, v in (s.get("environment") or {}).items():
        if str(v).startswith("/run/secrets/") and str(v)[len("/run/secrets/"):] not in names:
            errors.append(f"{name}: {k}={v} names a secret the service does not get")
if "key_encryption_key" not in {x["source"] for x in services["command-api"].get("secrets") or []}:
    errors.append("command-api (it signs tokens) needs the key_encryption_key secret")

if errors:
    sys.exit("\n".join(errors))
print(f"  {len(services)} services; published: {', '.join(sorted(f'{n} {p}/{proto}' for n, p, proto, _, _ in published))}")
