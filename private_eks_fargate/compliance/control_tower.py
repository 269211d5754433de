"""AWS Control Tower proactive controls as a CDK validation plugin, beside the cdk-nag packs.

The checks themselves are ``review.control_tower`` (AWS's cfn-guard rules from ``cdklabs.cdk-validator-cfnguard`` on
the synthesized templates). A failing control fails the synth like a cdk-nag finding, unless the construct declared,
with ``user_choice()``, that a setting decides that control on that resource: then the results name the setting.
Every run writes its results to ``<cloud assembly>/results/control-tower.json``, which the review report reads.
"""

from __future__ import annotations

import concurrent.futures
import json
from pathlib import Path

import aws_cdk as cdk
import jsii
from constructs import IConstruct

from ..review.control_tower import METADATA_KEY, TOOL, result_record, run_controls
from ..review.summary import record_results

PLUGIN_NAME = "ControlTower"
_ATTRIBUTE = "_private_eks_fargate_control_tower"
#: where the controls run while the other plugins do
_POOL = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="control-tower")


def user_choice(resource: cdk.CfnResource, control: str, setting: str, why: str) -> None:
    """Declare that `setting` decides `control` (``CT.EC2.PR.19``) on `resource`: if the control fails there, it is
    the user's choice of that setting, named in the review report, and not a synth failure."""
    if not cdk.CfnResource.is_cfn_resource(resource):
        raise TypeError(f"declare {control} on the resource itself (a CfnResource), not on {resource.node.path}")
    declared = resource.get_metadata(METADATA_KEY) or {"UserChoice": []}
    declared["UserChoice"].append({"Control": control, "Setting": setting, "Why": why})
    resource.add_metadata(METADATA_KEY, declared)


def assembly_root(template_paths) -> Path:
    """The cloud assembly the templates were written into (a stage's stacks sit in its ``assembly-<stage>``
    directory inside it): where the results go, whatever the app was told its output directory is."""
    directory = Path(next(iter(template_paths))).resolve().parent
    while directory.name.startswith("assembly-"):
        directory = directory.parent
    return directory


def _paths(context: cdk.IPolicyValidationContext) -> dict[str, str]:
    """The context's templates by their stack's construct path (Dev/Cluster), as the review report names them."""
    return {stack.stack_construct_path: stack.template_path for stack in context.stack_templates}


@jsii.implements(cdk.IPolicyValidationPlugin)
class ControlTowerStart:
    """Runs first among the validation plugins: starts the controls (cfn-guard processes) on the templates, so that
    they run while the cdk-nag packs do; ``ControlTowerChecks``, last, reports them. Reports nothing itself."""

    def __init__(self, checks: "ControlTowerChecks") -> None:
        self.checks = checks

    @property
    def name(self) -> str:
        return f"{PLUGIN_NAME}-start"

    @property
    def version(self) -> str:
        return "1.0.0"

    def validate(self, context: cdk.IPolicyValidationContext) -> cdk.PolicyValidationPluginReport:
        self.checks.start(_paths(context))
        return cdk.PolicyValidationPluginReport(success=True, violations=[])


@jsii.implements(cdk.IPolicyValidationPlugin)
class ControlTowerChecks:
    """CDK validation plugin: every proactive control whose resource types the templates have, on every synth.

    One instance per app (``of``): it is called once with the stacks of all its stages, and writes one results file.
    Register ``starter`` before the other plugins and this one after them: the controls then run beside them.
    """

    def __init__(self) -> None:
        self.starter = ControlTowerStart(self)
        self._running: tuple[dict[str, str], concurrent.futures.Future] | None = None

    @classmethod
    def of(cls, scope: IConstruct) -> "ControlTowerChecks":
        """The app's plugin (kept on the app object), created on first use."""
        root = scope.node.root
        plugin = getattr(root, _ATTRIBUTE, None)
        if plugin is None:
            plugin = cls()
            setattr(root, _ATTRIBUTE, plugin)
        return plugin

    @property
    def name(self) -> str:
        return PLUGIN_NAME

    @property
    def version(self) -> str:
        return "1.0.0"

    def start(self, paths: dict[str, str]) -> None:
        """Run the controls on these templates in a thread of their own (cfn-guard processes; no jsii call)."""
        templates = {name: json.loads(Path(path).read_text()) for name, path in paths.items()}
        # two cfn-guard processes at a time: beside the jsii runtime, which runs the cdk-nag packs meanwhile
        self._running = (paths, _POOL.submit(run_controls, templates, workers=2))

    def validate(self, context: cdk.IPolicyValidationContext) -> cdk.PolicyValidationPluginReport:
        paths = _paths(context)
        if self._running is None or self._running[0] != paths:  # no starter ran on these templates
            self.start(paths)
        results = self._running[1].result()
        self._running = None
        if paths:
            record_results(assembly_root(paths.values()), TOOL, **result_record(results))
        by_control: dict[str, list] = {}
        for finding in results.failing:
            by_control.setdefault(finding.control, []).append(finding)
        violations = [
            cdk.PolicyViolation(
                rule_name=control,
                description=f"{findings[0].message} (AWS Control Tower proactive control {control})",
                violating_resources=[
                    cdk.PolicyViolatingResource(locations=["Properties"], resource_logical_id=f.resource,
                                                template_path=paths[f.stack])
                    for f in findings
                ],
                severity="error",
            )
            for control, findings in by_control.items()
        ]
        return cdk.PolicyValidationPluginReport(success=not violations, violations=violations)
