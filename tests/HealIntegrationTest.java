import store.SavedSession;
import base.Accounts;
import claude.Conversations;
import base.Exec;
import base.KernelLog;
import base.Procfs;
import store.SnapshotFormat;
import store.StateStore;
import tmux.Tmux;
import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * t3-restore --heal on real tmux servers of two throwaway users running the fake claude (which,
 * like the real one, leaves its live record behind only when SIGKILLed): crashes heal in place,
 * deliberate exits are left alone, a busy pane is waited for, a crash loop is given up on, a
 * killed server comes back, and a healthy user is never touched.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class HealIntegrationTest {
    TestUsers users;
    Accounts.Account alice, bob;
    Path state, proj, elsewhere;
    Map<String, String> env = new HashMap<>();
    Map<String, String> bobsPanes;

    @BeforeAll
    void setUp() throws Exception {
        assumeTrue(Accounts.isRoot(), "needs root to create OS users and run tmux as them; run the tests as root (CI does)");
        users = new TestUsers();
        alice = users.create();
        bob = users.create();
        state = users.dir.resolve("state");
        env.putAll(users.operatorEnv(state, "a=" + alice.name() + "\nb=" + bob.name() + "\n"));
        proj = alice.home().resolve("proj");
        elsewhere = alice.home().resolve("elsewhere");
        Children.asUser(alice, "mkdir", "-p", proj.toString(), elsewhere.toString());
        // Started by hand, as people do: from a shell in one directory, the conversation in another.
        for (String s : List.of("work", "second", "loop")) {
            users.newSession(alice, s, elsewhere, null);
            users.type(alice, s, "(cd " + proj + " && " + users.claude() + ")");
        }
        users.newSession(bob, "b1", bob.home(), null);
        users.type(bob, "b1", users.claude());
        assertTrue(Children.waitFor(() -> users.claudeIn(alice, "work").isPresent() && users.claudeIn(alice, "second").isPresent()
                && users.claudeIn(alice, "loop").isPresent() && users.claudeIn(bob, "b1").isPresent(), Duration.ofSeconds(20)), "fake claudes started");
        save();
        bobsPanes = panes(bob);
    }

    @AfterAll
    void tearDown() throws Exception {
        if (users != null) users.close();
    }

    /** Pane id to pane pid, for the user's sessions' active panes, by session name. */
    Map<String, String> panes(Accounts.Account a) {
        return users.tmux(a).listPanes().stream().collect(Collectors.toMap(Tmux.LivePane::session, p -> p.id() + "/" + p.pid()));
    }

    Tmux.LivePane pane(Accounts.Account a, String session) {
        return users.tmux(a).listPanes().stream().filter(p -> p.session().equals(session)).findFirst()
                .orElseThrow(() -> new AssertionError(session + " is not live"));
    }

    String conversationIn(Accounts.Account a, String session) throws Exception {
        Procfs.Proc c = users.claudeIn(a, session).orElseThrow(() -> new AssertionError(session + ": no claude"));
        return new Conversations(Procfs.read(), a).of(c).orElseThrow().id();
    }

    Children.Ran save() {
        Children.Ran r = Repo.script("t3-save.java", env);
        assertEquals(0, r.exit(), r.all());
        return r;
    }

    Children.Ran heal(String... args) {
        List<String> all = new ArrayList<>(List.of("--heal"));
        all.addAll(List.of(args));
        Children.Ran r = Repo.script("t3-restore.java", env, all.toArray(String[]::new));
        assertEquals(0, r.exit(), r.all());
        return r;
    }

    /** Waits until claude runs in the session again, resuming {@code id} in {@code dir}. */
    void assertResumed(String session, String id, String paneBefore) throws Exception {
        assertTrue(Children.waitFor(() -> users.claudeIn(alice, session).isPresent(), Duration.ofSeconds(10)), session + ": claude runs again");
        Procfs procs = Procfs.read();
        Procfs.Proc c = users.claudeIn(alice, session).orElseThrow();
        int i = c.argv().indexOf("--resume");
        assertTrue(i > 0 && c.argv().get(i + 1).equals(id), session + ": resumes " + id + ": " + c.argv());
        assertEquals(proj, procs.cwd(c.pid()).orElseThrow(), "in the conversation's starting directory, not the pane's");
        assertEquals(paneBefore, pane(alice, session).id(), "in the same pane");
        assertEquals(alice.uid(), c.uid());
    }

    @Test
    @Order(1)
    void aKilledClaudeIsResumedInItsOwnPaneOnce() throws Exception {
        String id = conversationIn(alice, "work");
        String paneId = pane(alice, "work").id();
        Map<String, String> sessionsBefore = panes(alice);
        users.killClaude(alice, "work");

        Children.Ran dry = heal("--dry-run");
        assertTrue(dry.out().lines().anyMatch(l -> l.contains(paneId) && l.contains(id) && l.contains("resume") && l.contains("was killed")), dry.all());
        assertTrue(users.claudeIn(alice, "work").isEmpty(), "a dry run changes nothing");

        Children.Ran r = heal();
        assertTrue(r.all().contains("healed conversation " + id + " in session 'work' (pane " + paneId + ")"), r.all());
        assertTrue(r.all().contains("its live record"), "the log names the evidence: " + r.all());
        assertResumed("work", id, paneId);
        assertEquals(sessionsBefore.keySet(), panes(alice).keySet(), "no session added or removed");
        String screen = users.tmux(alice).screen(paneId);
        assertTrue(screen.contains("t3: resumed conversation " + id.substring(0, 8) + "\u2026 (after a crash, healed at "),
                "the pane says what happened and when: " + screen);
        assertEquals(1, screen.split("t3: resumed conversation", -1).length - 1, "once: " + screen);

        Children.Ran again = heal();
        assertTrue(again.all().contains(alice.name() + ": healed 0, waiting 0, gave up 0"), again.all());
        assertEquals(bobsPanes, panes(bob), "the healthy user is untouched");
        assertTrue(again.all().contains(bob.name() + ": healed 0"), again.all());
    }

    @Test
    @Order(2)
    void aClaudeTheUserQuitIsLeftAlone() throws Exception {
        String id = conversationIn(alice, "work");
        String before = pane(alice, "work").id() + "/" + pane(alice, "work").pid();
        assertTrue(users.tmux(alice).run("send-keys", "-t", "=work:", "/exit", "Enter").ok());
        assertTrue(Children.waitFor(() -> users.claudeIn(alice, "work").isEmpty(), Duration.ofSeconds(5)));
        Thread.sleep(500);
        Children.Ran r = heal();
        assertTrue(r.all().contains(alice.name() + ": healed 0"), r.all());
        Thread.sleep(500);
        assertTrue(users.claudeIn(alice, "work").isEmpty(), "/exit is the user's choice");
        assertEquals(before, pane(alice, "work").id() + "/" + pane(alice, "work").pid(), "the pane still runs its shell");
        save();
        SavedSession row = new StateStore(state).history(alice.name()).readNewest().rows().stream()
                .filter(x -> x.session().equals("work")).findFirst().orElseThrow();
        assertEquals(id, row.conversation(), "the id stays in the row, for --find");
        assertNotNull(row.notRunning());
    }

    @Test
    @Order(3)
    void aBusyPaneIsWaitedFor() throws Exception {
        String id = conversationIn(alice, "second");
        String paneId = pane(alice, "second").id();
        users.killClaude(alice, "second");
        users.type(alice, "second", "sleep 60");
        assertTrue(Children.waitFor(() -> Procfs.read().all().stream().anyMatch(p -> p.uid() == alice.uid() && p.comm().equals("sleep")),
                Duration.ofSeconds(5)));
        Children.Ran busy = heal();
        assertTrue(busy.all().contains("waiting: pane " + paneId + " is busy running sleep"), busy.all());
        assertTrue(users.claudeIn(alice, "second").isEmpty());
        assertTrue(users.tmux(alice).run("send-keys", "-t", paneId, "C-c").ok(), "the user ends her job");
        assertTrue(Children.waitFor(() -> Procfs.read().all().stream().noneMatch(p -> p.uid() == alice.uid() && p.comm().equals("sleep")),
                Duration.ofSeconds(10)));
        Thread.sleep(300);
        Children.Ran r = heal();
        assertTrue(r.all().contains("healed conversation " + id), r.all());
        assertResumed("second", id, paneId);
    }

    @Test
    @Order(4)
    void aCrashLoopIsHealedThreeTimesThenLeftAlone() throws Exception {
        String id = conversationIn(alice, "loop");
        String paneId = pane(alice, "loop").id();
        for (int i = 1; i <= 3; i++) {
            users.killClaude(alice, "loop");
            Children.Ran r = heal();
            assertTrue(r.all().contains("healed conversation " + id), "heal " + i + ": " + r.all());
            assertResumed("loop", id, paneId);
        }
        users.killClaude(alice, "loop");
        Children.Ran r = heal();
        assertTrue(r.all().contains("not healing it again: killed again after 3 heal(s) within 60 min"), r.all());
        assertTrue(r.all().contains(id), "the warning names the conversation: " + r.all());
        Thread.sleep(1000);
        assertTrue(users.claudeIn(alice, "loop").isEmpty(), "left alone");
        assertTrue(heal().all().contains(alice.name() + ": healed 0, waiting 0, gave up 0"), "and not warned about again");
        // The counts a metrics file will take: every heal so far (1 + 1 + 3), the wait, the give-up.
        var counts = new com.fasterxml.jackson.databind.ObjectMapper().readTree(Files.readString(new StateStore(state).healFile(alice.name()))).get("counts");
        assertEquals(5, counts.path("healed").asInt(), counts.toString());
        assertEquals(1, counts.path("waited").asInt(), counts.toString());
        assertEquals(1, counts.path("gave-up").asInt(), counts.toString());
        assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(new StateStore(state).healFile(alice.name()))));
    }

    @Test
    @Order(5)
    void ofTwoCrashesInOnePaneTheNewerIsHealed() throws Exception {
        // "work" is a shell since the user's /exit. She starts A, it is killed; she starts B there, it is killed too.
        String paneId = pane(alice, "work").id();
        users.type(alice, "work", "(cd " + proj + " && " + users.claude() + ")");
        assertTrue(Children.waitFor(() -> users.claudeIn(alice, "work").isPresent(), Duration.ofSeconds(10)));
        String a = conversationIn(alice, "work");
        users.killClaude(alice, "work");
        users.type(alice, "work", "(cd " + proj + " && " + users.claude() + ")");
        assertTrue(Children.waitFor(() -> users.claudeIn(alice, "work").isPresent(), Duration.ofSeconds(10)));
        String b = conversationIn(alice, "work");
        assertNotEquals(a, b);
        users.killClaude(alice, "work");
        Children.Ran r = heal();
        assertTrue(r.all().contains("healed conversation " + b), r.all());
        assertFalse(r.all().contains("healed conversation " + a), "the older crash is not resumed over it: " + r.all());
        assertTrue(r.all().contains(alice.name() + ": healed 1,"), r.all());
        assertResumed("work", b, paneId);
    }

    @Test
    @Order(6)
    void anOomKilledServerComesBackAndAnExitedOneDoesNot() throws Exception {
        save();
        List<String> sessions = new ArrayList<>(panes(alice).keySet());
        int server = users.serverPid(alice);
        MemoryCgroup.killServer(users.tmux(alice), server, alice.uid(), "work");
        assertEquals(Tmux.SocketState.STALE, users.tmux(alice).socketState(), "its socket is left behind");
        Children.Ran r = heal();
        assertTrue(r.all().contains("was killed by the OOM killer"), r.all());
        assertEquals(new java.util.TreeSet<>(sessions), new java.util.TreeSet<>(panes(alice).keySet()), "every session is back");

        // tmux leaves its socket behind on a clean kill-server too: no OOM kill on record, nothing comes back.
        Exec.Result killServer = users.tmux(alice).run("kill-server");
        assertTrue(killServer.ok(), killServer.err());
        assertTrue(Children.waitFor(() -> users.tmux(alice).socketState() != Tmux.SocketState.LIVE, Duration.ofSeconds(5)));
        Children.Ran none = heal();
        assertTrue(none.all().contains(alice.name() + ": the tmux server is gone (stale socket) and no crash is on record"), none.all());
        assertNotEquals(Tmux.SocketState.LIVE, users.tmux(alice).socketState(), "kill-server is respected");

        // Closing the last session ends the server the same way: also the user's choice.
        users.newSession(alice, "last", alice.home(), null);
        assertTrue(users.tmux(alice).run("kill-session", "-t", "=last").ok());
        assertTrue(Children.waitFor(() -> users.tmux(alice).socketState() != Tmux.SocketState.LIVE, Duration.ofSeconds(5)));
        assertTrue(heal().all().contains("no crash is on record"));
        assertNotEquals(Tmux.SocketState.LIVE, users.tmux(alice).socketState());
        assertEquals(bobsPanes, panes(bob), "the healthy user is untouched");
    }
}
