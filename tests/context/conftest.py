"""Fixtures: a small multi-file Python project and a real git repository built by the test."""

import subprocess
from pathlib import Path

import pytest

MODELS = '''"""Models."""


class Item:
    """An item in stock."""

    def __init__(self, name: str, count: int = 0):
        self.name = name
        self.count = count

    def restock(self, qty: int) -> None:
        self.count += qty


def make_item(name):
    return Item(name)
'''

SHOP = '''from .models import Item, make_item


def sell(item: Item, qty):
    if qty > item.count:
        raise ValueError("not enough")
    item.count -= qty
    return make_item("receipt")
'''


def write_tree(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")
    return root


@pytest.fixture
def shop_tree(tmp_path):
    return write_tree(tmp_path / "shop", {"pkg/__init__.py": "", "pkg/models.py": MODELS, "pkg/shop.py": SHOP})


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), "-c", "user.email=t@example.com", "-c", "user.name=t", *args],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
