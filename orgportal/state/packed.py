"""Each state stored compressed, against a dictionary of what its class repeats.

Reflex stores a tab's states one Redis key each, as `pickle.dumps((schema, state))`
(`BaseState._serialize`). A small state is mostly what every payload of its class repeats:
the class's module and name, its var names, the names and fields of the rows it holds, the
schema hash (32 hex digits) — and, for Reflex's root `State`, the fields of its router
data (`HeaderData`, `PageData`, …). Compressing one key alone gains little on a few hundred bytes; compressing it
against a preset dictionary of those words (zlib's `zdict`) does: what is left is mostly
the values.

The stored bytes are still a pickle Reflex reads with plain `pickle.loads` (its
`BaseState._deserialize`): a call of `unpack(compressed)`, which inflates and unpickles the
`(schema, state)` Reflex wrote. zlib's header names the dictionary (DICTID, its Adler-32),
so no class is named in the key; `unpack` finds the dictionary among the state classes'
own. The dictionary is built from the class's declaration only (never from values), so
every worker builds the same bytes, and a deploy that changed the class builds others: its
old payloads then match no dictionary, `unpack` refuses them, and Reflex treats them as
after a schema change (`StateSchemaMismatchError`: a fresh state). Reflex's schema check
itself is unchanged (the schema is still inside). A payload compressed is kept only when
smaller than Reflex's own; payloads stored before (plain pickles) still load.

Reflex's root `State` is not one of our classes: its `_serialize` is replaced here, once,
by Reflex's own followed by `pack` (every state class inherits it, ours and Reflex's
internal ones). That is the one change made to Reflex's persistence.
"""

import dataclasses
import functools
import pickle
import typing
import zlib
from typing import Any

from reflex.state import BaseState, State, _override_base_method

LEVEL = 9  # a few KB at most: the best compression costs microseconds
_FDICT = 0x20  # zlib header: a preset dictionary follows (its DICTID)


def _words(cls: type[BaseState], computed: tuple[str, ...]) -> list[str]:
    """What every payload of `cls` repeats, the most frequent last (zlib finds the nearest
    match first): the rows' classes and fields, the computed vars' cache names, then the
    class, its own vars and its schema hash."""
    own = [name for name, field in cls.__fields__.items() if field._owner is cls]
    words: list[str] = []
    for row in _dataclasses_held(cls.__fields__[name].type_ for name in own):
        words += [row.__module__, row.__qualname__, *(f.name for f in dataclasses.fields(row))]
    words += [cls.computed_vars[name]._cache_attr for name in computed]
    return [*words, cls.__module__, cls.__qualname__, *own, cls._to_schema()]


def _dataclasses_held(types: typing.Iterable[Any]) -> list[type]:
    """The dataclasses in these annotations (`list[LinkRow]`, `HeaderData | None`), and in
    their fields', each once, in order."""
    found: list[type] = []

    def walk(annotation: Any) -> None:
        if isinstance(annotation, type) and dataclasses.is_dataclass(annotation):
            if annotation not in found:
                found.append(annotation)
                for field in dataclasses.fields(annotation):
                    walk(field.type)
            return
        for argument in typing.get_args(annotation):
            walk(argument)

    for annotation in types:
        walk(annotation)
    return found


@functools.cache
def _dictionary_of(cls: type[BaseState], computed: tuple[str, ...]) -> bytes:
    # pickled, so the words carry the opcodes around them as in Reflex's payload (protocol 4,
    # Python's default from 3.8 to 3.13; fixed here, so a newer Python builds the same bytes)
    return pickle.dumps(_words(cls, computed), protocol=4)


def dictionary(cls: type[BaseState]) -> bytes:
    """`cls`'s preset dictionary. Its computed vars are part of the key: Reflex adds the
    dynamic route vars (`[checkout_id]`) to the root State when the pages are declared."""
    return _dictionary_of(cls, tuple(cls.computed_vars))


class _Packed:
    """Pickles as a call of `unpack` on the compressed payload."""

    def __init__(self, compressed: bytes):
        self.compressed = compressed

    def __reduce__(self):
        return unpack, (self.compressed,)


def pack(cls: type[BaseState], payload: bytes) -> bytes:
    """Reflex's payload for a state of `cls`, compressed against `cls`'s dictionary, as a
    pickle that inflates itself; Reflex's own when that is not smaller."""
    compressor = zlib.compressobj(LEVEL, zdict=dictionary(cls))
    packed = pickle.dumps(_Packed(compressor.compress(payload) + compressor.flush()), protocol=3)
    return packed if len(packed) < len(payload) else payload


def unpack(compressed: bytes) -> Any:
    """What `pack` compressed, unpickled: Reflex's `(schema, state)`. Refused (ValueError,
    which Reflex reports as a schema mismatch) when no state class has its dictionary now."""
    if len(compressed) < 6 or not compressed[1] & _FDICT:
        raise ValueError("not a compressed state")
    wanted = int.from_bytes(compressed[2:6], "big")
    for candidate in _dictionaries(wanted):
        inflater = zlib.decompressobj(zdict=candidate)
        try:
            payload = inflater.decompress(compressed) + inflater.flush()
        except zlib.error:
            continue  # another dictionary with the same Adler-32
        if inflater.eof and not inflater.unused_data:
            return pickle.loads(payload)
    raise ValueError("a state stored by another declaration of its class")


_known: dict[int, list[bytes]] = {}


def _dictionaries(dictid: int) -> list[bytes]:
    """The state classes' dictionaries with this DICTID (more than one only by chance);
    looked for again among all state classes when none is known yet."""
    global _known
    if dictid not in _known:
        known: dict[int, list[bytes]] = {}
        for cls in _state_classes():
            candidate = dictionary(cls)
            same = known.setdefault(zlib.adler32(candidate), [])
            if candidate not in same:
                same.append(candidate)
        _known = known  # replaced whole: a reader meanwhile sees the old one or this one
    return _known.get(dictid, [])


def _state_classes() -> list[type[BaseState]]:
    found, stack = [], [BaseState]
    while stack:
        cls = stack.pop()
        if cls is not BaseState and not cls._mixin:
            found.append(cls)
        stack.extend(cls.__subclasses__())
    return found


@_override_base_method
def _serialize_packed(self: BaseState) -> bytes:
    """Reflex's `_serialize`, packed."""
    return pack(type(self), BaseState._serialize(self))


State._serialize = _serialize_packed
