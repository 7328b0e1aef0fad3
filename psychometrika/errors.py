"""Exception types shared by every stage.

Every user-facing problem (bad instrument file, bad study file, bad data given to a
statistics function) raises a subclass of :class:`PsychometrikaError`, which is a
``ValueError``.  The CLI turns these into one clear message and exit status 2.
"""

from __future__ import annotations


class PsychometrikaError(ValueError):
    """Base class for errors caused by user input; the CLI prints them without a traceback."""

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None,
                 column: int | None = None, field: str | None = None, hint: str | None = None):
        self.message = message
        self.file = file
        self.line = line
        self.column = column
        self.field = field
        self.hint = hint
        super().__init__(self._render())

    def _render(self) -> str:
        where = ""
        if self.file:
            where = str(self.file)
            if self.line is not None:
                where += f":{self.line}"
                if self.column is not None:
                    where += f":{self.column}"
            where += ": "
        text = where + (f"{self.field}: " if self.field else "") + self.message
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


class InstrumentError(PsychometrikaError):
    """An instrument file (or plugin) is malformed."""


class StudyError(PsychometrikaError):
    """A study file or study design is malformed."""


class StoreError(PsychometrikaError):
    """The response store cannot be read or written safely."""


class BackendError(RuntimeError):
    """An inference backend failed or cannot start (a missing package, model or server); ``hint`` says what to do."""

    def __init__(self, message: str, *, hint: str | None = None):
        self.message, self.hint = message, hint
        super().__init__(message + (f"\n  hint: {hint}" if hint else ""))


class DataError(PsychometrikaError):
    """Data given to a statistics function cannot be analysed as asked."""


__all__ = ["PsychometrikaError", "InstrumentError", "StudyError", "StoreError", "BackendError", "DataError"]


class MissingDependencyError(ImportError):
    """An optional third-party package needed by the requested feature is not installed.

    Raised (for example by ``pm.<name>``) with the package and the ``pip install`` command in the message.
    Not a :class:`PsychometrikaError`: the input is fine, the installation lacks a package.
    """

