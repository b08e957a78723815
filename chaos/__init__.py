"""chaosgate chaos library: faults (with proof of injection), probes, waits.

A plain typed library: it never imports pytest, so a person can call it from
a REPL against a live cluster.
"""
