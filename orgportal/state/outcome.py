"""What a use case run from an event handler came to, and where a form shows refusals.

Every handler runs its use case through `AppState._attempt`, which returns an `Outcome`:
the value the use case returned, or the refusal (a `DomainError`, whose type says which
kind: a view never matches message text), plus the events the handler returns. A form
declares its `Form` next to its fields, once, so handlers name the form, never the
string of a var.
"""

import dataclasses
from typing import Any, Generic, TypeVar

from orgportal.services.errors import DomainError

T = TypeVar("T")


@dataclasses.dataclass(frozen=True)
class Form:
    """A form's refusal messages: `errors` is the state's dict var they go to (field →
    message), `general` the field a refusal of no single field is shown under (else a
    toast), `key` the var the form is keyed on, moved on after a save so it mounts again
    empty or with what was saved, and `names` the service's field names this form calls
    otherwise (a page with two code fields). tests/state/test_forms.py checks every
    declaration names vars its state has."""

    errors: str
    general: str = ""
    key: str = ""
    names: dict[str, str] = dataclasses.field(default_factory=dict)

    def field_errors(self, errors: dict[str, str]) -> dict[str, str]:
        """A refusal's messages under this form's field names."""
        return {self.names.get(name, name): message for name, message in errors.items()}


@dataclasses.dataclass(frozen=True)
class Outcome(Generic[T]):
    """`value` when the use case went through; `refusal` when a rule refused it (nothing
    was written); `events` what the handler returns either way (a toast, a redirect to
    sign-in, or None when the refusal is shown beside the form's fields)."""

    value: T | None = None
    refusal: DomainError | None = None
    events: Any = None

    @property
    def ok(self) -> bool:
        return self.refusal is None

    def refused_as(self, kind: type[DomainError]) -> bool:
        """Whether the refusal is of this kind (a view's cue, e.g. "Add seats")."""
        return isinstance(self.refusal, kind)
