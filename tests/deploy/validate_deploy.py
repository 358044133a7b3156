#!/usr/bin/env python3
"""Static checks of dashboards/ and deploy/ (python3 + PyYAML only).

Checks that every YAML and JSON file parses, that the Grafana dashboards are
importable and use the datasource variable, that the files referenced from the
compose file, the Kubernetes manifests and the Prometheus configuration exist,
that the Dockerfile's build stage installs exactly scripts/bootstrap.sh's
build_pkgs, and that every metric used by the dashboards and alert rules is
exported by the engine.

Usage: validate_deploy.py --root REPO [--metrics METRICS.txt] [--bin creditwatch]
  --metrics  a /metrics scrape of a running engine; without it the names are
             checked against the list of families below.
  --bin      also run `creditwatch check-config` on every configuration.
Exit status 1 if any check fails.
"""

import argparse
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile

import yaml

# Metric families the engine exports (name -> type); used without --metrics.
KNOWN_FAMILIES = {
    "creditwatch_events_consumed_total": "counter",
    "creditwatch_events_rejected_total": "counter",
    "creditwatch_dead_letters_total": "counter",
    "creditwatch_duplicate_events_total": "counter",
    "creditwatch_batches_total": "counter",
    "creditwatch_batch_duration_seconds": "histogram",
    "creditwatch_batch_records": "histogram",
    "creditwatch_end_to_end_latency_seconds": "histogram",
    "creditwatch_outputs_produced_total": "counter",
    "creditwatch_consumer_lag": "gauge",
    "creditwatch_outbox_depth": "gauge",
    "creditwatch_alerts_fired_total": "counter",
    "creditwatch_alerts_resolved_total": "counter",
    "creditwatch_alerts_active": "gauge",
    "creditwatch_customers_on_hold": "gauge",
    "creditwatch_orders_total": "counter",
    "creditwatch_timers_pending": "gauge",
    "creditwatch_timers_fired_total": "counter",
    "creditwatch_state_checkpoints_total": "counter",
    "creditwatch_state_steps_logged_total": "counter",
    "creditwatch_state_steps_replayed_total": "counter",
    "creditwatch_rocksdb_live_data_bytes": "gauge",
    "creditwatch_rocksdb_pending_compaction_bytes": "gauge",
    "creditwatch_rocksdb_block_cache_usage_bytes": "gauge",
    "creditwatch_rocksdb_block_cache_capacity_bytes": "gauge",
    "creditwatch_rebalances_total": "counter",
    "creditwatch_outbox_oldest_age_seconds": "gauge",
    "creditwatch_offsets_lost_total": "counter",
    "creditwatch_produce_errors_total": "counter",
    "creditwatch_loop_wait_seconds_total": "counter",
    "creditwatch_consume_errors_total": "counter",
    "creditwatch_partitions_assigned": "gauge",
    "creditwatch_ready": "gauge",
    "creditwatch_last_event_timestamp_seconds": "gauge",
}

# Top-level keys the engine's configuration accepts.
CONFIG_KEYS = {"log_level", "kafka", "kafka_consumer", "kafka_producer", "topics", "engine", "broker", "http",
               "rules"}

REQUIRED_ALERTS = {"CreditwatchConsumerLagGrowing", "CreditwatchDeadLetters", "CreditwatchOffsetsLost",
                   "CreditwatchNotReady", "CreditwatchNoEvents", "CreditwatchOutboxBacklog", "CreditwatchDown"}

DASHBOARD_DS = {"type": "prometheus", "uid": "${datasource}"}
METRIC_RE = re.compile(r"creditwatch_[a-z_]+")
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")


class Report:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, ok, what, why=""):
        if ok:
            self.passed += 1
            print(f"ok    {what}")
        else:
            self.failed += 1
            print(f"FAIL  {what}" + (f": {why}" if why else ""))
        return ok


def rel(root, path):
    return os.path.relpath(path, root)


def walk_files(top, exts):
    out = []
    for d, dirs, files in os.walk(top):
        dirs.sort()
        for f in sorted(files):
            if f.endswith(exts):
                out.append(os.path.join(d, f))
    return out


def load_yaml_docs(path):
    with open(path, encoding="utf-8") as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


# ---------------------------------------------------------------- parsing


def check_parse(root, rep):
    """Every YAML under deploy/ and every JSON under dashboards/ parses."""
    for path in walk_files(os.path.join(root, "deploy"), (".yml", ".yaml")):
        try:
            load_yaml_docs(path)
            rep.check(True, f"YAML parses: {rel(root, path)}")
        except yaml.YAMLError as e:
            rep.check(False, f"YAML parses: {rel(root, path)}", str(e).replace("\n", " "))
    dashboards = walk_files(os.path.join(root, "dashboards"), (".json",))
    rep.check(len(dashboards) >= 2, "dashboards/ holds the dashboards", f"found {len(dashboards)} JSON files")
    for path in dashboards:
        try:
            with open(path, encoding="utf-8") as f:
                json.load(f)
            rep.check(True, f"JSON parses: {rel(root, path)}")
        except ValueError as e:
            rep.check(False, f"JSON parses: {rel(root, path)}", str(e))


def load_dashboards(root):
    out = {}
    for path in walk_files(os.path.join(root, "dashboards"), (".json",)):
        try:
            with open(path, encoding="utf-8") as f:
                out[path] = json.load(f)
        except ValueError:
            pass
    return out


def all_panels(panels):
    for p in panels or []:
        yield p
        yield from all_panels(p.get("panels"))


def dashboard_exprs(dash):
    """(panel title, expr) for every target of every panel."""
    out = []
    for p in all_panels(dash.get("panels")):
        for t in p.get("targets") or []:
            out.append((p.get("title", "?"), t.get("expr", "")))
    return out


def variable_queries(dash):
    out = []
    for v in (dash.get("templating") or {}).get("list") or []:
        if v.get("type") == "query":
            q = v.get("query")
            out.append(q.get("query", "") if isinstance(q, dict) else (q or ""))
    return out


def check_dashboards(root, rep):
    uids = {}
    for path, d in load_dashboards(root).items():
        name = rel(root, path)
        rep.check(bool(d.get("uid")) and bool(d.get("title")), f"{name}: uid and title set")
        uids.setdefault(d.get("uid"), []).append(name)
        rep.check(isinstance(d.get("schemaVersion"), int) and d["schemaVersion"] >= 36,
                  f"{name}: schemaVersion >= 36", f"got {d.get('schemaVersion')}")
        variables = (d.get("templating") or {}).get("list") or []
        ds = [v for v in variables if v.get("name") == "datasource"]
        rep.check(len(ds) == 1 and ds[0].get("type") == "datasource" and ds[0].get("query") == "prometheus",
                  f"{name}: has a 'datasource' variable of type datasource, query prometheus")
        for v in variables:
            if v.get("type") == "query":
                rep.check(v.get("datasource") == DASHBOARD_DS,
                          f"{name}: variable '{v.get('name')}' uses ${{datasource}}")
        ids = []
        bad_ds, no_targets, no_expr = [], [], []
        for p in all_panels(d.get("panels")):
            ids.append(p.get("id"))
            if p.get("type") != "row" and p.get("datasource") != DASHBOARD_DS:
                bad_ds.append(p.get("title"))
            if p.get("type") == "row":
                continue
            targets = p.get("targets") or []
            if not targets:
                no_targets.append(p.get("title"))
            for t in targets:
                if not (t.get("expr") or "").strip():
                    no_expr.append(p.get("title"))
                if "datasource" in t and t["datasource"] != DASHBOARD_DS:
                    bad_ds.append(p.get("title"))
            if "gridPos" not in p:
                no_targets.append(f"{p.get('title')} (no gridPos)")
        rep.check(len(ids) > 0, f"{name}: has panels")
        rep.check(len(ids) == len(set(ids)) and None not in ids, f"{name}: panel ids unique")
        rep.check(not bad_ds, f"{name}: every panel's datasource is {DASHBOARD_DS}", f"panels {bad_ds}")
        rep.check(not no_targets, f"{name}: every panel has targets and a position", f"panels {no_targets}")
        rep.check(not no_expr, f"{name}: every target has an expr", f"panels {no_expr}")
    for uid, names in uids.items():
        rep.check(len(names) == 1, f"dashboard uid '{uid}' unique", f"used by {names}")


# ---------------------------------------------------------------- metric names


def parse_metrics_text(text):
    """(family name -> type, set of sample names) from Prometheus text format."""
    families, samples = {}, set()
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("# TYPE "):
            parts = line.split()
            if len(parts) >= 4:
                families[parts[2]] = parts[3]
        elif line and not line.startswith("#"):
            m = re.match(r"[a-zA-Z_:][a-zA-Z0-9_:]*", line)
            if m:
                samples.add(m.group(0))
    return families, samples


def used_metric_names(root):
    """metric name -> list of places using it (dashboards and alerts.yml exprs)."""
    used = {}

    def add(expr, where):
        for name in METRIC_RE.findall(expr or ""):
            used.setdefault(name, []).append(where)

    for path, d in load_dashboards(root).items():
        for title, expr in dashboard_exprs(d):
            add(expr, f"{rel(root, path)}: {title}")
        for q in variable_queries(d):
            add(q, f"{rel(root, path)}: variable")
    alerts = os.path.join(root, "deploy", "prometheus", "alerts.yml")
    if os.path.exists(alerts):
        for doc in load_yaml_docs(alerts):
            for g in doc.get("groups") or []:
                for r in g.get("rules") or []:
                    add(str(r.get("expr", "")), f"alerts.yml: {r.get('alert') or r.get('record')}")
    return used


def unknown_metric_names(root, families, samples):
    """Names used by dashboards/alerts that the exporter does not have."""
    exported = set(families) | set(samples)
    bad = {}
    for name, where in used_metric_names(root).items():
        if name in exported:
            continue
        base = name
        for suffix in HISTOGRAM_SUFFIXES:
            if name.endswith(suffix):
                base = name[: -len(suffix)]
                break
        if base != name and families.get(base) in ("histogram", "summary"):
            continue
        bad[name] = where
    return bad


def check_metric_names(root, rep, metrics_text=None):
    if metrics_text is None:
        families, samples, source = dict(KNOWN_FAMILIES), set(), "the known families"
    else:
        families, samples = parse_metrics_text(metrics_text)
        source = "the /metrics scrape"
        missing = sorted(set(KNOWN_FAMILIES) - set(families))
        rep.check(not missing, "the /metrics scrape has every known family", f"missing {missing}")
    used = used_metric_names(root)
    rep.check(len(used) > 0, "dashboards and alerts use creditwatch metrics")
    bad = unknown_metric_names(root, families, samples)
    rep.check(not bad, f"every metric used by dashboards and alerts.yml is in {source} ({len(used)} names)",
              "; ".join(f"{n} (in {w[0]})" for n, w in sorted(bad.items())))


# ---------------------------------------------------------------- Dockerfile


def bash_array(text, name):
    m = re.search(rf"^\s*{re.escape(name)}=\((.*?)\)", text, re.S | re.M)
    if not m:
        return None
    body = "\n".join(line.split("#", 1)[0] for line in m.group(1).splitlines())
    return shlex.split(body)


def dockerfile_stages(text):
    """[(FROM line, [instructions with continuations joined])]"""
    lines, cur = [], ""
    for raw in text.splitlines():
        s = raw.strip()
        if not cur and (not s or s.startswith("#")):
            continue
        if cur and s.startswith("#"):
            continue
        if s.endswith("\\"):
            cur += s[:-1] + " "
            continue
        lines.append(cur + s)
        cur = ""
    if cur:
        lines.append(cur)
    stages = []
    for ins in lines:
        if ins.upper().startswith("FROM "):
            stages.append((ins, []))
        elif stages:
            stages[-1][1].append(ins)
    return stages


def apt_packages(instructions):
    pkgs = []
    for ins in instructions:
        if not ins.upper().startswith("RUN "):
            continue
        for cmd in re.split(r"&&|;|\|\|", ins[4:]):
            words = cmd.split()
            if "apt-get" in words and "install" in words:
                for w in words[words.index("install") + 1:]:
                    if not w.startswith("-"):
                        pkgs.append(w)
    return pkgs


def check_dockerfile(root, rep):
    path = os.path.join(root, "deploy", "docker", "Dockerfile")
    if not rep.check(os.path.exists(path), "deploy/docker/Dockerfile exists"):
        return
    with open(path, encoding="utf-8") as f:
        text = f.read()
    with open(os.path.join(root, "scripts", "bootstrap.sh"), encoding="utf-8") as f:
        build_pkgs = bash_array(f.read(), "build_pkgs")
    rep.check(bool(build_pkgs), "scripts/bootstrap.sh has a build_pkgs array")
    stages = dockerfile_stages(text)
    rep.check(len(stages) >= 2, "Dockerfile is multi-stage", f"{len(stages)} stages")
    if not stages or not build_pkgs:
        return
    for frm, _ in stages:
        rep.check("debian:bookworm-slim" in frm, f"Dockerfile stage on debian:bookworm-slim: {frm}")
    got = apt_packages(stages[0][1])
    missing = sorted(set(build_pkgs) - set(got))
    extra = sorted(set(got) - set(build_pkgs))
    rep.check(not missing and not extra and len(got) == len(set(got)),
              "Dockerfile build stage installs exactly bootstrap.sh's build_pkgs",
              f"missing {missing}, extra {extra}")
    build_text = " ".join(stages[0][1])
    rep.check("-DCREDITWATCH_TESTS=OFF" in build_text, "Dockerfile builds with -DCREDITWATCH_TESTS=OFF")
    for ins in (i for _, st in stages for i in st):
        words = ins.split()
        if words[0].upper() in ("COPY", "ADD") and not any(w.startswith("--from") for w in words):
            srcs = [w for w in words[1:-1] if not w.startswith("--")]
            for s in srcs:
                rep.check(os.path.exists(os.path.join(root, s)), f"Dockerfile COPY source exists: {s}")
    runtime = stages[-1][1]
    rep.check(any(i.upper().startswith("USER ") and not i.split()[1].startswith(("0", "root")) for i in runtime),
              "Dockerfile runtime stage runs as a non-root user")
    tools = sorted(set(apt_packages(runtime)) & {"build-essential", "cmake", "pkg-config", "protobuf-compiler"})
    rep.check(not tools, "Dockerfile runtime stage installs no build tools", f"installs {tools}")


# ---------------------------------------------------------------- compose


def check_compose(root, rep):
    path = os.path.join(root, "deploy", "compose", "docker-compose.yml")
    if not rep.check(os.path.exists(path), "deploy/compose/docker-compose.yml exists"):
        return
    base = os.path.dirname(path)
    doc = load_yaml_docs(path)[0]
    services = doc.get("services") or {}
    named = set((doc.get("volumes") or {}).keys())
    for name, svc in services.items():
        build = svc.get("build")
        if build is not None:
            ctx = build if isinstance(build, str) else build.get("context", ".")
            ctx_path = os.path.normpath(os.path.join(base, ctx))
            rep.check(os.path.isdir(ctx_path), f"compose {name}: build context {ctx} exists")
            if isinstance(build, dict) and build.get("dockerfile"):
                df = os.path.join(ctx_path, build["dockerfile"])
                rep.check(os.path.isfile(df), f"compose {name}: dockerfile {build['dockerfile']} exists in the context")
        for v in svc.get("volumes") or []:
            if isinstance(v, dict):
                vtype, src = v.get("type"), v.get("source", "")
            else:
                src = v.split(":", 1)[0]
                vtype = "bind" if src.startswith((".", "/", "~")) else "volume"
            if vtype == "bind":
                p = os.path.normpath(os.path.join(base, src))
                rep.check(os.path.exists(p), f"compose {name}: bind-mount source {src} exists")
            elif vtype == "volume" and src:
                rep.check(src in named, f"compose {name}: named volume {src} is declared")
        for f in svc.get("env_file") or []:
            p = f if isinstance(f, str) else f.get("path")
            rep.check(os.path.exists(os.path.join(base, p)), f"compose {name}: env_file {p} exists")
        deps = svc.get("depends_on") or []
        for dep in deps if isinstance(deps, list) else deps.keys():
            rep.check(dep in services, f"compose {name}: depends_on {dep} is a service")


def check_grafana_provisioning(root, rep):
    base = os.path.join(root, "deploy", "compose")
    ds_path = os.path.join(base, "grafana", "provisioning", "datasources", "prometheus.yml")
    db_path = os.path.join(base, "grafana", "provisioning", "dashboards", "creditwatch.yml")
    if rep.check(os.path.exists(ds_path), "Grafana datasource provisioning exists"):
        ds = load_yaml_docs(ds_path)[0].get("datasources") or []
        rep.check(any(d.get("type") == "prometheus" for d in ds), "Grafana provisions a prometheus datasource")
    if not rep.check(os.path.exists(db_path), "Grafana dashboard provisioning exists"):
        return
    providers = load_yaml_docs(db_path)[0].get("providers") or []
    compose = load_yaml_docs(os.path.join(base, "docker-compose.yml"))[0]
    dash_dir = os.path.normpath(os.path.join(root, "dashboards"))
    targets = set()
    for svc in (compose.get("services") or {}).values():
        for v in svc.get("volumes") or []:
            if isinstance(v, str) and v.startswith("."):
                src, dst = v.split(":")[0:2]
                if os.path.normpath(os.path.join(base, src)) == dash_dir:
                    targets.add(dst)
    for p in providers:
        path = (p.get("options") or {}).get("path")
        rep.check(path in targets, f"Grafana provider path {path} is where compose mounts dashboards/",
                  f"dashboards/ is mounted at {sorted(targets)}")


# ---------------------------------------------------------------- Prometheus


def check_prometheus(root, rep):
    base = os.path.join(root, "deploy", "prometheus")
    cfg_path = os.path.join(base, "prometheus.yml")
    if rep.check(os.path.exists(cfg_path), "deploy/prometheus/prometheus.yml exists"):
        cfg = load_yaml_docs(cfg_path)[0]
        for rf in cfg.get("rule_files") or []:
            rep.check(os.path.exists(os.path.join(base, rf)), f"prometheus.yml rule file {rf} exists")
        jobs = [j.get("job_name") for j in cfg.get("scrape_configs") or []]
        rep.check("creditwatch" in jobs, "prometheus.yml has the job 'creditwatch'")
    alerts_path = os.path.join(base, "alerts.yml")
    if rep.check(os.path.exists(alerts_path), "deploy/prometheus/alerts.yml exists"):
        names = set()
        for g in load_yaml_docs(alerts_path)[0].get("groups") or []:
            for r in g.get("rules") or []:
                if "alert" not in r:
                    continue
                names.add(r["alert"])
                ann = r.get("annotations") or {}
                rep.check(bool((r.get("labels") or {}).get("severity")) and "summary" in ann and "description" in ann,
                          f"alert {r['alert']}: severity label, summary and description")
        missing = sorted(REQUIRED_ALERTS - names)
        rep.check(not missing, "alerts.yml has the required alerts", f"missing {missing}")
    test_path = os.path.join(base, "alerts_test.yml")
    if rep.check(os.path.exists(test_path), "deploy/prometheus/alerts_test.yml exists"):
        t = load_yaml_docs(test_path)[0]
        for rf in t.get("rule_files") or []:
            rep.check(os.path.exists(os.path.join(base, rf)), f"alerts_test.yml rule file {rf} exists")
        tested = {a.get("alertname") for test in t.get("tests") or [] for a in test.get("alert_rule_test") or []}
        rep.check(REQUIRED_ALERTS <= tested, "alerts_test.yml tests every required alert",
                  f"untested {sorted(REQUIRED_ALERTS - tested)}")


# ---------------------------------------------------------------- Kubernetes


def check_k8s(root, rep):
    base = os.path.join(root, "deploy", "k8s")
    objs = {}
    for path in walk_files(base, (".yaml", ".yml")):
        for d in load_yaml_docs(path):
            if isinstance(d, dict) and d.get("kind"):
                meta = d.get("metadata") or {}
                objs[(d["kind"], meta.get("name"))] = (d, path)
                if d["kind"] != "Kustomization":
                    rep.check("namespace" not in meta, f"k8s {d['kind']}/{meta.get('name')}: no namespace")
                else:
                    rep.check("namespace" not in d, f"k8s {rel(root, path)}: no namespace")
    kust = objs.get(("Kustomization", None))
    if kust:
        for r in kust[0].get("resources") or []:
            rep.check(os.path.exists(os.path.join(base, r)), f"k8s kustomization resource {r} exists")
    sts = next((d for (k, _), (d, _) in objs.items() if k == "StatefulSet"), None)
    svcs = {name: d for (k, name), (d, _) in objs.items() if k == "Service"}
    has_sts = rep.check(sts is not None, "k8s StatefulSet present")
    has_svc = rep.check(bool(svcs), "k8s Service present")
    if not (has_sts and has_svc):
        return
    spec = sts["spec"]
    pod = spec["template"]["spec"]
    pod_labels = spec["template"]["metadata"].get("labels") or {}
    rep.check(spec.get("replicas") == 1, "k8s StatefulSet has 1 replica")
    governing = svcs.get(spec.get("serviceName"))
    if rep.check(governing is not None, "k8s StatefulSet serviceName is a Service"):
        # Stable per-pod DNS names come only from a headless governing Service.
        rep.check(governing["spec"].get("clusterIP") == "None", "k8s StatefulSet's governing Service is headless")
    rep.check(any(d["spec"].get("clusterIP") != "None" for d in svcs.values()),
              "k8s a Service with a cluster IP serves the API")
    sel = (spec.get("selector") or {}).get("matchLabels") or {}
    rep.check(sel and all(pod_labels.get(k) == v for k, v in sel.items()), "k8s StatefulSet selector matches its pods")
    for name, svc in svcs.items():
        svc_sel = svc["spec"].get("selector") or {}
        rep.check(svc_sel and all(pod_labels.get(k) == v for k, v in svc_sel.items()),
                  f"k8s Service {name} selector matches the pods")
    volumes = {v["name"]: v for v in pod.get("volumes") or []}
    claims = {c["metadata"]["name"] for c in spec.get("volumeClaimTemplates") or []}
    for v in volumes.values():
        if "configMap" in v:
            cm_name = v["configMap"]["name"]
            cm = objs.get(("ConfigMap", cm_name))
            if rep.check(cm is not None, f"k8s volume {v['name']}: ConfigMap {cm_name} defined"):
                data = cm[0].get("data") or {}
                for item in v["configMap"].get("items") or []:
                    rep.check(item["key"] in data, f"k8s ConfigMap {cm_name} has key {item['key']}")
        if "secret" in v:
            rep.check(("Secret", v["secret"]["secretName"]) in objs, f"k8s volume {v['name']}: Secret defined")
    for c in pod.get("containers") or []:
        ports = {p.get("name"): p.get("containerPort") for p in c.get("ports") or []}
        for m in c.get("volumeMounts") or []:
            rep.check(m["name"] in volumes or m["name"] in claims,
                      f"k8s mount {m['mountPath']}: volume {m['name']} defined")
        mounts = {m["mountPath"]: m for m in c.get("volumeMounts") or []}
        rep.check("/var/lib/creditwatch" in mounts and mounts["/var/lib/creditwatch"]["name"] in claims,
                  "k8s /var/lib/creditwatch is a volumeClaimTemplate")
        args = c.get("args") or []
        if "-c" in args:
            cfg = args[args.index("-c") + 1]
            d, f = os.path.split(cfg)
            m = mounts.get(d)
            ok = False
            if m and m["name"] in volumes and "configMap" in volumes[m["name"]]:
                vol = volumes[m["name"]]["configMap"]
                items = vol.get("items")
                cm = objs.get(("ConfigMap", vol["name"]))
                keys = [i["path"] for i in items] if items else list((cm[0].get("data") or {}) if cm else [])
                ok = f in keys
            rep.check(ok, f"k8s config {cfg} comes from the ConfigMap")
        for e in c.get("env") or []:
            ref = ((e.get("valueFrom") or {}).get("secretKeyRef"))
            if ref:
                sec = objs.get(("Secret", ref["name"]))
                keys = set()
                if sec:
                    keys = set(sec[0].get("stringData") or {}) | set(sec[0].get("data") or {})
                rep.check(ref["key"] in keys,
                          f"k8s env {e['name']}: Secret {ref['name']} key {ref['key']} (example) defined")
        for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
            hg = (c.get(probe) or {}).get("httpGet") or {}
            port = hg.get("port")
            port = ports.get(port, port)
            rep.check(hg.get("path") == path and port == 8080, f"k8s {probe} GET {path} on 8080")
        rep.check(bool((c.get("resources") or {}).get("requests")) and bool((c.get("resources") or {}).get("limits")),
                  "k8s container has resource requests and limits")
        for p in svc["spec"].get("ports") or []:
            tp = p.get("targetPort")
            rep.check(tp in ports or tp in ports.values(), f"k8s Service port {p.get('name')} targets a container port")
    psc = pod.get("securityContext") or {}
    rep.check(psc.get("runAsNonRoot") is True, "k8s pod runs as non-root")
    rep.check(pod.get("terminationGracePeriodSeconds") == 30, "k8s terminationGracePeriodSeconds is 30")


# ---------------------------------------------------------------- engine configs


def engine_configs(root):
    """(name, YAML text) of every creditwatch configuration under deploy/."""
    out = []
    for p in ("deploy/config/creditwatch.yaml", "deploy/compose/creditwatch.yaml"):
        path = os.path.join(root, p)
        if os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                out.append((p, f.read()))
    for path in walk_files(os.path.join(root, "deploy", "k8s"), (".yaml", ".yml")):
        for d in load_yaml_docs(path):
            if isinstance(d, dict) and d.get("kind") == "ConfigMap":
                for k, v in (d.get("data") or {}).items():
                    if k.endswith((".yaml", ".yml")):
                        out.append((f"{rel(root, path)}:{k}", v))
    return out


def check_configs(root, rep, binary=None):
    configs = engine_configs(root)
    rep.check(len(configs) >= 3, "engine configurations found", f"{[n for n, _ in configs]}")
    for name, text in configs:
        try:
            doc = yaml.safe_load(text) or {}
        except yaml.YAMLError as e:
            rep.check(False, f"config {name} parses", str(e))
            continue
        unknown = sorted(set(doc) - CONFIG_KEYS)
        rep.check(not unknown, f"config {name}: top-level keys known", f"unknown {unknown}")
        rep.check((doc.get("engine") or {}).get("data_dir") == "/var/lib/creditwatch",
                  f"config {name}: engine.data_dir is /var/lib/creditwatch")
        if binary:
            with tempfile.NamedTemporaryFile("w", suffix=".yaml") as tmp:
                tmp.write(text)
                tmp.flush()
                env = dict(os.environ, CREDITWATCH_TOKEN="validate")
                r = subprocess.run([binary, "check-config", "-c", tmp.name], env=env, capture_output=True,
                                   text=True, timeout=60)
                rep.check(r.returncode == 0, f"config {name}: creditwatch check-config",
                          (r.stdout + r.stderr).strip())


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--root", required=True, help="repository root")
    ap.add_argument("--metrics", help="a /metrics scrape of the engine (Prometheus text format)")
    ap.add_argument("--bin", help="creditwatch binary: also run check-config on every configuration")
    args = ap.parse_args(argv)
    root = os.path.abspath(args.root)
    rep = Report()
    check_parse(root, rep)
    check_dashboards(root, rep)
    metrics_text = None
    if args.metrics:
        with open(args.metrics, encoding="utf-8") as f:
            metrics_text = f.read()
    check_metric_names(root, rep, metrics_text)
    check_dockerfile(root, rep)
    check_compose(root, rep)
    check_grafana_provisioning(root, rep)
    check_prometheus(root, rep)
    check_k8s(root, rep)
    check_configs(root, rep, args.bin)
    print(f"validate_deploy: {rep.passed} passed, {rep.failed} failed")
    return 1 if rep.failed else 0


if __name__ == "__main__":
    sys.exit(main())
