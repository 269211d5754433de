#!/usr/bin/env python3
"""Benchmark, one run: synth times against a bare aws-cdk-lib private FargateCluster, test-suite wall time,
resource counts per stack. Targets: synth ratio <= 1.5x, suite <= 60 s on 2 cores.

Two ratios, so neither hides the other: the core platform (network, endpoints, cluster, CoreDNS; the scope the
1.5x target was set for) and the default app exactly as `make synth` runs it (plus sample app, bastion, logging,
four cdk-nag packs and the review report with its diagram)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
ENV = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}")

BARE = """
import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2, aws_eks_v2 as eks
from aws_cdk.lambda_layer_kubectl_v36 import KubectlV36Layer
app = cdk.App()
stack = cdk.Stack(app, "Bare")
vpc = ec2.Vpc(stack, "Vpc", max_azs=2, nat_gateways=0,
              subnet_configuration=[ec2.SubnetConfiguration(name="p", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)])
eks.FargateCluster(stack, "Cluster", version=eks.KubernetesVersion.V1_36, vpc=vpc,
                   vpc_subnets=[ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)],
                   endpoint_access=eks.EndpointAccess.PRIVATE,
                   kubectl_provider_options=eks.KubectlProviderOptions(kubectl_layer=KubectlV36Layer(stack, "L")))
app.synth()
"""


#: The three core stacks only: no sample app, bastion or Fargate logging, no compliance packs, no review report.
CORE = """
import aws_cdk as cdk
from private_eks_fargate import (OperationsSettings, PlatformSettings, PrivateEksFargateStage, WorkloadSettings,
                                 settings_from_context)
from dataclasses import replace
app = cdk.App()
settings = replace(settings_from_context(app.node.get_all_context()),
                   workloads=WorkloadSettings(sample_app=False),
                   operations=OperationsSettings(bastion=False, fargate_logging=False))
PrivateEksFargateStage(app, "Dev", settings=settings, compliance_checks=False)
app.synth()
"""


def timed(cmd: list[str], cwd: Path, env: dict) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def median_synth(cmd: list[str], cwd: Path, runs: int = 3) -> tuple[float, Path]:
    times = []
    for _ in range(runs):
        outdir = Path(tempfile.mkdtemp(prefix="bench-"))
        context = json.loads((ROOT / "cdk.json").read_text())["context"]
        env = dict(ENV, CDK_OUTDIR=str(outdir), CDK_CONTEXT_JSON=json.dumps(context))
        times.append(timed(cmd, cwd, env))
    return sorted(times)[len(times) // 2], outdir


def resource_counts(outdir: Path) -> dict[str, int]:
    counts = {}
    for template in sorted(outdir.rglob("*.template.json")):
        counts[template.name.removesuffix(".template.json")] = len(json.loads(template.read_text())["Resources"])
    return counts


def main() -> None:
    bare_dir = Path(tempfile.mkdtemp(prefix="bench-bare-"))
    (bare_dir / "bare.py").write_text(BARE)
    (bare_dir / "core.py").write_text(CORE)
    bare_time, _ = median_synth([sys.executable, str(bare_dir / "bare.py")], bare_dir)
    core_time, _ = median_synth([sys.executable, str(bare_dir / "core.py")], ROOT)
    app_time, app_out = median_synth([sys.executable, "app.py"], ROOT)
    print(f"synth bare FargateCluster:                  {bare_time:6.2f} s (median of 3)")
    print(f"synth core platform (3 stacks, no packs):   {core_time:6.2f} s  ratio {core_time / bare_time:.2f}x "
          f"(target <= 1.5x) {'OK' if core_time / bare_time <= 1.5 else 'OVER'}")
    print(f"synth default app as `make synth` runs it:  {app_time:6.2f} s  ratio {app_time / bare_time:.2f}x "
          f"(target <= 1.5x) {'OK' if app_time / bare_time <= 1.5 else 'OVER'}")
    suite = timed([str(BIN / "pytest"), "-q", "-p", "no:cacheprovider"], ROOT, ENV)
    print(f"test suite wall time: {suite:6.1f} s (target <= 60 s) {'OK' if suite <= 60 else 'OVER'}")
    for stack, count in resource_counts(app_out).items():
        print(f"resources {stack}: {count}")


if __name__ == "__main__":
    main()
