"""Scanned files to page images: multi-page PDF (pypdfium2), TIFF and JPEG/PNG (OpenCV).

Every page comes out as an 8-bit grayscale array scaled so its longer side is
at most :data:`MAX_SIDE` pixels — about 6 px/mm on A4, plenty for 5 mm
circles, and it keeps a 300 dpi page as cheap to read as a 150 dpi one. A file
that is none of these, or is damaged, raises :class:`ScanError` with a message
fit for the operator; nothing here logs or keeps pixels.
"""
from __future__ import annotations

from typing import Iterator

import numpy as np

MAX_SIDE = 1800
PDF_DPI = 200          # scanned PDFs hold 150–300 dpi images; 200 dpi loses nothing we measure
MAX_PAGES_PER_FILE = 2000
MAX_PIXELS = 80_000_000  # an A3 page at 600 dpi is 70 MP; more is no scan, and would exhaust memory


class ScanError(ValueError):
    """A file that cannot be read as scanned pages; the message says why, for the operator."""


def kind_of(data: bytes) -> str:
    """``pdf``, ``tiff`` or ``image`` (JPEG/PNG/BMP) by the file's first bytes, or ScanError."""
    if data.startswith(b"%PDF"):
        return "pdf"
    if data[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff"
    if data[:3] == b"\xff\xd8\xff" or data[:8] == b"\x89PNG\r\n\x1a\n" or data[:2] == b"BM":
        return "image"
    raise ScanError("不是 PDF、TIFF、JPEG 或 PNG 文件 / not a PDF, TIFF, JPEG or PNG file")


def page_count(data: bytes) -> int:
    """How many pages the file holds (ScanError when it cannot be opened)."""
    kind = kind_of(data)
    if kind == "pdf":
        document = _pdf(data)
        try:
            return len(document)
        finally:
            document.close()
    if kind == "tiff":
        import cv2

        count = cv2.imcountmulti(_buffer(data)) if hasattr(cv2, "imcountmulti") else len(_tiff_pages(data))
        if count <= 0:
            raise ScanError("TIFF 文件已损坏 / the TIFF file is damaged")
        return count
    _decode(data)  # a damaged JPEG/PNG is refused now, with the files, not later as an unreadable page
    return 1


def _too_large() -> ScanError:
    return ScanError("页面过大,不是扫描件 / the page is far too large for a scan")


def pages(data: bytes, start: int = 0) -> Iterator[np.ndarray]:
    """The file's pages from page ``start`` on, each as a grayscale array."""
    kind = kind_of(data)
    if kind == "pdf":
        document = _pdf(data)
        try:
            for index in range(start, len(document)):
                width, height = document[index].get_size()
                if width * height * (PDF_DPI / 72) ** 2 > MAX_PIXELS:
                    raise _too_large()
                try:
                    bitmap = document[index].render(scale=PDF_DPI / 72, grayscale=True)
                    image = bitmap.to_numpy()
                except Exception as error:  # pdfium raises its own errors for damaged pages
                    raise ScanError(f"PDF 第 {index + 1} 页无法读取 / PDF page {index + 1} cannot be read") from error
                yield _fit(image if image.ndim == 2 else image[..., 0])
        finally:
            document.close()
    elif kind == "tiff":
        for image in _tiff_pages(data)[start:]:
            yield _fit(image)
    elif start == 0:
        yield _fit(_decode(data))


def _buffer(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype=np.uint8)


def _pdf(data: bytes):
    import pypdfium2

    try:
        document = pypdfium2.PdfDocument(data)
    except Exception as error:  # PdfiumError for damaged or encrypted files
        raise ScanError("PDF 文件已损坏或加密,无法打开 / the PDF is damaged or encrypted") from error
    if len(document) > MAX_PAGES_PER_FILE:
        document.close()
        raise ScanError(f"一个文件最多 {MAX_PAGES_PER_FILE} 页 / at most {MAX_PAGES_PER_FILE} pages per file")
    return document


def _decode(data: bytes) -> np.ndarray:
    import cv2

    flag = cv2.IMREAD_GRAYSCALE
    width, height = _size(data)
    if width * height > MAX_PIXELS:
        raise _too_large()
    if data[:3] == b"\xff\xd8\xff" and max(width, height) >= 2 * MAX_SIDE * 0.8:
        flag = cv2.IMREAD_REDUCED_GRAYSCALE_2  # a 300 dpi JPEG decodes at half size in a third of the time
    image = cv2.imdecode(_buffer(data), flag)
    if image is None or image.size == 0:
        raise ScanError("图片已损坏,无法读取 / the image is damaged and cannot be read")
    return image


def _size(data: bytes) -> tuple[int, int]:
    """The image's width and height from its header alone (Pillow reads no pixels for this); 0, 0 if unknown."""
    import io

    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as header:
            return header.size
    except Image.DecompressionBombError:
        raise _too_large() from None
    except (UnidentifiedImageError, OSError, ValueError):
        return 0, 0


def _tiff_pages(data: bytes) -> list[np.ndarray]:
    import cv2

    width, height = _size(data)  # the first page's header: refuse a pixel bomb before decoding
    if width * height > MAX_PIXELS:
        raise _too_large()
    ok, images = cv2.imdecodemulti(_buffer(data), cv2.IMREAD_GRAYSCALE)
    if not ok or not images:
        raise ScanError("TIFF 文件已损坏 / the TIFF file is damaged")
    return list(images)


def _fit(image: np.ndarray) -> np.ndarray:
    """Scale down so the longer side is at most MAX_SIDE (never up: a small photo stays as it is)."""
    import cv2

    if image.dtype != np.uint8:
        image = cv2.normalize(image, None, 0, 255, cv2.NORM_MINMAX).astype(np.uint8)
    longer = max(image.shape[:2])
    if longer <= MAX_SIDE:
        return image
    factor = MAX_SIDE / longer
    if factor < 0.5:  # halve first (cheap, averages 2×2), then the rest bilinearly
        image, factor = cv2.pyrDown(image), factor * 2
    return cv2.resize(image, None, fx=factor, fy=factor, interpolation=cv2.INTER_LINEAR)
