"""One AWS session setup for the operator scripts: credentials checked up front, bounded calls,
and errors told in one line."""

from __future__ import annotations

import html
import re
from typing import Any

NO_CREDENTIALS = "no AWS credentials found (set AWS_PROFILE, or run `aws configure` or `aws sso login`)"

# Every AWS call answers or fails within about CALL_BUDGET_SECONDS, even against an endpoint
# that accepts the connection and never replies (a proxy, a firewall, a hung load balancer):
# each attempt waits CONNECT_TIMEOUT_SECONDS to connect and READ_TIMEOUT_SECONDS for each read,
# and a failed attempt is retried once (throttling and dropped connections get a second chance;
# standard mode waits at most a second before it).
CONNECT_TIMEOUT_SECONDS = 3
READ_TIMEOUT_SECONDS = 6
TOTAL_MAX_ATTEMPTS = 2
RETRY_BACKOFF_CAP_SECONDS = 1
CALL_BUDGET_SECONDS = 15

# An error reason is one line of at most this many characters.
MAX_REASON_CHARS = 300
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]*>")
_LOOKS_LIKE_HTML = re.compile(r"<\s*(!doctype|html|head|body|title)\b", re.IGNORECASE)


class NoCredentials(Exception):
    def __init__(self) -> None:
        super().__init__(NO_CREDENTIALS)


def one_line(text: object, limit: int = MAX_REASON_CHARS) -> str:
    """TEXT as one printable line: an HTML page (a proxy's or load balancer's error) reduced to
    its title or its text, every run of whitespace or control characters made one space, and
    the whole cut to LIMIT characters."""
    value = str(text)
    if _LOOKS_LIKE_HTML.search(value):
        title = _TITLE.search(value)
        value = html.unescape(title.group(1) if title and title.group(1).strip() else _TAG.sub(" ", value))
    value = "".join(char if char.isprintable() else " " for char in value)
    value = " ".join(value.split())
    if len(value) > limit:
        value = value[: limit - 1].rstrip() + "…"
    return value or "(no message)"


def describe_client_error(err: Any) -> str:
    """'<operation>: <code>: <message>' of a botocore ClientError, in one line. A reply that is
    not AWS's (an HTML error page) has no error code: its HTTP status stands in."""
    response = getattr(err, "response", None) or {}
    error = response.get("Error") or {}
    status = (response.get("ResponseMetadata") or {}).get("HTTPStatusCode")
    code = error.get("Code") or (f"HTTP {status}" if status else "Error")
    message = error.get("Message") or ""
    operation = getattr(err, "operation_name", "") or "the call"
    # The message alone is reduced: an HTML page's title must not swallow operation and code.
    head = one_line(f"{operation}: {code}")
    return one_line(f"{head}: {one_line(message)}") if message else head


def client_config() -> Any:
    from botocore.config import Config

    return Config(
        connect_timeout=CONNECT_TIMEOUT_SECONDS,
        read_timeout=READ_TIMEOUT_SECONDS,
        retries={"total_max_attempts": TOTAL_MAX_ATTEMPTS, "mode": "standard"},
    )


def checked_session(region: str) -> Any:
    """A boto3 session for ``region``; raises NoCredentials before any call is attempted.

    The bounded client config is also the botocore session's default, so the clients botocore
    makes for itself (STS for an assumed role, SSO for an SSO profile) are bounded as well."""
    import boto3
    import botocore.session

    core = botocore.session.get_session()
    core.set_default_client_config(client_config())
    session = boto3.Session(botocore_session=core, region_name=region)
    if session.get_credentials() is None:
        raise NoCredentials()
    return session
