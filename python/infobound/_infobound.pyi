"""Type stubs of the native module (PyO3). Use the functions of ``infobound`` instead: they
check inputs and build the ``Report``."""

from typing import Any, Callable, Dict, List, Optional, Tuple, Union

import numpy as np

__version__: str

class EstimationError(RuntimeError):
    """A failure while running: no GPU where one was required, divergence, a runaway run."""

def estimate(
    x: np.ndarray,
    y: np.ndarray,
    *,
    bound: str = "smile",
    critic: str = "separable",
    hidden: Optional[List[int]] = None,
    embed: Optional[int] = None,
    steps: Optional[int] = None,
    batch: Optional[int] = None,
    lr: Optional[float] = None,
    seed: int = 0,
    device: str = "auto",
    transform: Optional[str] = None,
    test_fraction: Optional[float] = None,
    replicas: int = 1,
    geometry: Optional[str] = None,
    progress: Optional[Callable[[int, int, float, Optional[float]], None]] = None,
) -> Dict[str, Any]: ...
def devices() -> List[Dict[str, Any]]: ...
def bound_names() -> List[str]: ...
def sandwich(
    y: np.ndarray,
    mu: np.ndarray,
    sigma: np.ndarray,
    *,
    block: Optional[int] = None,
    device: str = "auto",
    gradients: bool = False,
) -> Dict[str, Any]: ...
def contrastive_loss(
    g: np.ndarray,
    h: np.ndarray,
    temperature: float = 1.0,
    symmetric: bool = False,
    *,
    device: str = "auto",
) -> Tuple[float, np.ndarray, np.ndarray]: ...
def staircase(
    *,
    dim: Optional[int] = None,
    mis: Optional[List[float]] = None,
    steps_per_stage: Optional[int] = None,
    bound: str = "smile",
    critic: str = "separable",
    hidden: Optional[List[int]] = None,
    embed: Optional[int] = None,
    batch: Optional[int] = None,
    lr: Optional[float] = None,
    seed: int = 0,
    device: str = "auto",
) -> Dict[str, Any]: ...
def mine_demo(
    *,
    dim: Optional[int] = None,
    rhos: Optional[List[float]] = None,
    steps: Optional[int] = None,
    hidden: Optional[List[int]] = None,
    batch: Optional[int] = None,
    lr: Optional[float] = None,
    alpha: Optional[float] = None,
    seed: int = 0,
    device: str = "auto",
) -> Dict[str, Any]: ...
def estimate_many(
    pairs: List[Tuple[np.ndarray, np.ndarray]],
    settings: Dict[str, Any],
    progress: Optional[
        Callable[[int, int, int, int, float, int, int, Optional[float]], None]
    ] = None,
) -> List[Union[Dict[str, Any], Exception]]: ...
def estimate_column_pairs(
    x: np.ndarray,
    groups: List[List[int]],
    pairs: List[Tuple[int, int]],
    settings: Dict[str, Any],
    progress: Optional[
        Callable[[int, int, int, int, float, int, int, Optional[float]], None]
    ] = None,
) -> List[Union[Dict[str, Any], Exception]]: ...
def plan_many(
    shapes: List[Tuple[Tuple[int, int], Tuple[int, int]]], settings: Dict[str, Any]
) -> List[Dict[str, Any]]: ...
def mi_matrix(
    x: np.ndarray,
    groups: List[List[int]],
    settings: Dict[str, Any],
    progress: Optional[
        Callable[[int, int, int, int, float, int, int, Optional[float]], None]
    ] = None,
) -> Dict[str, Any]: ...
