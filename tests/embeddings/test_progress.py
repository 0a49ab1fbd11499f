"""Progress bars in a log file: a few plain lines, never one per update or carriage-return redraws."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

BAR_LINE = re.compile(r"^\w[\w -]*: +\d+%\|")

# a training-loop-like bar: an update, a postfix and now and then a log line, about 2.4 s in all
WORK = """
import time
from tqdm import tqdm
from embeddings.progress import progress_bar
bar = progress_bar(total=240, desc="train")
for i in range(240):
    time.sleep(0.01)
    bar.update(1)
    bar.set_postfix(loss=f"{i:.3f}")
    if i % 20 == 0:
        tqdm.write(f"cell {i}")
bar.close()
"""


def _run(tmp_path: Path, interval: str) -> list[str]:
    err = tmp_path / "stderr.log"
    env = {**os.environ, "CTXBENCH_PROGRESS": "1", "CTXBENCH_PROGRESS_INTERVAL": interval}
    with err.open("w") as f:  # a file, not a terminal
        subprocess.run([sys.executable, "-c", WORK], stderr=f, stdout=subprocess.DEVNULL, env=env, check=True)
    text = err.read_text()
    assert "\r" not in text
    return [line for line in text.splitlines() if BAR_LINE.match(line)]


def test_a_bar_writing_to_a_file_prints_a_line_per_interval_however_often_it_is_redrawn(tmp_path):
    lines = _run(tmp_path, "0.5")  # ~2.4 s of work: about 5 lines, not 240 + 12
    assert 3 <= len(lines) <= 8, lines
    assert lines[-1].startswith("train: 100%|") and "240/240" in lines[-1]


def test_with_the_default_interval_a_short_bar_writes_its_first_and_final_state_only(tmp_path):
    lines = _run(tmp_path, "60")
    assert len(lines) <= 2, lines
    assert "240/240" in lines[-1]
