#!/usr/bin/env python3
"""Draws the add-on store images: icon.png (128x128) and logo.png (250x100).

Pure standard library (zlib PNG writer, 4x4 supersampled shapes), so it runs anywhere:
`python3 scripts/make_icons.py` rewrites both files at the project root.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
Color = tuple[int, int, int, int]
Shape = Callable[[float, float], bool]

BLUE_TOP: Color = (33, 150, 243, 255)
BLUE_BOTTOM: Color = (13, 71, 161, 255)
YELLOW: Color = (255, 202, 40, 255)
GREEN: Color = (102, 187, 106, 255)
CLEAR: Color = (0, 0, 0, 0)


def rounded_rect(x0: float, y0: float, x1: float, y1: float, r: float) -> Shape:
    def inside(x: float, y: float) -> bool:
        if not (x0 <= x <= x1 and y0 <= y <= y1):
            return False
        cx = min(max(x, x0 + r), x1 - r)
        cy = min(max(y, y0 + r), y1 - r)
        return (x - cx) ** 2 + (y - cy) ** 2 <= r * r

    return inside


def polygon(points: list[tuple[float, float]]) -> Shape:
    def inside(x: float, y: float) -> bool:
        hit = False
        for (xa, ya), (xb, yb) in zip(points, points[1:] + points[:1], strict=True):
            if (ya > y) != (yb > y) and x < xa + (y - ya) * (xb - xa) / (yb - ya):
                hit = not hit
        return hit

    return inside


def bolt(x: float, y: float, scale: float) -> Shape:
    """A lightning bolt whose 100x100 design box starts at (x, y)."""
    design = [(58, 4), (18, 56), (46, 56), (36, 96), (82, 38), (54, 38), (66, 4)]
    return polygon([(x + px * scale, y + py * scale) for px, py in design])


def render(width: int, height: int, layers: list[tuple[Shape, Callable[[float], Color]]]) -> bytes:
    """RGBA rows; each layer is (shape, colour as a function of y in 0..1), later layers on top."""
    rows = bytearray()
    samples = [(i + 0.5) / 4 for i in range(4)]
    for py in range(height):
        rows.append(0)  # PNG filter type: none
        for px in range(width):
            acc = [0.0, 0.0, 0.0, 0.0]
            for sy in samples:
                for sx in samples:
                    x, y = px + sx, py + sy
                    color = CLEAR
                    for shape, paint in layers:
                        if shape(x, y):
                            color = paint(y / height)
                    alpha = color[3] / 255
                    for i in range(3):
                        acc[i] += color[i] * alpha
                    acc[3] += alpha
            alpha_sum = acc[3]
            if alpha_sum:
                rows += bytes(round(acc[i] / alpha_sum) for i in range(3))
            else:
                rows += b"\0\0\0"
            rows.append(round(255 * alpha_sum / 16))
    return bytes(rows)


def png(width: int, height: int, rgba_rows: bytes) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rgba_rows, 9))
        + chunk(b"IEND", b"")
    )


def gradient(top: Color, bottom: Color) -> Callable[[float], Color]:
    def paint(t: float) -> Color:
        mixed = [round(a + (b - a) * t) for a, b in zip(top, bottom, strict=True)]
        return (mixed[0], mixed[1], mixed[2], mixed[3])

    return paint


def solid(color: Color) -> Callable[[float], Color]:
    return lambda _t: color


def icon() -> bytes:
    layers = [
        (rounded_rect(4, 4, 124, 124, 24), gradient(BLUE_TOP, BLUE_BOTTOM)),
        (bolt(14, 14, 1.0), solid(YELLOW)),
    ]
    return png(128, 128, render(128, 128, layers))


def logo() -> bytes:
    layers: list[tuple[Shape, Callable[[float], Color]]] = [
        (rounded_rect(2, 2, 98, 98, 20), gradient(BLUE_TOP, BLUE_BOTTOM)),
        (bolt(8, 8, 0.84), solid(YELLOW)),
    ]
    # Daily bars: the data the add-on keeps.
    for i, bar in enumerate((34, 52, 44, 70, 58, 84, 62)):
        x = 112 + i * 19
        layers.append((rounded_rect(x, 96 - bar, x + 13, 96, 4), gradient(BLUE_TOP, BLUE_BOTTOM)))
    layers.append((rounded_rect(108, 90, 248, 98, 4), solid(GREEN)))
    return png(250, 100, render(250, 100, layers))


def main() -> None:
    (ROOT / "icon.png").write_bytes(icon())
    (ROOT / "logo.png").write_bytes(logo())


if __name__ == "__main__":
    main()
