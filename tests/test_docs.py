from pathlib import Path

from vtex_orders_mcp.docs import update_readme

README = Path(__file__).parent.parent / "README.md"


def test_readme_tool_table_is_generated_from_the_registry():
    text = README.read_text()
    assert update_readme(text) == text, "run: python -m vtex_orders_mcp.docs README.md"


def test_readme_starts_with_the_two_setup_commands():
    blocks = README.read_text().split("```sh\n")[1:3]
    install_run, install_test = (b.split("```")[0].strip() for b in blocks)
    assert "pip install ." in install_run and "vtex-orders-mcp" in install_run
    assert "pip install -e '.[test]'" in install_test and "pytest" in install_test


def test_readme_setup_needs_python3_not_a_binary_named_python3_11():
    text = README.read_text()
    blocks = [b.split("```")[0].strip() for b in text.split("```sh\n")[1:3]]
    assert all(b.startswith("python3 -m venv .venv && ") for b in blocks), blocks
    assert "python3.11" not in text and "Python 3.11 or newer" in text.split("```")[0]


def test_readme_documents_installs_without_pypi_and_full_paths_for_clients():
    text = README.read_text()
    assert "pipx install ./vtex-orders-mcp" in text
    assert "uvx --from git+https://github.com/vtex-orders-mcp/vtex-orders-mcp vtex-orders-mcp" in text
    # Client configurations name the command by its full path: clients do not read the shell's PATH.
    for doc in (text, (README.parent / "docs" / "clients.md").read_text()):
        commands = [line.split('"command": ')[1] for line in doc.splitlines() if '"command": ' in line]
        assert commands and all(c.startswith(('"/', '"npx"', '"uvx"')) for c in commands), commands
    license_text = (README.parent / "LICENSE").read_text()
    assert license_text.startswith("MIT License") and "vtex-orders-mcp contributors" in license_text


def test_ci_runs_the_readme_test_command_verbatim():
    ci = (Path(__file__).parent.parent / ".ci" / "run").read_text()
    assert "test-command" in ci  # .ci/run extracts the command from the README marker
