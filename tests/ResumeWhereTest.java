import store.SavedSession;
import base.Accounts;
import claude.Conversations;
import base.Exec;
import base.Procfs;
import store.SnapshotFormat;
import store.StateStore;
import tmux.Tmux;
import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Where and how a restored claude runs, on points the other integration tests cannot tell apart:
 * a config root other than ~/.claude, a conversation started in one directory while its pane runs
 * in another (and a starting directory that is wrong: "No conversation found"), and
 * T3_CLAUDE_ARGS. Real users, real tmux, the fake claude; t3-save and t3-restore as run by hand.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ResumeWhereTest {
    TestUsers users;
    Path state;

    @BeforeAll
    void setUp() throws Exception {
        assumeTrue(Accounts.isRoot(), "needs root to create OS users and run tmux as them; run the tests as root (CI does)");
        users = new TestUsers();
        state = users.dir.resolve("state");
    }

    @AfterAll
    void tearDown() throws Exception {
        if (users != null) users.close();
    }

    Map<String, String> env(Accounts.Account a) throws Exception {
        Path map = Files.writeString(users.dir.resolve("map-" + a.name()), "x=" + a.name() + "\n");
        return new HashMap<>(Map.of("T3_USER_MAP", map.toString(), "T3_STATE_DIR", state.toString(),
                "T3_TMUX_TMPDIR", users.tmuxTmp.toString(), "T3_CLAUDE", users.bin.resolve("claude").toString()));
    }

    Map<String, Tmux.Session> live(Accounts.Account a) {
        return users.tmux(a).listSessions().sessions().stream().collect(Collectors.toMap(Tmux.Session::name, s -> s));
    }

    Optional<Procfs.Proc> claudeIn(Accounts.Account a, String session, Procfs procs) {
        Tmux.Session s = live(a).get(session);
        return s == null ? Optional.empty() : new Conversations(procs, a).claudeIn(s.panePid());
    }

    void crash(Accounts.Account a) throws Exception {
        for (int i = 0; i < 20 && Exec.run(List.of("pkill", "-KILL", "-u", Integer.toString(a.uid())), Duration.ofSeconds(5)).exit() == 0; i++) Thread.sleep(100);
        assertTrue(Children.waitFor(() -> users.tmux(a).socketState() != Tmux.SocketState.LIVE, Duration.ofSeconds(5)));
    }

    Map<String, SavedSession> saved(Accounts.Account a) throws Exception {
        return new StateStore(state).history(a.name()).readNewest().rows().stream().collect(Collectors.toMap(SavedSession::session, x -> x));
    }

    @Test
    void aClaudeConfigDirIsSavedAndTheRestoredClaudeRunsWithItAndWithT3ClaudeArgs() throws Exception {
        Accounts.Account carol = users.create();
        Path proj = carol.home().resolve("proj"), other = carol.home().resolve("other-config");
        Children.asUser(carol, "mkdir", "-p", proj.toString());
        users.newSession(carol, "cfg", proj, "env CLAUDE_CONFIG_DIR=" + other + " " + users.claude());
        assertTrue(Children.waitFor(() -> claudeIn(carol, "cfg", Procfs.read()).isPresent()
                && Files.isDirectory(other.resolve("sessions")), Duration.ofSeconds(15)), "claude started");

        Map<String, String> env = env(carol);
        Children.Ran s = Repo.script("t3-save.java", env);
        assertEquals(0, s.exit(), s.all());
        SavedSession row = saved(carol).get("cfg");
        assertNotNull(row.conversation(), row.toString());
        assertEquals(other.toString(), row.home(), "the fifth column names the config root");
        assertEquals(proj.toString(), row.conversationCwd());
        try (var t = Files.walk(other.resolve("projects"))) {
            assertTrue(t.anyMatch(p -> p.getFileName().toString().equals(row.conversation() + ".jsonl")), "the transcript is under the other root");
        }
        assertFalse(Files.exists(carol.home().resolve(".claude")), "nothing under ~/.claude: resuming there would find nothing");

        crash(carol);
        env.put("T3_CLAUDE_ARGS", "  --model fake-model\t--verbose ");
        Children.Ran r = Repo.script("t3-restore.java", env, "--user", carol.name());
        assertEquals(0, r.exit(), r.all());
        assertFalse(r.all().contains("came back as a shell"), r.all());
        Procfs procs = Procfs.read();
        Procfs.Proc c = claudeIn(carol, "cfg", procs).orElseThrow(() -> new AssertionError("no claude in the restored session: " + r.all()));
        assertEquals(Optional.of(other.toString()), procs.environ(c.pid(), "CLAUDE_CONFIG_DIR"), "the restored claude has the config root in its environment");
        List<String> argv = c.argv();
        int resume = argv.indexOf("--resume");
        assertTrue(resume > 0 && argv.get(resume + 1).equals(row.conversation()), "resumes the same id: " + argv);
        assertEquals(List.of("--model", "fake-model", "--verbose"), argv.subList(Math.max(0, resume - 3), resume), "T3_CLAUDE_ARGS, split on white space, reach claude's argv: " + argv);
        assertTrue(Files.exists(other.resolve("sessions/" + c.pid() + ".json")), "its live record is under the other root");
        assertEquals(proj, procs.cwd(c.pid()).orElseThrow());
    }

    @Test
    void aConversationStartedElsewhereResumesInItsStartingDirectoryAndAWrongOneGivesAShell() throws Exception {
        Accounts.Account dave = users.create();
        Path a = dave.home().resolve("conv-dir"), b = dave.home().resolve("pane-dir");
        Children.asUser(dave, "mkdir", "-p", a.toString(), b.toString());
        users.newSession(dave, "sub", b, null);
        users.type(dave, "sub", "(cd " + a + " && " + users.claude() + ")");
        assertTrue(Children.waitFor(() -> claudeIn(dave, "sub", Procfs.read()).isPresent(), Duration.ofSeconds(15)), "claude started");
        Map<String, String> env = env(dave);
        Children.Ran s1 = Repo.script("t3-save.java", env);
        assertEquals(0, s1.exit(), s1.all());
        String id = saved(dave).get("sub").conversation();
        assertNotNull(id, s1.all());

        // Its claude is OOM-killed; the shell in pane-dir lives on, and the next save keeps the conversation.
        Procfs.Proc c = claudeIn(dave, "sub", Procfs.read()).orElseThrow();
        Children.check("kill", "-KILL", Integer.toString(c.pid()));
        assertTrue(Children.waitFor(() -> claudeIn(dave, "sub", Procfs.read()).isEmpty(), Duration.ofSeconds(10)));
        assertTrue(Children.waitFor(() -> Procfs.read().currentPath(live(dave).get("sub").panePid()).map(b::equals).orElse(false),
                Duration.ofSeconds(10)), "the shell in pane-dir has the terminal again");
        Children.Ran s2 = Repo.script("t3-save.java", env);
        assertEquals(0, s2.exit(), s2.all());
        SavedSession row = saved(dave).get("sub");
        assertEquals(id, row.conversation(), row.toString());
        assertEquals(b.toString(), row.cwd(), "the session's cwd: where its shell is");
        assertEquals(a.toString(), row.conversationCwd(), "the conversation's: where it started");

        crash(dave);
        Children.Ran r = Repo.script("t3-restore.java", env, "--user", dave.name(), "--session", "sub");
        assertEquals(0, r.exit(), r.all());
        Procfs procs = Procfs.read();
        Procfs.Proc back = claudeIn(dave, "sub", procs).orElseThrow(() -> new AssertionError("not resumed: " + r.all()));
        assertEquals(a, procs.cwd(back.pid()).orElseThrow(), "claude resumes in the conversation's starting directory, not the pane's");
        assertEquals(b, procs.cwd(live(dave).get("sub").panePid()).orElseThrow(), "the session itself starts in its own cwd");
        assertTrue(back.argv().contains(id), back.argv().toString());

        // A row whose starting directory is wrong (the pane's, say): claude answers "No conversation found".
        users.tmux(dave).run("kill-session", "-t", "=sub");
        assertTrue(Children.waitFor(() -> Procfs.read().all().stream().noneMatch(p -> p.uid() == dave.uid() && Conversations.isClaude(p)),
                Duration.ofSeconds(10)));
        new StateStore(state).history(dave.name()).commit(List.of(new SavedSession("wrong", b.toString(), id, b.toString(), null)), Instant.now());
        Children.Ran w = Repo.script("t3-restore.java", env, "--user", dave.name(), "--session", "wrong");
        assertTrue(live(dave).containsKey("wrong"), "the session comes back: " + w.all());
        assertTrue(claudeIn(dave, "wrong", Procfs.read()).isEmpty(), "as a shell");
        String screen = users.tmux(dave).run("capture-pane", "-p", "-t", "=wrong:").out();
        assertTrue(screen.contains("No conversation found with session ID: " + id), "claude looked under the wrong slug: " + screen);
        assertTrue(w.all().contains("'wrong' came back as a shell: claude exited at once with status 1"), "the log says why: " + w.all());
        SavedSession kept = saved(dave).get("wrong");
        assertEquals(id, kept.conversation(), "the row keeps its conversation");
        assertNotNull(kept.notRunning(), "marked not running, with why: " + kept);
    }
}
