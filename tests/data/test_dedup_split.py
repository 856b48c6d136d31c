"""dedup (§3.1) and split (§3.9)."""

from __future__ import annotations

import pytest

from nextedit.data.dedup import DedupStage, dedup_indices, est_jaccard, max_min_diverse, minhash, shingles
from nextedit.data.split import SplitSpec, split_examples
from nextedit.schema.example import Example

BASE = (
    "def restock(item, quantity):\n    if quantity <= 0:\n        raise ValueError('bad')\n    return item\n"
)


def test_minhash_estimates_jaccard():
    a = shingles(BASE)
    b = shingles(BASE.replace("return item", "return item.count"))
    c = shingles("class Other:\n    x = [1, 2, 3]\n    y = {'k': 'v'}\n")
    true_ab = len(a & b) / len(a | b)
    assert abs(est_jaccard(minhash(a), minhash(b)) - true_ab) < 0.15
    assert est_jaccard(minhash(a), minhash(c)) < 0.1
    assert est_jaccard(minhash(a), minhash(set(a))) == 1.0


def test_exact_and_near_duplicates():
    near = [BASE + f"# note {i}\n" for i in range(6)]
    other = "import os\nprint(os.getcwd())\nwhile True:\n    break\n"
    texts = [BASE, BASE, *near, other]
    keep = dedup_indices(texts, max_duplicates=2)
    assert 1 not in keep  # exact duplicate of 0
    assert 0 in keep and 8 in keep  # first cluster member and the unrelated one
    assert len(keep) == 3  # cluster {0, 2..7} keeps 2


def test_max_min_diversity_prefers_the_most_different():
    a = BASE
    b = BASE + "# x\n"  # almost a
    c = BASE.replace("raise ValueError('bad')", "return None")
    sigs = [minhash(shingles(t)) for t in (a, b, c)]
    assert est_jaccard(sigs[0], sigs[1]) > est_jaccard(sigs[0], sigs[2])
    assert max_min_diverse([0, 1, 2], sigs, 2) == [0, 2]
    assert max_min_diverse([0, 1, 2], sigs, 5) == [0, 1, 2]


def test_dedup_stage_counts():
    exs = [
        Example(name=str(i), cursor_position=t) for i, t in enumerate([BASE, BASE, "x = 1\ny = 2\nz = 3\n"])
    ]
    st = DedupStage(max_duplicates=1)
    assert [e.name for e in st.run(exs)] == ["0", "2"]
    assert st.stats.dropped["exact duplicate"] == 1


def _exs():
    out = []
    for repo in range(6):
        for f in range(5):
            for k in range(3):
                out.append(
                    Example(
                        name=f"r{repo}-f{f}-{k}",
                        repository_url=f"pypi:pkg{repo}==1.{k}",
                        cursor_path=f"src{f % 2}/file{f}.py",
                    )
                )
    return out


@pytest.mark.parametrize("stratify", ["cursor-path", "project", "repo", "repo-name", "none"])
def test_split_groups_never_shared(stratify):
    from nextedit.data.split import group_key

    exs = _exs()
    specs = [SplitSpec.parse("a=60%"), SplitSpec.parse("b=10"), SplitSpec.parse("c=rest")]
    parts = split_examples(exs, specs, seed=3, stratify=stratify)
    assert sum(len(p) for p in parts) == len(exs)
    assert sorted(e.name for p in parts for e in p) == sorted(e.name for e in exs)
    if stratify != "none":
        keys = [{group_key(e, stratify) for e in p} for p in parts]
        assert not (keys[0] & keys[1] or keys[0] & keys[2] or keys[1] & keys[2])
    assert len(parts[0]) >= round(0.6 * len(exs))
    if stratify == "none":
        assert len(parts[0]) == 54 and len(parts[1]) == 10
    # deterministic, and a different seed changes the assignment
    again = split_examples(exs, specs, seed=3, stratify=stratify)
    assert [[e.name for e in p] for p in parts] == [[e.name for e in p] for p in again]


def test_split_spec_errors():
    with pytest.raises(ValueError, match="PATH=SIZE"):
        SplitSpec.parse("train.jsonl")
    with pytest.raises(ValueError, match="only one"):
        split_examples(_exs(), [SplitSpec.parse("a=rest"), SplitSpec.parse("b=rest")])


def test_split_command_writes_each_part_with_the_pipeline_writer(tmp_path):
    from typer.testing import CliRunner

    from nextedit.cli import app
    from nextedit.io.inputs import read_examples

    src = tmp_path / "all.jsonl"
    src.write_text("".join(Example(name=f"e{i}", cursor_path=f"f{i % 5}.py").to_json() + "\n" for i in range(20)))
    train, test = tmp_path / "train.jsonl", tmp_path / "sub" / "test.jsonl.gz"
    result = CliRunner().invoke(app, ["split", str(src), f"{test}=20%", f"{train}=rest"])
    assert result.exit_code == 0, result.output
    parts = [list(read_examples([str(p)])) for p in (test, train)]
    assert [len(p) for p in parts] == [4, 16]
    assert not {e.cursor_path for e in parts[0]} & {e.cursor_path for e in parts[1]}
    assert sorted(e.name for p in parts for e in p) == sorted(f"e{i}" for i in range(20))
