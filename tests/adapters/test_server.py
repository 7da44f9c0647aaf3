"""A worker's last start-up step hides start-up's objects from the garbage collector
(`adapters/server.freeze_startup_objects`), so full collections no longer walk the app."""

import gc

from orgportal.adapters.server import freeze_startup_objects
from orgportal.orgportal import app


def test_the_app_freezes_its_startup_objects_last():
    tasks = list(app.get_lifespan_tasks())
    assert tasks[-1] is freeze_startup_objects


def test_after_the_freeze_a_full_collection_skips_startup_objects():
    try:
        freeze_startup_objects()
        frozen = gc.get_freeze_count()
        assert frozen > 100_000  # the app and its libraries, imported above
        made_later = [object() for _ in range(1000)]
        assert gc.get_freeze_count() == frozen  # only what existed at start-up
        del made_later
    finally:
        gc.unfreeze()  # the rest of the test run collects as usual
