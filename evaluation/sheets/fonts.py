"""The sheets' two fonts: one to measure with, one to print with.

* **Measuring** (:data:`METRICS_FONT`): ReportLab's built-in CID font
  ``STSong-Light``. Its widths ship inside ReportLab itself, so the layout —
  where lines wrap, how wide an option's slot is, hence where every bubble sits —
  is the same on every machine and in every version of the app, whatever font
  printed a sheet. The reader rebuilds the layout from the code alone and
  never needs a font file; sheets printed before the font below existed still
  read.
* **Printing** (:data:`PRINT_FONT`): WenQuanYi Micro Hei (文泉驿微米黑, TrueType,
  20,932 CJK ideographs — GBK), embedded as ReportLab's subset of the glyphs
  used, so a sheet prints alike on any office printer instead of in whatever
  font the printer or viewer substitutes for a non-embedded ``STSong-Light``.
  The file comes from the pinned PyPI package ``paperang-p2-fonts-cjk`` (it
  holds upstream's 0.2.0-beta ``wqy-microhei.ttc``, byte for byte the file
  Debian's ``fonts-wqy-microhei`` installs — both are accepted, by SHA-256).
  The font is Apache-2.0 or GPL-3+ with the font exception (see
  bench/README.md, section 5); both allow embedding.

The drawn text may be wider than the measured one (Latin letters and digits
differ a little); :func:`draw` then squeezes it horizontally to the measured
width, so printed text never runs past where the layout ended it — never into
a bubble. A character the print font lacks (rare Extension A/B ideographs) is
drawn in ``STSong-Light`` as before rather than as an empty box. Without the
font file the sheets fall back to ``STSong-Light`` throughout, with a warning
in the log: same layout, not embedded.
"""
from __future__ import annotations

import hashlib
import logging
from functools import lru_cache
from pathlib import Path
from typing import Optional

log = logging.getLogger(__name__)

METRICS_FONT = "STSong-Light"
PRINT_FONT = "CepingSheetHei"
#: upstream wqy-microhei 0.2.0-beta, face 0 ("WenQuanYi Micro Hei"; face 1 is the monospaced one)
FONT_SHA256 = "2420e8078af796b19a3f6ef13de527a1a91c1e7171eea115926c614ced1009b3"
SYSTEM_FILES = ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",)  # Debian/Ubuntu fonts-wqy-microhei


def register_metrics() -> None:
    """Register ``STSong-Light`` (needs no file) so ReportLab can measure with it."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    if METRICS_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(METRICS_FONT))


def font_file() -> Optional[Path]:
    """The print font's file: the pip package's, else the system's; only a file with the pinned SHA-256."""
    candidates = []
    try:
        from importlib.resources import files

        candidates.append(Path(str(files("paperang_p2_fonts_cjk") / "fonts" / "wqy-microhei.ttc")))
    except (ImportError, TypeError):  # the package is not installed: try the system font
        pass
    candidates += [Path(p) for p in SYSTEM_FILES]
    for path in candidates:
        # A different file (another release, a tampered package) would print differently: refuse it.
        if path.is_file() and hashlib.sha256(path.read_bytes()).hexdigest() == FONT_SHA256:
            return path
    return None


@lru_cache(maxsize=1)
def print_font() -> Optional[str]:
    """Register the embedded print font once per process; its name, or None when it is not to be had."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    register_metrics()
    path = font_file()
    if path is None:
        log.warning("sheets: WenQuanYi Micro Hei not found (pip install -r requirements.txt); printing with the "
                    "non-embedded STSong-Light, which each printer substitutes")
        return None
    pdfmetrics.registerFont(TTFont(PRINT_FONT, str(path), subfontIndex=0))
    return PRINT_FONT


def runs(text: str) -> list[tuple[str, str]]:
    """``text`` cut into (font name, piece): the print font where it has the glyph, ``STSong-Light`` elsewhere."""
    name = print_font()
    if name is None:
        return [(METRICS_FONT, text)] if text else []
    from reportlab.pdfbase import pdfmetrics

    glyphs = pdfmetrics.getFont(name).face.charToGlyph
    out: list[tuple[str, str]] = []
    for ch in text:
        font = name if ord(ch) in glyphs else METRICS_FONT
        if out and out[-1][0] == font:
            out[-1] = (font, out[-1][1] + ch)
        else:
            out.append((font, ch))
    return out


def squeeze(pieces: list[tuple[str, str]], text: str, size: float) -> float:
    """Horizontal scale in % that makes ``pieces`` as wide as ``text`` measured in ``STSong-Light`` (≤ 100)."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    drawn = sum(stringWidth(piece, font, size) for font, piece in pieces)
    measured = stringWidth(text, METRICS_FONT, size)
    return 100.0 if drawn <= measured or drawn == 0 else 100.0 * measured / drawn


def draw(pdf, x: float, y: float, text: str, size: float) -> None:
    """Draw ``text`` at (x, y) in points, embedded where possible, never wider than its measured width."""
    pieces = runs(text)
    if not pieces:
        return
    line = pdf.beginText(x, y)
    line.setHorizScale(squeeze(pieces, text, size))
    for font, piece in pieces:
        line.setFont(font, size)
        line.textOut(piece)
    pdf.drawText(line)
