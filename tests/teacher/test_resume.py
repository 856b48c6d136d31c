"""A ``nextedit teacher`` process killed with SIGKILL in the middle of a run, then resumed: no example
lost or duplicated, and no request that had been answered is asked again (counted at the server).

The kill is placed without a clock: the server holds the 21st request until the test has killed the
client, so 20 answers (one full shard of 16 written, 4 more only cached) precede it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter

from tests.teacher.frontier import kv_example, read_jsonl, write_jsonl

N = 40
HOLD_AT = 21


def teacher_command(src, out, llm) -> list[str]:  # noqa: ANN001
    return [
        sys.executable,
        "-m",
        "nextedit",
        "teacher",
        str(src),
        "-o",
        str(out),
        "--llm",
        llm.backend,
        "--cache",
        llm.cache,
    ]


def test_kill_9_then_resume_loses_nothing_and_repeats_no_answered_request(
    server, frontier, llm, tmp_path
) -> None:  # noqa: ANN001
    examples = [kv_example(i) for i in range(N)]
    src = write_jsonl(tmp_path / "in.jsonl", examples)
    out = tmp_path / "out.jsonl"
    env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE"}
    frontier.hold_at = HOLD_AT
    proc = subprocess.Popen(
        teacher_command(src, out, llm), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        assert frontier.arrived.wait(120), "the held request never arrived"
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    finally:
        frontier.release.set()
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    answered_before = list(frontier.answered)
    assert len(answered_before) == HOLD_AT - 1
    assert len(read_jsonl(out)) < N  # the run did not finish

    frontier.hold_at = None
    frontier.answered.clear()
    done = subprocess.run(
        teacher_command(src, out, llm), env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr

    result = read_jsonl(out)
    assert [ex.name for ex in result] == [ex.name for ex in examples]  # none lost, none twice, in order
    assert all(len(ex.predictions) == 1 and not ex.predictions[0].error for ex in result)
    repeated = Counter(answered_before) & Counter(frontier.answered)
    assert not repeated, f"{sum(repeated.values())} answered requests were asked again"
    assert len(frontier.answered) == N - len(answered_before)  # the held one and the rest, once each
