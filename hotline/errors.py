from django.utils.translation import gettext


class DomainError(Exception):
    """A business rule said no. The message is translatable and shown to the user as it is;
    the API turns it into a 400, pages into a form error. Raised before anything is written."""

    def __init__(self, message, *, code: str = "invalid"):
        super().__init__(message)
        self.message = message
        self.code = code


class AccessDenied(DomainError):
    """The actor's role or unit does not allow this. The API answers 403, pages 403."""

    def __init__(self, message=None, *, code: str = "forbidden"):
        super().__init__(message or gettext("您无权执行此操作。"), code=code)
