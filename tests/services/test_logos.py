"""Logo uploads are verified by decoding."""

import io

import pytest
from PIL import Image

from orgportal.adapters.storage import LocalStore
from orgportal.services import logos
from orgportal.services.validation import FieldError


def image_bytes(fmt: str, size=(8, 8)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, "red").save(buffer, format=fmt)
    return buffer.getvalue()


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP", "GIF"])
def test_real_images_are_stored_under_random_names(tmp_path, fmt):
    url = logos.store_upload(image_bytes(fmt), LocalStore(tmp_path))
    name = url.removeprefix(logos.URL_PREFIX)
    assert logos.stored_key(name, LocalStore(tmp_path)) == name
    assert (tmp_path / name).read_bytes() == image_bytes(fmt)


@pytest.mark.parametrize(
    "data",
    [b"<svg xmlns='http://www.w3.org/2000/svg'></svg>", b"not an image at all", image_bytes("BMP")],
)
def test_svg_text_and_other_formats_are_refused(tmp_path, data):
    with pytest.raises(FieldError):
        logos.store_upload(data, LocalStore(tmp_path))
    assert list(tmp_path.iterdir()) == []


def test_logos_over_two_megabytes_are_refused(tmp_path):
    with pytest.raises(FieldError, match="2 MB"):
        logos.store_upload(image_bytes("PNG") + b"\0" * logos.MAX_BYTES, LocalStore(tmp_path))


def test_logo_names_refuse_traversal(tmp_path):
    assert logos.stored_key("../etc/passwd.png", LocalStore(tmp_path)) is None
    assert logos.stored_key(".hidden.png", LocalStore(tmp_path)) is None


def test_logo_urls_are_https_or_one_of_our_uploads(tmp_path):
    uploaded = logos.store_upload(image_bytes("PNG"), LocalStore(tmp_path))
    assert logos.validate_logo_url(f" {uploaded} ", LocalStore(tmp_path)) == uploaded
    assert logos.validate_logo_url("https://cdn.example.com/l.png", LocalStore(tmp_path)) == (
        "https://cdn.example.com/l.png"
    )
    assert logos.validate_logo_url("", LocalStore(tmp_path)) == ""


@pytest.mark.parametrize(
    "url",
    [
        "/api/logos/../auth/session?ticket=x",  # SECURITY: the logo <img> would open a session
        "/api/logos/x.png?y",
        "/api/logos/%2e%2e/auth/session",
        "/api/logos/AAAAAAAAAAAAAAAAAAAAAA.png",  # the right shape, but not a stored logo
        "/api/logos/AAAAAAAAAAAAAAAAAAAAAA.svg",
        "/api/auth/session?ticket=x",
        "//evil.example/logo.png",
        "javascript:alert(1)",
        "data:image/png;base64,AAAA",
        "http://example.com/logo.png",
    ],
)
def test_other_logo_urls_are_refused_with_a_field_message(tmp_path, url):
    uploaded = logos.store_upload(image_bytes("PNG"), LocalStore(tmp_path))
    with pytest.raises(FieldError, match="https://"):
        logos.validate_logo_url(url, LocalStore(tmp_path))
    with pytest.raises(FieldError):
        logos.validate_logo_url(uploaded + "?y", LocalStore(tmp_path))
    with pytest.raises(FieldError):
        logos.validate_logo_url(uploaded.replace("/api/logos/", "/api/logos/../logos/"), LocalStore(tmp_path))
