"""The region rule: a stage's templates refuse, before any resource is created, the regions they cannot be deployed in;
a stage bound to a region it cannot be deployed in stops at synth with one line."""

from __future__ import annotations

from typing import Callable, Sequence

import jsii
from aws_cdk import Aws, CfnResource, CfnRule, Fn, IStableListProducer, IStableStringProducer, Lazy, Stack, Token
from constructs import Construct, IValidation

from ..regions import CFN_LINT_VERSION, Needs, missing, refusals, supported_regions
from ..settings.errors import ConfigError

RULE_ID = "SupportedRegion"
CFN_LINT_METADATA = "cfn-lint"
#: where the table of regions, and what each lacks, is
REGIONS_DOC = "docs/regions.md"


def resource_types(stacks: Sequence[Stack]) -> frozenset[str]:
    """The CloudFormation resource types defined in `stacks` (custom resources left out: they exist everywhere)."""
    found = set()
    for stack in stacks:
        for construct in stack.node.find_all():
            if isinstance(construct, CfnResource):
                kind = construct.cfn_resource_type
                if not kind.startswith("Custom::") and kind != "AWS::CloudFormation::CustomResource":
                    found.add(kind)
    return frozenset(found)


@jsii.implements(IStableListProducer)
class _Regions:
    def __init__(self, guard: RegionGuard) -> None:
        self.guard = guard

    def produce(self, context=None) -> list[str]:  # noqa: ARG002
        return supported_regions(self.guard.needs())


@jsii.implements(IStableStringProducer)
class _Description:
    def __init__(self, guard: RegionGuard) -> None:
        self.guard = guard

    def produce(self, context=None) -> str:  # noqa: ARG002
        return self.guard.description()


@jsii.implements(IValidation)
class _SynthCheck:
    def __init__(self, guard: RegionGuard) -> None:
        self.guard = guard

    def validate(self) -> list[str]:
        return [m.line for region in self.guard.bound_regions() for m in missing(region, self.guard.needs())]


class RegionGuard(Construct):
    """Puts into each of `stacks` a CloudFormation rule (``Rules.SupportedRegion``) that admits only the regions where
    everything the stacks hold exists: every resource type (cfn-lint's region data), the bastion's instance type, enough
    availability zones of the kind the network places its subnets in. The regions are read from the stacks' resources
    when the templates are written, so a resource added after this construct counts too.

    A stack bound to a region that lacks something raises ``ConfigError`` at construction (``check()``), and a
    validation repeats the check at synth for what was added afterwards.
    """

    def __init__(self, scope: Construct, construct_id: str, *, stacks: Sequence[Stack], needs: Sequence[Callable[[], Needs]] = ()) -> None:
        """
        :param stacks: the stacks of one platform (each gets the rule: whichever is deployed first refuses)
        :param needs: what the parts need besides their resource types (the network's zones, the bastion's instance
            type), each read when the rule is written. default: none
        """
        super().__init__(scope, construct_id)
        self.stacks = list(dict.fromkeys(stacks))
        self._needs = list(needs)
        self._resolved: Needs | None = None
        for stack in self.stacks:
            # one rule per stack; a second platform in the same stack adds its own assertion to it
            rule = stack.node.try_find_child(RULE_ID) or CfnRule(stack, RULE_ID)
            rule.add_assertion(
                Fn.condition_contains(Lazy.list(_Regions(self)), Aws.REGION), Lazy.string(_Description(self))
            )
            # cfn-lint reads the regions to check a template in from its Metadata: `cfn-lint TEMPLATE` (and make
            # review) checks it in every region it admits, or its own region when it is bound to one
            regions = [stack.region] if not Token.is_unresolved(stack.region) else Lazy.list(_Regions(self))
            metadata = dict(stack.template_options.metadata or {})
            stack.template_options.metadata = {**metadata, CFN_LINT_METADATA: {"config": {"regions": regions}}}
        self.node.add_validation(_SynthCheck(self))

    def needs(self) -> Needs:
        """Everything the stacks need from a region (read once, when the first template is written)."""
        if self._resolved is None:
            needs = Needs(resource_types=resource_types(self.stacks))
            for part in self._needs:
                needs = needs.merged(part())
            self._resolved = needs
        return self._resolved

    def bound_regions(self) -> list[str]:
        return sorted({stack.region for stack in self.stacks if not Token.is_unresolved(stack.region)})

    def check(self) -> None:
        """Raise ConfigError (one line) if a stack's own region lacks something; reads the stacks as they are now."""
        self._resolved = None
        try:
            for region in self.bound_regions():
                lacking = missing(region, self.needs())
                if lacking:
                    first = lacking[0]
                    raise ConfigError(first.setting, f"{first.problem} (the regions that have everything: {REGIONS_DOC})")
        finally:
            self._resolved = None

    def description(self) -> str:
        """The rule's message: what each refused region lacks, grouped."""
        groups = [f"{', '.join(regions)}: {text}." for text, regions in refusals(self.needs()).items()]
        return " ".join([
            f"private-eks-fargate: this configuration cannot be deployed in this region ({REGIONS_DOC}).", *groups,
            f"Regions cfn-lint {CFN_LINT_VERSION} has no data for: nothing shows that what the templates use exists there.",
        ])
