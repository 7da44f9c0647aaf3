"""Pydantic bodies and responses of the REST API: they make `/api/openapi.json` precise.

The document says what the server enforces: every request it declares valid is one the
services accept (lengths, one-line names, URL and email shapes, the roles one may grant,
no unknown fields), and what it declares invalid is refused here with a 422 before any
service runs. What no schema can say (a taken name, a project of another workspace) is a
404 or 409. The services still check everything: the UI and scripts share them.
"""

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

import email_validator
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    EmailStr,
    Field,
    StrictBool,
    StringConstraints,
    WithJsonSchema,
    model_validator,
)

from orgportal.models import Role
from orgportal.services import public_ids
from orgportal.services.links import RESERVED as RESERVED_SLUGS

# Text fields refuse NUL characters, which PostgreSQL cannot store.
Text = Annotated[str, StringConstraints(pattern=r"^[^\x00]*$")]
# One line as `validation.text(single_line=True)` accepts it: no control characters or
# line/paragraph separators, and no spaces at either end (the services trim them).
_IN_LINE = r"[^\x00-\x1f\x7f-\x9f\u2028\u2029]"
_AT_EDGE = r"[^\s\x00-\x1f\x7f-\x9f\u2028\u2029]"
_SPACE = r"[ \t\r\n]"  # what may surround it (the services trim it)
# A web address `validation.http_url` accepts: http(s), a dotted host name, an optional
# port and path (a stricter shape than the service's, so the schema never promises more).
WEB_ADDRESS = r"^https?://[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+(?::[0-9]{1,5})?(?:/[^\s]*)?$"
HTTPS_ADDRESS = WEB_ADDRESS.replace("https?", "https", 1)


def _json_number(value: object) -> object:
    """A JSON number only: "5" and true are not integers (pydantic would take them), 5.0 is."""
    if isinstance(value, str | bool):
        raise ValueError("Send a number, not a string or a boolean.")
    return value


def json_int(minimum: int, maximum: int) -> type[int]:
    """A JSON integer as JSON Schema means it (540 and 540.0, never "540" or true), within
    `minimum`–`maximum` (declared inside the type, where the document shows it)."""
    return Annotated[  # type: ignore[return-value]
        int,
        BeforeValidator(_json_number),
        Field(ge=minimum, le=maximum),
        # said explicitly: after a validator pydantic would write `ge`/`le`, not JSON Schema
        WithJsonSchema({"type": "integer", "minimum": minimum, "maximum": maximum}),
    ]


MAX_ID = 2**31 - 1
# Email domains email-validator refuses (RFC 6761 special-use names): the document says so.
SPECIAL_USE_DOMAIN = (
    r"[@.](?:"
    + "|".join(
        "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else c for c in name)
        for name in email_validator.SPECIAL_USE_DOMAIN_NAMES
    )
    + r")\.?$"
)  # case-insensitive by character classes: JSON Schema's regexes have no flags
# A host name as DNS has it (ASCII: an IDN in its xn-- form): dot-separated labels of
# letters, digits and inner hyphens, the last one starting with a letter.
DOMAIN_NAME = (
    r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+"
    r"[A-Za-z](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$"
)


def one_line(min_length: int, max_length: int) -> type[str]:
    """At least `min_length` (1 or 2) characters once trimmed; at most `max_length` as sent."""
    core = f"{_AT_EDGE}{_IN_LINE}*{_AT_EDGE}" if min_length >= 2 else f"{_AT_EDGE}(?:{_IN_LINE}*{_AT_EDGE})?"
    return Annotated[  # type: ignore[return-value]
        str,
        StringConstraints(
            min_length=min_length, max_length=max_length, pattern=f"^{_SPACE}*{core}{_SPACE}*$"
        ),
    ]


class Body(BaseModel):
    """A request body: unknown fields are refused (`additionalProperties: false`). Its
    booleans and numbers are the declared JSON type only (no 0 for false, no "5" for 5), as
    the document says."""

    model_config = ConfigDict(extra="forbid")


class GrantableRole(StrEnum):
    """The roles an invite or a role change may name (the Owner's moves only by transfer)."""

    ADMIN = Role.ADMIN.value
    BILLING_ADMIN = Role.BILLING_ADMIN.value
    AGENT = Role.AGENT.value
    VIEWER = Role.VIEWER.value


class ErrorOut(BaseModel):
    detail: str = Field(description="What went wrong, safe to show to a person.")
    errors: dict[str, str] | None = Field(None, description="Per-field messages (422 only).")


class MessageOut(BaseModel):
    message: str


# Public ids (SPEC §8): what the API shows instead of the internal integer keys.
OrganizationId = Annotated[
    str,
    StringConstraints(pattern=public_ids.ORGANIZATION_PATTERN),
    Field(description="An organization's public id.", examples=["org_abc123def456"]),
]
WorkspaceId = Annotated[
    str,
    StringConstraints(pattern=public_ids.WORKSPACE_PATTERN),
    Field(
        description="An organization's public id, or `org_personal` for the Personal Workspace.",
        examples=["org_abc123def456", public_ids.PERSONAL],
    ),
]
UserId = Annotated[
    str,
    StringConstraints(pattern=public_ids.USER_PATTERN),
    Field(description="A user's public id.", examples=["user_abc123def456"]),
]


class PageInfo(BaseModel):
    total: int = Field(description="Items in all pages.")
    limit: int
    offset: int


# --- organizations --------------------------------------------------------------------------


# An address mail can reach (as an invite's), or "" to clear.
ContactEmail = (
    Annotated[
        EmailStr,
        StringConstraints(max_length=254),
        WithJsonSchema(
            {"type": "string", "format": "email", "maxLength": 254,
             "not": {"pattern": SPECIAL_USE_DOMAIN}}
        ),
    ]
    | Literal[""]
)  # fmt: skip
Description = Annotated[Text, StringConstraints(max_length=500)]
AttributionWindow = json_int(1, 8760)
# A one-line note, or empty (`one_line` with a minimum of 0).
_NOTE = f"^(?:{_SPACE}*{_AT_EDGE}(?:{_IN_LINE}*{_AT_EDGE})?{_SPACE}*)?$"
# Each setting by its snake_case name and by the camelCase one seed 003's examples use.
SETTING_NAMES = {
    "allow_members_to_invite": "allowMembersToInvite",
    "require_approval_for_links": "requireApprovalForLinks",
    "default_attribution_window": "defaultAttributionWindow",
}


class OrganizationSettingsIn(Body):
    """Each setting under its snake_case or its camelCase name (not both); those left out
    keep their value."""

    model_config = ConfigDict(
        json_schema_extra={
            "allOf": [{"not": {"required": list(pair)}} for pair in SETTING_NAMES.items()]
        }
    )

    allow_members_to_invite: StrictBool | None = None
    require_approval_for_links: StrictBool | None = None
    default_attribution_window: AttributionWindow | None = Field(
        None, description="Hours, 1–8760."
    )
    allowMembersToInvite: StrictBool | None = Field(  # noqa: N815 (the seed's spelling)
        None, description="Same as allow_members_to_invite."
    )
    requireApprovalForLinks: StrictBool | None = Field(  # noqa: N815
        None, description="Same as require_approval_for_links."
    )
    defaultAttributionWindow: AttributionWindow | None = Field(  # noqa: N815
        None, description="Same as default_attribution_window (hours, 1–8760)."
    )
    # seed 003's "Document Organization Purpose" settings
    description: Description | None = Field(
        None, description="The organization's description, as the top-level `description` "
        "(which wins when both are sent).",
    )
    purpose: Annotated[str, StringConstraints(max_length=80, pattern=_NOTE)] | None = Field(
        None, description="What the workspace is for, one line (at most 80 characters; "
        "empty clears it).", examples=["production"],
    )
    owner: ContactEmail | None = Field(
        None, description="Who to ask about the workspace: an email address (a team list, "
        "say; not the Owner role), or empty to clear it.",
        examples=["marketing-team@acme.com"],
    )

    @model_validator(mode="after")
    def _one_value_each(self) -> "OrganizationSettingsIn":
        for snake, camel in SETTING_NAMES.items():
            if snake in self.model_fields_set and camel in self.model_fields_set:
                raise ValueError(f"{snake} and {camel} name the same setting: send one of them.")
        return self

    def chosen(self) -> dict[str, bool | int]:
        """The settings sent, by their snake_case names."""
        values: dict[str, bool | int | None] = {snake: getattr(self, snake) for snake in SETTING_NAMES}
        for snake, camel in SETTING_NAMES.items():
            if values[snake] is None:
                values[snake] = getattr(self, camel)
        return {name: value for name, value in values.items() if value is not None}


class OrganizationSettingsOut(BaseModel):
    allow_members_to_invite: bool
    require_approval_for_links: bool
    default_attribution_window: int
    purpose: str = Field(description="What the workspace is for; empty: not said.")
    owner: str = Field(description="Who to ask about it (an email address); empty: not said.")


OrganizationName = one_line(2, 80)
LogoUrl = Annotated[
    str, StringConstraints(max_length=500, pattern=f"(?:^$)|(?:{HTTPS_ADDRESS})")
]


class OrganizationCreate(Body):
    name: OrganizationName = Field(
        description="2–80 characters, one line.", examples=["Acme Marketing Team"]
    )
    description: Description = Field(
        "", description="At most 500 characters.", examples=["Campaigns"]
    )


class OrganizationUpdate(Body):
    """Only the fields sent change. Owner or Admin."""

    name: OrganizationName | None = Field(None, description="2–80 characters, one line.")
    description: Description | None = Field(None, description="At most 500 characters.")
    logo_url: LogoUrl | None = Field(None, description="An https:// image URL, or empty.")
    settings: OrganizationSettingsIn | None = None


class OrganizationOut(BaseModel):
    id: OrganizationId
    name: str
    slug: str
    owner_id: UserId
    subscription_tier: str = Field(description="free, starter, basic, professional, unlimited")
    created_at: datetime


class OrganizationDetail(OrganizationOut):
    description: str
    logo_url: str
    role: Role = Field(description="Your role in this organization.")
    subscription_status: str | None = Field(description="None without a subscription.")
    member_count: int
    link_count: int = Field(description="Links in the organization's own workspace.")
    project_count: int = Field(description="Projects in the organization's workspace.")
    settings: OrganizationSettingsOut
    updated_at: datetime


class WorkspaceOut(BaseModel):
    id: WorkspaceId
    name: str
    role: Role
    member_count: int
    joined_at: datetime = Field(description="The Personal Workspace: when you registered.")
    slug: str | None = Field(description="None for the Personal Workspace.")
    personal: bool
    active: bool = Field(
        description="Whether this is the workspace of the key (or workspace token) calling."
    )


class SwitchUser(BaseModel):
    id: UserId
    email: str
    name: str


class SwitchWorkspace(BaseModel):
    id: WorkspaceId
    name: str
    role: Role


class SwitchOut(BaseModel):
    token: str = Field(
        description="A workspace token (`opw_…`) carrying this workspace: send it as "
        "`Authorization: Bearer <token>` instead of the key until `expires_at`. Shown once. "
        "The key itself keeps its own workspace, so other scripts using it are unaffected.",
        examples=["opw_…"],
    )
    expires_at: datetime = Field(description="When the token stops working (one hour).")
    user: SwitchUser
    organization: SwitchWorkspace


class UsageCounts(BaseModel):
    links: int = Field(description="Pooled: the workspace's links plus drawing members' own.")
    storage_bytes: int
    members: int = Field(description="Seats used: members plus pending invites.")
    domains: int


class UsageLimits(BaseModel):
    """None means unlimited."""

    links: int | None
    storage_bytes: int | None
    members: int | None
    domains: int | None


class UsageOut(BaseModel):
    usage: UsageCounts
    limits: UsageLimits
    tier: str


# --- members and invites ----------------------------------------------------------------------


class MemberOut(BaseModel):
    user_id: UserId
    name: str
    email: str
    role: Role
    joined_at: datetime


class MemberPage(PageInfo):
    items: list[MemberOut]


class RoleChange(Body):
    role: GrantableRole = Field(description="admin, billing_admin, agent or viewer.")


class InviteCreate(Body):
    email: Annotated[EmailStr, StringConstraints(max_length=254)] = Field(
        examples=["sarah@example.com"],
        description="An address mail can reach: not at a special-use name (.test, .local…).",
        json_schema_extra={"not": {"pattern": SPECIAL_USE_DOMAIN}},
    )
    role: GrantableRole = Field(
        description="admin, billing_admin, agent or viewer.", examples=["agent"]
    )


class InviteOut(BaseModel):
    id: int
    email: str
    role: Role
    status: str = Field(description="pending or expired (Resend revives an expired invite).")
    created_at: datetime
    sent_at: datetime
    expires_at: datetime


class InvitePage(PageInfo):
    items: list[InviteOut]


# --- links ------------------------------------------------------------------------------------


class LinkCreate(Body):
    target_url: Annotated[str, StringConstraints(max_length=2048, pattern=WEB_ADDRESS)] = Field(
        description="An http(s) URL with a full domain name.",
        examples=["https://example.com/sale"],
    )
    slug: Annotated[
        str, StringConstraints(pattern=r"^(?:[a-z0-9][a-z0-9-]{1,62}[a-z0-9])?$")
    ] = Field(
        "",
        description="Optional: 3–64 lower-case letters, digits, dashes (not at either end); "
        "not one of the app's own page names.",
        examples=["sale"],
        json_schema_extra={"not": {"enum": sorted(RESERVED_SLUGS)}},
    )
    project_id: json_int(1, MAX_ID) | None = Field(
        None, description="Optional: a project of the same workspace."
    )
    append_click_id: StrictBool = Field(
        False, description="Add `op_click=<click id>` to the target on each redirect."
    )
    domain: Annotated[str, StringConstraints(max_length=253, pattern=r"^[A-Za-z0-9.-]*$")] = Field(
        "",
        description="Optional: one of the organization's verified custom domains, "
        "in ASCII (punycode); empty: the app's own host.",
        examples=["go.acme.com"],
    )


class LinkUpdate(Body):
    project_id: json_int(1, MAX_ID) | None = Field(
        description="A project of the link's workspace, or null for none."
    )


class LinkOut(BaseModel):
    id: int
    slug: str
    short_url: str
    target_url: str
    organization_id: WorkspaceId
    owner_id: UserId
    created_at: datetime
    project_id: int | None = Field(description="The link's project; None for no project.")
    pending_approval: bool = Field(
        description="True while the link waits for an Owner/Admin's approval: it does not "
        "redirect yet (the organization's require_approval_for_links)."
    )
    append_click_id: bool = Field(
        False, description="The redirect adds `op_click=<click id>` for conversion attribution."
    )
    domain: str | None = Field(
        None,
        description="The verified custom domain `short_url` is on; None: the app's host.",
    )


class LinkPage(PageInfo):
    items: list[LinkOut]


class PendingLinkOut(LinkOut):
    owner_email: str = Field(description="Who created the link.")


class PendingLinkPage(PageInfo):
    items: list[PendingLinkOut]


class LinkReject(Body):
    reason: Text = Field("", max_length=500, description="Optional: told to the creator by mail.")


# --- projects -------------------------------------------------------------------------------


class ProjectCreate(Body):
    name: one_line(1, 80) = Field(description="Unique in the workspace, one line.")
    description: Description = ""


class ProjectUpdate(Body):
    name: one_line(1, 80) | None = Field(None, description="A new name.")
    description: Description | None = None


class ProjectOut(BaseModel):
    id: int
    name: str
    description: str
    organization_id: WorkspaceId
    link_count: int
    created_at: datetime
    updated_at: datetime


class ProjectPage(PageInfo):
    items: list[ProjectOut]


# --- custom domains (SPEC §15) ------------------------------------------------------------------


class CustomDomainCreate(Body):
    domain: Annotated[str, StringConstraints(max_length=253, pattern=DOMAIN_NAME)] = (
        Field(
            description="A bare domain name (no scheme, path, port or wildcard), not the app's "
            "own host; stored IDNA-normalized and lower case, unique across organizations.",
            examples=["go.acme.com"],
        )
    )


class CustomDomainOut(BaseModel):
    id: int
    domain: str = Field(description="IDNA (punycode), lower case.")
    status: str = Field(description="pending, verified or failed.", examples=["verified"])
    failure_reason: str = Field(
        description="Why the last check failed (`no TXT record found`, `token does not match`…)."
    )
    record_type: str = Field("TXT", description="Always TXT.")
    record_name: str = Field(examples=["_orgportal.go.acme.com"])
    record_value: str = Field(examples=["orgportal-verify=3f2a…"])
    created_at: datetime
    verified_at: datetime | None
    checked_at: datetime | None = Field(description="The last DNS check.")


class CustomDomainPage(PageInfo):
    items: list[CustomDomainOut]
