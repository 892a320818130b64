"""The Ray GPU id → wgpu adapter mapping (infobound._placement, which needs no Ray): tasks
holding different GPUs of a node get different cards."""

import pytest

from infobound._placement import adapter_for


def adapter(index, name, backend="Vulkan", software=False):
    return dict(index=index, name=name, backend=backend, is_software=software,
                device_type="DiscreteGpu", driver="", chosen=index == 0)


#: A node with four cards listed by two backends, best first, and a software adapter.
NODE = [
    adapter(0, "NVIDIA H100 #0"),
    adapter(1, "NVIDIA H100 #1"),
    adapter(2, "NVIDIA H100 #2"),
    adapter(3, "NVIDIA H100 #3"),
    adapter(4, "NVIDIA H100 #0", backend="Gl"),
    adapter(5, "NVIDIA H100 #1", backend="Gl"),
    adapter(6, "llvmpipe", software=True),
]


def test_each_gpu_id_gets_its_own_card():
    got = [adapter_for([k], NODE) for k in range(4)]
    assert got == [0, 1, 2, 3] and len(set(got)) == 4
    # Ray's ids as strings (as some versions give them) map alike.
    assert [adapter_for([str(k)], NODE) for k in range(4)] == got


def test_a_card_listed_twice_is_counted_once_and_software_is_skipped():
    # Ids past the cards wrap around rather than reach the second backend or llvmpipe.
    assert adapter_for([4], NODE) == 0 and adapter_for([5], NODE) == 1


def test_several_gpus_train_on_the_first_and_none_maps_to_none():
    assert adapter_for([2, 3], NODE) == 2
    assert adapter_for([], NODE) is None


def test_software_adapters_count_only_when_a_gpu_is_required(monkeypatch):
    soft = [adapter(0, "llvmpipe", software=True)]
    monkeypatch.delenv("INFOBOUND_REQUIRE_GPU", raising=False)
    assert adapter_for([1], soft) is None
    monkeypatch.setenv("INFOBOUND_REQUIRE_GPU", "1")
    assert adapter_for([1], soft) == 0


def test_ids_that_are_not_integers_take_the_first_card():
    assert adapter_for(["GPU-5a1c"], NODE) == 0


@pytest.mark.parametrize("ids", [[0], [1]])
def test_the_mapping_reads_this_nodes_adapters_by_default(ids):
    import infobound

    got = adapter_for(ids)
    assert got is None or got in [a["index"] for a in infobound.devices()]
