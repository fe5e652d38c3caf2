import store.SavedSession;
import base.Accounts;
import store.SnapshotFormat;
import store.StateStore;
import tmux.Tmux;
import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * t3-save end to end, as root, run the way the timer runs it (./jbang t3-save.java), over two
 * throwaway OS users whose real tmux servers run the fake claude.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SaveIntegrationTest {
    TestUsers users;
    Accounts.Account alice, bob;
    Path state, marker;
    Map<String, String> env = new HashMap<>();
    String hostile;

    @BeforeAll
    void setUp() throws Exception {
        assumeTrue(Accounts.isRoot(), "needs root to create OS users and run tmux as them; run the tests as root (CI does)");
        users = new TestUsers();
        alice = users.create();
        bob = users.create();
        state = users.dir.resolve("state");
        marker = users.tmuxTmp.resolve("pwned");
        Path map = Files.writeString(users.dir.resolve("user-map"), "# test roster\nalice@x=" + alice.name() + "\nbob@x=" + bob.name() + ":/tmp\n");
        env.put("T3_USER_MAP", map.toString());
        env.put("T3_STATE_DIR", state.toString());
        env.put("T3_TMUX_TMPDIR", users.tmuxTmp.toString());
        env.put("T3_TMUX_TIMEOUT", "3");

        Path proj = alice.home().resolve("proj");
        Children.asUser(alice, "mkdir", "-p", proj.toString(), alice.home().resolve("odd dir $x").toString());
        hostile = "a'b \"c\" $(touch " + marker + ") ü";
        users.newSession(alice, "work", proj, users.claude("--name", "work"));
        users.newSession(alice, "twin", proj, users.claude());
        users.newSession(alice, "shell", alice.home(), null);
        users.newSession(alice, hostile, alice.home().resolve("odd dir $x"), users.claude());
        users.newSession(alice, "cleared", proj, users.claude("--session-id", "11111111-2222-4333-8444-555555555555"));
        assertTrue(Children.waitFor(() -> liveRecords(alice).size() == 4, Duration.ofSeconds(15)), "4 fake claudes started: " + liveRecords(alice));
        // /clear in "cleared": its argv keeps --session-id 1111…, its live record moves on.
        assertTrue(users.tmux(alice).run("send-keys", "-t", "=cleared:", "/clear", "Enter").ok());
        assertTrue(Children.waitFor(() -> !idInPane(alice, "cleared").startsWith("11111111"), Duration.ofSeconds(10)), "/clear took effect");
    }

    @AfterAll
    void tearDown() throws Exception {
        if (users != null) users.close();
    }

    /** The live records of a user's running claudes, keyed by the tmux pane they say they run in. */
    Map<String, Map<?, ?>> liveRecords(Accounts.Account a) {
        try (var files = Files.list(a.home().resolve(".claude/sessions"))) {
            ObjectMapper json = new ObjectMapper();
            return files.filter(f -> f.toString().endsWith(".json")).map(f -> {
                try { return (Map<?, ?>) json.readValue(f.toFile(), Map.class); } catch (Exception e) { return Map.of(); }
            }).filter(m -> m.get("tmux") != null).collect(Collectors.toMap(m -> (String) m.get("tmux"), m -> m, (x, y) -> x));
        } catch (Exception e) {
            return Map.of();
        }
    }

    String idInPane(Accounts.Account a, String session) {
        String pane = users.tmux(a).run("display-message", "-p", "-t", "=" + session + ":", "#{pane_id}").out().strip();
        Map<?, ?> rec = liveRecords(a).get(pane);
        return rec == null ? "" : (String) rec.get("sessionId");
    }

    Map<String, SavedSession> rows(Accounts.Account a) throws Exception {
        return new StateStore(state).history(a.name()).readNewest().rows().stream().collect(Collectors.toMap(SavedSession::session, Function.identity()));
    }

    @Test
    @Order(1)
    void aUserWithoutAServerKeepsNothingAndSaysSo() {
        Children.Ran r = Repo.script("t3-save.java", env, "--user", bob.name());
        assertEquals(0, r.exit(), r.all());
        assertTrue(r.all().contains(bob.name() + ": no tmux server"), r.all());
        assertFalse(Files.exists(state.resolve(bob.name() + ".tsv")));
    }

    @Test
    @Order(2)
    void savesEverySessionWithItsConversation() throws Exception {
        users.newSession(bob, "b1", Path.of("/tmp"), users.claude());
        assertTrue(Children.waitFor(() -> liveRecords(bob).size() == 1, Duration.ofSeconds(10)));
        Children.Ran r = Repo.script("t3-save.java", env);
        assertEquals(0, r.exit(), r.all());
        assertTrue(r.all().contains(alice.name() + ": saved 5 sessions, 4 with a conversation"), r.all());
        assertTrue(r.all().contains(bob.name() + ": saved 1 sessions, 1 with a conversation"), r.all());

        Map<String, SavedSession> rows = rows(alice);
        assertEquals(java.util.Set.of("work", "twin", "shell", hostile, "cleared"), rows.keySet());
        Path proj = alice.home().resolve("proj");
        for (String s : List.of("work", "twin", "cleared")) {
            assertEquals(proj.toString(), rows.get(s).cwd(), s);
            assertEquals(idInPane(alice, s), rows.get(s).conversation(), s + ": the id its live record holds");
            assertEquals(proj.toString(), rows.get(s).conversationCwd(), s);
            assertNull(rows.get(s).home(), s + ": default config root");
        }
        assertNotEquals(rows.get("work").conversation(), rows.get("twin").conversation(), "two claudes in one cwd keep their own ids");
        assertFalse(rows.get("cleared").conversation().startsWith("11111111"), "after /clear the new id, not argv's");
        SavedSession shell = rows.get("shell");
        assertEquals(List.of("shell", alice.home().toString()), List.of(shell.session(), shell.cwd()));
        assertFalse(shell.hasConversation());
        assertEquals(1, shell.panes().size(), "one window, one pane: " + shell);
        SavedSession odd = rows.get(hostile);
        assertEquals(alice.home().resolve("odd dir $x").toString(), odd.cwd());
        assertEquals(idInPane(alice, hostile), odd.conversation());
        assertFalse(Files.exists(marker), "the $(…) in a session name ran");

        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(state)));
        for (Accounts.Account a : List.of(alice, bob)) {
            Path f = state.resolve(a.name() + ".tsv");
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(f)));
            assertEquals(0, (Integer) Files.getAttribute(f, "unix:uid"));
            assertTrue(Files.readString(f).startsWith("# t3-tmux snapshot"), "a header line first");
        }
    }

    @Test
    @Order(3)
    void dryRunPrintsAndWritesNothing() throws Exception {
        byte[] before = Files.readAllBytes(state.resolve(alice.name() + ".tsv"));
        users.newSession(alice, "extra", alice.home(), null);
        try {
            Children.Ran r = Repo.script("t3-save.java", env, "--dry-run", "--user", alice.name());
            assertEquals(0, r.exit(), r.all());
            assertTrue(r.out().contains("extra\t" + alice.home()), r.out());
            assertArrayEquals(before, Files.readAllBytes(state.resolve(alice.name() + ".tsv")));
        } finally {
            users.tmux(alice).run("kill-session", "-t", "=extra");
        }
    }

    @Test
    @Order(4)
    void aKilledServerLeavesTheLastSnapshotByteIdentical() throws Exception {
        Path bobs = state.resolve(bob.name() + ".tsv");
        byte[] before = Files.readAllBytes(bobs);
        Children.check("kill", "-KILL", Integer.toString(users.serverPid(bob)));
        assertTrue(Children.waitFor(() -> users.tmux(bob).socketState() == Tmux.SocketState.STALE, Duration.ofSeconds(5)),
                "the killed server leaves a stale socket behind");
        Children.Ran r = Repo.script("t3-save.java", env);
        assertEquals(0, r.exit(), "a stale socket is not a failure: " + r.all());
        assertTrue(r.all().contains(bob.name() + ": stale socket"), r.all());
        assertTrue(r.all().contains(alice.name() + ": saved 5 sessions"), r.all());
        assertArrayEquals(before, Files.readAllBytes(bobs));
    }

    @Test
    @Order(5)
    void aHungServerCostsItsTimeoutAndSparesTheOther() throws Exception {
        Path bobs = state.resolve(bob.name() + ".tsv");
        byte[] before = Files.readAllBytes(bobs);
        Files.delete(users.tmux(bob).socket());
        users.newSession(bob, "b2", Path.of("/tmp"), null);
        Children.Ran baseline = Repo.script("t3-save.java", env);
        assertEquals(0, baseline.exit(), baseline.all());
        Files.write(bobs, before); // the baseline saved b2; put the old snapshot back to compare
        int server = users.serverPid(bob);
        Children.check("kill", "-STOP", Integer.toString(server));
        try {
            Path alices = state.resolve(alice.name() + ".tsv");
            Files.delete(alices);
            Children.Ran r = Repo.script("t3-save.java", env);
            assertEquals(1, r.exit(), "a hung server is a failure for that user: " + r.all());
            assertTrue(r.all().contains(bob.name() + ": tmux did not answer in time"), r.all());
            assertTrue(r.all().contains(alice.name() + ": saved 5 sessions"), r.all());
            assertTrue(Files.exists(alices), "the other user was saved");
            assertArrayEquals(before, Files.readAllBytes(bobs));
            Duration extra = r.took().minus(baseline.took());
            System.out.printf("hung server: run took %d ms, %d ms more than with it answering (timeout 3000 ms)%n",
                    r.took().toMillis(), extra.toMillis());
            assertTrue(extra.toMillis() < 3000 + 2500, "delayed by " + extra.toMillis() + " ms, more than the 3 s timeout allows");
        } finally {
            Children.check("kill", "-CONT", Integer.toString(server));
        }
    }

    @Test
    @Order(6)
    void anUnknownUserIsABadArgument() {
        Children.Ran r = Repo.script("t3-save.java", env, "--user", "t3-nobody-here");
        assertEquals(2, r.exit(), r.all());
        assertTrue(r.all().contains("no such user"), r.all());
    }
}
