"""Pipeline stages: ``load-project`` and ``context`` (§3.3).

* :class:`LoadProjectStage` fills ``prompt_inputs`` (excerpt, ranges, syntax ranges, events,
  diagnostics) from the example's repository; ``related_files`` stays unset.
* :class:`ContextStage` does the same and also fills ``related_files`` (``lsp`` = symbol-index
  definitions with a BM25 fallback, ``bm25``, ``all`` or ``none``).

Examples whose repository is unavailable get excerpt-only prompt inputs and the
``context:excerpt-only`` tag; failures are tagged ``context:error:<kind>`` and passed through;
an example that names a path outside its repository fails (``UnsafePath``, the run's failed file).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from nextedit.context.project import (
    TAG_ERROR,
    TAG_EXCERPT_ONLY,
    TAG_NO_REPOSITORY,
    SourceResolvers,
    clear_tree_cache,
    load_project,
)
from nextedit.pipeline.stage import Stage
from nextedit.schema.example import Example

CONTEXT_TYPES = ("lsp", "bm25", "all", "none")


class LoadProjectStage(Stage):
    """Example → example with ``prompt_inputs`` built from its project (see module docstring)."""

    name = "load-project"
    context = "auto"

    def __init__(
        self,
        repos_dir: str | Path | None = None,
        sources: SourceResolvers | None = None,
        local_repos: Sequence[str | Path] = (),
    ) -> None:
        """``sources``: URL prefix → resolver for repositories that are not git clones (``pypi:``);
        ``local_repos``: local clones the caller vouches for besides ``repos_dir`` (the data build's
        own ingested repositories). An example naming a path outside these fails (``UnsafePath``)."""
        super().__init__()
        self.repos_dir = repos_dir
        self.sources = dict(sources or {})
        self.local_repos = tuple(local_repos)

    def process(self, example: Example) -> Example:
        out = load_project(
            example, self.repos_dir, self.sources, context=self.context, local_repos=self.local_repos  # type: ignore[arg-type]
        )
        for tag in out.tags:
            if tag == TAG_EXCERPT_ONLY:
                self.stats.count("excerpt only (no repository)")
            elif tag == TAG_NO_REPOSITORY:
                self.stats.count("kept existing prompt_inputs (no repository)")
            elif tag.startswith(TAG_ERROR):
                self.stats.count(f"error: {tag[len(TAG_ERROR):]}")
        if out.prompt_inputs and out.prompt_inputs.get("related_files"):
            self.stats.count("with related files")
        return out

    def is_complete(self, example: Example) -> bool:
        return example.prompt_inputs is not None

    def close(self) -> None:
        clear_tree_cache()


class ContextStage(LoadProjectStage):
    """:class:`LoadProjectStage` plus ``related_files`` of the chosen ``context_type``."""

    name = "context"

    def __init__(
        self,
        repos_dir: str | Path | None = None,
        context_type: str = "lsp",
        sources: SourceResolvers | None = None,
        local_repos: Sequence[str | Path] = (),
    ) -> None:
        super().__init__(repos_dir, sources, local_repos)
        if context_type not in CONTEXT_TYPES:
            raise ValueError(f"unknown context type {context_type!r} (choose from {', '.join(CONTEXT_TYPES)})")
        self.context = context_type

    def is_complete(self, example: Example) -> bool:
        return bool(example.prompt_inputs) and example.prompt_inputs.get("related_files") is not None
