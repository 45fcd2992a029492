"""Image files for upload tests, made in code: good ones and hostile ones."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image

GPS_IFD = 0x8825
ORIENTATION = 0x0112
# EXIF orientation 6: the camera was turned; show the pixels rotated 90°.
ROTATED_90 = 6


def image_bytes(image: Image.Image, format: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format, **options)
    return buffer.getvalue()


def gradient(width: int, height: int, mode: str = "RGB") -> Image.Image:
    """A picture with real detail, so encoders cannot shrink it to nothing."""
    image = Image.linear_gradient("L").resize((width, height)).convert(mode)
    return image


def jpeg(width: int = 64, height: int = 48, **options) -> bytes:
    return image_bytes(gradient(width, height), "JPEG", quality=90, **options)


def jpeg_with_gps(width: int, height: int, orientation: int = 1) -> bytes:
    """A JPEG whose EXIF holds a GPS position, a camera make and orientation."""
    exif = Image.Exif()
    exif[0x010F] = "TestCam"  # Make
    exif[ORIENTATION] = orientation
    exif.get_ifd(GPS_IFD).update(
        {1: "N", 2: (48.0, 51.0, 29.0), 3: "E", 4: (2.0, 17.0, 40.0)}
    )
    return jpeg(width, height, exif=exif.tobytes())


def png_with_alpha(width: int = 40, height: int = 30) -> bytes:
    image = gradient(width, height, "RGBA")
    image.putalpha(Image.linear_gradient("L").resize((width, height)))
    return image_bytes(image, "PNG")


def png(width: int = 40, height: int = 30) -> bytes:
    return image_bytes(gradient(width, height), "PNG")


def animated_gif(width: int = 32, height: int = 32) -> bytes:
    frames = [Image.new("P", (width, height), color) for color in (1, 2, 3)]
    return image_bytes(frames[0], "GIF", save_all=True, append_images=frames[1:])


def webp(width: int = 32, height: int = 32) -> bytes:
    return image_bytes(gradient(width, height), "WEBP")


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    checksum = zlib.crc32(kind + payload)
    return (
        struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", checksum)
    )


def decompression_bomb_png(width: int, height: int) -> bytes:
    """A PNG of a few dozen bytes that declares `width` x `height` pixels."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", zlib.compress(b"\x00" * (width + 1)))
        + png_chunk(b"IEND", b"")
    )


def truncated_jpeg() -> bytes:
    whole = jpeg(200, 150)
    return whole[: len(whole) // 2]


EPS = (
    b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 100 100\n"
    b"newpath 0 0 moveto 100 100 lineto stroke\nshowpage\n%%EOF\n"
)
HTML = (
    b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
)
