import base.Accounts;
import base.Procfs;
import claude.Conversations;
import tmux.Tmux;
import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A conversation one of claude's background agents holds (`claude agents`: a record of kind
 * "bg", no tmux field, FACTS) runs: neither a restore nor a heal starts it a second time in its
 * saved pane. Real users, tmux and processes; the agent is the fake claude run outside tmux as
 * its daemon's processes are, writing the record they write.
 */
class BackgroundAgentTest {
    TestUsers users;
    Accounts.Account alice;
    Path proj;
    Map<String, String> env = new HashMap<>();

    @BeforeEach
    void setUp() throws Exception {
        assumeTrue(Accounts.isRoot(), "needs root to create OS users and run tmux as them; run the tests as root (CI does)");
        users = new TestUsers();
        alice = users.create();
        env.putAll(users.operatorEnv(users.dir.resolve("state"), "a=" + alice.name() + "\n"));
        proj = alice.home().resolve("proj");
        Children.asUser(alice, "mkdir", "-p", proj.toString());
    }

    @AfterEach
    void tearDown() throws Exception {
        if (users != null) users.close();
    }

    /** Starts claude from the shell of a new session and returns its conversation, saved. */
    String savedConversationIn(String session) throws Exception {
        users.newSession(alice, session, proj, null);
        users.type(alice, session, users.claude());
        assertTrue(Children.waitFor(() -> users.claudeIn(alice, session).isPresent(), Duration.ofSeconds(15)), "claude runs in " + session);
        String id = new Conversations(Procfs.read(), alice).of(users.claudeIn(alice, session).orElseThrow()).orElseThrow().id();
        Children.Ran saved = Repo.script("t3-save.java", env);
        assertEquals(0, saved.exit(), saved.all());
        return id;
    }

    /** A background agent of hers holding {@code id}: no terminal, no tmux, its own session; its record says kind "bg". */
    void agentHolds(String id) throws Exception {
        Children.asUser(alice, "sh", "-c", "cd \"$1\" && ( sleep 600 | FAKE_CLAUDE_KIND=bg setsid \"$2\" --resume \"$3\" ) </dev/null >/dev/null 2>&1 &",
                "sh", proj.toString(), users.claude(), id);
        Path sessions = alice.home().resolve(".claude/sessions");
        assertTrue(Children.waitFor(() -> {
            try (var files = Files.list(sessions)) {
                return files.anyMatch(f -> { try { String r = Files.readString(f); return r.contains(id) && r.contains("\"kind\":\"bg\""); } catch (Exception e) { return false; } });
            } catch (Exception e) {
                return false;
            }
        }, Duration.ofSeconds(10)), "the agent wrote its record");
    }

    /** Her claude processes running {@code id} (the agent's, and any a run started). */
    long claudesOn(String id) {
        Procfs procs = Procfs.read();
        Conversations c = new Conversations(procs, alice);
        return procs.all().stream().filter(p -> p.uid() == alice.uid() && Conversations.isClaude(p))
                .filter(p -> c.of(p).map(x -> x.id().equals(id)).orElse(false)).count();
    }

    @Test
    void aRestoreDoesNotStartAConversationAnAgentHolds() throws Exception {
        String id = savedConversationIn("work");
        for (int i = 0; i < 20 && TestUsers.pkill("-KILL", alice) == 0; i++) Thread.sleep(100); // as a reboot ends them
        assertTrue(Children.waitFor(() -> users.tmux(alice).socketState() != Tmux.SocketState.LIVE, Duration.ofSeconds(5)));
        agentHolds(id);

        Children.Ran r = Repo.script("t3-restore.java", env);
        assertEquals(0, r.exit(), r.all());
        assertTrue(users.tmux(alice).listSessions().sessions().stream().anyMatch(s -> s.name().equals("work")), "the session is back: " + r.all());
        assertTrue(r.all().contains("conversation already runs in"), r.all());
        Thread.sleep(2000); // what a wrongly pressed Enter would have started by now
        assertTrue(users.claudeIn(alice, "work").isEmpty(), "no second claude in its pane: " + r.all());
        assertEquals(1, claudesOn(id), "only the agent runs it");
    }

    @Test
    void aHealDoesNotStartAConversationAnAgentHolds() throws Exception {
        String id = savedConversationIn("work");
        users.killClaude(alice, "work"); // its interactive record stays behind: crash evidence
        agentHolds(id);

        Children.Ran r = Repo.script("t3-restore.java", env, "--heal");
        assertEquals(0, r.exit(), r.all());
        assertFalse(r.all().contains("healed conversation " + id), r.all());
        assertTrue(r.all().contains("runs again, in"), "nothing to heal: it runs: " + r.all());
        Thread.sleep(2000);
        assertTrue(users.claudeIn(alice, "work").isEmpty(), "no second claude in its pane: " + r.all());
        assertEquals(1, claudesOn(id), "only the agent runs it");
    }
}
