import store.SavedSession;
import store.SavedPane;
import base.Accounts;
import claude.Conversations;
import base.Procfs;
import store.SnapshotFormat;
import store.StateStore;
import tmux.Tmux;
import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Save, crash, restore, on real tmux servers of two throwaway OS users running the fake claude;
 * both scripts run as an operator runs them (./jbang t3-save.java, ./jbang t3-restore.java).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RestoreIntegrationTest {
    TestUsers users;
    Accounts.Account alice, bob;
    Path state, marker, proj;
    Map<String, String> env = new HashMap<>();
    String hostile;
    Map<String, SavedSession> saved;

    @BeforeAll
    void setUp() throws Exception {
        assumeTrue(Accounts.isRoot(), "needs root to create OS users and run tmux as them; run the tests as root (CI does)");
        users = new TestUsers();
        alice = users.create();
        bob = users.create();
        state = users.dir.resolve("state");
        marker = users.tmuxTmp.resolve("pwned");
        env.putAll(users.operatorEnv(state, "a=" + alice.name() + "\nb=" + bob.name() + ":/tmp\n"));
        proj = alice.home().resolve("proj");
        Children.asUser(alice, "mkdir", "-p", proj.toString(), alice.home().resolve("gone").toString());
        hostile = "q'x \"y\" $(touch " + marker + ") `id` ;|&";
        users.newSession(alice, "work", proj, users.claude());
        users.newSession(alice, "twin", proj, users.claude());
        users.newSession(alice, hostile, proj, users.claude());
        users.newSession(alice, "shell", alice.home(), null);
        users.newSession(alice, "gone", alice.home().resolve("gone"), null);
        users.newSession(bob, "b1", bob.home(), users.claude());
        assertTrue(Children.waitFor(() -> running(alice) == 3 && running(bob) == 1, Duration.ofSeconds(15)), "fake claudes started");
        Children.Ran r = Repo.script("t3-save.java", env);
        assertEquals(0, r.exit(), r.all());
        saved = new StateStore(state).history(alice.name()).readNewest().rows().stream().collect(Collectors.toMap(SavedSession::session, x -> x));
        assertEquals(3, saved.values().stream().filter(SavedSession::hasConversation).count(), saved.toString());
    }

    @AfterAll
    void tearDown() throws Exception {
        if (users != null) users.close();
    }

    long running(Accounts.Account a) {
        return Procfs.read().all().stream().filter(p -> p.uid() == a.uid() && Conversations.isClaude(p)).count();
    }

    /** What a crash or OOM kill leaves: every process of the user gone, sockets and live records stale. */
    void crash(Accounts.Account a) throws Exception {
        for (int i = 0; i < 20 && TestUsers.pkill("-KILL", a) == 0; i++) Thread.sleep(100);
        assertTrue(Children.waitFor(() -> users.tmux(a).socketState() != Tmux.SocketState.LIVE, Duration.ofSeconds(5)));
    }

    Map<String, Tmux.Session> live(Accounts.Account a) {
        return users.tmux(a).listSessions().sessions().stream().collect(Collectors.toMap(Tmux.Session::name, s -> s));
    }

    /** The claude process running in a session's pane, if any. */
    Optional<Procfs.Proc> claudeIn(Accounts.Account a, String session, Procfs procs) {
        Tmux.Session s = live(a).get(session);
        return s == null ? Optional.empty() : new Conversations(procs, a).claudeIn(s.panePid());
    }

    Children.Ran restore(String... args) {
        return Repo.script("t3-restore.java", env, args);
    }

    @Test
    @Order(1)
    void dryRunPrintsThePlanAndChangesNothing() throws Exception {
        crash(alice);
        Children.Ran r = restore("--dry-run", "--user", alice.name());
        assertEquals(0, r.exit(), r.all());
        assertTrue(r.out().lines().anyMatch(l -> l.startsWith("USER") && l.contains("SESSION") && l.contains("ACTION")), r.out());
        assertTrue(r.out().lines().map(l -> List.of(l.split(" {2,}"))).anyMatch(c -> c.subList(1, 6).equals(
                List.of("work", "missing", "resume", "claude", saved.get("work").conversation()))), r.out());
        assertTrue(r.out().lines().map(l -> List.of(l.split(" {2,}"))).anyMatch(c -> c.subList(1, 6).equals(
                List.of("shell", "missing", "shell", "-", "-"))), r.out());
        assertEquals(Map.of(), live(alice), "a dry run starts nothing");
    }

    @Test
    @Order(2)
    void aCrashIsUndoneSessionByConversation() throws Exception {
        Children.asUser(alice, "rmdir", alice.home().resolve("gone").toString());
        Children.Ran r = restore();
        assertEquals(0, r.exit(), r.all());
        assertTrue(r.all().contains("/gone' is gone, starting in " + alice.home()), r.all());
        assertEquals(saved.keySet(), live(alice).keySet(), "every saved session is back, hostile names verbatim");
        assertEquals(Set.of("b1"), live(bob).keySet(), "bob had nothing missing");
        assertFalse(Files.exists(marker), "the $(…) in a session name ran");

        Procfs procs = Procfs.read();
        for (String s : List.of("work", "twin", hostile)) {
            Procfs.Proc c = claudeIn(alice, s, procs).orElseThrow(() -> new AssertionError(s + ": no claude running"));
            int i = c.argv().indexOf("--resume");
            assertTrue(i > 0, s + ": argv " + c.argv());
            assertEquals(saved.get(s).conversation(), c.argv().get(i + 1), s + ": resumes its own conversation");
            assertEquals(proj, procs.cwd(c.pid()).orElseThrow(), s + ": runs in the conversation's starting directory");
            assertEquals(alice.uid(), c.uid(), s + ": runs as the user, never root");
        }
        String screen = users.tmux(alice).screen(live(alice).get("work").id());
        assertTrue(screen.contains("t3: resumed conversation " + saved.get("work").conversation().substring(0, 8) + "\u2026 (restored at "),
                "the pane says what happened and when, once: " + screen);
        assertEquals(alice.home(), procs.currentPath(live(alice).get("shell").panePid()).orElseThrow());
        assertEquals(alice.home(), procs.currentPath(live(alice).get("gone").panePid()).orElseThrow(), "a deleted cwd falls back to home");
        assertTrue(claudeIn(alice, "shell", procs).isEmpty());
    }

    @Test
    @Order(3)
    void whenClaudeExitsTheShellStays() throws Exception {
        int pane = live(alice).get("twin").panePid();
        assertTrue(users.tmux(alice).run("send-keys", "-t", "=twin:", "/exit", "Enter").ok());
        assertTrue(Children.waitFor(() -> claudeIn(alice, "twin", Procfs.read()).isEmpty(), Duration.ofSeconds(10)), "claude exited");
        Thread.sleep(500);
        Tmux.Session twin = live(alice).get("twin");
        assertNotNull(twin, "the session survives claude's exit");
        assertEquals(pane, twin.panePid(), "the same pane");
        String cmd = users.tmux(alice).run("display-message", "-p", "-t", "=twin:", "#{pane_current_command}").out().strip();
        assertEquals(Path.of(alice.shell()).getFileName().toString(), cmd, "the user's login shell runs in the pane");
    }

    @Test
    @Order(4)
    void aSecondRunRestoresNothing() throws Exception {
        Map<String, Integer> before = live(alice).values().stream().collect(Collectors.toMap(Tmux.Session::name, Tmux.Session::panePid));
        Children.Ran r = restore();
        assertEquals(0, r.exit(), r.all());
        assertTrue(r.all().contains(alice.name() + ": nothing to restore"), r.all());
        assertEquals(before, live(alice).values().stream().collect(Collectors.toMap(Tmux.Session::name, Tmux.Session::panePid)));
    }

    @Test
    @Order(5)
    void aPartialLossRestoresExactlyTheMissing() throws Exception {
        int shellPane = live(alice).get("shell").panePid();
        users.tmux(alice).run("kill-session", "-t", "=" + hostile);
        users.tmux(alice).run("kill-session", "-t", "=gone");
        Children.Ran r = restore("--user", alice.name());
        assertEquals(0, r.exit(), r.all());
        assertTrue(r.all().contains("2 sessions back (of 5 saved"), r.all());
        assertEquals(saved.keySet(), live(alice).keySet());
        assertEquals(shellPane, live(alice).get("shell").panePid(), "a live session keeps its pane");
    }

    @Test
    @Order(6)
    void aConversationLiveElsewhereIsNotStartedTwice() throws Exception {
        String id = saved.get("work").conversation();
        users.tmux(alice).run("kill-session", "-t", "=work");
        users.newSession(alice, "holder", proj, users.claude("--resume", id));
        assertTrue(Children.waitFor(() -> claudeIn(alice, "holder", Procfs.read()).isPresent(), Duration.ofSeconds(10)));
        Children.Ran r = restore("--user", alice.name(), "--session", "work");
        assertEquals(0, r.exit(), r.all());
        assertTrue(r.all().contains("already runs in session 'holder'"), r.all());
        assertTrue(live(alice).containsKey("work"), "restored, as a shell");
        assertTrue(claudeIn(alice, "work", Procfs.read()).isEmpty(), "no second claude on the same conversation");
        users.tmux(alice).run("kill-session", "-t", "=holder");
    }

    @Test
    @Order(7)
    void aTranscriptGoneWithNoKeptCopyGivesAShell() throws Exception {
        String id = saved.get("twin").conversation();
        users.tmux(alice).run("kill-session", "-t", "=twin");
        try (var s = Files.walk(alice.home().resolve(".claude/projects"))) {
            for (Path t : s.filter(p -> p.getFileName().toString().equals(id + ".jsonl")).toList()) Files.delete(t);
        }
        // Gone from t3's keeping too (over its bound, or T3_KEEP_CONVERSATIONS_MAX=0): KeepTest puts a kept one back.
        Path kept = state.resolve("kept").resolve(alice.name()).resolve("claude-" + id);
        assertTrue(Files.deleteIfExists(kept), "the save kept it: " + kept);
        Children.Ran r = restore("--user", alice.name());
        assertEquals(0, r.exit(), r.all());
        assertTrue(r.all().contains("'twin'") && r.all().contains("transcript no longer exists") && r.all().contains("t3 kept no copy"), r.all());
        assertTrue(live(alice).containsKey("twin"));
        assertTrue(claudeIn(alice, "twin", Procfs.read()).isEmpty(), "no claude started on a conversation claude would not find");
    }

    @Test
    @Order(8)
    void theLegacyFormRestoresAndAMalformedRowIsSkipped() throws Exception {
        String bobsId = new StateStore(state).history(bob.name()).readNewest().rows().get(0).conversation();
        crash(bob);
        // What an older version left: a flat file in place of the pointer.
        Files.delete(state.resolve(bob.name() + ".tsv"));
        Files.writeString(state.resolve(bob.name() + ".tsv"),
                "legacy\t" + bob.home() + "\t" + bobsId + "\nthis line has no tabs\nplain\t/tmp\t\nlost\t/no/such/dir\t-\n");
        Children.Ran r = restore("--user", bob.name());
        assertEquals(1, r.exit(), "a malformed row is a failed row: " + r.all());
        assertTrue(r.all().contains("line 2"), r.all());
        assertEquals(Set.of("legacy", "plain", "lost"), live(bob).keySet());
        Procfs procs = Procfs.read();
        assertEquals(Path.of("/tmp"), procs.currentPath(live(bob).get("lost").panePid()).orElseThrow(), "a gone cwd falls back to the roster's");
        assertTrue(r.all().contains("'/no/such/dir' is gone, starting in /tmp"), r.all());
        Procfs.Proc c = claudeIn(bob, "legacy", procs).orElseThrow();
        assertTrue(c.argv().contains(bobsId), c.argv().toString());
        assertEquals(bob.home(), procs.cwd(c.pid()).orElseThrow(), "starting dir found from the transcript");
    }

    @Test
    @Order(9)
    void badArgumentsExitTwo() {
        Children.Ran r = restore("--user", "t3-nobody-here");
        assertEquals(2, r.exit(), r.all());
        assertTrue(r.all().contains("no such user"), r.all());
        Children.Ran s = restore("--user", alice.name(), "--session", "never-saved");
        assertEquals(2, s.exit(), s.all());
        assertTrue(s.all().contains("never-saved"), s.all());
    }

    @Test
    @Order(10)
    void aRestoreThatFailsLosesNothing() throws Exception {
        crash(alice);
        // alice logs in before the restore gets to her, and her new server hangs.
        users.newSession(alice, "early", alice.home(), null);
        int server = users.serverPid(alice);
        Map<String, String> quick = new HashMap<>(env);
        quick.put("T3_TMUX_TIMEOUT", "2");
        Path pending = state.resolve(alice.name() + ".pending");
        Children.check("kill", "-STOP", Integer.toString(server));
        try {
            Children.Ran r = Repo.script("t3-restore.java", quick, "--user", alice.name());
            assertEquals(1, r.exit(), r.all());
            assertTrue(r.all().contains("restored nothing"), r.all());
            assertTrue(Files.exists(pending), "what the restore owes is recorded");
            assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(pending)));
        } finally {
            Children.check("kill", "-CONT", Integer.toString(server));
        }

        // The next save sees only "early", yet keeps every row the restore still owes.
        Children.Ran s = Repo.script("t3-save.java", env, "--user", alice.name());
        assertEquals(0, s.exit(), s.all());
        assertTrue(s.all().contains("keeping 5 session(s) the restore could not bring back"), s.all());
        Map<String, SavedSession> now = new StateStore(state).history(alice.name()).readNewest().rows().stream().collect(Collectors.toMap(SavedSession::session, x -> x));
        Set<String> expected = new java.util.HashSet<>(saved.keySet());
        expected.add("early");
        assertEquals(expected, now.keySet());
        // Whole but for which live pane it was: that pane is long gone (a restore ran since the first save).
        assertEquals(saved.get("work").withPanes(SavedPane::withoutTmuxPane), now.get("work").withPanes(SavedPane::withoutTmuxPane),
                "the row is kept whole, conversation and all");

        // A restore that works brings them back and clears the record.
        Children.Ran again = restore("--user", alice.name());
        assertEquals(0, again.exit(), again.all());
        assertEquals(expected, live(alice).keySet());
        assertFalse(Files.exists(pending));
        assertTrue(claudeIn(alice, "work", Procfs.read()).isPresent(), "work resumes its conversation");
    }
}
