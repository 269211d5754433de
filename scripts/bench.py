#!/usr/bin/env python3
"""Benchmark: synth time of the default app as `make synth` runs it against a bare aws-cdk-lib private
FargateCluster (same CDK CLI from node_modules, same cdk.json context, fresh output directories, runs alternating so
both see the same machine load), like for like: aws-cdk-lib's built-in CloudFormation validation off on both sides
(as `make synth` runs; CDK_VALIDATION), then on on both; the deploy's longest path (default app and three application
profiles), the test suite's wall time and resource counts per stack. Targets: synth ratio <= 1.5x (validation off on
both sides, as make synth runs), longest path <= 20.5 min, suite <= 60 s.

Usage: scripts/bench.py [--runs N] [--no-suite]
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
ENV = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}", CDK_DISABLE_CLI_TELEMETRY="true",
           AWS_EC2_METADATA_DISABLED="true")
#: the CDK CLI from node_modules on the venv's Node, as scripts/cdk.py (make synth) runs it
CLI = [str(BIN / "node"), str(ROOT / "node_modules" / "aws-cdk" / "bin" / "cdk")]
THREE_PROFILES = '[{"namespace": "custom-space"}, {"namespace": "team-a"}, {"namespace": "team-b"}]'

BARE = """
import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2, aws_eks_v2 as eks
from aws_cdk.lambda_layer_kubectl_v36 import KubectlV36Layer
import os
# aws-cdk-lib's built-in validation as app.py sets it (CDK_VALIDATION), so both sides compare like for like
app = cdk.App(builtin_cloud_formation_validation=os.environ.get("CDK_VALIDATION", "").lower() == "true")
stack = cdk.Stack(app, "Bare")
vpc = ec2.Vpc(stack, "Vpc", max_azs=2, nat_gateways=0,
              subnet_configuration=[ec2.SubnetConfiguration(name="p", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)])
eks.FargateCluster(stack, "Cluster", version=eks.KubernetesVersion.V1_36, vpc=vpc,
                   vpc_subnets=[ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)],
                   endpoint_access=eks.EndpointAccess.PRIVATE,
                   kubectl_provider_options=eks.KubectlProviderOptions(kubectl_layer=KubectlV36Layer(stack, "L")))
app.synth()
"""


def cpu_seconds() -> float:
    """User + system CPU time of every finished child process (and theirs): robust against other load."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def synth(extra: list[str], bare: Path | None = None, env: dict | None = None) -> tuple[float, float, Path]:
    """One synth into a fresh output directory: the app exactly as `make synth` runs it (scripts/cdk.py synth, which
    runs `cdk synth 'Dev/*' --quiet`), or the bare app by the same CLI (`cdk synth --quiet --app ...`). Wall seconds,
    CPU seconds and the directory."""
    outdir = Path(tempfile.mkdtemp(prefix="bench-"))
    atexit.register(shutil.rmtree, outdir, True)  # a cloud assembly is about 60 MB; a bench makes 21
    if bare is None:
        command = [sys.executable, str(ROOT / "scripts" / "cdk.py"), "synth", "--env", "", "--", "-o", str(outdir), *extra]
    else:
        command = [*CLI, "synth", "--quiet", "--app", f"{sys.executable} {bare}", "-o", str(outdir), *extra]
    start, cpu = time.perf_counter(), cpu_seconds()
    subprocess.run(command, cwd=ROOT, env={**ENV, **(env or {})}, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return time.perf_counter() - start, cpu_seconds() - cpu, outdir


def machine() -> str:
    """When and where the numbers below were measured: date, CPU model, cores, the load when the bench started."""
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor() or platform.machine()) \
        if Path("/proc/cpuinfo").exists() else platform.processor() or platform.machine()
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    return (f"measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {model}, {os.cpu_count()} cores, "
            f"{platform.system()} {platform.release()}; load average at start {load}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5, help="synth runs of each side (alternating)")
    parser.add_argument("--no-suite", action="store_true", help="skip the test suite's wall time")
    args = parser.parse_args()
    print(machine())
    sys.path.insert(0, str(ROOT))
    from private_eks_fargate.review.assembly import load_stacks
    from private_eks_fargate.review.deploy_path import longest_path

    bare_app = Path(tempfile.mkdtemp(prefix="bench-bare-")) / "bare.py"
    atexit.register(shutil.rmtree, bare_app.parent, True)
    bare_app.write_text(BARE)
    synth([])  # warm-up: file caches and jsii's package cache, for both sides
    sides = {  # (bare, app) runs per validation setting, each run (wall, CPU)
        "off": ([], []),  # as make synth runs: app.py leaves it off (cfn-lint checks the templates in make test)
        "on": ([], []),  # CDK_VALIDATION=true on both
    }
    app_out = None
    for _ in range(args.runs):
        for validation, (bare, full) in sides.items():
            env = {"CDK_VALIDATION": "true" if validation == "on" else "false"}
            bare.append(synth([], bare=bare_app, env=env)[:2])
            *seconds, out = synth([], env=env)
            full.append(tuple(seconds))
            app_out = out if validation == "off" else app_out

    def median(runs: list, index: int) -> float:
        return statistics.median(run[index] for run in runs)

    for validation, (bare, full) in sides.items():
        for name, runs in (("bare FargateCluster (cdk synth)", bare), ("default app as `make synth` runs it", full)):
            print(f"synth, validation {validation:3s}: {name:36s} wall {median(runs, 0):6.2f} s, CPU {median(runs, 1):6.2f} s "
                  f"(medians of {args.runs}; wall {' '.join(f'{w:.2f}' for w, _ in runs)})")
    for validation, (bare, full) in sides.items():
        ratio, cpu_ratio = median(full, 0) / median(bare, 0), median(full, 1) / median(bare, 1)
        target = f" (target <= 1.5x) {'OK' if ratio <= 1.5 else 'OVER'}" if validation == "off" else ""
        print(f"synth ratio, built-in validation {validation} on both sides: {ratio:.2f}x wall{target}; {cpu_ratio:.2f}x CPU")
    report = app_out / "review" / "REVIEW.md"
    print(f"review report and diagram written: {report.is_file() and (report.parent / 'architecture.svg').is_file()}")

    default_path = longest_path(load_stacks(app_out))
    three_path = longest_path(load_stacks(synth(["-c", f"cluster.app_profiles={THREE_PROFILES}"])[2]))
    print(f"longest deploy path, default app (1 application profile): {default_path.describe()}")
    print(f"longest deploy path, 3 application profiles:              {three_path.describe()}")
    print(f"  target <= 20.5 min: {'OK' if default_path.minutes <= 20.5 else 'OVER'}; growth per extra profile "
          f"{(three_path.minutes - default_path.minutes) / 2:.2f} min (< 2.5)")

    if not args.no_suite:
        start = time.perf_counter()
        subprocess.run([str(BIN / "pytest"), "-q", "-p", "no:cacheprovider"], cwd=ROOT, env=ENV, check=True,
                       stdout=subprocess.DEVNULL)
        suite = time.perf_counter() - start
        print(f"test suite wall time: {suite:6.1f} s (target <= 60 s) {'OK' if suite <= 60 else 'OVER'}")
    for template in sorted(app_out.rglob("*.template.json")):
        count = len(json.loads(template.read_text())["Resources"])
        print(f"resources {template.name.removesuffix('.template.json')}: {count}")


if __name__ == "__main__":
    main()
