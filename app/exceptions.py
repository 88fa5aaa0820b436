"""Every error Ironworks raises on purpose, each carrying its HTTP status.

::

    IronworksError (500)
    ├── Invalid (400)
    │   ├── InvalidParameterValue
    │   ├── MissingParameterValue
    │   ├── InvalidPowerTarget
    │   ├── InvalidStateRequested
    │   ├── UnsupportedDriverInterface
    │   ├── InterfaceNotFound
    │   ├── NodeIsRetired
    │   ├── NoFreePhysicalPorts
    │   ├── ChassisNotEmpty
    │   ├── PortgroupNotEmpty
    │   ├── NodeNotPoweredOff
    │   ├── VifNotAttached
    │   └── UnknownDriver
    ├── NotAuthorized (401; the API adds WWW-Authenticate)
    ├── Forbidden (403)
    │   └── NodeProtected
    ├── NotFound (404)
    │   ├── NodeNotFound
    │   ├── NodeTraitNotFound
    │   ├── ChassisNotFound
    │   ├── PortgroupNotFound
    │   ├── DeployTemplateNotFound
    │   ├── AllocationNotFound
    │   ├── VolumeConnectorNotFound
    │   ├── VolumeTargetNotFound
    │   ├── PortNotFound
    │   └── ConductorNotFound
    ├── TooManyRequests (429; the API adds Retry-After)
    ├── NotAcceptable (406)
    ├── RequestTooLarge (413)
    ├── UnsupportedMediaType (415)
    ├── Conflict (409)
    │   ├── NodeLocked
    │   │   └── LockLost
    │   ├── NodeAlreadyExists
    │   ├── PortAlreadyExists
    │   ├── NodeStateChanged
    │   ├── NodeAssociated
    │   ├── VifAlreadyAttached
    │   ├── RecordAlreadyExists
    │   ├── VifPortTaken
    │   ├── PortChanged
    │   ├── InvalidStateForDelete
    │   ├── InvalidState
    │   └── PortChangeRefused
    ├── TemporaryFailure (503)
    │   ├── NoLiveConductor
    │   └── BrokerUnavailable
    ├── DriverOperationFailed (500; recorded as the node's last_error)
    │   └── BMCError: the BMC could not be used
    │       ├── BMCTimeout: no answer in time, after the configured retries
    │       ├── BMCAuthFailed: the BMC refused the credentials (never retried)
    │       └── BMCProtocolError: the answer was not the protocol (garbage, bad status)
    ├── RequestNotRecorded (500; a task whose request was never committed is dropped)
    ├── InvalidStateTransition (500; a conductor bug: the table has no such edge)
    └── ConfigurationError (500; stops a process from starting)
        └── DriverLoadError

Leaves set only a message template; their keyword arguments stay JSON-serialisable because
errors cross the queue. One API error handler turns them into answers (``app/api/errors.py``).
"""

from __future__ import annotations

from typing import Any


class IronworksError(Exception):
    """Base of all domain errors; ``code`` is the HTTP status the API answers with."""

    code = 500
    message = "An unknown error occurred."

    def __init__(self, message: str | None = None, **kwargs: Any) -> None:
        self.kwargs = kwargs
        if message is None:
            message = self.message.format(**kwargs)
        self.text = message
        super().__init__(message)

    def __str__(self) -> str:
        return self.text


class Invalid(IronworksError):
    code = 400
    message = "Invalid request: {reason}"


class InvalidParameterValue(Invalid):
    message = "{reason}"


class MissingParameterValue(Invalid):
    message = "Missing required parameter: {name}"


class InvalidPowerTarget(Invalid):
    message = "Invalid power target {target!r}; expected one of: {allowed}"


class InvalidStateRequested(Invalid):
    message = (
        'The requested action "{action}" can not be performed on a node in provision state '
        '"{state}". Allowed actions in this state: {allowed}.'
    )


class UnsupportedDriverInterface(Invalid):
    message = "Driver {driver} does not support the {interface} interface."


class InterfaceNotFound(Invalid):
    message = "Interface {name!r} of type {interface} is not enabled here; enabled: {available}"


class NodeIsRetired(Invalid):
    message = "The {op} operation can't be performed on node {node} because it is retired."


class NoFreePhysicalPorts(Invalid):
    message = "Unable to attach VIF {vif}, not enough free physical ports."


class VifNotAttached(Invalid):
    message = "Unable to detach VIF {vif} from node {node} because it is not attached to it."


class ChassisNotEmpty(Invalid):
    message = "Cannot complete the requested action because chassis {chassis} contains nodes."


class PortgroupNotEmpty(Invalid):
    message = "Cannot complete the requested action because port group {portgroup} has ports."


class NodeNotPoweredOff(Invalid):
    message = "The {action} is allowed only while node {node} is powered off; it is {state}."


class UnknownDriver(Invalid):
    message = "No live conductor supports driver {driver!r}; known drivers: {known}"


class NotAuthorized(IronworksError):
    """Missing or wrong credentials; the message never says whether the user exists."""

    code = 401
    message = "Authentication required: {reason}"


class Forbidden(IronworksError):
    """Known caller, but its role does not allow the request."""

    code = 403
    message = "Forbidden: {reason}"


class NodeProtected(Forbidden):
    message = "Node {node} is protected and cannot be undeployed, rebuilt or deleted"


class NotFound(IronworksError):
    code = 404
    message = "Resource could not be found."


class NodeNotFound(NotFound):
    message = "Node {node} could not be found."


class NodeTraitNotFound(NotFound):
    message = "Node {node} doesn't have a trait '{trait}'"


class ChassisNotFound(NotFound):
    message = "Chassis {chassis} could not be found."


class PortgroupNotFound(NotFound):
    message = "Port group {portgroup} could not be found."


class DeployTemplateNotFound(NotFound):
    message = "Deploy template {template} could not be found."


class AllocationNotFound(NotFound):
    message = "Allocation {allocation} could not be found."


class VolumeConnectorNotFound(NotFound):
    message = "Volume connector {connector} could not be found."


class VolumeTargetNotFound(NotFound):
    message = "Volume target {target} could not be found."


class PortNotFound(NotFound):
    message = "Port {port} could not be found."


class ConductorNotFound(NotFound):
    message = "Conductor {conductor} could not be found."


class TooManyRequests(IronworksError):
    """Too many failed logins; the API adds ``Retry-After``."""

    code = 429
    message = "Too many failed logins from this client or for this user; retry in {seconds}s."


class NotAcceptable(IronworksError):
    code = 406
    message = "{reason}"


class RequestTooLarge(IronworksError):
    code = 413
    message = "The request body is larger than the limit of {limit} bytes."


class UnsupportedMediaType(IronworksError):
    code = 415
    message = "Unsupported Content-Type {content_type!r}; send the body as application/json"


class Conflict(IronworksError):
    code = 409
    message = "Conflict: {reason}"


class NodeLocked(Conflict):
    message = (
        "Node {node} is locked by host {host}, please retry after the current operation "
        "is completed."
    )


class LockLost(NodeLocked):
    message = (
        "Node {node}: the lock of {host} was taken over while it worked; its outcome was not "
        "recorded."
    )


class NodeAlreadyExists(Conflict):
    message = "A node with {field} {value} already exists."


class PortAlreadyExists(Conflict):
    message = "A port with MAC address {address} already exists."


class NodeStateChanged(Conflict):
    message = "Node {node} changed state while the request was processed; please retry."


class InvalidStateForDelete(Conflict):
    message = "Node {node} cannot be deleted in provision state {state!r}; allowed: {allowed}"


class InvalidState(Conflict):
    message = "{reason}"


class VifAlreadyAttached(Conflict):
    message = "Unable to attach VIF {vif}, VIF is already attached to port {port}"


class RecordAlreadyExists(Conflict):
    message = "A {kind} with {what} already exists."


class VifPortTaken(Conflict):
    message = "Port {port} already has a VIF attached"


class NodeAssociated(Conflict):
    message = "Node {node} is associated with instance {instance}."


class PortChanged(Conflict):
    message = "Port {port} changed while the request was processed; please retry."


class PortChangeRefused(Conflict):
    message = "Port {port}: {reason}"


class TemporaryFailure(IronworksError):
    code = 503
    message = "Resource temporarily unavailable, please retry: {reason}"


class NoLiveConductor(TemporaryFailure):
    message = (
        "No live conductor can manage node {node} (driver {driver!r}, conductor group "
        "{group!r}); retry when a conductor is running."
    )


class BrokerUnavailable(TemporaryFailure):
    message = "The message broker did not accept the request: {reason}"


class DriverOperationFailed(IronworksError):
    message = "{operation} failed for node {node}: {reason}"


class BMCError(DriverOperationFailed):
    message = "{operation} failed for node {node}: BMC {bmc}: {reason}"


class BMCTimeout(BMCError):
    message = (
        "{operation} failed for node {node}: BMC {bmc} did not answer within {timeout}s "
        "({attempts} attempts): {reason}"
    )


class BMCAuthFailed(BMCError):
    message = "{operation} failed for node {node}: BMC {bmc} refused the credentials: {reason}"


class BMCProtocolError(BMCError):
    message = (
        "{operation} failed for node {node}: BMC {bmc} answered with something that is not "
        "valid {protocol}: {reason}"
    )


class RequestNotRecorded(IronworksError):
    message = "Node {node} is not locked for this task: its request was never recorded."


class InvalidStateTransition(IronworksError):
    message = "No transition from provision state {state!r} on event {event!r}"


class ConfigurationError(IronworksError):
    message = "Configuration error: {reason}"


class DriverLoadError(ConfigurationError):
    message = "Cannot load {kind} {name!r}: {reason}. Available: {available}"
