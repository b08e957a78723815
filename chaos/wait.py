"""The one wait helper, for chaos code: see :mod:`deployer.wait`.

It lives in the deployer (the lowest layer) because the deployer waits too,
and imports only point down; chaos code may import it from here.
"""

from deployer.wait import Deadline, Seen, wait_until

__all__ = ["Deadline", "Seen", "wait_until"]
