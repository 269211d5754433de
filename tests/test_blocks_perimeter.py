"""blocks/perimeter.py: the strict data perimeter's endpoint policies, and the AWS default without it."""

from conftest import SESSION_PREFERENCES



def _endpoints(synth, stack):
    return {
        e["Metadata"]["Purpose"]["Service"]: e["Properties"]
        for e in synth.resources(stack, "AWS::EC2::VPCEndpoint").values()
    }


def test_default_endpoints_keep_the_aws_default_policy(default_app):
    assert all("PolicyDocument" not in props for props in _endpoints(default_app, "Dev/Endpoints").values())


THIS_ACCOUNT = {"StringEquals": {"aws:PrincipalAccount": {"Ref": "AWS::AccountId"}}}


def test_strict_perimeter_interface_endpoints_admit_only_this_accounts_principals(existing_vpc_app):
    endpoints = _endpoints(existing_vpc_app, "Prod/Endpoints")
    interface = {s: p for s, p in endpoints.items() if p["VpcEndpointType"] == "Interface"}
    assert set(interface) == {
        "ecr.api", "ecr.dkr", "sts", "logs", "ec2", "eks", "lambda", "secretsmanager", "ssm", "ssmmessages", "codebuild",
        "kms",  # the bastion decrypts with the session key of the account's Session Manager preferences
    }
    for service, props in interface.items():
        statements = {s["Sid"]: s for s in props["PolicyDocument"]["Statement"]}
        only = statements.pop("OnlyPrincipalsOfThisAccount")
        assert (only["Effect"], only["Principal"], only["Action"], only["Resource"]) == ("Allow", {"AWS": "*"}, "*", "*")
        assert only["Condition"] == THIS_ACCOUNT
        if service == "sts":
            web = statements.pop("WebIdentityToRolesOfThisAccount")
            assert web["Action"] == "sts:AssumeRoleWithWebIdentity"
            assert web["Resource"] == {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":iam::", {"Ref": "AWS::AccountId"}, ":role/*"]]}
        assert statements == {}, service


def test_strict_perimeter_s3_gateway_admits_only_the_buckets_the_platform_needs(existing_vpc_app):
    s3 = _endpoints(existing_vpc_app, "Prod/Endpoints")["s3"]
    statements = {s["Sid"]: s for s in s3["PolicyDocument"]["Statement"]}
    # the configuration's Session Manager preferences log sessions to a bucket: this account may write to it
    assert set(statements) == {"EcrImageLayers", "CloudFormationCustomResourceResponses", "CdkAssetsOfThisAccount",
                               "SessionManagerLogsOfThisAccount"}
    session = statements["SessionManagerLogsOfThisAccount"]
    bucket = SESSION_PREFERENCES["s3BucketName"]
    assert session["Resource"] == [{"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, f":s3:::{bucket}{tail}"]]} for tail in ("", "/*")]
    assert session["Action"] == ["s3:GetEncryptionConfiguration", "s3:PutObject"] and session["Condition"] == THIS_ACCOUNT
    partition, region, account = {"Ref": "AWS::Partition"}, {"Ref": "AWS::Region"}, {"Ref": "AWS::AccountId"}
    layers = statements["EcrImageLayers"]
    assert (layers["Action"], layers["Resource"]) == (
        "s3:GetObject", {"Fn::Join": ["", ["arn:", partition, ":s3:::prod-", region, "-starport-layer-bucket/*"]]}
    )
    responses = statements["CloudFormationCustomResourceResponses"]
    assert (responses["Action"], responses["Resource"]) == ("s3:PutObject", {"Fn::Join": ["", [
        "arn:", partition, ":s3:::cloudformation-custom-resource-response-",
        {"Fn::Join": ["", {"Fn::Split": ["-", region]}]}, "/*"]]})  # fmt: skip
    assets = statements["CdkAssetsOfThisAccount"]
    assert assets["Resource"] == {"Fn::Join": ["", ["arn:", partition, ":s3:::cdk-hnb659fds-assets-", account, "-", region, "/*"]]}
    assert assets["Condition"] == THIS_ACCOUNT
    assert "Condition" not in layers and "Condition" not in responses  # pre-signed by ECR / CloudFormation
