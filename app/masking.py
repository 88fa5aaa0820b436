"""The one rule for secrets: what is one, and how it is hidden wherever it would show.

Used by every API answer (both roles), every error message, every JSON Patch and every log
line, so a secret planted anywhere reads ``******`` everywhere. Three kinds of secret:

* **a value under a secret-looking key**, at any depth of any JSON field: a key that
  contains one of :data:`SECRET_HINTS` (``ipmi_password``, ``admin_pass``, ``my_pwd``,
  ``snmp_community``, ``configdrive``, ``rescue_password``, ``auth_token``, ``ssh_key``...);
* **credentials inside a text**: ``user:password@`` in a URL (``redfish_address`` given as
  ``https://admin:pw@bmc``), and the value of an ``Authorization`` header or a ``Basic`` /
  ``Bearer`` credential that a BMC echoes into an error;
* **a known value**: the secret values of a node's ``driver_info``, wherever a library put
  them in a message (:func:`mask_text` with ``known``).

Masking is one-way: a masked document can be shown and patched (:mod:`app.api.patching`
puts the hidden values back), but nothing recovers a secret from it.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from typing import Any

MASK = "******"
#: A key holding any of these (case-insensitive) holds a secret.
SECRET_HINTS = (
    "pass",
    "pwd",
    "pswd",
    "secret",
    "token",
    "key",
    "credential",
    "community",
    "configdrive",
    "authorization",
)
#: ``scheme://user:password@`` — the password part.
_URL_CREDENTIALS = re.compile(r"(?P<keep>[a-z][a-z0-9+.-]*://[^/@\s:'\"]*:)[^/@\s'\"]+@", re.I)
#: ``Authorization: <anything>`` up to the end of the value, and bare ``Basic <b64>`` /
#: ``Bearer <token>`` credentials (a token: 8 or more characters with a digit, ``+``, ``/``
#: or ``=``, so that English such as "Basic credentials" is left alone).
_AUTH_HEADER = re.compile(r"(?P<keep>authorization['\"]?\s*[:=]\s*['\"]?)[^'\"\r\n,}]+", re.I)
_AUTH_SCHEME = re.compile(
    r"(?P<keep>\b(?:basic|bearer|digest|negotiate)\s+)(?=[\w+/=.~-]*[0-9+/=])[\w+/=.~-]{8,}", re.I
)


_SECRET_KEY = re.compile("|".join(SECRET_HINTS), re.I)
#: Any text that could hold an embedded credential; the rest (nearly every text) is left
#: alone after this one search: a node listing masks thousands of short texts.
_SUSPECT = re.compile(r"@|authorization|basic|bearer|digest|negotiate", re.I)


@functools.lru_cache(maxsize=4096)
def _secret_name(key: str) -> bool:
    return _SECRET_KEY.search(key) is not None


def is_secret_key(key: Any) -> bool:
    return _secret_name(key if isinstance(key, str) else str(key))


def mask_text(text: str, known: Iterable[str] = ()) -> str:
    """``text`` with embedded credentials and every ``known`` secret value masked."""
    for value in known:
        if value and len(value) >= 3:  # shorter values would mask unrelated text
            text = text.replace(value, MASK)
    if _SUSPECT.search(text) is None:
        return text
    text = _URL_CREDENTIALS.sub(rf"\g<keep>{MASK}@", text)
    text = _AUTH_HEADER.sub(rf"\g<keep>{MASK}", text)
    return _AUTH_SCHEME.sub(rf"\g<keep>{MASK}", text)


def mask(value: Any) -> Any:
    """A copy of a JSON value with every secret masked (keys by name, texts by content)."""
    if isinstance(value, dict):
        return {key: _masked_item(key, item) for key, item in value.items()}
    if isinstance(value, list):
        return [mask(item) for item in value]
    if isinstance(value, str) and _SUSPECT.search(value) is not None:
        return mask_text(value)
    return value


def _masked_item(key: Any, item: Any) -> Any:
    if item is None:
        return None
    if is_secret_key(key):
        return MASK
    if isinstance(item, str):  # inlined: most values are short texts with nothing to mask
        return item if _SUSPECT.search(item) is None else mask_text(item)
    return mask(item) if isinstance(item, dict | list) else item


def secret_values(value: Any) -> list[str]:
    """The texts held under secret keys anywhere in ``value`` (to mask them in messages)."""
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if is_secret_key(key) and isinstance(item, str):
                found.append(item)
            else:
                found.extend(secret_values(item))
    elif isinstance(value, list):
        for item in value:
            found.extend(secret_values(item))
    return found
