import pytest

from vtex_orders_mcp.config import ENV_VARS, Settings
from vtex_orders_mcp.errors import ConfigError


def test_no_credentials_means_sandbox(tmp_path):
    s = Settings.from_env({}, state_dir=tmp_path)
    assert s.uses_sandbox


def test_full_credentials(tmp_path):
    s = Settings.from_env(
        {"VTEX_ACCOUNT_NAME": "acme", "VTEX_APP_KEY": "k", "VTEX_APP_TOKEN": "t"}, state_dir=tmp_path
    )
    assert not s.uses_sandbox
    assert s.vtex_base_url == "https://acme.vtexcommercestable.com.br"


@pytest.mark.parametrize(
    ("env", "missing"),
    [
        ({"VTEX_ACCOUNT_NAME": "acme", "VTEX_APP_KEY": "k"}, "VTEX_APP_TOKEN"),
        ({"VTEX_ACCOUNT_NAME": "acme", "VTEX_APP_TOKEN": "t"}, "VTEX_APP_KEY"),
        ({"VTEX_APP_KEY": "k", "VTEX_APP_TOKEN": "t"}, "VTEX_ACCOUNT_NAME"),
        ({"VTEX_AUTH_COOKIE": "c"}, "VTEX_ACCOUNT_NAME"),
        ({"VTEX_ACCOUNT_NAME": "acme"}, "VTEX_APP_KEY"),
    ],
)
def test_half_configured_credentials_name_the_missing_variable(env, missing, tmp_path):
    with pytest.raises(ConfigError, match=missing):
        Settings.from_env(env, state_dir=tmp_path)


def test_cookie_auth_is_enough(tmp_path):
    s = Settings.from_env({"VTEX_ACCOUNT_NAME": "acme", "VTEX_AUTH_COOKIE": "c"}, state_dir=tmp_path)
    assert not s.uses_sandbox


def test_secrets_are_masked_in_repr(tmp_path):
    s = Settings.from_env(
        {"VTEX_ACCOUNT_NAME": "acme", "VTEX_APP_KEY": "KEY-SECRET-1", "VTEX_APP_TOKEN": "TOKEN-SECRET-2"},
        state_dir=tmp_path,
    )
    assert "KEY-SECRET-1" not in repr(s) and "TOKEN-SECRET-2" not in str(s)
    assert set(s.secret_values()) >= {"KEY-SECRET-1", "TOKEN-SECRET-2"}


def test_flags_override_environment(tmp_path):
    s = Settings.from_env({"VTEX_MCP_GUARD": "elicit-only"}, guard="off", state_dir=tmp_path)
    assert s.guard == "off"
    with pytest.raises(ValueError):
        Settings.from_env({"VTEX_MCP_GUARD": "maybe"}, state_dir=tmp_path)


def test_readme_documents_every_variable():
    from pathlib import Path

    readme = (Path(__file__).parent.parent / "README.md").read_text()
    for var in ENV_VARS:
        assert f"`{var}`" in readme, var


@pytest.mark.parametrize("names", ["cancel_ordr", "get_order,add_order_interaction"])
def test_guard_relax_names_only_write_tools(tmp_path, names):
    with pytest.raises(ConfigError, match="is not a write tool; write tools: start_handling, cancel_order"):
        Settings.from_env({"VTEX_MCP_GUARD_RELAX": names}, state_dir=tmp_path)
    ok = Settings.from_env({"VTEX_MCP_GUARD_RELAX": "add_order_interaction"}, state_dir=tmp_path)
    assert ok.guard_relax == {"add_order_interaction"}
