"""Set-up of the worker processes of qproto's own process pools (``qproto run --workers``, ``qproto bench``).

A worker ignores Ctrl-C (the parent handles it and ends the workers) and, on Linux, asks the
kernel to kill it when its parent process ends, even by ``kill -9``: without that, the workers
of a killed ``qproto`` stayed behind, blocked on a queue nobody writes to.
"""

from __future__ import annotations

import os
import signal
import sys

#: ``PR_SET_PDEATHSIG`` from <linux/prctl.h>: the signal sent to this process when its parent ends.
_PR_SET_PDEATHSIG = 1


def worker_initializer(parent_pid: int | None = None) -> None:  # pragma: no cover (runs in the workers)
    """Initializer for a ``concurrent.futures`` process pool's workers.

    Args:
        parent_pid: the process id of the pool's owner, or None when the workers' parent is
            another process (a forkserver). If the parent has already gone when the worker
            starts, the worker exits at once.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # no prctl: the workers merely outlive a killed parent
        return
    if parent_pid is not None and os.getppid() != parent_pid:  # the parent died before prctl
        os._exit(1)
