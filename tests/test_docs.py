"""The documentation matches the code: the configuration reference is what the settings
generate, every variable the code reads is documented, every variable the docs name exists,
and every relative link leads to a file."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app import config_reference

ROOT = Path(__file__).resolve().parents[1]
DOCS = sorted((ROOT / "docs").glob("*.md"))
PAGES = [ROOT / "README.md", ROOT / "bench" / "README.md", *DOCS]
#: Where variables are read: the packages, the Celery config, the process files.
CODE = [
    *(ROOT / "app").rglob("*.py"),
    *(ROOT / "workers").rglob("*.py"),
    *(ROOT / "drivers").rglob("*.py"),
    *(ROOT / "bench").rglob("*.py"),
    ROOT / "celeryconfig.py",
    ROOT / "Procfile",
    ROOT / "dev",
    ROOT / "tests" / "conftest.py",
]
# A whole name: a partial one ends in "_" (``IRONWORKS_FAKE_{OP}_DELAY`` in prose, f-strings).
VARIABLE = re.compile(r"\b(?:IRONWORKS|PROMETHEUS)_[A-Z0-9_]*[A-Z0-9](?![A-Z0-9_{])")
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def _variables(paths: list[Path]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in paths:
        for name in VARIABLE.findall(path.read_text()):
            found.setdefault(name, set()).add(str(path.relative_to(ROOT)))
    return found


def test_configuration_reference_is_generated_from_the_settings() -> None:
    on_disk = (ROOT / "docs" / "configuration.md").read_text()
    assert on_disk == config_reference.render(), (
        "docs/configuration.md is stale: python -m app.config_reference > docs/configuration.md"
    )


def test_every_variable_the_code_reads_is_documented() -> None:
    undocumented = {
        name: sorted(where)
        for name, where in _variables(CODE).items()
        if name not in config_reference.all_variables()
    }
    assert undocumented == {}


def test_every_variable_the_docs_name_exists() -> None:
    unknown = {
        name: sorted(where)
        for name, where in _variables(PAGES).items()
        if name not in config_reference.all_variables()
    }
    assert unknown == {}


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_lead_to_files(page: Path) -> None:
    broken = [
        target
        for target in LINK.findall(page.read_text())
        if "://" not in target
        and not target.startswith("mailto:")
        and not (page.parent / target).exists()
    ]
    assert broken == []


def test_every_page_is_reachable_from_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    assert [p.name for p in DOCS if f"docs/{p.name}" not in readme] == []


def _operation(method: str, path: str) -> tuple[str, str]:
    """``(METHOD, /v1/path)`` with every path parameter as ``{}`` (Ironic's and ours)."""
    path = path.split("?")[0].rstrip("/") or "/"
    return method, re.sub(r"\{[^}]*\}(@\{[^}]*\})?|<[^>]*>", "{}", path)


def test_the_endpoint_table_matches_the_served_api() -> None:
    from app.api import create_app

    spec = create_app(migrate_db=False).test_client().get("/v1/swagger.json").get_json()
    served = {
        _operation(method.upper(), "/v1" + path)
        for path, operations in spec["paths"].items()
        for method in operations
        if method in ("get", "put", "post", "patch", "delete")
    } - {("GET", "/v1/nodes/{}/sensors")}  # Ironworks' own, named below the table
    served |= {("GET", "/"), ("GET", "/v1")}  # the version documents, outside the OpenAPI one
    rows = re.findall(
        r"^\| [^|]+ \| ([A-Z]+) \| `([^`]+)` \| (yes|no) \|",
        (ROOT / "docs/endpoints.md").read_text(),
        re.M,
    )
    marked = {_operation(m, p) for m, p, answer in rows if answer == "yes"}
    assert served - marked == set(), "served but not marked served in docs/endpoints.md"
    assert marked - served == set(), "marked served in docs/endpoints.md but not served"
    count = re.search(r"\*\*(\d+) of (\d+) served\.\*\*", (ROOT / "docs/endpoints.md").read_text())
    assert count is not None
    assert (int(count.group(1)), int(count.group(2))) == (len(marked), len(rows))
