"""``upload OUT --stage S``: copy a prepared dataset to ``s3://<data bucket>/datasets/<name>/``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from core import layout
from training import aws
from training.commands import options
from training.console import say
from training.data.datasets import dataset_name
from training.data.upload import MIB, MULTIPART_THRESHOLD, Plan, execute, offline_plan, plan_upload
from training.errors import TrainingError

DRY_RUN_LISTED = 20


def register(subcommands: Any) -> None:
    parser = options.command_parser(
        subcommands,
        "upload",
        summary="upload a prepared dataset to the stage's data bucket (resumable)",
        description=(
            "Upload a dataset folder made by `prepare` to s3://<data bucket>/datasets/<name>/. "
            "Files already there with the same content are skipped, so an interrupted upload "
            "resumes and a repeated one uploads nothing. Objects under datasets/<name>/ that the "
            "folder no longer has (after `prepare` again into the same folder) are deleted, each "
            "listed first, so S3 then holds exactly the folder; nothing outside that prefix is "
            "touched. report.json goes last: a dataset with report.json in S3 is complete. "
            "Hidden files are not uploaded.\n\n"
            f"{options.NEEDS_AWS} --dry-run works offline: without AWS access it lists every file."
        ),
        example_list=(
            f"{options.PROG} upload ~/data/dogs --stage dev --dry-run",
            f"{options.PROG} upload ~/data/dogs --stage dev",
            f"{options.PROG} upload ~/data/subset --stage dev --dataset dogs-10-breeds --workers 32",
        ),
    )
    parser.add_argument("out", type=Path, metavar="OUT", help="the folder `prepare --out` wrote")
    options.add_stage(parser)
    parser.add_argument(
        "--dataset",
        type=options.dataset_name,
        metavar="NAME",
        help=(
            f"the dataset's name in S3 (default: {layout.SUBSET_DATASET_NAME} for a breed subset, "
            f"else {layout.DEFAULT_DATASET_NAME})"
        ),
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="show what would be uploaded and deleted, change nothing; works offline (without "
        "AWS access it lists every file, saying that S3 could not be compared)",
    )
    parser.add_argument(
        "--workers", type=options.positive_int, default=16, metavar="N", help="parallel uploads (default: 16)"
    )
    parser.set_defaults(run=run)


@aws.reports_errors
def run(args: argparse.Namespace) -> int:
    from boto3.s3.transfer import TransferConfig

    report = read_local_report(args.out)
    name = args.dataset or dataset_name(explicit=None, subset=report.get("breeds_subset") is True)
    prefix = layout.dataset_prefix(name)
    if args.dry_run:
        plan = dry_run_plan(args.stage, prefix, args.out, args.workers)
        say(plan.summary())
        print_dry_run(plan)
        return 0
    bucket = aws.data_bucket(args.stage)
    s3 = aws.client("s3", max_pool_connections=args.workers * 4)

    say(f"comparing {args.out} with s3://{bucket}/{prefix}")
    plan = plan_upload(s3, bucket, prefix, args.out, args.workers)
    say(plan.summary())
    if plan.upload_count or plan.to_delete:
        config = TransferConfig(
            multipart_threshold=MULTIPART_THRESHOLD, multipart_chunksize=64 * MIB, max_concurrency=4
        )
        execute(s3, plan, args.workers, config)
    print(f"dataset {name!r} is complete in s3://{bucket}/{prefix}")
    say(f"next: python -m training train --stage {args.stage} --dataset {name}")
    return 0


def dry_run_plan(stage: str, prefix: str, out: Path, workers: int) -> Plan:
    """The plan compared with the stage's bucket; when the stage is out of reach (no credentials,
    no network, not deployed), every local file, saying why S3 was not compared."""
    try:
        with aws.reported_errors():
            bucket = aws.data_bucket(stage)
            s3 = aws.client("s3", max_pool_connections=workers * 4)
            say(f"comparing {out} with s3://{bucket}/{prefix}")
            return plan_upload(s3, bucket, prefix, out, workers)
    except TrainingError as error:
        say(f"cannot compare with S3, so every file is listed: {error}")
        return offline_plan(f"<stage {stage}'s data bucket>", prefix, out)


def read_local_report(out: Path) -> dict[str, Any]:
    report_path = out / layout.REPORT_FILE
    if not report_path.is_file():
        raise TrainingError(
            f"{out} is not a prepared dataset (no {layout.REPORT_FILE}): run "
            f"`python -m training prepare ... --out {out}` first, or pass the folder it wrote"
        )
    try:
        report = json.loads(report_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise TrainingError(f"{report_path} is unreadable ({error}): run `prepare` again") from None
    if not isinstance(report, dict):
        raise TrainingError(f"{report_path} is not a JSON object: run `prepare` again")
    return report


def print_dry_run(plan: Plan) -> None:
    pending = [file.key for file in plan.to_upload]
    if not plan.report_is_current and plan.report is not None:
        pending.append(plan.report.key)
    for key in pending[:DRY_RUN_LISTED]:
        print(f"would upload s3://{plan.bucket}/{key}")
    if len(pending) > DRY_RUN_LISTED:
        print(f"... and {len(pending) - DRY_RUN_LISTED} more")
    for key in plan.to_delete:  # every one: a deletion is never a surprise
        print(f"would delete s3://{plan.bucket}/{key} (not in the local dataset)")
    if not plan.compared:
        print("would delete: unknown, as S3 was not compared (objects the folder no longer has)")
    print(f"dry run: nothing uploaded or deleted ({plan.summary()})")
