"""One exception root; the CLI turns each into a single line and its ``exit_code``."""

from __future__ import annotations


class ReconcilerError(Exception):
    """A known failure with a message meant for the user (never a secret)."""

    exit_code = 1


class StalePlanError(ReconcilerError):
    """A saved plan no longer describes the state or the files; nothing was changed.

    Its own exit code, because a CI job has an answer to it (plan again) that it
    has to no other error, and it should not have to find out by reading stderr.
    """

    exit_code = 4


class ConfigError(ReconcilerError):
    """Bad input: the message already names file, line and field."""


class StateError(ReconcilerError):
    """The state file cannot be read, trusted or written."""


class CredentialsFailed(ReconcilerError):
    """The run's credentials can no longer be had (a temporary-credential refresh failed).

    Every later call would fail the same way, so apply starts nothing new after one.
    """


class ApiError(ReconcilerError):
    """HSS answered with an error, or could not be reached."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        error_code: str | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.error_code = error_code
        self.request_id = request_id
