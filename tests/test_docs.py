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


def test_ci_runs_the_readme_test_command_verbatim():
    ci = (Path(__file__).parent.parent / ".ci" / "run").read_text()
    assert "test-command" in ci  # .ci/run extracts the command from the README marker
