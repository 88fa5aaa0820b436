"""What every real driver needs around a BMC call: ``driver_info`` checks, bounded retries,
errors that say what went wrong, and secrets kept out of messages.

A call that times out or cannot connect is retried with exponential backoff
(``IRONWORKS_BMC_ATTEMPTS`` attempts, the first retry after ``IRONWORKS_BMC_RETRY_INTERVAL``
seconds, doubling); refused credentials and garbage answers are not retried, since
repeating them changes nothing (and could lock a BMC account). Whatever happens, the error
that reaches the node's ``last_error`` names the BMC and the kind of failure, and never
contains a password.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Literal, TypeVar

import tenacity

from app import exceptions, masking
from app.config import get_settings
from drivers.base import NodeView

LOG = logging.getLogger(__name__)
T = TypeVar("T")

#: How a driver classifies an exception raised by its protocol library.
Failure = Literal["timeout", "auth", "protocol"]


def require(node: NodeView, descriptions: dict[str, str]) -> None:
    """Fail validation naming every required ``driver_info`` key that is missing or empty."""
    missing = [key for key in descriptions if node.driver_info.get(key) in (None, "")]
    if missing:
        raise exceptions.MissingParameterValue(
            name=f"driver_info {', '.join(missing)} (node {node.uuid}); "
            + "; ".join(f"{key}: {descriptions[key]}" for key in missing)
        )


def invalid(node: NodeView, key: str, reason: str) -> exceptions.InvalidParameterValue:
    """A validation error about one ``driver_info`` key (its value is never echoed when it
    is a secret; callers pass a reason that does not contain it)."""
    return exceptions.InvalidParameterValue(
        reason=f"Node {node.uuid}: driver_info {key} is invalid: {reason}"
    )


def port_number(node: NodeView, key: str, default: int) -> int:
    raw: Any = node.driver_info.get(key, default)
    try:
        port = int(raw)
    except (TypeError, ValueError):
        raise invalid(node, key, f"{raw!r} is not a port number") from None
    if not 0 < port < 65536:
        raise invalid(node, key, f"{port} is not between 1 and 65535")
    return port


def scrub(text: str, node: NodeView) -> str:
    """``text`` with every secret of the node's ``driver_info`` and any credential it
    carries (in a URL, an echoed ``Authorization`` header) masked (:mod:`app.masking`)."""
    return masking.mask_text(text, masking.secret_values(node.driver_info))


def call(
    node: NodeView,
    operation: str,
    bmc: str,
    protocol: str,
    fn: Callable[[], T],
    classify: Callable[[BaseException], Failure | None],
) -> T:
    """Run ``fn`` (one exchange with the BMC at ``bmc``) with the retry policy above.

    ``classify`` sorts the protocol library's exceptions; one it returns None for is a bug
    or a validation error and propagates unchanged.
    """
    settings = get_settings()

    def retryable(exc: BaseException) -> bool:
        return classify(exc) == "timeout"

    retrying = tenacity.Retrying(
        stop=tenacity.stop_after_attempt(settings.bmc_attempts),
        wait=tenacity.wait_exponential(multiplier=settings.bmc_retry_interval, max=30),
        retry=tenacity.retry_if_exception(retryable),
        before_sleep=lambda state: LOG.warning(
            "Node %s: %s on BMC %s failed (attempt %d of %d), retrying: %s",
            node.uuid,
            operation,
            bmc,
            state.attempt_number,
            settings.bmc_attempts,
            scrub(str(state.outcome.exception() if state.outcome else ""), node),
        ),
        reraise=True,
    )
    try:
        return retrying(fn)
    except exceptions.IronworksError:
        raise
    except Exception as exc:
        kind = classify(exc)
        if kind is None:
            raise
        reason = scrub(str(exc) or type(exc).__name__, node)
        common = {"operation": operation, "node": node.uuid, "bmc": bmc, "reason": reason}
        if kind == "auth":
            raise exceptions.BMCAuthFailed(**common) from None
        if kind == "protocol":
            raise exceptions.BMCProtocolError(protocol=protocol, **common) from None
        raise exceptions.BMCTimeout(
            timeout=settings.bmc_timeout, attempts=settings.bmc_attempts, **common
        ) from None
