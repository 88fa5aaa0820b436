"""UUIDs as Ironworks stores them, whatever form a client sends.

A UUID is stored in its canonical form (lower case, dashed, as ``str(uuid.UUID(...))``
prints it); every lookup by UUID (a node, a port, a pagination marker) first turns what the
client sent (upper case, without dashes, ``{...}`` or ``urn:uuid:``) into that form, so a
resource is found by any spelling it was created with.
"""

from __future__ import annotations

import uuid


def canonical(value: str) -> str | None:
    """``value`` in the stored form, or None when it is not a UUID."""
    try:
        return str(uuid.UUID(value))
    except (ValueError, TypeError, AttributeError):
        return None
