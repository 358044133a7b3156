#!/usr/bin/env python3
"""Dashboards and alert rules against a real engine and a real Prometheus server.

Starts, on 127.0.0.1 only: the engine with its embedded broker, the workload
generator, and Prometheus scraping the engine every second with
deploy/prometheus/alerts.yml loaded. Then queries every panel expression of
both dashboards (each must succeed and return data) and every alert rule
expression (each must succeed), checks that the rules load and evaluate
cleanly, and checks the metric names used against a live /metrics scrape.
Also runs promtool on alerts.yml and alerts_test.yml.

Usage: prometheus_integration.py --bin build/src/app/creditwatch --root REPO
       [--prometheus /usr/bin/prometheus] [--scrape-seconds 20]
Exit status 1 on any failure. Bounded to about two minutes.
"""

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, HERE)
import validate_deploy  # noqa: E402

DEADLINE_S = 115

# Grafana variables -> values usable in a plain PromQL query.
GRAFANA_VARS = [
    (re.compile(r"\$\{?__rate_interval\}?"), "1m"),
    (re.compile(r"\$\{?__interval\}?"), "30s"),
    (re.compile(r"\$\{?__range\}?"), "1m"),
    (re.compile(r"\$\{?instance(?::[a-z]+)?\}?"), ".*"),
]


class Failure(Exception):
    pass


class Deadline(Exception):
    pass


def substitute(expr):
    for pattern, value in GRAFANA_VARS:
        expr = pattern.sub(value, expr)
    if re.search(r"\$[A-Za-z_{]", expr):
        raise Failure(f"unsubstituted Grafana variable in: {expr}")
    return expr


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.status, r.read().decode("utf-8", "replace")


def wait_for(what, fn, timeout, interval=0.25):
    end = time.monotonic() + timeout
    last = None
    while time.monotonic() < end:
        try:
            v = fn()
            if v:
                return v
        except (OSError, urllib.error.URLError, ValueError) as e:
            last = e
        time.sleep(interval)
    raise Failure(f"timed out after {timeout:.0f} s waiting for {what}" + (f" ({last})" if last else ""))


def grep_file(path, pattern):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            m = re.search(pattern, f.read())
            return m.group(1) if m else None
    except FileNotFoundError:
        return None


class Procs:
    """Child processes, stopped in reverse order: SIGTERM, then SIGKILL."""

    def __init__(self):
        self.procs = []

    def start(self, name, argv, log_path):
        log = open(log_path, "wb")
        p = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        log.close()
        self.procs.append((name, p))
        return p

    def stop_all(self):
        for name, p in reversed(self.procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for name, p in reversed(self.procs):
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                print(f"note: {name} (pid {p.pid}) ignored SIGTERM; killing it")
                p.kill()
                p.wait(timeout=5)
        self.procs = []


class Prom:
    def __init__(self, port):
        self.base = f"http://127.0.0.1:{port}"

    def api(self, path, **params):
        url = f"{self.base}{path}"
        if params:
            url += "?" + urllib.parse.urlencode(params)
        try:
            with urllib.request.urlopen(url, timeout=10) as r:
                return json.loads(r.read().decode())
        except urllib.error.HTTPError as e:
            body = e.read().decode("utf-8", "replace")
            try:
                return json.loads(body)
            except ValueError:
                return {"status": "error", "error": f"HTTP {e.code}: {body[:200]}"}

    def query(self, expr):
        return self.api("/api/v1/query", query=expr)


class Checks:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def result(self, ok, what, why=""):
        if ok:
            self.passed += 1
            print(f"OK    {what}")
        else:
            self.failed += 1
            print(f"FAIL  {what}" + (f"  -- {why}" if why else ""))


def dashboard_targets(root):
    out = []
    for path, d in sorted(validate_deploy.load_dashboards(root).items()):
        for title, expr in validate_deploy.dashboard_exprs(d):
            out.append((os.path.basename(path), title, expr))
    return out


def alert_rules(alerts_path):
    with open(alerts_path, encoding="utf-8") as f:
        doc = yaml.safe_load(f)
    return [(r.get("alert") or r.get("record"), str(r["expr"]).strip())
            for g in doc.get("groups") or [] for r in g.get("rules") or []]


def run_promtool(root, checks):
    promtool = shutil.which("promtool")
    if not promtool:
        print("note: promtool not found; skipping the rule unit tests")
        return
    base = os.path.join(root, "deploy", "prometheus")
    for argv in (["check", "rules", "alerts.yml"], ["test", "rules", "alerts_test.yml"],
                 ["check", "config", "prometheus.yml"]):
        r = subprocess.run([promtool] + argv, cwd=base, capture_output=True, text=True, timeout=60)
        checks.result(r.returncode == 0, f"promtool {' '.join(argv)}", (r.stdout + r.stderr).strip()[-2000:])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", required=True, help="the creditwatch binary")
    ap.add_argument("--root", required=True, help="repository root")
    ap.add_argument("--prometheus", default=shutil.which("prometheus") or "/usr/bin/prometheus")
    ap.add_argument("--scrape-seconds", type=float, default=20.0,
                    help="seconds of 1 s scrapes to collect before querying")
    args = ap.parse_args(argv)
    root = os.path.abspath(args.root)
    binary = os.path.abspath(args.bin)
    for p, what in ((binary, "--bin"), (args.prometheus, "--prometheus")):
        if not os.access(p, os.X_OK):
            print(f"FAIL  {what} {p} is not an executable")
            return 1

    def on_alarm(signum, frame):
        raise Deadline(f"the test ran longer than {DEADLINE_S} s")

    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(DEADLINE_S)

    checks = Checks()
    procs = Procs()
    tmp = tempfile.mkdtemp(prefix="creditwatch-prom-")
    engine_log = os.path.join(tmp, "engine.log")
    ok = False
    try:
        run_promtool(root, checks)

        # 1. The engine with an embedded broker.
        cfg = {
            "log_level": "info",
            "engine": {"data_dir": os.path.join(tmp, "data"), "time_mode": "live"},
            "http": {"listen": "127.0.0.1:0"},
        }
        cfg_path = os.path.join(tmp, "creditwatch.yaml")
        with open(cfg_path, "w") as f:
            yaml.safe_dump(cfg, f)
        engine = procs.start("engine", [binary, "run", "-c", cfg_path], engine_log)

        def engine_endpoints():
            if engine.poll() is not None:
                raise Failure(f"the engine exited with status {engine.returncode}")
            bs = grep_file(engine_log, r"started an embedded broker at (\S+)")
            port = grep_file(engine_log, r"http: listening on [^:\s]+:(\d+)")
            return (bs.rstrip(".,;:)"), port) if bs and port else None

        bootstrap, http_port = wait_for("the engine's broker and HTTP port in its log", engine_endpoints, 30)
        engine_url = f"http://127.0.0.1:{http_port}"
        print(f"engine: broker {bootstrap}, http {engine_url}")
        status, _ = wait_for("/healthz", lambda: http_get(engine_url + "/healthz"), 10)
        checks.result(status == 200, "engine /healthz answers 200")

        # 2. Load: the workload generator, until stopped.
        procs.start("generator", [binary, "gen", "--bootstrap", bootstrap, "--events", "0", "--rate", "300",
                                  "--customers", "200"], os.path.join(tmp, "gen.log"))

        # 3. Prometheus scraping the engine every second, with the alert rules.
        shutil.copy(os.path.join(root, "deploy", "prometheus", "alerts.yml"), os.path.join(tmp, "alerts.yml"))
        prom_port = free_port()
        prom_cfg = {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s", "scrape_timeout": "1s"},
            "rule_files": [os.path.join(tmp, "alerts.yml")],
            "scrape_configs": [{"job_name": "creditwatch",
                                "static_configs": [{"targets": [f"127.0.0.1:{http_port}"]}]}],
        }
        prom_cfg_path = os.path.join(tmp, "prometheus.yml")
        with open(prom_cfg_path, "w") as f:
            yaml.safe_dump(prom_cfg, f)
        prom_proc = procs.start("prometheus", [args.prometheus, f"--config.file={prom_cfg_path}",
                                               f"--storage.tsdb.path={os.path.join(tmp, 'tsdb')}",
                                               f"--web.listen-address=127.0.0.1:{prom_port}"],
                                os.path.join(tmp, "prometheus.log"))
        prom = Prom(prom_port)

        def prom_ready():
            if prom_proc.poll() is not None:
                raise Failure(f"prometheus exited with status {prom_proc.returncode}")
            return http_get(prom.base + "/-/ready")[0] == 200

        wait_for("Prometheus /-/ready", prom_ready, 30)
        wait_for("the engine to be ready (creditwatch_ready 1 scraped)",
                 lambda: prom.query('creditwatch_ready{job="creditwatch"} == 1')["data"]["result"], 40)
        wait_for("consumed events in Prometheus",
                 lambda: prom.query("sum(creditwatch_events_consumed_total) > 0")["data"]["result"], 30)
        print(f"collecting {args.scrape_seconds:.0f} s of scrapes ...")
        time.sleep(args.scrape_seconds)
        checks.result(prom.query('up{job="creditwatch"} == 1')["data"]["result"] != [], 'up{job="creditwatch"} is 1')

        # 4. Every dashboard panel expression: succeeds and returns data.
        for board, title, expr in dashboard_targets(root):
            what = f"[{board}] {title}: {expr}"
            try:
                q = substitute(expr)
            except Failure as e:
                checks.result(False, what, str(e))
                continue
            r = prom.query(q)
            if r.get("status") != "success":
                checks.result(False, what, f"status {r.get('status')}: {r.get('error')}")
            elif not r["data"]["result"]:
                checks.result(False, what, "empty result")
            else:
                checks.result(True, what)

        # The dashboards' instance variable: label_values(creditwatch_ready, instance).
        r = prom.api("/api/v1/label/instance/values", **{"match[]": "creditwatch_ready"})
        checks.result(r.get("status") == "success" and bool(r["data"]),
                      "dashboard variable: label_values(creditwatch_ready, instance)", json.dumps(r)[:200])

        # 5. Every alert rule expression: succeeds (may be empty).
        rules = alert_rules(os.path.join(root, "deploy", "prometheus", "alerts.yml"))
        for name, expr in rules:
            r = prom.query(expr)
            checks.result(r.get("status") == "success", f"[alerts.yml] {name}: {' '.join(expr.split())}",
                          f"{r.get('errorType')}: {r.get('error')}")

        # The rules as loaded by Prometheus: all present, evaluated without error.
        def rules_evaluated():
            groups = prom.api("/api/v1/rules")["data"]["groups"]
            loaded = {r["name"]: r for g in groups for r in g["rules"]}
            done = all(n in loaded and not loaded[n].get("lastEvaluation", "0001").startswith("0001")
                       for n, _ in rules)
            return loaded if done else None

        try:
            loaded = wait_for("the rules to be evaluated", rules_evaluated, 10)
            for name, _ in rules:
                rule = loaded[name]
                checks.result(rule.get("health") == "ok",
                              f"rule {name} loaded and evaluated (state {rule.get('state')})",
                              f"health {rule.get('health')}: {rule.get('lastError')}")
        except Failure as e:
            checks.result(False, "rules loaded and evaluated", str(e))
        firing = [a["labels"]["alertname"] for a in prom.api("/api/v1/alerts")["data"]["alerts"]
                  if a["state"] == "firing"]
        checks.result(not firing, "no alert fires for a healthy engine", f"firing: {firing}")

        # 6. Metric names used by dashboards and alerts against the live /metrics.
        status, metrics_text = http_get(engine_url + "/metrics")
        with open(os.path.join(tmp, "metrics.txt"), "w") as f:
            f.write(metrics_text)
        rep = validate_deploy.Report()
        validate_deploy.check_metric_names(root, rep, metrics_text)
        checks.passed += rep.passed
        checks.failed += rep.failed
        ok = checks.failed == 0
    except (Failure, Deadline) as e:
        checks.result(False, "setup", str(e))
    finally:
        signal.alarm(0)
        procs.stop_all()
        if not ok:
            for name in ("engine.log", "gen.log", "prometheus.log"):
                path = os.path.join(tmp, name)
                if os.path.exists(path):
                    with open(path, encoding="utf-8", errors="replace") as f:
                        tail = f.read().splitlines()[-15:]
                    print(f"--- last lines of {name}:")
                    print("\n".join(tail))
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"prometheus_integration: {checks.passed} passed, {checks.failed} failed")
    return 0 if checks.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
