import pytest
from matplotlib.container import ErrorbarContainer

from colorlib.plot import VERDICT_COLOURS, differences_figure


def difference(value, low, high, real, nominal):
    return {"difference": value, "low": low, "high": high, "real": real, "nominal": nominal}


def test_differences_figure_draws_each_interval_coloured_by_its_verdict_beside_a_zero_line():
    horse = {
        "grey": difference(0.33, 0.05, 0.61, True, True),
        "down1": difference(0.12, 0.01, 0.23, False, True),
        "down2": difference(-0.09, -0.30, 0.11, False, False),
    }
    cat = {
        "grey": difference(0.21, 0.10, 0.32, True, True),
        "down1": difference(0.04, -0.12, 0.20, False, False),
        "down2": difference(0.02, -0.11, 0.14, False, False),
    }
    fig = differences_figure({"horse": horse, "cat": cat}, xlabel="ΔE2000 cost", title="skips")
    first, second = fig.axes
    assert (first.get_title(), second.get_title(), first.get_xlabel()) == ("horse", "cat", "ΔE2000 cost")
    assert [t.get_text() for t in first.get_yticklabels()] == ["grey", "down1", "down2"]
    assert first.yaxis_inverted()  # the first row on top, in both panels (they share y)
    bars = [c for c in first.containers if isinstance(c, ErrorbarContainer)]
    assert len(bars) == 3
    for bar, d in zip(bars, horse.values(), strict=True):
        (segment,) = bar.lines[2][0].get_segments()
        assert [x for x, _ in segment] == pytest.approx([d["low"], d["high"]])  # the interval itself, not a symmetric guess
    colours = [bar.lines[0].get_color() for bar in bars]
    assert colours == [VERDICT_COLOURS[v] for v in ("significant", "nominal only", "within noise")]
    assert any(line.get_xdata()[0] == 0 for line in first.get_lines())  # the line of no difference
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["significant", "nominal only", "within noise"]
    assert fig._suptitle.get_text() == "skips"


def test_differences_figure_takes_a_width_for_long_labels():
    rows = {"a long comparison, on the input's lightness, horse": difference(0.1, -0.2, 0.4, False, False)}
    assert differences_figure({"p": rows}).get_figwidth() == pytest.approx(5.6)
    assert differences_figure({"p": rows}, width=9).get_figwidth() == pytest.approx(9)


def test_a_plain_interval_is_read_by_whether_it_excludes_0_and_notes_sit_beside_their_rows():
    from colorlib.plot import verdict

    plain = {
        "costs": {"difference": 0.3, "low": 0.1, "high": 0.5},
        "ties": {"difference": -0.05, "low": -0.2, "high": 0.0},  # an end at exactly 0 still includes 0
    }
    assert [verdict(d) for d in plain.values()] == ["excludes 0", "within noise"]
    fig = differences_figure({"p": plain}, notes={"p": {"ties": "you: A ✗"}})
    (ax,) = fig.axes
    assert [t.get_text() for t in ax.texts] == ["you: A ✗"]
    assert ax.texts[0].xy[1] == 1  # beside the second row
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["excludes 0", "within noise"]  # only verdicts shown
