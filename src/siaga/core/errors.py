"""Errors raised by actions, each with a code the API maps to an HTTP status.

A message is for people, so it is shown in their language: an action raises a template marked with
``pgettext_lazy("error", "...")`` and the values that go into it as keyword arguments. The template is
written in English in the code (what developers, logs and tests read: ``exc.message``); the Indonesian
text is the catalogue's (``locale/id``), and :meth:`ActionError.localized` renders the message in the
language active where it is shown: Bahasa Indonesia unless the request, or ``--lang``, asks for English.
"""

from __future__ import annotations

from typing import Any

from django.utils import translation
from django.utils.functional import Promise


def _value(value: Any) -> Any:
    return str(value) if isinstance(value, (Promise, LazyText, LazyJoin)) else value


def render(template: Any, params: dict[str, Any]) -> str:
    """``template`` (a lazy translation or a plain string) in the active language, filled with ``params``
    (lazy parts in the same language)."""
    text = str(template)
    if not params:
        return text
    try:
        return text.format(**{name: _value(value) for name, value in params.items()})
    except (KeyError, IndexError, ValueError):  # a translation that lost a placeholder: the English one
        with translation.override("en"):
            return str(template).format(**{name: _value(value) for name, value in params.items()})


class LazyText:
    """A translatable fragment with its values (an action's step names: "status {status}"), rendered in
    the language active when the message that holds it is shown."""

    def __init__(self, template: Any, **params: Any) -> None:
        self.template = template
        self.params = params

    def __str__(self) -> str:
        return render(self.template, self.params)

    def __repr__(self) -> str:
        return repr(str(self))


class LazyJoin:
    """Translatable parts joined with ``separator`` when shown (a list of problems)."""

    def __init__(self, separator: str, parts: list[Any]) -> None:
        self.separator = separator
        self.parts = parts

    def __str__(self) -> str:
        return self.separator.join(str(part) for part in self.parts)


def lazy(exc: ActionError) -> LazyText:
    """An error's message as a fragment of another one, rendered in the same language."""
    return LazyText(exc.template, **exc.params)


class ActionError(Exception):
    """A refused write. ``code`` is stable for programs, ``message`` (English) for developers and logs,
    :meth:`localized` for the person who asked."""

    status = 400
    code = "invalid"

    def __init__(self, message: Any, field: str | None = None, code: str | None = None, **params: Any) -> None:
        self.template = message
        self.params = params
        if isinstance(message, str) and not any(isinstance(v, (Promise, LazyText, LazyJoin)) for v in params.values()):
            self.message = render(message, params)  # nothing to translate (and no Django needed)
        else:
            with translation.override("en"):
                self.message = render(message, params)
        super().__init__(self.message)
        self.field = field
        if code:
            self.code = code

    def localized(self) -> str:
        """The message in the active language."""
        return render(self.template, self.params)


class ValidationFailed(ActionError):
    status = 422
    code = "invalid"


class IllegalTransition(ActionError):
    """A lifecycle step that is not allowed from the current state, or a time going backwards."""

    status = 409
    code = "illegal_transition"


class Conflict(ActionError):
    status = 409
    code = "conflict"


class NotFound(ActionError):
    status = 404
    code = "not_found"


class Forbidden(ActionError):
    status = 403
    code = "forbidden"
