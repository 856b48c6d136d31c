"""``nextedit synthesize``: an LLM writes eval/training examples from a repository's commits (§3.11).

1. Commits: ``git log --no-merges`` (newest first, at most ``max_commits``), root commits skipped,
   and commits with fewer than 30 or more than 1,000 changed lines, with only non-code files
   (:data:`NON_CODE`), or with renames.
2. The LLM sees the commit message and its ``git show -U30`` diff and answers ``NO_PATTERN: reason``,
   or ``ANALYSIS:`` / ``NAME:`` / ``EDIT_HISTORY:`` (a unified diff of 3–6 hunks, one file: what the
   programmer did first) / ``EXPECTED_PATCH:`` (one hunk, 1–15 changed lines, same file: what they did
   next).
3. Validation: the edit history applies to the file at the parent commit, the expected patch to the
   state after it. The cursor is where the first expected edit starts; the excerpt is 3 lines before
   the cursor line, the cursor line and 4 after, the cursor inline as ``<|user_cursor|>``.
4. Output: one ``Example`` line per valid answer, appended to the output JSONL (``revision`` = the
   parent commit, ``reasoning = "Source commit: <sha> (<message ≤ 60>)\\n\\n<analysis>"``). Every
   commit answered is remembered in the state file (JSON) after its example is written, and commits
   already in the output count as remembered too, so a rerun (even after a kill) asks only about new
   commits and writes no example twice. An answer that is not valid is counted and its commit
   remembered (the response cache would give the same answer again).
"""

from __future__ import annotations

import json
import re
import subprocess
from collections import Counter
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from pathlib import Path

from nextedit.errors import NexteditError
from nextedit.llm import ChatParams, ChatRequest, LLMConfig
from nextedit.prompts.base import CURSOR_MARKER
from nextedit.schema.example import Example
from nextedit.teacher.llm_stage import RunStopped
from nextedit.teacher.parse import result_error
from nextedit.text.patch import PatchError, apply_patch, parse_patch

NON_CODE = frozenset(
    [
        ".md",
        ".txt",
        ".json",
        ".yaml",
        ".yml",
        ".toml",
        ".lock",
        ".svg",
        ".png",
        ".jpg",
        ".gif",
        ".ico",
        ".woff",
        ".ttf",
        ".eot",
    ]
)
MIN_CHANGED, MAX_CHANGED = 30, 1000
HISTORY_HUNKS = (3, 6)
EXPECTED_CHANGED = (1, 15)
MAX_TOKENS = 8192
SECTIONS = ("ANALYSIS", "NAME", "EDIT_HISTORY", "EXPECTED_PATCH")

INSTRUCTIONS = """# Turn a commit into an edit-prediction example

Below is a commit: its message and its diff. Find a pattern in it that a programmer would carry out \
step by step (a rename reaching its uses, a new parameter passed along, a repeated change), and tell \
it as a story: the first edits the programmer made, then the one edit that naturally comes next.

Answer `NO_PATTERN: <reason>` if the commit has no such pattern. Otherwise answer exactly:

ANALYSIS: <two or three sentences on the pattern>
NAME: <a short kebab-case name>
EDIT_HISTORY:
```diff
<a unified diff of 3 to 6 hunks in ONE file, against the file before the commit: the first edits>
```
EXPECTED_PATCH:
```diff
<a unified diff of ONE hunk in the same file, 1 to 15 changed lines, against the file after the edit history: the next edit>
```

Both diffs use `--- a/PATH` / `+++ b/PATH` headers and enough context lines to apply.
"""


def synthesize_prompt(message: str, diff: str) -> str:
    return f"{INSTRUCTIONS}\n# Commit message\n\n{message}\n\n# Diff\n\n```diff\n{diff}\n```\n"


@dataclass
class Commit:
    sha: str
    parent: str
    subject: str


@dataclass
class Proposal:
    """A parsed answer: the sections, or ``no_pattern`` (its reason)."""

    analysis: str = ""
    name: str = ""
    edit_history: str = ""
    expected_patch: str = ""
    no_pattern: str | None = None


class InvalidProposal(ValueError):
    """The answer is malformed or its diffs do not apply (message: why, one line)."""


def git(repo: Path, *args: str) -> str:
    result = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True)
    if result.returncode != 0:
        raise NexteditError(f"{repo}: git {' '.join(args[:2])} failed: {result.stderr.strip()[:200]}")
    return result.stdout


def list_commits(repo: Path, max_commits: int) -> list[Commit]:
    """Non-merge, non-root commits, newest first."""
    out = git(repo, "log", "--no-merges", f"--max-count={max_commits}", "--format=%H|%P|%s")
    commits = []
    for line in out.splitlines():
        sha, parents, subject = line.split("|", 2)
        if parents.strip():
            commits.append(Commit(sha, parents.split()[0], subject))
    return commits


def skip_reason(repo: Path, commit: Commit) -> str | None:
    """Why ``commit`` is not worth asking about (module doc, step 1), or None."""
    changed, paths = 0, []
    for line in git(repo, "show", "--numstat", "--format=", commit.sha).splitlines():
        added, deleted, path = line.split("\t", 2)
        changed += int(added) + int(deleted) if added != "-" else 0
        paths.append(path)
    if not MIN_CHANGED <= changed <= MAX_CHANGED:
        return "too small" if changed < MIN_CHANGED else "too large"
    if all(Path(p).suffix.lower() in NON_CODE for p in paths):
        return "no code files"
    status = git(repo, "show", "-M", "--name-status", "--format=", commit.sha)
    if any(line.startswith("R") for line in status.splitlines()):
        return "renames"
    return None


def _section(text: str, name: str) -> str:
    names = "|".join(SECTIONS)
    m = re.search(rf"^{name}:[ \t]*(.*?)(?=^(?:{names}):|\Z)", text, re.DOTALL | re.MULTILINE)
    return m.group(1).strip() if m else ""


def _diff_body(section: str) -> str:
    m = re.search(r"```[a-z]*\n(.*?)```", section, re.DOTALL)
    body = m.group(1) if m else section
    return body if body.endswith("\n") else body + "\n"


def parse_proposal(text: str) -> Proposal:
    """The sections of an answer; raises :class:`InvalidProposal` when one is missing."""
    m = re.search(r"NO_PATTERN:?\s*(.*)", text)
    if m and "EDIT_HISTORY:" not in text:
        return Proposal(no_pattern=m.group(1).strip().splitlines()[0] if m.group(1).strip() else "")
    found = {name: _section(text, name) for name in SECTIONS}
    missing = [name for name, value in found.items() if not value]
    if missing:
        raise InvalidProposal(f"malformed: no {', '.join(missing)} section")
    return Proposal(
        analysis=found["ANALYSIS"],
        name=re.sub(r"[^a-z0-9]+", "-", found["NAME"].lower()).strip("-"),
        edit_history=_diff_body(found["EDIT_HISTORY"]),
        expected_patch=_diff_body(found["EXPECTED_PATCH"]),
    )


def _one_file(diff: str, what: str) -> tuple[str, list]:  # noqa: ANN401 - list[Hunk]
    try:
        patch = parse_patch(diff)
    except PatchError as e:
        raise InvalidProposal(f"{what}: {e}") from None
    files = [f for f in patch.files if f.hunks]
    if len(files) != 1:
        raise InvalidProposal(f"{what}: touches {len(files)} files, expected one")
    path = files[0].new_path or files[0].old_path
    if not path:
        raise InvalidProposal(f"{what}: no file path in its header")
    return path, files[0].hunks


def build_example(repo: Path, repo_url: str, commit: Commit, proposal: Proposal) -> Example:
    """Validate ``proposal`` against the repository (module doc, step 3) and make its example."""
    path, history_hunks = _one_file(proposal.edit_history, "EDIT_HISTORY")
    expected_path, expected_hunks = _one_file(proposal.expected_patch, "EXPECTED_PATCH")
    if expected_path != path:
        raise InvalidProposal(f"EXPECTED_PATCH edits {expected_path}, the edit history {path}")
    lo, hi = HISTORY_HUNKS
    if not lo <= len(history_hunks) <= hi:
        raise InvalidProposal(f"EDIT_HISTORY has {len(history_hunks)} hunks, expected {lo}-{hi}")
    changed = sum(1 for h in expected_hunks for line in h.lines if line.kind in "+-")
    if len(expected_hunks) != 1 or not EXPECTED_CHANGED[0] <= changed <= EXPECTED_CHANGED[1]:
        raise InvalidProposal(
            f"EXPECTED_PATCH has {len(expected_hunks)} hunks and {changed} changed lines, expected 1 and 1-15"
        )
    try:
        parent_text = git(repo, "show", f"{commit.parent}:{path}")
    except NexteditError:
        raise InvalidProposal(f"{path} does not exist at the parent commit") from None
    try:
        intermediate = apply_patch(parent_text, proposal.edit_history, path)
        final = apply_patch(intermediate, proposal.expected_patch, path)
    except PatchError as e:
        raise InvalidProposal(f"a diff does not apply: {e}") from None
    if intermediate == parent_text or final == intermediate:
        raise InvalidProposal("a diff changes nothing")
    subject = commit.subject if len(commit.subject) <= 60 else commit.subject[:57] + "..."
    return Example(
        name=f"{repo.name}-{commit.sha[:8]}" + (f"-{proposal.name}" if proposal.name else ""),
        repository_url=repo_url,
        revision=commit.parent,
        reasoning=f"Source commit: {commit.sha} ({subject})\n\n{proposal.analysis}",
        cursor_path=path,
        cursor_position=cursor_excerpt(intermediate, final),
        edit_history=proposal.edit_history,
        expected_patches=[proposal.expected_patch],
    )


def cursor_excerpt(before: str, after: str) -> str:
    """3 lines before the first changed line of ``before`` → ``after``, that line with the cursor
    inline where the change starts, and 4 lines after."""
    old, new = before.splitlines(keepends=True), after.splitlines(keepends=True)
    op = next(o for o in SequenceMatcher(None, old, new, autojunk=False).get_opcodes() if o[0] != "equal")
    _, i1, _, j1, _ = op
    line = old[i1] if i1 < len(old) else ""
    column = 0
    if op[0] == "replace" and j1 < len(new):
        while column < min(len(line), len(new[j1])) and line[column] == new[j1][column]:
            column += 1
    lines = old[max(0, i1 - 3) : i1] + [line[:column] + CURSOR_MARKER + line[column:]] + old[i1 + 1 : i1 + 5]
    return "".join(lines)


@dataclass
class SynthesizeResult:
    """``written``: examples appended by this run; ``counts``: commits by what became of them;
    ``summary``: the LLM client's one-line figures."""

    written: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    summary: str = ""


def load_state(state: Path, output: Path) -> set[str]:
    """Commits already answered: the state file's, plus the source commits of ``output``'s examples."""
    processed: set[str] = set()
    if state.exists():
        try:
            processed.update(json.loads(state.read_text())["processed"])
        except (ValueError, KeyError, TypeError):
            raise NexteditError(
                f'{state}: not a synthesize state file (expected {{"processed": [sha, ...]}})'
            ) from None
    if output.exists():
        for n, line in enumerate(output.read_text().splitlines(), 1):
            if line.strip():
                try:
                    reasoning = Example.from_json(line).reasoning or ""
                except ValueError:
                    raise NexteditError(f"{output}:{n}: not an example line") from None
                m = re.match(r"Source commit: ([0-9a-f]+)", reasoning)
                if m:
                    processed.add(m.group(1))
    return processed


def synthesize(
    repo: str | Path,
    llm: LLMConfig | str,
    output: str | Path,
    *,
    state: str | Path | None = None,
    max_commits: int = 100,
    count: int | None = None,
    repo_url: str | None = None,
) -> SynthesizeResult:
    """Append examples from ``repo``'s commits to ``output`` (module doc). ``count``: stop once this
    run has written that many (None: every commit). ``state``: the JSON file of commits already
    answered (default ``<output>.state.json``)."""
    repo = Path(repo).resolve()
    if not (repo / ".git").exists():
        raise NexteditError(f"{repo}: not a git repository")
    config = llm if isinstance(llm, LLMConfig) else LLMConfig(llm)
    output = Path(output)
    state_path = Path(state) if state is not None else output.with_name(output.name + ".state.json")
    processed = load_state(state_path, output)
    url = repo_url or _origin(repo)
    out = SynthesizeResult()
    todo: list[Commit] = []
    for commit in list_commits(repo, max_commits):
        if commit.sha in processed:
            out.counts["already processed"] += 1
            continue
        reason = skip_reason(repo, commit)
        if reason:
            out.counts[f"skipped: {reason}"] += 1
            continue
        todo.append(commit)
    output.parent.mkdir(parents=True, exist_ok=True)
    with config.open() as client, output.open("a", encoding="utf-8") as sink:
        step = max(1, config.max_parallelism)
        for i in range(0, len(todo), step):
            if count is not None and out.written >= count:
                break
            chunk = todo[i : i + step]
            requests = [
                ChatRequest.of(
                    [
                        {
                            "role": "user",
                            "content": synthesize_prompt(c.subject, git(repo, "show", "-U30", c.sha)),
                        }
                    ],
                    ChatParams(max_tokens=MAX_TOKENS),
                )
                for c in chunk
            ]
            try:
                results = client.chat_many(requests)
            except NexteditError as e:
                raise RunStopped(f"synthesize: {e}") from None
            for commit, result in zip(chunk, results, strict=True):
                if result_error(result):
                    out.counts[f"not answered ({result.status})"] += 1
                    continue  # asked again next time
                processed.add(commit.sha)
                if count is not None and out.written >= count:
                    processed.discard(commit.sha)  # answered (cached) but not used: next run's
                    continue
                try:
                    proposal = parse_proposal(result.text)
                    if proposal.no_pattern is not None:
                        out.counts["no pattern"] += 1
                        continue
                    example = build_example(repo, url, commit, proposal)
                except InvalidProposal as e:
                    out.counts[f"invalid: {str(e).split(':')[0]}"] += 1
                    continue
                sink.write(example.to_json() + "\n")
                out.written += 1
                out.counts["examples"] += 1
            sink.flush()
            state_path.write_text(json.dumps({"processed": sorted(processed)}))
        out.summary = client.stats.summary()
    return out


def _origin(repo: Path) -> str:
    try:
        return git(repo, "remote", "get-url", "origin").strip()
    except NexteditError:
        return str(repo)
