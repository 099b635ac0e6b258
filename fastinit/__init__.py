"""fastinit: fast, reproducible neural-network weight initialization into
NumPy arrays. The value at every position is a pure function of
``(seed, stream, position)``: independent of threads, chunking, CPU and
machine."""
from ._config import show_config
from .fans import calculate_gain, compute_fans
from .initializers import (
    bits,
    glorot_normal,
    glorot_uniform,
    he_normal,
    he_uniform,
    kaiming_normal,
    kaiming_uniform,
    lecun_normal,
    lecun_uniform,
    normal,
    orthogonal,
    truncated_normal,
    uniform,
    variance_scaling,
    xavier_normal,
    xavier_uniform,
)

__version__ = "0.1.0"

__all__ = [
    "bits", "calculate_gain", "compute_fans",
    "glorot_normal", "glorot_uniform", "he_normal", "he_uniform",
    "kaiming_normal", "kaiming_uniform", "lecun_normal", "lecun_uniform",
    "normal", "orthogonal", "show_config", "truncated_normal", "uniform", "variance_scaling",
    "xavier_normal", "xavier_uniform",
]
