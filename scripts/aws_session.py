"""One AWS session setup for the operator scripts: credentials checked up front, bounded calls."""

from __future__ import annotations

from typing import Any

NO_CREDENTIALS = "no AWS credentials found (set AWS_PROFILE, or run `aws configure` or `aws sso login`)"


class NoCredentials(Exception):
    def __init__(self) -> None:
        super().__init__(NO_CREDENTIALS)


def client_config() -> Any:
    from botocore.config import Config

    # A check must answer in bounded time even when an endpoint does not.
    return Config(connect_timeout=5, read_timeout=20, retries={"max_attempts": 3, "mode": "standard"})


def checked_session(region: str) -> Any:
    """A boto3 session for ``region``; raises NoCredentials before any call is attempted."""
    import boto3

    session = boto3.Session(region_name=region)
    if session.get_credentials() is None:
        raise NoCredentials()
    return session
