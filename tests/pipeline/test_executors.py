"""The same input gives the same output lines under the local and the Ray executor (real Ray)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nextedit.cli import app
from nextedit.pipeline import (
    ExampleFailed,
    ExampleReader,
    ExampleWriter,
    LocalExecutor,
    RayExecutor,
    failed_path,
    run_pipeline,
)
from nextedit.prompts.stages import FormatPromptStage
from tests.pipeline.helpers import Fussy

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # Ray Data's own settings

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
runner = CliRunner()


def line_digests(path: Path) -> list[str]:
    return sorted(hashlib.sha256(line).hexdigest() for line in path.read_bytes().splitlines())


def test_transform_step_gives_the_same_lines_locally_and_on_ray(local_ray, tmp_path):
    outputs = {}
    for executor in (LocalExecutor(1), LocalExecutor(2), RayExecutor(2)):
        out = tmp_path / f"{executor.name}-{executor.max_parallelism}.jsonl"
        stage = FormatPromptStage("zeta2")
        pipeline = [ExampleReader([EXAMPLES]), Fussy(), stage, ExampleWriter(out)]
        run_pipeline(pipeline, executor=executor, shard_size=3)
        assert stage.stats.seen == len(list(EXAMPLES.glob("*.md"))) - 1  # stats come back from the workers
        outputs[out.name] = out
    digests = {name: line_digests(path) for name, path in outputs.items()}
    assert len(set(map(tuple, digests.values()))) == 1 and digests["ray-2.jsonl"]
    assert outputs["local-1.jsonl"].read_bytes() == outputs["ray-2.jsonl"].read_bytes()  # same order too
    assert failed_path(outputs["local-1.jsonl"]).read_bytes() == failed_path(outputs["ray-2.jsonl"]).read_bytes()


def test_failfast_on_ray_is_the_example_failure(local_ray, tmp_path):
    pipeline = [ExampleReader([EXAMPLES]), Fussy(), ExampleWriter(tmp_path / "out.jsonl")]
    with pytest.raises(ExampleFailed, match="dashboard.*fussy: ValueError: no dashboards"):
        run_pipeline(pipeline, executor=RayExecutor(2), shard_size=3, failfast=True)


def test_ingest_git_cli_gives_the_same_lines_locally_and_on_ray(local_ray, small_repo, tmp_path):
    outputs = []
    for executor in ("local", "ray"):
        out = tmp_path / f"{executor}.jsonl"
        res = runner.invoke(
            app,
            ["ingest", "git", "--repo", str(small_repo["path"]), "-o", str(out), "--executor", executor,
             "--max-parallelism", "2"],
        )
        assert res.exit_code == 0, res.output
        outputs.append(out)
    assert line_digests(outputs[0]) == line_digests(outputs[1]) != []
