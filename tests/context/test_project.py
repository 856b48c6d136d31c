"""load_project on a real git repository made by the test, plus the fallbacks and errors."""

import pytest

from nextedit.context.project import clear_tree_cache, load_project, locate_cursor, repo_name
from nextedit.context.stages import ContextStage, LoadProjectStage
from nextedit.schema.example import Example
from nextedit.schema.request import Zeta2PromptInput

from .conftest import MODELS, git, write_tree

STOCK = '''from .models import Item


def restock(item: Item, qty):
    if qty <= 0:
        raise ValueError("qty must be positive")
    item.count += qty
    return item
'''

UNCOMMITTED = '''--- a/inventory/stock.py
+++ b/inventory/stock.py
@@ -6,3 +6,4 @@
         raise ValueError("qty must be positive")
     item.count += qty
+    item.touched = True
     return item
'''

HISTORY = '''--- a/inventory/stock.py
+++ b/inventory/stock.py
@@ -1,7 +1,7 @@
 from .models import Item
{blank}
{blank}
-def restock(item: Item, qty):
+def restock(item: Item, quantity):
     if qty <= 0:
         raise ValueError("qty must be positive")
     item.count += qty
'''.format(blank=" ")

CURSOR = "def restock(item: Item, quantity):\n" + "    #" + " " * 27 + "^[CURSOR_POSITION]\n    if qty <= 0:\n"



@pytest.fixture
def repos(tmp_path):
    clear_tree_cache()
    repo = write_tree(tmp_path / "repos" / "acme" / "inventory", {"inventory/stock.py": STOCK, "inventory/models.py": MODELS})
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "init")
    first = git(repo, "rev-parse", "HEAD")
    (repo / "inventory/stock.py").write_text(STOCK.replace("qty", "amount"))  # a dirty checkout
    yield tmp_path / "repos", repo, first
    clear_tree_cache()


def make_example(revision, **kw):
    fields = dict(
        name="restock",
        repository_url="https://github.com/acme/inventory.git",
        revision=revision,
        cursor_path="inventory/stock.py",
        cursor_position=CURSOR,
        uncommitted_diff=UNCOMMITTED,
        edit_history=HISTORY,
    )
    fields.update(kw)
    return Example(**fields)


def test_load_project_replays_diff_and_history(repos):
    repos_dir, repo, rev = repos
    ex = load_project(make_example(rev), repos_dir)
    assert not ex.tags, ex.tags
    req = Zeta2PromptInput.from_json(ex.prompt_inputs)
    req.validate_offsets()
    assert req.cursor_path == "inventory/inventory/stock.py"
    assert req.excerpt_start_row == 0
    assert "item.touched = True" in req.cursor_excerpt  # uncommitted diff applied
    assert "def restock(item: Item, quantity):" in req.cursor_excerpt  # history replayed
    before = req.cursor_excerpt.encode()[: req.cursor_offset_in_excerpt].decode()
    assert before.endswith("def restock(item: Item, quantity")
    (event,) = req.events
    assert event.path == "inventory/inventory/stock.py" and not event.predicted
    assert event.diff.startswith("@@ -1,7 +1,7 @@\n") and "+def restock(item: Item, quantity):\n" in event.diff
    assert req.related_files is None  # load-project does not compute context
    assert req.syntax_ranges and req.excerpt_ranges.editable_350 is not None
    # the user's checkout was not touched
    assert (repo / "inventory/stock.py").read_text() == STOCK.replace("qty", "amount")


def test_context_stage_adds_related_files(repos):
    repos_dir, _repo, rev = repos
    ex = next(ContextStage(repos_dir, "lsp").run([make_example(rev)]))
    files = ex.prompt_inputs["related_files"]
    assert [f["path"] for f in files][0] == "inventory/inventory/models.py"
    assert files[0]["excerpts"][0]["text"].startswith("class Item:")


def test_predicted_history_and_rollback(repos):
    repos_dir, _repo, rev = repos
    # The uncommitted diff already contains the history: roll it back, then replay it.
    ex = make_example(
        rev,
        uncommitted_diff=HISTORY,
        uncommitted_diff_contains_edit_history=True,
        edit_history="// User accepted prediction:\n" + HISTORY,
    )
    ex = load_project(ex, repos_dir)
    assert not ex.tags, (ex.tags, ex.model_extra)
    (event,) = ex.prompt_inputs["events"]
    assert event["predicted"] is True and "+def restock(item: Item, quantity):" in event["diff"]


def test_excerpt_only_fallback(tmp_path):
    ex = load_project(make_example("abc"), tmp_path / "no-repos")
    assert ex.tags == ["context:excerpt-only"]
    req = Zeta2PromptInput.from_json(ex.prompt_inputs)
    req.validate_offsets()
    assert req.cursor_excerpt == "def restock(item: Item, quantity):\n    if qty <= 0:"
    assert req.cursor_offset_in_excerpt == len("def restock(item: Item, quantity")
    assert [e.path for e in req.events] == ["inventory/inventory/stock.py"]


def test_errors_are_tagged_not_raised(repos):
    repos_dir, _repo, rev = repos
    ex = load_project(make_example("0" * 40), repos_dir)
    assert "context:error:revision-missing" in ex.tags and ex.prompt_inputs is not None
    ex = load_project(make_example(rev, uncommitted_diff=UNCOMMITTED.replace("item.count", "item.cnt")), repos_dir)
    assert "context:error:patch-failed" in ex.tags and "uncommitted diff" in ex.model_extra["context_error"]
    ex = load_project(make_example(rev, cursor_position="def nowhere():\n    <|user_cursor|>pass\n"), repos_dir)
    assert "context:error:cursor-not-found" in ex.tags
    ex = load_project(make_example(rev, cursor_position="no marker here"), repos_dir)
    assert "context:error:bad-cursor" in ex.tags
    # LoadProjectStage counts and passes them all through
    stage = LoadProjectStage(repos_dir)
    out = list(stage.run([make_example("0" * 40), make_example(rev)]))
    assert len(out) == 2 and stage.stats.counters["error: revision-missing"] == 1


def test_source_resolver_passed_by_the_caller(tmp_path):
    d = write_tree(tmp_path / "pkgs" / "inventory-1.0", {"inventory/stock.py": STOCK.replace("qty):", "quantity):")})
    sources = {"test-src:": lambda url, rev: d if url == "test-src:inventory==1.0" else None}
    example = make_example("", repository_url="test-src:inventory==1.0", uncommitted_diff="", edit_history="")
    assert load_project(example.model_copy(deep=True)).tags == ["context:excerpt-only"]  # no resolver given
    ex = load_project(example, sources=sources)
    assert not ex.tags
    assert ex.prompt_inputs["cursor_path"] == "inventory/inventory/stock.py"


def test_locate_cursor_unique_nearest_and_linewise():
    text = "a\nx = 1\nb\nx = 1\nc\n"
    assert locate_cursor(text, "x = 1", 4) == 6
    assert locate_cursor(text, "x = 1", 4, near=len(text)) == text.rindex("x = 1") + 4
    assert locate_cursor("def f():   \n    pass\n", "def f():\n    pass", 12) == len("def f():   \n") + 3


def test_repo_name():
    assert repo_name("https://github.com/pallets/flask") == "flask"
    assert repo_name("git@github.com:owner/repo.git") == "repo"
    assert repo_name("pypi:requests==2.31.0") == "requests"


def test_existing_prompt_inputs_are_kept_without_repository(tmp_path):
    ex = make_example("abc")
    ex.prompt_inputs = {"cursor_path": "zed/x.rs", "cursor_excerpt": "fn a() {}", "cursor_offset_in_excerpt": 3}
    out = load_project(ex, tmp_path / "none")
    assert out.tags == ["context:no-repository"]
    assert out.prompt_inputs == {"cursor_path": "zed/x.rs", "cursor_excerpt": "fn a() {}", "cursor_offset_in_excerpt": 3}
