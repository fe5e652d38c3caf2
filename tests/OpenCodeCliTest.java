import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import assistants.Running;
import base.Accounts;
import base.Procfs;
import opencode.OpenCode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import store.SavedPane;
import store.SavedSession;
import store.StateStore;
import tmux.Tmux;

/**
 * The real OpenCode (npm opencode-ai, pinned), offline, in tmux, as a throwaway user: a session
 * in a directory of its own, two in one directory (one resumed with -s); save; a crash; restore:
 * each TUI resumes its own session in its directory, and the session goes on (no new row).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OpenCodeCliTest {
    TestUsers users;
    RealAssistants.Install opencode;
    Accounts.Account carol;
    Path state, w, v, db;

    @BeforeAll
    void setUp() throws Exception {
        assumeTrue(Accounts.isRoot(), "needs root to create OS users and run tmux as them; run the tests as root (CI does)");
        opencode = RealAssistants.of(RealAssistants.OPENCODE);
        assumeTrue(opencode.whyNot() == null, "the real OpenCode cannot run here: " + opencode.whyNot());
        users = new TestUsers();
        state = users.dir.resolve("state");
        carol = users.create();
        w = carol.home().resolve("w");
        v = carol.home().resolve("v");
        db = carol.home().resolve(".local/share/opencode/opencode.db");
        Children.asUser(carol, "mkdir", "-p", w.toString(), v.toString(), carol.home().resolve(".tmp").toString());
        // Offline: no model list, no plugin install, no update check; its ~19 MB a start in her own tmp (FACTS).
        Children.asUser(carol, "sh", "-c", "printf '%s\\n' 'export OPENCODE_DISABLE_MODELS_FETCH=1 OPENCODE_DISABLE_DEFAULT_PLUGINS=1 "
                + "OPENCODE_DISABLE_AUTOUPDATE=1 TMPDIR=$HOME/.tmp' >> " + carol.home().resolve(".profile"));
    }

    @AfterAll
    void tearDown() throws Exception {
        if (users != null) users.close();
    }

    /** Her top-level sessions: id to directory, oldest first (read by the test, not by t3). */
    Map<String, String> sessions() throws Exception {
        if (!Files.exists(db)) return Map.of();
        for (int attempt = 1; ; attempt++) {
            Map<String, String> out = new LinkedHashMap<>();
            try (Connection c = DriverManager.getConnection("jdbc:sqlite:file:" + db + "?mode=ro");
                 ResultSet r = c.createStatement().executeQuery("select id, directory from session where parent_id is null order by time_created")) {
                while (r.next()) out.put(r.getString(1), r.getString(2));
                return out;
            } catch (java.sql.SQLException e) {
                if (attempt == 10) throw e; // busy while OpenCode writes: ask again, never answer "none"
                Thread.sleep(200);
            }
        }
    }

    String sessionTimes() {
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:file:" + db + "?mode=ro");
             ResultSet r = c.createStatement().executeQuery("select id, directory, time_created, time_updated, parent_id from session")) {
            StringBuilder b = new StringBuilder();
            while (r.next()) b.append(r.getString(1)).append(' ').append(r.getString(2)).append(' ').append(java.time.Instant.ofEpochMilli(r.getLong(3)))
                    .append(' ').append(java.time.Instant.ofEpochMilli(r.getLong(4))).append(' ').append(r.getString(5)).append('\n');
            return b.toString();
        } catch (Exception e) {
            return e.toString();
        }
    }

    long messages(String session) throws Exception {
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:file:" + db + "?mode=ro");
             var q = c.prepareStatement("select count(*) from message where session_id = ?")) {
            q.setString(1, session);
            ResultSet r = q.executeQuery();
            return r.next() ? r.getLong(1) : 0;
        }
    }

    /** Starts opencode in a new session's shell and types a prompt until its session row appears; returns its id. */
    String start(String session, Path dir, String args) throws Exception {
        users.newSession(carol, session, dir, null);
        users.type(carol, session, ". ~/.profile; " + opencode.bin("opencode") + args);
        return prompt(session, "hello from " + session, args.isEmpty());
    }

    String prompt(String session, String text, boolean newRow) throws Exception {
        Tmux tmux = users.tmux(carol);
        Map<String, String> before = sessions();
        String[] made = new String[1];
        for (int attempt = 0; attempt < 6 && made[0] == null; attempt++) {
            Thread.sleep(attempt == 0 ? 6000 : 4000); // it takes a few seconds to start; typeahead before that is lost
            tmux.run("send-keys", "-t", "=" + session + ":", "-l", text);
            Thread.sleep(300);
            tmux.run("send-keys", "-t", "=" + session + ":", "Enter");
            Children.waitFor(() -> {
                Map<String, String> now;
                try {
                    now = new LinkedHashMap<>(sessions());
                } catch (Exception e) {
                    return false;
                }
                before.keySet().forEach(now::remove);
                if (newRow && now.size() == 1) made[0] = now.keySet().iterator().next();
                return made[0] != null;
            }, Duration.ofSeconds(4));
            if (!newRow) return null;
        }
        assertNotNull(made[0], session + ": its session row appears: " + tmux.screen("=" + session + ":"));
        return made[0];
    }

    /** Her OpenCode processes, wherever they run. */
    List<Procfs.Proc> running() {
        return Procfs.read().all().stream().filter(p -> p.uid() == carol.uid() && OpenCode.INSTANCE.is(p)).toList();
    }

    Optional<Procfs.Proc> opencodeIn(String session) {
        Tmux.Session s = users.tmux(carol).listSessions().sessions().stream().filter(x -> x.name().equals(session)).findFirst().orElse(null);
        return s == null ? Optional.empty() : new Running(Procfs.read(), carol).in(s.panePid()).map(Running.Found::proc);
    }

    @Test
    void eachTuiResumesItsOwnSessionInItsDirectory() throws Exception {
        // A session made by an OpenCode that has since ended, to be resumed with -s beside a new one.
        String earlier = start("gone", w, "");
        users.tmux(carol).run("kill-session", "-t", "=gone");
        assertTrue(Children.waitFor(() -> running().isEmpty(), Duration.ofSeconds(20)), "the first OpenCode ended: " + running());
        Thread.sleep(1500); // what it made is older, by more than a start time's second, than what comes next
        String one = start("oc-1", w, "");
        users.newSession(carol, "oc-2", w, null);
        users.type(carol, "oc-2", ". ~/.profile; " + opencode.bin("opencode") + " -s " + earlier);
        String three = start("oc-3", v, "");

        Map<String, String> env = new HashMap<>(Map.of("T3_USER_MAP", Files.writeString(users.dir.resolve("map"), "x=" + carol.name() + "\n").toString(),
                "T3_STATE_DIR", state.toString(), "T3_TMUX_TMPDIR", users.tmuxTmp.toString(), "T3_OPENCODE", opencode.bin("opencode").toString()));
        Children.Ran save = Repo.script("t3-save.java", env);
        String debug = running().stream().map(p -> p.pid() + " " + p.argv() + " started " + Procfs.read().startTime(p) + " in " + Procfs.read().cwd(p.pid())).toList()
                + "\n" + sessionTimes();
        assertEquals(0, save.exit(), save.all());
        Map<String, SavedSession> rows = new StateStore(state).history(carol.name()).readNewest().rows().stream()
                .collect(Collectors.toMap(SavedSession::session, x -> x));
        Map<String, String> expected = Map.of("oc-1", one, "oc-2", earlier, "oc-3", three);
        for (var e : expected.entrySet()) {
            assertFalse(rows.get(e.getKey()).conversations().isEmpty(), e.getKey() + ": saved with a conversation: " + rows.get(e.getKey()) + "\n" + save.all() + "\n" + debug);
            SavedPane p = rows.get(e.getKey()).conversations().get(0);
            assertEquals("opencode", p.assistant(), e.getKey());
            assertEquals(e.getValue(), p.conversation(), e.getKey() + ": its own session, told from its neighbour's: " + save.all());
        }
        long oneMessages = messages(one);
        int rowsBefore = sessions().size();

        TestUsers.pkill("-KILL", carol);
        assertTrue(Children.waitFor(() -> users.tmux(carol).socketState() != Tmux.SocketState.LIVE, Duration.ofSeconds(10)));
        Children.Ran r = Repo.script("t3-restore.java", env, "--user", carol.name());
        assertEquals(0, r.exit(), r.all());
        Map<String, Path> dirs = Map.of("oc-1", w, "oc-2", w, "oc-3", v);
        for (var e : expected.entrySet()) {
            assertTrue(Children.waitFor(() -> opencodeIn(e.getKey()).map(p -> p.argv().contains(e.getValue())).orElse(false), Duration.ofSeconds(30)),
                    e.getKey() + ": opencode resumes " + e.getValue() + ": " + r.all());
            Procfs.Proc p = opencodeIn(e.getKey()).orElseThrow();
            assertEquals(List.of("-s", e.getValue()), p.argv().subList(p.argv().size() - 2, p.argv().size()));
            assertEquals(Optional.of(dirs.get(e.getKey())), Procfs.read().cwd(p.pid()));
        }
        prompt("oc-1", "and again", false);
        assertTrue(Children.waitFor(() -> {
            try {
                return messages(one) > oneMessages;
            } catch (Exception x) {
                return false;
            }
        }, Duration.ofSeconds(30)), "the same session goes on");
        assertEquals(rowsBefore, sessions().size(), "and no new one was made");
    }
}
