import base.Exec;
import static org.junit.jupiter.api.Assertions.*;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A child's output is bounded: a child that prints without end costs bounded memory, and still finishes. */
class ExecTest {
    @Test
    void aFloodOfOutputIsReadToTheEndButOnlyItsStartIsKept() {
        long heapBefore = usedHeap();
        // 200 MiB on stdout and 8 MiB on stderr, far past both bounds; the child must not block on a full pipe.
        Exec.Result r = Exec.run(List.of("sh", "-c", "head -c 200M /dev/zero | tr '\\0' x; head -c 8M /dev/zero | tr '\\0' e >&2; exit 3"),
                Duration.ofSeconds(60));
        assertFalse(r.timedOut(), "the child was drained to its end");
        assertEquals(3, r.exit(), "its exit code is still its own");
        assertTrue(r.truncated());
        assertEquals(Exec.MAX_OUT, r.out().length(), "the first MAX_OUT bytes of stdout, no more");
        assertEquals(Exec.MAX_ERR, r.err().length(), "the first MAX_ERR bytes of stderr, no more");
        assertTrue(r.out().chars().allMatch(c -> c == 'x') && r.err().chars().allMatch(c -> c == 'e'));
        assertTrue(usedHeap() - heapBefore < 200L << 20, "the flood was not held in memory");
    }

    @Test
    void aChildThatNeverStopsPrintingCostsItsTimeoutAndABoundedResult() {
        Exec.Result r = Exec.run(List.of("yes"), Duration.ofSeconds(2));
        assertTrue(r.timedOut());
        assertTrue(r.truncated());
        assertTrue(r.out().length() <= Exec.MAX_OUT, "kept " + r.out().length());
        assertTrue(r.out().startsWith("y\ny\n"));
    }

    @Test
    void theFirstBytesAreKeptExactlyAndAShortOutputIsWhole() {
        Exec.Result cut = Exec.run(List.of("sh", "-c", "printf abcdef; printf 0123456789 >&2"), Map.of(), Duration.ofSeconds(10), 3, 4);
        assertEquals("abc", cut.out());
        assertEquals("0123", cut.err());
        assertTrue(cut.truncated());
        Exec.Result whole = Exec.run(List.of("sh", "-c", "printf abc; printf 0123 >&2"), Map.of(), Duration.ofSeconds(10), 3, 4);
        assertEquals("abc", whole.out());
        assertEquals("0123", whole.err());
        assertFalse(whole.truncated(), "exactly the bound is not a truncation");
    }

    static long usedHeap() {
        System.gc();
        Runtime rt = Runtime.getRuntime();
        return rt.totalMemory() - rt.freeMemory();
    }
}
