"""Decoding decides what an upload is; the kept copy carries no metadata."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageCms

from app.api.errors import Problem
from app.uploads.images import (
    ImageRejected,
    accepted_extensions,
    check_file_name,
    prepare_image,
)
from appliance.settings import Settings
from tests.support import images


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(
        data_dir=tmp_path,
        image_max_width=100,
        image_max_height=80,
        allowed_extensions=["jpg", "jpeg", "png", "gif", "webp"],
    )


def prepare(content: bytes, settings: Settings):
    return prepare_image(io.BytesIO(content), settings)


def reopen(prepared) -> Image.Image:
    return Image.open(io.BytesIO(prepared.content))


def rejection(content: bytes, settings: Settings) -> ImageRejected:
    with pytest.raises(ImageRejected) as caught:
        prepare(content, settings)
    return caught.value


def test_jpeg_is_shrunk_to_fit_and_loses_its_exif(settings):
    prepared = prepare(images.jpeg_with_gps(400, 200), settings)

    kept = reopen(prepared)
    assert (kept.format, kept.size) == ("JPEG", (100, 50))
    assert (prepared.width, prepared.height) == (100, 50)
    assert not kept.getexif()
    assert "exif" not in kept.info


def test_exif_orientation_is_applied_before_it_is_dropped(settings):
    prepared = prepare(images.jpeg_with_gps(60, 40, images.ROTATED_90), settings)

    assert reopen(prepared).size == (40, 60)


def test_small_image_is_not_enlarged(settings):
    assert reopen(prepare(images.jpeg(30, 20), settings)).size == (30, 20)


def test_transparent_png_stays_png_with_alpha(settings):
    prepared = prepare(images.png_with_alpha(), settings)

    kept = reopen(prepared)
    assert (kept.format, kept.mode, prepared.content_type) == (
        "PNG",
        "RGBA",
        "image/png",
    )
    assert kept.getchannel("A").getextrema()[0] < 255


def test_opaque_png_becomes_jpeg(settings):
    prepared = prepare(images.png(), settings)

    assert (prepared.content_type, prepared.extension) == ("image/jpeg", "jpg")


def test_animated_gif_keeps_its_first_frame(settings):
    kept = reopen(prepare(images.animated_gif(), settings))

    assert getattr(kept, "n_frames", 1) == 1


def test_webp_is_accepted_when_allowed(settings):
    assert reopen(prepare(images.webp(), settings)).format == "JPEG"


def test_colour_profile_is_converted_then_dropped(settings):
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    tagged = images.image_bytes(images.gradient(20, 20), "JPEG", icc_profile=profile)

    kept = reopen(prepare(tagged, settings))
    assert "icc_profile" not in kept.info


@pytest.mark.parametrize(
    "content, reason, problem",
    [
        (b"", "empty", Problem.INVALID),
        (images.truncated_jpeg(), "undecodable", Problem.INVALID),
        (images.EPS, "bad_type", Problem.UNSUPPORTED_MEDIA),
        (images.HTML, "bad_type", Problem.UNSUPPORTED_MEDIA),
        # Past Pillow's own limit: refused while reading the header.
        (images.decompression_bomb_png(30000, 30000), "bomb", Problem.INVALID),
        # Under Pillow's limit, over four times the kept area: refused by ours.
        (images.decompression_bomb_png(400, 400), "bomb", Problem.INVALID),
    ],
    ids=["empty", "truncated-jpeg", "eps", "html", "huge-bomb", "small-bomb"],
)
def test_hostile_content_is_rejected(settings, content, reason, problem):
    rejected = rejection(content, settings)

    assert (rejected.reason, rejected.problem) == (reason, problem)


def test_bomb_is_reported_as_too_large_when_decoded(settings):
    rejected = rejection(images.decompression_bomb_png(30000, 30000), settings)

    assert "image too large when decoded" in rejected.detail


def test_real_format_must_be_allowed_whatever_the_name(settings):
    no_png = settings.model_copy(update={"allowed_extensions": ["jpg", "jpeg"]})

    rejected = rejection(images.png(), no_png)
    assert rejected.problem is Problem.UNSUPPORTED_MEDIA
    assert "jpg, jpeg" in rejected.detail


def test_file_name_with_a_refused_extension_is_rejected_before_decoding(settings):
    with pytest.raises(ImageRejected) as caught:
        check_file_name("invoice.pdf", settings)

    assert caught.value.reason == "bad_type"
    check_file_name("photo.JPG", settings)
    check_file_name("pasted", settings)


def test_accepted_extensions_are_images_only(settings):
    everything = settings.model_copy(update={"allowed_extensions": ["pdf", "png"]})

    assert accepted_extensions(everything) == ["png"]
