"""Config parsing: defaults, validation messages, TOML/YAML files."""

from __future__ import annotations

import pytest

from nextedit.server.config import ConfigError, default_config, load_config, parse_config


def test_defaults_and_implicit_experiments() -> None:
    cfg = parse_config(
        {"models": {"a": {"provider": "heuristic"}, "b": {"provider": "none", "version": "b-2"}}}
    )
    assert [e.name for e in cfg.experiments] == ["a", "b"] and cfg.models["b"].model_version == "b-2"
    assert cfg.deadline_ms > 0 and cfg.store.startswith("sqlite:///")


@pytest.mark.parametrize(
    "data,needle",
    [
        ({}, "at least one [models.NAME]"),
        ({"models": {"a": {"providr": "x"}}}, "unknown keys ['providr']"),
        ({"models": {"a": {"workers": 0}}}, "models.a.workers"),
        ({"models": {"a": {}}, "experiments": [{"name": "e", "model": "zzz"}]}, "unknown model 'zzz'"),
        ({"models": {"a": {}}, "experiments": [{"name": "e"}]}, "needs `name` and `model`"),
        ({"models": {"a": {}}, "experiments": [{"name": "e", "model": "a", "weight": -1}]}, "weight"),
        ({"models": {"a": {}}, "experiments": [{"name": "e", "model": "a", "weight": 0}]}, "sum to 0"),
        ({"models": {"a": {}}, "server": {"deadline_ms": "soon"}}, "server.deadline_ms"),
        ({"models": {"a": {"first": "heurstic"}}}, "models.a.first: first provider 'heurstic'"),
        ({"models": {"a": {"first": "local:m"}}}, "models.a.first"),
        ({"models": {"a": {"first": 1}}}, "models.a.first"),
    ],
)
def test_validation_messages(data, needle) -> None:  # noqa: ANN001
    with pytest.raises(ConfigError) as e:
        parse_config(data)
    assert needle in str(e.value)


def test_files(tmp_path, monkeypatch) -> None:  # noqa: ANN001
    p = tmp_path / "c.toml"
    p.write_text('[server]\nauth_tokens = ["t1"]\n[models.m]\nprovider = "heuristic"\n')
    monkeypatch.setenv("NEXTEDIT_API_KEYS", "t2, t3")
    cfg = load_config(p)
    assert cfg.auth_tokens == ("t1", "t2", "t3") and cfg.path == p.resolve()
    y = tmp_path / "c.yaml"
    y.write_text("models:\n  m:\n    provider: heuristic\nexperiments:\n  - {name: x, model: m, weight: 2}\n")
    pytest.importorskip("yaml")
    assert load_config(y).experiments[0].weight == 2.0
    bad = tmp_path / "bad.toml"
    bad.write_text("[models.m\n")
    with pytest.raises(ConfigError, match="cannot parse"):
        load_config(bad)
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "missing.toml")


def test_default_config_without_shipped_model(monkeypatch, tmp_path) -> None:  # noqa: ANN001
    import nextedit.server.config as c

    monkeypatch.setattr(c, "SHIPPED_MODEL", tmp_path / "absent")
    cfg = default_config()
    (spec,) = cfg.models.values()
    assert spec.provider == "heuristic"
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "config.json").write_text("{}")
    monkeypatch.setattr(c, "SHIPPED_MODEL", tmp_path / "m")
    (spec,) = default_config().models.values()
    assert spec.provider == f"hybrid:{tmp_path / 'm'}" and spec.fallback == "heuristic"
