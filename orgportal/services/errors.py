"""Named domain errors. Services raise them; the UI and the API turn them into messages."""


class DomainError(Exception):
    """A rule refused the request. `message` is safe to show to the user."""

    status = 400

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class NotAuthenticated(DomainError):
    status = 401

    def __init__(self, message: str = "Please sign in to continue."):
        super().__init__(message)


class PermissionDenied(DomainError):
    status = 403

    def __init__(self, message: str = "You do not have permission to do that."):
        super().__init__(message)


class NotFound(DomainError):
    """Also raised for other organizations' objects, so their existence never leaks."""

    status = 404

    def __init__(self, message: str = "Not found."):
        super().__init__(message)


class Conflict(DomainError):
    status = 409


class InvalidCredentials(DomainError):
    status = 401

    def __init__(self) -> None:
        super().__init__("Email or password is incorrect.")


class AccountLocked(DomainError):
    status = 429


class TooManyRequests(DomainError):
    """An action repeated too often (e.g. mail to one address); the message says when to retry."""

    status = 429


class InvalidToken(DomainError):
    status = 400


class ValidationFailed(DomainError):
    """Per-field messages; nothing was written.

    `errors` maps each field to its message, for a page to show beside that field (and
    the REST API to return by name). `message` is the same messages in the product's own
    words, without the field keys: it is what a toast or an API's `detail` shows when no
    field is there to show them beside ("Choose a member of this organization.", never
    "member: Choose …")."""

    status = 422

    def __init__(self, errors: dict[str, str]):
        super().__init__(" ".join(dict.fromkeys(m.strip() for m in errors.values() if m)))
        self.errors = errors


class NoSeatsAvailable(Conflict):
    """`source` names where the limit comes from, e.g. "the Free plan allows 3 members"."""

    def __init__(self, limit: int, source: str):
        super().__init__(f"No seats available: {source}. Pending invites take a seat too.")
        self.limit = limit


class InviteUnusable(DomainError):
    """An invite link that cannot be used; `reason` says which case for the page."""

    status = 410

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason
