"""The static classes of `assets/layout.css` (the page frame, the usage bars, the text
fields): every class the app names is defined in the stylesheet, the stylesheet defines none
that nothing names, and the app includes it."""

import re
from pathlib import Path

from orgportal.orgportal import app

ROOT = Path(__file__).resolve().parents[1]
STYLESHEET = ROOT / "assets" / "layout.css"
CLASS = re.compile(r"(?<![\w-])op-[a-z][a-z0-9-]*")


def _defined() -> set[str]:
    css = re.sub(r"/\*.*?\*/", "", STYLESHEET.read_text(), flags=re.S)  # not in comments
    return {name.removeprefix(".") for name in re.findall(r"\.op-[a-z][a-z0-9-]*", css)}


def _named() -> set[str]:
    """The classes named in the app's Python source (class_name strings)."""
    names: set[str] = set()
    for path in (ROOT / "orgportal").rglob("*.py"):
        for literal in re.findall(r'"([^"\n]*)"', path.read_text()):
            names.update(CLASS.findall(literal))
    return names


def test_every_class_the_app_names_is_defined() -> None:
    assert _named() - _defined() == set()


def test_the_stylesheet_defines_no_class_that_nothing_names() -> None:
    assert _defined() - _named() == set()


def test_the_app_includes_the_stylesheet() -> None:
    assert "/layout.css" in app.stylesheets
