"""What `pip install .` ships: every package, the prompts (mapped from prompts/, no symlink) and
the data files. The wheel is built from a copy of the sources, so a stale build/ folder in the
checkout cannot hide a missing file."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_pyproject_lists_every_package():
    setuptools = PYPROJECT["tool"]["setuptools"]
    found = {
        ".".join(init.parent.relative_to(ROOT / "server").parts)
        for init in (ROOT / "server").rglob("__init__.py")
        if "__pycache__" not in init.parts
    }
    assert set(setuptools["packages"]) == found | {"vtex_orders_mcp.bundled_prompts"}
    assert setuptools["package-dir"]["vtex_orders_mcp.bundled_prompts"] == "prompts"


@pytest.mark.e2e  # pip builds the wheel in a subprocess
def test_the_wheel_ships_prompts_and_data(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, src / name)
    for name in ("server", "prompts"):
        shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(src), "--no-deps", "-q", "-w", str(tmp_path / "dist")],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    (wheel,) = (tmp_path / "dist").glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    prompts = {f"vtex_orders_mcp/bundled_prompts/{p.name}" for p in (ROOT / "prompts").glob("*.md")}
    assert prompts and prompts <= names
    for path in ("vtex_orders_mcp/py.typed", "vtex_orders_mcp/sandbox/data/example_order.json",
                 "vtex_orders_mcp/evalrunner/scenario.schema.json",
                 "vtex_orders_mcp/agent_evals/tickets.yaml", "vtex_orders_mcp/agent_evals/tickets.schema.json",
                 "vtex_orders_mcp/sandbox/modifications/service.py"):  # fmt: skip
        assert path in names, path
    (entry_points,) = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
    assert "[inspect_ai]" in zipfile.ZipFile(wheel).read(entry_points).decode()  # inspect eval finds the task
    sources = {
        "vtex_orders_mcp/" + str(p.relative_to(ROOT / "server" / "vtex_orders_mcp"))
        for p in (ROOT / "server" / "vtex_orders_mcp").rglob("*.py")
        if "__pycache__" not in p.parts
    }
    assert sources <= names, sorted(sources - names)
    # The MIT license pyproject declares ships as a file, and the metadata says where the project lives.
    assert any(n.endswith("LICENSE") and ".dist-info/" in n for n in names), sorted(names)[-8:]
    (metadata,) = [n for n in names if n.endswith(".dist-info/METADATA")]
    text = zipfile.ZipFile(wheel).read(metadata).decode()
    assert "Project-URL: Repository, https://github.com/vtex-orders-mcp/vtex-orders-mcp" in text
    assert "MIT" in text


def test_the_reported_version_is_the_installed_one():
    """serverInfo and --version read the package's __version__ (no importlib.metadata at start-up);
    the installed metadata comes from the same attribute."""
    from importlib.metadata import version

    import vtex_orders_mcp

    assert version("vtex-orders-mcp") == vtex_orders_mcp.__version__
