"""Who pays for a subscription: an organization (its plan and support seats) or a user (their
own plan, SPEC §6). Every billing use case takes one `Payer`; `payer_for` builds it and does
the permission check, so a use case never has an organization path and a personal path."""

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from orgportal import routes
from orgportal.adapters.billing import personal_reference
from orgportal.models import Subscription, User
from orgportal.services import plans
from orgportal.services.permissions import Permission, require

PLAN, SUPPORT = "plan", "support"


@dataclass(frozen=True)
class Payer:
    """Exactly one of the two ids is set."""

    organization_id: int | None = None
    user_id: int | None = None

    @classmethod
    def organization(cls, organization_id: int) -> "Payer":
        return cls(organization_id=organization_id)

    @classmethod
    def user(cls, user_id: int) -> "Payer":
        return cls(user_id=user_id)

    @property
    def personal(self) -> bool:
        return self.user_id is not None

    def says(self, *, organization: str, personal: str) -> str:
        """The payer's own wording of a message ("This organization …" / "You …")."""
        return personal if self.personal else organization

    @property
    def owns(self) -> Any:
        """The SQL condition selecting this payer's subscriptions."""
        if self.personal:
            return Subscription.user_id == self.user_id
        return Subscription.organization_id == self.organization_id

    @property
    def owner(self) -> dict[str, int | None]:
        """The owner columns of a new Subscription row."""
        if self.personal:
            return {"user_id": self.user_id}
        return {"organization_id": self.organization_id}

    @property
    def page(self) -> str:
        """Where the payer's billing is shown: back there from Checkout and the Portal."""
        return routes.ACCOUNT_PLAN if self.personal else routes.ORG_BILLING

    @property
    def reference(self) -> str:
        """The Checkout `client_reference_id` ("" lets the gateway use the organization id)."""
        return personal_reference(self.user_id) if self.personal else ""

    def metadata(self, kind: str) -> dict[str, str]:
        """What Checkout stores on the subscription, so webhooks find the payer again."""
        if self.personal:
            return {"user_id": str(self.user_id), "kind": kind}
        return {"organization_id": str(self.organization_id), "kind": kind}


def payer_for(
    session: Session,
    user: User,
    organization_id: int | None,
    permission: Permission = Permission.MANAGE_BILLING,
) -> Payer:
    """The organization, once the role table allows `permission`; None: the user's own plan,
    which any signed-in user may buy and manage."""
    if organization_id is None:
        return Payer.user(user.id)
    require(session, user, organization_id, permission)
    return Payer.organization(organization_id)


def active(session: Session, payer: Payer, kind: str = PLAN) -> Subscription | None:
    """The payer's entitled subscription of that kind (the newest)."""
    return _newest(session, payer, kind, col(Subscription.status).in_(plans.ENTITLED_STATUSES))


def latest(session: Session, payer: Payer, kind: str = PLAN) -> Subscription | None:
    """The entitled subscription of that kind, else the most recent one (to show its status)."""
    return active(session, payer, kind) or _newest(session, payer, kind)


def _newest(session: Session, payer: Payer, kind: str, *conditions: Any) -> Subscription | None:
    return session.exec(
        select(Subscription)
        .where(payer.owns, Subscription.kind == kind, *conditions)
        .order_by(col(Subscription.updated_at).desc())
    ).first()
