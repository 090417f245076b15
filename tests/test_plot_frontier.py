import numpy as np
from matplotlib.colors import to_rgba

from colorlib.plot import frontier_figure
from colorlib.results import load_results
from colorlib.selection import colour_feasible, rule_figures


def test_frontier_figure_fills_exactly_the_points_that_pass_and_stars_the_choice():
    results = load_results("colour")
    figures = rule_figures(results)
    runs = {"chroma64": ("λ = 1", "C1"), "chroma64_rebalance0.75": ("λ = 0.75", "black")}
    fig = frontier_figure(results, runs)
    for ax, where in zip(fig.axes, ("holdout", "photos"), strict=True):
        points = [line for line in ax.get_lines() if line.get_marker() == "o"]
        assert len(points) == len(figures)  # one marker per candidate
        filled = {tuple(line.get_xydata()[0]) for line in points if to_rgba(line.get_markerfacecolor()) != to_rgba("white")}
        passing = {(f[where]["colourfulness"], f[where]["delta_e"]) for f in figures.values() if colour_feasible(f[where])}
        assert filled == passing and passing  # the shipped results have passing points on both sets
        (star,) = [line for line in ax.get_lines() if line.get_marker() == "*"]
        chosen = figures[results["choice"]["candidate"]][where]
        np.testing.assert_allclose(star.get_xydata(), [[chosen["colourfulness"], chosen["delta_e"]]])
        named = {line.get_label(): line for line in ax.get_lines() if line.get_label() in ("λ = 1", "λ = 0.75")}
        cands = sorted(
            (c for c, v in results["candidates"].items() if v["run"] == "chroma64"),
            key=lambda c: results["candidates"][c]["temperature"],
        )
        np.testing.assert_allclose(named["λ = 1"].get_xdata(), [figures[c][where]["colourfulness"] for c in cands])
        assert to_rgba(named["λ = 0.75"].get_color()) == to_rgba("black")
        others = [line for line in ax.get_lines() if line.get_label() == "other bins or crops"]
        assert others and all(to_rgba(line.get_color()) == to_rgba("0.8") for line in others)
