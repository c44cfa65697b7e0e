#!/usr/bin/env python3
"""Validates rendered Kubernetes manifests (the output of `kubectl kustomize`).

  k8s_validate.py CRD_DIR ALERTS K8S_VERSION... < manifests.yaml

- Built-in kinds: kubernetes-validate's schemas, strict (an unknown field is
  an error), for every Kubernetes version given.
- Custom resources (CloudNativePG, Barman Cloud, Prometheus Operator): the
  openAPIV3Schema of their CRD kept in CRD_DIR, with jsonschema, and strict
  too: a field the schema does not declare is an error, as with
  `kubectl apply --validate=strict`; and their CEL rules
  (x-kubernetes-validations) evaluated with cel-python, but for transition
  rules (oldSelf: there is no old object on create) and any rule using a
  function this runtime lacks (listed). A kind with no schema at all fails.
- Consistency: every Service, PDB, HPA, NetworkPolicy and monitor selects or
  targets something that exists; probes, requests and limits on every
  container; the PrometheusRule holds exactly the groups of ALERTS.
"""
import glob
import sys

import jsonschema
import kubernetes_validate
import yaml

errors = []


def err(doc, msg):
    errors.append(f"{doc['kind']}/{doc['metadata'].get('name')}: {msg}")


def crd_schemas(crd_dir):
    schemas = {}
    for path in sorted(glob.glob(f"{crd_dir}/*.yaml")):
        crd = yaml.safe_load(open(path))
        group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
        for v in crd["spec"]["versions"]:
            if v.get("served"):
                schemas[(f"{group}/{v['name']}", kind)] = v["schema"]["openAPIV3Schema"]
    return schemas


def unknown_fields(value, schema, path, out):
    """Fields the structural schema does not declare (what the API server would prune)."""
    if not isinstance(schema, dict) or schema.get("x-kubernetes-preserve-unknown-fields"):
        return
    for key in ("allOf", "anyOf", "oneOf"):
        for sub in schema.get(key, []):
            if "properties" in sub or "items" in sub:
                unknown_fields(value, sub, path, out)
    if isinstance(value, dict):
        props = schema.get("properties")
        extra = schema.get("additionalProperties")
        if props is not None:
            for k, v in value.items():
                if k in props:
                    unknown_fields(v, props[k], f"{path}.{k}", out)
                elif isinstance(extra, dict):
                    unknown_fields(v, extra, f"{path}.{k}", out)
                elif not (path == "" and k in ("apiVersion", "kind", "metadata")):
                    out.append(f"{path}.{k}: unknown field")
        elif isinstance(extra, dict):
            for k, v in value.items():
                unknown_fields(v, extra, f"{path}.{k}", out)
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for i, v in enumerate(value):
            unknown_fields(v, schema["items"], f"{path}[{i}]", out)


CEL = {"evaluated": 0, "skipped": []}


def cel_rules(value, schema, path, out):
    """The CRD's x-kubernetes-validations (CEL) rules at every node present.
    Transition rules (oldSelf) need an old object and are skipped on create,
    as the API server does."""
    if not isinstance(schema, dict):
        return
    rules = schema.get("x-kubernetes-validations") or []
    if rules:
        import celpy

        env = celpy.Environment()
        for r in rules:
            if "oldSelf" in r["rule"]:
                continue
            try:
                ok = env.program(env.compile(r["rule"])).evaluate({"self": celpy.json_to_cel(value)})
            except Exception as e:  # a function this CEL runtime lacks: say so, do not guess
                CEL["skipped"].append(f"{path or '.'}: {r['rule']} ({type(e).__name__})")
                continue
            CEL["evaluated"] += 1
            if not bool(ok):
                out.append(f"{path or '.'}: {r.get('message') or r['rule']} (rule {r['rule']!r})")
    for key in ("allOf", "anyOf", "oneOf"):
        for sub in schema.get(key, []):
            cel_rules(value, sub, path, out)
    if isinstance(value, dict):
        props = schema.get("properties") or {}
        extra = schema.get("additionalProperties")
        for k, v in value.items():
            if k in props:
                cel_rules(v, props[k], f"{path}.{k}", out)
            elif isinstance(extra, dict):
                cel_rules(v, extra, f"{path}.{k}", out)
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for i, v in enumerate(value):
            cel_rules(v, schema["items"], f"{path}[{i}]", out)


def matches(selector, labels):
    for k, v in (selector.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for e in selector.get("matchExpressions") or []:
        have = labels.get(e["key"])
        op = e["operator"]
        if op == "In" and have not in e["values"]:
            return False
        if op == "NotIn" and have in e["values"]:
            return False
        if op == "Exists" and have is None:
            return False
        if op == "DoesNotExist" and have is not None:
            return False
    return True


def consistency(docs, alerts):
    by_kind = {}
    for d in docs:
        by_kind.setdefault(d["kind"], []).append(d)
    deployments = by_kind.get("Deployment", [])
    pod_labels = [d["spec"]["template"]["metadata"]["labels"] for d in deployments]
    names = {(d["kind"], d["metadata"]["name"]) for d in docs}
    for d in deployments:
        sel = d["spec"]["selector"]
        if not matches(sel, d["spec"]["template"]["metadata"]["labels"]):
            err(d, "selector does not match its own pod template")
        spec = d["spec"]["template"]["spec"]
        for c in spec.get("initContainers", []) + spec["containers"]:
            r = c.get("resources", {})
            if not r.get("requests", {}).get("cpu") or not r.get("requests", {}).get("memory") or not r.get("limits", {}).get("memory"):
                err(d, f"container {c['name']}: cpu/memory requests and a memory limit are required")
            sc = c.get("securityContext", {})
            if sc.get("allowPrivilegeEscalation") is not False or not sc.get("readOnlyRootFilesystem") or sc.get("capabilities", {}).get("drop") != ["ALL"]:
                err(d, f"container {c['name']}: must not escalate, must drop ALL, read-only root")
        for c in spec["containers"]:
            for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
                if probe not in c:
                    err(d, f"container {c['name']}: no {probe}")
            ports = {p["name"] for p in c.get("ports", [])}
            for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
                port = c.get(probe, {}).get("httpGet", {}).get("port")
                if isinstance(port, str) and port not in ports:
                    err(d, f"{probe} names port {port}, which the container does not have")
        if not spec.get("securityContext", {}).get("runAsNonRoot"):
            err(d, "pods must run as non-root")
        for v in spec.get("volumes", []):
            if "configMap" in v and ("ConfigMap", v["configMap"]["name"]) not in names:
                err(d, f"volume {v['name']}: no ConfigMap {v['configMap']['name']}")
        for c in spec.get("initContainers", []) + spec["containers"]:
            mounts = [m["mountPath"].rstrip("/") + "/" for m in c.get("volumeMounts", [])]
            for e in c.get("env", []):
                v = str(e.get("value", ""))
                if v.startswith("/run/secrets/") and not any(v.startswith(m) for m in mounts):
                    err(d, f"container {c['name']}: {e['name']}={v} but nothing is mounted there")
        for c in spec["containers"]:
            for ef in c.get("envFrom", []):
                if "configMapRef" in ef and ("ConfigMap", ef["configMapRef"]["name"]) not in names:
                    err(d, f"envFrom: no ConfigMap {ef['configMapRef']['name']}")
    for s in by_kind.get("Service", []):
        if s["metadata"]["name"] == "no-metrics":
            continue  # selects nothing on purpose (ingress.yaml)
        sel = {"matchLabels": s["spec"].get("selector", {})}
        targets = [d for d in deployments if matches(sel, d["spec"]["template"]["metadata"]["labels"])]
        if not targets:
            err(s, "selects no pod of any Deployment")
        for p in s["spec"]["ports"]:
            tp = p.get("targetPort")
            if isinstance(tp, str):
                for t in targets:
                    cports = {(cp["name"], cp.get("protocol", "TCP")) for c in t["spec"]["template"]["spec"]["containers"] for cp in c.get("ports", [])}
                    if (tp, p.get("protocol", "TCP")) not in cports:
                        err(s, f"targetPort {tp}/{p.get('protocol', 'TCP')} is not a port of {t['metadata']['name']}")
    for p in by_kind.get("PodDisruptionBudget", []):
        if not any(matches(p["spec"]["selector"], l) for l in pod_labels):
            err(p, "selects no pod")
    for h in by_kind.get("HorizontalPodAutoscaler", []):
        ref = h["spec"]["scaleTargetRef"]
        if (ref["kind"], ref["name"]) not in names:
            err(h, f"targets {ref['kind']}/{ref['name']}, which does not exist")
        if ref["name"] == "projector":
            err(h, "the projector is one leader per projection: more replicas add no throughput")
        target = next((d for d in deployments if d["metadata"]["name"] == ref["name"]), None)
        if target and not all(c.get("resources", {}).get("requests", {}).get("cpu") for c in target["spec"]["template"]["spec"]["containers"]):
            err(h, "CPU utilization needs CPU requests")
        if h["spec"]["minReplicas"] > h["spec"]["maxReplicas"]:
            err(h, "minReplicas > maxReplicas")
    for n in by_kind.get("NetworkPolicy", []):
        sel = n["spec"]["podSelector"]
        cluster_labels = [{"cnpg.io/cluster": c["metadata"]["name"]} for c in by_kind.get("Cluster", [])]
        if sel and not any(matches(sel, l) for l in pod_labels + cluster_labels):
            err(n, "selects no pod")
    services = by_kind.get("Service", [])
    for m in by_kind.get("ServiceMonitor", []):
        chosen = [s for s in services if matches(m["spec"]["selector"], s["metadata"].get("labels", {}))]
        comps = sorted(s["metadata"]["labels"].get(m["spec"].get("jobLabel", ""), "") for s in chosen)
        if comps != sorted(["command-api", "query-api", "projector", "ingest"]):
            err(m, f"should select the four services, selects {[s['metadata']['name'] for s in chosen]}")
        for s in chosen:
            for e in m["spec"]["endpoints"]:
                if e["port"] not in {p["name"] for p in s["spec"]["ports"]}:
                    err(m, f"endpoint port {e['port']} is not a port of Service {s['metadata']['name']}")
    for c in by_kind.get("Cluster", []):
        sync = c["spec"].get("postgresql", {}).get("synchronous")
        if sync and sync["number"] >= c["spec"]["instances"]:
            err(c, f"synchronous number {sync['number']} needs more than {c['spec']['instances']} instances")
        for store in [p["parameters"]["barmanObjectName"] for p in c["spec"].get("plugins", []) if "parameters" in p]:
            if ("ObjectStore", store) not in names:
                err(c, f"no ObjectStore {store}")
    for b in by_kind.get("ScheduledBackup", []):
        if ("Cluster", b["spec"]["cluster"]["name"]) not in names:
            err(b, f"no Cluster {b['spec']['cluster']['name']}")
    shipped = yaml.safe_load(open(alerts))["groups"]
    for r in by_kind.get("PrometheusRule", []):
        if r["spec"]["groups"] != shipped:
            err(r, f"groups differ from {alerts}: regenerate monitoring.yaml from it")
    ingresses = by_kind.get("Ingress", [])
    for i in ingresses:
        for rule in i["spec"]["rules"]:
            for p in rule["http"]["paths"]:
                svc = p["backend"]["service"]["name"]
                if ("Service", svc) not in names:
                    err(i, f"path {p['path']} routes to Service {svc}, which does not exist")
        if not any(p["path"] == "/metrics" and p["backend"]["service"]["name"] == "no-metrics" for rule in i["spec"]["rules"] for p in rule["http"]["paths"]):
            err(i, "/metrics must not reach a service")


def main(crd_dir, alerts, *versions):
    docs = [d for d in yaml.safe_load_all(sys.stdin) if d]
    schemas = crd_schemas(crd_dir)
    kinds = {}
    for d in docs:
        key = (d["apiVersion"], d["kind"])
        kinds[key] = kinds.get(key, 0) + 1
        if key in schemas:
            schema = schemas[key]
            for e in jsonschema.Draft7Validator(schema).iter_errors(d):
                err(d, f"{'.'.join(map(str, e.absolute_path))}: {e.message}")
            extra = []
            unknown_fields(d, schema, "", extra)
            cel_rules(d, schema, "", extra)
            for e in extra:
                err(d, e)
            continue
        for version in versions:
            try:
                kubernetes_validate.validate(d, version, strict=True)
            except kubernetes_validate.SchemaNotFoundError:
                err(d, f"no schema for {key} (neither Kubernetes {version} nor a CRD in {crd_dir})")
            except kubernetes_validate.ValidationError as e:
                err(d, f"Kubernetes {version}: {'.'.join(map(str, e.path))}: {e.message}")
    if not errors:  # cross-checks assume well-typed documents
        consistency(docs, alerts)
    for (api, kind), n in sorted(kinds.items()):
        how = "CRD schema" if (api, kind) in schemas else f"Kubernetes {', '.join(versions)}"
        print(f"  {n:2d} × {kind} ({api}) against {how}")
    print(f"  CEL rules of the CRDs: {CEL['evaluated']} evaluated" + (f", {len(CEL['skipped'])} not evaluable here" if CEL["skipped"] else ""))
    for skipped in CEL["skipped"]:
        print(f"    not evaluated: {skipped}")
    if errors:
        print("\n".join(errors), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main(*sys.argv[1:])
