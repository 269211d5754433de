"""blocks/timeouts.py: every custom resource has a ServiceTimeout just above the longest wait its handler runs, so a lost
answer fails the resource within minutes instead of CloudFormation's hour."""

import pytest
from aws_cdk import Duration
from private_eks_fargate.blocks.image_mirror import COPY_TIMEOUT, HANDLER_TIMEOUT
from private_eks_fargate.blocks.timeouts import KUBECTL_HANDLER, RESPONSE_MARGIN, service_timeout

KUBECTL_APPLY = {"Custom::AWSCDK-EKS-KubernetesResource", "Custom::AWSCDK-EKS-KubernetesPatch"}
MARGIN = RESPONSE_MARGIN.to_seconds()


def custom_resources(synth):
    return [(stack, key, resource) for stack, template in synth.templates.items()
            for key, resource in template["Resources"].items()
            if resource["Type"].startswith("Custom::") or resource["Type"] == "AWS::CloudFormation::CustomResource"]


def handler_timeout(template, handler):
    """The Timeout of the one Lambda function of `template` with this handler entry point."""
    (function,) = [r for r in template["Resources"].values()
                   if r["Type"] == "AWS::Lambda::Function" and r["Properties"]["Handler"] == handler]
    return function["Properties"]["Timeout"]


@pytest.mark.parametrize("config", ["default", "existing-vpc", "user-stack", "public-bastion", "bare"])
def test_every_custom_resource_fails_just_after_its_handler_must_have_answered(all_synths, bare_platform_app, config):
    synth = bare_platform_app if config == "bare" else all_synths[config]
    found = custom_resources(synth)
    assert found
    kinds = set()
    for stack, key, resource in found:
        props, template = resource["Properties"], synth.templates[stack]
        timeout = int(props["ServiceTimeout"])  # aws-cdk-lib's CustomResource writes it as a string
        assert 1 <= timeout <= 3600, key
        kinds.add(resource["Type"])
        if resource["Type"] == "Custom::AWSCDK-EKS-KubernetesObjectValue":
            # the wait polls TimeoutSeconds after logging in, then answers (the margin: login, last poll, response)
            assert timeout == props["TimeoutSeconds"] + MARGIN, key
        elif resource["Type"] in KUBECTL_APPLY:
            # apply and patch wait for nothing of their own: the handler Lambda's limit bounds them
            assert handler_timeout(template, "index.handler") == KUBECTL_HANDLER.to_seconds()
            assert timeout == KUBECTL_HANDLER.to_seconds() + MARGIN, key
        else:
            assert resource["Type"] == "Custom::ImageCopy", key
            # the copy handler polls the build (which CodeBuild stops first) until its own Lambda limit
            assert handler_timeout(template, "index.on_event") == HANDLER_TIMEOUT.to_seconds() > COPY_TIMEOUT.to_seconds()
            assert timeout == HANDLER_TIMEOUT.to_seconds() + MARGIN, key
    expected = {"Custom::AWSCDK-EKS-KubernetesResource", "Custom::AWSCDK-EKS-KubernetesObjectValue", "Custom::AWSCDK-EKS-KubernetesPatch"}
    assert kinds >= expected and kinds <= expected | {"Custom::ImageCopy"}
    assert ("Custom::ImageCopy" in kinds) == (config != "bare")  # the bare platform has no sample app to copy


def test_manifests_added_around_the_api_get_one_too(default_app):
    """The aws-logging ConfigMap is added with aws-cdk-lib's own Cluster.add_manifest: the stack's aspect reaches it."""
    from conftest import manifest

    key, _ = manifest(default_app, "Dev/Cluster", "ConfigMap", "aws-logging")
    assert default_app.resources("Dev/Cluster")[key]["Properties"]["ServiceTimeout"] == 1020


def test_a_timeout_beyond_cloudformations_hour_is_refused():
    assert service_timeout(Duration.minutes(10)).to_seconds() == 720
    assert service_timeout(Duration.minutes(58)).to_seconds() == 3600
    with pytest.raises(ValueError, match="outside CloudFormation's 1 to 3600 s"):
        service_timeout(Duration.minutes(59))


def test_each_wait_s_timeout_follows_its_setting(tmp_path):
    """Waits shorter than the defaults: each ServiceTimeout is its own TimeoutSeconds plus the margin, not a default's."""
    from conftest import stage_builder, synthesize

    context = {"cluster.coredns_ready_timeout_minutes": "5", "workloads.ready_timeout_minutes": "3"}
    synth = synthesize(tmp_path, stage_builder(context, compliance_checks=False), context)
    waits = {key: props for _, key, resource in custom_resources(synth)
             if resource["Type"] == "Custom::AWSCDK-EKS-KubernetesObjectValue" for props in [resource["Properties"]]}
    assert len(waits) == 2
    timeouts = {("CoreDns" if "CoreDns" in key else "SampleApp"): (props["TimeoutSeconds"], int(props["ServiceTimeout"]))
                for key, props in waits.items()}
    assert timeouts == {"CoreDns": (300, 300 + MARGIN), "SampleApp": (180, 180 + MARGIN)}
