"""What the ``evaluate`` collection tests build: a small validation set (locally and in moto's S3),
a training job that read it, SageMaker's part of a Batch Transform, and a stand-in for the API.

moto creates a transform job already Completed and never runs it, so ``TransformSimulator`` plays
SageMaker: when the command calls CreateTransformJob, it writes ``<image>.out`` for every image the
request covers (the validation prefix, or a manifest's list) into moto's S3.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cli_aws_helpers import ACCOUNT, CLASSES, REGION, DeployedStage, create_training_job, moto_client
from prepare_trees import image_bytes

from core import layout
from core.api_contract import INTERNAL, error_body, prediction_body
from training import aws

JOB = "dogbreeds-dev-20260101-120000"
CLASS_NAMES = [c["name"] for c in CLASSES]
# Six validation images, two per class; the model takes the last one for a beagle.
VALIDATION = {f"{CLASSES[i % 3]['wnid']}/{i}.jpg": i % 3 for i in range(6)}
WRONG_IMAGE = f"{CLASSES[2]['wnid']}/5.jpg"
DATASET_PREFIX = layout.dataset_prefix(layout.DEFAULT_DATASET_NAME)
OUTPUT_PREFIX = f"{layout.TRAINING_OUTPUT_PREFIX}{JOB}/evaluation/transform/"


def probabilities_for(image: str) -> list[float]:
    """The model's answer for ``image``: 0.8 on its class (beagle for WRONG_IMAGE), 0.1 elsewhere."""
    predicted = 1 if image == WRONG_IMAGE else VALIDATION[image]
    return [0.8 if class_id == predicted else 0.1 for class_id in range(len(CLASSES))]


def validation_list() -> str:
    return "".join(
        f"{index}\t{class_id}\t{image}\n" for index, (image, class_id) in enumerate(VALIDATION.items())
    )


def jpeg_of(image: str) -> bytes:
    """A distinct small JPEG per image, so the stand-in API knows which one it was sent."""
    number = list(VALIDATION).index(image)
    return image_bytes("RGB", (32, 24), (40 * number, 100, 200 - 30 * number))


def write_local_dataset(root: Path) -> Path:
    """The folder ``prepare --out`` makes, validation part only."""
    for image in VALIDATION:
        (root / "validation" / image).parent.mkdir(parents=True, exist_ok=True)
        (root / "validation" / image).write_bytes(jpeg_of(image))
    (root / layout.list_file("validation")).write_text(validation_list())
    (root / layout.CLASSES_FILE).write_text(json.dumps(CLASSES))
    return root


def upload_dataset(bucket: str) -> None:
    """The dataset as ``upload`` leaves it: classes, validation list and images."""
    s3 = moto_client("s3")
    s3.put_object(Bucket=bucket, Key=DATASET_PREFIX + layout.CLASSES_FILE, Body=json.dumps(CLASSES))
    s3.put_object(Bucket=bucket, Key=DATASET_PREFIX + "validation.lst", Body=validation_list().encode())
    for image in VALIDATION:
        s3.put_object(Bucket=bucket, Key=f"{DATASET_PREFIX}validation/{image}", Body=jpeg_of(image))


def create_evaluated_job(deployed: DeployedStage, *, fmt: str = "lst", **kwargs: Any) -> None:
    """A completed training job whose channels are those of the uploaded dataset."""
    channels = layout.input_channels(deployed.bucket, DATASET_PREFIX, fmt)
    create_training_job(deployed, JOB, input_data_config=channels, **kwargs)


def put_outputs(bucket: str, images: list[str]) -> None:
    """What a transform writes: ``<image>.out`` under the output path, a JSON list of probabilities."""
    s3 = moto_client("s3")
    for image in images:
        body = json.dumps(probabilities_for(image)).encode()
        s3.put_object(Bucket=bucket, Key=f"{OUTPUT_PREFIX}{image}.out", Body=body)


def set_transform_status(name: str, status: str, reason: str = "") -> None:
    """moto makes every transform Completed at once, with no API to change it: set it on its backend."""
    from moto.sagemaker.models import sagemaker_backends

    job = sagemaker_backends[ACCOUNT][REGION].transform_jobs[name]
    job.transform_job_status = status
    job.failure_reason = reason


@dataclass
class TransformSimulator:
    """Records the command's SageMaker requests and S3 reads, and plays the transform each
    CreateTransformJob starts: it writes the outputs of the images it covers but ``unreadable``
    ones (the job then Failed), or with ``leaves_running`` nothing (the job stays InProgress)."""

    bucket: str
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    read_keys: list[str] = field(default_factory=list)
    unreadable: set[str] = field(default_factory=set)
    leaves_running: bool = False

    def install(self, monkeypatch: pytest.MonkeyPatch) -> TransformSimulator:
        create = aws.client

        def recording_client(service: str, **kwargs: Any) -> Any:
            client = create(service, **kwargs)
            if service == "sagemaker":
                client.meta.events.register("before-parameter-build.sagemaker", self.record)
                client.meta.events.register("after-call.sagemaker.CreateTransformJob", self.run_transform)
            if service == "s3":
                client.meta.events.register("before-parameter-build.s3.GetObject", self.record_read)
            return client

        monkeypatch.setattr(aws, "client", recording_client)
        return self

    def requests(self, operation: str) -> list[dict[str, Any]]:
        return [params for name, params in self.calls if name == operation]

    def output_reads(self) -> list[str]:
        return [key for key in self.read_keys if key.startswith(OUTPUT_PREFIX)]

    def record(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        self.calls.append((model.name, params))

    def record_read(self, params: dict[str, Any], **_: Any) -> None:
        self.read_keys.append(params["Key"])

    def run_transform(self, **_: Any) -> None:
        request = self.requests("CreateTransformJob")[-1]
        name = request["TransformJobName"]
        if self.leaves_running:
            set_transform_status(name, "InProgress")
            return
        images = self.covered_images(request)
        put_outputs(self.bucket, [image for image in images if image not in self.unreadable])
        if self.unreadable & set(images):
            set_transform_status(name, "Failed", "ClientError: unable to decode the image")

    def covered_images(self, request: dict[str, Any]) -> list[str]:
        source = request["TransformInput"]["DataSource"]["S3DataSource"]
        key = source["S3Uri"].removeprefix(f"s3://{self.bucket}/")
        s3 = moto_client("s3")
        if source["S3DataType"] == "ManifestFile":
            return json.loads(s3.get_object(Bucket=self.bucket, Key=key)["Body"].read())[1:]
        listed = s3.list_objects_v2(Bucket=self.bucket, Prefix=key).get("Contents", [])
        return [item["Key"][len(key) :] for item in listed]


# --- A stand-in for the deployed API -------------------------------------------------------------
@dataclass
class StandInApi:
    """POST /predict answering ``prediction_body`` for the image it recognises; ``throttle_once``
    images get one 429 (Retry-After: 0) first, ``always_fail`` images a 500 every time."""

    model: str = JOB
    throttle_once: set[str] = field(default_factory=set)
    always_fail: set[str] = field(default_factory=set)
    delay_seconds: float = 0.05
    requests: list[str] = field(default_factory=list)
    api_keys: set[str | None] = field(default_factory=set)
    max_concurrent: int = 0
    _active: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, body: dict[str, Any], api_key: str | None) -> tuple[int, dict[str, Any], dict[str, str]]:
        image = IMAGE_OF_JPEG[base64.b64decode(body["image"])]
        with self._lock:
            self.requests.append(image)
            self.api_keys.add(api_key)
            self._active += 1
            self.max_concurrent = max(self.max_concurrent, self._active)
        time.sleep(self.delay_seconds)
        with self._lock:
            self._active -= 1
            if image in self.throttle_once:
                self.throttle_once.discard(image)
                return (
                    429,
                    {"error": {"code": "TooManyRequests", "message": "slow down"}},
                    {"Retry-After": "0"},
                )
        if image in self.always_fail:
            return 500, error_body(INTERNAL, "the function failed"), {}
        return 200, prediction_body(probabilities_for(image), CLASS_NAMES, body["topK"], self.model), {}


IMAGE_OF_JPEG = {jpeg_of(image): image for image in VALIDATION}


@contextmanager
def serving(api: StandInApi) -> Iterator[str]:
    """``api`` on 127.0.0.1 (a free port) in a thread; yields its stage URL."""
    handler = _handler(api.answer)
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1/"
    finally:
        server.shutdown()
        server.server_close()


def _handler(
    answer: Callable[[dict[str, Any], str | None], tuple[int, dict[str, Any], dict[str, str]]],
) -> type:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            status, payload, headers = answer(body, self.headers.get("x-api-key"))
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *_: Any) -> None:
            pass

    return Handler
