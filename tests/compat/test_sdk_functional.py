"""openstacksdk's own functional baremetal tests (shipped in its wheel) against Ironworks.

They run as openstacksdk's tox ``functional`` environment runs them (serially, with
``OS_TEST_TIMEOUT=600``) against a started Ironworks with ``noauth`` and a fresh database
(they leave nodes behind: ``node1``...), with the fake hardware type. The tests that need a
microversion above Ironworks' maximum skip themselves.

Every test must pass except those listed in ``sdk_functional_gaps.txt``, each with the
reason; the list is strict both ways: a new failure fails this test, and so does a listed
test that now passes (take it off the list).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import pytest
import requests

from tests.services import (
    Process,
    celery_argv,
    free_port,
    start_api_process,
    start_conductor,
    wait_for,
)

GAPS = Path(__file__).with_name("sdk_functional_gaps.txt")
CLOUDS = """\
clouds:
  ironworks: &ironworks
    auth_type: none
    auth:
      endpoint: {url}
    baremetal_endpoint_override: {url}
    has_compute: false
    has_image: false
  devstack-admin: *ironworks
  devstack: *ironworks
  devstack-alt: *ironworks
  devstack-system-admin: *ironworks
"""


def _known_gaps() -> dict[str, str]:
    gaps = {}
    for line in GAPS.read_text().splitlines():
        name, _, why = line.partition("#")
        if name.strip():
            gaps[name.strip()] = why.strip()
    return gaps


def _outcomes(report: Path) -> dict[str, str]:
    """``{Class.test: passed | failed | skipped}`` from a JUnit XML report."""
    found = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        name = f"{case.get('classname', '').rsplit('.', 1)[-1]}.{case.get('name')}"
        if case.find("failure") is not None or case.find("error") is not None:
            found[name] = "failed"
        elif case.find("skipped") is not None:
            found[name] = "skipped"
        else:
            found[name] = "passed"
    return found


def _start(base: Path, logdir: Path, run_id: str) -> tuple[str, list[Process]]:
    env = {
        "IRONWORKS_DATABASE_URL": f"sqlite:///{base / 'sdk.sqlite'}",
        "IRONWORKS_STATE_DIR": str(base),
        "IRONWORKS_AUTH_STRATEGY": "noauth",
        "IRONWORKS_CONDUCTOR_GROUP": "",
    }
    port = free_port()
    api = start_api_process(port, logdir, env)
    url = f"http://127.0.0.1:{port}"
    wait_for(lambda: _answers(url), 60, "the API for the SDK suite")
    beat_argv = celery_argv("beat", "--loglevel", "INFO", "--schedule", str(base / "beat"))
    beat = Process("sdk-beat", beat_argv, logdir, {**os.environ, **env})
    conductor = start_conductor(f"sdk-{run_id}@test", logdir, env)
    wait_for(lambda: _conductor_alive(url), 60, "the SDK suite's conductor")
    return url, [api, beat, conductor]


def _answers(url: str) -> bool:
    try:
        return requests.get(url + "/", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def _conductor_alive(url: str) -> bool:
    headers = {"X-OpenStack-Ironic-API-Version": "latest"}
    rows = requests.get(f"{url}/v1/conductors", headers=headers, timeout=5).json()
    return any(row["alive"] for row in rows["conductors"])


def _run_suite(url: str, base: Path) -> dict[str, str]:
    (base / "clouds.yaml").write_text(CLOUDS.format(url=url))
    (base / "pytest.ini").write_text("[pytest]\n")
    report = base / "sdk.xml"
    argv = [
        sys.executable,
        "-m",
        "pytest",
        "-c",
        str(base / "pytest.ini"),
        "-p",
        "no:cacheprovider",
    ]
    argv += ["-p", "no:celery", "-q", "--junitxml", str(report)]
    argv += ["--pyargs", "openstack.tests.functional.baremetal"]
    env = {**os.environ, "OS_CLIENT_CONFIG_FILE": str(base / "clouds.yaml")}
    env.update(OS_TEST_TIMEOUT="600", OS_CLOUD="devstack-admin")
    log = base / "sdk-suite.log"
    with log.open("wb") as out:
        subprocess.run(argv, cwd=base, env=env, stdout=out, stderr=out, timeout=1500, check=False)
    assert report.exists(), log.read_text(errors="replace")[-3000:]
    return _outcomes(report)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_openstacksdk_functional_baremetal_suite(logdir: Path, run_id: str) -> None:
    base = Path(tempfile.mkdtemp(prefix="ironworks-sdk-"))
    url, processes = _start(base, logdir, run_id)
    try:
        outcomes = _run_suite(url, base)
    finally:
        for process in processes:
            process.stop()
    counts = Counter(outcomes.values())
    print(
        f"\nopenstacksdk functional baremetal: {counts['passed']} passed, "
        f"{counts['failed']} failed, {counts['skipped']} skipped (of {len(outcomes)})"
    )
    assert len(outcomes) > 90, "the SDK suite did not run: see sdk-suite.log in " + str(base)
    failed = {name for name, outcome in outcomes.items() if outcome == "failed"}
    gaps = _known_gaps()
    assert failed <= set(gaps), f"new failures: {sorted(failed - set(gaps))} (log: {base})"
    fixed = set(gaps) - failed
    assert not fixed, f"these pass now; take them off {GAPS.name}: {sorted(fixed)}"
