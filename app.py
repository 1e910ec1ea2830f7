#!/usr/bin/env python3
"""CDK entry point: the only place that reads the environment and the CDK context.

cdk synth                       # the default stage (dev)
cdk deploy --all -c stage=prod  # another stage
cdk deploy --all -c modelDataUrl=s3://bucket/path/model.tar.gz   # serve another artifact once
cdk deploy -c ciAccess=true -c githubRepository=owner/repo        # only the CI access stack
"""

from __future__ import annotations

import os
import sys

from aws_cdk import App, Environment

from core.model_pin import ModelPinError, load_pinned_model
from core.stage_config import ConfigError, endpoint_switch, stage_config
from stacks.algorithm_image import UnsupportedRegionError
from stacks.ci_access_stack import build_ci_access
from stacks.ci_config import CONTEXT_REQUESTED, ci_access_config, ci_access_requested
from stacks.stages import build_stage


def main() -> None:
    app = App()
    account = os.environ.get("CDK_DEFAULT_ACCOUNT")
    region = os.environ.get("CDK_DEFAULT_REGION")
    env = Environment(account=account, region=region) if account and region else None
    try:
        if ci_access_requested(app.node.try_get_context(CONTEXT_REQUESTED)):
            build_ci_access(app, ci_access_config(app.node.try_get_context), env)
        else:
            config = stage_config(app.node.try_get_context("stage"))
            model = load_pinned_model(config.name, app.node.try_get_context("modelDataUrl"))
            endpoint_enabled = endpoint_switch(app.node.try_get_context("endpoint"))
            build_stage(app, config, model, env, endpoint_enabled=endpoint_enabled)
    except (ConfigError, ModelPinError, UnsupportedRegionError) as error:
        sys.exit(f"error: {error}")
    app.synth()


if __name__ == "__main__":
    main()
