import pytest

from vtex_orders_mcp.config import ENV_VARS, Settings
from vtex_orders_mcp.errors import ConfigError


def test_no_credentials_means_sandbox(tmp_path):
    s = Settings.from_env({}, state_dir=tmp_path)
    assert s.uses_sandbox


def test_full_credentials(tmp_path):
    s = Settings.from_env({"VTEX_ACCOUNT_NAME": "acme", "VTEX_APP_KEY": "k", "VTEX_APP_TOKEN": "t"}, state_dir=tmp_path)
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
    with pytest.raises(ConfigError, match="VTEX_MCP_GUARD"):
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


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1", True), ("true", True), ("TRUE ", True), (" Yes", True), ("on", True),
     ("0", False), ("false", False), ("No", False), ("OFF", False)],
)  # fmt: skip
def test_read_only_reads_true_and_false_words(tmp_path, raw, expected):
    assert Settings.from_env({"VTEX_MCP_READ_ONLY": raw}, state_dir=tmp_path).read_only is expected


@pytest.mark.parametrize("raw", ["y", "enabled", "read-only", "ture", "2"])
def test_read_only_typo_fails_closed(tmp_path, raw):
    """A word that is not a known true/false word must not quietly leave the write tools listed."""
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({"VTEX_MCP_READ_ONLY": raw}, state_dir=tmp_path)
    message = str(caught.value)
    assert message.startswith(f"VTEX_MCP_READ_ONLY={raw!r}")
    assert "1, true, yes, on" in message and "0, false, no, off" in message


@pytest.mark.parametrize(
    ("var", "raw", "expected"),
    [
        ("VTEX_MCP_GUARD", "elicit_only", "VTEX_MCP_GUARD='elicit_only': not an allowed value; "
                                          "allowed: auto, elicit-only, token, off."),
        ("VTEX_TIMEOUT", "10s", "VTEX_TIMEOUT='10s': should be a valid number, unable to parse string as a "
                                "number; allowed: a number greater than 0 (seconds)."),
        ("VTEX_MAX_CONCURRENCY", "0", "VTEX_MAX_CONCURRENCY='0': should be greater than or equal to 1; "
                                      "allowed: a whole number from 1 to 64."),
        ("VTEX_SANDBOX_ORDERS", "lots", "VTEX_SANDBOX_ORDERS='lots': should be a valid integer"),
    ],
)  # fmt: skip
def test_bad_values_name_the_variable_and_what_is_allowed(tmp_path, var, raw, expected):
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({var: raw}, state_dir=tmp_path)
    assert str(caught.value).startswith(expected), str(caught.value)


def test_bad_override_names_the_flag_and_every_problem(tmp_path):
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({"VTEX_MCP_GUARD": "auto", "VTEX_MAX_RETRIES": "11"}, guard="ask", state_dir=tmp_path)
    message = str(caught.value)
    assert "--guard='ask': not an allowed value" in message and "VTEX_MCP_GUARD" not in message
    assert "VTEX_MAX_RETRIES='11': should be less than or equal to 10; allowed: a whole number from 0 to 10." in message


def test_config_errors_never_echo_a_secret(tmp_path):
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({}, http_token=987654321, state_dir=tmp_path)
    assert "--http-token" in str(caught.value) and "987654321" not in str(caught.value)


def test_cli_reports_a_bad_value_as_a_configuration_error(tmp_path, monkeypatch, capsys):
    from vtex_orders_mcp.cli import main

    for var in ENV_VARS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("VTEX_MCP_STATE_DIR", str(tmp_path))
    monkeypatch.setenv("VTEX_TIMEOUT", "10s")
    assert main(["serve"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("vtex-orders-mcp: configuration error: VTEX_TIMEOUT='10s'"), err
    assert "Traceback" not in err


def test_a_short_secret_is_refused_without_echoing_it(tmp_path):
    with pytest.raises(ConfigError, match="VTEX_MCP_SECRET is too short") as caught:
        Settings.from_env({"VTEX_MCP_SECRET": "hunter2"}, state_dir=tmp_path)
    assert "hunter2" not in str(caught.value)
    assert Settings.from_env({"VTEX_MCP_SECRET": "x" * 16}, state_dir=tmp_path).secret is not None


@pytest.mark.parametrize("var", ["VTEX_MCP_TOKEN_TTL", "VTEX_TIMEOUT"])
def test_durations_must_be_finite(tmp_path, var):
    with pytest.raises(ConfigError, match=var):
        Settings.from_env({var: "inf"}, state_dir=tmp_path)
