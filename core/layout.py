"""Names shared by data preparation, upload, the training stack and the CLI: one place for each.

A prepared dataset (``python -m training prepare ... --out OUT``) looks the same on disk and, once
uploaded, under ``s3://<data bucket>/datasets/<name>/``:

    classes.json       [{"id": 0, "name": "Chihuahua", "wnid": "n02085620"}, ...]
    train.lst          index<TAB>class_id<TAB>path  (relative to train/)
    validation.lst     the same, relative to validation/
    train/ validation/ the images, under separate prefixes (an algorithm requirement)
    report.json        counts per class and split, skipped files with reasons, the format
  or, with --format recordio, instead of the lists and image folders:
    train.rec train.idx validation.rec validation.idx
"""

from __future__ import annotations

import re
from typing import Any, Literal

APP_NAME = "DogBreeds"

# --- Files of a prepared dataset ---------------------------------------------------------------
CLASSES_FILE = "classes.json"
REPORT_FILE = "report.json"
SPLITS = ("train", "validation")
Format = Literal["lst", "recordio"]
FORMATS: tuple[Format, ...] = ("lst", "recordio")


def list_file(split: str) -> str:
    return f"{split}.lst"


def image_dir(split: str) -> str:
    return f"{split}/"


def record_file(split: str) -> str:
    return f"{split}.rec"


def index_file(split: str) -> str:
    return f"{split}.idx"


# --- The data bucket ---------------------------------------------------------------------------
DATASETS_PREFIX = "datasets/"
TRAINING_OUTPUT_PREFIX = "training/output/"
CHECKPOINTS_PREFIX = "training/checkpoints/"
DATA_CAPTURE_PREFIX = "data-capture/"  # the endpoint's captured requests and responses
DEFAULT_DATASET_NAME = "stanford-dogs"
# A dataset prepared with --breeds (the blog tuned on 10 breeds): what `tune` uses by default.
SUBSET_DATASET_NAME = "stanford-dogs-subset"


def dataset_prefix(name: str) -> str:
    """``datasets/<name>/``: where ``upload`` puts a prepared dataset and training reads it."""
    return f"{DATASETS_PREFIX}{name.strip('/')}/"


# --- Stacks and their outputs ------------------------------------------------------------------
def stack_name(stage: str, component: str) -> str:
    return f"{APP_NAME}-{stage}-{component}"


OUTPUT_DATA_BUCKET = "DataBucketName"  # Storage
OUTPUT_STATE_MACHINE = "TrainingStateMachineArn"  # Training
OUTPUT_TRAINING_ROLE = "TrainingRoleArn"  # Training
OUTPUT_ALGORITHM_IMAGE = "AlgorithmImageUri"  # Training
OUTPUT_MODEL_PACKAGE_GROUP = "ModelPackageGroupName"  # Training
OUTPUT_PREDICT_URL = "PredictUrl"  # Serving
OUTPUT_PAGE_URL = "PageUrl"  # Serving
OUTPUT_MODEL_VERSION = "ModelVersion"  # Serving
OUTPUT_API_KEY_ID = "ApiKeyId"  # Serving
OUTPUT_ENDPOINT_NAME = "EndpointName"  # Serving; absent when the stage deploys no endpoint
OUTPUT_ALARM_TOPIC = "AlarmTopicArn"  # Serving
OUTPUT_DASHBOARD = "DashboardName"  # Serving

# --- Jobs --------------------------------------------------------------------------------------
# SageMaker's rule for job, endpoint and model names: 1-63 letters, digits and hyphens, starting
# and ending with a letter or digit.
SAGEMAKER_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
SAGEMAKER_NAME_RULE = "1-63 letters, digits and hyphens, starting and ending with a letter or digit"


def is_sagemaker_name(name: object) -> bool:
    return isinstance(name, str) and SAGEMAKER_NAME.match(name) is not None


# Every training and tuning job the product starts carries these tags, so `status`, `stop` and
# the training stack's destroy-time clean-up find exactly the stage's jobs.
TAG_PROJECT = "Project"
TAG_STAGE = "Stage"


def training_job_prefix(stage: str) -> str:
    """Training jobs are named ``<prefix><time>``; the workflow may only run jobs so named."""
    return f"{APP_NAME.lower()}-{stage}-"


def job_tags(stage: str) -> list[dict[str, str]]:
    return [{"Key": TAG_PROJECT, "Value": APP_NAME}, {"Key": TAG_STAGE, "Value": stage}]


# --- The algorithm's input channels ------------------------------------------------------------
CONTENT_TYPES: dict[str, str] = {"lst": "application/x-image", "recordio": "application/x-recordio"}


def input_channels(bucket: str, prefix: str, fmt: str) -> list[dict[str, Any]]:
    """The channels of a dataset uploaded under ``prefix``: images and lists (``lst``) or RecordIO
    files, train and validation under different prefixes, as the algorithm requires. Used by the
    training workflow's data check and by ``tune``."""
    sources = {}
    for split in SPLITS:
        if fmt == "lst":
            sources[split] = prefix + image_dir(split)
            sources[f"{split}_lst"] = prefix + list_file(split)
        else:
            sources[split] = prefix + record_file(split)
    return [
        {
            "ChannelName": channel,
            "ContentType": CONTENT_TYPES[fmt],
            "DataSource": {
                "S3DataSource": {
                    "S3DataType": "S3Prefix",
                    "S3Uri": f"s3://{bucket}/{key}",
                    "S3DataDistributionType": "FullyReplicated",
                }
            },
        }
        for channel, key in sources.items()
    ]
