"""Domain errors: raised by business rules, shown to people as-is, mapped to 400 by the API."""


class DomainError(Exception):
    """A rule refused an action; the message says why in words a user understands."""

    def __init__(self, message: str, *, field: str | None = None, details: list[str] | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.details = details or []
