"""The AWS region from the environment, read the way the AWS CLI and the CDK CLI read it.

botocore reads only ``AWS_DEFAULT_REGION``, while the CDK CLI and GitHub's credentials action set
``AWS_REGION``: the training commands and the smoke test read it here. Standard library only.
"""

from __future__ import annotations

import os


def environment_region() -> str | None:
    """``AWS_REGION``, which botocore ignores; None leaves the region to botocore's own chain
    (``AWS_DEFAULT_REGION``, then the profile's ``region``)."""
    return os.environ.get("AWS_REGION") or None
