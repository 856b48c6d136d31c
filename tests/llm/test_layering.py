"""``nextedit.llm`` is a low layer: it imports nextedit.errors, the standard library and (lazily)
the SDKs — nothing else of nextedit, and no SDK at import time."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

LLM = Path(__file__).resolve().parents[2] / "src" / "nextedit" / "llm"


def test_llm_imports_only_errors_and_itself():
    for path in LLM.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                if name.startswith("nextedit"):
                    assert name == "nextedit.errors" or name.startswith("nextedit.llm"), (
                        f"{path.name}: {name}"
                    )


def test_sdks_are_imported_lazily():
    code = "import sys, nextedit.llm; print('openai' in sys.modules, 'anthropic' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]
