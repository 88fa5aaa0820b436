"""``ironworks node``: list, show, power and provision nodes through the REST API.

These commands only speak HTTP (``--url``, default ``IRONWORKS_API_URL`` or
http://127.0.0.1:6385), so they work from any machine that reaches the API. A state change
is a 202 from the API; ``--wait`` then polls ``GET /v1/nodes/<id>/states`` until the work
is over: for power, until ``target_power_state`` clears; for provisioning, until the node
leaves its transient state (``verifying``, ``deploying``, ``cleaning``, ...). The API clears
``last_error`` when it accepts a request, so a ``last_error`` at the end is this request's
failure (exit 1). A node parked in a wait state (``wait call-back``, ...) waits for an
outside callback: the command reports it and succeeds.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from app import states
from app.cli.client import Client, node_path
from app.cli.output import CommandFailed, Progress, cell, fields_table, table

POWER_TARGETS = {
    "on": states.POWER_ON,
    "off": states.POWER_OFF,
    "reboot": states.REBOOT,
    "soft-off": states.SOFT_POWER_OFF,
    "soft-reboot": states.SOFT_REBOOT,
}
PROVISION_VERBS = (
    states.VERB_MANAGE,
    states.VERB_PROVIDE,
    states.VERB_INSPECT,
    states.VERB_DEPLOY,
    states.VERB_ACTIVE,
    states.VERB_REBUILD,
    states.VERB_UNDEPLOY,
    states.VERB_DELETED,
    states.VERB_CLEAN,
    states.VERB_ABORT,
    states.VERB_ADOPT,
    states.VERB_RESCUE,
    states.VERB_UNRESCUE,
)
LIST_FIELDS = ("uuid", "name", "power_state", "provision_state", "maintenance")
#: Link lists in a node's answer, not worth a row in ``node show``.
_LINK_FIELDS = ("links", "ports", "portgroups", "volume", "states")
POLL_INTERVAL = 0.5


def register(commands: Any) -> None:
    """Add ``node`` and its subcommands to the top-level subparsers."""
    api = argparse.ArgumentParser(add_help=False)
    api.add_argument("--url", help="API endpoint (env IRONWORKS_API_URL; http://127.0.0.1:6385)")
    api.add_argument("--user", help="HTTP basic user (env IRONWORKS_API_USER)")
    api.add_argument("--password", help="HTTP basic password (env IRONWORKS_API_PASSWORD)")
    waiting = argparse.ArgumentParser(add_help=False)
    waiting.add_argument("--wait", action="store_true", help="wait until the work is done")
    waiting.add_argument(
        "--timeout", type=float, default=600.0, help="seconds --wait waits (default 600)"
    )
    node = commands.add_parser("node", help="list, show, power and provision nodes (REST API)")
    sub = node.add_subparsers(dest="node_command", required=True, metavar="COMMAND")

    p = sub.add_parser("list", parents=[api], help="list nodes")
    p.add_argument("--fields", default=",".join(LIST_FIELDS), help="comma-separated columns")
    p.add_argument("--provision-state", help="only nodes in this provision state")
    p.set_defaults(func=list_nodes)

    p = sub.add_parser("show", parents=[api], help="show one node")
    p.add_argument("node", help="UUID or name")
    p.add_argument("--fields", help="comma-separated fields (default: all)")
    p.set_defaults(func=show_node)

    p = sub.add_parser("power", parents=[api, waiting], help="change a node's power state")
    p.add_argument("node", help="UUID or name")
    p.add_argument("target", choices=sorted(POWER_TARGETS))
    p.set_defaults(func=power)

    p = sub.add_parser("provision", parents=[api, waiting], help="run a provisioning verb")
    p.add_argument("node", help="UUID or name")
    p.add_argument("verb", choices=PROVISION_VERBS)
    p.add_argument("--config-drive", help="for deploy/active/rebuild")
    p.add_argument("--clean-steps", help='for clean: JSON, e.g. [{"interface": ..., "step": ...}]')
    p.add_argument("--rescue-password", help="for rescue")
    p.set_defaults(func=provision)


def _client(args: argparse.Namespace) -> Client:
    return Client.from_args(args.url, args.user, args.password)


def _split(fields: str) -> list[str]:
    return [name.strip() for name in fields.split(",") if name.strip()]


def list_nodes(args: argparse.Namespace) -> int:
    client = _client(args)
    fields = _split(args.fields) or list(LIST_FIELDS)
    query = {"fields": ",".join(fields)}
    if args.provision_state:
        query["provision_state"] = args.provision_state
    page = client.get("/v1/nodes?" + urlencode(query))
    nodes = list(page["nodes"])
    while page.get("next"):
        page = client.follow(page["next"])
        nodes.extend(page["nodes"])
    print(table(fields, ([node.get(name) for name in fields] for node in nodes)))
    return 0


def show_node(args: argparse.Namespace) -> int:
    client = _client(args)
    query = "?" + urlencode({"fields": ",".join(_split(args.fields))}) if args.fields else ""
    node = client.get(node_path(args.node) + query)
    print(fields_table({k: v for k, v in node.items() if k not in _LINK_FIELDS}))
    return 0


def wait_for_node(
    client: Client,
    ident: str,
    timeout: float,
    settled: Callable[[dict[str, Any]], bool],
    describe: Callable[[dict[str, Any]], str],
) -> dict[str, Any]:
    """Poll the node's states until ``settled(states)``; progress shows ``describe(states)``."""
    progress = Progress()
    while True:
        current: dict[str, Any] = client.get(node_path(ident, "states"))
        if settled(current):
            progress.done(f"{ident}: {describe(current)}")
            return current
        if progress.elapsed > timeout:
            progress.done(f"{ident}: {describe(current)}")
            raise CommandFailed(f"{ident}: still not done after {timeout:g}s")
        progress.update(f"{ident}: {describe(current)}")
        time.sleep(POLL_INTERVAL)


def _power_text(current: dict[str, Any]) -> str:
    target = current["target_power_state"]
    return cell(current["power_state"]) + (f" -> {target}" if target else "")


def power(args: argparse.Namespace) -> int:
    client = _client(args)
    target = POWER_TARGETS[args.target]
    client.put(node_path(args.node, "states", "power"), {"target": target})
    if not args.wait:
        print(f"{args.node}: {target} requested")
        return 0
    final = wait_for_node(
        client,
        args.node,
        args.timeout,
        lambda s: s["target_power_state"] is None,
        _power_text,
    )
    if final["last_error"]:
        raise CommandFailed(f"{args.node}: {final['last_error']}")
    return 0


def _provision_text(current: dict[str, Any]) -> str:
    target = current["target_provision_state"]
    return cell(current["provision_state"]) + (f" -> {target}" if target else "")


def _provision_body(args: argparse.Namespace) -> dict[str, Any]:
    body: dict[str, Any] = {"target": args.verb}
    if args.config_drive is not None:
        body["configdrive"] = args.config_drive
    if args.clean_steps is not None:
        try:
            body["clean_steps"] = json.loads(args.clean_steps)
        except ValueError as exc:
            raise CommandFailed(f"--clean-steps is not valid JSON: {exc}") from None
    if args.rescue_password is not None:
        body["rescue_password"] = args.rescue_password
    return body


def provision(args: argparse.Namespace) -> int:
    client = _client(args)
    client.put(node_path(args.node, "states", "provision"), _provision_body(args))
    if not args.wait:
        print(f"{args.node}: {args.verb} requested")
        return 0
    final = wait_for_node(
        client,
        args.node,
        args.timeout,
        lambda s: s["provision_state"] not in states.TRANSIENT_STATES,
        _provision_text,
    )
    if final["last_error"]:
        raise CommandFailed(f"{args.node}: {final['provision_state']}: {final['last_error']}")
    if final["provision_state"] in states.WAIT_STATES:
        print(f"{args.node}: waiting for an outside callback in {final['provision_state']!r}")
    return 0
