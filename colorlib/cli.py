"""The `colorlib` command: fit palettes, train, evaluate and colourise from the shell."""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

from .errors import ColorlibError


def _add_data_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", metavar="DIR", help="folder holding cifar-10-batches-py/ (default: $COLORLIB_DATA, else the cache)")
    p.add_argument("--download", action="store_true", help="download CIFAR-10 (md5-checked) if it is missing")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="colorlib", description=__doc__)
    parser.add_argument("--debug", action="store_true", help="show full tracebacks on errors")
    sub = parser.add_subparsers(dest="command", required=True)

    pal = sub.add_parser("palette", help="fit or list palettes").add_subparsers(dest="palette_command", required=True)
    fit = pal.add_parser("fit", help="k-means palette from CIFAR-10 train pixels")
    fit.add_argument("--classes", nargs="+", default=["horse"], help="class names or indices, or 'all'")
    fit.add_argument("--colors", type=int, default=32, help="number of colours K (2..256)")
    fit.add_argument("--space", choices=["rgb", "lab"], default="rgb")
    fit.add_argument("--seed", type=int, default=0)
    fit.add_argument("--max-pixels", type=int, default=200_000, help="pixels sampled for k-means (0: all)")
    fit.add_argument("-o", "--out", required=True, metavar="FILE", help="output .npy file")
    _add_data_args(fit)
    pal.add_parser("list", help="the shipped palette names")
    err = pal.add_parser("error", help="mean quantisation error of a palette on CIFAR-10 images")
    err.add_argument("palette", metavar="FILE_OR_NAME")
    err.add_argument("--classes", nargs="+", default=["horse"], help="class names or indices, or 'all'")
    err.add_argument("--split", choices=["train", "test"], default="test")
    _add_data_args(err)

    tr = sub.add_parser("train", help="train a model and write a run directory")
    tr.add_argument("--arch", choices=["cnn", "unet"], default="unet")
    tr.add_argument("--classes", nargs="+", default=["horse"], help="class names or indices, or 'all'")
    tr.add_argument("--palette", default="horse32", metavar="FILE_OR_NAME",
                    help="a shipped palette name (see `colorlib palette list`) or a .npy file")  # fmt: skip
    tr.add_argument("--palette-space", choices=["rgb", "lab"], help="space of a palette file (default rgb)")
    tr.add_argument("--epochs", type=int, default=10)
    tr.add_argument("--batch-size", type=int, default=100)
    tr.add_argument("--lr", type=float, default=1e-3)
    tr.add_argument("--schedule", choices=["constant", "onecycle"], default="constant")
    tr.add_argument("--seed", type=int, default=0)
    tr.add_argument("--nf", type=int, default=32, help="base number of filters")
    tr.add_argument("--snapshots", type=int, default=10, help="validation images kept every epoch")
    tr.add_argument("--drop-grey", action="store_true", help="drop images that are already greyscale")
    tr.add_argument("--device", default="auto", help="auto (cuda, mps, cpu), cpu, cuda, cuda:N or mps")
    tr.add_argument("--precision", choices=["auto", "bf16", "fp32"], default="auto",
                    help="auto: bf16 autocast where the hardware runs it natively, else fp32")  # fmt: skip
    tr.add_argument("--out", required=True, metavar="RUN_DIR")
    tr.add_argument("--resume", action="store_true", help="continue the run in RUN_DIR")
    tr.add_argument("--force", action="store_true", help="replace the run in RUN_DIR")
    tr.add_argument("--quiet", action="store_true", help="no progress bar")
    _add_data_args(tr)

    ev = sub.add_parser("evaluate", help="cross-entropy and pixel accuracy of a run")
    ev.add_argument("run", metavar="RUN_DIR")
    ev.add_argument("--classes", nargs="+", help="classes to evaluate on (default: the run's)")
    ev.add_argument("--split", choices=["train", "test"], default="test")
    ev.add_argument("--json", action="store_true", help="print JSON")
    _add_data_args(ev)

    co = sub.add_parser("colorize", help="colourise image files with a run")
    co.add_argument("run", metavar="RUN_DIR")
    co.add_argument("images", nargs="+", metavar="IMAGE")
    co.add_argument("-o", "--out", required=True, help="output file (one image) or folder (several)")
    return parser


def _palette_fit(args: argparse.Namespace) -> None:
    from .data import load_cifar10
    from .palette import Palette

    images = load_cifar10(args.classes, "train", args.data, args.download).images
    palette = Palette.fit(images, args.colors, args.space, args.seed, args.max_pixels or None)
    out = Path(args.out)
    if not out.parent.is_dir():
        raise ColorlibError(f"{out.parent}: folder does not exist; create it or choose another -o")
    palette.save(out)
    print(f"wrote {out}: {palette.num_colors} colours fitted in {args.space} on {len(images)} images")


def _palette_error(args: argparse.Namespace) -> None:
    from .data import load_cifar10
    from .metrics import quantization_error
    from .palette import load_palette

    palette = load_palette(args.palette)
    images = load_cifar10(args.classes, args.split, args.data, args.download)
    error = quantization_error(images.images, palette)
    which = "all classes" if len(images.classes) == 10 else "+".join(images.classes)
    print(f"{args.palette}: mean RGB error {error:.2f} on {which} {args.split} ({len(images)} images)")


def _train(args: argparse.Namespace) -> None:
    from .train import TrainConfig, train

    config = TrainConfig(
        arch=args.arch, classes=list(args.classes), palette=args.palette, palette_space=args.palette_space,
        epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, seed=args.seed, schedule=args.schedule,
        nf=args.nf, snapshot_count=args.snapshots, drop_grey=args.drop_grey, device=args.device,
        precision=args.precision,
    )  # fmt: skip
    command = "colorlib " + shlex.join(args.argv)
    run = train(config, args.out, root=args.data, download=args.download, resume=args.resume,
                force=args.force, progress=not args.quiet, command=command)  # fmt: skip
    last = run.history[-1]
    print(f"wrote {args.out}: epoch {last['epoch']} val loss {last['val_loss']:.4f}, "
          f"val pixel accuracy {last['val_accuracy']:.4f}")  # fmt: skip


def _evaluate(args: argparse.Namespace) -> None:
    from .data import ColorData, load_cifar10
    from .metrics import evaluate
    from .runs import load_run

    run = load_run(args.run)
    train_cfg = run.config.get("train", {})
    classes = args.classes or train_cfg.get("classes")
    images = load_cifar10(classes, args.split, args.data, args.download, train_cfg.get("drop_grey", False))
    data = ColorData.from_images(images.images, run.palette)
    result = evaluate(run.model, data.grey, data.targets)
    if args.json:
        print(json.dumps(result))
    else:
        print(f"{run.path} on {'+'.join(images.classes)} ({args.split}, {result['images']} images): "
              f"cross-entropy {result['cross_entropy']:.4f}, pixel accuracy {result['pixel_accuracy']:.4f}")  # fmt: skip


def _colorize(args: argparse.Namespace) -> None:
    from PIL import Image

    from .colorize import colorize, read_image
    from .runs import load_run

    run = load_run(args.run)
    out = Path(args.out)
    several = len(args.images) > 1 or out.is_dir()
    if several:
        out.mkdir(parents=True, exist_ok=True)
    # Read every input first, so one bad file stops the command before anything is written.
    images = [(Path(p), read_image(p)) for p in args.images]
    for path, rgb in images:
        target = out / f"{path.stem}_colorized.png" if several else out
        Image.fromarray(colorize(run, rgb)).save(target)
        print(f"wrote {target}")


def _palette_list(args: argparse.Namespace) -> None:
    from .palette import shipped_palettes

    print("\n".join(shipped_palettes()))


COMMANDS = {"train": _train, "evaluate": _evaluate, "colorize": _colorize}
PALETTE_COMMANDS = {"fit": _palette_fit, "list": _palette_list, "error": _palette_error}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = _parser().parse_args(argv)
    args.argv = argv
    try:
        if args.command == "palette":
            PALETTE_COMMANDS[args.palette_command](args)
        else:
            COMMANDS[args.command](args)
    except ColorlibError as e:
        if args.debug:
            raise
        print(f"colorlib: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        hint = "; the run keeps its last completed epoch: continue it with --resume" if args.command == "train" else ""
        print(f"colorlib: interrupted{hint}", file=sys.stderr)
        return 130
    except Exception as e:  # noqa: BLE001 - a one-line message beats a traceback for users
        if args.debug:
            raise
        print(f"colorlib: unexpected error: {type(e).__name__}: {e} (rerun with --debug for details)", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
