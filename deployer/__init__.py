"""chaosgate deployer: tools, images, clusters, Helm and the stack under test.

A plain typed library (never imports pytest) plus a CLI: ``python -m deployer``.
"""
