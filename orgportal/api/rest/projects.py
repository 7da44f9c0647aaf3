"""`/api/projects`: the projects of the key's active workspace (SPEC §14).

Everyone in the workspace lists them; Owners/Admins (in the Personal Workspace, the user)
create, rename and delete them. Deleting a project keeps its links, with no project.
"""

from sqlmodel import Session

from orgportal.api.rest import schemas as s
from orgportal.api.rest.deps import Caller, Id, Limit, Offset, rest_router
from orgportal.db import unit_of_work
from orgportal.models import Project
from orgportal.services import api_keys, links, projects, public_ids
from orgportal.services.api_keys import ApiCaller

router = rest_router("/projects", "projects")


def _out(project: Project, link_count: int, workspace: str) -> s.ProjectOut:
    return s.ProjectOut(
        id=project.id,
        name=project.name,
        description=project.description,
        organization_id=workspace,
        link_count=link_count,
        created_at=project.created_at,
        updated_at=project.updated_at,
    )


def _link_count(session: Session, caller: ApiCaller, project: Project) -> int:
    _, total = links.list_links(
        session,
        user=caller.user,
        organization_id=project.organization_id,
        limit=0,
        project_id=project.id,
    )
    return total


def _workspace(session: Session, project: Project) -> str:
    return public_ids.of_organization(session, project.organization_id)


@router.get("", summary="Projects of the key's active workspace, by name")
def list_projects(caller: Caller, limit: Limit = 50, offset: Offset = 0) -> s.ProjectPage:
    with unit_of_work() as session:
        found, total = projects.list_projects(
            session,
            user=caller.user,
            organization_id=api_keys.active_workspace(session, caller),
            limit=limit,
            offset=offset,
        )
        ids = public_ids.organization_ids(session, (row.project.organization_id for row in found))
        items = [
            _out(row.project, row.link_count, ids[row.project.organization_id]) for row in found
        ]
    return s.ProjectPage(items=items, total=total, limit=limit, offset=offset)


@router.post("", status_code=201, summary="Create a project (Owner/Admin)")
def create_project(body: s.ProjectCreate, caller: Caller) -> s.ProjectOut:
    with unit_of_work() as session:
        project = projects.create_project(
            session,
            user=caller.user,
            organization_id=api_keys.active_workspace(session, caller),
            name=body.name,
            description=body.description,
        )
        return _out(project, 0, _workspace(session, project))


@router.get("/{project_id}", summary="One project of the key's active workspace")
def get_project(project_id: Id, caller: Caller) -> s.ProjectOut:
    with unit_of_work() as session:
        project = projects.get_project(
            session,
            user=caller.user,
            organization_id=api_keys.active_workspace(session, caller),
            project_id=project_id,
        )
        count = _link_count(session, caller, project)
        return _out(project, count, _workspace(session, project))


@router.patch("/{project_id}", summary="Rename a project or change its description (Owner/Admin)")
def update_project(project_id: Id, body: s.ProjectUpdate, caller: Caller) -> s.ProjectOut:
    with unit_of_work() as session:
        project = projects.update_project(
            session,
            user=caller.user,
            organization_id=api_keys.active_workspace(session, caller),
            project_id=project_id,
            name=body.name,
            description=body.description,
        )
        count = _link_count(session, caller, project)
        return _out(project, count, _workspace(session, project))


@router.delete("/{project_id}", summary="Delete a project; its links stay, in no project")
def delete_project(project_id: Id, caller: Caller) -> s.MessageOut:
    with unit_of_work() as session:
        projects.delete_project(
            session,
            user=caller.user,
            organization_id=api_keys.active_workspace(session, caller),
            project_id=project_id,
        )
    return s.MessageOut(message="Project deleted")
