"""Settings of the CI access stack: which GitHub repository, branch and environments may deploy.

Plain Python (no CDK import). ``app.py`` builds the stack only when asked (``-c ciAccess=true``)
and lets the CDK context override the defaults below, so a fork needs no code change:

    npx cdk deploy -c ciAccess=true -c githubRepository=owner/repo
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from core.stage_config import ConfigError

GITHUB_OIDC_URL = "https://token.actions.githubusercontent.com"
GITHUB_OIDC_AUDIENCE = "sts.amazonaws.com"

# The CDK context keys app.py reads for this stack.
CONTEXT_REQUESTED = "ciAccess"
CONTEXT_REPOSITORY = "githubRepository"
CONTEXT_BRANCH = "githubBranch"
CONTEXT_ENVIRONMENTS = "githubEnvironments"
CONTEXT_OIDC_PROVIDER_ARN = "githubOidcProviderArn"

# GitHub's rules: an owner is 1-39 letters, digits or inner hyphens; a repository name 1-100
# letters, digits, '.', '_' or '-'.
_REPOSITORY = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,37}[A-Za-z0-9])?/[A-Za-z0-9._-]{1,100}$")
# Compared with StringEquals, so no IAM wildcards ('*', '?') and nothing git refuses in a branch.
_BRANCH = re.compile(r"^(?!/)(?!.*//)(?!.*\.\.)(?!.*/$)(?!.*\.lock$)[A-Za-z0-9._/-]{1,200}$")
_ENVIRONMENT = re.compile(r"^[A-Za-z0-9._-]{1,255}$")
_OIDC_PROVIDER_ARN = re.compile(
    r"^arn:aws[a-z-]*:iam::\d{12}:oidc-provider/token\.actions\.githubusercontent\.com$"
)


@dataclass(frozen=True)
class CiAccessConfig:
    """Who may deploy from GitHub Actions.

    ``environments`` are the GitHub environments whose jobs may assume the deploy role. A job that
    names an environment gets the subject ``repo:<repository>:environment:<name>``, without the
    branch, so the branch is enforced by each environment's deployment-branch rule (see
    docs/ci-cd.md). With no environments, jobs on ``branch`` may deploy instead.
    """

    repository: str | None = None  # "owner/name"; required once the stack is requested
    branch: str = "main"
    environments: tuple[str, ...] = ("dev", "prod")
    # Pull requests of the repository may assume a read-only role for `cdk diff`.
    pull_request_diff: bool = True
    # An account holds one provider per URL: reuse one that already exists instead of creating it.
    oidc_provider_arn: str | None = None

    def __post_init__(self) -> None:
        _check(
            self.repository is None or bool(_REPOSITORY.match(self.repository)),
            "githubRepository",
            self.repository,
            "'owner/name' of a GitHub repository, for example octo-org/dog-breeds",
        )
        _check(
            bool(_BRANCH.match(self.branch)),
            "githubBranch",
            self.branch,
            "a branch name such as main (letters, digits, '.', '_', '-', '/'; no wildcards)",
        )
        _check(
            isinstance(self.environments, tuple)
            and len(set(self.environments)) == len(self.environments)
            and all(_ENVIRONMENT.match(name) for name in self.environments),
            "githubEnvironments",
            self.environments,
            "a tuple of distinct GitHub environment names (letters, digits, '.', '_', '-'), "
            "or () to trust the branch instead",
        )
        _check(
            self.oidc_provider_arn is None or bool(_OIDC_PROVIDER_ARN.match(self.oidc_provider_arn)),
            "githubOidcProviderArn",
            self.oidc_provider_arn,
            "None (create the provider) or the ARN of the account's provider, "
            "arn:aws:iam::<account>:oidc-provider/token.actions.githubusercontent.com",
        )

    @property
    def deploy_subjects(self) -> tuple[str, ...]:
        """The ``sub`` claims the deploy role trusts."""
        repository = self.required_repository
        if self.environments:
            return tuple(f"repo:{repository}:environment:{name}" for name in self.environments)
        return (f"repo:{repository}:ref:refs/heads/{self.branch}",)

    @property
    def diff_subject(self) -> str:
        """The ``sub`` claim of a pull request's jobs, which the read-only diff role trusts."""
        return f"repo:{self.required_repository}:pull_request"

    @property
    def required_repository(self) -> str:
        if self.repository is None:
            raise ConfigError(
                "the CI access stack needs the GitHub repository that may deploy, and githubRepository "
                f"is not set: pass -c {CONTEXT_REPOSITORY}=owner/repo (for example "
                f"`npx cdk deploy -c {CONTEXT_REQUESTED}=true -c {CONTEXT_REPOSITORY}=octo-org/dog-breeds`) "
                "or set repository in CI_ACCESS in stacks/ci_config.py"
            )
        return self.repository


def _check(ok: bool, setting: str, value: object, allowed: str) -> None:
    if not ok:
        raise ConfigError(f"invalid {setting}={value!r}: allowed values are {allowed}")


# The defaults; the context keys above override each field for one synth or deploy.
CI_ACCESS = CiAccessConfig()


def ci_access_requested(value: Any) -> bool:
    """Whether ``-c ciAccess=...`` asks for the CI access stack (absent: no)."""
    if value is None or value is False:
        return False
    if value is True:
        return True
    text = str(value).strip().lower()
    if text in ("true", "false"):
        return text == "true"
    raise ConfigError(f"invalid {CONTEXT_REQUESTED}={value!r}: allowed values are true, false")


def ci_access_config(context: Callable[[str], Any], base: CiAccessConfig = CI_ACCESS) -> CiAccessConfig:
    """``base`` with the fields the CDK context sets (``context`` is ``app.node.try_get_context``)."""
    overrides: dict[str, Any] = {}
    for key, field in (
        (CONTEXT_REPOSITORY, "repository"),
        (CONTEXT_BRANCH, "branch"),
        (CONTEXT_OIDC_PROVIDER_ARN, "oidc_provider_arn"),
    ):
        value = context(key)
        if value is not None:
            overrides[field] = str(value).strip()
    environments = context(CONTEXT_ENVIRONMENTS)
    if environments is not None:
        names = environments if isinstance(environments, list) else str(environments).split(",")
        overrides["environments"] = tuple(name.strip() for name in names if name.strip())
    return replace(base, **overrides)
