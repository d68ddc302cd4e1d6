"""The example of README "From Python" runs as printed: it certifies a W
trained elsewhere (here a W from mdatt.train, saved as .npy)."""
import os
import re

import mdatt
import numpy as np


def test_readme_example_runs(tmp_path, capsys, monkeypatch):
    src = os.environ.get("MDATT_SRCDIR", os.path.join(os.path.dirname(__file__), "..", ".."))
    with open(os.path.join(src, "README.md")) as f:
        block = re.search(r"## From Python.*?```python\n(.*?)```", f.read(), re.S).group(1)
    g = mdatt.gen()
    np.savez(tmp_path / "data.npz", **g)
    np.save(tmp_path / "my_W.npy", mdatt.train(g["X"], g["Y"], g["Z"], g["v"], 1.5, 0.1,
                                                 3000)["W"])
    monkeypatch.chdir(tmp_path)
    exec(compile(block, "README.md", "exec"), {})
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("optimal ") and "'pass'" in out[1]
