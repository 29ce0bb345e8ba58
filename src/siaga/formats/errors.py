"""The error every parser in :mod:`siaga.formats` raises."""

from __future__ import annotations


class FormatError(ValueError):
    """Input that does not follow its format. ``field`` names the offending part when there is one."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.message = message

    def as_dict(self) -> dict[str, str | None]:
        return {"field": self.field, "message": self.message}
