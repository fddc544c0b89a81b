"""PyTorch 2.13 deprecates torch.ao.quantization (moving to torchao) and warns on each
use; these tests use it as the reference, so its deprecation warnings are silenced."""
import pytest


def pytest_collection_modifyitems(items):
    for item in items:
        item.add_marker(pytest.mark.filterwarnings("ignore:torch.ao.quantization is deprecated"))
        item.add_marker(pytest.mark.filterwarnings(
            "ignore:torch.quantize_per_tensor, torch.quantize_per_channel"))
        item.add_marker(pytest.mark.filterwarnings("ignore:Please use quant_min and quant_max"))
