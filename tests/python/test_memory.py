"""10 000 svm calls keep the process's memory flat: the resident set size
after the calls exceeds the one after a warm-up of 1 000 calls by little."""
import os

import pytest

import mdatt


def rss_kib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    pytest.skip("no /proc/self/status")


@pytest.mark.skipif(os.environ.get("MDATT_ASAN") == "1",
                    reason="AddressSanitizer's quarantine holds freed memory by design")
def test_svm_calls_keep_memory_flat():
    g = mdatt.gen()
    args = (g["X"], g["Y"], g["Z"], g["v"])
    for _ in range(1000):
        mdatt.svm(*args, 1.5)
    before = rss_kib()
    for k in range(10000):
        r = mdatt.svm(*args, [1, 1.5, 2, 3, float("inf")][k % 5])
        assert r.status == "optimal"
    grown = rss_kib() - before
    # a leak of one small array per call would add > 10 000 * 100 B = 1 MB
    assert grown < 1024, "RSS grew by %d KiB over 10 000 calls" % grown
