"""``evaluate``: a model's predictions on the validation set, collected and cached, then analysed.

Collecting resumes through the predictions cache (``evaluation_data``'s JSON lines): only images it
lacks are predicted. By Batch Transform (``--job JOB --stage S``, ``predictions_transform``) or
through the deployed API (``--api URL``, ``predictions_api``). With neither, only the offline
analysis runs (``training.evaluation.analysis``): no AWS, and boto3 is never imported.
"""

from __future__ import annotations

import argparse
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from client.api import API_KEY_ENV, endpoint_url
from core import layout
from core.stage_config import STAGES
from training import aws
from training.commands import options
from training.console import format_table, say
from training.errors import TrainingError
from training.evaluation import collection
from training.evaluation.data import ValidationSet, load_validation_set

DEFAULT_CONCURRENCY = 4  # requests to the API at a time
WORST_CLASSES = 5
INSTANCE_TYPE = re.compile(r"^ml\.[a-z0-9]+\.[0-9]*x?large$")
DESCRIPTION = """\
Predict every image of the validation list with a training job's model, caching the predictions
as JSON lines (a re-run predicts only what is missing), then write metrics.json and report.html:
accuracy, top-5, per-class precision and recall, confusions and suspected label errors.

Two ways to collect the predictions:
  --job JOB --stage S   a SageMaker Batch Transform over the job's validation images in S3, on one
                        instance of the stage's endpoint_instance_type: no endpoint has to run
  --api URL --lists OUT the deployed API, sent the local validation images of OUT
Without --job and --api, predictions collected before are analysed offline (no AWS needed).
A dataset prepared with --format recordio works too: its validation images are taken out of
validation.rec (into evaluation/JOB/dataset/) and, for Batch Transform, uploaded for it.
"""
EXAMPLES = """\
examples:
  # predict with the job's model by Batch Transform (no endpoint), then write the report
  python -m training evaluate --job dogbreeds-dev-20260101-120000 --stage dev
  # the same, through the deployed API, from the local prepared dataset
  python -m training evaluate --job dogbreeds-dev-20260101-120000 --lists OUT \\
      --api https://abc123.execute-api.eu-west-1.amazonaws.com/v1/ --api-key KEY
  # analyse cached predictions again, offline, against an earlier run
  python -m training evaluate --lists OUT --predictions evaluation/JOB/predictions.jsonl \\
      --report evaluation/JOB/report --compare evaluation/OLDJOB/report/metrics.json
"""


@dataclass(frozen=True)
class Paths:
    predictions: Path
    report: Path

    @classmethod
    def of(cls, args: argparse.Namespace) -> Paths:
        predictions = args.predictions or collection.default_predictions_path(args.job)
        return cls(predictions, args.report or collection.default_report_dir(args.job, predictions))


def register(subcommands: Any) -> None:
    parser = subcommands.add_parser(
        "evaluate",
        help="predict the validation set with a trained model and write metrics.json and report.html",
        description=DESCRIPTION,
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_collection_options(parser.add_argument_group("collecting predictions"))
    add_file_options(parser.add_argument_group("files"))
    add_analysis_options(parser.add_argument_group("analysis"))
    parser.set_defaults(run=run, usage_error=parser.error)


def add_collection_options(group: Any) -> None:
    group.add_argument(
        "--job",
        type=options.job_name,
        metavar="JOB",
        help="the completed training job to evaluate (with --api: the model the API must be serving)",
    )
    group.add_argument(
        "--stage", choices=sorted(STAGES), help="the stage the job belongs to (needed for Batch Transform)"
    )
    group.add_argument(
        "--instance-type",
        type=instance_type,
        metavar="TYPE",
        help="the Batch Transform's instance (default: the stage's endpoint_instance_type)",
    )
    group.add_argument("--api", metavar="URL", help="predict through the deployed API at this stage URL")
    group.add_argument("--api-key", metavar="KEY", help=f"with --api: the API key (default: ${API_KEY_ENV})")
    group.add_argument(
        "--concurrency",
        type=options.positive_int,
        metavar="N",
        help=f"with --api: requests at a time (default: {DEFAULT_CONCURRENCY})",
    )
    group.add_argument(
        "--collect-only", action="store_true", help="collect the predictions, skip the analysis"
    )


def add_file_options(group: Any) -> None:
    group.add_argument(
        "--lists",
        type=Path,
        metavar="OUT",
        help="the folder prepare made (classes.json, validation.lst, validation/ images); without it "
        "the lists are downloaded from the job's dataset and the report has no thumbnails",
    )
    group.add_argument(
        "--predictions",
        type=Path,
        metavar="FILE",
        help=f"the predictions cache (default: {collection.default_predictions_path('JOB')})",
    )
    group.add_argument(
        "--report",
        type=Path,
        metavar="DIR",
        help="where metrics.json and report.html go (default: evaluation/JOB/report/, or report/ "
        "next to --predictions)",
    )


def add_analysis_options(group: Any) -> None:
    group.add_argument(
        "--compare", type=Path, metavar="METRICS_JSON", help="an earlier evaluation's metrics.json to compare"
    )
    group.add_argument(
        "--suspect-threshold",
        type=probability,
        metavar="P",
        help="flag an image as a suspected label error when another class gets at least P (default: 0.9)",
    )


def instance_type(value: str) -> str:
    if not INSTANCE_TYPE.match(value):
        raise argparse.ArgumentTypeError(f"{value!r} is not a SageMaker instance type like ml.g4dn.xlarge")
    return value


def probability(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if not 0.0 < number <= 1.0:
        raise argparse.ArgumentTypeError(f"{value!r}: expected a probability in (0, 1], e.g. 0.9")
    return number


def run(args: argparse.Namespace) -> int:
    problem = mode_problem(args) or option_problem(args)
    if problem:
        args.usage_error(problem)
    paths = Paths.of(args)
    if args.compare is not None and not args.compare.is_file():
        raise TrainingError(f"--compare {args.compare} does not exist: pass an earlier run's metrics.json")
    dataset_name = None
    if args.api is not None:
        lists_dir = collect_by_api(args, paths)
    elif args.job is not None:
        lists_dir, dataset_name = collect_by_transform(args, paths)
    else:
        lists_dir = args.lists
    if args.collect_only:
        print(f"predictions: {paths.predictions}")
        return 0
    return analyse(args, lists_dir, paths, dataset_name)


def mode_problem(args: argparse.Namespace) -> str | None:
    """What is wrong with the choice of mode: Batch Transform, API or offline analysis."""
    if args.api is not None and args.lists is None:
        return "--api needs --lists OUT: the prepared dataset folder whose validation images it sends"
    if args.job is None and args.predictions is None:
        return (
            "pass --job JOB --stage S to collect predictions, or --lists OUT --predictions FILE "
            "to analyse predictions collected before"
        )
    if args.job is not None and args.api is None and args.stage is None:
        return "--job needs --stage S: the stage whose training job it is"
    if args.job is None and args.api is None and args.lists is None:
        return "analysing --predictions needs --lists OUT: the prepared dataset they were made on"
    if args.api is not None:
        try:
            endpoint_url(args.api)
        except ValueError as error:
            return f"--api: {error}"
    return None


def option_problem(args: argparse.Namespace) -> str | None:
    """An option given where it has no effect."""
    if args.api is None and (args.api_key is not None or args.concurrency is not None):
        return "--api-key and --concurrency apply only with --api"
    if args.job is None and args.api is None and (args.stage or args.instance_type or args.collect_only):
        return "--stage, --instance-type and --collect-only apply only when collecting (--job or --api)"
    if args.api is not None and args.instance_type is not None:
        return "--instance-type is the Batch Transform's: it does not apply with --api"
    if args.collect_only and (args.compare or args.report or args.suspect_threshold is not None):
        return "--collect-only skips the analysis: --report, --compare and --suspect-threshold do not apply"
    return None


def collect_by_transform(args: argparse.Namespace, paths: Paths) -> tuple[Path, str | None]:
    """Predictions by Batch Transform; returns the folder with the lists the analysis reads, and the
    dataset's name when its lists were downloaded (a local folder's own name serves otherwise).

    A RecordIO job's validation images are taken out of the ``.rec`` (local with ``--lists``, else
    downloaded) and uploaded next to its evaluation outputs, where the transform reads them."""
    from training.evaluation import evaluated_job
    from training.evaluation.from_transform import FETCH_WORKERS, TransformCollector, TransformSettings

    with aws.reported_errors():
        sagemaker = aws.client("sagemaker")
        s3 = aws.client("s3", max_pool_connections=FETCH_WORKERS)
        role = aws.stack_outputs(args.stage, "Training").get(layout.OUTPUT_TRAINING_ROLE)
        model = evaluated_job.trained_model(sagemaker, args.job, args.stage, role)
        extract_to = collection.dataset_cache_dir(paths.predictions)
        dataset_name = None
        if args.lists is not None:
            lists_dir, validation = args.lists, load_validation_set(args.lists, extract_to=extract_to)
        else:
            validation = evaluated_job.download_validation_set(s3, model, extract_to)
            recordio = model.validation_records is not None
            lists_dir = extract_to / evaluated_job.RECORDIO_SOURCE if recordio else extract_to
            dataset_name = model.dataset_name
        evaluated_job.check_class_count(model, validation)
        pending = pending_images(validation, paths.predictions, f"{args.job}'s model by Batch Transform")
        if pending and model.validation_records is not None:
            evaluated_job.upload_extracted_images(s3, model, validation, pending)
        if pending:
            settings = TransformSettings(
                args.stage, args.instance_type or options.config(args).endpoint_instance_type
            )
            collector = TransformCollector(sagemaker, s3, model, settings)
            with collection.appending(paths.predictions) as cache:
                whole_set = len(pending) == len(validation.images)
                collector.collect(pending, len(validation.class_names), whole_set, cache)
    return lists_dir, dataset_name


def collect_by_api(args: argparse.Namespace, paths: Paths) -> Path:
    """Predictions through the deployed API; returns ``--lists``."""
    from training.evaluation.from_api import ApiTarget, collect_from_api

    validation = load_validation_set(args.lists, extract_to=collection.dataset_cache_dir(paths.predictions))
    concurrency = args.concurrency or DEFAULT_CONCURRENCY
    pending = pending_images(validation, paths.predictions, f"{args.api}, {concurrency} at a time")
    if not pending:
        return args.lists
    api_key = args.api_key or os.environ.get(API_KEY_ENV) or None
    target = ApiTarget(args.api, api_key, expected_model=args.job, concurrency=concurrency)
    with collection.appending(paths.predictions) as cache:
        failures = collect_from_api(target, validation, pending, cache)
    if failures:
        raise TrainingError(
            f"{len(failures)} of {len(pending)} images failed (see above) and have no prediction: run the "
            "same command again to retry only those, or analyse what was collected with "
            f"`python -m training evaluate --lists {args.lists} --predictions {paths.predictions}`"
        )
    return args.lists


def pending_images(validation: ValidationSet, predictions: Path, how: str) -> list[str]:
    pending = collection.pending_images(validation, predictions)
    total = len(validation.images)
    if pending:
        cached = f" ({total - len(pending)} already in {predictions})" if len(pending) < total else ""
        say(f"predicting {len(pending)} of {total} validation images{cached} with {how}")
    else:
        say(f"all {total} validation images already have a prediction in {predictions}")
    return pending


def analyse(args: argparse.Namespace, lists_dir: Path, paths: Paths, dataset_name: str | None = None) -> int:
    from training.evaluation.analysis import METRICS_FILE, evaluate_offline

    analysis: dict[str, Any] = {"compare_path": args.compare, "job": args.job, "dataset_name": dataset_name}
    if args.suspect_threshold is not None:
        analysis["suspect_threshold"] = args.suspect_threshold
    metrics = evaluate_offline(lists_dir, paths.predictions, paths.report, **analysis)
    from training.evaluation.report import REPORT_FILE

    print(f"metrics: {paths.report / METRICS_FILE}")
    print(f"report:  {paths.report / REPORT_FILE}")
    print(summary(metrics))
    return 0


def summary(metrics: dict[str, Any]) -> str:
    """Accuracy, top-5 and the classes with the lowest recall."""
    missing = metrics.get("missing_predictions") or 0
    without = f" ({missing} listed images have no prediction)" if missing else ""
    macro = metrics.get("macro")
    macro_line = (
        [f"macro precision {macro['precision']:.4f}, recall {macro['recall']:.4f}, F1 {macro['f1']:.4f}"]
        if macro
        else []
    )
    lines = [
        f"accuracy {metrics['accuracy']:.4f}, top-5 accuracy {metrics['top5_accuracy']:.4f} "
        f"on {metrics['images']} images{without}",
        *macro_line,
        f"the {WORST_CLASSES} classes with the lowest recall:",
    ]
    listed = [c for c in metrics["classes"] if c["support"]]
    worst = sorted(listed, key=lambda c: (c["recall"], c["name"]))[:WORST_CLASSES]
    rows = [(c["name"], f"{c['recall']:.4f}", f"{c['precision']:.4f}", str(c["support"])) for c in worst]
    table = format_table(("CLASS", "RECALL", "PRECISION", "IMAGES"), rows)
    return "\n".join(lines + ["  " + line for line in table.splitlines()])
