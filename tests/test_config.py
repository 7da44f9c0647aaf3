"""Settings that other settings derive from (SPEC §11)."""

from orgportal.config import Settings


def test_public_url_defaults_to_localhost_on_the_configured_port(monkeypatch):
    monkeypatch.delenv("PUBLIC_URL", raising=False)
    monkeypatch.setenv("PORT", "3100")
    settings = Settings(_env_file=None)
    assert settings.public_url == "http://localhost:3100"
    assert settings.own_origins[0] == "http://localhost:3100"


def test_an_explicit_public_url_wins_and_names_the_own_origin(monkeypatch):
    monkeypatch.setenv("PUBLIC_URL", "https://portal.example.com/")
    monkeypatch.setenv("ALLOWED_ORIGINS", "https://admin.example.com, https://ops.example.com/")
    settings = Settings(_env_file=None)
    assert settings.public_url == "https://portal.example.com"
    assert settings.own_origins == [
        "https://portal.example.com",
        "https://admin.example.com",
        "https://ops.example.com",
    ]
    assert settings.secure_cookies and settings.browser_cookie.startswith("__Host-")
    assert not settings.test_mode_billing_allowed
