"""Which wgpu adapter a Ray task trains on: its Ray GPU id mapped to one of the node's cards
(no Ray needed here, so that the mapping is tested without it)."""

from __future__ import annotations

import os
from typing import Any, Dict, List, Optional, Sequence, Union


def adapter_for(
    gpu_ids: Sequence[Union[int, str]], adapters: Optional[List[Dict[str, Any]]] = None
) -> Optional[int]:
    """The wgpu adapter index (N of ``device="gpu:N"``) for a Ray task holding GPUs
    ``gpu_ids`` (``ray.get_gpu_ids()``), among ``adapters`` (default
    :func:`infobound.devices` on this node); None where there is none to map to.

    The node's cards are its hardware adapters of one backend (the best adapter's: a card
    that two backends list is counted once), in the driver's order; Ray GPU id k takes card
    k (modulo their count), so tasks holding different GPUs of a node train on different
    cards. Software adapters count only under ``INFOBOUND_REQUIRE_GPU=1`` (as for
    ``device="auto"``). A task holding several GPUs trains on its first (one batched run
    uses one adapter). Ids that are not integers (UUIDs) all map to the first card.
    """
    if not gpu_ids:
        return None
    if adapters is None:
        from . import devices

        adapters = devices()
    cards = [a for a in adapters if not a["is_software"]]
    if not cards and os.environ.get("INFOBOUND_REQUIRE_GPU") == "1":
        cards = list(adapters)
    if not cards:
        return None
    backend = cards[0]["backend"]
    cards = [a for a in cards if a["backend"] == backend]
    try:
        k = int(gpu_ids[0])
    except (TypeError, ValueError):
        k = 0
    return int(cards[k % len(cards)]["index"])
