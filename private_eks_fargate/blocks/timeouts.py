"""How long CloudFormation waits for each custom resource's answer (``ServiceTimeout``) before it fails the resource.

Without it CloudFormation waits 3600 s for a response that was lost (a Lambda that timed out, an endpoint that does not
answer), and as long again on rollback. Each custom resource here gets the longest wait its handler runs plus
``RESPONSE_MARGIN``: a handler that answers is never cut off, one that does not fails within minutes.
"""

from __future__ import annotations

import jsii
from aws_cdk import Aspects, CfnResource, Duration, IAspect, Stack
from constructs import IConstruct

#: aws-cdk-lib's kubectl handler Lambda stops after 15 minutes (its Timeout), and the provider framework Lambda that
#: waits for it has the same limit: no kubectl custom resource can answer later than this.
KUBECTL_HANDLER = Duration.minutes(15)
#: Above the handler's own wait: its cold start and `aws eks update-kubeconfig`, the last kubectl call, the sleep
#: between polls (10 s), and the provider framework's PUT of the answer to CloudFormation's S3 URL.
RESPONSE_MARGIN = Duration.minutes(2)
#: CloudFormation's limit (and default) for ServiceTimeout.
SERVICE_TIMEOUT_LIMIT = Duration.hours(1)

KUBECTL_WAIT = "Custom::AWSCDK-EKS-KubernetesObjectValue"
#: The kubectl provider's types whose handler waits for nothing of its own: apply, patch, helm (bounded by the Lambda).
KUBECTL_APPLY = ("Custom::AWSCDK-EKS-KubernetesResource", "Custom::AWSCDK-EKS-KubernetesPatch", "Custom::AWSCDK-EKS-HelmChart")


def service_timeout(longest_wait: Duration) -> Duration:
    """What a custom resource whose handler waits at most `longest_wait` gets (CloudFormation allows 1 to 3600 s)."""
    seconds = longest_wait.to_seconds() + RESPONSE_MARGIN.to_seconds()
    if not 1 <= seconds <= SERVICE_TIMEOUT_LIMIT.to_seconds():
        raise ValueError(f"a ServiceTimeout of {seconds:g} s is outside CloudFormation's 1 to 3600 s")
    return Duration.seconds(seconds)


def kubectl_wait(resource: CfnResource) -> Duration:
    """The longest wait of a kubectl provider resource's handler: a rollout or value wait polls for its
    ``TimeoutSeconds`` (after logging in), every other kubectl call is bounded by the handler Lambda's limit."""
    if resource.cfn_resource_type == KUBECTL_WAIT:
        # the property aws-cdk-lib's KubernetesObjectValue writes from its `timeout` (a number, never a token)
        seconds = resource._cfn_properties["TimeoutSeconds"]  # noqa: SLF001 (CfnResource.cfnProperties, protected)
        return Duration.seconds(min(seconds, KUBECTL_HANDLER.to_seconds()))
    return KUBECTL_HANDLER


@jsii.implements(IAspect)
class _KubectlServiceTimeouts:
    """Sets ServiceTimeout on every kubectl provider custom resource of the stack, also those added with the L2
    cluster's ``add_manifest`` or ``KubernetesManifest`` directly (aws-cdk-lib's constructs have no such option)."""

    def visit(self, node: IConstruct) -> None:
        # a custom resource comes to Python as a plain CfnResource: every other construct of the stack (this aspect
        # visits them all) is passed over without a call into the jsii runtime
        if type(node) is CfnResource and node.cfn_resource_type in (KUBECTL_WAIT, *KUBECTL_APPLY):
            node.add_property_override("ServiceTimeout", int(service_timeout(kubectl_wait(node)).to_seconds()))


def time_out_kubectl_resources(scope: IConstruct) -> None:
    """Give every kubectl custom resource in `scope`'s stack its ServiceTimeout (a second cluster in the stack adds
    the same aspect again, which sets the same values)."""
    Aspects.of(Stack.of(scope)).add(_KubectlServiceTimeouts())
