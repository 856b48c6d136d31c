"""The price table: US dollars per million prompt / completion tokens, per model.

Shipped as ``prices.toml`` beside this module; ``$NEXTEDIT_LLM_PRICES`` or an explicit path names a
TOML file of the same shape whose entries replace the shipped ones. Models served by an
``openai-compatible`` server are free unless the table names them.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from nextedit.errors import NexteditError

SHIPPED = Path(__file__).with_name("prices.toml")
PRICES_VARIABLE = "NEXTEDIT_LLM_PRICES"


@dataclass(frozen=True)
class Price:
    input: float  # USD per 1M prompt tokens
    output: float  # USD per 1M completion tokens


@dataclass(frozen=True)
class PriceTable:
    models: dict[str, Price] = field(default_factory=dict)
    batch_discount: float = 0.5

    def cost(
        self,
        model: str,
        prompt_tokens: int,
        completion_tokens: int,
        *,
        batched: bool = False,
        local: bool = False,
    ) -> float | None:
        """Dollars for one answer, ``None`` when the model has no price (``local``: 0.0 instead)."""
        price = self.models.get(model)
        if price is None:
            return 0.0 if local else None
        usd = (prompt_tokens * price.input + completion_tokens * price.output) / 1_000_000
        return usd * self.batch_discount if batched else usd

    @classmethod
    def load(cls, override: str | Path | None = None) -> PriceTable:
        """The shipped table, with ``override`` (or ``$NEXTEDIT_LLM_PRICES``) merged over it."""
        table = _read(SHIPPED)
        path = override or os.environ.get(PRICES_VARIABLE)
        if path:
            extra = _read(Path(path))
            table = cls({**table.models, **extra.models}, extra.batch_discount)
        return table


def _read(path: Path) -> PriceTable:
    try:
        data = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise NexteditError(f"{path}: price table not found") from None
    except tomllib.TOMLDecodeError as e:
        raise NexteditError(f"{path}: not valid TOML ({e})") from None
    models = {}
    for name, entry in (data.get("models") or {}).items():
        try:
            models[name] = Price(float(entry["input"]), float(entry["output"]))
        except (KeyError, TypeError, ValueError):
            raise NexteditError(
                f"{path}: models.{name!r} needs numbers 'input' and 'output' (USD per 1M tokens)"
            ) from None
    discount = data.get("batch_discount", 0.5)
    if not isinstance(discount, int | float) or not 0 <= discount <= 1:
        raise NexteditError(f"{path}: batch_discount must be a number in [0, 1]")
    return PriceTable(models, float(discount))
