"""What CloudFormation's execution role needs to deploy a set of templates: the narrow policy that ``cdk bootstrap
--cloudformation-execution-policies`` takes instead of AdministratorAccess.

Read from the templates and from the AWS resource provider schemas that cfn-lint ships (a test tool: this module is
for ``make execution-policy``, never for synth): for every resource type in the templates, the permissions its
CloudFormation handlers call to create, read, update and delete it; and what CloudFormation itself calls for these
templates: the Lambda function behind each custom resource, and SSM parameters (the bootstrap version check, resolved
AMI ids). Actions on IAM users and groups are left out: the templates attach policies to roles only (``check``).
"""

from __future__ import annotations

import json
from typing import Iterable, Mapping

#: IAM's limit on a customer-managed policy document, in characters without white space
POLICY_SIZE_LIMIT = 6144
HANDLERS = ("create", "read", "update", "delete")
#: what CloudFormation calls itself, by what the templates hold
CUSTOM_RESOURCE_ACTIONS = ("lambda:InvokeFunction",)
SSM_PARAMETER_ACTIONS = ("ssm:GetParameters",)
#: IAM actions on users and groups that resource handlers of AWS::IAM::Policy and ManagedPolicy list
_USER_OR_GROUP = ("User", "Group")
#: resource types whose schema lists no handler permissions (CloudFormation's older, non-registry types): the calls
#: their create, update and delete make, from the service's API reference
NO_HANDLER_SCHEMA = {
    "AWS::CodeBuild::Project": ("codebuild:CreateProject", "codebuild:UpdateProject", "codebuild:DeleteProject",
                                "codebuild:BatchGetProjects", "iam:PassRole"),
}


def resource_types(templates: Iterable[Mapping]) -> set[str]:
    return {r["Type"] for t in templates for r in t.get("Resources", {}).values()}


def handler_permissions(resource_type: str, region: str = "us-east-1") -> set[str]:
    """The permissions CloudFormation's handlers of `resource_type` call (empty for custom resources)."""
    from cfnlint.schema import PROVIDER_SCHEMA_MANAGER

    if resource_type.startswith("Custom::") or resource_type == "AWS::CloudFormation::CustomResource":
        return set()
    if resource_type in NO_HANDLER_SCHEMA:
        return set(NO_HANDLER_SCHEMA[resource_type])
    handlers = PROVIDER_SCHEMA_MANAGER.get_resource_schema(region, resource_type).schema.get("handlers", {})
    found = {action for name in HANDLERS for action in handlers.get(name, {}).get("permissions", [])}
    if not found:
        raise ValueError(f"the schema of {resource_type} names no handler permissions; add its calls to NO_HANDLER_SCHEMA")
    return found


def check(templates: Iterable[Mapping]) -> None:
    """Refuse templates that attach IAM policies to users or groups: the policy leaves those actions out."""
    for template in templates:
        for lid, resource in template.get("Resources", {}).items():
            if resource["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
                used = [k for k in ("Users", "Groups") if resource.get("Properties", {}).get(k)]
                if used:
                    raise ValueError(f"{lid} attaches a policy to IAM {used[0].lower()}; the execution policy covers roles only")


def required_actions(templates: list[Mapping]) -> list[str]:
    """Every action the execution role needs for `templates`, sorted."""
    check(templates)
    types = resource_types(templates)
    actions = set().union(*(handler_permissions(t) for t in types)) if types else set()
    actions = {a for a in actions if not (a.startswith("iam:") and any(word in a for word in _USER_OR_GROUP))}
    if any(t.startswith("Custom::") or t == "AWS::CloudFormation::CustomResource" for t in types):
        actions.update(CUSTOM_RESOURCE_ACTIONS)
    text = json.dumps(templates)
    if "AWS::SSM::Parameter::Value" in text or "{{resolve:ssm:" in text:
        actions.update(SSM_PARAMETER_ACTIONS)
    return sorted(actions)


def _size(document: Mapping) -> int:
    return len(json.dumps(document, separators=(",", ":")))


def policy_documents(actions: list[str], sid: str) -> list[dict]:
    """`actions` as as few policy documents as IAM's size limit allows, each service's actions in one document."""
    by_service: dict[str, list[str]] = {}
    for action in actions:
        by_service.setdefault(action.split(":")[0], []).append(action)

    def document(chunk: list[str], index: int) -> dict:
        return {"Version": "2012-10-17", "Statement": [
            {"Sid": f"{sid}{index}", "Effect": "Allow", "Action": chunk, "Resource": "*"}]}

    documents: list[list[str]] = [[]]
    for service in sorted(by_service, key=lambda s: -len(by_service[s])):
        placed = False
        for chunk in documents:
            if _size(document(chunk + by_service[service], 0)) <= POLICY_SIZE_LIMIT:
                chunk.extend(by_service[service])
                placed = True
                break
        if not placed:
            documents.append(list(by_service[service]))
    return [document(sorted(chunk), index + 1) for index, chunk in enumerate(documents) if chunk]
