import base.Accounts;
import base.Procfs;
import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class ProcfsTest {
    @Test
    void parsesACommWithSpacesAndParentheses() {
        String stat = "4242 (we) ird (x)) S 17 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 100 18446744073709551615";
        Procfs.Stat s = Procfs.parseStat(stat);
        assertEquals("we) ird (x)", s.comm());
        assertEquals(17, s.ppid());
        assertEquals(-1, s.tpgid());
        assertEquals(987654L, s.startTicks());
    }

    @Test
    void rejectsGarbage() {
        assertThrows(IllegalArgumentException.class, () -> Procfs.parseStat("no parens here"));
        assertThrows(IllegalArgumentException.class, () -> Procfs.parseStat("1 (x) S 1"));
    }

    @Test
    void readsRealProcessesAndTheirTrees() throws Exception {
        // A shell with a child under a name holding a space and a paren, as comm shows it.
        Path dir = Files.createTempDirectory("t3-procfs");
        Path odd = dir.resolve("sl eep)x");
        Files.createSymbolicLink(odd, Path.of("/bin/sleep"));
        Process sh = new ProcessBuilder("bash", "-c", "'" + odd + "' 30 & wait").start();
        try {
            assertTrue(Children.waitFor(() -> Procfs.read().selfAndDescendants((int) sh.pid()).size() == 2, java.time.Duration.ofSeconds(5)));
            Procfs procs = Procfs.read();
            List<Procfs.Proc> tree = procs.selfAndDescendants((int) sh.pid());
            Procfs.Proc child = tree.get(1);
            assertEquals("sl eep)x", child.comm());
            assertEquals((int) sh.pid(), child.ppid());
            assertEquals(List.of(odd.toString(), "30"), child.argv());
            assertEquals(Accounts.currentUid(), child.uid());
            String stat = Files.readString(Path.of("/proc/" + child.pid() + "/stat"));
            assertEquals(Procfs.parseStat(stat).startTicks(), child.startTicks());
            long startedAgo = java.time.Duration.between(procs.startTime(child), java.time.Instant.now()).toSeconds();
            assertTrue(startedAgo >= 0 && startedAgo < 60, "start time from btime + ticks is now-ish: " + startedAgo);
            assertEquals(Path.of("/").toRealPath(), procs.cwd(child.pid()).orElseThrow().toRealPath().getRoot());
        } finally {
            sh.descendants().forEach(ProcessHandle::destroy);
            sh.destroy();
        }
    }
}
