"""Composes one stage of the app: its stacks, tags and the cdk-nag checks."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import App, Environment, Tags, Validations
from cdk_nag import AwsSolutionsChecks

from core.layout import APP_NAME, TAG_PROJECT, TAG_STAGE
from core.model_pin import PinnedModel
from core.stage_config import StageConfig
from stacks.serving_stack import ServingStack
from stacks.storage_stack import StorageStack
from stacks.training_stack import TrainingStack


@dataclass(frozen=True)
class Stage:
    storage: StorageStack
    training: TrainingStack
    serving: ServingStack


def build_stage(
    app: App,
    config: StageConfig,
    model: PinnedModel,
    env: Environment | None = None,
    *,
    endpoint_enabled: bool = True,
) -> Stage:
    """Add ``config``'s stacks to ``app``. ``env`` None synthesizes environment-agnostic stacks.

    ``endpoint_enabled`` False leaves the endpoint out even when a model is pinned (``-c
    endpoint=off``): the stage then idles at no hourly cost.
    """
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    Tags.of(app).add(TAG_PROJECT, APP_NAME)
    Tags.of(app).add(TAG_STAGE, config.name)
    for key, value in config.tags.items():
        Tags.of(app).add(key, value)

    storage = StorageStack(
        app,
        "Storage",
        stack_name=config.stack_name("Storage"),
        config=config,
        env=env,
        description=f"{APP_NAME} {config.name}: data bucket for images, lists and training output",
    )
    training = TrainingStack(
        app,
        "Training",
        stack_name=config.stack_name("Training"),
        config=config,
        data_bucket=storage.data.bucket,
        env=env,
        description=f"{APP_NAME} {config.name}: training workflow, its SageMaker role and model registry",
    )
    serving = ServingStack(
        app,
        "Serving",
        stack_name=config.stack_name("Serving"),
        config=config,
        model=model,
        endpoint_enabled=endpoint_enabled,
        # Only a stage that captures data references the bucket, so the others stay independent.
        data_bucket=storage.data.bucket if config.data_capture_percent else None,
        env=env,
        description=f"{APP_NAME} {config.name}: GPU endpoint, prediction function and REST API",
    )
    return Stage(storage=storage, training=training, serving=serving)
