"""chaosgate deployer: tools, images, clusters, Helm and the stack under test.

A plain typed library (never imports pytest) plus a CLI: ``python -m deployer``.
"""

import kernel  # noqa: F401  (stops on a Python older than 3.11, naming the fix)
