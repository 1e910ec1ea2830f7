"""``python -m training prepare IMAGES_DIR --out OUT``: Stanford Dogs into the algorithm's input layout."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING

from core.layout import FORMATS
from training.commands.options import PROG, command_parser
from training.errors import TrainingError

if TYPE_CHECKING:
    from training.data.prepare import Split

HELP = "check, split and lay out Stanford Dogs for the image-classification algorithm (offline)"
DESCRIPTION = """\
Check every image of a Stanford Dogs Images/ tree, re-encode what is not RGB JPEG, skip what cannot
be read, split the rest into training and validation, and write the layout `upload` sends to S3:
classes.json, train.lst, validation.lst, train/, validation/ (or train.rec/.idx and
validation.rec/.idx with --format recordio) and report.json, which lists every skipped and
re-encoded file with the reason. The same inputs and --seed give byte-identical output.

The default split is the blog's: per breed, a shuffle with the seed and round(n x fraction)
images (at least 1) to validation. OUT must be new, empty, or an earlier prepare output, which is
replaced only once the new dataset is complete.

A tree with only some of the 120 breeds (a partial extract of images.tar) is prepared as a
subset: a note names the missing breeds, and report.json marks it breeds_subset and lists them.

Works offline: nothing is read from or sent to AWS (`upload` does that)."""
EXAMPLES = (
    f"{PROG} prepare ~/data/stanford-dogs --out ~/data/prepared",
    f"{PROG} prepare Images --out subset --breeds 10",
    f'{PROG} prepare Images --out huskies --breeds "Siberian husky,malamute,Eskimo_dog"',
    f"{PROG} prepare Images --out official --official-split ~/data/stanford-dogs/lists",
    f"{PROG} prepare Images --out fold3 --folds 5 --fold 3",
    f"{PROG} prepare Images --out rec --format recordio --resize 256",
)


def register(subcommands: argparse._SubParsersAction) -> None:
    parser = command_parser(
        subcommands, "prepare", summary=HELP, description=DESCRIPTION, example_list=EXAMPLES
    )
    parser.add_argument(
        "images_dir",
        metavar="IMAGES_DIR",
        type=Path,
        help="Stanford Dogs' Images/ folder (n02085620-Chihuahua/... inside), or the folder holding it",
    )
    parser.add_argument("--out", required=True, type=Path, help="the folder to write the dataset to")
    parser.add_argument("--seed", type=int, default=0, help="seed of the split and of --breeds N (default 0)")
    split = parser.add_mutually_exclusive_group()
    split.add_argument(
        "--validation-fraction",
        type=float,
        metavar="F",
        help="share of each breed's images for validation in the stratified split (default 0.2)",
    )
    split.add_argument(
        "--official-split",
        type=Path,
        metavar="LISTS_DIR",
        help="use Stanford's split: LISTS_DIR/train_list.mat is train, test_list.mat is validation",
    )
    split.add_argument(
        "--folds",
        type=int,
        metavar="K",
        help="stratified K-fold split, with --fold I: fold I is validation, the other K-1 are train",
    )
    parser.add_argument("--fold", type=int, metavar="I", help="which fold is validation: 1 to K (1-based)")
    parser.add_argument(
        "--breeds",
        metavar="N|NAMES",
        help="a subset: N breeds drawn with --seed, or comma-separated names ('Siberian husky'), folder "
        "names or wnids; class ids are renumbered 0..N-1 in folder order",
    )
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default="lst",
        help="lst: image folders and .lst lists (default); recordio: MXNet .rec/.idx files",
    )
    parser.add_argument(
        "--resize",
        type=int,
        metavar="PIXELS",
        help="recordio only: shrink images so the shorter side is PIXELS, never enlarging (default 256)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="processes checking and writing images (default: the CPU count, here %(default)s)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from training.data.prepare import DEFAULT_RESIZE, PrepareOptions, prepare, summary

    if args.resize is not None and args.format != "recordio":
        raise TrainingError(
            "--resize applies to --format recordio only: with lst, the algorithm's resize "
            "hyperparameter resizes at training time"
        )
    options = PrepareOptions(
        images_dir=args.images_dir,
        out=args.out,
        seed=args.seed,
        split=split_from_arguments(args),
        breeds=parse_breeds(args.breeds),
        format=args.format,
        resize=DEFAULT_RESIZE if args.resize is None else args.resize,
        workers=args.workers,
    )
    report = prepare(options)
    print(summary(report, args.out))
    return 0


def split_from_arguments(args: argparse.Namespace) -> Split:
    from training.data.splits import KFoldSplit, OfficialSplit, StratifiedSplit

    if (args.folds is None) != (args.fold is None):
        raise TrainingError("--folds K and --fold I go together: give both, for example --folds 5 --fold 1")
    if args.folds is not None:
        return KFoldSplit(folds=args.folds, fold=args.fold)
    if args.official_split is not None:
        return OfficialSplit(lists_dir=args.official_split)
    if args.validation_fraction is not None:
        return StratifiedSplit(validation_fraction=args.validation_fraction)
    return StratifiedSplit()


def parse_breeds(text: str | None) -> int | tuple[str, ...] | None:
    """``"10"`` -> 10 breeds drawn with the seed; ``"beagle, pug"`` -> those breeds; None -> all."""
    if text is None:
        return None
    if text.strip().isdigit():
        return int(text)
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    if not names:
        raise TrainingError("--breeds is empty: give a number of breeds or comma-separated breed names")
    return names
