"""A tab stores only the states it has actually used.

Reflex keeps each tab's state in Redis, one key per state class, and writes every state it
has "touched". Opening any page touches every state of the app: the first frame (hydrate)
sends the whole state tree, which computes (and caches on the instance) every computed var
of every state, and a state with a cached computed var counts as touched. So each tab
stored ~30 states, most of them still at their defaults, plus their cached computed values
(the Settings page's list of 250 countries, 18 KB, in every tab of every page).

A state that was never stored and still holds its defaults is exactly what Reflex builds
when its key is missing (a new instance, its computed vars recomputed when read), so such
a state is not written. Once a state has been written (or read back from Redis), it is
always written again, so a value set back to its default replaces the stored one.
Reflex's state managers (Redis, disk) skip a state whose `_serialize` returns no bytes.

What is written is compressed against a dictionary of what its class repeats
(`state/packed.py`, imported here so that every state is): a state's var names, its rows'
classes and the schema hash are in every key, and with them a small state is several times
its values.
"""

from typing import Any

import reflex as rx
from reflex.state import _override_base_method

from orgportal.state import packed  # noqa: F401  (every state stored compressed)

# Set on an instance (in its __dict__, never pickled) once its key exists in the store.
_STORED = "_orgportal_stored"


class StoredWhenUsed:
    """A base of every orgportal state, before `rx.State`: not written while unused (see
    the module). A plain class; Reflex accepts these overrides of its own methods only
    when marked as such (`_override_base_method`)."""

    @_override_base_method
    def _serialize(self: Any) -> bytes:
        if not self.__dict__.get(_STORED) and at_defaults(self):
            return b""
        payload = super()._serialize()
        self.__dict__[_STORED] = True
        return payload

    @_override_base_method
    def __getstate__(self: Any) -> dict[str, Any]:
        fields = super().__getstate__()
        if _STORED in fields:
            fields = {name: value for name, value in fields.items() if name != _STORED}
        return fields

    @_override_base_method
    def __setstate__(self: Any, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        self.__dict__[_STORED] = True  # read back from the store: its key exists


def at_defaults(state: rx.State) -> bool:
    """Whether every var of `state`'s own class (backend vars too) still holds its
    default (a var never read is not in the instance's dict: still its default)."""
    cls, values = type(state), state.__dict__
    for name, field in cls.__fields__.items():
        if field._owner is cls and name in values and values[name] != field.default_value():
            return False
    return True
