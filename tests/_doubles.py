"""Test doubles shared by several test files (kept out of the library)."""

import concurrent.futures


class CountingExecutor(concurrent.futures.ThreadPoolExecutor):
    """A thread pool that counts the tasks submitted to it (``submitted``), to check that a run
    hands its chunks to the caller's executor and how many it queues."""

    def __init__(self, max_workers: int = 1):
        super().__init__(max_workers)
        self.submitted = 0

    def submit(self, fn, *args, **kwargs):
        self.submitted += 1
        return super().submit(fn, *args, **kwargs)
