"""The `colorlib` command: fit palettes, train, evaluate and colourise from the shell."""

from __future__ import annotations

import argparse
import io
import json
import os
import shlex
import sys
from pathlib import Path

from .config import GAMUT_STEP, SPACES, TEMPERATURE, TrainConfig, add_train_options, default_recipe
from .errors import ColorlibError

REFERENCES_HELP = (
    "also the run on the input's own lightness, the grey picture, the palette truth and the best palette colour "
    "per pixel (the ΔE2000 ceiling of argmax), both also on the input's lightness"
)


def _add_data_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", metavar="DIR", help="folder holding cifar-10-batches-py/ (default: $COLORLIB_DATA, else the cache)")
    p.add_argument("--download", action="store_true", help="download CIFAR-10 (md5-checked) if it is missing")


def _add_decoding_args(p: argparse.ArgumentParser, default: str | None = "argmax") -> None:
    what = "argmax: each pixel its most likely palette colour; annealed-mean: the expected colour"
    if default is None:
        what += " (default: argmax with --scale native, otherwise the decoding chosen for photos)"
    p.add_argument("--decoding", choices=["argmax", "annealed-mean"], default=default, help=what)
    p.add_argument(
        "--temperature",
        type=float,
        default=None if default is None else TEMPERATURE,
        metavar="T",
        help="annealed-mean temperature (→ 0 is argmax, 1 the plain mean; default: "
        + ("the temperature chosen with the run, else 0.38 as Zhang et al.)" if default is None else "0.38 as Zhang et al.)"),
    )
    if default is None:  # colorize: on by default at a working scale, off at --scale native
        p.add_argument(
            "--keep-luma",
            action=argparse.BooleanOptionalAction,
            default=None,
            help="keep the input's own lightness, taking only the colour from the model (default: "
            "on, except with --scale native); --no-keep-luma: the network's upsampled lightness",
        )
    else:
        p.add_argument("--keep-luma", action="store_true", help="keep the input's own lightness; take only hue from the model")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="colorlib", description=__doc__)
    parser.add_argument("--debug", action="store_true", help="show full tracebacks on errors")
    sub = parser.add_subparsers(dest="command", required=True)

    for add in (_add_palette_commands, _add_train_command, _add_run_commands, _add_colorize_command):
        add(sub)
    return parser


def _add_palette_commands(sub) -> None:
    pal = sub.add_parser("palette", help="fit or list palettes").add_subparsers(dest="palette_command", required=True)
    fit = pal.add_parser("fit", help="k-means palette from CIFAR-10 train pixels")
    fit.add_argument("--classes", nargs="+", default=["horse"], help="class names or indices, or 'all'")
    fit.add_argument("--colors", type=int, default=32, help="number of colours K (2..256)")
    fit.add_argument("--space", choices=SPACES, default="rgb", help="where nearness is measured; ab: chroma bins")
    fit.add_argument("--seed", type=int, default=0)
    fit.add_argument("--max-pixels", type=int, default=200_000, help="pixels sampled for k-means (0: all)")
    fit.add_argument("-o", "--out", required=True, metavar="FILE", help="output .npy file")
    _add_data_args(fit)
    gam = pal.add_parser("gamut", help="ab chroma bins (Zhang et al.'s grid) found in CIFAR-10 train pixels")
    gam.add_argument("--classes", nargs="+", default=["all"], help="class names or indices, or 'all'")
    gam.add_argument("--step", type=float, default=GAMUT_STEP, help="bin side in CIELAB units (default: %(default)s)")
    gam.add_argument("--min-share", type=float, default=1e-5, help="least share of the pixels a bin holds (default: %(default)s)")
    gam.add_argument("--seed", type=int, default=0)
    gam.add_argument("--max-pixels", type=int, default=2_000_000, help="pixels sampled (0: all)")
    gam.add_argument("-o", "--out", required=True, metavar="FILE", help="output .npy file")
    _add_data_args(gam)
    pal.add_parser("list", help="the shipped palette names")
    err = pal.add_parser("error", help="mean quantisation error of a palette on CIFAR-10 images")
    err.add_argument("palette", metavar="FILE_OR_NAME")
    err.add_argument("--space", choices=SPACES, help="space of a palette file (default: a shipped palette's own, else rgb)")
    err.add_argument("--classes", nargs="+", default=["horse"], help="class names or indices, or 'all'")
    err.add_argument("--split", choices=["train", "test"], default="test")
    _add_data_args(err)


def _add_train_command(sub) -> None:
    tr = sub.add_parser(
        "train",
        help="train a model and write a run directory",
        description="Every setting of colorlib.TrainConfig is an option named after it. The defaults are the "
        f"recipe the shipped runs were trained with, chosen on the holdout ({default_recipe()}: docs/experiments.md); "
        "no faster recipe reached its holdout cross-entropy on both the UNet and the CNN (docs/ttq.md).",
    )
    add_train_options(tr)
    tr.add_argument("--out", required=True, metavar="RUN_DIR")
    tr.add_argument(
        "--resume",
        action="store_true",
        help="continue the run in RUN_DIR, or train it longer with a larger --epochs (a one-cycle "
        "schedule is re-planned over the new length from the step reached)",
    )
    tr.add_argument("--force", action="store_true", help="replace the run in RUN_DIR")
    tr.add_argument("--quiet", action="store_true", help="no progress bar")
    _add_data_args(tr)


def _add_run_commands(sub) -> None:
    ev = sub.add_parser("evaluate", help="every metric of a run: cross-entropy, accuracies, PSNR, SSIM, ΔE2000, colourfulness")
    ev.add_argument("run", metavar="RUN", help="a run directory or a shipped run's name")
    ev.add_argument("--classes", nargs="+", help="classes to evaluate on (default: the run's)")
    ev.add_argument(
        "--split",
        choices=["test", "holdout", "train"],
        default="test",
        help="test (default); holdout: the images the run validated on; train: all training images",
    )
    ev.add_argument("--references", action="store_true", help=REFERENCES_HELP)
    ev.add_argument("--json", action="store_true", help="print JSON")
    _add_decoding_args(ev)
    _add_data_args(ev)

    cc = sub.add_parser("cross-class", help="runs (rows) evaluated on each class's images (columns)")
    cc.add_argument("runs", nargs="+", metavar="RUN", help="run directories or shipped runs' names")
    cc.add_argument("--classes", nargs="+", default=["all"], help="classes to evaluate on (default: all ten)")
    cc.add_argument("--split", choices=["train", "test"], default="test")
    cc.add_argument("--metric", choices=["cross_entropy", "pixel_accuracy"], default="cross_entropy")
    cc.add_argument("--figure", metavar="FILE", help="also save the heatmap (.png, .svg, .pdf)")
    cc.add_argument("--json", action="store_true", help="print JSON")
    _add_data_args(cc)

    ex = sub.add_parser("export-onnx", help="write a run's network as an ONNX model (for onnxruntime, e.g. in a browser)")
    ex.add_argument("run", metavar="NAME|DIR", help="a shipped run's name or a run directory")
    ex.add_argument("-o", "--out", required=True, metavar="FILE", help="the .onnx file to write")

    pre = sub.add_parser("pretrained", help="the runs shipped with colorlib").add_subparsers(
        dest="pretrained_command", required=True
    )
    pre.add_parser("list", help="the shipped runs, one line each")


def _add_colorize_command(sub) -> None:
    co = sub.add_parser(
        "colorize",
        help="colourise photos or other pictures (with the general model, or a run you name)",
        description="colorlib colorize photo.jpg -o photo_colour.png colours with the default model and "
        "pipeline; --run NAME|DIR (or a run directory before the images, the older form) "
        "picks another run.",
    )
    co.add_argument("inputs", nargs="+", metavar="[RUN_DIR] IMAGE")
    co.add_argument("-o", "--out", required=True, help="output file (one image) or folder (several)")
    co.add_argument("--run", metavar="NAME|DIR", help="a shipped run's name (see `colorlib pretrained list`) or a run directory")
    co.add_argument(
        "--scale",
        default=None,
        metavar="native|auto|N",
        help="where the network looks: native (the picture's own size, the original's way), auto "
        "(the default: a shorter side chosen by measurement) or a shorter side in pixels",
    )
    _add_decoding_args(co, default=None)
    co.add_argument(
        "--max-pixels",
        type=int,
        metavar="N",
        help="refuse images of more than N pixels (default: colorlib.colorize.MAX_PIXELS, 64 million); "
        "also lets Pillow open images up to N pixels",
    )


def _data_ready(args: argparse.Namespace, classes: object) -> None:
    """Check the classes and that CIFAR-10 is there (or may be downloaded) before any slow import or work."""
    from .data import class_indices, find_root

    class_indices(classes)
    if not args.download:
        find_root(args.data)


def _palette_fit(args: argparse.Namespace) -> None:
    from .data import load_cifar10
    from .palette import MAX_COLORS, MIN_COLORS, Palette

    out = Path(args.out)
    if not out.parent.is_dir():
        raise ColorlibError(f"{out.parent}: folder does not exist; create it or choose another -o")
    if not MIN_COLORS <= args.colors <= MAX_COLORS:
        raise ColorlibError(f"a palette needs {MIN_COLORS} to {MAX_COLORS} colours, got --colors {args.colors}")
    _data_ready(args, args.classes)
    images = load_cifar10(args.classes, "train", args.data, args.download).images
    palette = Palette.fit(images, args.colors, args.space, args.seed, args.max_pixels or None)
    palette.save(out)
    print(f"wrote {out}: {palette.num_colors} colours fitted in {args.space} on {len(images)} images")


def _palette_gamut(args: argparse.Namespace) -> None:
    from .data import load_cifar10
    from .palette import Palette

    out = Path(args.out)
    if not out.parent.is_dir():
        raise ColorlibError(f"{out.parent}: folder does not exist; create it or choose another -o")
    if not (args.step > 0 and 0 <= args.min_share < 1):
        raise ColorlibError(f"--step must be > 0 and --min-share in [0, 1), got {args.step:g} and {args.min_share:g}")
    _data_ready(args, args.classes)
    images = load_cifar10(args.classes, "train", args.data, args.download).images
    palette = Palette.gamut(images, args.step, args.min_share, args.max_pixels or None, args.seed)
    palette.save(out)
    print(f"wrote {out}: {palette.num_colors} ab bins of {args.step:g} units found in {len(images)} images (load with space ab)")


def _palette_error(args: argparse.Namespace) -> None:
    from .palette import load_palette

    palette = load_palette(args.palette, args.space)
    _data_ready(args, args.classes)
    from .data import load_cifar10
    from .metrics import image_scores, quantization_error  # PyTorch loads here, once the arguments are known good

    images = load_cifar10(args.classes, args.split, args.data, args.download)
    error = quantization_error(images.images, palette)
    delta_e = image_scores(palette.saturate(images.images), images.images)["delta_e"]
    which = "all classes" if len(images.classes) == 10 else "+".join(images.classes)
    print(f"{args.palette}: mean RGB error {error:.2f}, mean ΔE2000 {delta_e:.2f} on {which} {args.split} ({len(images)} images)")


def _train(args: argparse.Namespace) -> None:
    from .palette import check_objective, load_palette

    config = TrainConfig.from_namespace(args)
    config.validate()  # every cheap check first: a typo costs no PyTorch import and no data read
    check_objective(config.objective, load_palette(config.palette, config.palette_space))
    _data_ready(args, config.classes)
    from .train import train

    command = "colorlib " + shlex.join(args.argv)
    run = train(
        config,
        args.out,
        root=args.data,
        download=args.download,
        resume=args.resume,
        force=args.force,
        progress=not args.quiet,
        command=command,
    )
    last = run.history[-1]
    accuracy = "" if last["val_accuracy"] is None else f", val pixel accuracy {last['val_accuracy']:.4f}"
    split = run.config["data"].get("val_split", "test")
    print(
        f"wrote {args.out}: epoch {last['epoch']} val loss {last['val_loss']:.4f} "
        f"({last.get('val_loss_name', 'cross-entropy')}, {split} split){accuracy}"
    )


def _evaluate(args: argparse.Namespace) -> None:
    from .palette import check_decoding
    from .pretrained import resolve

    check_decoding(args.decoding, args.temperature)
    run_dir = resolve(args.run)
    _data_ready(args, args.classes)
    from .data import load_cifar10, split_holdout
    from .metrics import format_table, reference_scores, score
    from .runs import load_run

    run = load_run(run_dir)
    train_cfg = run.config.get("train", {})
    classes = args.classes or train_cfg.get("classes")
    images = load_cifar10(classes, "train" if args.split == "holdout" else args.split, args.data, args.download)
    if args.split == "holdout":
        if run.config.get("data", {}).get("val_split") != "holdout":
            raise ColorlibError(
                f"{args.run}: the run did not validate on a holdout (it used "
                f"{run.config.get('data', {}).get('val_split', 'test')!r}); use --split test"
            )
        images = split_holdout(images, run.config["data"]["holdout_fraction"], run.config["data"]["split_seed"])[1]
    if train_cfg.get("drop_grey", False):
        images = images.without_grey()
    how = (args.decoding, args.temperature)
    rows = {str(run.path): score(run.model, run.palette, images.images, *how, args.keep_luma)}
    if args.references:  # the grey picture has the input's own lightness: show the model on it too, a like-for-like row
        if not args.keep_luma:
            rows[f"{run.path} + input luma"] = score(run.model, run.palette, images.images, *how, keep_luma=True)
        rows.update(reference_scores(images.images, run.palette))
    if args.json:
        print(json.dumps(rows[str(run.path)] if len(rows) == 1 else rows))
        return
    print(
        f"on {'+'.join(images.classes)} ({args.split}, {len(images)} images), {args.decoding} decoding"
        + (f" at T={args.temperature:g}" if args.decoding == "annealed-mean" else "")
        + (", input luma kept" if args.keep_luma else "")
    )
    print(format_table(rows, digits=4))


def _cross_class(args: argparse.Namespace) -> None:
    from .data import CLASSES, class_indices
    from .pretrained import resolve

    if args.figure and Path(args.figure).suffix.lower() not in (".png", ".svg", ".pdf"):
        raise ColorlibError(f"{args.figure}: --figure must end in .png, .svg or .pdf")
    if args.figure and not Path(args.figure).parent.is_dir():
        raise ColorlibError(f"{Path(args.figure).parent}: folder does not exist; create it or choose another --figure")
    names = [Path(p).name for p in args.runs]
    names = names if len(set(names)) == len(names) else list(args.runs)  # same folder names: show whole paths
    folders = {name: resolve(p) for name, p in zip(names, args.runs, strict=True)}
    classes = [CLASSES[i] for i in class_indices(args.classes)]
    _data_ready(args, args.classes)
    from .data import load_cifar10
    from .metrics import cross_class_matrix
    from .runs import load_run

    runs = {name: load_run(folder) for name, folder in folders.items()}
    images = {c: load_cifar10(c, args.split, args.data, args.download).images for c in classes}
    matrix = cross_class_matrix({n: (r.model, r.palette) for n, r in runs.items()}, images, args.metric)
    if args.figure:
        from .plot import heatmap_figure

        heatmap_figure(matrix, list(runs), classes, f"{args.metric} on each class's {args.split} split").savefig(args.figure)
    if args.json:
        print(json.dumps({"metric": args.metric, "runs": list(runs), "classes": classes, "values": matrix.tolist()}))
        return
    width = max(len(n) for n in runs)
    print(" ".join([" " * width] + [f"{c[:10]:>10}" for c in classes]))
    for name, row in zip(runs, matrix, strict=True):
        print(" ".join([f"{name:<{width}}"] + [f"{v:>10.4f}" for v in row]))


def _colorize_inputs(args: argparse.Namespace) -> tuple[Path, list[str]]:
    """(run folder, image paths) from `--run` or the older form `colorize RUN_DIR IMAGE…`; the default run otherwise."""
    from .errors import ImageError
    from .pretrained import DEFAULT_RUN, pretrained_names, resolve

    inputs = list(args.inputs)
    if args.run is not None:
        return resolve(args.run), inputs
    first = Path(inputs[0])
    if first.is_dir() or (not first.exists() and inputs[0] in pretrained_names()):
        if len(inputs) < 2:
            raise ImageError(f"{inputs[0]} is a run; name at least one image to colourise after it")
        return resolve(inputs[0]), inputs[1:]
    if len(inputs) > 1 and not first.exists():
        return resolve(inputs[0]), inputs[1:]  # neither an image nor a run: resolve() says so, listing the shipped runs
    return resolve(DEFAULT_RUN), inputs


def _colorize_settings(args: argparse.Namespace) -> tuple[str | int | None, int]:
    """(scale, pixel limit) from the options, checked before any input is read."""
    from .colorize import MAX_PIXELS, working_size
    from .errors import ImageError
    from .palette import check_decoding

    scale = args.scale
    if scale is not None and scale not in ("native", "auto"):
        if not scale.isdigit():
            raise ImageError(f"--scale must be native, auto or a shorter side in pixels, got {scale!r}")
        scale = int(scale)
    if scale is not None:
        working_size(64, 64, scale)  # checks it
    if args.decoding is not None or args.temperature is not None:
        check_decoding(args.decoding or "annealed-mean", TEMPERATURE if args.temperature is None else args.temperature)
    max_pixels = MAX_PIXELS if args.max_pixels is None else args.max_pixels
    if max_pixels < 1:
        raise ImageError(f"--max-pixels must be a positive number of pixels, got {max_pixels}")
    return scale, max_pixels


def _read_images(paths: list[str], max_pixels: int, asked: int | None) -> list:
    """Every input read and size-checked; Pillow's bomb limit raised to `asked` pixels while reading."""
    from PIL import Image

    from .colorize import read_image
    from .errors import ImageError

    bomb_limit = Image.MAX_IMAGE_PIXELS
    if asked is not None and bomb_limit is not None:
        Image.MAX_IMAGE_PIXELS = max(bomb_limit, asked)
    try:
        images = [(Path(p), read_image(p)) for p in paths]
    finally:
        Image.MAX_IMAGE_PIXELS = bomb_limit
    for path, rgb in images:
        h, w = rgb.shape[:2]
        if h * w > max_pixels:
            raise ImageError(
                f"{path}: {w}×{h} = {h * w:,} pixels, above the limit of {max_pixels:,}; resize it or pass a larger --max-pixels"
            )
    return images


def _colorize(args: argparse.Namespace) -> None:
    from PIL import Image

    from .colorize import colorize
    from .errors import ImageError

    scale, max_pixels = _colorize_settings(args)
    run_dir, paths = _colorize_inputs(args)
    out = Path(args.out)
    several = len(paths) > 1 or out.is_dir()
    if several and out.exists() and not out.is_dir():
        raise ImageError(f"{out}: is a file; with several images -o must be a folder")
    if not several:
        if not out.parent.is_dir():
            raise ImageError(f"{out.parent}: folder does not exist; create it or choose another -o")
        if Image.registered_extensions().get(out.suffix.lower()) not in Image.SAVE:
            raise ImageError(f"{out}: unknown image format {out.suffix!r}; name the output .png, .jpg, .tif, ...")
    images = _read_images(paths, max_pixels, args.max_pixels)  # one bad file stops the command before any is written
    from .runs import atomic_write, load_run  # PyTorch loads here, once every argument and input has been checked

    run = load_run(run_dir)
    if several:
        out.mkdir(parents=True, exist_ok=True)
    how = {"decoding": args.decoding, "keep_luma": args.keep_luma}
    if scale is not None:
        how["scale"] = scale
    for path, rgb in images:
        target = out / f"{path.stem}_colorized.png" if several else out
        colored = colorize(run, rgb, max_pixels=max_pixels, temperature=args.temperature, **how)
        encoded = io.BytesIO()
        Image.fromarray(colored).save(encoded, Image.registered_extensions()[target.suffix.lower()])
        try:
            atomic_write(target, encoded.getvalue())  # never a torn output file
        except OSError as e:
            raise ImageError(f"{target}: cannot write the output ({e.strerror or e}); choose another -o") from None
        print(f"wrote {target}")


def _palette_list(args: argparse.Namespace) -> None:
    from .palette import shipped_palettes

    print("\n".join(shipped_palettes()))


def _export_onnx(args: argparse.Namespace) -> None:
    from .pretrained import resolve

    run_dir = resolve(args.run)
    if not Path(args.out).parent.is_dir():
        raise ColorlibError(f"{Path(args.out).parent}: folder does not exist; create it or choose another -o")
    from .export import export_onnx
    from .runs import load_run

    out = export_onnx(load_run(run_dir), args.out)
    print(f"wrote {out} ({out.stat().st_size / 1e6:.2f} MB)")


def _pretrained_list(args: argparse.Namespace) -> None:
    from .pretrained import describe, pretrained_names

    print("\n".join(describe(name) for name in pretrained_names()))


COMMANDS = {
    "train": _train,
    "evaluate": _evaluate,
    "colorize": _colorize,
    "cross-class": _cross_class,
    "export-onnx": _export_onnx,
}
PALETTE_COMMANDS = {"fit": _palette_fit, "gamut": _palette_gamut, "list": _palette_list, "error": _palette_error}
PRETRAINED_COMMANDS = {"list": _pretrained_list}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = _parser().parse_args(argv)
    args.argv = argv
    try:
        if args.command == "palette":
            PALETTE_COMMANDS[args.palette_command](args)
        elif args.command == "pretrained":
            PRETRAINED_COMMANDS[args.pretrained_command](args)
        else:
            COMMANDS[args.command](args)
    except ColorlibError as e:
        if args.debug:
            raise
        print(f"colorlib: error: {e}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # `colorlib pretrained list | head`: the reader left; nothing more to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # so the exit's flush does not fail again
        return 0
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
