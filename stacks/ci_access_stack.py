"""CI access: what GitHub Actions needs to deploy the stages. Deployed once per account and region.

npx cdk deploy -c ciAccess=true -c githubRepository=owner/repo
"""

from __future__ import annotations

from aws_cdk import App, CfnOutput, Environment, Stack, Tags, Validations
from cdk_nag import AwsSolutionsChecks
from constructs import Construct

from core.layout import APP_NAME, TAG_PROJECT
from core.stage_config import STAGE_COMPONENTS, STAGES
from stacks.ci_config import GITHUB_OIDC_AUDIENCE, GITHUB_OIDC_URL, CiAccessConfig
from stacks.constructs.github_deploy_access import GithubDeployAccess

CI_ACCESS_STACK_NAME = f"{APP_NAME}-CiAccess"


def app_stack_names() -> list[str]:
    """Every stack of every stage (what a pull request's cdk diff may read)."""
    return [config.stack_name(component) for config in STAGES.values() for component in STAGE_COMPONENTS]


class CiAccessStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, config: CiAccessConfig, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.access = GithubDeployAccess(
            self,
            "Github",
            issuer_url=GITHUB_OIDC_URL,
            audience=GITHUB_OIDC_AUDIENCE,
            deploy_subjects=config.deploy_subjects,
            diff_subject=config.diff_subject if config.pull_request_diff else None,
            diff_stack_names=app_stack_names(),
            existing_provider_arn=config.oidc_provider_arn,
        )
        CfnOutput(
            self,
            "DeployRoleArn",
            value=self.access.deploy_role.role_arn,
            description="AWS_DEPLOY_ROLE_ARN of the GitHub environments: "
            + ", ".join(config.deploy_subjects),
        )
        if self.access.diff_role is not None:
            CfnOutput(
                self,
                "DiffRoleArn",
                value=self.access.diff_role.role_arn,
                description="AWS_DIFF_ROLE_ARN repository variable: cdk diff on pull requests",
            )
        CfnOutput(self, "OidcProviderArn", value=self.access.provider_arn)


def build_ci_access(app: App, config: CiAccessConfig, env: Environment | None = None) -> CiAccessStack:
    """Add the CI access stack to ``app``; fails with ``ConfigError`` when the repository is unset."""
    config.required_repository  # noqa: B018 - fail before any construct exists
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    Tags.of(app).add(TAG_PROJECT, APP_NAME)
    return CiAccessStack(
        app,
        "CiAccess",
        stack_name=CI_ACCESS_STACK_NAME,
        config=config,
        env=env,
        description=f"{APP_NAME}: GitHub Actions OIDC provider and the role CI deploys with",
    )
