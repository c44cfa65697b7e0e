#!/usr/bin/env python3
"""Helpers of deploy/test-monitoring.sh (stdlib and PyYAML only).

  monitoring.py loopback SHIPPED OUT RULES job=host:port...
      the shipped scrape config with every job's service discovery replaced
      by the loopback target given for it (job names, paths and relabelling
      kept), rule_files pointed at RULES, scraping every second.
  monitoring.py names ALERTS DASHBOARD METRICS_FILE...
      every metric name the alerts and the dashboard use must be a sample
      name in one of the /metrics files (a `{__name__=~"…"}` selector: each
      alternative of its regex must match one).
  monitoring.py covered ALERTS TESTS
      every alert of ALERTS has a unit test in TESTS that expects it to fire.
  monitoring.py targets TARGETS_JSON job...
      every job has at least one active target and all are up.
"""
import itertools
import json
import re
import sys

import yaml

IDENT = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
# PromQL words that are not metric names.
KEYWORDS = {
    "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless",
    "offset", "le", "sum", "min", "max", "avg", "count", "rate", "irate", "increase", "histogram_quantile",
    "topk", "bottomk", "quantile", "stddev", "absent", "delta", "deriv", "abs", "clamp_min", "clamp_max",
    "label_replace", "time", "vector", "scalar", "inf", "nan",
}


def loopback(shipped, out, rules, *pairs):
    targets = dict(p.split("=", 1) for p in pairs)
    cfg = yaml.safe_load(open(shipped))
    cfg.setdefault("global", {})["scrape_interval"] = "1s"
    cfg["global"]["evaluation_interval"] = "1s"
    cfg["rule_files"] = [rules]
    jobs = [j["job_name"] for j in cfg["scrape_configs"]]
    if sorted(jobs) != sorted(targets):
        sys.exit(f"the shipped jobs are {jobs}, the test starts {sorted(targets)}")
    for job in cfg["scrape_configs"]:
        for key in [k for k in job if k.endswith("_sd_configs") or k == "static_configs"]:
            del job[key]
        job["static_configs"] = [{"targets": [targets[job["job_name"]]]}]
    yaml.safe_dump(cfg, open(out, "w"), sort_keys=False)


def exprs(alerts, dashboard):
    for group in yaml.safe_load(open(alerts))["groups"]:
        for rule in group["rules"]:
            yield f"alert {rule.get('alert') or rule.get('record')}", rule["expr"]
    def panels(items):
        for p in items:
            yield p
            yield from panels(p.get("panels", []))
    for p in panels(json.load(open(dashboard))["panels"]):
        for t in p.get("targets", []):
            if t.get("expr"):
                yield f"panel {p.get('title')!r}", t["expr"]


def expand(regex):
    """The alternatives of a simple regex like a_(b|c)_d: a_b_d, a_c_d."""
    parts = re.split(r"\(([^()]*)\)", regex)
    choices = [[p] if i % 2 == 0 else p.split("|") for i, p in enumerate(parts)]
    return ["".join(c) for c in itertools.product(*choices)]


def names(alerts, dashboard, *metric_files):
    exported = set()
    for f in metric_files:
        for line in open(f):
            if line.strip() and not line.startswith("#"):
                exported.add(re.match(r"[^{\s]+", line).group(0))
    if not exported:
        sys.exit("no metric exported by any service")
    missing, used = [], set()
    for where, expr in exprs(alerts, dashboard):
        for regex in re.findall(r'__name__\s*=~\s*"([^"]+)"', expr):
            for name in expand(regex):
                used.add(name)
                if not any(re.fullmatch(name, e) for e in exported):
                    missing.append(f"{where}: no exported metric matches {name}")
        bare = re.sub(r'"[^"]*"', '""', expr)  # label values are not names
        bare = re.sub(r"\{[^}]*\}", "{}", bare)  # nor label names
        bare = re.sub(r"\[[^\]]*\]", "[]", bare)  # nor durations
        for m in IDENT.finditer(bare):
            word = m.group(0)
            after = bare[m.end():].lstrip()
            if word in KEYWORDS or after.startswith("(") or word == "up":
                continue
            if bare[:m.start()].rstrip().endswith(("by (", "by(", "without (", "on (", "ignoring (")):
                continue
            used.add(word)
            if word not in exported:
                missing.append(f"{where}: {word} is not exported")
    # Label lists such as `by (projection, route)` leave words behind: only
    # names that look like ours (or `up`) are metric names.
    missing = [m for m in missing if "ticketera_" in m]
    for name in sorted(n for n in used if n.startswith("ticketera_")):
        print(f"  used and exported: {name}")
    if missing:
        sys.exit("\n".join(missing))


def covered(alerts, tests):
    defined = {r["alert"] for g in yaml.safe_load(open(alerts))["groups"] for r in g["rules"] if "alert" in r}
    fired = {
        t["alertname"]
        for test in yaml.safe_load(open(tests))["tests"]
        for t in test.get("alert_rule_test", [])
        if t.get("exp_alerts")
    }
    if defined - fired:
        sys.exit(f"alerts without a unit test that fires them: {sorted(defined - fired)}")
    print(f"  every alert has a firing unit test: {', '.join(sorted(defined))}")


def targets(path, *jobs):
    active = json.load(open(path))["data"]["activeTargets"]
    by_job = {}
    for t in active:
        by_job.setdefault(t["labels"]["job"], []).append(t)
    bad = [j for j in jobs if not by_job.get(j) or any(t["health"] != "up" for t in by_job[j])]
    for j in jobs:
        for t in by_job.get(j, []):
            print(f"  {j} {t['scrapeUrl']} {t['health']} {t.get('lastError', '')}")
    if bad:
        sys.exit(1)


if __name__ == "__main__":
    {"loopback": loopback, "names": names, "covered": covered, "targets": targets}[sys.argv[1]](*sys.argv[2:])
