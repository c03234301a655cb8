"""Synthetic scans of printed answer sheets with known answers, for the tests and ``bench/sheets.py``.

A sheet PDF from :mod:`evaluation.sheets.printing` is rendered with pypdfium2
at a scanner's resolution, marked with OpenCV the way a pen would (filled
circles, ticks, crosses, partial fills, a faint trace, one choice crossed out
next to another), then disturbed like a real scan or phone photo (rotation,
perspective, blur, noise, JPEG). Everything is drawn from a seeded
``random.Random`` so a failure can be replayed.
"""
from __future__ import annotations

import random
from typing import Iterable, Optional

import cv2
import numpy as np
import pypdfium2

MM = 1 / 25.4


def render(pdf: bytes, dpi: int = 150) -> list[np.ndarray]:
    """Every page of ``pdf`` as a grayscale image at ``dpi``."""
    document = pypdfium2.PdfDocument(pdf)
    try:
        pages = [document[i].render(scale=dpi / 72, grayscale=True).to_numpy() for i in range(len(document))]
        return [np.ascontiguousarray(p if p.ndim == 2 else p[..., 0]) for p in pages]
    finally:
        document.close()


def _pen(rnd: random.Random, dpi: int) -> tuple[int, int]:
    """Ink grey level and stroke width (px) of a ballpoint or gel pen at ``dpi``."""
    return rnd.randint(10, 70), max(1, int(round(rnd.uniform(0.45, 0.7) * dpi * MM)))


def mark(image: np.ndarray, x_mm: float, y_mm: float, r_mm: float, style: str, dpi: int,
         rnd: Optional[random.Random] = None) -> None:
    """Draw one pen mark of ``style`` on the circle centred at (x_mm, y_mm), in place.

    Styles a reader must count as chosen: ``fill``, ``tick``, ``cross``,
    ``partial``; ``faint`` is a light trace it must not trust; ``crossed``
    is a filled circle struck through (a correction).
    """
    rnd = rnd or random.Random(0)
    k = dpi * MM
    cx, cy = (x_mm + rnd.uniform(-0.3, 0.3)) * k, (y_mm + rnd.uniform(-0.3, 0.3)) * k
    r = r_mm * k
    ink, width = _pen(rnd, dpi)
    point = lambda dx, dy: (int(round(cx + dx * r)), int(round(cy + dy * r)))  # noqa: E731
    if style in ("fill", "crossed"):
        cv2.circle(image, point(0, 0), int(r * rnd.uniform(0.85, 1.05)), ink, -1, cv2.LINE_AA)
        if style == "crossed":
            cv2.line(image, point(-1.4, -1.4), point(1.4, 1.4), ink, width + 1, cv2.LINE_AA)
            cv2.line(image, point(-1.4, 1.4), point(1.4, -1.4), ink, width + 1, cv2.LINE_AA)
    elif style == "partial":
        cv2.ellipse(image, point(rnd.uniform(-0.15, 0.15), 0), (int(r * 0.8), int(r * 0.55)), rnd.uniform(0, 180),
                    0, 360, ink, -1, cv2.LINE_AA)
    elif style == "tick":
        pts = np.array([point(-0.75, 0.0), point(-0.15, 0.7), point(0.85, -0.9)], np.int32)
        cv2.polylines(image, [pts], False, ink, width + 1, cv2.LINE_AA)
        cv2.polylines(image, [pts + [0, 1]], False, ink, width, cv2.LINE_AA)
    elif style == "cross":
        cv2.line(image, point(-0.9, -0.9), point(0.9, 0.9), ink, width + 1, cv2.LINE_AA)
        cv2.line(image, point(-0.9, 0.9), point(0.9, -0.9), ink, width + 1, cv2.LINE_AA)
    elif style == "faint":
        overlay = image.copy()
        cv2.circle(overlay, point(0, 0), int(r * 0.9), 0, -1, cv2.LINE_AA)
        image[:] = cv2.addWeighted(image, 0.78, overlay, 0.22, 0)
    else:
        raise ValueError(style)


def distort(image: np.ndarray, rnd: random.Random, rotate: float = 4.0, perspective: float = 0.0,
            blur: float = 0.0, noise: float = 0.0) -> np.ndarray:
    """A scan's or photo's faults: rotation up to ±``rotate``°, corner shifts, blur and noise."""
    h, w = image.shape
    pad = int(0.04 * max(h, w))
    canvas = cv2.copyMakeBorder(image, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=rnd.randint(200, 250))
    H, W = canvas.shape
    angle = rnd.uniform(-rotate, rotate)
    matrix = np.vstack([cv2.getRotationMatrix2D((W / 2, H / 2), angle, rnd.uniform(0.97, 1.03)), [0, 0, 1]])
    if perspective:
        src = np.float32([[0, 0], [W, 0], [W, H], [0, H]])
        dst = src + np.float32([[rnd.uniform(-1, 1) * perspective * W, rnd.uniform(-1, 1) * perspective * H]
                                for _ in range(4)])
        matrix = cv2.getPerspectiveTransform(src, dst) @ matrix
    out = cv2.warpPerspective(canvas, matrix, (W, H), flags=cv2.INTER_LINEAR, borderValue=rnd.randint(180, 240))
    if perspective:  # a phone photo: light falls off towards one side
        ramp = np.linspace(rnd.uniform(0.75, 0.9), 1.0, W, dtype=np.float32)[None, :]
        out = (out.astype(np.float32) * ramp).astype(np.uint8)
    if blur:
        out = cv2.GaussianBlur(out, (0, 0), blur)
    if noise:
        out = np.clip(out.astype(np.float32) + np.random.default_rng(rnd.randint(0, 2 ** 31)).normal(0, noise, out.shape),
                      0, 255).astype(np.uint8)
    return out


def encode(image: np.ndarray, kind: str = "png", quality: int = 60) -> bytes:
    """The image as PNG, JPEG (at ``quality``) or TIFF bytes."""
    ext = {"png": ".png", "jpeg": ".jpg", "tiff": ".tif"}[kind]
    params = [cv2.IMWRITE_JPEG_QUALITY, quality] if kind == "jpeg" else []
    ok, data = cv2.imencode(ext, image, params)
    assert ok
    return data.tobytes()


def to_pdf(images: Iterable[np.ndarray], quality: int = 80) -> bytes:
    """Pages as a scanner's PDF: one JPEG image per page (ReportLab)."""
    import io

    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen.canvas import Canvas
    from PIL import Image

    out = io.BytesIO()
    pdf = None
    for image in images:
        h, w = image.shape
        size = (w * 72 / 150, h * 72 / 150)
        pdf = pdf or Canvas(out, pagesize=size)
        pdf.setPageSize(size)
        buffer = io.BytesIO()
        Image.fromarray(image).save(buffer, "JPEG", quality=quality)
        pdf.drawImage(ImageReader(io.BytesIO(buffer.getvalue())), 0, 0, *size)
        pdf.showPage()
    pdf.save()
    return out.getvalue()


def damage_qr(image: np.ndarray, qr_mm: tuple[float, float, float, float], dpi: int) -> None:
    """Scribble over the QR's finder patterns so no reader can decode it, in place."""
    k = dpi * MM
    x, y, w, h = (v * k for v in qr_mm)
    cv2.rectangle(image, (int(x), int(y)), (int(x + w * 0.55), int(y + h * 0.55)), 0, -1)
    cv2.rectangle(image, (int(x + w * 0.5), int(y + h * 0.5)), (int(x + w), int(y + h)), 255, -1)

