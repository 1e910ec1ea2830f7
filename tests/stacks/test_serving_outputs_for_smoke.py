"""The Serving stack declares the outputs the smoke test (smoke/outputs.py) reads, under those names."""

from smoke.outputs import OUTPUT_API_KEY_ID, OUTPUT_ENDPOINT_NAME, OUTPUT_MODEL_VERSION, OUTPUT_PREDICT_URL


def test_serving_stack_declares_every_output_the_smoke_test_reads(dev):
    outputs = set(dev.serving.to_json()["Outputs"])
    assert {OUTPUT_PREDICT_URL, OUTPUT_MODEL_VERSION, OUTPUT_API_KEY_ID, OUTPUT_ENDPOINT_NAME} <= outputs


def test_a_stage_without_a_model_has_no_endpoint_output(dev_without_model):
    assert OUTPUT_ENDPOINT_NAME not in dev_without_model.serving.to_json()["Outputs"]
