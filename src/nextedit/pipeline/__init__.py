"""Pipeline stages (datatrove-style steps over `Example` streams) and the local executor."""

from nextedit.pipeline.executor import run_stage
from nextedit.pipeline.stage import MapStage, Stage, StageStats

__all__ = ["MapStage", "Stage", "StageStats", "run_stage"]
