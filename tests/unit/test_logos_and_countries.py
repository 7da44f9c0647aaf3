"""Logo uploads are verified by decoding; the country list is every ISO 3166 country."""

import io

import pytest
from PIL import Image

from orgportal.services import countries, logos
from orgportal.services.validation import FieldError


def image_bytes(fmt: str, size=(8, 8)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, "red").save(buffer, format=fmt)
    return buffer.getvalue()


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP", "GIF"])
def test_real_images_are_stored_under_random_names(tmp_path, fmt):
    url = logos.store_upload(image_bytes(fmt), tmp_path)
    name = url.removeprefix(logos.URL_PREFIX)
    assert logos.path_for(tmp_path, name).read_bytes() == image_bytes(fmt)


@pytest.mark.parametrize(
    "data",
    [b"<svg xmlns='http://www.w3.org/2000/svg'></svg>", b"not an image at all", image_bytes("BMP")],
)
def test_svg_text_and_other_formats_are_refused(tmp_path, data):
    with pytest.raises(FieldError):
        logos.store_upload(data, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_logos_over_two_megabytes_are_refused(tmp_path):
    with pytest.raises(FieldError, match="2 MB"):
        logos.store_upload(image_bytes("PNG") + b"\0" * logos.MAX_BYTES, tmp_path)


def test_logo_path_refuses_traversal(tmp_path):
    assert logos.path_for(tmp_path, "../etc/passwd.png") is None
    assert logos.path_for(tmp_path, ".hidden.png") is None


def test_countries_cover_iso_3166_with_flags_and_search():
    assert len(countries.all_countries()) == 249
    assert "🇬🇧 United Kingdom" in [c.label for c in countries.search("King")]
    assert countries.get("gb").label == "🇬🇧 United Kingdom"
    assert countries.get("XX") is None
