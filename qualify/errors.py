"""Domain errors: raised by business rules, shown to people as-is, mapped to 400 by the API."""


class DomainError(Exception):
    """A rule refused an action; the message says why in words a user understands."""

    def __init__(self, message: str, *, field: str | None = None, details: list[str] | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.details = details or []


def form_error_message(form) -> str:
    """A Django form's errors as one sentence per problem, in field order, for the flash or the
    inline error: the form's own messages name the field and the problem ("The note is too long")."""
    return " ".join(str(message) for errors in form.errors.values() for message in errors)
