#!/usr/bin/env python3
"""Static checks of deploy/, and a run of the start command it uses, outside containers.

No container engine runs on the build machines, so the files are checked by parsing them and by linters
from the package registries, when installed (`.ci/run` installs them in a virtualenv):

- hadolint on the Dockerfile;
- yamllint and kubernetes-validate (strict, against the bundled Kubernetes schemas) on the manifests;
- systemd-analyze verify on the unit.

Then the properties the deployment relies on are asserted, and the node's start command is run with
the settings the files give (the data directory and port replaced by temporary ones), against
`--database-url` if given. The node must become ready and stop cleanly on SIGTERM.

Usage: deploy/check.py --binary target/debug/techmarket [--database-url postgres://…] [--tools DIR]
"""

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import yaml

DEPLOY = Path(__file__).resolve().parent
FAILURES = []


def check(condition, message):
    if not condition:
        FAILURES.append(message)
        print(f"FAIL {message}")


def dockerfile():
    """The Dockerfile's instructions as (keyword, argument) pairs, continuation lines joined."""
    text = (DEPLOY / "Dockerfile").read_text()
    text = re.sub(r"\\\n", " ", text)
    instructions = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, argument = line.partition(" ")
        instructions.append((keyword.upper(), argument.strip()))
    return instructions


def check_dockerfile():
    instructions = dockerfile()
    stages = [a for k, a in instructions if k == "FROM"]
    check(len(stages) >= 2, "Dockerfile: a multi-stage build")
    final = max(i for i, (k, _) in enumerate(instructions) if k == "FROM")
    runtime = instructions[final:]
    users = [a for k, a in runtime if k == "USER"]
    check(users and users[-1].split(":")[0] not in ("root", "0"), "Dockerfile: runs as a non-root user")
    check(
        any(k == "COPY" and "--from=builder" in a for k, a in runtime),
        "Dockerfile: the runtime stage copies only the built binary",
    )
    entrypoint = json.loads(next(a for k, a in runtime if k == "ENTRYPOINT"))
    cmd = json.loads(next(a for k, a in runtime if k == "CMD"))
    env = {}
    for k, a in runtime:
        if k == "ENV":
            for name, value in re.findall(r"(\w+)=(\S+)", a):
                env[name] = value
    check(entrypoint == ["/usr/local/bin/techmarket"] and cmd == ["serve"], "Dockerfile: techmarket serve")
    check(env.get("TECHMARKET_DEMO_DATA") == "false", "Dockerfile: no demo data in production")
    return cmd, env


def load_yaml(path):
    with open(path) as f:
        return [d for d in yaml.safe_load_all(f) if d]


def check_kubernetes():
    documents = [d for p in sorted((DEPLOY / "k8s").glob("*.yaml")) for d in load_yaml(p)]
    by_kind = {}
    for d in documents:
        by_kind.setdefault(d["kind"], []).append(d)
    deployment = by_kind["Deployment"][0]
    spec = deployment["spec"]
    check(spec["replicas"] >= 2, "k8s: at least 2 replicas")
    container = spec["template"]["spec"]["containers"][0]
    check(container["readinessProbe"]["httpGet"]["path"] == "/readyz", "k8s: readiness on /readyz")
    check(container["livenessProbe"]["httpGet"]["path"] == "/healthz", "k8s: liveness on /healthz")
    check(container["args"] == ["serve"], "k8s: the pods run techmarket serve")
    database = [e for e in container.get("env", []) if e["name"] == "DATABASE_URL"]
    check(
        database and "secretKeyRef" in database[0].get("valueFrom", {}),
        "k8s: DATABASE_URL from a Secret",
    )
    volumes = {v["name"]: v for v in spec["template"]["spec"]["volumes"]}
    data_mount = [m for m in container["volumeMounts"] if m["mountPath"] == "/var/lib/techmarket"]
    check(
        data_mount and "emptyDir" in volumes[data_mount[0]["name"]],
        "k8s: the index on a per-pod volume",
    )
    check(
        spec["template"]["spec"]["securityContext"].get("runAsNonRoot") is True,
        "k8s: pods run as non-root",
    )
    job = by_kind["Job"][0]
    job_container = job["spec"]["template"]["spec"]["containers"][0]
    check(job_container["args"] == ["migrate"], "k8s: a migration Job")
    check(job_container["image"] == container["image"], "k8s: the Job migrates with the pods' image")
    configmap = by_kind["ConfigMap"][0]["data"]
    return container["args"], dict(configmap)


def check_compose():
    compose = load_yaml(DEPLOY / "compose" / "compose.yaml")[0]
    services = compose["services"]
    apps = [s for name, s in services.items() if name.startswith("app")]
    check(len(apps) >= 2, "compose: two app nodes")
    volumes = [tuple(s.get("volumes", [])) for s in apps]
    check(len(set(volumes)) == len(apps), "compose: each node has its own index volume")
    check("postgres" in services and "proxy" in services, "compose: PostgreSQL and a reverse proxy")
    check(services["migrate"]["command"] == ["migrate"], "compose: a migration before the nodes")
    env = dict(apps[0]["environment"])
    check(env.get("DATABASE_URL", "").startswith("postgres://"), "compose: the nodes use PostgreSQL")
    nginx = (DEPLOY / "compose" / "nginx.conf").read_text()
    for name in services:
        if name.startswith("app"):
            check(f"server {name}:8080" in nginx, f"compose: nginx proxies to {name}")
    return apps[0]["command"], {k: str(v) for k, v in env.items() if k != "DATABASE_URL"}


def check_systemd(binary):
    unit = (DEPLOY / "techmarket.service").read_text()
    exec_start = re.search(r"^ExecStart=(.+)$", unit, re.M).group(1).split()
    env = dict(re.findall(r"^Environment=(\w+)=(\S+)$", unit, re.M))
    check(exec_start == ["/usr/local/bin/techmarket", "serve"], "systemd: techmarket serve")
    check("KillSignal=SIGTERM" in unit, "systemd: stops with SIGTERM (graceful)")
    if shutil.which("systemd-analyze"):
        with tempfile.TemporaryDirectory() as tmp:
            copy = Path(tmp) / "techmarket.service"
            copy.write_text(unit.replace("/usr/local/bin/techmarket", str(Path(binary).resolve())))
            result = subprocess.run(
                ["systemd-analyze", "verify", str(copy)], capture_output=True, text=True
            )
            # Unknown keys are only warnings (exit code 0): any line about the unit is a failure.
            problems = [
                line for line in (result.stdout + result.stderr).splitlines() if "techmarket.service" in line
            ]
            check(
                result.returncode == 0 and not problems,
                f"systemd-analyze verify: {result.returncode} {problems}",
            )
    return exec_start[1:], env


def lint(tools):
    def tool(name):
        path = Path(tools) / name if tools else None
        return str(path) if path and path.exists() else shutil.which(name)

    if hadolint := tool("hadolint"):
        result = subprocess.run([hadolint, str(DEPLOY / "Dockerfile")], capture_output=True, text=True)
        check(result.returncode == 0, f"hadolint: {result.stdout}{result.stderr}")
    else:
        print("skip hadolint (not installed)")
    if yamllint := tool("yamllint"):
        config = "{extends: default, rules: {line-length: {max: 120}, document-start: disable}}"
        files = [str(p) for p in sorted((DEPLOY / "k8s").glob("*.yaml"))]
        files.append(str(DEPLOY / "compose" / "compose.yaml"))
        result = subprocess.run([yamllint, "-d", config, *files], capture_output=True, text=True)
        check(result.returncode == 0, f"yamllint: {result.stdout}{result.stderr}")
    else:
        print("skip yamllint (not installed)")
    if validate := tool("kubernetes-validate"):
        files = [str(p) for p in sorted((DEPLOY / "k8s").glob("*.yaml"))]
        result = subprocess.run([validate, "--strict", "--quiet", *files], capture_output=True, text=True)
        check(result.returncode == 0, f"kubernetes-validate: {result.stdout}{result.stderr}")
    else:
        print("skip kubernetes-validate (not installed)")


def run_node(binary, args, env, database_url, label):
    """Starts the node as the file would, on a temporary data directory and a free port; it must
    become ready and exit 0 on SIGTERM."""
    with tempfile.TemporaryDirectory() as data:
        environment = {k: v for k, v in os.environ.items() if not k.startswith("TECHMARKET_")}
        environment.pop("DATABASE_URL", None)
        environment.update(env)
        environment["TECHMARKET_DATA_DIR"] = data
        environment["TECHMARKET_LISTEN"] = "127.0.0.1:0"
        if environment.get("TECHMARKET_METRICS_LISTEN"):
            environment["TECHMARKET_METRICS_LISTEN"] = "127.0.0.1:0"
        if database_url:
            environment["DATABASE_URL"] = database_url
        node = subprocess.Popen(
            [binary, *args], env=environment, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
        )
        address = None
        deadline = time.time() + 60
        while time.time() < deadline and address is None:
            line = node.stdout.readline()
            if not line:
                break
            if line.startswith("listening on "):
                address = line.split()[-1]
        ready = False
        while address and time.time() < deadline and not ready:
            try:
                with urllib.request.urlopen(f"{address}/readyz", timeout=2) as response:
                    ready = response.status == 200
            except OSError:
                time.sleep(0.2)
        node.send_signal(signal.SIGTERM)
        try:
            code = node.wait(timeout=30)
        except subprocess.TimeoutExpired:
            node.kill()
            code = None
        check(address is not None, f"{label}: the node printed its address")
        check(ready, f"{label}: the node became ready")
        check(code == 0, f"{label}: SIGTERM stops the node with exit code 0 (got {code})")
        print(f"ok   {label}: {' '.join(args)} with {sorted(env)} served at {address} and stopped")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", required=True)
    parser.add_argument("--database-url")
    parser.add_argument("--tools", help="directory holding hadolint, yamllint, kubernetes-validate")
    options = parser.parse_args()
    lint(options.tools)
    starts = {
        "Dockerfile": check_dockerfile(),
        "Kubernetes": check_kubernetes(),
        "compose": check_compose(),
        "systemd": check_systemd(options.binary),
    }
    for label, (args, env) in starts.items():
        run_node(options.binary, args, env, options.database_url, label)
    if FAILURES:
        print(f"{len(FAILURES)} deploy check(s) failed")
        return 1
    print("deploy checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
