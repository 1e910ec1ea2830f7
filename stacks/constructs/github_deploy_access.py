"""GitHub Actions' way into the account: the OIDC provider, a deploy role and a read-only diff role.

Neither role can change anything itself: each may only assume CDK bootstrap roles, which carry
the real permissions (deploy, publish assets, read). So what CI can do is what `cdk deploy` and
`cdk diff` can do, and the trust policies decide which GitHub jobs get there.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import DefaultStackSynthesizer, Duration, Stack
from aws_cdk import aws_iam as iam
from constructs import Construct

# The bootstrap roles `cdk deploy` assumes: CloudFormation, file and image assets, and lookups
# (also what `cdk diff --method=template` and the smoke test read with).
DEPLOY_BOOTSTRAP_ROLES = ("deploy", "file-publishing", "image-publishing", "lookup")
LOOKUP_BOOTSTRAP_ROLE = "lookup"
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
        existing_provider_arn: str | None = None,
        bootstrap_qualifier: str = DefaultStackSynthesizer.DEFAULT_QUALIFIER,
    ) -> None:
        super().__init__(scope, construct_id)
        self._qualifier = bootstrap_qualifier
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
            self.diff_role = iam.Role(
                self,
                "DiffRole",
                assumed_by=self._github_principal(issuer, audience, [diff_subject]),
                description="GitHub pull requests' cdk diff: may only assume the CDK lookup role (read-only)",
                inline_policies={"AssumeCdkLookupRole": self._assume([LOOKUP_BOOTSTRAP_ROLE])},
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

    def bootstrap_role_arn(self, kind: str) -> str:
        """``arn:<partition>:iam::<account>:role/cdk-<qualifier>-<kind>-role-<account>-<region>``."""
        stack = Stack.of(self)
        return stack.format_arn(
            service="iam",
            region="",
            resource="role",
            resource_name=f"cdk-{self._qualifier}-{kind}-role-{stack.account}-{stack.region}",
        )
