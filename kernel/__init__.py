"""The shared kernel: errors, waits, processes, progress and file helpers.

Every layer of chaosgate (deployer, chaos, loadtests, scenarios) may import
it; it imports nothing of ours. Keep it to these five things: anything that
knows about clusters, images, MinIO or Locust belongs in a layer above.
"""
