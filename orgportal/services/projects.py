"""Projects (SPEC §14): named groups of links inside one workspace.

A project lives in an organization or in a user's Personal Workspace. Owners and Admins
create, rename and delete an organization's projects; in the Personal Workspace the user
does. Every member of the workspace sees them. Names are unique per workspace (compared
case-insensitively, enforced by a unique constraint too). Deleting a project keeps its
links: they become "no project".
"""

from dataclasses import dataclass

from sqlmodel import Session, col, func, select, update

from orgportal.models import Link, Project, User
from orgportal.models.base import utcnow
from orgportal.models.project import PROJECT_DESCRIPTION_MAX, PROJECT_NAME_MAX, workspace_key
from orgportal.services import audit
from orgportal.services.errors import Conflict, NotFound, ValidationFailed
from orgportal.services.permissions import Permission, require_workspace
from orgportal.services.validation import FieldError, text

# How many projects a link form's dropdown offers (the /projects list itself is paged).
CHOICES_LIMIT = 200


@dataclass(frozen=True)
class ProjectSummary:
    project: Project
    link_count: int
    click_count: int | None  # None until click data exists (services/analytics.py)


def create_project(
    session: Session, *, user: User, organization_id: int | None, name: str, description: str = ""
) -> Project:
    require_workspace(session, user, organization_id, Permission.EDIT_ORGANIZATION)
    key = workspace_key(organization_id, user.id)
    name = _valid_name(session, key, name)
    project = Project(
        organization_id=organization_id,
        user_id=None if organization_id is not None else user.id,
        workspace_key=key,
        name=name,
        name_key=name.casefold(),
        description=_valid_description(description),
        created_by_id=user.id,
    )
    session.add(project)
    session.flush()
    _audit(session, user, organization_id, "project.created", f"Project {name} created")
    return project


def update_project(
    session: Session,
    *,
    user: User,
    organization_id: int | None,
    project_id: int,
    name: str | None = None,
    description: str | None = None,
) -> Project:
    """Rename and/or change the description; a field left None stays as it is."""
    require_workspace(session, user, organization_id, Permission.EDIT_ORGANIZATION)
    project = get_project(
        session, user=user, organization_id=organization_id, project_id=project_id
    )
    old = project.name
    if name is not None:
        project.name = _valid_name(session, project.workspace_key, name, keep=project)
        project.name_key = project.name.casefold()
    if description is not None:
        project.description = _valid_description(description)
    project.updated_at = utcnow()
    session.add(project)
    session.flush()
    if project.name != old:
        _audit(
            session,
            user,
            organization_id,
            "project.renamed",
            f"Project {old} renamed to {project.name}",
        )
    return project


def delete_project(
    session: Session, *, user: User, organization_id: int | None, project_id: int
) -> Project:
    """Its links stay, with no project; set here as well as by the foreign key (SET NULL)."""
    require_workspace(session, user, organization_id, Permission.EDIT_ORGANIZATION)
    project = get_project(
        session, user=user, organization_id=organization_id, project_id=project_id
    )
    session.exec(update(Link).where(col(Link.project_id) == project.id).values(project_id=None))
    session.delete(project)
    session.flush()
    _audit(session, user, organization_id, "project.deleted", f"Project {project.name} deleted")
    return project


def get_project(
    session: Session, *, user: User, organization_id: int | None, project_id: int
) -> Project:
    """One project of the workspace; another workspace's id reads as missing."""
    require_workspace(session, user, organization_id, Permission.VIEW)
    project = session.get(Project, project_id)
    if project is None or project.workspace_key != workspace_key(organization_id, user.id):
        raise NotFound("Project not found.")
    return project


def list_projects(
    session: Session, *, user: User, organization_id: int | None, limit: int = 50, offset: int = 0
) -> tuple[list[ProjectSummary], int]:
    """One page of the workspace's projects by name, with link (and click) counts, and the total."""
    require_workspace(session, user, organization_id, Permission.VIEW)
    key = workspace_key(organization_id, user.id)
    total = session.exec(
        select(func.count()).select_from(Project).where(Project.workspace_key == key)
    ).one()
    link_count = (
        select(func.count())
        .select_from(Link)
        .where(col(Link.project_id) == Project.id)
        .correlate(Project)
        .scalar_subquery()
    )
    rows = session.exec(
        select(Project, link_count)
        .where(Project.workspace_key == key)
        .order_by(col(Project.name_key), col(Project.id))
        .offset(offset)
        .limit(limit)
    ).all()
    clicks = _click_counts(session, [project.id for project, _ in rows])
    summaries = [
        ProjectSummary(
            project, int(count), clicks.get(project.id, 0) if clicks is not None else None
        )
        for project, count in rows
    ]
    return summaries, int(total)


def project_choices(
    session: Session, *, user: User, organization_id: int | None
) -> list[tuple[int, str]]:
    """(id, name) of the workspace's projects by name, for a link's project dropdown."""
    require_workspace(session, user, organization_id, Permission.VIEW)
    rows = session.exec(
        select(Project.id, Project.name)
        .where(Project.workspace_key == workspace_key(organization_id, user.id))
        .order_by(col(Project.name_key))
        .limit(CHOICES_LIMIT)
    ).all()
    return [(int(i), str(n)) for i, n in rows]


def project_for_link(
    session: Session, *, user: User, organization_id: int | None, project_id: int | None
) -> Project | None:
    """The project a link in this workspace may be put in (None: no project). An id of another
    workspace's project is refused exactly like an unknown one (404: a well-formed id that
    names nothing here)."""
    if not project_id:
        return None
    project = session.get(Project, project_id)
    if project is None or project.workspace_key != workspace_key(organization_id, user.id):
        raise NotFound("Project not found.")
    return project


def project_count(session: Session, organization_id: int) -> int:
    """How many projects an organization has (the organization details API)."""
    return int(
        session.exec(
            select(func.count())
            .select_from(Project)
            .where(Project.organization_id == organization_id)
        ).one()
    )


def project_names(session: Session, project_ids: list[int]) -> dict[int, str]:
    """Project id → name, for lists and analytics that show projects by name. Callers have
    already scoped the ids to a workspace the viewer may see."""
    ids = [i for i in set(project_ids) if i]
    if not ids:
        return {}
    rows = session.exec(select(Project.id, Project.name).where(col(Project.id).in_(ids))).all()
    return {int(i): str(n) for i, n in rows}


def _click_counts(session: Session, project_ids: list[int]) -> dict[int, int] | None:
    """Clicks per project from the analytics service, when it offers them (SPEC §14)."""
    try:
        from orgportal.services import analytics  # noqa: PLC0415  (built alongside)
    except ImportError:
        return None
    counter = getattr(analytics, "project_click_counts", None)
    if counter is None or not project_ids:
        return None if counter is None else {}
    return dict(counter(session, project_ids))


def _valid_name(session: Session, key: str, raw: str, keep: Project | None = None) -> str:
    try:
        name = text(
            raw or "", label="Project name", min_len=1, max_len=PROJECT_NAME_MAX, single_line=True
        )
    except FieldError as exc:
        raise ValidationFailed({"name": str(exc)}) from exc
    clash = session.exec(
        select(Project).where(Project.workspace_key == key, Project.name_key == name.casefold())
    ).first()
    if clash is not None and (keep is None or clash.id != keep.id):
        raise Conflict(f"There is already a project called {clash.name}.")
    return name


def _valid_description(raw: str) -> str:
    try:
        return text(raw or "", label="Description", max_len=PROJECT_DESCRIPTION_MAX)
    except FieldError as exc:
        raise ValidationFailed({"description": str(exc)}) from exc


def _audit(
    session: Session, user: User, organization_id: int | None, action: str, summary: str
) -> None:
    """Organizations' projects are audited; a Personal Workspace has no audit log."""
    if organization_id is not None:
        audit.record(
            session, organization_id=organization_id, actor=user, action=action, summary=summary
        )
