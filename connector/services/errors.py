"""The errors services raise; the API turns each into one JSON error of the same status."""

from __future__ import annotations


class ServiceError(Exception):
    status = 400

    def __init__(self, message: str, errors: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors


class NotFound(ServiceError):
    status = 404


class Invalid(ServiceError):
    status = 422


class Conflict(ServiceError):
    status = 409
