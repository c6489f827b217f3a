"""Peak resident memory of this process since it started.

`resource.getrusage().ru_maxrss` is no good in a subprocess: Linux carries the
parent's peak across fork and exec, so a small child reports its (bigger)
parent's figure. VmHWM in /proc belongs to the process's own address space,
which exec creates anew.
"""

from __future__ import annotations

import resource


def peak_rss_kb() -> int:
    """Peak RSS in KiB (VmHWM; ru_maxrss where /proc is missing)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
