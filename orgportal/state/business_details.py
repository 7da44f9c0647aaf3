"""The Business Details card: read-only view, edit form, per-field messages, country search."""

import dataclasses

import reflex as rx
from sqlmodel import Session

from orgportal.services import countries, organizations
from orgportal.services.accounts import Viewer
from orgportal.services.business_details import BusinessDetails
from orgportal.services.errors import NotFound
from orgportal.state.base import AppState


@dataclasses.dataclass
class CountryOption:
    code: str
    label: str


class BusinessDetailsState(AppState):
    editing: bool = False
    values: dict[str, str] = BusinessDetails().as_dict()  # as saved; the form mounts with them
    country: str = ""  # the country chosen in the open form
    errors: dict[str, str] = {}
    country_query: str = ""
    country_open: bool = False

    @rx.var
    def country_label(self) -> str:
        """The saved country (read-only view)."""
        return _label(self.values.get("country", ""))

    @rx.var
    def chosen_country_label(self) -> str:
        """The country chosen in the form."""
        return _label(self.country)

    @rx.var
    def country_options(self) -> list[CountryOption]:
        return [CountryOption(c.code, c.label) for c in countries.search(self.country_query, 300)]

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
        self.country = self.values.get("country", "")

    @rx.event
    def set_country_query(self, value: str):
        self.country_query, self.country_open = value, True

    @rx.event
    def open_countries(self):
        self.country_open = True

    @rx.event
    def choose_country(self, code: str):
        self.country, self.country_query, self.country_open = code, "", False

    @rx.event
    def save(self, form: dict):
        """Saved → reloaded and closed (`_load`); refused → the form stays, as typed."""
        fields = {f.name: form.get(f.name, "") for f in dataclasses.fields(BusinessDetails)}
        details = BusinessDetails(**{**fields, "country": self.country})
        return self._act(
            organizations.update_business_details,
            done="Business details saved.",
            errors="errors",
            details=details,
        )


def _label(code: str) -> str:
    country = countries.get(code) if code else None
    return country.label if country else ""
