"""Point labels placed so that none covers another, a point or the legend: greedy, no dependency."""

from __future__ import annotations

from matplotlib.axes import Axes
from matplotlib.text import Annotation
from matplotlib.transforms import Bbox

# Offsets from a point, in typographic points, nearest first: right, left, above, below, then the
# diagonals, each at three distances; the text is anchored on the side facing its point.
_DIRECTIONS = ((1, 0), (-1, 0), (0, 1), (0, -1), (1, 1), (-1, 1), (1, -1), (-1, -1))
_DISTANCES = (6.0, 14.0, 24.0)
_HORIZONTAL = {1: "left", 0: "center", -1: "right"}
_VERTICAL = {1: "bottom", 0: "center", -1: "top"}
_POINT_HALF_WIDTH_PT = 4.0  # a scatter marker's half width, kept clear of other labels


def place_labels(
    ax: Axes, points: list[tuple[float, float]], texts: list[str], fontsize: float = 8
) -> list[Annotation]:
    """Annotate each point with its text at the first nearby offset whose box stays inside the
    axes and overlaps no label already placed, no other point and no legend; where none does,
    the least-overlapping offset. Call once the layout is final (tight_layout): boxes are pixels.
    """
    figure = ax.get_figure()
    assert figure is not None
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()  # type: ignore[attr-defined]
    inside = ax.get_window_extent(renderer)
    obstacles: list[Bbox] = []
    legend = ax.get_legend()
    if legend is not None:
        obstacles.append(legend.get_window_extent(renderer))
    markers = [_marker_box(ax, point) for point in points]
    labels = []
    for index, (point, text) in enumerate(zip(points, texts, strict=True)):
        others = obstacles + markers[:index] + markers[index + 1 :]
        best: tuple[float, Annotation] | None = None
        for distance in _DISTANCES:
            for dx, dy in _DIRECTIONS:
                label = ax.annotate(
                    text,
                    point,
                    textcoords="offset points",
                    xytext=(dx * distance, dy * distance),
                    ha=_HORIZONTAL[dx],
                    va=_VERTICAL[dy],
                    fontsize=fontsize,
                )
                box = label.get_window_extent(renderer)
                cost = _outside_area(box, inside) + sum(_overlap_area(box, o) for o in others)
                if best is None or cost < best[0]:
                    if best is not None:
                        best[1].remove()
                    best = (cost, label)
                else:
                    label.remove()
                if cost == 0:
                    break
            if best is not None and best[0] == 0:
                break
        assert best is not None
        obstacles.append(best[1].get_window_extent(renderer))
        labels.append(best[1])
    return labels


def _marker_box(ax: Axes, point: tuple[float, float]) -> Bbox:
    x, y = ax.transData.transform(point)
    half = _POINT_HALF_WIDTH_PT * ax.figure.dpi / 72
    return Bbox.from_extents(x - half, y - half, x + half, y + half)


def _overlap_area(first: Bbox, second: Bbox) -> float:
    width = min(first.x1, second.x1) - max(first.x0, second.x0)
    height = min(first.y1, second.y1) - max(first.y0, second.y0)
    return float(max(width, 0.0) * max(height, 0.0))


def _outside_area(box: Bbox, inside: Bbox) -> float:
    return float(box.width * box.height) - _overlap_area(box, inside)
