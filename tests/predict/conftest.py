"""Shared fixtures: the bundled Zed-format eval cases and a small case of our own (§4.4)."""

from pathlib import Path

import pytest

EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "examples"

SPEC_CASE = '''+++
repository_url = "https://github.com/example/inventory"
revision = "0123456789abcdef0123456789abcdef01234567"
+++

## Edit History

```diff
--- a/inventory/stock.py
+++ b/inventory/stock.py
@@ -10,6 +10,6 @@
<SP>
<SP>
-def restock(item, qty):
+def restock(item, quantity):
     if qty <= 0:
         raise ValueError("qty must be positive")
     item.count += qty
```

## Cursor Position

```inventory/stock.py
def restock(item, quantity):
    #                     ^[CURSOR_POSITION]
    if qty <= 0:
        raise ValueError("qty must be positive")
    item.count += qty
    return item
```

## Expected Patch

```diff
--- a/inventory/stock.py
+++ b/inventory/stock.py
@@ -12,5 +12,5 @@
 def restock(item, quantity):
-    if qty <= 0:
-        raise ValueError("qty must be positive")
-    item.count += qty
+    if quantity <= 0:
+        raise ValueError("quantity must be positive")
+    item.count += quantity
     return item
```
'''.replace("<SP>", " ")  # blank context lines keep their leading space


@pytest.fixture
def spec_case_dir(tmp_path: Path) -> Path:
    d = tmp_path / "cases"
    d.mkdir()
    (d / "inventory--rename-qty.md").write_text(SPEC_CASE, encoding="utf-8")
    return d


@pytest.fixture
def examples_dir() -> Path:
    if not EXAMPLES_DIR.is_dir() or not list(EXAMPLES_DIR.glob("*.md")):
        pytest.skip("no bundled examples/*.md")
    return EXAMPLES_DIR
