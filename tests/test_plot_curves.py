import numpy as np

from colorlib.plot import curves_figure


def test_curves_figure_draws_each_value_at_its_tick_and_stars_the_chosen_point():
    curves = {"a": {"mean": [3.0, 2.0, 4.0], "argmax": [3.5, 2.5, 4.5]}, "b": {"mean": [5.0, 1.0, 6.0]}}
    fig = curves_figure(curves, ["32", "48", "own size"], styles={"argmax": {"linestyle": "--"}}, star=("b", "mean", "48"))
    (ax,) = fig.axes
    lines = {line.get_label(): line for line in ax.get_lines()}
    for group, variants in curves.items():
        for variant, values in variants.items():
            np.testing.assert_allclose(lines[f"{group}, {variant}"].get_xydata(), np.c_[[0, 1, 2], values])
    assert lines["a, argmax"].get_linestyle() == "--" and lines["a, mean"].get_linestyle() == "-"
    assert lines["a, mean"].get_color() == lines["a, argmax"].get_color() != lines["b, mean"].get_color()
    np.testing.assert_allclose(lines["chosen"].get_xydata(), [[1, 1.0]])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["32", "48", "own size"]
