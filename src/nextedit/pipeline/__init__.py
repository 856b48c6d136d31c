"""Pipelines, datatrove-style: a list of steps ``[reader, *steps, writer]`` run by an executor.

    from nextedit.pipeline import ExampleReader, ExampleWriter, make_executor, run_pipeline

    run_pipeline([ExampleReader(["eval.jsonl"]), ScoreStage(), ExampleWriter("scored.jsonl")],
                 executor=make_executor("local", max_parallelism=2))

Steps (:mod:`.stage`), readers and sources (:mod:`.readers`), writers (:mod:`.writers`), the
executors (:mod:`.executors`: local processes, Ray), resume (:mod:`.record`) and progress
(:mod:`.progress`); :mod:`.run` ties them together.
"""

from nextedit.pipeline.executors import EXECUTORS, Executor, LocalExecutor, RayExecutor, make_executor
from nextedit.pipeline.progress import NoProgress, ProgressListener
from nextedit.pipeline.readers import ExampleList, ExampleReader, Item, Reader
from nextedit.pipeline.run import FailedMode, OutputInUse, RunResult, run_pipeline, run_stage
from nextedit.pipeline.shard import ExampleFailed
from nextedit.pipeline.stage import MapStage, Stage, StageStats, Step
from nextedit.pipeline.writers import ExampleWriter, MemoryWriter, Writer, failed_path

__all__ = [
    "EXECUTORS",
    "ExampleFailed",
    "ExampleList",
    "ExampleReader",
    "ExampleWriter",
    "Executor",
    "FailedMode",
    "Item",
    "LocalExecutor",
    "MapStage",
    "MemoryWriter",
    "NoProgress",
    "OutputInUse",
    "ProgressListener",
    "RayExecutor",
    "Reader",
    "RunResult",
    "Stage",
    "StageStats",
    "Step",
    "Writer",
    "failed_path",
    "make_executor",
    "run_pipeline",
    "run_stage",
]
