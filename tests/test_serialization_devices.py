"""Where ember.load puts tensors saved from a device, as PyTorch: back on that device by
default (a clear error without it), or where map_location says, the saved location
being what a map_location dict or callable sees.  The files are made by rewriting the
device metadata of a CPU save (tests/cuda/test_gpu_devices.py saves real cuda tensors)."""
import io
import json
import struct

import pytest

import ember


def saved_from(location, devices_json=None):
    """The bytes of ember.save({"w": arange(3), "b": ones(2)}) with "w" recorded as saved
    from ``location``."""
    buffer = io.BytesIO()
    ember.save({"w": ember.arange(3.0), "b": ember.ones(2)}, buffer)
    raw = buffer.getvalue()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    header["__metadata__"]["ember.devices"] = (json.dumps({"w": location})
                                               if devices_json is None else devices_json)
    text = json.dumps(header).encode()
    return io.BytesIO(struct.pack("<Q", len(text)) + text + raw[8 + n:])


def test_cpu_tensors_record_no_device():
    buffer = io.BytesIO()
    ember.save({"w": ember.arange(3)}, buffer)
    assert b"ember.devices" not in buffer.getvalue()


@pytest.mark.skipif(ember.cuda.is_available(), reason="checks the machine without a GPU")
def test_a_cuda_tensor_without_a_gpu_needs_a_map_location():
    with pytest.raises(RuntimeError, match="map_location='cpu'"):
        ember.load(saved_from("cuda:0"))


@pytest.mark.parametrize("map_location", ["cpu", ember.device("cpu"), {"cuda:0": "cpu"},
                                          lambda t, location: t])
def test_map_location_brings_it_to_the_cpu(map_location):
    state = ember.load(saved_from("cuda:0"), map_location=map_location)
    assert state["w"].device.type == "cpu" and state["w"].tolist() == [0.0, 1.0, 2.0]
    assert state["b"].tolist() == [1.0, 1.0]


def test_map_location_sees_the_saved_locations():
    seen = {}

    def record(tensor, location):
        seen[tuple(tensor.shape)] = location
        return tensor
    ember.load(saved_from("cuda:1"), map_location=record)
    assert seen == {(3,): "cuda:1", (2,): "cpu"}


@pytest.mark.parametrize("devices_json", ["{", '["w"]', '{"x": "cpu"}', '{"w": 3}',
                                          '{"w": "gpu:0"}'])
def test_malformed_device_metadata_is_refused(devices_json):
    with pytest.raises(ValueError, match="device"):
        ember.load(saved_from("cpu", devices_json))
