"""Charts drawn on the server as SVG with matplotlib (Agg backend, no display).

Text stays text in the SVG (the browser's fonts render Vietnamese), output is deterministic
(fixed hash salt, no date metadata), and suppressed days are gaps — the table beside each
chart says why.
"""

from __future__ import annotations

import datetime
import io
import threading
from collections.abc import Sequence
from dataclasses import dataclass

from covidhub.portal import formatting

COLOURS = ("#0b5d3b", "#0a4f8a", "#b35900", "#6a1b9a")
_lock = threading.Lock()  # pyplot's state is global; draw one chart at a time


@dataclass(frozen=True)
class Series:
    label: str
    values: Sequence[float | None]
    kind: str = "bar"  # "bar" or "line"


def chart_svg(
    *,
    title: str,
    days: Sequence[datetime.date],
    series: Sequence[Series],
    language: str,
    percent: bool = False,
) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    with (
        _lock,
        matplotlib.rc_context(
            {
                "svg.fonttype": "none",
                "svg.hashsalt": "covidhub-portal",
                "font.family": "sans-serif",
                "font.size": 10,
                "axes.spines.top": False,
                "axes.spines.right": False,
            }
        ),
    ):
        fig, ax = plt.subplots(figsize=(6.4, 3.2))
        try:
            positions = list(range(len(days)))
            bar_series = [s for s in series if s.kind == "bar"]
            width = 0.8 / max(1, len(bar_series))
            for index, item in enumerate(series):
                colour = COLOURS[index % len(COLOURS)]
                if item.kind == "bar":
                    offset = (bar_series.index(item) - (len(bar_series) - 1) / 2) * width
                    xs = [p + offset for p, v in zip(positions, item.values, strict=True) if v]
                    ys = [v for v in item.values if v]
                    ax.bar(xs, ys, width=width, color=colour, label=item.label)
                else:
                    ys_line = [float("nan") if v is None else v for v in item.values]
                    ax.plot(positions, ys_line, color=colour, linewidth=2, label=item.label)
            ax.set_title(title, loc="left", fontsize=11)
            step = max(1, len(days) // 6)
            ax.set_xticks(positions[::step])
            ax.set_xticklabels([formatting.date_short(d, language) for d in days[::step]])
            ax.yaxis.set_major_locator(MaxNLocator(nbins=5, integer=not percent))
            if percent:
                ax.yaxis.set_major_formatter(
                    FuncFormatter(lambda v, _p: formatting.percent(v, 0, language))
                )
                ax.set_ylim(bottom=0)
            else:
                ax.yaxis.set_major_formatter(
                    FuncFormatter(lambda v, _p: formatting.number(int(v), language))
                )
            ax.grid(axis="y", color="#dddddd", linewidth=0.6)
            ax.set_axisbelow(True)
            if len(series) > 1:
                ax.legend(frameon=False, loc="upper left", fontsize=9)
            fig.tight_layout()
            out = io.StringIO()
            fig.savefig(out, format="svg", metadata={"Date": None, "Creator": None})
            return out.getvalue()
        finally:
            plt.close(fig)
