"""What the smoke test needs from AWS: the Serving stack's outputs and the value of its API key."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from core.layout import (
    OUTPUT_API_KEY_ID,
    OUTPUT_ENDPOINT_NAME,
    OUTPUT_MODEL_VERSION,
    OUTPUT_PREDICT_URL,
    stack_name,
)

DEPLOYED_STATUSES = ("CREATE_COMPLETE", "UPDATE_COMPLETE")


class SmokeError(Exception):
    """The smoke test cannot run or has failed; the message says what to do."""


@dataclass(frozen=True)
class ServingOutputs:
    stack_name: str
    predict_url: str
    model_version: str
    api_key_id: str | None
    endpoint_name: str | None

    @property
    def has_endpoint(self) -> bool:
        return self.endpoint_name is not None


def read_serving_outputs(cloudformation: Any, stage: str) -> ServingOutputs:
    """The outputs of ``stage``'s Serving stack; ``SmokeError`` when it is missing or unfinished."""
    name = stack_name(stage, "Serving")
    try:
        stack = cloudformation.describe_stacks(StackName=name)["Stacks"][0]
    except ClientError as error:
        message = error.response.get("Error", {}).get("Message", str(error))
        if "does not exist" in message:
            raise SmokeError(
                f"stack {name} does not exist in {region_of(cloudformation)}: deploy the stage first "
                f"(npx cdk deploy --all -c stage={stage}) or pass the region it is in with --region"
            ) from None
        raise SmokeError(f"cannot read stack {name}: {message}") from None
    except NoCredentialsError:
        raise SmokeError(
            f"no AWS credentials to read stack {name}: sign in to the stage's account "
            "(aws sso login, a profile, or environment variables) and run again"
        ) from None
    except BotoCoreError as error:
        raise SmokeError(f"cannot read stack {name}: {error}") from None
    status = stack.get("StackStatus", "")
    if status not in DEPLOYED_STATUSES:
        raise SmokeError(
            f"stack {name} is {status}, not deployed: its last deploy failed or is still running; "
            "see its events in the CloudFormation console"
        )
    outputs = {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])}
    missing = [key for key in (OUTPUT_PREDICT_URL, OUTPUT_MODEL_VERSION) if not outputs.get(key)]
    if missing:
        raise SmokeError(f"stack {name} has no output {', '.join(missing)}: is it this app's Serving stack?")
    return ServingOutputs(
        stack_name=name,
        predict_url=outputs[OUTPUT_PREDICT_URL],
        model_version=outputs[OUTPUT_MODEL_VERSION],
        api_key_id=outputs.get(OUTPUT_API_KEY_ID) or None,
        endpoint_name=outputs.get(OUTPUT_ENDPOINT_NAME) or None,
    )


def read_api_key(apigateway: Any, key_id: str) -> str:
    """The value of API key ``key_id`` (``aws apigateway get-api-key --include-value``)."""
    try:
        return apigateway.get_api_key(apiKey=key_id, includeValue=True)["value"]
    except ClientError as error:
        message = error.response.get("Error", {}).get("Message", str(error))
        raise SmokeError(
            f"cannot read the value of API key {key_id}: {message} "
            "(the credentials need apigateway:GET, which the CDK lookup role has)"
        ) from None
    except (BotoCoreError, KeyError) as error:
        raise SmokeError(f"cannot read the value of API key {key_id}: {error}") from None


def region_of(client: Any) -> str:
    return client.meta.region_name or "the default region"
