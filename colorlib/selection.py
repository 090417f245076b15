"""The selection rules the experiments wrote down before their results, as code: chapter 09's photo pipeline
(`choose_on_photos`, `leave_one_out`) and chapter 10's chroma model (`choose_colour`). experiments/ choose with them,
and colorlib.exercises checks the learners' versions against them, so each rule exists once."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np

# -- 09 · the photo pipeline's rule (experiments/photos.py) --------------------------------------

MIN_COLOURFULNESS = 0.4  # the photo pipeline's floor: the mean of each photo's share of its original's colourfulness


def choose_on_photos(
    grid: Mapping,
    truth: Mapping,
    names: Sequence[str],
    floor: str = "mean of shares",
    best: Callable = min,
    strict: bool = False,
    fallback: bool = True,
) -> str | None:
    """The photo pipeline's rule on `names` (experiments/photos.py uses it): the grid key with the lowest mean ΔE2000
    among those keeping enough colour; ties go to the first key, as `min` does. The keywords other than the first
    three spell the learners' slips (`floor`, `best`, a `strict` floor, no `fallback`: None where nothing passes)."""

    def ok(key: str) -> bool:
        if floor == "none":
            return True
        if floor == "ratio of averages":
            share = np.mean([grid[key][n]["colourfulness"] for n in names]) / np.mean([truth[n] for n in names])
        else:
            share = np.mean([grid[key][n]["colourfulness"] / truth[n] for n in names])
        return share > MIN_COLOURFULNESS if strict else share >= MIN_COLOURFULNESS

    keys = [k for k in grid if ok(k)]
    if not keys and not fallback:
        return None
    keys = keys or list(grid)  # if nothing keeps enough colour, choose among all
    return best(keys, key=lambda k: np.mean([grid[k][n]["delta_e"] for n in names]))


def leave_one_out(grid: Mapping, truth: Mapping, photos: Sequence[str]) -> dict[str, float]:
    """Photo → its ΔE2000 under the combination chosen on the other photos (experiments/photos.py's honest
    estimate; `grid`, `truth` and `photos` as in `colorlib.load_results("photos")`)."""
    out = {}
    for n in photos:
        key = choose_on_photos(grid, truth, [m for m in photos if m != n])
        out[n] = float(grid[key][n]["delta_e"])
    return out


# -- 10 · the chroma model's rule (experiments/colour.py) ---------------------------------------

COLOUR_FLOORS = {"colourfulness": 0.60, "hue": 0.55}  # experiments/colour.py's rule 3, on both sets


def colour_summary(m: Mapping) -> dict:
    """A set's figures from per-picture measures (experiments/colour.py's rule 2): mean ΔE2000, colourfulness as the
    ratio of means and the mean of ratios, hue agreement pooled over pixels and the mean of per-picture agreements."""
    coloured_truth = np.asarray(m["truth_colourfulness"]) > 0
    has_hue = np.asarray(m["hue_coloured"]) > 0
    return {
        "delta_e": float(np.mean(m["delta_e"])),
        "colourfulness": float(np.mean(m["colourfulness"]) / np.mean(m["truth_colourfulness"])),
        "colourfulness_mean_of_ratios": float(
            np.mean(np.asarray(m["colourfulness"])[coloured_truth] / np.asarray(m["truth_colourfulness"])[coloured_truth])
        ),
        "hue_pooled": float(np.sum(m["hue_agree"]) / np.sum(m["hue_coloured"])),
        "hue_mean": float(np.mean(np.asarray(m["hue_agree"])[has_hue] / np.asarray(m["hue_coloured"])[has_hue])),
    }


def colour_photo_summary(rows: Mapping, names: Sequence[str]) -> dict:
    """The photos' figures over `names` from per-photo rows, as `colour_summary` (the rule reads the mean hue)."""
    return colour_summary({k: np.array([rows[n][k] for n in names]) for k in next(iter(rows.values()))})


def colour_figures(candidate: Mapping, grey: Mapping, names: Sequence[str]) -> dict:
    """{"holdout", "photos"} → the figures the rule reads: ΔE2000, ΔE2000 over the grey picture's ("relative"),
    colourfulness and hue agreement (pooled on the holdout, the mean over photos)."""
    out = {}
    for where, fig, base in (
        ("holdout", candidate["holdout"], grey["holdout"]),
        ("photos", colour_photo_summary(candidate["photos"], names), colour_photo_summary(grey["photos"], names)),
    ):
        hue = fig["hue_pooled"] if where == "holdout" else fig["hue_mean"]
        out[where] = {
            "delta_e": fig["delta_e"],
            "relative": fig["delta_e"] / base["delta_e"],
            "colourfulness": fig["colourfulness"],
            "hue": hue,
        }
    return out


def rule_figures(results: Mapping | None = None) -> dict[str, dict]:
    """Candidate → `colour_figures` on all eight photos, for every candidate of `results` (the shipped "colour")."""
    from .results import load_results

    results = results or load_results("colour")
    names = list(results["grey"]["photos"])
    return {c: colour_figures(v, results["grey"], names) for c, v in results["candidates"].items()}


def colour_feasible(s: Mapping, floors: Sequence[str] = tuple(COLOUR_FLOORS), grey: bool = True, strict: bool = False) -> bool:
    """Rule 3 on one set's figures: both floors reached and closer than the grey picture (the keywords make the
    learners' slips for `check_choose_colour`)."""
    above = all((s[f] > COLOUR_FLOORS[f]) if strict else (s[f] >= COLOUR_FLOORS[f]) for f in floors)
    return above and (s["relative"] < 1 or not grey)


def rule3(
    figures: Mapping, sets: Sequence[str] = ("holdout", "photos"), by: str = "relative", best: Callable = min, **slip
) -> str | None:
    """Rule 3: among the candidates feasible on every set, the lowest sum of `by` over both sets; None if none is."""
    feasible = [c for c, f in figures.items() if all(colour_feasible(f[s], **slip) for s in sets)]
    total = lambda c: sum(figures[c][s][by] for s in ("holdout", "photos"))  # noqa: E731
    return best(feasible, key=total) if feasible else None


def choose_colour(figures: Mapping) -> tuple[str | None, str]:
    """experiments/colour.py's rules 3 and 4 on candidate → `colour_figures`: (the choice, "feasible" or "fallback"),
    or (None, "kept") when no candidate is closer than the grey picture on both sets."""
    chosen = rule3(figures)
    if chosen is not None:
        return chosen, "feasible"
    closer = [c for c, f in figures.items() if all(s["relative"] < 1 for s in f.values())]
    if not closer:
        return None, "kept"
    nearness = {c: min(min(s[k] / COLOUR_FLOORS[k] for k in COLOUR_FLOORS) for s in figures[c].values()) for c in closer}
    relative = {c: sum(s["relative"] for s in figures[c].values()) for c in closer}
    return min(closer, key=lambda c: (-nearness[c], relative[c])), "fallback"
