import store.SavedSession;
import store.SavedPane;
import store.Ended;
import store.NotRunning;
import store.EndedSessions;
import save.Inventory;
import base.KernelLog;
import save.NextSnapshot;
import base.Procfs;
import tmux.ServerCrash;
import store.SnapshotFormat;
import tmux.Tmux;
import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a new tmux server means for the sessions of the one before it, in the format and in a
 * save's composition, and how crash evidence is tied to the very server it names.
 */
class EndedSessionsTest {
    static final String A = StateStoreTest.A, B = StateStoreTest.B;
    static final Instant T0 = StateStoreTest.T0;
    static final String BOOT = "0f0e0d0c-0000-4000-8000-00000000b007";
    static final Tmux.Server OLD = new Tmux.Server(4242, T0.minusSeconds(3600).getEpochSecond(), BOOT), NEW = new Tmux.Server(5151, T0.getEpochSecond(), BOOT);
    static final Duration KEEP = Duration.ofDays(30);

    static SavedSession work() {
        return StateStoreTest.windows("work", StateStoreTest.live(0, "%1@" + OLD.start(), A));
    }

    static SavedSession notes() {
        return StateStoreTest.windows("notes", StateStoreTest.live(0, "%2@" + OLD.start(), null));
    }

    static EndedSessions.Turnover turnover(List<SavedSession> previous, Tmux.Server was, Set<String> live, Set<String> leave,
                                           Optional<String> crash, Instant at) {
        return EndedSessions.of(previous, was, NEW, live, leave, s -> s.equals(OLD) ? crash : Optional.empty(), at, KEEP);
    }

    @Test
    void theSnapshotSaysWhichServerItsLiveRowsCameFromAndWhichSessionsEndedWithAnother() {
        SavedSession ended = work().withEnded(new Ended(OLD.key(), T0, "the OOM killer at x\t(kernel log)"));
        String text = SnapshotFormat.format(List.of(notes(), ended), NEW);
        assertTrue(text.lines().findFirst().orElseThrow().endsWith("\tserver " + NEW.key()), text);
        SnapshotFormat.Parsed back = SnapshotFormat.parse(text);
        assertEquals(List.of(), back.problems());
        assertEquals(NEW, back.server());
        assertEquals(List.of(notes(), ended), back.rows(), "the ended line reads back, tab and all");
        assertNull(SnapshotFormat.parse(SnapshotFormat.format(List.of(notes()))).server(), "a file without a server: not known");
        // A bad ended line costs its mark, never the session.
        SnapshotFormat.Parsed bad = SnapshotFormat.parse(text.replace(T0.toString(), "yesterday"));
        assertEquals(1, bad.problems().size());
        assertEquals(2, bad.rows().size());
        assertEquals(Optional.empty(), Tmux.Server.parse("12@x"));
        assertEquals(Optional.empty(), Tmux.Server.parse("12@9223372036854775807"), "a start no clock reaches is no server");
        assertEquals(Optional.of(OLD), Tmux.Server.parse(OLD.key()));
        assertEquals(Optional.of(new Tmux.Server(12, 34, null)), Tmux.Server.parse("12@34"), "recorded without its boot");
    }

    @Test
    void onANewServerTheOldOnesSessionsThatAreNotLiveAreKeptMarkedWithTheEvidence() {
        SavedSession fresh = StateStoreTest.windows("fresh", StateStoreTest.live(0, "%0@" + NEW.start(), null));
        EndedSessions.Turnover t = turnover(List.of(work(), notes()), OLD, Set.of("fresh"), Set.of(), Optional.empty(), T0);
        List<SavedSession> rows = NextSnapshot.compose(List.of(fresh), List.of(work(), notes()), List.of(), Set.of(), t, T0).rows();
        assertEquals(List.of("fresh", "work", "notes"), rows.stream().map(SavedSession::session).toList());
        SavedSession w = rows.get(1);
        assertEquals(OLD.key(), w.ended().server());
        assertFalse(w.ended().crashed());
        assertEquals(A, w.conversation(), "the conversation id is kept");
        assertFalse(w.wanted(), "no evidence: not for a blanket restore");
        assertEquals(List.of("work", "notes"), t.now().stream().map(SavedSession::session).toList(), "new to this save: for its log line");

        EndedSessions.Turnover killed = turnover(List.of(work(), notes()), OLD, Set.of("fresh"), Set.of(), Optional.of("the OOM killer"), T0);
        SavedSession k = killed.ended().get(0);
        assertTrue(k.ended().crashed());
        assertTrue(k.wanted(), "killed: heal, boot and blanket restores bring it back");
        assertTrue(k.notRunning().text().startsWith(EndedSessions.SERVER_KILLED), k.notRunning().text());
    }

    @Test
    void theSameServerDropsWhatSheClosedAndKeepsWhatEndedBeforeUntilLiveForgottenOrOld() {
        // The same server: a session not live was closed (kill-session), her choice.
        assertEquals(EndedSessions.NONE, turnover(List.of(work(), notes()), NEW, Set.of("notes"), Set.of(), Optional.empty(), T0));
        assertEquals(EndedSessions.NONE, turnover(List.of(work()), null, Set.of(), Set.of(), Optional.empty(), T0), "no server on record: as before");

        SavedSession ended = work().withEnded(new Ended(OLD.key(), T0, null));
        assertEquals(List.of(ended), turnover(List.of(ended), NEW, Set.of(), Set.of(), Optional.empty(), T0.plusSeconds(300)).ended(),
                "kept by the next saves");
        assertEquals(List.of(), turnover(List.of(ended), NEW, Set.of(), Set.of("work"), Optional.empty(), T0).ended(), "forgotten: let go");
        assertEquals(List.of(), turnover(List.of(ended), NEW, Set.of(), Set.of(), Optional.empty(), T0.plus(KEEP).plusSeconds(1)).ended(),
                "older than retention's days: history keeps it");
        assertEquals(List.of(), turnover(List.of(work()), OLD, Set.of(), Set.of("work"), Optional.empty(), T0).ended(), "owed: kept as owed");
    }

    @Test
    void aNewSessionOfTheSameNameKeepsTheOldOnesConversationAside() {
        SavedSession again = StateStoreTest.windows("work", StateStoreTest.live(0, "%0@" + NEW.start(), null));
        EndedSessions.Turnover t = turnover(List.of(work()), OLD, Set.of("work"), Set.of(), Optional.of("the OOM killer"), T0);
        SavedSession row = NextSnapshot.compose(List.of(again), List.of(work()), List.of(), Set.of(), t, T0).rows().get(0);
        assertEquals(2, row.panes().size(), "the live pane, and one kept aside: " + row);
        SavedPane aside = row.panes().get(1);
        assertEquals(A, aside.conversation());
        assertTrue(EndedSessions.healedInPlace(aside), "killed with its server: heal makes its pane again in the live session");
        assertFalse(row.panes().get(0).hasConversation(), "the new pane is not the old one");
        // The next save on the same server keeps it aside; once it runs again, it is where it runs.
        SavedSession next = NextSnapshot.compose(List.of(again), List.of(row), List.of(), Set.of(), EndedSessions.NONE, T0).rows().get(0);
        assertEquals(row.conversations(), next.conversations());
    }

    @Test
    void crashEvidenceIsTheOomKillOfThatVeryServer(@TempDir Path tmp) {
        Instant boot = T0.minusSeconds(86400);
        KernelLog.OomKill kill = new KernelLog.OomKill(OLD.started().plusSeconds(60), OLD.pid(), 1001, KernelLog.TMUX_SERVER);
        ServerCrash crashes = new ServerCrash(boot, BOOT, () -> new KernelLog.Lines(List.of(kill), List.of()));
        assertEquals(Optional.of(kill), crashes.of(1001, OLD));
        assertEquals(Optional.empty(), crashes.of(1002, OLD), "another user's server");
        assertEquals(Optional.empty(), crashes.of(1001, new Tmux.Server(OLD.pid() + 1, OLD.start(), BOOT)), "another pid");
        assertEquals(Optional.empty(), crashes.of(1001, new Tmux.Server(OLD.pid(), kill.time().plusSeconds(60).getEpochSecond(), BOOT)),
                "a later server that got the same pid: the kill was before it started");
        assertEquals(Optional.empty(), crashes.of(1001, null), "no server on record: no evidence");
        assertEquals(Optional.empty(), new ServerCrash(boot, BOOT, () -> new KernelLog.Lines(List.of(new KernelLog.OomKill(kill.time(), OLD.pid(), 1001, "bash")), List.of())).of(1001, OLD),
                "a process that is not a tmux server");
        assertTrue(crashes.evidence(1001, OLD).orElseThrow().startsWith("the OOM killer at "));
        assertEquals(Optional.empty(), crashes.evidence(1001, new Tmux.Server(OLD.pid() + 1, OLD.start(), BOOT)), "no crash on record");

        // A server of an earlier boot was ended by the reboot: never her choice, whatever this boot's log holds.
        ServerCrash later = new ServerCrash(T0, "another-boot", () -> { throw new AssertionError("the log is not read for a server of an earlier boot"); });
        assertTrue(later.evidence(1001, OLD).orElseThrow().startsWith("a reboot"), "its boot id is another");
        assertTrue(later.evidence(1001, new Tmux.Server(1, T0.minusSeconds(60).getEpochSecond(), null)).orElseThrow().startsWith("a reboot"),
                "recorded without a boot id: it started before this boot began");
        assertEquals(Optional.empty(), later.of(1001, OLD), "and no OOM kill of this boot is tied to it");
    }

    /** A crash of tmux itself (the kernel's segfault or traps line of that very server) is evidence too; another process's is not. */
    @Test
    void aSegfaultOfThatVeryServerIsEvidence() {
        Instant boot = T0.minusSeconds(86400);
        KernelLog.Fault fault = new KernelLog.Fault(OLD.started().plusSeconds(60), OLD.pid(), KernelLog.TMUX_SERVER, "segfault at");
        ServerCrash crashes = new ServerCrash(boot, BOOT, () -> new KernelLog.Lines(List.of(), List.of(fault)));
        assertTrue(crashes.evidence(1001, OLD).orElseThrow().startsWith("a crash of tmux itself (segfault at) at "), crashes.evidence(1001, OLD).toString());
        assertEquals(Optional.empty(), crashes.evidence(1001, new Tmux.Server(OLD.pid() + 1, OLD.start(), BOOT)), "another pid");
        assertEquals(Optional.empty(), crashes.evidence(1001, new Tmux.Server(OLD.pid(), fault.time().plusSeconds(60).getEpochSecond(), BOOT)),
                "a later server that got the same pid");
        ServerCrash other = new ServerCrash(boot, BOOT, () -> new KernelLog.Lines(List.of(),
                List.of(new KernelLog.Fault(fault.time(), OLD.pid(), "vim", "segfault at"))));
        assertEquals(Optional.empty(), other.evidence(1001, OLD), "a process that is not a tmux server");
    }

    @Test
    void aServerIsTrustedOnlyWhenProcSaysTheSame() {
        Procfs procs = Procfs.read();
        Procfs.Proc me = procs.get((int) ProcessHandle.current().pid()).orElseThrow();
        long started = procs.startTime(me).getEpochSecond();
        Tmux.Server said = new Tmux.Server(me.pid(), started, BOOT);
        assertEquals(said.withCgroup(procs.cgroup(me.pid()).orElse(null)), Inventory.trusted(said, me.uid(), Optional.of(me), procs.bootTime()),
                "the very server, with the cgroup /proc says it runs in");
        assertNull(Inventory.trusted(new Tmux.Server(me.pid(), started + 3600, BOOT), me.uid(), Optional.of(me), procs.bootTime()),
                "a start time her server made up");
        assertNull(Inventory.trusted(said, me.uid() + 1, Optional.of(me), procs.bootTime()), "a pid that is not her process");
        assertNull(Inventory.trusted(said, me.uid(), Optional.empty(), procs.bootTime()), "a pid no process has");
    }

    @Test
    void wantedConversationsOfASessionSheMadeAgainAreKeptAsideAndSaid() {
        SavedPane killed = StateStoreTest.live(1, "%3@" + OLD.start(), B).withNotRunning(NotRunning.killed("claude was killed"));
        SavedPane quit = SavedPane.at(2, 0).active(true).cwd("/").conversation(StateStoreTest.C, "/", null).withNotRunning(NotRunning.exited("she quit"));
        SavedSession before = StateStoreTest.windows("work", StateStoreTest.live(0, "%1@" + OLD.start(), A), killed, quit);
        EndedSessions.Turnover t = turnover(List.of(before), OLD, Set.of("work"), Set.of(), Optional.empty(), T0);
        assertEquals(List.of(A, B), t.aside().get("work").stream().map(SavedPane::conversation).toList(),
                "the running one and the one heal had yet to resume; not the one she quit");
        assertNotNull(t.end(), "said in the log, though no session was kept whole");
        assertEquals(2, t.asideNow().size());
        assertTrue(t.aside().get("work").stream().allMatch(p -> p.notRunning().text().startsWith(EndedSessions.SERVER_ENDED)));
    }

    @Test
    void aSessionHealBroughtBackAndSheClosedIsNotKeptForTheNextBoot() {
        SavedSession ended = work().withEnded(new Ended(OLD.key(), T0, "the OOM killer"));
        Set<String> leave = EndedSessions.leave(List.of(), Set.of(), List.of(ended), OLD.key()::equals);
        assertEquals(List.of(), EndedSessions.of(List.of(ended), NEW, NEW, Set.of(), leave, s -> Optional.empty(), T0, KEEP).ended());
        Set<String> notYet = EndedSessions.leave(List.of(), Set.of(), List.of(ended), s -> false);
        assertEquals(List.of(ended), EndedSessions.of(List.of(ended), NEW, NEW, Set.of(), notYet, s -> Optional.empty(), T0, KEEP).ended(),
                "heal has not dealt with that server yet: kept for it");
        SavedSession upgraded = EndedSessions.crashed(work().withEnded(new Ended(OLD.key(), T0, null))
                .withPanes(p -> p.withNotRunning(NotRunning.of(EndedSessions.SERVER_ENDED))), "the OOM killer");
        assertTrue(upgraded.wanted() && upgraded.ended().crashed(), "evidence found later makes it wanted: " + upgraded);
    }
}
