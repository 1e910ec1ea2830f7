"""AWS access for the commands: clients, the stacks' outputs, and errors a person can act on.

Clients take their credentials from boto3's usual chain (``AWS_PROFILE``, ``~/.aws/config``), the
same chain ``cdk deploy`` used, and their region from ``AWS_REGION``, else ``AWS_DEFAULT_REGION``,
else the profile: the AWS CLI's order. botocore itself reads only ``AWS_DEFAULT_REGION``, while
the CDK CLI and GitHub's credentials action set ``AWS_REGION``; ``environment_region`` reads it,
for these commands and for ``smoke``. Commands wrap their work in
``reported_errors`` so a missing region, missing credentials or an AWS refusal prints one line.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from core import layout
from core.aws_region import environment_region
from core.s3_url import s3_url
from training.errors import TrainingError

Result = TypeVar("Result")


def client(service: str, *, max_pool_connections: int = 10) -> Any:
    """A boto3 client for ``service`` in the configured region."""
    from botocore.config import Config

    session = new_session()
    if not session.region_name:
        raise _no_region()
    config = Config(max_pool_connections=max_pool_connections, retries={"mode": "standard"})
    return session.client(service, config=config)


def new_session() -> Any:
    """A boto3 session reading the current environment, sharing parsed service descriptions."""
    import boto3
    import botocore.session

    core = botocore.session.get_session()
    core.register_component("data_loader", _shared_loader())
    return boto3.session.Session(botocore_session=core, region_name=environment_region())


@functools.cache
def _shared_loader() -> Any:
    """One loader of botocore's service descriptions for every client: each new session would
    otherwise parse them again (a fifth of a second per client)."""
    from botocore.loaders import create_loader

    return create_loader()


def region_of(aws_client: Any) -> str:
    return aws_client.meta.region_name


def deploy_command(stage: str) -> str:
    return f"npx cdk deploy --all -c stage={stage}"


def stack_outputs(stage: str, component: str) -> dict[str, str]:
    """The outputs of stack ``DogBreeds-<stage>-<component>``; TrainingError when it is not deployed."""
    cloudformation = client("cloudformation")
    name = layout.stack_name(stage, component)
    try:
        stack = cloudformation.describe_stacks(StackName=name)["Stacks"][0]
    except Exception as error:
        if error_code(error) == "ValidationError" and "does not exist" in str(error):
            raise TrainingError(
                f"stack {name} is not deployed in {region_of(cloudformation)}: "
                f"run `{deploy_command(stage)}` first"
            ) from None
        raise
    return {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])}


def required_outputs(stage: str, component: str, *names: str) -> dict[str, str]:
    """The named outputs of the stage's ``component`` stack; TrainingError naming any that is missing."""
    outputs = stack_outputs(stage, component)
    missing = [name for name in names if name not in outputs]
    if missing:
        raise TrainingError(
            f"stack {layout.stack_name(stage, component)} has no output {', '.join(missing)}: "
            f"deploy the current app with `{deploy_command(stage)}`"
        )
    return {name: outputs[name] for name in names}


def data_bucket(stage: str) -> str:
    return required_outputs(stage, "Storage", layout.OUTPUT_DATA_BUCKET)[layout.OUTPUT_DATA_BUCKET]


def error_code(error: BaseException) -> str | None:
    """The AWS error code of a botocore ClientError, else None."""
    response = getattr(error, "response", None)
    return response.get("Error", {}).get("Code") if isinstance(response, dict) else None


def read_s3_json(s3: Any, bucket: str, key: str) -> Any | None:
    """The JSON object at ``key``; None when there is no such object."""
    try:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except Exception as error:
        if error_code(error) in ("NoSuchKey", "404"):
            return None
        raise
    try:
        return json.loads(body)
    except ValueError:
        raise TrainingError(f"{s3_url(bucket, key)} is not valid JSON: upload the dataset again") from None


@contextmanager
def reported_errors() -> Iterator[None]:
    """Turns botocore's configuration and service errors into one-line TrainingErrors."""
    from botocore.exceptions import (
        ClientError,
        EndpointConnectionError,
        NoCredentialsError,
        NoRegionError,
        PartialCredentialsError,
    )

    try:
        yield
    except NoRegionError:
        raise _no_region() from None
    except (NoCredentialsError, PartialCredentialsError):
        raise TrainingError(
            "no AWS credentials found: run `aws configure` (or `aws sso login`), or set AWS_PROFILE "
            "or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY"
        ) from None
    except EndpointConnectionError as error:
        raise TrainingError(f"cannot reach AWS ({error}): check the network and the region") from None
    except ClientError as error:
        operation = getattr(error, "operation_name", "an AWS call")
        message = error.response.get("Error", {}).get("Message", str(error))
        hint = ""
        if error_code(error) in ("ExpiredToken", "ExpiredTokenException", "InvalidClientTokenId"):
            hint = ": refresh your AWS credentials"
        elif error_code(error) in ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation"):
            hint = ": use credentials allowed to deploy and train this app"
        raise TrainingError(f"{operation} failed: {error_code(error)}: {message}{hint}") from None


def reports_errors(run: Callable[..., Result]) -> Callable[..., Result]:
    """Decorates a command's ``run`` with ``reported_errors``."""

    @functools.wraps(run)
    def wrapper(*args: Any, **kwargs: Any) -> Result:
        with reported_errors():
            return run(*args, **kwargs)

    return wrapper


def _no_region() -> TrainingError:
    return TrainingError(
        "no AWS region configured: set AWS_REGION (or AWS_DEFAULT_REGION), or a region in your "
        "AWS profile, to the region the stacks are deployed in"
    )
