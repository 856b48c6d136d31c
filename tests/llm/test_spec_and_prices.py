"""Backend specs and the price table: good ones parse, bad ones are one line naming the value."""

from __future__ import annotations

import pytest

from nextedit.errors import NexteditError
from nextedit.llm import BackendSpec, LLMClient, PriceTable, parse_backend


@pytest.mark.parametrize(
    ("spec", "parsed"),
    [
        ("anthropic:claude-sonnet-4-5", BackendSpec("anthropic", "claude-sonnet-4-5")),
        ("openai:gpt-5", BackendSpec("openai", "gpt-5")),
        (
            "openai-compatible:http://127.0.0.1:8000/v1/#qwen2.5-coder:7b",
            BackendSpec("openai-compatible", "qwen2.5-coder:7b", "http://127.0.0.1:8000/v1"),
        ),
    ],
)
def test_specs_parse(spec, parsed):
    assert parse_backend(spec) == parsed
    assert parse_backend(str(parsed)) == parsed


@pytest.mark.parametrize(
    "spec",
    [
        "claude",
        "anthropic:",
        "gemini:pro",
        "openai-compatible:http://h/v1",
        "openai-compatible:h/v1#m",
        "openai:http://127.0.0.1/v1#m",
    ],
)
def test_bad_specs_are_one_line(spec):
    with pytest.raises(NexteditError) as info:
        parse_backend(spec)
    assert repr(spec) in str(info.value) and "\n" not in str(info.value)


def test_shipped_prices_and_override(tmp_path, monkeypatch):
    shipped = PriceTable.load()
    assert shipped.cost("claude-sonnet-4-5", 1_000_000, 1_000_000) == pytest.approx(18.0)
    assert shipped.cost("claude-sonnet-4-5", 1_000_000, 0, batched=True) == pytest.approx(1.5)
    assert shipped.cost("no-such-model", 10, 10) is None
    assert shipped.cost("no-such-model", 10, 10, local=True) == 0.0
    override = tmp_path / "prices.toml"
    override.write_text('batch_discount = 0.25\n[models."my-model"]\ninput = 2\noutput = 4\n')
    monkeypatch.setenv("NEXTEDIT_LLM_PRICES", str(override))
    table = PriceTable.load()
    assert table.cost("my-model", 500_000, 250_000) == pytest.approx(2.0)
    assert table.cost("claude-sonnet-4-5", 1_000_000, 0) == pytest.approx(3.0)  # still there
    assert table.batch_discount == 0.25


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[models.m]\ninput = 1\n", "models.'m' needs numbers"),
        ("not = [toml", "not valid TOML"),
        ("batch_discount = 2\n", "batch_discount must be"),
    ],
)
def test_bad_price_files_are_one_line(tmp_path, text, message):
    path = tmp_path / "p.toml"
    path.write_text(text)
    with pytest.raises(NexteditError, match=message):
        LLMClient("openai:gpt-5", prices=path)
    with pytest.raises(NexteditError, match="price table not found"):
        PriceTable.load(tmp_path / "missing.toml")
