"""Subscriptions mirrored from Stripe (or test mode), processed webhook events, test-mode objects."""

from datetime import datetime

from sqlmodel import Field, SQLModel

from orgportal.models.base import utcnow


class Subscription(SQLModel, table=True):
    """One Stripe subscription: an organization's plan (`kind="plan"`) or support seats, or a
    user's personal plan (`user_id` set, `organization_id` NULL)."""

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int | None = Field(
        default=None, foreign_key="organization.id", index=True, ondelete="CASCADE"
    )
    user_id: int | None = Field(default=None, foreign_key="user.id", index=True, ondelete="CASCADE")
    kind: str = Field(max_length=16)  # plan | support
    plan_key: str = Field(default="", max_length=32)
    interval: str = Field(default="monthly", max_length=16)
    status: str = Field(max_length=32)  # active | past_due | canceled | incomplete | …
    quantity: int = 1
    stripe_subscription_id: str = Field(max_length=255, unique=True, index=True)
    current_period_end: datetime | None = None
    # Unix time of the Stripe state this row reflects: older events never overwrite newer state.
    state_at: int = 0
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class BillingEvent(SQLModel, table=True):
    """Webhook events already handled, so a redelivered event is applied once."""

    __tablename__ = "billing_event"

    id: str = Field(primary_key=True, max_length=255)
    type: str = Field(max_length=100)
    received_at: datetime = Field(default_factory=utcnow)


class TestModeCheckout(SQLModel, table=True):
    """A Checkout Session of the offline test mode (stands in for Stripe's)."""

    __tablename__ = "test_mode_checkout"

    id: str = Field(primary_key=True, max_length=64)
    organization_id: int | None = Field(default=None, index=True)  # None: a personal plan
    customer_id: str = Field(max_length=64)
    price_id: str = Field(max_length=255)
    quantity: int = 1
    status: str = Field(default="open", max_length=16)  # open | complete | expired
    subscription_id: str = Field(default="", max_length=64)
    success_url: str = Field(max_length=1000)
    cancel_url: str = Field(max_length=1000)
    metadata_json: str = Field(default="{}", max_length=2000)
    created_at: datetime = Field(default_factory=utcnow)


class TestModeSubscription(SQLModel, table=True):
    """A subscription of the offline test mode (stands in for Stripe's)."""

    __tablename__ = "test_mode_subscription"

    id: str = Field(primary_key=True, max_length=64)
    organization_id: int | None = Field(default=None, index=True)  # None: a personal plan
    customer_id: str = Field(max_length=64)
    price_id: str = Field(max_length=255)
    quantity: int = 1
    status: str = Field(default="active", max_length=32)
    current_period_end: datetime
    metadata_json: str = Field(default="{}", max_length=2000)
    created_at: datetime = Field(default_factory=utcnow)
