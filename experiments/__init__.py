"""The measurements the chapters and docs quote, each a module run from the repository root:

    python -m experiments.experiments      # seeds, regression, skips (docs/experiments.md)
    python -m experiments.beyond_the_seed  # 06–08's tables on every test image (docs/beyond_the_seed.md)
    python -m experiments.photos           # the photo default (docs/photos.md)
    python -m experiments.pretrained_runs  # the shipped runs (colorlib/pretrained/)

Each has a smallest setting (fewer epochs, seeds, pictures) that tests/test_experiments.py runs on a fake CIFAR-10.
"""
