"""An email_sent hook's own SMTP server instead of a target URL: checked, stored, its password kept back."""

from __future__ import annotations

import re
from typing import Any

from .. import credentials
from ..delivery import smtp
from ..models import SmtpDestination
from .errors import Invalid

EMAIL_TRIGGER = "email_sent"
HOST = re.compile(r"^[A-Za-z0-9.\-:_\[\]]{1,255}$")


def destination(
    trigger: str, target_url: str | None, given: dict[str, Any] | None, current: SmtpDestination | None = None
) -> SmtpDestination | None:
    """The hook's SMTP server from `smtp` (None for a URL hook); 422 for a bad or ambiguous one.

    A password left out keeps the current one, so a PATCH need not repeat it.
    """
    if given is None:
        if target_url is None:
            raise Invalid("target_url or smtp is required", {"target_url": "an http(s) URL, or give smtp instead"})
        return None
    if target_url is not None:
        raise Invalid("give target_url or smtp, not both", {"smtp": "a hook has one destination"})
    if trigger != EMAIL_TRIGGER:
        raise Invalid(f"only {EMAIL_TRIGGER} hooks can send through an SMTP server", {"smtp": f"trigger must be {EMAIL_TRIGGER}"})
    host = given["host"].strip()
    if not HOST.match(host):
        raise Invalid("smtp.host is not a host name or address", {"smtp.host": "a host name or IP address, nothing else"})
    security = given.get("security") or "starttls"
    sender = given.get("sender") or None
    if sender is not None and ["@" in a for a in smtp.addresses(sender)] != [True]:
        raise Invalid("smtp.sender is not an e-mail address", {"smtp.sender": "e.g. Yoga Shibuya <yoyaku@example.jp>"})
    if "password" in given:  # sealed at once: the password itself is never stored
        password = credentials.current().seal(given["password"]) if given["password"] else None
    else:
        password = current.password if current is not None else None
    row = current or SmtpDestination()
    row.host = host
    row.port = given.get("port") or smtp.DEFAULT_PORTS[security]
    row.security = security
    row.username = given.get("username") or None
    row.password = password
    row.sender = sender
    return row


def url_of(row: SmtpDestination) -> str:
    return smtp.target_url(row.host, row.port)
