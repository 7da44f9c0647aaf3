"""The Business Details card: read-only view, edit form, per-field messages, country search.

The country picker is an ARIA combobox driven from here: the typed query filters
`country_options`, ArrowDown/ArrowUp move `country_active` (the option the input's
`aria-activedescendant` names), Enter chooses it, Escape closes the list.
"""

import dataclasses
import json
from typing import ClassVar

import reflex as rx
from sqlmodel import Session

from orgportal.services import countries, organizations
from orgportal.services.accounts import Viewer
from orgportal.services.business_details import BusinessDetails, vat_as_entered
from orgportal.services.errors import NotFound
from orgportal.state.base import AppState
from orgportal.state.outcome import Form

COUNTRY_INPUT = "field-country"
COUNTRY_OPTION = "country-option-"  # + the code: each option's element id


@dataclasses.dataclass
class CountryOption:
    code: str
    label: str
    flag: str  # the flag's SVG URL
    option_id: str


class BusinessDetailsState(AppState):
    editing: bool = False
    values: dict[str, str] = BusinessDetails().as_dict()  # as saved; the form mounts with them
    country: str = ""  # the country chosen in the open form
    errors: dict[str, str] = {}
    DETAILS_FORM: ClassVar[Form] = Form(errors="errors")
    country_query: str = ""
    country_open: bool = False
    country_active: int = -1  # the option ArrowDown/ArrowUp reached; -1: none

    @rx.var
    def country_label(self) -> str:
        """The saved country (read-only view)."""
        return _label(self.values.get("country", ""))

    @rx.var
    def country_flag(self) -> str:
        return _flag(self.values.get("country", ""))

    @rx.var
    def chosen_country_label(self) -> str:
        """The country chosen in the form."""
        return _label(self.country)

    @rx.var
    def chosen_country_flag(self) -> str:
        return _flag(self.country)

    @rx.var
    def vat_shown(self) -> str:
        """The VAT number as entered, with its country prefix."""
        return vat_as_entered(self.values.get("vat_number", ""), self.values.get("country", ""))

    # Only while the list is open: the list is then 18 KB, in the delta and stored with the
    # tab's state. Always computed (`cache=False`) it went out in every page's first delta
    # (24 KB, business details or not) and in every delta of every event after it.
    @rx.var(deps=["country_query", "country_open"], auto_deps=False)
    def country_options(self) -> list[CountryOption]:
        return self._options() if self.country_open else []

    def _options(self) -> list[CountryOption]:
        """What the typed query matches, the list open or not (the arrow keys open it)."""
        return [
            CountryOption(c.code, c.label, c.flag_url, COUNTRY_OPTION + c.code)
            for c in countries.search(self.country_query, 300)
        ]

    @rx.var
    def country_active_id(self) -> str:
        """The element id of the active option, for `aria-activedescendant` ("" for none)."""
        options = self.country_options
        if self.country_open and 0 <= self.country_active < len(options):
            return options[self.country_active].option_id
        return ""

    def _load(self, session: Session, viewer: Viewer) -> None:
        """The saved details, read-only: after a page load and after a successful save (the
        form's uncontrolled inputs only mount on the next Edit, with these values)."""
        self.values = self._saved(session, viewer)
        self._open_form(False)

    @staticmethod
    def _saved(session: Session, viewer: Viewer) -> dict[str, str]:
        if not viewer.session.active_org_id:
            return BusinessDetails().as_dict()
        try:
            view = organizations.get_organization(
                session, user=viewer.user, organization_id=viewer.session.active_org_id
            )
        except NotFound:  # no longer a member: nothing to show
            return BusinessDetails().as_dict()
        return BusinessDetails.of(view.organization).as_dict()

    @rx.event
    def edit(self):
        """Open the form; its inputs mount now, with the values last saved."""
        self._open_form(True)

    @rx.event
    def cancel(self):
        self._open_form(False)

    def _open_form(self, editing: bool) -> None:
        self.editing, self.errors, self.country_query, self.country_open = editing, {}, "", False
        self.country, self.country_active = self.values.get("country", ""), -1

    @rx.event
    def set_country_query(self, value: str):
        """Each keystroke (the input is uncontrolled, so none is delayed behind an arrow key
        pressed right after it): a new list, no option active yet."""
        self.country_query, self.country_open, self.country_active = value, True, -1

    @rx.event
    def open_countries(self):
        self.country_open = True

    @rx.event
    def close_countries(self):
        self._close_countries()

    def _close_countries(self) -> None:
        self.country_open, self.country_active = False, -1

    @rx.event
    def country_key(self, key: str):
        """The combobox's keys (the view sends only these): ArrowDown/ArrowUp open the list
        and move through it (wrapping round), Enter chooses the active option, Escape
        closes the list. Focus stays in the input all along."""
        options = self._options()
        count = len(options)
        if key == "Escape":
            return self._close_countries()
        if key == "Enter":
            if self.country_open and 0 <= self.country_active < count:
                return self._choose_country(options[self.country_active].code)
            return None
        if key not in ("ArrowDown", "ArrowUp") or count == 0:
            return None
        step = 1 if key == "ArrowDown" else -1
        if not self.country_open or self.country_active < 0:
            self.country_open = True
            self.country_active = 0 if step == 1 else count - 1
        else:
            self.country_active = (self.country_active + step) % count
        option_id = json.dumps(COUNTRY_OPTION + options[self.country_active].code)
        return rx.call_script(  # keep the active option in the list's view
            f"document.getElementById({option_id})?.scrollIntoView({{block: 'nearest'}})"
        )

    @rx.event
    def choose_country(self, code: str):
        return self._choose_country(code)

    def _choose_country(self, code: str):
        self.country, self.country_query, self.country_open = code, "", False
        self.country_active = -1
        return rx.set_value(COUNTRY_INPUT, "")

    @rx.event
    def save(self, form: dict):
        """Saved → reloaded and closed (`_load`); refused → the form stays, as typed."""
        fields = {f.name: form.get(f.name, "") for f in dataclasses.fields(BusinessDetails)}
        details = BusinessDetails(**{**fields, "country": self.country})
        return self._act(
            organizations.update_business_details,
            form=self.DETAILS_FORM,
            done="Business details saved.",
            details=details,
        ).events


def _label(code: str) -> str:
    country = countries.get(code) if code else None
    return country.label if country else ""


def _flag(code: str) -> str:
    country = countries.get(code) if code else None
    return country.flag_url if country else ""
