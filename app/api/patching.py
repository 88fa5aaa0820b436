"""JSON Patch (RFC 6902) on a resource's writable fields without ever exposing a secret.

The patch runs on the document the caller could read: secrets masked by
:func:`app.masking.mask`. So a secret can be replaced or removed, but nothing can read one
back: an operation that would ``test`` a secret, or ``copy`` or ``move`` a value holding one
(even inside a larger object) is refused with a 400 before anything is applied, and every
error names the operation and its path, never a value. After the patch, each part of the
document that still reads as the masked original is put back to the real value, so a masked
``******`` the caller did not touch never overwrites a password.
"""

from __future__ import annotations

from typing import Any

import jsonpatch
import jsonpointer

from app import exceptions, masking

_READS = {"test": "path", "copy": "from", "move": "from"}
_WHY = {
    jsonpatch.JsonPatchTestFailed: "the test failed",
    jsonpatch.JsonPatchConflict: "the path does not exist or cannot take the value",
    jsonpatch.InvalidJsonPatch: "the operation is malformed",
    jsonpointer.JsonPointerException: "the path is not a valid pointer into the document",
}


def _resolve(doc: Any, pointer: str) -> Any:
    try:
        return jsonpointer.resolve_pointer(doc, pointer)
    except jsonpointer.JsonPointerException:
        return None  # the operation itself will fail, with its own message


def _refuse_secret_reads(real: dict[str, Any], masked: dict[str, Any], op: dict[str, Any]) -> None:
    where = _READS.get(op.get("op", ""))
    pointer = op.get(where) if where else None
    if not isinstance(pointer, str):
        return
    if _resolve(real, pointer) != _resolve(masked, pointer):
        raise exceptions.InvalidParameterValue(
            reason=f"cannot {op['op']} {where} {pointer!r}: it holds a secret"
        )


def _apply_one(doc: dict[str, Any], op: dict[str, Any], index: int) -> dict[str, Any]:
    try:
        return jsonpatch.JsonPatch([op]).apply(doc)  # type: ignore[no-any-return]
    except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException) as exc:
        why = next((text for kind, text in _WHY.items() if isinstance(exc, kind)), "invalid")
        raise exceptions.Invalid(
            reason=f"patch operation {index} ({op.get('op')!s} {op.get('path')!s}) "
            f"cannot be applied: {why}"
        ) from None


def _unmask(patched: Any, real: Any) -> Any:
    """``patched``, with every part that still reads as ``real`` masked put back to ``real``."""
    if patched == masking.mask(real):
        return real
    if isinstance(patched, dict) and isinstance(real, dict):
        return {k: _unmask_item(k, v, real) for k, v in patched.items()}
    if isinstance(patched, list) and isinstance(real, list) and len(patched) == len(real):
        return [_unmask(v, r) for v, r in zip(patched, real, strict=True)]
    return patched


def _unmask_item(key: str, patched: Any, real: dict[str, Any]) -> Any:
    if key not in real:
        return patched
    if masking.is_secret_key(key) and patched == masking.MASK and real[key] is not None:
        return real[key]  # the masked value, untouched
    return _unmask(patched, real[key])


def apply(real: dict[str, Any], patch: list[dict[str, Any]]) -> dict[str, Any]:
    """``real`` (the writable fields) with ``patch`` applied as described above."""
    masked = masking.mask(real)
    for op in patch:
        _refuse_secret_reads(real, masked, op)
    for index, op in enumerate(patch):
        masked = _apply_one(masked, op, index)
    return {field: _unmask(value, real.get(field)) for field, value in masked.items()}


def changed_fields(real: dict[str, Any], patched: dict[str, Any]) -> dict[str, Any]:
    """The fields whose value the patch changed (a removed field becomes None)."""
    changed = {k: v for k, v in patched.items() if real.get(k) != v}
    changed.update({k: None for k in real if k not in patched})
    return changed


def fields_of(patch: list[dict[str, Any]]) -> set[str]:
    """The top-level fields a patch's ``path`` and ``from`` pointers name."""
    return {
        str(op[key]).split("/")[1]
        for op in patch
        for key in ("path", "from")
        if isinstance(op.get(key), str) and op[key].count("/") >= 1
    }
