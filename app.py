#!/usr/bin/env python3
"""CDK entry point: the only place that reads the environment and the CDK context.

cdk synth                       # the default stage (dev)
cdk deploy --all -c stage=prod  # another stage
cdk deploy --all -c modelDataUrl=s3://bucket/path/model.tar.gz   # serve another artifact once
"""

from __future__ import annotations

import os
import sys

from aws_cdk import App, Environment

from stacks.algorithm_image import UnsupportedRegionError
from stacks.config import ConfigError, stage_config
from stacks.model_pin import ModelPinError, load_pinned_model
from stacks.stages import build_stage


def main() -> None:
    app = App()
    account = os.environ.get("CDK_DEFAULT_ACCOUNT")
    region = os.environ.get("CDK_DEFAULT_REGION")
    env = Environment(account=account, region=region) if account and region else None
    try:
        config = stage_config(app.node.try_get_context("stage"))
        model = load_pinned_model(config.name, app.node.try_get_context("modelDataUrl"))
        build_stage(app, config, model, env)
    except (ConfigError, ModelPinError, UnsupportedRegionError) as error:
        sys.exit(f"error: {error}")
    app.synth()


if __name__ == "__main__":
    main()
