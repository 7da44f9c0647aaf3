"""Pydantic bodies and responses of the REST API: they make `/api/openapi.json` precise.

They describe shapes only. The rules (name lengths, URL and email checks, roles one may
grant) stay in the services, which answer 422/403/409 with a message, so nothing is
decided twice. Text fields refuse NUL characters, which PostgreSQL cannot store.
"""

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from orgportal.models import Role

Text = Annotated[str, StringConstraints(pattern=r"^[^\x00]*$")]


class ErrorOut(BaseModel):
    detail: str = Field(description="What went wrong, safe to show to a person.")
    errors: dict[str, str] | None = Field(None, description="Per-field messages (422 only).")


class MessageOut(BaseModel):
    message: str


class PageInfo(BaseModel):
    total: int = Field(description="Items in all pages.")
    limit: int
    offset: int


# --- organizations --------------------------------------------------------------------------


class OrganizationSettingsIn(BaseModel):
    allow_members_to_invite: bool | None = None
    require_approval_for_links: bool | None = None
    default_attribution_window: int | None = Field(None, description="Hours, 1–8760.")


class OrganizationSettingsOut(BaseModel):
    allow_members_to_invite: bool
    require_approval_for_links: bool
    default_attribution_window: int


class OrganizationCreate(BaseModel):
    name: Text = Field(description="2–80 characters.", examples=["Acme Marketing Team"])
    description: Text = Field("", description="At most 500 characters.", examples=["Campaigns"])


class OrganizationUpdate(BaseModel):
    """Only the fields sent change. Owner or Admin."""

    name: Text | None = None
    description: Text | None = None
    logo_url: Text | None = Field(None, description="An https:// image URL, or empty.")
    settings: OrganizationSettingsIn | None = None


class OrganizationOut(BaseModel):
    id: int
    name: str
    slug: str
    owner_id: int
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
    id: int | None = Field(description="None for the Personal Workspace.")
    name: str
    slug: str | None
    personal: bool
    role: Role
    member_count: int
    joined_at: datetime
    active: bool = Field(description="Whether this is the key's active workspace.")


class WorkspacePage(PageInfo):
    items: list[WorkspaceOut]


class SwitchUser(BaseModel):
    id: int
    email: str
    name: str


class SwitchWorkspace(BaseModel):
    id: int | None = Field(description="None for the Personal Workspace.")
    name: str
    role: Role


class SwitchOut(BaseModel):
    token: str = Field(
        description="The prefix of the API key that now carries this workspace as its "
        "context. Keep using the same key: its secret is never sent again."
    )
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
    user_id: int
    name: str
    email: str
    role: Role
    joined_at: datetime


class MemberPage(PageInfo):
    items: list[MemberOut]


class RoleChange(BaseModel):
    role: Role = Field(description="admin, billing_admin, agent or viewer.")


class InviteCreate(BaseModel):
    email: Text = Field(examples=["sarah@example.com"])
    role: Role = Field(description="admin, billing_admin, agent or viewer.", examples=["agent"])


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


class LinkCreate(BaseModel):
    target_url: Text = Field(description="An http(s) URL.", examples=["https://example.com/sale"])
    slug: Text = Field(
        "", description="Optional: 3–64 lower-case letters, digits, dashes.", examples=["sale"]
    )
    project_id: int | None = Field(
        None, ge=1, le=2**31 - 1, description="Optional: a project of the same workspace."
    )
    append_click_id: bool = Field(
        False, description="Add `op_click=<click id>` to the target on each redirect (issue 15)."
    )


class LinkUpdate(BaseModel):
    project_id: int | None = Field(
        ge=1, le=2**31 - 1, description="A project of the link's workspace, or null for none."
    )


class LinkOut(BaseModel):
    id: int
    slug: str
    short_url: str
    target_url: str
    organization_id: int | None = Field(description="None for the Personal Workspace.")
    owner_id: int
    created_at: datetime
    project_id: int | None = Field(description="The link's project; None for no project.")
    pending_approval: bool = Field(
        description="True while the link waits for an Owner/Admin's approval: it does not "
        "redirect yet (the organization's require_approval_for_links)."
    )
    append_click_id: bool = Field(
        False, description="The redirect adds `op_click=<click id>` for conversion attribution."
    )


class LinkPage(PageInfo):
    items: list[LinkOut]


class PendingLinkOut(LinkOut):
    owner_email: str = Field(description="Who created the link.")


class PendingLinkPage(PageInfo):
    items: list[PendingLinkOut]


class LinkReject(BaseModel):
    reason: Text = Field("", max_length=500, description="Optional: told to the creator by mail.")


# --- projects -------------------------------------------------------------------------------


class ProjectCreate(BaseModel):
    name: Text = Field(min_length=1, max_length=80, description="Unique in the workspace.")
    description: Text = Field("", max_length=500)


class ProjectUpdate(BaseModel):
    name: Text | None = Field(None, min_length=1, max_length=80, description="A new name.")
    description: Text | None = Field(None, max_length=500)


class ProjectOut(BaseModel):
    id: int
    name: str
    description: str
    organization_id: int | None = Field(description="None for the Personal Workspace.")
    link_count: int
    created_at: datetime
    updated_at: datetime


class ProjectPage(PageInfo):
    items: list[ProjectOut]
