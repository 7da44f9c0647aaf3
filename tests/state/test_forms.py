"""The state core's declarations: each form's `Form` names vars its state really has, so a
typo fails here rather than as a refusal that never shows (`state/outcome.py`)."""

import importlib
import pkgutil

import pytest

import orgportal.state
from orgportal import db
from orgportal.services.errors import Conflict, DomainError, ValidationFailed
from orgportal.state.base import AppState, run_signed_out
from orgportal.state.outcome import Form, Outcome


def all_states() -> list[type[AppState]]:
    """AppState and every state class below it (each state module imported)."""
    for module in pkgutil.iter_modules(orgportal.state.__path__):
        importlib.import_module(f"orgportal.state.{module.name}")
    found, todo = [], [AppState]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return found


def _forms() -> list[tuple[type[AppState], str, Form]]:
    return [
        (state, name, value)
        for state in all_states()
        for name, value in vars(state).items()
        if isinstance(value, Form)
    ]


def test_every_form_of_the_app_is_declared():
    # the pages' forms (members, links, tickets, account, billing, support, …)
    assert len(_forms()) >= 30


@pytest.mark.parametrize("state, name, form", _forms(), ids=lambda v: getattr(v, "__name__", v))
def test_a_form_names_its_state_vars(state, name, form):
    fields = state.get_fields()
    assert form.errors in fields, f"{state.__name__}.{name}: no var {form.errors}"
    assert fields[form.errors].annotated_type == dict[str, str], f"{form.errors}: not a dict var"
    if form.key:
        assert form.key in fields, f"{state.__name__}.{name}: no var {form.key}"
        assert fields[form.key].annotated_type is int


def test_a_form_shows_the_service_field_names_as_its_own():
    form = Form(errors="errors", names={"code": "disable_code"})
    assert form.field_errors({"code": "Wrong code.", "password": "Wrong."}) == {
        "disable_code": "Wrong code.",
        "password": "Wrong.",
    }


def test_an_outcome_says_its_kind_of_refusal():
    refused = Outcome(refusal=Conflict("Taken."))
    assert not refused.ok and refused.refused_as(Conflict) and refused.refused_as(DomainError)
    assert not refused.refused_as(ValidationFailed)
    assert Outcome(value=3).ok and Outcome(value=3).value == 3


def test_the_signed_out_core_returns_the_value_or_the_refusal(engine, monkeypatch):
    monkeypatch.setattr(db, "engine", lambda: engine)
    assert run_signed_out(lambda session: 42) == Outcome(value=42)
    refusal = ValidationFailed({"email": "Enter an email address."})

    def refuse(session):
        raise refusal

    assert run_signed_out(refuse).refusal is refusal
