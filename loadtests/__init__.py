"""Locust load: locustfiles (imported only inside the Locust subprocess), the
runner that drives Locust from the harness, and ``traffic`` (what the load
does next and the bytes it sends: plain logic the locustfiles share)."""
