"""The GitHub Actions workflows: linted (jactionlint: actionlint's checks plus security rules, with
shellcheck on every run: script), pinned, least-privilege, OIDC only, and prod after dev and its
smoke test."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from core.stage_config import STAGES

REPO = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.yml"))
BIN = Path(sys.executable).parent
LINT = [str(BIN / "jactionlint"), "--no-online", f"--shellcheck={BIN / 'shellcheck'}", "--pyflakes="]
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")
USES_LINE = re.compile(r"^\s*(?:-\s+)?uses:\s*(?P<ref>\S+)(?P<comment>.*)$")
VERSION_COMMENT = re.compile(r"^\s+# v\d+\.\d+\.\d+$")
CREDENTIALS_ACTION = "aws-actions/configure-aws-credentials@"


def load(name: str) -> dict:
    return yaml.safe_load((REPO / ".github" / "workflows" / name).read_text())


def jobs(name: str) -> dict[str, dict]:
    return load(name)["jobs"]


def steps_of(job: dict) -> list[dict]:
    return job.get("steps", [])


def assumes_aws_role(job: dict) -> bool:
    return any(step.get("uses", "").startswith(CREDENTIALS_ACTION) for step in steps_of(job))


def all_jobs() -> list[tuple[str, str, dict]]:
    return [(path.name, job_id, job) for path in WORKFLOWS for job_id, job in load(path.name)["jobs"].items()]


def test_pull_request_and_deploy_workflows_exist():
    assert {"deploy.yml", "pr.yml"} <= {path.name for path in WORKFLOWS}


# --- Lint -----------------------------------------------------------------------------------------
def test_workflows_pass_the_linter_with_no_finding():
    result = subprocess.run([*LINT, *map(str, WORKFLOWS)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_linter_reports_a_broken_workflow(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on: push\n"
        "jobs:\n"
        "  build:\n"
        "    runs-on: ubuntu-24.04\n"
        "    needs: missing-job\n"
        "    steps:\n"
        "      - run: echo ${{ matrix.nope }}\n"
    )
    result = subprocess.run([*LINT, str(broken)], capture_output=True, text=True, check=False)
    assert result.returncode == 1
    assert "missing-job" in result.stdout
    assert "nope" in result.stdout


def test_linter_runs_shellcheck_on_run_scripts(tmp_path):
    unquoted = tmp_path / "unquoted.yml"
    unquoted.write_text(
        "on: push\npermissions: {}\nconcurrency: x\njobs:\n  build:\n    runs-on: ubuntu-24.04\n"
        "    timeout-minutes: 5\n    steps:\n      - run: echo $HOME > $GITHUB_OUTPUT\n"
    )
    result = subprocess.run([*LINT, str(unquoted)], capture_output=True, text=True, check=False)
    assert "SC2086" in result.stdout


# --- Pinning --------------------------------------------------------------------------------------
def uses_lines() -> list[tuple[str, str, str]]:
    found = []
    for path in WORKFLOWS:
        for line in path.read_text().splitlines():
            match = USES_LINE.match(line)
            if match:
                found.append((path.name, match.group("ref"), match.group("comment")))
    return found


def test_every_action_is_pinned_to_a_full_commit_sha():
    refs = [(name, ref) for name, ref, _ in uses_lines()]
    assert refs
    assert [(name, ref) for name, ref in refs if not PINNED.match(ref)] == []


def test_every_pinned_action_names_its_version_in_a_comment():
    assert [(name, ref) for name, ref, comment in uses_lines() if not VERSION_COMMENT.match(comment)] == []


def test_one_action_is_pinned_to_one_commit_everywhere():
    commits: dict[str, set[str]] = {}
    for _, ref, _ in uses_lines():
        action, commit = ref.split("@")
        commits.setdefault(action, set()).add(commit)
    assert {action: shas for action, shas in commits.items() if len(shas) > 1} == {}


# --- Permissions and credentials ------------------------------------------------------------------
@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda path: path.name)
def test_workflow_token_can_only_read_the_repository(path):
    assert load(path.name)["permissions"] == {"contents": "read"}


def test_only_jobs_that_assume_an_aws_role_may_request_an_oidc_token():
    requesting = {
        (name, job_id) for name, job_id, job in all_jobs() if "id-token" in job.get("permissions", {})
    }
    assuming = {(name, job_id) for name, job_id, job in all_jobs() if assumes_aws_role(job)}
    assert requesting == assuming
    assert all(
        job["permissions"] == {"contents": "read", "id-token": "write"}
        for name, job_id, job in all_jobs()
        if (name, job_id) in assuming
    )


def test_aws_credentials_come_only_from_oidc_never_from_keys():
    inputs = [
        step.get("with", {})
        for _, _, job in all_jobs()
        for step in steps_of(job)
        if step.get("uses", "").startswith(CREDENTIALS_ACTION)
    ]
    assert inputs
    assert all("role-to-assume" in given for given in inputs)
    text = "\n".join(path.read_text() for path in WORKFLOWS)
    assert "aws-access-key-id" not in text
    assert "aws-secret-access-key" not in text
    assert "secrets." not in text


def test_checkout_never_leaves_the_token_in_the_workspace():
    checkouts = [
        step
        for _, _, job in all_jobs()
        for step in steps_of(job)
        if step.get("uses", "").startswith("actions/checkout@")
    ]
    assert checkouts
    assert all(step["with"]["persist-credentials"] is False for step in checkouts)


# --- Pull requests --------------------------------------------------------------------------------
def test_pull_requests_run_the_test_script():
    runs = [step.get("run", "") for step in steps_of(jobs("pr.yml")["test"])]
    assert "scripts/test" in runs


def test_pull_requests_synthesize_every_stage():
    synth = jobs("pr.yml")["synth"]
    assert set(synth["strategy"]["matrix"]["stage"]) == set(STAGES)
    assert any(step.get("run", "").startswith("scripts/synth -c stage=") for step in steps_of(synth))


def test_pull_request_diff_runs_only_when_aws_access_is_configured():
    diff = jobs("pr.yml")["diff"]
    assert "vars.AWS_DIFF_ROLE_ARN != ''" in diff["if"]
    assert any("cdk diff" in step.get("run", "") for step in steps_of(diff))


def test_pull_request_diff_reports_differences_against_dev_without_failing():
    runs = [
        step.get("run", "") for step in steps_of(jobs("pr.yml")["diff"]) if "cdk diff" in step.get("run", "")
    ]
    assert runs == ["npx --no-install cdk diff --method=template --fail-on=never -c stage=dev"]


# --- Deploys --------------------------------------------------------------------------------------
def test_deploys_run_on_main_only():
    assert load("deploy.yml")[True]["push"] == {"branches": ["main"]}  # YAML 1.1 reads `on` as True
    assert jobs("deploy.yml")["deploy-dev"]["if"] == "github.ref == 'refs/heads/main'"


def test_deploys_never_run_in_parallel_nor_are_cancelled():
    assert load("deploy.yml")["concurrency"] == {"group": "deploy", "cancel-in-progress": False}


def test_dev_is_deployed_after_the_tests_in_the_dev_environment():
    dev = jobs("deploy.yml")["deploy-dev"]
    assert dev["needs"] == "test"
    assert dev["environment"] == "dev"
    assert any("cdk deploy --all -c stage=dev" in step.get("run", "") for step in steps_of(dev))


def test_smoke_test_checks_dev_after_its_deploy():
    smoke = jobs("deploy.yml")["smoke-test"]
    assert smoke["needs"] == "deploy-dev"
    assert any(step.get("run", "").startswith("scripts/smoke-test --stage dev") for step in steps_of(smoke))


def test_prod_deploy_needs_the_dev_deploy_and_the_smoke_test():
    assert set(jobs("deploy.yml")["deploy-prod"]["needs"]) == {"deploy-dev", "smoke-test"}


def test_prod_deploy_waits_for_approval_in_the_protected_prod_environment():
    prod = jobs("deploy.yml")["deploy-prod"]
    assert prod["environment"] == "prod"
    assert any("cdk deploy --all -c stage=prod" in step.get("run", "") for step in steps_of(prod))


def test_deploys_need_no_interactive_approval_from_the_cli():
    deploys = [
        step["run"]
        for step in steps_of(jobs("deploy.yml")["deploy-dev"]) + steps_of(jobs("deploy.yml")["deploy-prod"])
        if "cdk deploy" in step.get("run", "")
    ]
    assert len(deploys) == 2
    assert all("--require-approval never" in run for run in deploys)
