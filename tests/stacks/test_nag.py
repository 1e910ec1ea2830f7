"""stacks.nag: wildcard acknowledgements named by cdk-nag's own rule, reasons naming every action."""

from __future__ import annotations

import json
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from cdk_nag import AwsSolutionsChecks
from stack_synthesis import scratch_dir

from stacks.nag import acknowledge_resource, ignore_cfn_lint, wildcard_findings


def _app_with_cross_stack_grant(*, acknowledged_suffix: str | None) -> tuple[cdk.App, iam.Role]:
    """A bucket in one stack, a role in another with grant_put on ``uploads/*`` of that bucket."""
    app = cdk.App(
        outdir=str(scratch_dir("nag-")), context={"@aws-cdk/core:defaultCrossStackReferences": "weak"}
    )
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    storage = cdk.Stack(app, "Storage")
    bucket = s3.Bucket(storage, "Bucket", enforce_ssl=True)
    cdk.Validations.of(bucket).acknowledge(
        cdk.Acknowledgment(id="AwsSolutions-S1", reason="a test bucket, no logs")
    )
    user = cdk.Stack(app, "User")
    role = iam.Role(user, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    bucket.grant_put(role, "uploads/*")
    policy = role.node.find_child("DefaultPolicy")
    cdk.Validations.of(policy).acknowledge(
        cdk.Acknowledgment(
            id="AwsSolutions-IAM5[Action::s3:Abort*]", reason="grant_put's multipart upload abort"
        )
    )
    if acknowledged_suffix is not None:
        acknowledge_resource(
            policy, bucket.bucket_arn, acknowledged_suffix, "uploads under their own prefix only"
        )
    return app, role


def _acknowledged(app: cdk.App, role: iam.Role) -> dict[str, str]:
    metadata = json.loads((Path(app.synth().directory) / "User.metadata.json").read_text())
    found: dict[str, str] = {}
    for entry in metadata[f"/{role.node.find_child('DefaultPolicy').node.path}"]:
        if entry["type"] == "aws:cdk:acknowledged-rules":
            found.update({key.removeprefix("Annotation::"): value for key, value in entry["data"].items()})
    return found


def test_a_cross_stack_wildcard_is_acknowledged_under_the_name_cdk_nag_gives_it():
    app, role = _app_with_cross_stack_grant(acknowledged_suffix="/uploads/*")
    acknowledged = _acknowledged(app, role)  # synth runs cdk-nag: an unnamed finding would raise
    (finding,) = [key for key in acknowledged if key.startswith("AwsSolutions-IAM5[Resource::")]
    assert "Fn::GetStackOutput" in finding
    assert finding.endswith("}}/uploads/*]")
    assert acknowledged[finding] == (
        "uploads under their own prefix only (actions: s3:Abort*, s3:PutObject, s3:PutObjectLegalHold, "
        "s3:PutObjectRetention, s3:PutObjectTagging, s3:PutObjectVersionTagging)"
    )


def test_an_unacknowledged_cross_stack_wildcard_stops_synth():
    app, _ = _app_with_cross_stack_grant(acknowledged_suffix=None)
    with pytest.raises(RuntimeError, match=r"AwsSolutions-IAM5\[Resource::\{\"Fn::GetStackOutput\""):
        app.synth()


def test_acknowledging_a_resource_without_a_wildcard_is_an_error():
    app, _ = _app_with_cross_stack_grant(acknowledged_suffix="/uploads/one-key")
    with pytest.raises(RuntimeError, match=r"holds no wildcard to acknowledge"):
        app.synth()


def test_wildcard_findings_are_cdk_nag_names_and_none_without_a_wildcard():
    join = {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":s3:::", {"Ref": "Bucket"}, "/k/*"]]}
    assert wildcard_findings(["*", "arn:aws:s3:::bucket/key", join]) == [
        "AwsSolutions-IAM5[Resource::*]",
        None,
        "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::<Bucket>/k/*]",
    ]


def test_cfn_lint_exceptions_go_on_a_cfn_resource_only():
    stack = cdk.Stack(cdk.App(outdir=str(scratch_dir("lint"))), "Lint")
    bucket = s3.Bucket(stack, "Bucket")

    with pytest.raises(TypeError, match="on a CfnResource only"):
        ignore_cfn_lint(bucket, "W3005", "a construct, not its resource")
    with pytest.raises(TypeError, match="on a CfnResource only"):
        ignore_cfn_lint(None, "W3005", "no default child")
    ignore_cfn_lint(bucket.node.default_child, "W3005", "the bucket's resource")

    resource = cdk.assertions.Template.from_stack(stack).find_resources("AWS::S3::Bucket")
    (metadata,) = [body["Metadata"] for body in resource.values()]
    assert metadata["cfn-lint"] == {"config": {"ignore_checks": ["W3005"]}, "reason": "the bucket's resource"}
