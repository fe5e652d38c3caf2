import store.EndedSessions;
import store.SavedSession;
import store.SavedPane;
import store.SavedWindow;
import store.NotRunning;
import store.History;
import save.NextSnapshot;
import store.Owed;
import restore.Selection;
import store.SnapshotFormat;
import store.StateStore;
import store.Forgotten;
import static org.junit.jupiter.api.Assertions.*;

import base.Drift;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The state dir as a store: history, pointer, retention, migration, what restores owe, forgotten sessions. */
class StateStoreTest {
    static final String A = "0b9c5a59-43a5-4f5b-9d0e-7c8f2b4d1e6a", B = "0b9c5a59-ffff-4f5b-9d0e-7c8f2b4d1e6a", C = "7c000000-0000-4000-8000-000000000000";
    static final Instant T0 = Instant.parse("2026-11-24T19:30:00Z");
    @TempDir Path tmp;
    StateStore store;
    History history;

    @BeforeEach
    void setUp() throws Exception {
        store = new StateStore(tmp.resolve("state"));
        store.prepare();
        history = store.history("alice");
    }

    static SavedSession row(String name, String id) {
        return new SavedSession(name, "/", id, id == null ? null : "/", null);
    }

    @Test
    void writesASnapshotOnlyWhenRowsChangeAndPointsAtTheNewest() throws Exception {
        assertTrue(history.commit(List.of(row("a", A)), T0).isPresent());
        assertTrue(history.commit(List.of(row("a", A)), T0.plusSeconds(300)).isEmpty(), "unchanged: nothing written");
        History.Snapshot second = history.commit(List.of(row("a", A), row("b", null)), T0.plusSeconds(600)).orElseThrow();
        assertEquals("20261124T194000Z", second.name());
        assertEquals(List.of("20261124T194000Z", "20261124T193000Z"), history.list().stream().map(History.Snapshot::name).toList(), "newest first");

        Path pointer = store.pointer("alice");
        assertTrue(Files.isSymbolicLink(pointer));
        assertEquals(Path.of("snapshots/alice/20261124T194000Z.tsv"), Files.readSymbolicLink(pointer), "relative, to the newest");
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(second.file())));
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(store.historyDir("alice"))));
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(store.historyDir("alice").getParent())));
        assertEquals(List.of(), store.drift(), "a store it wrote itself has no drift");
        try (var files = Files.list(store.historyDir("alice"))) {
            assertEquals(2, files.count(), "no temp file left behind");
        }
    }

    @Test
    void aClockThatGoesBackStillSortsTheNewestLast() throws Exception {
        history.commit(List.of(row("a", A)), T0);
        History.Snapshot s = history.commit(List.of(row("b", A)), T0.minusSeconds(3600)).orElseThrow();
        assertEquals("20261124T193001Z", s.name());
        assertEquals(List.of(row("b", A)), history.readNewest().rows());
    }

    @Test
    void retentionKeepsTheNewestNAndTheYoungAndNeverTheNewest() throws Exception {
        for (int i = 0; i < 6; i++) history.commit(List.of(row("s" + i, null)), T0.plus(Duration.ofDays(i)));
        // keep 2, and whatever is younger than 3 days at T0+5d: days 5, 4 (newest two), 3 (young)
        assertEquals(3, history.prune(2, Duration.ofDays(2).plusHours(1), T0.plus(Duration.ofDays(5))));
        assertEquals(List.of("20261129T193000Z", "20261128T193000Z", "20261127T193000Z"), history.list().stream().map(History.Snapshot::name).toList());
        assertEquals(2, history.prune(1, Duration.ZERO, T0.plus(Duration.ofDays(50))));
        assertEquals(List.of("20261129T193000Z"), history.list().stream().map(History.Snapshot::name).toList(), "the newest stays");
        assertEquals(0, history.prune(1, Duration.ZERO, T0.plus(Duration.ofDays(99))), "never the newest");
    }

    @Test
    void aFlatFileFromTheOlderVersionBecomesTheFirstSnapshotOnce() throws Exception {
        Path flat = store.pointer("alice");
        Files.writeString(flat, SnapshotFormat.format(List.of(row("old", A))));
        Files.setLastModifiedTime(flat, FileTime.from(T0));
        assertEquals(List.of("20261124T193000Z"), history.list().stream().map(History.Snapshot::name).toList(), "read before it moves");
        assertEquals(List.of("alice"), store.users());

        assertTrue(history.commit(List.of(row("old", A)), T0.plusSeconds(60)).isEmpty(), "same rows: the migrated file is the newest");
        assertTrue(Files.isSymbolicLink(flat));
        assertTrue(Files.isRegularFile(store.historyDir("alice").resolve("20261124T193000Z.tsv")));
        assertFalse(history.migrate(), "once");
        history.commit(List.of(row("new", A)), T0.plusSeconds(120));
        assertEquals(2, history.list().size());
    }

    @Test
    void aPointerDeletedOrAstrayIsHealed() throws Exception {
        history.commit(List.of(row("a", A)), T0);
        Files.delete(store.pointer("alice"));
        assertEquals(1, store.drift().size(), store.drift().toString());
        history.commit(List.of(row("a", A)), T0.plusSeconds(300));
        assertTrue(Files.isSymbolicLink(store.pointer("alice")), "an unchanged save puts the pointer back");
    }

    @Test
    void everyStateFileIsHeldToItsModeScreensToo() throws Exception {
        for (String kind : List.of("pending", "forgotten", "heals", "screens")) {
            Path f = Files.writeString(store.dir().resolve("alice." + kind), "{}");
            Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-r--r--"));
            List<Drift> drift = store.drift();
            assertEquals(1, drift.size(), kind + ": " + drift);
            assertTrue(drift.get(0).what().startsWith(f + " is mode rw-r--r--"), drift.toString());
            drift.get(0).fix().apply();
            assertEquals(List.of(), store.drift(), kind + " fixed");
            Files.delete(f);
        }
    }

    @Test
    void tempFilesAKilledRunLeftAreRemovedLater() throws Exception {
        Path old = Files.writeString(store.dir().resolve(".alice.tsv.123.tmp"), "half");
        Files.setLastModifiedTime(old, FileTime.from(Instant.now().minus(Duration.ofHours(1))));
        Path fresh = Files.writeString(store.dir().resolve(".bob.tsv.456.tmp"), "being written");
        history.commit(List.of(row("a", A)), T0);
        Path inHistory = Files.writeString(store.historyDir("alice").resolve(".20261124T193000Z.tsv.789.tmp"), "half");
        Files.setLastModifiedTime(inHistory, FileTime.from(Instant.now().minus(Duration.ofHours(1))));
        store.prepare();
        assertFalse(Files.exists(old));
        assertFalse(Files.exists(inHistory), "in the history too");
        assertTrue(Files.exists(fresh), "a run writing right now keeps its temp file");
    }

    @Test
    void owedRowsAreWrittenBeforeAndStruckOffOneByOne() throws Exception {
        Owed owed = store.owed("alice");
        SavedSession a = row("a", A), b = row("b", null), c = row("c", null);
        owed.begin(List.of(c), List.of(c));                 // an earlier run left c owed
        owed.begin(List.of(a, b), List.of(a, b));           // this run looks at a and b only
        assertEquals(List.of(a, b, c), owed.rows(), "c stays owed: this run did not look at it");
        owed.strike("a");
        assertEquals(List.of(b, c), owed.rows());
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(store.owedFile("alice"))));
        owed.begin(List.of(b, c), List.of());
        assertFalse(Files.exists(store.owedFile("alice")), "nothing owed: no record");
    }

    @Test
    void forgottenLastsUntilTheNameIsSeenLive() throws Exception {
        Forgotten t = store.forgotten("alice");
        t.add("x\ty", T0);
        t.add("7", T0);
        assertEquals(Map.of("x\ty", T0, "7", T0), t.read());
        assertEquals(List.of(), List.copyOf(t.clearSeen(Map.of("7", T0.minusSeconds(60)))), "live when forgotten: stays forgotten");
        assertEquals(List.of("7"), List.copyOf(t.clearSeen(Map.of("7", T0.plusSeconds(60), "007", T0.plusSeconds(60)))), "made again later");
        assertEquals(Map.of("x\ty", T0), t.read());
        t.clearSeen(Map.of("x\ty", T0.plusSeconds(1)));
        assertFalse(Files.exists(store.forgottenFile("alice")));
    }

    @Test
    void aSaveKeepsTheConversationOfAClaudeThatDied() {
        SavedSession before = row("work", A), shellNow = row("work", null);
        NextSnapshot.Result r = NextSnapshot.compose(List.of(shellNow), List.of(before), List.of(), T0);
        SavedSession kept = r.rows().get(0);
        assertEquals(A, kept.conversation());
        assertNotNull(kept.notRunning());
        assertEquals(List.of(new NextSnapshot.Kept("work", kept.panes().get(0))), r.notRunning());
        // the next save: the same mark, so nothing changed and nothing is written
        assertEquals(List.of(kept), NextSnapshot.compose(List.of(shellNow), List.of(kept), List.of(), T0.plusSeconds(300)).rows());
        // the pane runs another conversation: the old one goes (it stays in history)
        assertEquals(List.of(row("work", B)), NextSnapshot.compose(List.of(row("work", B)), List.of(kept), List.of(), T0).rows());
        // the conversation now runs in another session: that one has it
        assertEquals(List.of(shellNow, row("other", A)),
                NextSnapshot.compose(List.of(shellNow, row("other", A)), List.of(before), List.of(), T0).rows());
        // the session is gone: so is its row (history keeps it)
        assertEquals(List.of(), NextSnapshot.compose(List.of(), List.of(kept), List.of(), T0).rows());
    }

    static SavedPane pane(int window, int index, String id) {
        return id == null ? SavedPane.shell(window, index, index == 0, "/", List.of())
                : SavedPane.at(window, index).active(index == 0).cwd("/").conversation(id, "/", null).options(List.of("--model", "opus"));
    }

    static SavedSession session(String name, SavedPane... panes) {
        return SavedSession.of(name, List.of(new SavedWindow(0, "w", "", true, false, List.of(panes))));
    }

    @Test
    void aCodexThatStoppedIsKeptWantedUnlessItsUserStartedAnotherAssistantThere() {
        SavedPane codex = SavedPane.at(0, 0).active(true).cwd("/").conversation(A, "/", null).assistant("codex").tmuxPane("%1@100");
        SavedSession before = session("work", codex);
        SavedSession shellNow = session("work", SavedPane.shell(0, 0, true, "/", List.of()).tmuxPane("%1@100"));
        SavedPane kept = NextSnapshot.compose(List.of(shellNow), List.of(before), List.of(), Set.of(), EndedSessions.NONE, T0).rows().get(0).panes().get(0);
        assertEquals(NotRunning.Kind.STOPPED, kept.notRunning().kind(), "codex leaves no evidence of a kill: kept wanted: " + kept);
        assertEquals("codex", kept.assistant());
        assertTrue(kept.wanted());
        // She started another codex there whose conversation cannot be named (yet): hers is the choice, not a crash.
        SavedPane replaced = NextSnapshot.compose(List.of(shellNow), List.of(before), List.of(), Set.of(), EndedSessions.NONE,
                java.util.Map.of("%1@100", "codex"), T0).rows().get(0).panes().get(0);
        assertEquals(A, replaced.conversation(), "still kept, for --find");
        assertEquals(NotRunning.Kind.EXITED, replaced.notRunning().kind(), replaced.toString());
    }

    @Test
    void eachPaneKeepsTheConversationOfItsOwnClaudeThatDied() {
        SavedSession before = session("work", pane(0, 0, A), pane(0, 1, B), pane(0, 2, null));
        // The claude of pane 1 died; pane 0's runs on.
        SavedSession now = session("work", pane(0, 0, A), pane(0, 1, null), pane(0, 2, null));
        NextSnapshot.Result r = NextSnapshot.compose(List.of(now), List.of(before), List.of(), T0);
        SavedSession next = r.rows().get(0);
        assertEquals(A, next.conversation(), "the session's main conversation is the one still running");
        SavedPane kept = next.panes().get(1);
        assertEquals(B, kept.conversation(), "pane 1 keeps its own conversation");
        assertEquals(List.of("--model", "opus"), kept.options(), "and the options it ran with");
        assertTrue(kept.notRunning().kind() == NotRunning.Kind.EXITED, kept.toString());
        assertNull(next.panes().get(0).notRunning());
        assertFalse(next.panes().get(2).hasConversation(), "a pane that ran none gets none");
        assertEquals(List.of(new NextSnapshot.Kept("work", kept)), r.notRunning());
        // Pane 1 closed (the user's kill-pane): its conversation goes with it (history keeps it).
        SavedSession fewer = session("work", pane(0, 0, A), pane(0, 1, null));
        SavedSession after = NextSnapshot.compose(List.of(session("work", pane(0, 0, A))), List.of(next), List.of(), T0).rows().get(0);
        assertEquals(1, after.conversations().size(), after.toString());
        // A snapshot from before layouts: its one conversation belongs to the session's active pane.
        SavedSession older = row("work", B);
        SavedSession upgraded = NextSnapshot.compose(List.of(fewer), List.of(older), List.of(), T0).rows().get(0);
        assertEquals(A, upgraded.panes().get(0).conversation(), "the active pane runs A now: B is not forced onto it");
    }

    static SavedPane live(int window, String key, String id) {
        return SavedPane.at(window, 0).active(true).cwd("/").conversation(id, id == null ? null : "/", null).tmuxPane(key);
    }

    static SavedSession windows(String name, SavedPane... panes) {
        return SavedSession.of(name, java.util.Arrays.stream(panes)
                .map(p -> new SavedWindow(p.window(), "w" + p.window(), "", p.window() == 0, false, List.of(p))).toList());
    }

    @Test
    void aPaneIsKnownByWhichLivePaneItIsNotOnlyByItsPlace() {
        // Window 1 ran B until claude was killed; the user then closed window 1, and tmux
        // (renumber-windows) gave its index to window 2's shell: that pane is not the one that ran B.
        SavedSession before = windows("w", live(0, "%0@100", A), live(1, "%1@100", B), live(2, "%2@100", null));
        SavedSession now = windows("w", live(0, "%0@100", A), live(1, "%2@100", null));
        SavedSession next = NextSnapshot.compose(List.of(now), List.of(before), List.of(), Set.of(B.toLowerCase()), T0).rows().get(0);
        assertEquals(List.of(A), next.conversations().stream().map(SavedPane::conversation).toList(), "B went with its pane: " + next);
        // The same live pane moved to another index keeps what it ran.
        SavedSession moved = windows("w", live(0, "%0@100", A), live(5, "%1@100", null));
        SavedSession kept = NextSnapshot.compose(List.of(moved), List.of(before), List.of(), Set.of(B.toLowerCase()), T0).rows().get(0);
        assertEquals(B, kept.panes().get(1).conversation());
        assertTrue(kept.panes().get(1).notRunning().kind() == NotRunning.Kind.KILLED, kept.toString());
        // After a restore the panes are new and known by their place: the saved row names no live pane.
        SavedSession restored = windows("w", live(0, null, A), live(1, null, B));
        SavedSession first = NextSnapshot.compose(List.of(windows("w", live(0, "%7@200", A), live(1, "%8@200", null))), List.of(restored),
                List.of(), T0).rows().get(0);
        assertEquals(B, first.panes().get(1).conversation(), "by place: " + first);
    }

    @Test
    void aConversationWhosePaneARestoreCouldNotMakeIsKeptUntilItRunsAgain() {
        // The restore made window 0 but not window 1's pane (tmux refused it): its row says so.
        SavedSession recorded = windows("w", live(0, null, A), live(1, null, B).withNotRunning(NotRunning.NOT_RECREATED));
        SavedSession now = windows("w", live(0, "%0@1", A));
        SavedSession next = NextSnapshot.compose(List.of(now), List.of(recorded), List.of(), T0).rows().get(0);
        SavedPane kept = next.panes().stream().filter(p -> B.equals(p.conversation())).findFirst().orElseThrow(() -> new AssertionError(next.toString()));
        assertEquals(NotRunning.NOT_RECREATED, kept.notRunning());
        assertTrue(kept.wanted(), "a later restore of the session resumes it");
        assertEquals(List.of(next), NextSnapshot.compose(List.of(now), List.of(next), List.of(), T0).rows(), "and the next save keeps it as it is");
        // Once it runs again somewhere, it is that pane's.
        SavedSession running = windows("w", live(0, "%0@1", A), live(3, "%5@1", B));
        assertEquals(2, NextSnapshot.compose(List.of(running), List.of(next), List.of(), T0).rows().get(0).conversations().size());
    }

    @Test
    void aRestoreKilledHalfwayLosesNoConversationOfTheSessionItLeftInPart() {
        // The restore made the session and its first pane, then was killed: the row is still owed.
        SavedSession owed = windows("w", live(0, null, A), live(1, null, B));
        SavedSession now = windows("w", live(0, "%0@9", A));
        NextSnapshot.Result r = NextSnapshot.compose(List.of(now), List.of(), List.of(owed), T0);
        SavedSession next = r.rows().get(0);
        assertEquals(1, r.rows().size(), "the live session, not the owed row beside it");
        SavedPane kept = next.panes().stream().filter(p -> B.equals(p.conversation())).findFirst().orElseThrow(() -> new AssertionError(next.toString()));
        assertEquals(NotRunning.NOT_RECREATED, kept.notRunning());
        assertEquals(1, next.panes().stream().filter(p -> A.equals(p.conversation())).count(), "the one it made runs: not kept twice");
        // An owed conversation its user had quit stays quit, and is not pinned on the live session.
        SavedSession quit = windows("w", live(0, null, A), live(1, null, B).withNotRunning(NotRunning.exited("quit")));
        assertEquals(List.of(A), NextSnapshot.compose(List.of(now), List.of(), List.of(quit), T0).rows().get(0).conversations().stream()
                .map(SavedPane::conversation).toList());
    }

    @Test
    void findByConversationAsksForThatConversationOnly() {
        SavedPane a = live(0, null, A).withNotRunning(NotRunning.exited("quit")), b = live(1, null, B).withNotRunning(NotRunning.exited("quit"));
        Selection byId = new Selection(List.of(windows("w", a, b)), true, "x", List.of(), B);
        assertFalse(byId.asked(a), "the conversation the user quit beside it stays quit");
        assertTrue(byId.asked(b));
        Selection byName = new Selection(List.of(windows("w", a, b)), true, "x", List.of());
        assertTrue(byName.asked(a) && byName.asked(b), "a session asked for by name comes back whole");
        assertFalse(new Selection(List.of(), false, "x").asked(b), "a blanket restore asks for nothing in particular");
    }

    @Test
    void aCrashIsMarkedKilledAndAnExitExitedAndOnlyTheKilledOneIsWantedBack() {
        SavedSession before = row("work", A), shellNow = row("work", null);
        SavedSession killed = NextSnapshot.compose(List.of(shellNow), List.of(before), List.of(), java.util.Set.of(A.toLowerCase()), T0).rows().get(0);
        SavedSession exited = NextSnapshot.compose(List.of(shellNow), List.of(before), List.of(), java.util.Set.of(), T0).rows().get(0);
        assertTrue(killed.notRunning().kind() == NotRunning.Kind.KILLED, killed.toString());
        assertTrue(exited.notRunning().kind() == NotRunning.Kind.EXITED, exited.toString());
        assertTrue(killed.wanted(), "a crash: the next boot resumes it");
        assertFalse(exited.wanted(), "the user's exit: left alone");
        assertTrue(before.withNotRunning(NotRunning.restoreFailed("not on PATH")).wanted(), "our own failure: tried again");
    }

    @Test
    void aSaveKeepsWhatARestoreStillOwes() {
        SavedSession live = row("early", null), owedA = row("a", A), owedEarly = row("early", B);
        NextSnapshot.Result r = NextSnapshot.compose(List.of(live), List.of(), List.of(owedA, owedEarly), T0);
        assertEquals(List.of(live, owedA), r.rows(), "owed rows whose session is live are not owed twice");
        assertEquals(List.of(owedA), r.owed());
    }

    @Test
    void findMatchesNamesAsStringsAndRefusesAnAmbiguousPrefix() throws Exception {
        history.commit(List.of(row("007", A), row("1e2", B)), T0);
        history.commit(List.of(row("7", C)), T0.plusSeconds(60));
        assertEquals("7", Selection.find(history, "7").rows().get(0).session(), "exact name first");
        assertEquals("007", Selection.find(history, "007").rows().get(0).session());
        Selection.Refused none = assertThrows(Selection.Refused.class, () -> Selection.find(history, "100"));
        assertTrue(none.getMessage().contains("'100'"), none.getMessage());
        Selection.Refused two = assertThrows(Selection.Refused.class, () -> Selection.find(history, "0b9c5a59"));
        assertTrue(two.getMessage().contains(A) && two.getMessage().contains(B), two.getMessage());
        Selection found = Selection.find(history, "0B9C5A59-FF");
        assertEquals(List.of(row("1e2", B)), found.rows(), "an id prefix, any case, searched in older snapshots too");
        assertEquals("snapshot 20261124T193000Z", found.from());
        assertTrue(found.explicit());
    }

    @Test
    void findTakesAnotherAssistantsIdPrefixCaseAsItIs() throws Exception {
        String ses = "ses_3f2aBc9XyZ0123456789abcdef";
        SavedSession oc = session("web", SavedPane.at(0, 0).active(true).cwd("/").conversation(ses, "/", null).assistant("opencode"));
        history.commit(List.of(oc, row("other", A)), T0);
        Selection found = Selection.find(history, "ses_3f2aBc");
        assertEquals(List.of(oc), found.rows(), "an OpenCode id by its prefix");
        assertEquals("opencode", found.rows().get(0).conversations().get(0).assistant());
        assertThrows(Selection.Refused.class, () -> Selection.find(history, "ses_3F2ABC"), "its letters are not a UUID's: case counts");
    }

    @Test
    void aRequestNamingSomethingAbsentIsRefusedWhole() throws Exception {
        history.commit(List.of(row("a", A), row("b", null)), T0);
        Selection.Refused r = assertThrows(Selection.Refused.class,
                () -> Selection.of(history, store.owed("alice"), null, List.of("a", "nope")));
        assertTrue(r.getMessage().contains("'nope'"), r.getMessage());
        assertThrows(Selection.Refused.class, () -> Selection.of(history, store.owed("alice"), "20200101T000000Z", List.of()));
        assertEquals(List.of(row("a", A), row("b", null)),
                Selection.of(history, store.owed("alice"), "2026-11-24T19:30:00Z", List.of()).rows(), "ISO time works too");
        assertFalse(Selection.of(history, store.owed("alice"), null, List.of()).explicit());
        assertTrue(Selection.of(history, store.owed("alice"), null, List.of("b")).explicit());
    }
}
