"""phasetrace: learning phase diagrams of quantum many-body systems from the dynamics of observables.

The numerical modules (:mod:`.heisenberg`, :mod:`.floquet`) run in double precision and turn on JAX's 64-bit
mode when imported; the light modules (:mod:`.config`, :mod:`.sweep`) import no JAX, so the workflow parses fast.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("phasetrace")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0+unknown"
