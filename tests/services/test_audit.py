"""The Audit Log shows actions in words: every action code recorded anywhere has them."""

import re
from pathlib import Path

from orgportal.services import audit, webhooks

SOURCE = Path(audit.__file__).parents[1]
# `action="billing.seats_changed"`, and the codes passed to helpers such as
# departments._audit(..., "support.department_created", ...) or chosen in a conditional.
CODE = re.compile(
    r'"((?:organization|member|billing|support|mail|ticket|api_key|link|file|project)\.[a-z_]+)"'
)
ACTION_KEYWORD = re.compile(r'action="([^"]+)"')


def _recorded_codes() -> set[str]:
    codes: set[str] = set()
    for path in (SOURCE / "services").rglob("*.py"):
        if path == Path(audit.__file__):
            continue
        text = path.read_text()
        codes |= set(ACTION_KEYWORD.findall(text))
        if "audit.record" in text:  # a module that writes the log
            # "link.created" may also be an outgoing webhook's event type (SPEC §17)
            codes |= set(CODE.findall(text)) - webhooks.EVENT_TYPES.keys()
    return codes


def test_every_recorded_action_code_has_words():
    codes = _recorded_codes()
    assert "billing.seats_changed" in codes and "support.department_created" in codes
    assert sorted(codes - audit.ACTIONS.keys()) == []


def test_describe_gives_words():
    assert audit.describe("billing.seats_changed") == "Seats changed"
    assert audit.describe("member.invite_revoked") == "Invitation revoked"
    assert audit.describe("mail.failed") == "Email not delivered"


def test_an_unknown_code_still_reads_as_words():
    assert audit.describe("webhook.retry_scheduled") == "Retry scheduled"
    assert all(not re.search(r"[._]", words) for words in audit.ACTIONS.values())
