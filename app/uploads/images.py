"""Decode an uploaded image, refuse what is not one, re-encode what is.

Only the decoded content counts: the file name and the part's content type
are a client's claims. Decoding is limited to the formats we accept, so
Pillow's other plugins (EPS hands files to Ghostscript) never see an upload.
The re-encoded copy carries no metadata: no EXIF (GPS position, camera
serial), no comments, no colour profile once the pixels are in sRGB.
"""

from __future__ import annotations

import hashlib
import io
import struct
import warnings
from dataclasses import dataclass
from typing import BinaryIO

from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from app.api.errors import Problem
from appliance.settings import Settings

# Decoded format -> the file extensions that name it.
ACCEPTED_FORMATS = {
    "JPEG": ("jpg", "jpeg"),
    "PNG": ("png",),
    "GIF": ("gif",),
    "WEBP": ("webp",),
}
# Room above the largest kept size for a decode before the resize; past this
# many times the kept area, an image is treated as a decompression bomb.
DECODED_AREA_FACTOR = 4
# What Pillow raises for a malformed file (the set its own fuzzing accepts).
DECODE_ERRORS = (
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    NotImplementedError,
    OverflowError,
    struct.error,
)
SRGB = ImageCms.createProfile("sRGB")


class ImageRejected(Exception):
    """The upload is not an image we keep; `reason` labels the metric."""

    def __init__(self, reason: str, problem: Problem, detail: str):
        super().__init__(detail)
        self.reason = reason
        self.problem = problem
        self.detail = detail


@dataclass(frozen=True)
class PreparedImage:
    content: bytes
    content_type: str
    extension: str
    width: int
    height: int

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


def accepted_extensions(settings: Settings) -> list[str]:
    """The image extensions both we and ALLOWED_EXTENSIONS accept."""
    ours = [ext for names in ACCEPTED_FORMATS.values() for ext in names]
    return [ext for ext in ours if ext in settings.allowed_extensions]


def unsupported_type(what: str, settings: Settings) -> ImageRejected:
    accepted = ", ".join(accepted_extensions(settings)) or "none"
    return ImageRejected(
        "bad_type",
        Problem.UNSUPPORTED_MEDIA,
        f"{what}; send an image of one of these types: {accepted}",
    )


def check_file_name(filename: str | None, settings: Settings) -> None:
    """Refuse a name whose extension is not accepted (before any decoding).

    A name without an extension (a pasted screenshot) passes: the content
    decides.
    """
    stem, dot, extension = (filename or "").rpartition(".")
    if not dot or not stem:
        return
    if extension.lower() not in accepted_extensions(settings):
        raise unsupported_type(
            f"files ending in .{extension} are not accepted", settings
        )


def prepare_image(source: BinaryIO, settings: Settings) -> PreparedImage:
    """Decode `source` and return the re-encoded image, or raise ImageRejected.

    Blocking and CPU-heavy: call it from a worker thread.
    """
    source.seek(0, io.SEEK_END)
    if source.tell() == 0:
        raise ImageRejected(
            "empty", Problem.INVALID, "the file is empty; choose an image"
        )
    source.seek(0)

    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        image = open_image(source, settings)
        decoded = decode_first_frame(image, settings)
    return encode_clean(decoded, settings)


def open_image(source: BinaryIO, settings: Settings) -> Image.Image:
    try:
        image = Image.open(source, formats=list(ACCEPTED_FORMATS))
    except UnidentifiedImageError:
        raise unsupported_type(
            "the file is not a JPEG, PNG, GIF or WebP image", settings
        ) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise too_large_when_decoded() from None
    except DECODE_ERRORS:
        raise undecodable() from None

    if image.format not in ACCEPTED_FORMATS:
        raise unsupported_type(f"{image.format} images are not accepted", settings)
    if not set(ACCEPTED_FORMATS[image.format]) & set(settings.allowed_extensions):
        raise unsupported_type(f"{image.format} images are not accepted", settings)
    return image


def decode_first_frame(image: Image.Image, settings: Settings) -> Image.Image:
    """The pixels of the first frame, upright, decoded at most once."""
    limit = (settings.image_max_width, settings.image_max_height)
    # A JPEG decodes at 1/2, 1/4 or 1/8 scale for free: a 48-megapixel photo
    # costs a quarter of its memory and still comes out above the kept size.
    image.draft("RGB", limit)
    width, height = image.size
    if width * height > DECODED_AREA_FACTOR * limit[0] * limit[1]:
        raise too_large_when_decoded()

    try:
        image.load()
        return ImageOps.exif_transpose(image)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise too_large_when_decoded() from None
    except DECODE_ERRORS:
        raise undecodable() from None


def encode_clean(image: Image.Image, settings: Settings) -> PreparedImage:
    """Resize within the limits and write a copy with no metadata.

    Transparent images stay PNG (JPEG has no alpha); everything else
    becomes a JPEG at IMAGE_QUALITY.
    """
    transparent = has_transparency(image)
    image = to_srgb(image, "RGBA" if transparent else "RGB")
    image.thumbnail(
        (settings.image_max_width, settings.image_max_height),
        Image.Resampling.LANCZOS,
    )
    # Pillow writes some of `info` (the colour profile) back out by default.
    image.info = {}

    buffer = io.BytesIO()
    if transparent:
        image.save(buffer, "PNG", optimize=True)
        content_type, extension = "image/png", "png"
    else:
        image.save(buffer, "JPEG", quality=settings.image_quality, optimize=True)
        content_type, extension = "image/jpeg", "jpg"
    return PreparedImage(
        buffer.getvalue(), content_type, extension, image.width, image.height
    )


def has_transparency(image: Image.Image) -> bool:
    if not image.has_transparency_data:
        return False
    alpha = image.convert("RGBA").getchannel("A")
    # An alpha channel that is opaque everywhere is not worth a PNG.
    return alpha.getextrema()[0] < 255


def to_srgb(image: Image.Image, mode: str) -> Image.Image:
    """`image` in `mode`, its colours moved into sRGB when it carries a profile.

    Dropping a wide-gamut profile without converting would wash the colours
    out; a profile lcms cannot read is dropped as if it were absent.
    """
    profile = image.info.get("icc_profile")
    converted = image.convert(mode)
    if not profile:
        return converted
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
        return ImageCms.profileToProfile(converted, source, SRGB, outputMode=mode)
    except (ImageCms.PyCMSError, OSError, ValueError):
        return converted


def too_large_when_decoded() -> ImageRejected:
    return ImageRejected(
        "bomb",
        Problem.INVALID,
        "image too large when decoded; send a picture of fewer pixels",
    )


def undecodable() -> ImageRejected:
    return ImageRejected(
        "undecodable",
        Problem.INVALID,
        "the image is damaged or incomplete and cannot be read; send it again",
    )
