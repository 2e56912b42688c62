"""phasetrace: learning phase diagrams of quantum many-body systems from the dynamics of observables.

The numerical kernels run in double precision, so importing the package turns on JAX's 64-bit mode.
"""

from importlib.metadata import PackageNotFoundError, version

import jax

jax.config.update("jax_enable_x64", True)

try:
    __version__ = version("phasetrace")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0+unknown"
