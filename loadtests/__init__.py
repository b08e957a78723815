"""Locust load: locustfiles (imported only inside the Locust subprocess) and
the runner that drives Locust from the harness."""
