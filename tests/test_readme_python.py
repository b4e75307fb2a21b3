"""The README's "From Python" walkthrough, executed as written (in a temporary working folder, so
``res.save("results")`` writes there), so the documented API cannot drift from the code."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def _walkthrough() -> str:
    text = README.read_text(encoding="utf-8")
    section = text.split("### From Python", 1)[1].split("\n### ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    assert len(blocks) == 1, "the From Python section has one python block"
    return blocks[0]


def test_the_from_python_walkthrough_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    scope: dict = {}
    exec(compile(_walkthrough(), str(README) + ":From Python", "exec"), scope)  # noqa: S102
    res, g, cmp, pf = scope["res"], scope["g"], scope["cmp"], scope["pf"]
    assert repr(res).startswith("<Backtest russell-fed-rotation 2005-")
    assert scope["folder"].parent == Path("results") and (scope["folder"] / "report.html").is_file()
    assert len(g.table) == 12 and scope["heat"].data
    assert cmp.labels[0] == "russell-fed-rotation"
    assert scope["study"].summary.shape[0] > 0
    assert abs(pf.value().iloc[-1] - res.equity.iloc[-1]) < 1e-6 * res.equity.iloc[-1]
