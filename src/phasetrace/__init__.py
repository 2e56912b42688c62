"""phasetrace: learning phase diagrams of quantum many-body systems from the dynamics of observables.

Importing a module changes no global state: JAX's 64-bit mode, which the kernels need and training runs under, is
set by :func:`phasetrace.runner.configure` (called by the workflow's jobs, the command line and the public API).
The light modules (:mod:`.config`, :mod:`.sweep`) import no JAX, so the workflow parses fast.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("phasetrace")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0+unknown"
