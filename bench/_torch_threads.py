"""Thread control shared by the PyTorch peers: `torch.set_num_threads(n)` sets torch's OpenMP threads but not
OpenBLAS's own pool (Debian's torch calls libblas.so.3, which may be OpenBLAS, started with one thread per core),
so a "1-thread" torch would still run its GEMMs on every core. `set_threads(n)` sets both."""
import ctypes
import ctypes.util

import torch


def _openblas():
    try:
        with open("/proc/self/maps") as f:
            paths = sorted({line.split()[-1] for line in f if "libopenblas" in line})
    except OSError:
        return None
    for path in paths:
        try:
            lib = ctypes.CDLL(path)
            lib.openblas_set_num_threads.argtypes = [ctypes.c_int]
            return lib
        except (OSError, AttributeError):
            continue
    return None


def set_threads(n):
    """torch's threads and, when torch's BLAS is OpenBLAS, OpenBLAS's threads; returns the BLAS thread count."""
    torch.set_num_threads(n)
    torch.mm(torch.ones(2, 2), torch.ones(2, 2))  # make sure the BLAS is loaded and mapped
    lib = _openblas()
    if lib is None:
        return None
    lib.openblas_set_num_threads(n)
    return lib.openblas_get_num_threads()
