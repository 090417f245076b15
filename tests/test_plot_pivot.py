import numpy as np
from matplotlib.container import ErrorbarContainer
from scipy import stats

from colorlib.plot import means_figure


def test_means_figure_draws_each_mean_with_its_t_interval_and_the_references():
    rng = np.random.default_rng(0)
    first = {"delta_e": rng.normal(10, 2, 50), "colourfulness": rng.normal(20, 3, 50)}
    second = {"delta_e": rng.normal(9, 2, 50), "colourfulness": rng.normal(15, 3, 50)}
    fig = means_figure(
        {"horses": {"plain": {"argmax": first, "mean": second}, "dashed": {"argmax": second}}},
        "delta_e",
        "colourfulness",
        labels={"delta_e": "ΔE2000"},
        styles={"dashed": {"linestyle": "--"}},
        vlines={"horses": {"grey input": 9.5}},
        hlines={"horses": {"originals": 30.0}},
    )
    (ax,) = fig.axes
    joined = [line for line in ax.get_lines() if line.get_label() == "plain"][0]
    means = [[s["delta_e"].mean(), s["colourfulness"].mean()] for s in (first, second)]
    np.testing.assert_allclose(joined.get_xydata(), means)
    assert [line for line in ax.get_lines() if line.get_label() == "dashed"][0].get_linestyle() == "--"
    bars = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    assert len(bars) == 3  # one per point
    assert [c.lines[0].get_marker() for c in bars] == ["o", "s", "o"]  # a marker per point name, the same in every line
    x_bar, y_bar = (col.get_segments()[0] for col in bars[0].lines[2])  # the first point's x and y error bars
    half = stats.t.ppf(0.975, 49) * first["delta_e"].std(ddof=1) / np.sqrt(50)
    np.testing.assert_allclose(x_bar[:, 0], [means[0][0] - half, means[0][0] + half])
    half = stats.t.ppf(0.975, 49) * first["colourfulness"].std(ddof=1) / np.sqrt(50)
    np.testing.assert_allclose(y_bar[:, 1], [means[0][1] - half, means[0][1] + half])
    assert {t.get_text() for t in ax.texts} == {"grey input", "originals"}
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) == ("ΔE2000", "colourfulness", "horses")
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["plain", "dashed", "argmax", "mean"]
