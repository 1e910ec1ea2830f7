"""The endpoint call's worst case fits in the Lambda timeout, which fits in API Gateway's."""

from __future__ import annotations

import predict_handler

from core import api_contract as contract


def worst_case_endpoint_seconds() -> int:
    per_attempt = contract.ENDPOINT_CONNECT_TIMEOUT_SECONDS + contract.ENDPOINT_READ_TIMEOUT_SECONDS
    backoffs = (contract.ENDPOINT_MAX_ATTEMPTS - 1) * contract.ENDPOINT_MAX_BACKOFF_SECONDS
    return per_attempt * contract.ENDPOINT_MAX_ATTEMPTS + backoffs


def test_worst_case_endpoint_call_ends_before_the_lambda_timeout():
    assert worst_case_endpoint_seconds() < contract.LAMBDA_TIMEOUT_SECONDS


def test_lambda_timeout_ends_before_the_api_gateway_timeout():
    assert contract.LAMBDA_TIMEOUT_SECONDS < contract.API_GATEWAY_TIMEOUT_SECONDS


def test_handler_client_uses_the_contract_timeouts_and_attempts():
    config = predict_handler.sagemaker_runtime_client().meta.config

    assert config.connect_timeout == contract.ENDPOINT_CONNECT_TIMEOUT_SECONDS
    assert config.read_timeout == contract.ENDPOINT_READ_TIMEOUT_SECONDS
    assert config.retries == {"total_max_attempts": contract.ENDPOINT_MAX_ATTEMPTS, "mode": "standard"}


def test_handler_client_is_created_once_per_container():
    assert predict_handler.sagemaker_runtime_client() is predict_handler.sagemaker_runtime_client()
