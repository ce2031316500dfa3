"""The code's boundaries, read from the source (AST; nothing is imported): the recompute pipeline is
entered through its package only, the pure modules import no Django, and views build no frames.

- Outside ``valuestreams/recompute/`` (the apps, ``config/`` and ``bench/``), code imports the
  package ``valuestreams.recompute`` and what its ``__init__`` exports, never one of its stages
  (``jobs``, ``plan``, ``read``, ``rows``, ``dora``, ``carry``, ``publish``, ``live``). The tests
  may: they test the stages one by one.
- The pure modules — every app's ``metrics`` and ``charts`` (module or package), the signal
  ``detectors``, ``valuestreams/recompute/rows.py``, ``dora.py`` and ``carry.py``,
  ``portfolio/charting.py``, ``portfolio/money.py`` and ``formatting.py``, and the pure helpers
  named for what they do (``leanpmo/plan_fields.py``, ``guardrails.py``, ``plan_text.py``,
  ``evidence.py``, ``teams/plausibility.py``) — import neither Django nor a Django-bound library, and of the project's
  own modules only other pure ones (importing a module runs it, so a pure module importing
  ``valuestreams.models`` would import Django all the same).
- No view (HTML or API) imports pandas, numpy or plotly: frames and figures are made by
  selectors, metrics, charts and panels.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
OUTSIDE = ["config", "portfolio", "valuestreams", "teams", "leanpmo", "bench", "manage.py"]
PACKAGE = "valuestreams.recompute"
STAGES = sorted(
    p.stem for p in (ROOT / "valuestreams" / "recompute").glob("*.py") if p.stem != "__init__"
)
APPS = ("portfolio", "valuestreams", "teams", "leanpmo")


def _app_modules(*names: str) -> list[Path]:
    """Every app's module or package called one of ``names`` (``metrics`` finds ``teams/metrics.py``
    and everything in ``valuestreams/metrics/``)."""
    found: list[Path] = []
    for app in APPS:
        for name in names:
            found += [p for p in [ROOT / app / f"{name}.py"] if p.is_file()]
            found += sorted((ROOT / app / name).rglob("*.py"))
    return found


# Arithmetic on frames, figures and findings: DataFrame or plain data in, plain data out
PURE = sorted(
    {
        ROOT / "valuestreams" / "recompute" / "rows.py",
        ROOT / "valuestreams" / "recompute" / "dora.py",
        ROOT / "valuestreams" / "recompute" / "carry.py",
        *_app_modules("metrics", "charts", "detectors"),
        ROOT / "portfolio" / "charting.py",
        ROOT / "portfolio" / "money.py",
        ROOT / "portfolio" / "formatting.py",
        # pure helpers named for what they do
        *(ROOT / "leanpmo" / f"{name}.py" for name in ("plan_fields", "guardrails", "plan_text")),
        ROOT / "leanpmo" / "evidence.py",
        ROOT / "teams" / "plausibility.py",
    }
)
# HTML and API views: they call a selector, a service or a panel and render; frames and figures
# are made elsewhere
VIEWS = [p for p in _app_modules("views", "api/views") if "migrations" not in p.parts]
FRAME_LIBRARIES = ("pandas", "numpy", "plotly")
PROJECT = ("config", "portfolio", "valuestreams", "teams", "leanpmo", "tests", "bench")
DJANGO_BOUND = ("django", "rest_framework", "django_filters", "drf_spectacular", "celery")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(source: str, package: str) -> Iterator[tuple[int, str]]:
    """(line, module) of every import in ``source`` (a module of ``package``), at any depth (an
    import inside a function counts); ``from a import b`` yields ``a.b`` as well as ``a``, since
    ``b`` may be a module."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            yield node.lineno, base
            for alias in node.names:
                yield node.lineno, f"{base}.{alias.name}"


def python_files(names: list[str]) -> Iterator[Path]:
    for name in names:
        path = ROOT / name
        yield from [path] if path.is_file() else sorted(path.rglob("*.py"))


def package_of(path: Path) -> str:
    return module_name(path) if path.name == "__init__.py" else module_name(path.parent / "x")


def stage_imports(source: str, package: str) -> list[str]:
    """The pipeline's stages ``source`` (a module of ``package`` outside the pipeline) imports,
    as "line: stage" (once per line)."""
    return sorted(
        {
            f"{line}: {PACKAGE}.{name.split('.')[2]}"
            for line, name in imported(source, package)
            if name.startswith(f"{PACKAGE}.") and name.split(".")[2] in STAGES
        }
    )


def _runs_clean(package: str) -> bool:
    """Importing anything inside ``package`` runs its ``__init__``: is that pure (or empty)?"""
    init = ROOT.joinpath(*package.split("."), "__init__.py")
    return init in PURE or (init.is_file() and not init.read_text().strip())


def impure_imports(source: str, package: str) -> list[str]:
    """The imports of ``source`` (a pure module of ``package``) that bring in Django or a module
    that is not pure, as "line: module". A project module must be pure and so must every package
    on its way (importing ``a.b.c`` runs ``a`` and ``a.b`` first), except the importing module's
    own packages, which are running already."""
    pure_modules = {module_name(p) for p in PURE}
    found = []
    for line, name in imported(source, package):
        parts = name.split(".")
        if parts[0] in DJANGO_BOUND:
            found.append(f"{line}: {name}")
            continue
        if parts[0] not in PROJECT:
            continue
        # the name is a pure module, a package of them, or a name defined in one
        pure = any(
            name == module or module.startswith(f"{name}.") or name.startswith(f"{module}.")
            for module in pure_modules
        )
        on_the_way = [
            ".".join(parts[:n])
            for n in range(1, len(parts))
            if ROOT.joinpath(*parts[:n]).is_dir()  # packages, not the module a name is in
        ]
        clean = all(
            _runs_clean(p) or package == p or package.startswith(f"{p}.") for p in on_the_way
        )
        if not (pure and clean):
            found.append(f"{line}: {name}")
    return found


def test_the_pipeline_stages_are_named_as_the_issue_lays_them_out():
    assert {"jobs", "plan", "read", "rows", "dora", "carry", "publish"} <= set(STAGES)


def test_nothing_outside_the_recompute_package_imports_its_stages():
    outside = [
        path
        for path in python_files(OUTSIDE)
        if not path.is_relative_to(ROOT / "valuestreams" / "recompute")
        and "migrations" not in path.parts
    ]
    assert len(outside) > 100  # the walk found the code
    found = {
        str(path.relative_to(ROOT)): stage_imports(path.read_text(), package_of(path))
        for path in outside
    }
    assert {path: stages for path, stages in found.items() if stages} == {}


@pytest.mark.parametrize("path", PURE, ids=lambda p: str(p.relative_to(ROOT)))
def test_a_pure_module_imports_no_django(path: Path):
    assert impure_imports(path.read_text(), package_of(path)) == []


def test_the_pure_modules_of_every_app_are_checked():
    names = {str(p.relative_to(ROOT)) for p in PURE}
    assert {"teams/metrics.py", "portfolio/charting.py"} <= names
    assert any(name.startswith("leanpmo/detectors/") for name in names)
    assert any(name.startswith("valuestreams/metrics/") for name in names)


def frame_imports(source: str, package: str) -> list[str]:
    """The imports of pandas, numpy or plotly in ``source``, as "line: module"."""
    return sorted(
        {
            f"{line}: {name}"
            for line, name in imported(source, package)
            if name.split(".")[0] in FRAME_LIBRARIES
        }
    )


@pytest.mark.parametrize("path", VIEWS, ids=lambda p: str(p.relative_to(ROOT)))
def test_a_view_builds_no_frame_and_no_figure(path: Path):
    assert frame_imports(path.read_text(), package_of(path)) == []


def test_the_checks_catch_what_they_forbid():
    """Each check flags the import it exists for (a check that could not fail would not)."""
    views, metrics = "valuestreams.views", "valuestreams.metrics"
    inside = "def f():\n    from valuestreams.recompute.rows import FLOW_FIELDS\n"
    assert stage_imports(inside, views) == [f"2: {PACKAGE}.rows"]
    both = "from valuestreams.recompute import rows, recompute_request\n"
    assert stage_imports(both, views) == [f"1: {PACKAGE}.rows"]  # an entry point is not a stage
    assert stage_imports("from valuestreams.recompute import recompute_request\n", views) == []
    for text in (
        "import django\n",
        "from django.db import connection\n",
        "def f():\n    from rest_framework import serializers\n",
        "from valuestreams.models import WorkItem\n",
        "from valuestreams.recompute import read\n",
        "from ..recompute import publish\n",
    ):
        assert impure_imports(text, metrics), text
    # the recompute package's __init__ imports Django: a metric importing a pure stage runs it
    assert impure_imports("from valuestreams.recompute.rows import NO_SCOPE\n", metrics)
    assert impure_imports("from valuestreams.recompute.rows import NO_SCOPE\n", PACKAGE) == []
    pure = (
        "import numpy as np\nfrom .flow_facts import NAT\nfrom valuestreams.metrics import dora\n"
    )
    assert impure_imports(pure, metrics) == []
    assert frame_imports("def f():\n    import pandas as pd\n", views) == ["2: pandas"]
    assert frame_imports("from plotly import graph_objects as go\n", views)
    assert frame_imports("from portfolio.downloads import table_response\n", views) == []
