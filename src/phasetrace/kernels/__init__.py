"""The exact kernels: the Sᶻ = 0 basis (:mod:`.basis`), the Chebyshev evolution of the random-field Heisenberg
chain (:mod:`.heisenberg`) with its precisions (:mod:`.precision`) and call batching (:mod:`.batching`), and the
binary Floquet drive (:mod:`.floquet`). They import JAX; nothing above the models imports them at parse time."""
