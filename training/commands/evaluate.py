"""``evaluate SOURCE``: a model's predictions on the validation set, collected and cached, then analysed.

One subcommand per source of predictions, each declaring exactly the options it takes (argparse then
refuses the others itself): ``transform`` (SageMaker Batch Transform), ``api`` (the deployed API),
``local`` (the model on this CPU) and ``predictions`` (a cache collected before: analysis only, no
AWS, and boto3 is never imported). This module only parses and dispatches; the work is in
``training.evaluation`` (``from_transform``, ``from_api``, ``from_local``, ``analysis``).
"""

from __future__ import annotations

import argparse
import os
import re
from pathlib import Path
from typing import Any

from client.api import API_KEY_ENV, endpoint_url
from core.cli_help import Example
from core.stage_config import STAGES
from training.commands import options
from training.console import format_table
from training.errors import TrainingError
from training.evaluation import collection
from training.evaluation.from_local import DEFAULT_BATCH_SIZE

DEFAULT_CONCURRENCY = 4  # requests to the API at a time
WORST_CLASSES = 5
INSTANCE_TYPE = re.compile(r"^ml\.[a-z0-9]+\.[0-9]*x?large$")
PROG_JOB = options.EXAMPLE_JOB
EVALUATE = f"{options.PROG} evaluate"
API_URL = "https://abc123.execute-api.eu-west-1.amazonaws.com/v1/"
DESCRIPTION = """\
Predict every image of the validation list with a trained model, caching the predictions as JSON
lines (a re-run predicts only what is missing), then write metrics.json and report.html: accuracy,
top-5, per-class precision and recall, confusions and suspected label errors.

Where the predictions come from (each SOURCE has its own --help):
  transform    a SageMaker Batch Transform of the job's validation images in S3, on one instance
               of the stage's endpoint_instance_type: billed while it runs, needs AWS credentials
  api          the deployed API (an API key, no AWS credentials), or the local one of scripts/local
  local        the model on this machine's CPU (ONNX Runtime): offline with a model file
  predictions  predictions collected before, analysed again offline
A dataset prepared with --format recordio works with every source: its validation images are taken
out of validation.rec (into dataset/ next to the predictions).
"""
EXAMPLES = (
    "# predict with the job's model by Batch Transform (no endpoint), then write the report",
    f"{EVALUATE} transform --job {PROG_JOB} --stage dev",
    "# the same model on this CPU, from the local prepared dataset",
    f"{EVALUATE} local --model {PROG_JOB} --lists OUT",
    "# through the deployed API",
    (f"{EVALUATE} api --url {API_URL}", f"--api-key KEY --job {PROG_JOB} --lists OUT"),
    "# analyse cached predictions again, offline, against an earlier run",
    (
        f"{EVALUATE} predictions --lists OUT",
        "--predictions evaluation/JOB/predictions.jsonl --report evaluation/JOB/report",
        "--compare evaluation/OLDJOB/report/metrics.json",
    ),
)
TRANSFORM_EXAMPLES = (
    f"{EVALUATE} transform --job {PROG_JOB} --stage dev",
    (
        f"{EVALUATE} transform --job {PROG_JOB} --stage dev",
        "--lists OUT --instance-type ml.m5.xlarge --collect-only",
    ),
)
API_EXAMPLES = (
    (f"{EVALUATE} api --url {API_URL}", f"--api-key KEY --job {PROG_JOB} --lists OUT"),
    "# the API served on 127.0.0.1 by scripts/local",
    (
        f"{EVALUATE} api --url http://127.0.0.1:8080/v1/ --api-key KEY",
        "--lists OUT --predictions evaluation/local-api/predictions.jsonl",
    ),
)
LOCAL_EXAMPLES = (
    (f"{EVALUATE} local --model model.tar.gz --lists OUT", f"--job {PROG_JOB}"),
    "# a training job's model or an s3:// URL is downloaded first (AWS credentials needed)",
    f"{EVALUATE} local --model {PROG_JOB} --lists OUT",
    (f"{EVALUATE} local --lists OUT", f"--model s3://BUCKET/training/output/{PROG_JOB}/output/model.tar.gz"),
)
PREDICTIONS_EXAMPLES = (
    f"{EVALUATE} predictions --lists OUT --predictions evaluation/JOB/predictions.jsonl",
    (
        f"{EVALUATE} predictions --lists OUT",
        "--predictions evaluation/JOB/predictions.jsonl --report evaluation/JOB/report",
        "--compare evaluation/OLDJOB/report/metrics.json",
    ),
)


def register(subcommands: Any) -> None:
    parser = options.command_parser(
        subcommands,
        "evaluate",
        summary="predict the validation set with a trained model and write metrics.json and report.html",
        description=DESCRIPTION,
        example_list=EXAMPLES,
    )
    sources = parser.add_subparsers(dest="source", required=True, metavar="SOURCE")
    register_transform(sources)
    register_api(sources)
    register_local(sources)
    register_predictions(sources)


def _source_parser(
    sources: Any, name: str, summary: str, description: str, examples: tuple[Example, ...]
) -> Any:
    parser = options.command_parser(
        sources, name, summary=summary, description=description, example_list=examples
    )
    parser.set_defaults(usage_error=parser.error)
    return parser


def register_transform(sources: Any) -> None:
    parser = _source_parser(
        sources,
        "transform",
        "predict by SageMaker Batch Transform (no endpoint; billed while it runs)",
        "Predict the job's validation images in S3 with a Batch Transform of the job's model on one "
        "instance, then analyse. Outputs already in S3 are read, not paid for again.\n\n" + options.NEEDS_AWS,
        TRANSFORM_EXAMPLES,
    )
    model = parser.add_argument_group("the model")
    model.add_argument(
        "--job", required=True, type=options.job_name, metavar="JOB", help="the completed training job"
    )
    model.add_argument("--stage", required=True, choices=sorted(STAGES), help="the stage the job belongs to")
    model.add_argument(
        "--instance-type",
        type=instance_type,
        metavar="TYPE",
        help="the transform's instance (default: the stage's endpoint_instance_type)",
    )
    add_files(
        parser,
        lists_help="the folder prepare made; without it the job's lists are downloaded "
        "and the report has no thumbnails",
    )
    add_collect_only(parser)
    add_analysis(parser)
    parser.set_defaults(run=run_transform)


def register_api(sources: Any) -> None:
    parser = _source_parser(
        sources,
        "api",
        "predict through the deployed API (or the local one)",
        "Send the local validation images to the API a few at a time (retrying on 429/503), then "
        "analyse. Give --job (the model the API must serve) or --predictions: the cache's place. "
        "Needs the API's URL and key, not AWS credentials.",
        API_EXAMPLES,
    )
    target = parser.add_argument_group("the API")
    target.add_argument("--url", required=True, type=api_url, metavar="URL", help="the API's stage URL")
    target.add_argument("--api-key", metavar="KEY", help=f"the API key (default: ${API_KEY_ENV})")
    target.add_argument(
        "--concurrency",
        type=options.positive_int,
        default=DEFAULT_CONCURRENCY,
        metavar="N",
        help=f"requests at a time (default: {DEFAULT_CONCURRENCY})",
    )
    target.add_argument(
        "--job",
        type=options.job_name,
        metavar="JOB",
        help="the training job whose model the API must be serving (names the default --predictions)",
    )
    add_files(parser, lists_required=True)
    add_collect_only(parser)
    add_analysis(parser)
    parser.set_defaults(run=run_api)


def register_local(sources: Any) -> None:
    parser = _source_parser(
        sources,
        "local",
        "predict on this machine's CPU (ONNX Runtime; no Batch Transform, no endpoint)",
        "Load the trained model as `python -m local` does (the MXNet artifact converted to ONNX) and "
        "predict the local validation images in batches on the CPU, with images per second shown, then "
        "analyse. A ResNet-50 does about 1.5 images/s on 2 cores: the full 4,116-image validation set "
        "of Stanford Dogs takes about 45 minutes, and a re-run resumes where it stopped.\n\n"
        "Works offline with a model file or folder; a training job name or an s3:// URL as --model is "
        "downloaded first, with AWS credentials for the job's account.",
        LOCAL_EXAMPLES,
    )
    model = parser.add_argument_group("the model")
    model.add_argument(
        "--model",
        required=True,
        metavar="SOURCE",
        help="a model.tar.gz (or its extracted folder), an s3:// URL of one, or a training job name",
    )
    model.add_argument(
        "--job",
        type=options.job_name,
        metavar="JOB",
        help="the training job that made the model (default: --model's job, when it names one); names "
        "the default --predictions and the model in metrics.json",
    )
    model.add_argument(
        "--batch-size",
        type=options.positive_int,
        default=DEFAULT_BATCH_SIZE,
        metavar="N",
        help=f"images per runtime call (default: {DEFAULT_BATCH_SIZE})",
    )
    add_files(parser, lists_required=True)
    add_collect_only(parser)
    add_analysis(parser)
    parser.set_defaults(run=run_local)


def register_predictions(sources: Any) -> None:
    parser = _source_parser(
        sources,
        "predictions",
        "analyse predictions collected before (offline)",
        "Analyse a predictions cache made by another source: metrics.json and report.html. Works "
        "offline: nothing is read from AWS, and boto3 is not even imported.",
        PREDICTIONS_EXAMPLES,
    )
    parser.add_argument(
        "--job",
        type=options.job_name,
        metavar="JOB",
        help="the evaluated model's training job, for the report",
    )
    add_files(parser, lists_required=True, predictions_required=True)
    add_analysis(parser)
    parser.set_defaults(run=run_predictions, collect_only=False)


def add_files(
    parser: Any, *, lists_required: bool = False, predictions_required: bool = False, lists_help: str = ""
) -> None:
    group = parser.add_argument_group("files")
    group.add_argument(
        "--lists",
        type=Path,
        required=lists_required,
        metavar="OUT",
        help=lists_help
        or "the folder prepare made (classes.json, validation.lst and images, or validation.rec)",
    )
    group.add_argument(
        "--predictions",
        type=Path,
        required=predictions_required,
        metavar="FILE",
        help="the predictions cache"
        + ("" if predictions_required else f" (default: {collection.default_predictions_path('JOB')})"),
    )


def add_collect_only(parser: Any) -> None:
    parser.add_argument(
        "--collect-only", action="store_true", help="collect the predictions, skip the analysis"
    )


def add_analysis(parser: Any) -> None:
    group = parser.add_argument_group("analysis")
    group.add_argument(
        "--report",
        type=Path,
        metavar="DIR",
        help="where metrics.json and report.html go (default: evaluation/JOB/report/, or report/ "
        "next to --predictions)",
    )
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


def api_url(value: str) -> str:
    try:
        endpoint_url(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return value


def probability(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if not 0.0 < number <= 1.0:
        raise argparse.ArgumentTypeError(f"{value!r}: expected a probability in (0, 1], e.g. 0.9")
    return number


# --- Running ---------------------------------------------------------------------------------------
def run_transform(args: argparse.Namespace) -> int:
    from training.evaluation.from_transform import TransformRequest, TransformSettings, collect

    predictions = prepared(args, args.job)
    settings = TransformSettings(
        args.stage, args.instance_type or options.config(args).endpoint_instance_type
    )
    lists_dir, dataset_name = collect(TransformRequest(args.job, settings, predictions, args.lists))
    return analyse_unless_collect_only(args, args.job, lists_dir, predictions, dataset_name)


def run_api(args: argparse.Namespace) -> int:
    from training.evaluation.from_api import ApiTarget, collect

    predictions = prepared(args, args.job)
    api_key = args.api_key or os.environ.get(API_KEY_ENV) or None
    collect(ApiTarget(args.url, api_key, args.job, args.concurrency), args.lists, predictions)
    return analyse_unless_collect_only(args, args.job, args.lists, predictions)


def run_local(args: argparse.Namespace) -> int:
    from training.evaluation.from_local import LocalRequest, collect, job_of_model

    job = args.job or job_of_model(args.model)
    predictions = prepared(args, job, f"--model {args.model} names no training job")
    collect(LocalRequest(args.model, args.lists, predictions, args.batch_size))
    return analyse_unless_collect_only(args, job, args.lists, predictions)


def run_predictions(args: argparse.Namespace) -> int:
    prepared(args, args.job)
    return analyse(args, args.job, args.lists, args.predictions)


def prepared(args: argparse.Namespace, job: str | None, why_no_job: str = "no --job") -> Path:
    """The predictions cache's path (``--predictions``, else the job's default), after refusing what
    cannot work before anything is collected."""
    if args.collect_only and (args.report or args.compare or args.suspect_threshold is not None):
        args.usage_error(
            "--collect-only skips the analysis: --report, --compare and --suspect-threshold do not apply"
        )
    if args.compare is not None and not args.compare.is_file():
        raise TrainingError(f"--compare {args.compare} does not exist: pass an earlier run's metrics.json")
    if args.predictions is not None:
        return Path(args.predictions)
    if job is not None:
        return collection.default_predictions_path(job)
    args.usage_error(f"{why_no_job}: pass --job JOB or --predictions FILE, where the predictions go")
    raise AssertionError("unreachable: usage_error exits")


def analyse_unless_collect_only(
    args: argparse.Namespace, job: str | None, lists_dir: Path, predictions: Path, dataset: str | None = None
) -> int:
    if args.collect_only:
        print(f"predictions: {predictions}")
        return 0
    return analyse(args, job, lists_dir, predictions, dataset)


def analyse(
    args: argparse.Namespace, job: str | None, lists_dir: Path, predictions: Path, dataset: str | None = None
) -> int:
    from training.evaluation.analysis import METRICS_FILE, evaluate_offline
    from training.evaluation.report import REPORT_FILE

    report = args.report or collection.default_report_dir(job, predictions)
    analysis: dict[str, Any] = {"compare_path": args.compare, "job": job, "dataset_name": dataset}
    if args.suspect_threshold is not None:
        analysis["suspect_threshold"] = args.suspect_threshold
    metrics = evaluate_offline(lists_dir, predictions, report, **analysis)
    print(f"metrics: {report / METRICS_FILE}")
    print(f"report:  {report / REPORT_FILE}")
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
