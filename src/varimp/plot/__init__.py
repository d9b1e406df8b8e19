"""Plots of results: every plot takes an :class:`~varimp.Importance` or a
:class:`~varimp.Comparison` and returns the matplotlib Axes it drew on (a Figure for a grid).

- ``kind="bar"``: one bar per variable, most important first, error bars from the interval
  ``ci`` (else ``std``), what they are written on the score axis ("error bars: 95% interval (row
  bootstrap, 1000 resamples)", "+-1 SD over 5 repeats"), stars for the p-values of a
  randomization test (``*`` p <= 0.05, ``**`` p <= 0.01, ``***`` p <= 0.001); horizontal bars
  when there are many variables (:mod:`.bars`);
- ``kind="heatmap"``: the time x feature table ``by_time`` of a sequence model, time running
  left to right (step 0 and the most recent step always labelled), features top to bottom, with
  a colour bar labelled with the measure (:mod:`.heatmaps`);
- ``kind="profile"``: Lek's profile curves (Lek et al. 1996), one panel per variable on a shared
  y-axis, one line per level at which the other inputs are held and the median curve that the
  score is read from, each panel named once (its title, broken after ``_`` to its width), rows
  of at most 4 panels; by default at most the 16 most important variables, the title saying
  how many were left out (:mod:`.profiles`);
- comparisons: grouped bars of the relative importance (a dot plot when the bars would be too
  thin), or the methods x features table of ranks (``kind="heatmap"``, the default for many
  features);
- :func:`plot_network`: the neural interpretation diagram of an MLP's weights (NeuralNetTools'
  ``plotnet``, :mod:`.diagram`).

A figure varimp makes fits on a page (at most 10 x 10 inches); its height follows what it holds
(rows, caption lines, the length of the colour bar's label), and tick labels that would overlap
once drawn are turned upright, then made smaller (never below 7 points); varimp saves PNGs at
:data:`DPI` (200) dots per inch. Drawn into the user's own axes, a plot reserves no margins of
its own: the figure's layout engine (``layout="constrained"``, ``tight_layout()``, or none)
places its labels, legend and colour bar as it places any Matplotlib artist. What depends on the
room a heatmap finally gets is decided each time the figure is laid out or drawn: the time steps
labelled (as many as fit, step 0 and the last always), the size of the feature names (down to 7
points, then every other name), the line breaks of the caption (as wide as the heatmap) and of
the colour bar's label (as long as the bar). In a figure without a layout engine a legend goes
inside its axes. Importing this package imports no matplotlib; drawing does.
"""

from ._common import (
    COMPARISON_KINDS,
    DPI,
    KIND_LABELS,
    KINDS,
    LINEAR_PATH_CAPTION,
    LINEAR_PATH_NOTE,
    MANY,
    MEDIAN_LABEL,
    PAGE,
    SIGNIFICANCE_CAPTION,
    STARS,
    TIME_TICKS,
    colorbar,
    default_kind,
    error_bars,
    measure_label,
    plot_kinds,
    stars,
    time_ticks,
)
from .bars import MOST_BARS
from .diagram import plot_network
from .draw import plot_comparison, plot_importance

__all__ = ["COMPARISON_KINDS", "DPI", "KINDS", "KIND_LABELS", "LINEAR_PATH_CAPTION",
           "LINEAR_PATH_NOTE", "MANY", "MEDIAN_LABEL", "MOST_BARS", "PAGE", "SIGNIFICANCE_CAPTION",
           "STARS", "TIME_TICKS", "colorbar", "default_kind", "error_bars", "measure_label",
           "plot_comparison", "plot_importance", "plot_kinds", "plot_network", "stars",
           "time_ticks"]
