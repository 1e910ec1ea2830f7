"""GitHub Actions' way into the account: the OIDC provider, a deploy role and a diff role.

The deploy role can change nothing itself: it may only assume the CDK bootstrap roles, which carry
the real permissions (deploy, publish assets, read), so what it can do is what `cdk deploy` can.
The diff role, which pull requests get, assumes nothing: the lookup role would give it AWS's
ReadOnlyAccess (API keys, every bucket's objects, logs). It may only read the CloudFormation
description and template of this app's stacks, which is all `cdk diff --method=template` reads;
the CLI, unable to assume the lookup role, goes on with the caller's own credentials.
The trust policies decide which GitHub jobs get either role.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import DefaultStackSynthesizer, Duration, Stack
from aws_cdk import aws_iam as iam
from constructs import Construct

from stacks.nag import acknowledge_resource

# The bootstrap roles `cdk deploy` assumes: CloudFormation, file and image assets, and lookups
# (also what the smoke test reads the stack outputs and the API key with).
DEPLOY_BOOTSTRAP_ROLES = ("deploy", "file-publishing", "image-publishing", "lookup")
# What the pinned CLI's template-only diff calls for each stack (CloudFormationStack.lookup and
# .template() in node_modules/aws-cdk/lib/index.js); ListStackResources only for nested stacks,
# which this app has none of.
TEMPLATE_DIFF_ACTIONS = ("cloudformation:DescribeStacks", "cloudformation:GetTemplate")
# Creating a SageMaker endpoint can take longer than the default hour of credentials.
DEPLOY_SESSION = Duration.hours(2)


class GithubDeployAccess(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        issuer_url: str,
        audience: str,
        deploy_subjects: Sequence[str],
        diff_subject: str | None,
        diff_stack_names: Sequence[str] = (),
        existing_provider_arn: str | None = None,
        bootstrap_qualifier: str = DefaultStackSynthesizer.DEFAULT_QUALIFIER,
    ) -> None:
        super().__init__(scope, construct_id)
        self._qualifier = bootstrap_qualifier
        self.provider: iam.IOidcProvider
        if existing_provider_arn is None:
            # The native resource (AWS::IAM::OIDCProvider), not the custom-resource provider. No
            # thumbprint: IAM trusts GitHub's certificate authority itself.
            self.provider = iam.OidcProviderNative(self, "Provider", url=issuer_url, client_ids=[audience])
        else:
            self.provider = iam.OidcProviderNative.from_oidc_provider_arn(
                self, "Provider", existing_provider_arn
            )
        self.provider_arn = self.provider.oidc_provider_arn
        issuer = issuer_url.removeprefix("https://")

        self.deploy_role = iam.Role(
            self,
            "DeployRole",
            assumed_by=self._github_principal(issuer, audience, deploy_subjects),
            description="GitHub Actions deploys: may only assume the CDK bootstrap roles",
            max_session_duration=DEPLOY_SESSION,
            inline_policies={"AssumeCdkBootstrapRoles": self._assume(DEPLOY_BOOTSTRAP_ROLES)},
        )
        self.diff_role: iam.Role | None = None
        if diff_subject is not None:
            if not diff_stack_names:
                raise ValueError("a diff role needs the names of the stacks it may diff (diff_stack_names)")
            stacks = [self.stack_arn(name) for name in diff_stack_names]
            self.diff_role = iam.Role(
                self,
                "DiffRole",
                assumed_by=self._github_principal(issuer, audience, [diff_subject]),
                description="GitHub pull requests' cdk diff: may only read this app's stack templates",
                inline_policies={
                    "ReadAppStackTemplates": iam.PolicyDocument(
                        statements=[
                            iam.PolicyStatement(actions=list(TEMPLATE_DIFF_ACTIONS), resources=stacks)
                        ]
                    )
                },
            )
            for arn in stacks:
                acknowledge_resource(
                    self.diff_role,
                    arn,
                    "",
                    f"{' and '.join(TEMPLATE_DIFF_ACTIONS)} on one of this app's stacks; the wildcard is "
                    "the stack id CloudFormation appends to the name",
                )

    def _github_principal(
        self, issuer: str, audience: str, subjects: Sequence[str]
    ) -> iam.WebIdentityPrincipal:
        return iam.WebIdentityPrincipal(
            self.provider_arn,
            conditions={
                "StringEquals": {
                    f"{issuer}:aud": audience,
                    f"{issuer}:sub": list(subjects),
                }
            },
        )

    def _assume(self, kinds: Sequence[str]) -> iam.PolicyDocument:
        return iam.PolicyDocument(
            statements=[
                iam.PolicyStatement(
                    actions=["sts:AssumeRole"],
                    resources=[self.bootstrap_role_arn(kind) for kind in kinds],
                )
            ]
        )

    def stack_arn(self, stack_name: str) -> str:
        """``arn:<partition>:cloudformation:<region>:<account>:stack/<name>/*`` (any stack id)."""
        return Stack.of(self).format_arn(
            service="cloudformation", resource="stack", resource_name=f"{stack_name}/*"
        )

    def bootstrap_role_arn(self, kind: str) -> str:
        """``arn:<partition>:iam::<account>:role/cdk-<qualifier>-<kind>-role-<account>-<region>``."""
        stack = Stack.of(self)
        return stack.format_arn(
            service="iam",
            region="",
            resource="role",
            resource_name=f"cdk-{self._qualifier}-{kind}-role-{stack.account}-{stack.region}",
        )
