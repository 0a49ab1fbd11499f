"""Drive bench/perf/peer_flair.py in the peer environment: one JSON command, one JSON answer.

The peer (flair, transformers 4) lives in its own venv, ``.venv-peer`` at the repository
root (``make perf-peer`` builds it; ``CTXBENCH_PEER_PYTHON`` points elsewhere). It loads its
model once and then waits on stdin, so the two sides of a comparison can alternate repeat by
repeat while only one of them computes at a time.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).with_name("peer_flair.py")


class PeerError(RuntimeError):
    """The peer could not start, or answered with an error."""


def peer_python() -> Path:
    """The peer venv's interpreter; a clear error naming the make target when it is missing."""
    env = os.environ.get("CTXBENCH_PEER_PYTHON")
    path = Path(env) if env else ROOT / ".venv-peer" / "bin" / "python"
    if not path.is_file():
        raise PeerError(f"no peer environment at {path}: build it with `make perf-peer` "
                        "(or set CTXBENCH_PEER_PYTHON to a python with flair installed)")
    return path


class FlairPeer:
    """A running peer_flair.py process; use as a context manager.

    Parameters
    ----------
    model_dir : the checkpoint directory flair loads
    sets : {"warmup": [...], "sets": [[...], ...]}, written to a temporary JSON file
    batch_size, threads, pooling : passed to the peer
    timeout : seconds to wait for any one answer (model loading included)
    """

    def __init__(self, model_dir: Path, sets: dict[str, Any], *, batch_size: int, threads: int,
                 pooling: str = "mean", timeout: float = 900.0) -> None:
        self.timeout = timeout
        python = peer_python()
        self._sets = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False, encoding="utf-8")
        json.dump(sets, self._sets)
        self._sets.close()
        self._stderr: IO[str] = tempfile.TemporaryFile("w+", encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # nothing of ctxbench in the peer
        env.update(TOKENIZERS_PARALLELISM="false", HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
        self.proc = subprocess.Popen(
            [str(python), str(SCRIPT), "--model", str(model_dir), "--sentences", self._sets.name,
             "--batch-size", str(batch_size), "--threads", str(threads), "--pooling", pooling],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr, text=True, env=env,
            cwd=tempfile.gettempdir(),
        )
        self._lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.ready = self._answer("ready")

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._lines.put(line)
        self._lines.put(None)  # end of output

    def _answer(self, expected: str) -> dict[str, Any]:
        while True:
            try:
                line = self._lines.get(timeout=self.timeout)
            except queue.Empty:
                line, why = None, f"timed out after {self.timeout:.0f} s"
            else:
                why = "exited"
            if line is None:
                self.close()
                raise PeerError(f"the flair peer gave no answer ({why}); stderr: {self.stderr_tail()}")
            try:
                msg = json.loads(line)
            except json.JSONDecodeError:
                continue  # something else printed to stdout; the protocol lines are JSON objects
            if isinstance(msg, dict) and "event" in msg:
                break
        if msg.get("event") != expected:
            err = msg.get("error", msg)
            self.close()
            raise PeerError(f"flair peer: {err}")
        return msg

    def time(self, set_index: int, order: str) -> dict[str, Any]:
        """Embed one set in the peer (``order``: 'file' or 'sorted'); its timing answer."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps({"op": "time", "set": set_index, "order": order}) + "\n")
        self.proc.stdin.flush()
        return self._answer("timed")

    def stderr_tail(self, n: int = 1500) -> str:
        self._stderr.seek(0)
        return self._stderr.read()[-n:].strip()

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                assert self.proc.stdin is not None
                self.proc.stdin.write(json.dumps({"op": "quit"}) + "\n")
                self.proc.stdin.flush()
                self.proc.wait(timeout=30)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()
        Path(self._sets.name).unlink(missing_ok=True)

    def __enter__(self) -> FlairPeer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
        self._stderr.close()
