"""The assembly model the review tools read: every stack of a synthesized cloud assembly with its template, the
compliance validation report, and how a template value reads for a person. Standard library only."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

#: the resource type aws-cdk-lib's EKS clusters apply Kubernetes manifests with
KUBERNETES_RESOURCE = "Custom::AWSCDK-EKS-KubernetesResource"


def kubernetes_manifests(resources: Iterable[tuple[str, Mapping]]) -> list[tuple[str, dict]]:
    """(logical id, manifest) of every Kubernetes manifest among (logical id, resource) pairs, references as `show`
    reads them; a manifest that is not JSON once shown is skipped."""
    found = []
    for lid, resource in resources:
        if resource.get("Type") != KUBERNETES_RESOURCE:
            continue
        try:
            manifests = json.loads(show(resource["Properties"].get("Manifest", "[]")))
        except json.JSONDecodeError:
            continue
        found += [(lid, manifest) for manifest in manifests if isinstance(manifest, Mapping)]
    return found


@dataclass
class StackTemplate:
    """One synthesized stack: its display path (``Dev/Cluster``), CloudFormation name and template."""

    path: str
    name: str
    template: dict
    termination_protection: bool = False
    #: display paths of the stacks deployed before this one
    dependencies: tuple[str, ...] = ()
    #: the assembly's metadata of this stack: construct path -> entries (logical ids, the app's build record)
    metadata: dict[str, list[dict]] = field(default_factory=dict)
    #: the template's file in the cloud assembly
    template_file: Path | None = None
    #: the account/region environment (``aws://ACCOUNT/REGION``; ``unknown-…`` for an environment-agnostic stack)
    environment: str = ""

    @property
    def region(self) -> str | None:
        """The region the stack is bound to (None: environment-agnostic)."""
        region = self.environment.rsplit("/", 1)[-1] if self.environment else ""
        return region if region and not region.startswith("unknown-") else None

    @property
    def resources(self) -> dict[str, dict]:
        return self.template.get("Resources", {})

    def construct_path(self, logical_id: str) -> str:
        """The construct path of a resource, from the assembly's metadata (templates carry no aws:cdk:path here)."""
        for path, entries in self.metadata.items():
            if any(e.get("type") == "aws:cdk:logicalId" and e.get("data") == logical_id for e in entries):
                return path.lstrip("/")
        return ""


@dataclass
class Review:
    stacks: list[StackTemplate]
    validation: dict | None = None
    checkov_skips: list[tuple[str, str]] = field(default_factory=list)
    #: results of checks run outside the synth (``results/<tool>.json``): tool -> its record
    results: dict[str, dict] = field(default_factory=dict)

    def manifests(self) -> list[tuple[str, dict]]:
        """(logical id, manifest) of every Kubernetes manifest the templates apply, references as `show` reads them."""
        return kubernetes_manifests((lid, resource) for _, lid, resource in self.resources(KUBERNETES_RESOURCE))

    def resources(self, *types: str) -> list[tuple[StackTemplate, str, dict]]:
        return [
            (stack, logical_id, resource)
            for stack in self.stacks
            for logical_id, resource in stack.resources.items()
            if not types or resource["Type"] in types
        ]


def build_environment(project: Mapping) -> dict[str, str]:
    """A CodeBuild project's environment variables (name -> value, as `show` reads it)."""
    variables = project.get("Properties", {}).get("Environment", {}).get("EnvironmentVariables", [])
    return {v.get("Name"): show(v.get("Value")) for v in variables}


def public_instances(review: "Review") -> list[str]:
    """Logical ids of the EC2 instances with a public IP address."""
    return [lid for _, lid, r in review.resources("AWS::EC2::Instance")
            if any(n.get("AssociatePublicIpAddress") for n in r["Properties"].get("NetworkInterfaces", []))]


def load_stacks(assembly_dir: Path) -> list[StackTemplate]:
    """Every stack of the cloud assembly, nested stage assemblies included, in manifest order."""
    manifest = json.loads((assembly_dir / "manifest.json").read_text())
    artifacts = manifest.get("artifacts", {})
    stacks = []
    for artifact_id, artifact in artifacts.items():
        properties = artifact.get("properties", {})
        if artifact["type"] == "cdk:cloud-assembly":
            stacks += load_stacks(assembly_dir / properties["directoryName"])
        elif artifact["type"] == "aws:cloudformation:stack":
            stacks.append(
                StackTemplate(
                    path=artifact.get("displayName", artifact_id),
                    name=properties.get("stackName", artifact_id),
                    template=json.loads((assembly_dir / properties["templateFile"]).read_text()),
                    termination_protection=bool(properties.get("terminationProtection")),
                    dependencies=tuple(
                        artifacts[d].get("displayName", d) for d in artifact.get("dependencies", [])
                        if artifacts.get(d, {}).get("type") == "aws:cloudformation:stack"
                    ),
                    metadata=_metadata(assembly_dir, artifact),
                    environment=artifact.get("environment", ""),
                    template_file=assembly_dir / properties["templateFile"],
                )
            )
    return stacks


def _metadata(assembly_dir: Path, artifact: Mapping) -> dict[str, list[dict]]:
    """A stack's metadata: inline in the manifest, or in the file it names (newer assemblies)."""
    metadata = dict(artifact.get("metadata", {}))
    extra = artifact.get("additionalMetadataFile")
    if extra and (assembly_dir / extra).exists():
        metadata.update(json.loads((assembly_dir / extra).read_text()))
    return metadata


def load_review(assembly_dir: Path, checkov_config: Path | None = None) -> Review:
    report = assembly_dir / "validation-report.json"
    return Review(
        stacks=load_stacks(assembly_dir),
        validation=json.loads(report.read_text()) if report.exists() else None,
        checkov_skips=checkov_skips(checkov_config) if checkov_config and checkov_config.exists() else [],
        results=load_results(assembly_dir),
    )


#: where checks that run outside the synth (cfn-lint, checkov, Control Tower) leave their results in the assembly
RESULTS_DIR = "results"


def template_digests(assembly_dir: Path) -> dict[str, str]:
    """sha256 of each stack template of the assembly, by its path in the assembly (none without a manifest)."""
    if not (Path(assembly_dir) / "manifest.json").exists():
        return {}
    return {
        stack.template_file.relative_to(assembly_dir).as_posix(): hashlib.sha256(stack.template_file.read_bytes()).hexdigest()
        for stack in load_stacks(Path(assembly_dir))
    }


def load_results(assembly_dir: Path) -> dict[str, dict]:
    """Each tool's recorded results (``results/<tool>.json``); a file that cannot be read, or that was recorded on
    other templates than the assembly's (a synth since), counts as not run."""
    results = {}
    current = None
    for path in sorted((Path(assembly_dir) / RESULTS_DIR).glob("*.json")):
        try:
            data = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):
            continue
        if isinstance(data, Mapping) and "templates" in data:
            current = template_digests(assembly_dir) if current is None else current
            if data["templates"] != current:
                continue
        if isinstance(data, Mapping):
            results[path.stem] = dict(data)
    return results


def checkov_skips(config: Path) -> list[tuple[str, str]]:
    """(check id, reason) of each ``skip-check`` entry of a checkov config; the reason is the entry's comment."""
    skips, in_list = [], False
    for line in config.read_text().splitlines():
        if re.match(r"^skip-check:\s*$", line):
            in_list = True
            continue
        if in_list:
            entry = re.match(r"^\s+-\s+(\S+)\s*(?:#\s*(.*))?$", line)
            if entry:
                skips.append((entry.group(1), (entry.group(2) or "").strip()))
            elif line.strip() and not line.lstrip().startswith("#"):
                in_list = False
    return skips


def show(value: Any) -> str:
    """A template value as a reviewer reads it: references by logical id, imports by export name."""
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping) and len(value) == 1:
        (key, arg), = value.items()
        if key == "Ref":
            return {"AWS::AccountId": "<account>", "AWS::Region": "<region>", "AWS::Partition": "<partition>"}.get(
                arg, f"<{arg}>"
            )
        if key == "Fn::GetAtt":
            return f"<{'.'.join(arg) if isinstance(arg, list) else arg}>"
        if key == "Fn::ImportValue":
            return f"<import {show(arg)}>"
        if key == "Fn::Join":
            return show(arg[0]).join(show(part) for part in arg[1]) if isinstance(arg[1], list) else show(arg[1])
        if key == "Fn::Sub":
            return re.sub(r"\$\{AWS::(\w+)\}", lambda m: f"<{m.group(1).lower()}>", arg if isinstance(arg, str) else arg[0])
        if key == "Fn::Split":
            return f"split({show(arg[0])}, {show(arg[1])})"
        if key == "Fn::Select":
            if isinstance(arg[1], Mapping) and "Fn::GetAZs" in arg[1]:
                return f"<availability zone {int(arg[0]) + 1} of the region>"
            return f"{show(arg[1])}[{arg[0]}]"
        if key == "Fn::If":
            return f"if {arg[0]}: {show(arg[1])}"
        if key == "Fn::FindInMap" and isinstance(arg, list) and len(arg) == 3:
            return f"<{arg[0]}[{show(arg[1])}].{show(arg[2])}>"
    if isinstance(value, list):
        return ", ".join(show(v) for v in value)
    if isinstance(value, Mapping):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def stack_record(review: "Review", kind: str) -> tuple[StackTemplate, dict] | None:
    """The first stack whose own metadata holds an entry of type `kind` (a record the app wrote), with its data."""
    for stack in review.stacks:
        for entry in stack.metadata.get(f"/{stack.path}", []):
            if entry.get("type") == kind:
                return stack, entry.get("data") or {}
    return None


#: the rule every stack of the platform carries with the regions it admits (blocks/regions.py writes it)
REGION_RULE = "SupportedRegion"


def admitted_by(template: Mapping) -> list[str] | None:
    """The regions a template's region rule admits (None: it has no such rule)."""
    for assertion in template.get("Rules", {}).get(REGION_RULE, {}).get("Assertions", []):
        contains = assertion.get("Assert", {}).get("Fn::Contains")
        if contains and contains[1] == {"Ref": "AWS::Region"}:
            return list(contains[0])
    return None


def region_mappings(templates: Iterable[Mapping]) -> dict[str, Mapping]:
    """The templates' Mappings by name, all stacks together (values read per region: ``in_region``)."""
    return {name: rows for template in templates for name, rows in template.get("Mappings", {}).items()}


def in_region(value: Any, mappings: Mapping[str, Mapping], region: str) -> tuple[Any, str | None]:
    """A property's value in `region`: itself, or the mapping's row for `region` when it is read per region
    (``Fn::FindInMap [name, Ref AWS::Region, key]``); and that mapping's name (None: not per region)."""
    arg = value.get("Fn::FindInMap") if isinstance(value, Mapping) else None
    if isinstance(arg, list) and len(arg) == 3 and arg[1] == {"Ref": "AWS::Region"} and arg[0] in mappings:
        return mappings[arg[0]].get(region, {}).get(arg[2]), arg[0]
    return value, None
