"""Fixtures for the prepare tests (see ``prepare_trees``) and the AWS-facing command tests
(``test_cli_*``, see ``cli_aws_helpers``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_aws_helpers import DeployedStage, deploy_stage
from moto import mock_aws
from prepare_trees import make_stanford_tree


@pytest.fixture(scope="session")
def stanford_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A read-only tree shared by the tests: the folder holding ``Images/``."""
    return make_stanford_tree(tmp_path_factory.mktemp("stanford-dogs"))


@pytest.fixture
def images_dir(stanford_tree: Path) -> Path:
    return stanford_tree / "Images"


# --- AWS-facing commands: moto with fake credentials, and a deployed stage's stacks -------------
@pytest.fixture
def cli_aws(fake_aws: dict) -> Iterator[None]:
    """Fake credentials and region, and every AWS call answered by moto."""
    with mock_aws():
        yield


@pytest.fixture
def cli_dev(cli_aws: None) -> DeployedStage:
    """Stage dev's Storage and Training stacks, with the outputs the commands read."""
    return deploy_stage("dev")
