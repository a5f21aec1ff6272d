"""Running work in parallel threads, each with its own database connection, all
released at once: how the race tests make two people act at the same moment."""

import threading
from collections.abc import Callable

from django.db import connection


def race(work: Callable[[int], object], n: int = 2) -> list[object]:
    """Runs ``work(i)`` for i in 0..n-1 at once; returns each result or exception."""
    barrier = threading.Barrier(n)
    results: list[object] = [None] * n

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = work(i)
        except BaseException as error:
            results[i] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results
