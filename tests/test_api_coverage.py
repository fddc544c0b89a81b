"""tools/api_coverage.py counts the PyTorch names ember implements, and only those."""
import importlib.util
from pathlib import Path

import torch

import ember

TOOL = Path(__file__).resolve().parents[1] / "tools" / "api_coverage.py"


def _tool():
    spec = importlib.util.spec_from_file_location("api_coverage", TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_counts_match_the_namespaces():
    tool = _tool()
    rows = {label: (wanted, have, user_api) for label, wanted, have, user_api in tool.coverage()}
    wanted, have, user_api = rows["torch"]
    assert {"add", "matmul", "zeros"} <= have
    assert all(hasattr(ember, n) and hasattr(torch, n) for n in have)
    assert not any(hasattr(ember, n) for n in wanted - have)
    assert user_api <= wanted
    t_wanted, t_have, _ = rows["torch.Tensor"]
    assert "backward" in t_have and all(hasattr(ember.Tensor, n) for n in t_have)


def test_backend_plumbing_is_not_user_api():
    tool = _tool()
    assert not tool.is_user_api("cudnn_convolution", torch.cudnn_convolution)
    assert not tool.is_user_api("FloatTensor", torch.FloatTensor)
    assert not tool.is_user_api("ScriptModule", torch.ScriptModule)
    assert tool.is_user_api("add", torch.add)
    assert tool.is_user_api("Generator", torch.Generator)


def test_table_totals_add_up():
    tool = _tool()
    summary = tool.table(tool.coverage())
    total = summary[-1]
    assert total[0] == "total"
    assert int(total[1]) == sum(int(r[1]) for r in summary[:-1])
    assert int(total[4]) == sum(int(r[4]) for r in summary[:-1])
    text = tool.format_rst(summary, tool.coverage())
    assert "list-table" in text and "torch.linalg" in text
