"""The import's progress display: the file's task counts rows or bytes; once the file is
read, the stages left get a task of their own whose clock keeps running."""

from __future__ import annotations

import time

from cxloop.cli.ingest import _progress


def test_a_stage_after_the_file_keeps_its_own_clock() -> None:
    bar = _progress(by_rows=False)
    read = bar.add_task("1,000 rows", total=2048)
    bar.update(read, completed=2048)  # the whole file is read: that task's clock stops
    stage = bar.add_task("recounting customer statistics", total=None, stage=True)
    time.sleep(0.01)
    tasks = {t.id: t for t in bar.tasks}
    assert tasks[read].finished
    assert not tasks[stage].finished
    assert tasks[stage].elapsed is not None
    assert tasks[stage].elapsed > 0
    rows = {
        task_id: [str(column.render(tasks[task_id])) for column in bar.columns]
        for task_id in (read, stage)
    }
    assert "2.0/2.0 kB" in rows[read][2]
    assert rows[stage][2] == ""  # a stage counts no bytes
    assert rows[stage][4] == ""  # and has no time left to guess
