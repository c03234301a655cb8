"""Reading one scanned page: markers → straightened page → QR → filled circles.

OpenCV's ArUco detector finds the corner markers (their ids say paper and
page); a homography from their corners to the layout's millimetres undoes skew,
rotation and a phone's perspective in one warp. zxing-cpp reads the QR. Each
circle is then measured on the straightened page after dividing out the paper's
shading: the share of clearly dark pixels inside it and of faintly dark ones.

The rule is deliberately cautious — a ballot stored wrong is worse than a
sheet sent to review: a circle is *marked* only when plainly dark inside,
*empty* only when plainly clean, and anything between (a faint mark, a small
stroke) is *unsure*. An item is clear when its circles are all marked or
empty and, for a single-choice item, at most one is marked; otherwise it goes
to review with the reader's guess.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from surveys.codes import normalise_code

from .layout import PAPERS, Layout, code_box, marker_corners, qr_box, which_page

PX = 5.0                # px per mm on the straightened page
INNER = 0.62            # share of the circle's radius measured (keeps the printed ring out)
DARK, FAINT = 0.45, 0.18  # darkness (0 white … 1 black) of a pen stroke, and of a faint trace
MARKED = 0.20           # share of dark pixels from which a circle counts as marked
CLEAN_DARK, CLEAN_FAINT = 0.05, 0.12  # below both shares a circle counts as empty


@dataclass
class Page:
    """A page found on a scan: which paper and page of a sheet, the straightened image and the code."""

    paper: str
    page: int
    image: np.ndarray           # straightened, PX px/mm, grayscale
    code: Optional[str] = None  # normalised, None when the QR could not be read


@dataclass
class ItemReading:
    """What the reader made of one item: the chosen option ids, or unsure with a guess."""

    item_id: int
    clear: bool
    chosen: tuple[int, ...]
    guess: tuple[int, ...] = ()
    fills: dict[int, float] = field(default_factory=dict)


def _detector():
    import cv2

    parameters = cv2.aruco.DetectorParameters()
    parameters.cornerRefinementMethod = cv2.aruco.CORNER_REFINE_SUBPIX
    return cv2.aruco.ArucoDetector(cv2.aruco.getPredefinedDictionary(cv2.aruco.DICT_4X4_250), parameters)


_DETECTOR = None


def locate(image: np.ndarray) -> Optional[Page]:
    """Find the sheet on a scan and straighten it; None when no sheet's markers are found."""
    import cv2

    global _DETECTOR
    if _DETECTOR is None:
        _DETECTOR = _detector()
    # Markers are large (12 mm): finding them on a half-size copy costs a quarter and loses nothing
    # that matters once the corners are scaled back (sub-pixel refined, ≈0.1 mm on the page).
    small = cv2.pyrDown(image) if min(image.shape[:2]) > 1000 else image
    corners, ids, _rejected = _DETECTOR.detectMarkers(small)
    if small is not image:
        corners = [quad * (image.shape[1] / small.shape[1]) for quad in corners] if ids is not None else corners
    if ids is None:
        return None
    found: dict[tuple[str, int], list[tuple[int, np.ndarray]]] = {}
    for marker_id, quad in zip(ids.ravel().tolist(), corners):
        where = which_page(marker_id)
        if where is not None:
            found.setdefault(where, []).append((marker_id, quad.reshape(4, 2)))
    if not found:
        return None
    (paper, page), markers = max(found.items(), key=lambda kv: len(kv[1]))
    if len(markers) < 3:  # two markers cannot fix a perspective reliably
        return None
    known = marker_corners(paper, page)
    source = np.concatenate([quad for _, quad in markers]).astype(np.float32)
    target = np.concatenate([np.float32(known[mid]) * PX for mid, _ in markers])
    homography, _mask = cv2.findHomography(source, target, cv2.RANSAC, 3.0)
    if homography is None:
        return None
    width, height = PAPERS[paper]
    straight = cv2.warpPerspective(image, homography, (int(width * PX), int(height * PX)),
                                   flags=cv2.INTER_LINEAR, borderValue=255)
    located = Page(paper, page, straight)
    located.code = read_code(straight, paper, image, homography)
    return located


def code_from_text(text: str) -> Optional[str]:
    """The normalised code in a QR's text (``…/v#CODE``, or the bare code), or None."""
    return normalise_code(text.rsplit("#", 1)[-1].rsplit("/", 1)[-1]) if text else None


def read_code(straight: np.ndarray, paper: str, original: Optional[np.ndarray] = None,
              homography: Optional[np.ndarray] = None) -> Optional[str]:
    """The code from the page's QR: first on the straightened page, then sharper from the original scan."""
    import cv2

    x, y, w, h = qr_box(paper)
    margin = 3.0
    crop = _crop_mm(straight, x - margin, y - margin, w + 2 * margin, h + 2 * margin)
    found = _decode_qr(crop)
    if found or original is None or homography is None:
        return found
    # Warp just the QR's square again at 12 px/mm: a blurred or low-dpi scan reads better larger.
    scale = 12.0 / PX
    shift = np.array([[scale, 0, -(x - margin) * 12.0], [0, scale, -(y - margin) * 12.0], [0, 0, 1]])
    size = int((w + 2 * margin) * 12.0)
    larger = cv2.warpPerspective(original, shift @ homography, (size, size), flags=cv2.INTER_CUBIC, borderValue=255)
    found = _decode_qr(larger)
    if found:
        return found
    # A blurred photo: an unsharp mask restores enough module edges for a few more.
    return _decode_qr(cv2.addWeighted(larger, 2.0, cv2.GaussianBlur(larger, (0, 0), 3), -1.0, 0))


def _decode_qr(image: np.ndarray) -> Optional[str]:
    import zxingcpp

    for result in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode):
        code = code_from_text(result.text)
        if code:
            return code
    return None


def _crop_mm(image: np.ndarray, x: float, y: float, w: float, h: float) -> np.ndarray:
    top, left = max(0, int(y * PX)), max(0, int(x * PX))
    return image[top:int((y + h) * PX), left:int((x + w) * PX)]


def code_crop(page: Page) -> np.ndarray:
    """Only the QR and the printed code: what the code-entry screen may show."""
    return _crop_mm(page.image, *code_box(page.paper))


def item_crop(page: Page, placed: Layout, item_id: int) -> np.ndarray:
    """Only one item's block (its text and circles): what the review screen shows for it."""
    box = next(b for b in placed.items if b.item_id == item_id)
    return _crop_mm(page.image, 8.0, box.top - 1.0, placed.width - 16.0, box.bottom - box.top + 1.0)


def _shading_removed(image: np.ndarray) -> np.ndarray:
    """Darkness 0…1 of every pixel relative to the paper around it (phone photos are unevenly lit)."""
    import cv2

    small = cv2.resize(image, None, fx=0.25, fy=0.25, interpolation=cv2.INTER_AREA)
    paper = cv2.dilate(small, np.ones((9, 9), np.uint8))  # the local white: marks and text are narrower
    paper = cv2.resize(cv2.blur(paper, (9, 9)), (image.shape[1], image.shape[0]), interpolation=cv2.INTER_LINEAR)
    return 1.0 - np.minimum(image.astype(np.float32) / np.maximum(paper.astype(np.float32), 40.0), 1.0)


def _disk(radius: float) -> np.ndarray:
    size = int(np.ceil(radius))
    yy, xx = np.mgrid[-size:size + 1, -size:size + 1]
    return (xx * xx + yy * yy) <= radius * radius


def marks(page: Page, placed: Layout) -> list[ItemReading]:
    """Read every item printed on ``page``: clear answers, or unsure ones with the reader's guess."""
    darkness = _shading_removed(page.image)
    readings = []
    for box in placed.on_page(page.page):
        fills, unsure = {}, False
        for bubble in box.bubbles:
            mask = _disk(bubble.r * INNER * PX)
            half = mask.shape[0] // 2
            cx, cy = int(round(bubble.x * PX)), int(round(bubble.y * PX))
            patch = darkness[cy - half:cy + half + 1, cx - half:cx + half + 1][mask]
            dark, faint = float((patch > DARK).mean()), float((patch > FAINT).mean())
            fills[bubble.option_id] = round(dark, 3)
            if dark < MARKED and not (dark < CLEAN_DARK and faint < CLEAN_FAINT):
                unsure = True
        chosen = tuple(o for o, f in fills.items() if f >= MARKED)
        single = box.kind != "multiple"
        clear = not unsure and not (single and len(chosen) > 1)
        guess = chosen if not single else tuple(sorted(fills, key=fills.get, reverse=True)[:1]) if chosen or unsure else ()
        readings.append(ItemReading(box.item_id, clear, chosen if clear else (), guess, fills))
    return readings
