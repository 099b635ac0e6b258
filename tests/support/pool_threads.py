"""How many threads the C core's last fill on this thread really used."""
from fastinit import _core


def threads_used():
    """The threads the C core really ran the last fill on (caller included)."""
    return _core.last_fill_info()["threads"]


def reaches(call, threads, tries=200):
    """Whether some run of call has its fill done by exactly `threads` threads
    (never more). One run may count fewer: a pool worker that is not scheduled
    before the calling thread has claimed every block stays out of the fill,
    which happens on a loaded machine."""
    for _ in range(tries):
        call()
        used = threads_used()
        assert 1 <= used <= threads
        if used == threads:
            return True
    return False
