import base.Accounts;
import heal.HealPlan;
import base.KernelLog;
import claude.LiveRecords;
import base.Procfs;
import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The parts of heal that read text: the kernel's OOM lines, claude's live records, a prompt line. */
class HealPlanTest {
    @Test
    void readsOomKillsFromTheKernelLog() {
        String dmesg = String.join("\n",
                "2026-11-24T21:14:12,006880+00:00 [  pid  ]   uid  tgid total_vm      rss name",
                "2026-11-24T21:14:12,006896+00:00 oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,"
                        + "oom_memcg=/x,task_memcg=/x,task=tmux: server,pid=24067,uid=1001",
                "2026-11-24T21:14:12,006928+00:00 Memory cgroup out of memory: Killed process 24067 (tmux: server) UID:1001",
                "2026-11-24T21:20:00,000001+00:00 oom-kill:constraint=CONSTRAINT_NONE,task=claude,pid=99,uid=1002",
                "garbage oom-kill:task=x,pid=notanumber,uid=1");
        List<KernelLog.OomKill> kills = KernelLog.parse(dmesg);
        assertEquals(List.of(
                new KernelLog.OomKill(Instant.parse("2026-11-24T21:14:12.006896Z"), 24067, 1001, "tmux: server"),
                new KernelLog.OomKill(Instant.parse("2026-11-24T21:20:00.000001Z"), 99, 1002, "claude")), kills);
    }

    /** A crash of tmux itself: the kernel's segfault and traps lines, from dmesg or the journal. */
    @Test
    void readsCrashesFromTheKernelLog() {
        String log = String.join("\n",
                "2026-11-24T21:14:12,006896+00:00 tmux: server[24067]: segfault at 0 ip 000055d5c8a0b3c1 sp 00007ffd2b0c2f10 error 4 in tmux[55d5c89e0000+a5000]",
                "2026-11-24T21:15:00.000001+0000 devbox kernel: traps: tmux: server[24100] general protection fault ip:55d5c8a0b3c1 sp:7ffd2b0c2f10 error:0 in tmux[55d5c89e0000+a5000]",
                "2026-11-24T21:16:00,000000+00:00 vim[99]: segfault at 8 ip 1 sp 2 error 6 in vim[1+2]",
                "2026-11-24T21:17:00,000000+00:00 tmux: server[24067] exited");
        assertEquals(List.of(
                new KernelLog.Fault(Instant.parse("2026-11-24T21:14:12.006896Z"), 24067, "tmux: server", "segfault at"),
                new KernelLog.Fault(Instant.parse("2026-11-24T21:15:00.000001Z"), 24100, "tmux: server", "general protection fault"),
                new KernelLog.Fault(Instant.parse("2026-11-24T21:16:00Z"), 99, "vim", "segfault at")), KernelLog.faults(log));
        assertEquals(List.of(), KernelLog.parse(log), "no OOM kill among them");
    }

    /** Where dmesg is closed (dmesg_restrict, anyone but root), the journal's kernel messages say the same. */
    @Test
    void readsOomKillsFromTheJournalsKernelMessages() {
        String journal = String.join("\n",
                "2026-11-24T21:14:12.006896+0100 devbox kernel: oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,"
                        + "task_memcg=/user.slice/user-1001.slice,task=tmux: server,pid=24067,uid=1001",
                "2026-11-24T21:14:12.006928+0100 devbox kernel: Memory cgroup out of memory: Killed process 24067 (tmux: server) UID:1001",
                "2026-11-24T21:15:00.000000+0100 devbox sshd[12]: oom-kill:task=tmux: server,pid=1,uid=1001");
        assertEquals(List.of(new KernelLog.OomKill(Instant.parse("2026-11-24T20:14:12.006896Z"), 24067, 1001, "tmux: server")),
                KernelLog.parse(journal), "only the kernel's own lines count");
    }

    /**
     * Both logs are read where both answer: a ring buffer rotated past an OOM kill (dmesg no
     * longer has it) still gives the journal's line; where one is closed, the other is read.
     */
    @Test
    void aRotatedRingBufferStillGivesTheJournalsLine() {
        String ring = "2026-11-24T22:00:00,000000+00:00 usb 1-1: new high-speed USB device\n";
        String jline = "2026-11-24T21:14:12.006896+0000 devbox kernel: oom-kill:constraint=CONSTRAINT_MEMCG,task=tmux: server,pid=24067,uid=1001\n"
                + "2026-11-24T21:15:00.000001+0000 devbox kernel: traps: tmux: server[24100] general protection fault ip:1 sp:2 error:0 in tmux[3+4]\n";
        base.Exec.Result dmesg = new base.Exec.Result(0, ring, "", false);
        base.Exec.Result journal = new base.Exec.Result(0, jline, "", false);
        KernelLog.OomKill kill = new KernelLog.OomKill(Instant.parse("2026-11-24T21:14:12.006896Z"), 24067, 1001, "tmux: server");
        String both = KernelLog.text(dmesg, journal);
        assertEquals(List.of(kill), KernelLog.parse(both), "the journal's line, though the ring buffer lost it");
        assertEquals(List.of(24100), KernelLog.faults(both).stream().map(KernelLog.Fault::pid).toList());

        base.Exec.Result closed = new base.Exec.Result(1, "", "dmesg: read kernel buffer failed: Operation not permitted", false);
        assertEquals(List.of(kill), KernelLog.parse(KernelLog.text(closed, journal)), "dmesg closed (dmesg_restrict): the journal's");
        base.Exec.Result notAllowed = new base.Exec.Result(0, "", "Hint: You are currently not seeing messages from other users and the system.", false);
        String ringWithKill = "2026-11-24T21:14:12,006896+00:00 oom-kill:constraint=CONSTRAINT_NONE,task=tmux: server,pid=24067,uid=1001\n";
        assertEquals(List.of(kill), KernelLog.parse(KernelLog.text(new base.Exec.Result(0, ringWithKill, "", false), notAllowed)),
                "the journal not open to her: dmesg's");
        base.Exec.Result slow = new base.Exec.Result(-1, "", "", true);
        assertEquals(List.of(kill), KernelLog.parse(KernelLog.text(new base.Exec.Result(0, ringWithKill, "", false), slow)), "the journal timed out: dmesg's");
        assertEquals("", KernelLog.text(closed, notAllowed), "neither: nothing (and a warning says what heal cannot see)");
        // --grep matched nothing: exit 1 with no line, still an answer.
        assertEquals(List.of(), KernelLog.parse(KernelLog.text(dmesg, new base.Exec.Result(1, "-- No entries --", "", false))));
    }

    @Test
    void readsALiveRecordAndItsPane() {
        String id = "11111111-2222-4333-8444-555555555555";
        Path file = Path.of("/home/a/.claude/sessions/949.json");
        LiveRecords.Record r = LiveRecords.parse(file, "{\"pid\":949,\"sessionId\":\"" + id + "\",\"cwd\":\"/home/a/w\",\"procStart\":\"138915\","
                + "\"kind\":\"interactive\",\"tmux\":\"demo:@0.%12\"}", Instant.EPOCH).orElseThrow();
        assertEquals(new LiveRecords.Record(file, 949, 138915, id, Path.of("/home/a/w"), "%12", Instant.EPOCH, "interactive"), r);
        assertTrue(r.interactive());
        assertEquals("949:138915", r.key());
        assertEquals(Path.of("/home/a/.claude"), r.config());
        assertNull(LiveRecords.parse(file, "{\"pid\":949,\"sessionId\":\"" + id + "\",\"procStart\":\"1\"}", Instant.EPOCH).orElseThrow().pane(),
                "outside tmux: no pane");
        assertTrue(LiveRecords.parse(file, "{\"pid\":949,\"sessionId\":\"not-a-uuid\",\"procStart\":\"1\"}", Instant.EPOCH).isEmpty());
        assertTrue(LiveRecords.parse(file, "{\"pid\":949,\"sessionId\":\"" + id + "\"}", Instant.EPOCH).isEmpty(), "no procStart: no evidence");
        assertTrue(LiveRecords.parse(file, "{\"pid\":\"x\",\"sessionId\":\"" + id + "\",\"procStart\":\"1\"}", Instant.EPOCH).isEmpty());
        assertTrue(LiveRecords.parse(file, "{torn", Instant.EPOCH).isEmpty());
    }

    @Test
    void onlyRecordsOfThisBootAreEvidence(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        Path config = java.nio.file.Files.createDirectories(tmp.resolve("cfg/sessions")).getParent().toRealPath();
        Procfs procs = Procfs.read();
        int gone = 1;
        while (procs.get(gone).isPresent() || gone < 300) gone++; // a pid no process has now
        String id = "11111111-2222-4333-8444-555555555555";
        Path record = config.resolve("sessions/" + gone + ".json");
        java.nio.file.Files.writeString(record, "{\"pid\":" + gone + ",\"sessionId\":\"" + id + "\",\"procStart\":\"5\",\"tmux\":\"%1\"}");
        int me = Accounts.currentUid();
        assertEquals(1, LiveRecords.stale(config, me, procs, procs.bootTime()).size(), "a crash of this boot");
        java.nio.file.Files.writeString(record, "{\"pid\":" + gone + ",\"sessionId\":\"" + id + "\",\"procStart\":\"99999999999\",\"tmux\":\"%1\"}");
        assertEquals(List.of(), LiveRecords.stale(config, me, procs, procs.bootTime()), "started later than this boot's uptime: another boot's");
        java.nio.file.Files.setLastModifiedTime(record, java.nio.file.attribute.FileTime.from(procs.bootTime().minusSeconds(60)));
        java.nio.file.Files.writeString(record, "{\"pid\":" + gone + ",\"sessionId\":\"" + id + "\",\"procStart\":\"5\",\"tmux\":\"%1\"}");
        java.nio.file.Files.setLastModifiedTime(record, java.nio.file.attribute.FileTime.from(procs.bootTime().minusSeconds(60)));
        assertEquals(List.of(), LiveRecords.stale(config, me, procs, procs.bootTime()), "written before this boot");
    }

    @Test
    void tellsAnEmptyPromptFromTypedText() {
        assertFalse(HealPlan.typed("alice@host:~/proj$ ", 19), "a bash prompt");
        assertFalse(HealPlan.typed("% ", 2), "zsh");
        assertFalse(HealPlan.typed("❯ ", 2), "starship");
        assertFalse(HealPlan.typed("", 0), "a prompt on the line above");
        assertTrue(HealPlan.typed("> ", 2), "a continuation prompt: the shell is in the middle of a command");
        assertTrue(HealPlan.typed("alice@host:~/proj$ make te", 26), "a half-typed command");
        assertFalse(HealPlan.typed("alice@host:~$      [main] 21:14", 14), "a right prompt (zsh RPROMPT) is not typed text");
    }
}
