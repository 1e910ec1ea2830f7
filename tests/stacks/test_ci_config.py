"""CI access settings: validated when built, overridden by the CDK context, and a clear error when
the stack is requested without a repository."""

from pathlib import Path

import pytest
from stack_synthesis import run_app

from core.stage_config import ConfigError
from stacks.ci_config import CI_ACCESS, CiAccessConfig, ci_access_config, ci_access_requested

REPO = Path(__file__).resolve().parents[2]


def context_of(**values):
    return values.get


@pytest.mark.parametrize(
    ("fields", "setting"),
    [
        ({"repository": "dog-breeds"}, "githubRepository"),
        ({"repository": "octo-org/dog breeds"}, "githubRepository"),
        ({"repository": "-octo/dog-breeds"}, "githubRepository"),
        ({"repository": "octo-org/dog-breeds", "branch": "release/*"}, "githubBranch"),
        ({"repository": "octo-org/dog-breeds", "branch": "a..b"}, "githubBranch"),
        ({"repository": "octo-org/dog-breeds", "environments": ("dev", "dev")}, "githubEnvironments"),
        ({"repository": "octo-org/dog-breeds", "environments": ("pro d",)}, "githubEnvironments"),
        (
            {"repository": "octo-org/dog-breeds", "oidc_provider_arn": "arn:aws:iam::1:role/x"},
            "githubOidcProviderArn",
        ),
    ],
)
def test_invalid_setting_is_rejected_with_its_name_and_allowed_values(fields, setting):
    with pytest.raises(ConfigError, match=rf"invalid {setting}=.*: allowed values are "):
        CiAccessConfig(**fields)


def test_default_trusts_the_dev_and_prod_environments_of_main():
    assert (CI_ACCESS.branch, CI_ACCESS.environments) == ("main", ("dev", "prod"))


def test_unset_repository_names_the_setting_and_how_to_set_it():
    with pytest.raises(ConfigError) as raised:
        _ = CiAccessConfig().deploy_subjects
    message = str(raised.value)
    assert "githubRepository is not set" in message
    assert "-c githubRepository=owner/repo" in message
    assert "stacks/ci_config.py" in message


def test_context_overrides_every_setting():
    config = ci_access_config(
        context_of(
            githubRepository="octo-org/fork",
            githubBranch="release",
            githubEnvironments="prod",
            githubOidcProviderArn="arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com",
        )
    )
    assert (config.repository, config.branch, config.environments) == ("octo-org/fork", "release", ("prod",))
    assert config.oidc_provider_arn.endswith(":oidc-provider/token.actions.githubusercontent.com")


def test_empty_environments_context_trusts_the_branch():
    config = ci_access_config(context_of(githubRepository="octo-org/fork", githubEnvironments=""))
    assert config.deploy_subjects == ("repo:octo-org/fork:ref:refs/heads/main",)


@pytest.mark.parametrize(
    ("value", "requested"), [(None, False), ("false", False), ("true", True), (True, True)]
)
def test_ci_access_is_built_only_when_requested(value, requested):
    assert ci_access_requested(value) is requested


def test_unclear_request_is_rejected():
    with pytest.raises(ConfigError, match=r"invalid ciAccess='yes': allowed values are true, false"):
        ci_access_requested("yes")


def test_app_requested_without_repository_fails_with_a_clear_message_and_no_traceback(tmp_path):
    result = run_app(tmp_path, {"ciAccess": "true"})
    assert result.returncode == 1
    assert result.stderr.startswith("error: the CI access stack needs the GitHub repository")
    assert "Traceback" not in result.stderr


def test_app_requested_with_a_repository_synthesizes_only_the_ci_access_stack(tmp_path):
    result = run_app(tmp_path, {"ciAccess": "true", "githubRepository": "octo-org/dog-breeds"})
    assert result.returncode == 0, result.stderr
    assert [path.name for path in tmp_path.glob("*.template.json")] == ["CiAccess.template.json"]
