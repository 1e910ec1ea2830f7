"""The web page is deployed with the API: GET / on the same stage, a MOCK integration, no key."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from aws_cdk.assertions import Match

from stacks.constructs.predict_api import PAGE_FILE, page_template


def page_method(template) -> dict:
    methods = template.find_resources("AWS::ApiGateway::Method", {"Properties": {"HttpMethod": "GET"}})
    (method,) = methods.values()
    return method["Properties"]


def test_get_root_serves_the_page_from_a_mock_integration_without_a_key(dev) -> None:
    method = page_method(dev.serving)
    assert method["ApiKeyRequired"] is False
    assert method["AuthorizationType"] == "NONE"
    integration = method["Integration"]
    assert integration["Type"] == "MOCK"
    (response,) = integration["IntegrationResponses"]
    assert response["ResponseTemplates"]["text/html"] == page_template()
    assert (
        response["ResponseParameters"]["method.response.header.Content-Type"] == "'text/html; charset=utf-8'"
    )


def test_the_page_in_the_template_is_the_file_inside_an_unparsed_velocity_block(dev) -> None:
    template = page_method(dev.serving)["Integration"]["IntegrationResponses"][0]["ResponseTemplates"][
        "text/html"
    ]
    assert template == "#[[" + PAGE_FILE.read_text(encoding="utf-8") + "]]#"


def test_a_page_that_would_end_the_unparsed_block_is_refused(tmp_path: Path) -> None:
    page = tmp_path / "index.html"
    page.write_text("<p>]]#</p>")
    with pytest.raises(ValueError, match=r"\]\]#"):
        page_template(page)


def test_the_unauthenticated_page_is_acknowledged_to_cdk_nag_with_a_reason(dev) -> None:
    (logical_id,) = dev.serving.find_resources(
        "AWS::ApiGateway::Method", {"Properties": {"HttpMethod": "GET"}}
    )
    stack = dev.stage.serving.artifact_id
    metadata = json.loads((dev.outdir / f"{stack}.metadata.json").read_text())
    path = next(
        path
        for path, entries in metadata.items()
        if any(e["type"] == "aws:cdk:logicalId" and e["data"] == logical_id for e in entries)
    )
    reasons = {
        finding: reason
        for entry in metadata[path.removesuffix("/Resource")] + metadata[path]
        if entry["type"] == "aws:cdk:acknowledged-rules"
        for finding, reason in entry["data"].items()
    }
    assert {"AwsSolutions-APIG4", "AwsSolutions-COG4"} <= {f.removeprefix("Annotation::") for f in reasons}
    assert all("static web page" in reason for reason in reasons.values())


def test_the_stack_outputs_the_page_url(dev) -> None:
    dev.serving.has_output("PageUrl", {"Value": Match.any_value()})
