"""The package works installed, not only from the checkout: the wheel carries the shipped model, and
an installed wheel serves it from another directory."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import sysconfig
import time
import zipfile
from pathlib import Path

import pytest

from nextedit.paths import SHIPPED_MODEL_DIR

ROOT = Path(__file__).resolve().parents[1]


def _checkout_copy(dest: Path) -> Path:
    """The files git would commit (tracked and new, not ignored), copied: building a wheel writes
    ``build/`` and ``*.egg-info`` into its source, and the shared checkout must stay clean."""
    out = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        capture_output=True,
        check=True,
    ).stdout.decode()
    for rel in filter(None, out.split("\0")):
        src = ROOT / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    return dest


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not (ROOT / ".git").exists():
        pytest.skip("needs the git checkout")
    tmp = tmp_path_factory.mktemp("wheel")
    src = _checkout_copy(tmp / "src")
    build = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", src, "-w", tmp]
    subprocess.run(build, check=True, capture_output=True)
    (whl,) = tmp.glob("nextedit-*.whl")
    return whl


def test_wheel_carries_the_shipped_model(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as z:
        sizes = {i.filename: i.file_size for i in z.infolist()}
    shipped = sorted(p for p in SHIPPED_MODEL_DIR.iterdir() if p.is_file())
    assert {p.name for p in shipped} >= {"config.json", "model.safetensors", "tokenizer.json", "serving.json"}
    for p in shipped:
        assert sizes.get(f"nextedit/models/nextedit-tiny/{p.name}") == p.stat().st_size, p.name
    assert "nextedit/paths.py" in sizes and "nextedit/data/manifests/pypi-default.json" in sizes


@pytest.mark.slow
def test_installed_wheel_serves_the_shipped_model_from_another_directory(wheel: Path, tmp_path: Path) -> None:
    """A fresh venv gets the wheel (``--no-deps``); the dependencies come from this interpreter's
    site-packages through a ``.pth`` line (its editable ``nextedit`` hook is not run from there)."""
    venv = tmp_path / "venv"
    subprocess.run([sys._base_executable, "-m", "venv", str(venv)], check=True, capture_output=True)
    py = venv / "bin" / "python"
    site = subprocess.run(
        [str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        check=True,
        text=True,
    ).stdout.strip()
    Path(site, "_nextedit_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    install = [str(py), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)]
    subprocess.run(install, check=True, capture_output=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    where = subprocess.run(
        [str(py), "-c", "import nextedit.paths as p; print(p.default_model_dir())"],
        cwd=elsewhere,
        capture_output=True,
        check=True,
        text=True,
    ).stdout.strip()
    assert Path(where) == Path(site) / "nextedit" / "models" / "nextedit-tiny"

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if k not in ("NEXTEDIT_MODEL_DIR", "PYTHONPATH")}
    proc = subprocess.Popen(
        [str(venv / "bin" / "nextedit"), "serve", "--port", str(port), "--store", "none"],
        cwd=elsewhere,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    import httpx

    try:
        end = time.monotonic() + 120
        health = None
        while time.monotonic() < end and health is None:
            assert proc.poll() is None, proc.stdout.read().decode()[-3000:]
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                health = r.json() if r.status_code == 200 else None
            except httpx.HTTPError:
                time.sleep(0.2)
        assert health is not None, "server did not answer /healthz"
        (model,) = health["models"].values()
        assert model["provider"] != "heuristic" and model["model_version"] == "nextedit-tiny", model
    finally:
        proc.terminate()
        proc.wait(timeout=30)
