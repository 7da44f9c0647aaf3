"""The Business Details card: edit mode, per-field messages and the country search."""

import dataclasses

import reflex as rx

from orgportal.db import unit_of_work
from orgportal.services import countries, organizations
from orgportal.services.business_details import BusinessDetails
from orgportal.services.errors import DomainError, NotAuthenticated, ValidationFailed
from orgportal.state.base import AppState


@dataclasses.dataclass
class CountryOption:
    code: str
    label: str


class BusinessDetailsState(AppState):
    editing: bool = False
    values: dict[str, str] = {}
    errors: dict[str, str] = {}
    country_query: str = ""
    country_open: bool = False

    @rx.var
    def country_label(self) -> str:
        country = countries.get(self.values.get("country", "")) if self.values else None
        return country.label if country else ""

    @rx.var
    def country_options(self) -> list[CountryOption]:
        return [CountryOption(c.code, c.label) for c in countries.search(self.country_query, 300)]

    @rx.event
    def load(self):
        try:
            with unit_of_work() as session:
                viewer = self._viewer(session)
                org_id = viewer.session.active_org_id
                if not org_id:
                    return
                view = organizations.get_organization(
                    session, user=viewer.user, organization_id=org_id
                )
        except (NotAuthenticated, DomainError):
            return
        self.values = BusinessDetails.of(view.organization).as_dict()
        self.editing, self.errors = False, {}

    @rx.event
    def edit(self):
        self.editing, self.errors = True, {}

    @rx.event
    def cancel(self):
        return BusinessDetailsState.load

    @rx.event
    def set_country_query(self, value: str):
        self.country_query, self.country_open = value, True

    @rx.event
    def open_countries(self):
        self.country_open = True

    @rx.event
    def choose_country(self, code: str):
        self.values = {**self.values, "country": code}
        self.country_query, self.country_open = "", False

    @rx.event
    def save(self, form: dict):
        fields = {f.name for f in dataclasses.fields(BusinessDetails)}
        details = BusinessDetails(
            **{
                name: (self.values.get("country", "") if name == "country" else form.get(name, ""))
                for name in fields
            }
        )
        self.values = details.as_dict()
        try:
            with unit_of_work() as session:
                viewer = self._viewer(session)
                organizations.update_business_details(
                    session,
                    user=viewer.user,
                    organization_id=viewer.session.active_org_id or 0,
                    details=details,
                )
        except NotAuthenticated:
            return self._to_login()
        except ValidationFailed as exc:
            self.errors = exc.errors
            return
        except DomainError as exc:
            return rx.toast.error(exc.message)
        return [BusinessDetailsState.load, rx.toast.success("Business details saved.")]
