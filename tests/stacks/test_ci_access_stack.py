"""The CI access stack: GitHub's OIDC provider (native, no custom resource), a deploy role that only
the repository's environments may assume and that may only assume the CDK bootstrap roles, and a
read-only diff role for pull requests. cdk-nag and cfn-lint pass."""

from __future__ import annotations

import json
import subprocess
import sys
from functools import cache
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Match, Template
from stack_synthesis import scratch_dir

from stacks.ci_access_stack import build_ci_access
from stacks.ci_config import CiAccessConfig

REPO = Path(__file__).resolve().parents[2]
CDK_JSON_CONTEXT = json.loads((REPO / "cdk.json").read_text())["context"]
CFN_LINT = str(Path(sys.executable).with_name("cfn-lint"))
REPOSITORY = "octo-org/dog-breeds"
EXISTING_PROVIDER = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
SUB = "token.actions.githubusercontent.com:sub"
DEFAULT = CiAccessConfig(repository=REPOSITORY)
AUD = "token.actions.githubusercontent.com:aud"


@cache
def synthesize(config: CiAccessConfig = DEFAULT, *, agnostic: bool = False) -> tuple[Template, Path]:
    """The stack in account 123456789012, eu-west-1; ``agnostic``: environment-agnostic (offline synth)."""
    outdir = scratch_dir("cdk-ci-access-")
    app = cdk.App(outdir=str(outdir), context=CDK_JSON_CONTEXT)
    env = None if agnostic else cdk.Environment(account="123456789012", region="eu-west-1")
    stack = build_ci_access(app, config, env)
    app.synth()  # runs cdk-nag: an unacknowledged finding raises here
    return Template.from_stack(stack), outdir / f"{stack.artifact_id}.template.json"


def template(**fields) -> Template:
    return synthesize(CiAccessConfig(repository=REPOSITORY, **fields))[0]


def role(template_: Template, description_start: str) -> dict:
    roles = template_.find_resources(
        "AWS::IAM::Role", {"Properties": {"Description": Match.string_like_regexp(f"^{description_start}")}}
    )
    assert len(roles) == 1
    return next(iter(roles.values()))["Properties"]


def trust_condition(role_properties: dict) -> dict:
    (statement,) = role_properties["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    return statement["Condition"]["StringEquals"]


def assumable_roles(role_properties: dict) -> list[str]:
    (policy,) = role_properties["Policies"]
    (statement,) = policy["PolicyDocument"]["Statement"]
    assert statement["Action"] == "sts:AssumeRole"
    assert statement["Effect"] == "Allow"
    resources = statement["Resource"]
    return resources if isinstance(resources, list) else [resources]


def bootstrap_role(kind: str) -> str:
    return f"arn:aws:iam::123456789012:role/cdk-hnb659fds-{kind}-role-123456789012-eu-west-1"


# --- The identity provider -----------------------------------------------------------------------
def test_github_oidc_provider_is_the_native_resource_for_the_sts_audience():
    template().has_resource_properties(
        "AWS::IAM::OIDCProvider",
        {"Url": "https://token.actions.githubusercontent.com", "ClientIdList": ["sts.amazonaws.com"]},
    )


def test_stack_has_no_custom_resource_and_no_function():
    resources = template().to_json()["Resources"].values()
    assert not [r["Type"] for r in resources if r["Type"].startswith("Custom::") or "Lambda" in r["Type"]]


def test_existing_provider_is_reused_instead_of_created():
    reused = template(oidc_provider_arn=EXISTING_PROVIDER)
    reused.resource_count_is("AWS::IAM::OIDCProvider", 0)
    (statement,) = role(reused, "GitHub Actions deploys")["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Federated": EXISTING_PROVIDER}


# --- The deploy role -----------------------------------------------------------------------------
def test_deploy_role_trusts_only_the_repositorys_environments():
    condition = trust_condition(role(template(), "GitHub Actions deploys"))
    assert condition[SUB] == [f"repo:{REPOSITORY}:environment:dev", f"repo:{REPOSITORY}:environment:prod"]


def test_deploy_role_requires_the_sts_audience():
    assert trust_condition(role(template(), "GitHub Actions deploys"))[AUD] == "sts.amazonaws.com"


def test_without_environments_the_deploy_role_trusts_the_branch():
    condition = trust_condition(role(template(environments=(), branch="release"), "GitHub Actions deploys"))
    assert condition[SUB] == [f"repo:{REPOSITORY}:ref:refs/heads/release"]


def test_deploy_role_may_only_assume_the_cdk_bootstrap_roles():
    assert assumable_roles(role(template(), "GitHub Actions deploys")) == [
        bootstrap_role(kind) for kind in ("deploy", "file-publishing", "image-publishing", "lookup")
    ]


def test_deploy_role_sessions_outlast_an_endpoint_deployment():
    assert role(template(), "GitHub Actions deploys")["MaxSessionDuration"] == 7200


# --- The diff role -------------------------------------------------------------------------------
def test_diff_role_trusts_the_repositorys_pull_requests():
    condition = trust_condition(role(template(), "GitHub pull requests"))
    assert condition == {AUD: "sts.amazonaws.com", SUB: [f"repo:{REPOSITORY}:pull_request"]}


def test_diff_role_may_assume_no_role_so_pull_requests_cannot_read_the_account():
    # The lookup role carries ReadOnlyAccess: API keys, every bucket's objects, the logs.
    diff_role = role(template(), "GitHub pull requests")
    statements = [s for p in diff_role["Policies"] for s in p["PolicyDocument"]["Statement"]]
    assert all("sts:" not in json.dumps(s["Action"]) for s in statements)


def test_diff_role_may_only_read_the_templates_of_this_apps_stacks():
    diff_role = role(template(), "GitHub pull requests")
    (policy,) = diff_role["Policies"]
    (statement,) = policy["PolicyDocument"]["Statement"]
    assert statement["Effect"] == "Allow"
    assert statement["Action"] == ["cloudformation:DescribeStacks", "cloudformation:GetTemplate"]
    assert sorted(statement["Resource"]) == sorted(
        f"arn:aws:cloudformation:eu-west-1:123456789012:stack/DogBreeds-{stage}-{component}/*"
        for stage in ("dev", "prod")
        for component in ("Storage", "Training", "Serving")
    )


def test_the_diff_role_covers_the_stacks_a_stage_builds(dev):
    from stacks.ci_access_stack import app_stack_names

    built = {dev.stage.storage.stack_name, dev.stage.training.stack_name, dev.stage.serving.stack_name}
    assert built <= set(app_stack_names())


def test_diff_role_is_left_out_when_pull_request_diff_is_off():
    without_diff = template(pull_request_diff=False)
    without_diff.resource_count_is("AWS::IAM::Role", 1)
    assert "DiffRoleArn" not in without_diff.to_json()["Outputs"]


# --- Outputs and quality gates -------------------------------------------------------------------
def test_role_arns_and_provider_are_stack_outputs():
    assert set(template().to_json()["Outputs"]) == {"DeployRoleArn", "DiffRoleArn", "OidcProviderArn"}


def test_stack_is_named_for_the_app_and_tagged():
    _, path = synthesize()
    manifest = json.loads((path.parent / "manifest.json").read_text())
    assert manifest["artifacts"]["CiAccess"]["properties"]["stackName"] == "DogBreeds-CiAccess"
    template().has_resource_properties(
        "AWS::IAM::Role", {"Tags": Match.array_with([{"Key": "Project", "Value": "DogBreeds"}])}
    )


@pytest.mark.parametrize(
    ("fields", "agnostic"),
    [
        ({}, False),
        ({}, True),
        ({"environments": ()}, False),
        ({"pull_request_diff": False}, False),
        ({"oidc_provider_arn": EXISTING_PROVIDER}, False),
    ],
    ids=["default", "environment-agnostic", "branch", "no-diff", "existing-provider"],
)
def test_every_variant_passes_cdk_nag_and_cfn_lint_without_warnings(fields, agnostic):
    # synthesize() raises on any unacknowledged AwsSolutions finding.
    _, path = synthesize(CiAccessConfig(repository=REPOSITORY, **fields), agnostic=agnostic)
    result = subprocess.run([CFN_LINT, str(path)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
