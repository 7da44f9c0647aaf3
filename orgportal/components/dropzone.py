"""What a drop zone's events tell the server about the chosen files.

react-dropzone hands its events browser `File` objects, which reach a handler as `{}` (a
File's name and size are not own properties), and its refusals come with English
messages of its own. These turn them into plain data the state words itself:
`{name, size}` per accepted file, `{name, size, codes}` per refused one (codes such as
`file-too-large`, `file-invalid-type`, `too-many-files`)."""

import reflex as rx
from reflex_base.event import EventSpec, call_event_fn

# The argument spec of rx.upload's `on_drop` (no public name in Reflex 0.10): an event
# made with it refers to the dropped files by the very name the compiled handler gives them.
from reflex_components_core.core.upload import _on_drop_args_spec


def on_drop_files(event) -> EventSpec:
    """An event for rx.upload's `on_drop` list, built from `lambda files: ...` (a plain lambda
    there would be nested in a list Reflex refuses): `files` are the dropped files."""
    return call_event_fn(event, _on_drop_args_spec)[0]


def chosen_files(files: rx.Var) -> rx.Var:
    """The accepted files of an `on_drop`, as `[{name, size}]`."""
    return rx.Var(
        f"Array.from({files} ?? []).map((f) => ({{name: f.name, size: f.size}}))",
        _var_data=files._get_all_var_data(),
    ).to(list[dict])


def rejected_files(rejected: rx.Var) -> rx.Var:
    """The refused files of an `on_drop_rejected`, as `[{name, size, codes}]`."""
    return rx.Var(
        f"Array.from({rejected} ?? []).map((r) => ({{name: r.file.name, size: r.file.size, "
        "codes: (r.errors ?? []).map((e) => e.code)}))",
        _var_data=rejected._get_all_var_data(),
    ).to(list[dict])
