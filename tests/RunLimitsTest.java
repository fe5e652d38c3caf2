import store.SavedSession;
import base.Accounts;
import store.RunLock;
import store.SnapshotFormat;
import store.StateStore;
import tmux.Tmux;
import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Limits a run keeps whatever users do: one run at a time over a state dir (by hand too), a
 * budget per user instead of timeouts that add up, and no session started for a user whose
 * login shell would close it at once. Real users, real tmux.
 */
class RunLimitsTest {
    TestUsers users;
    Path state;
    Map<String, String> env = new HashMap<>();

    @BeforeEach
    void setUp() throws Exception {
        assumeTrue(Accounts.isRoot(), "needs root to create OS users and run tmux as them; run the tests as root (CI does)");
        users = new TestUsers();
        state = users.dir.resolve("state");
        env.putAll(Map.of("T3_STATE_DIR", state.toString(), "T3_TMUX_TMPDIR", users.tmuxTmp.toString(),
                "T3_CLAUDE", users.bin.resolve("claude").toString()));
    }

    @AfterEach
    void tearDown() throws Exception {
        if (users != null) users.close();
    }

    void roster(Accounts.Account... accounts) throws Exception {
        StringBuilder b = new StringBuilder();
        for (Accounts.Account a : accounts) b.append("x=").append(a.name()).append('\n');
        env.put("T3_USER_MAP", Files.writeString(users.dir.resolve("user-map"), b.toString()).toString());
    }

    @Test
    void aRunByHandWaitsForTheLockThenSaysWhoHoldsIt() throws Exception {
        Accounts.Account a = users.create();
        roster(a);
        users.newSession(a, "one", a.home(), null);
        StateStore store = new StateStore(state);
        store.prepare();
        Map<String, String> impatient = new HashMap<>(env);
        impatient.put("T3_LOCK_WAIT", "1");
        try (RunLock held = RunLock.acquire(store, Duration.ZERO)) {
            for (String script : List.of("t3-save.java", "t3-restore.java")) {
                Children.Ran r = Repo.script(script, impatient);
                assertEquals(1, r.exit(), script + ": " + r.all());
                assertTrue(r.all().contains("another t3-tmux run (pid " + ProcessHandle.current().pid() + ") holds " + store.lockFile()), r.all());
            }
            assertTrue(store.history(a.name()).newest().isEmpty(), "nothing written while another run held the lock");
            assertEquals(0, Repo.script("t3-restore.java", impatient, "--dry-run").exit(), "a dry run reads without the lock");
        }
        Children.Ran r = Repo.script("t3-save.java", impatient);
        assertEquals(0, r.exit(), r.all());
        assertTrue(store.history(a.name()).newest().isPresent());
    }

    @Test
    void aServerThatHangsMidRestoreCostsOneTimeoutNotOnePerSession() throws Exception {
        Accounts.Account a = users.create(), b = users.create();
        roster(a, b);
        StateStore store = new StateStore(state);
        store.prepare();
        List<SavedSession> rows = new ArrayList<>();
        for (int i = 1; i <= 150; i++) rows.add(new SavedSession("s" + i, a.home().toString(), null, null, null));
        store.history(a.name()).commit(rows, Instant.now());
        store.history(b.name()).commit(List.of(new SavedSession("b1", b.home().toString(), null, null, null)), Instant.now());
        // a's server answers the listing, then stops itself once the restore's first session is made.
        users.newSession(a, "early", a.home(), null);
        int server = users.serverPid(a);
        assertTrue(users.tmux(a).run("set-hook", "-g", "session-created", "run-shell 'kill -STOP " + server + "'").ok());
        Map<String, String> quick = new HashMap<>(env);
        quick.put("T3_TMUX_TIMEOUT", "2");
        try {
            Children.Ran r = Repo.script("t3-restore.java", quick);
            assertEquals(1, r.exit(), r.all());
            assertTrue(r.all().contains(a.name() + ": tmux stopped answering; "), r.all());
            long timeouts = r.all().lines().filter(l -> l.contains("could not recreate")).count();
            assertTrue(timeouts <= 1, "one timeout, not one per session: " + r.all());
            assertTrue(r.took().compareTo(Duration.ofSeconds(20)) < 0, "150 sessions did not cost one timeout each: " + r.took());
            assertEquals(List.of("b1"), users.tmux(b).listSessions().sessions().stream().map(Tmux.Session::name).toList(), "the other user is restored");
            List<String> owed = store.owed(a.name()).rows().stream().map(SavedSession::session).toList();
            assertTrue(owed.size() >= 150 - 64 && owed.contains("s150"), "what was not tried is owed: " + owed.size());
            System.out.printf("hung mid-restore: %d ms for 150 sessions, %d owed%n", r.took().toMillis(), owed.size());
        } finally {
            Children.check("kill", "-CONT", Integer.toString(server));
        }
    }

    @Test
    void aUserWhoseShellCannotLogInGetsNoSessionAndLosesNoRow() throws Exception {
        Accounts.Account a = users.create("/usr/sbin/nologin");
        roster(a);
        StateStore store = new StateStore(state);
        store.prepare();
        store.history(a.name()).commit(List.of(new SavedSession("work", a.home().toString(), null, null, null)), Instant.now());
        Children.Ran r = Repo.script("t3-restore.java", env);
        assertEquals(1, r.exit(), r.all());
        assertTrue(r.all().contains(a.name() + "'s login shell is /usr/sbin/nologin"), r.all());
        assertNotEquals(Tmux.SocketState.LIVE, users.tmux(a).socketState(), "no session that would die at once");
        assertEquals(List.of("work"), store.owed(a.name()).rows().stream().map(SavedSession::session).toList(), "the row stays owed");
    }
}
