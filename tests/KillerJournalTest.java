import base.KernelLog;
import base.KillerJournal;
import store.SnapshotFormat;
import tmux.ServerCrash;
import tmux.Tmux;
import static org.junit.jupiter.api.Assertions.*;

import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * The journal's evidence that a tmux server was killed by something other than the kernel's OOM
 * killer (earlyoom, systemd-oomd) or crashed (systemd-coredump), read from journalctl's JSON as
 * those daemons write it (field names and texts of earlyoom 1.7/1.8, systemd 252), and tied to
 * the very server it names. A line anyone could log (no _SYSTEMD_UNIT of theirs) is none.
 * UserSpaceKillersTest shows the same on a real systemd.
 */
class KillerJournalTest {
    static final String BOOT = "0f0e0d0c-0000-4000-8000-00000000b007";
    static final Instant START = Instant.parse("2026-11-30T10:00:00Z");
    static final Tmux.Server SERVER = new Tmux.Server(4242, START.getEpochSecond(), BOOT, "/user.slice/user-1001.slice/session-3.scope");
    static final long KILLED = START.plusSeconds(600).toEpochMilli() * 1000;

    static String entry(String unit, String message, long micros, String... more) {
        StringBuilder b = new StringBuilder("{\"__REALTIME_TIMESTAMP\":\"" + micros + "\",\"MESSAGE\":" + json(message) + ",\"PRIORITY\":\"4\"");
        if (unit != null) b.append(",\"_SYSTEMD_UNIT\":").append(json(unit));
        for (int i = 0; i + 1 < more.length; i += 2) b.append(",").append(json(more[i])).append(":").append(json(more[i + 1]));
        return b.append("}").toString();
    }

    static String json(String s) {
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    static ServerCrash crashes(String... entries) {
        KillerJournal.Lines j = KillerJournal.parse(String.join("\n", entries));
        return new ServerCrash(START.minusSeconds(86400), BOOT, () -> new KernelLog.Lines(List.of(), List.of()), () -> j);
    }

    @Test
    void earlyoomsSignalToThatVeryServerIsEvidence() {
        String v17 = "sending SIGTERM to process 4242 uid 1001 \"tmux: server\": badness 900, VmRSS 1234 MiB";
        String v18 = "sending SIGKILL to process 4242 uid 1001 \"tmux: server\": oom_score 823, VmRSS 79 MiB, cmdline \"tmux\"";
        for (String line : List.of(v17, v18)) {
            Optional<String> e = crashes(entry("earlyoom.service", line, KILLED, "SYSLOG_IDENTIFIER", "earlyoom")).evidence(1001, SERVER);
            assertTrue(e.orElse("").startsWith("earlyoom (SIG"), line + " -> " + e);
        }
        assertEquals(Optional.empty(), crashes(entry(null, v18, KILLED, "SYSLOG_IDENTIFIER", "earlyoom", "_COMM", "cat")).evidence(1001, SERVER),
                "the same words logged by anyone else (systemd-cat -t earlyoom: no _SYSTEMD_UNIT of earlyoom's) are no evidence");
        assertEquals(Optional.empty(), crashes(entry("session-3.scope", v18, KILLED)).evidence(1001, SERVER), "from her own session's unit");
        assertEquals(Optional.empty(), crashes(entry("earlyoom.service", v18.replace("4242", "4243"), KILLED)).evidence(1001, SERVER), "another pid");
        assertEquals(Optional.empty(), crashes(entry("earlyoom.service", v18.replace("uid 1001", "uid 1002"), KILLED)).evidence(1001, SERVER), "another user's");
        assertEquals(Optional.empty(), crashes(entry("earlyoom.service", v18.replace("tmux: server", "claude"), KILLED)).evidence(1001, SERVER),
                "another process that had the pid");
        assertEquals(Optional.empty(), crashes(entry("earlyoom.service", v18, START.minusSeconds(60).toEpochMilli() * 1000)).evidence(1001, SERVER),
                "before this server started: an earlier process of that pid");
        assertEquals(Optional.empty(), crashes(entry("earlyoom.service", "sending SIGTERM when mem <= 10.00% and swap <= 10.00%,", KILLED))
                .evidence(1001, SERVER), "its start-up banner");
    }

    @Test
    void systemdOomdsKillOfItsCgroupIsEvidence() {
        String killed = "Killed /user.slice/user-1001.slice/session-3.scope due to memory pressure for /user.slice/user-1001.slice being 59.83% > 50.00% for > 20s with reclaim activity";
        assertTrue(crashes(entry("systemd-oomd.service", killed, KILLED)).evidence(1001, SERVER).orElse("").startsWith("systemd-oomd, which killed /user.slice/"));
        String above = "Killed /user.slice/user-1001.slice due to memory used (100) / total (100) and swap used (99) / total (100) being more than 90.00%";
        assertTrue(crashes(entry("systemd-oomd.service", above, KILLED)).evidence(1001, SERVER).isPresent(), "a cgroup above the server's: every process in it");
        String marked = "Marked /user.slice/user-1001.slice/session-3.scope for killing due to memory pressure for /user.slice being 61.00% > 50.00% for > 20s with reclaim activity";
        assertTrue(crashes(entry("systemd-oomd.service", marked, KILLED)).evidence(1001, SERVER).isPresent(), "newer systemd's words");
        assertEquals(Optional.empty(), crashes(entry("systemd-oomd.service", killed.replace("session-3.scope", "session-30.scope"), KILLED)).evidence(1001, SERVER),
                "a sibling whose name starts the same");
        assertEquals(Optional.empty(), crashes(entry("systemd-oomd.service", killed, KILLED)).evidence(1001, SERVER.withCgroup(null)),
                "a server whose cgroup was not recorded");
        assertEquals(Optional.empty(), crashes(entry(null, killed, KILLED, "SYSLOG_IDENTIFIER", "systemd-oomd")).evidence(1001, SERVER), "forged");
    }

    @Test
    void aCoredumpOfThatVeryServerIsEvidence() {
        String[] fields = {"MESSAGE_ID", "fc2e22bc6ee647b6b90729ab34a250b1", "COREDUMP_PID", "4242", "COREDUMP_UID", "1001",
                "COREDUMP_COMM", "tmux: server", "COREDUMP_SIGNAL_NAME", "SIGSEGV", "COREDUMP_SIGNAL", "11"};
        String unit = "systemd-coredump@0-1234-0.service";
        String text = "Process 4242 (tmux: server) of user 1001 dumped core.";
        assertEquals(Optional.of("a crash of tmux itself (SIGSEGV, core dumped) at 2026-11-30T10:10:00Z (journal)"),
                crashes(entry(unit, text, KILLED, fields)).evidence(1001, SERVER));
        assertEquals(Optional.empty(), crashes(entry("session-3.scope", text, KILLED, fields)).evidence(1001, SERVER),
                "logger --journald with every COREDUMP_ field: not from systemd-coredump's unit");
        String[] other = fields.clone();
        other[3] = "4243";
        assertEquals(Optional.empty(), crashes(entry(unit, text, KILLED, other)).evidence(1001, SERVER), "another pid");
    }

    @Test
    void aLineThatDoesNotReadIsNoEvidenceAndTheRestStillIs() {
        String good = entry("earlyoom.service", "sending SIGKILL to process 4242 uid 1001 \"tmux: server\": badness 900, VmRSS 1 MiB", KILLED);
        KillerJournal.Lines j = KillerJournal.parse("{not json\n{\"MESSAGE\":[1,2,3],\"_SYSTEMD_UNIT\":\"earlyoom.service\"}\n" + good + "\n");
        assertEquals(1, j.kills().size(), j.toString());
    }

    @Test
    void theSnapshotKeepsTheServersCgroupAndAnOlderReaderStillFindsTheServer() {
        String text = SnapshotFormat.format(List.of(), SERVER.withCgroup("/user.slice/a\tb"));
        Tmux.Server back = SnapshotFormat.parse(text).server();
        assertEquals(SERVER.withCgroup("/user.slice/a\tb"), back, text);
        String header = text.lines().findFirst().orElseThrow();
        assertTrue(header.substring(header.lastIndexOf('\t') + 1).startsWith("server " + SERVER.key()), "the server stays the header's last field: " + header);
        assertNull(SnapshotFormat.parse(SnapshotFormat.format(List.of(), SERVER.withCgroup(null))).server().cgroup());
    }
}
