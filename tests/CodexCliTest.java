import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import assistants.Running;
import base.Accounts;
import base.Procfs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import keep.Kept;
import store.SavedPane;
import store.SavedSession;
import store.StateStore;
import tmux.Tmux;

/**
 * The real Codex CLI (npm, pinned), offline with a dummy key, in tmux, as a throwaway user:
 * conversations in sessions of their own and two in one directory; save; a crash of the server;
 * restore: each pane resumes its own conversation (same id, the same rollout file continued) in
 * its directory; one whose rollout was deleted comes back as a shell, said why; a codex killed in
 * a live pane leaves no evidence, so heal leaves it, the save keeps it stopped, and the next
 * blanket restore resumes it.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CodexCliTest {
    TestUsers users;
    RealAssistants.Install codex;
    Accounts.Account alice;
    Path state;

    @BeforeAll
    void setUp() throws Exception {
        assumeTrue(Accounts.isRoot(), "needs root to create OS users and run tmux as them; run the tests as root (CI does)");
        codex = RealAssistants.of(RealAssistants.CODEX);
        assumeTrue(codex.whyNot() == null, "the real Codex CLI cannot run here: " + codex.whyNot());
        users = new TestUsers();
        state = users.dir.resolve("state");
        alice = users.create();
        // Offline with a dummy key: an auth.json skips the sign-in screen (FACTS).
        Path home = alice.home().resolve(".codex");
        Children.asUser(alice, "mkdir", "-p", home.toString(), alice.home().resolve("api").toString(), alice.home().resolve("solo").toString(),
                alice.home().resolve("doomed").toString());
        Children.asUser(alice, "sh", "-c", "umask 077; printf '%s' '{\"auth_mode\":\"apikey\",\"OPENAI_API_KEY\":\"sk-dummy\"}' > " + home.resolve("auth.json"));
    }

    @AfterAll
    void tearDown() throws Exception {
        if (users != null) users.close();
    }

    Map<String, String> env() throws Exception {
        Path map = Files.writeString(users.dir.resolve("map"), "x=" + alice.name() + "\n");
        return new HashMap<>(Map.of("T3_USER_MAP", map.toString(), "T3_STATE_DIR", state.toString(),
                "T3_TMUX_TMPDIR", users.tmuxTmp.toString(), "T3_CODEX", codex.bin("codex").toString()));
    }

    Set<Path> rollouts() throws Exception {
        Path sessions = alice.home().resolve(".codex/sessions");
        if (!Files.isDirectory(sessions)) return Set.of();
        try (Stream<Path> s = Files.walk(sessions)) {
            return s.filter(p -> p.getFileName().toString().startsWith("rollout-")).collect(Collectors.toSet());
        }
    }

    /** Types a prompt into the TUI as a person would (text, then Enter a moment later), and waits for the new rollout it makes. */
    Path prompt(String session, Set<Path> before) throws Exception {
        Tmux tmux = users.tmux(alice);
        assertTrue(Children.waitFor(() -> tmux.screen("=" + session + ":").contains("›"), Duration.ofSeconds(30)),
                session + ": codex is ready for a prompt: " + tmux.screen("=" + session + ":"));
        tmux.run("send-keys", "-t", "=" + session + ":", "-l", "hello from " + session);
        Thread.sleep(400);
        tmux.run("send-keys", "-t", "=" + session + ":", "Enter");
        return Children.oneNew(this::rollouts, before, Duration.ofSeconds(45), () -> session + ": its rollout appears");
    }

    static String idOf(Path rollout) {
        String n = rollout.getFileName().toString();
        return n.substring(n.length() - ".jsonl".length() - 36, n.length() - ".jsonl".length());
    }

    Map<String, SavedSession> saved() throws Exception {
        return new StateStore(state).history(alice.name()).readNewest().rows().stream().collect(Collectors.toMap(SavedSession::session, x -> x));
    }

    Optional<Procfs.Proc> codexIn(String session) {
        Procfs procs = Procfs.read();
        Tmux.Session s = users.tmux(alice).listSessions().sessions().stream().filter(x -> x.name().equals(session)).findFirst().orElse(null);
        return s == null ? Optional.empty() : new Running(procs, alice).in(s.panePid()).map(Running.Found::proc);
    }

    @Test
    void eachPaneResumesItsOwnConversationInItsDirectoryAndWhatCannotComeBackIsSaid() throws Exception {
        String bin = codex.bin("codex").toString();
        Path api = alice.home().resolve("api"), solo = alice.home().resolve("solo"), doomed = alice.home().resolve("doomed");
        users.newSession(alice, "solo", solo, null);
        users.type(alice, "solo", bin); // the default: a background app-server daemon holds the files
        Path soloFile = prompt("solo", rollouts());
        // Two in one directory: each TUI holds its own rollout open (--no-daemon).
        users.newSession(alice, "api-1", api, null);
        users.type(alice, "api-1", bin + " --no-daemon");
        Path api1 = prompt("api-1", rollouts());
        users.newSession(alice, "api-2", api, null);
        users.type(alice, "api-2", bin + " --no-daemon");
        Path api2 = prompt("api-2", rollouts());
        users.newSession(alice, "doomed", doomed, null);
        users.type(alice, "doomed", bin + " --no-daemon");
        Path doomedFile = prompt("doomed", rollouts());

        Map<String, String> env = env();
        Children.Ran save = Repo.script("t3-save.java", env);
        assertEquals(0, save.exit(), save.all());
        Map<String, SavedSession> rows = saved();
        for (var e : Map.of("solo", soloFile, "api-1", api1, "api-2", api2, "doomed", doomedFile).entrySet()) {
            SavedPane p = rows.get(e.getKey()).conversations().get(0);
            assertEquals("codex", p.assistant(), e.getKey());
            assertEquals(idOf(e.getValue()), p.conversation(), e.getKey() + ": its own conversation, told from its neighbour's");
        }
        assertEquals(List.of("--no-daemon"), rows.get("api-1").conversations().get(0).options(), "its launch option is carried");
        assertEquals(api.toString(), rows.get("api-2").conversations().get(0).conversationCwd());

        long api1Lines = Files.readAllLines(api1).size();
        Files.delete(doomedFile);
        // Gone from t3's keeping too (over its bound): KeepTest shows a kept one put back.
        assertTrue(Files.deleteIfExists(state.resolve("kept").resolve(alice.name()).resolve("codex-" + idOf(doomedFile).toLowerCase(java.util.Locale.ROOT))),
                "the save kept the doomed rollout");
        // Solo's rollout gone too (as a cleanup would), but kept by the save: it goes back, as hers, and resumes.
        assertTrue(Kept.read(new StateStore(state), alice.name()).present("codex", idOf(soloFile)).isPresent(), "the save kept solo's rollout");
        Files.delete(soloFile);
        TestUsers.pkill("-KILL", alice); // the machine lost her server, every codex and the daemon with it
        assertTrue(Children.waitFor(() -> users.tmux(alice).socketState() != Tmux.SocketState.LIVE, Duration.ofSeconds(10)));
        Set<Path> before = new java.util.HashSet<>(rollouts());
        before.add(soloFile); // back by the restore

        Children.Ran r = Repo.script("t3-restore.java", env, "--user", alice.name());
        assertEquals(0, r.exit(), r.all());
        assertTrue(r.all().contains("'doomed'") && r.all().contains("rollout file is no longer under") && r.all().contains("t3 kept no copy"), "why doomed came back as a shell: " + r.all());
        assertTrue(r.all().contains("put t3's kept copy back at " + soloFile), r.all());
        assertEquals(alice.uid(), (Integer) Files.getAttribute(soloFile, "unix:uid", java.nio.file.LinkOption.NOFOLLOW_LINKS), "hers, written as her");
        for (var e : Map.of("solo", solo, "api-1", api, "api-2", api).entrySet()) {
            String id = rows.get(e.getKey()).conversations().get(0).conversation();
            assertTrue(Children.waitFor(() -> codexIn(e.getKey()).map(p -> p.argv().contains(id)).orElse(false), Duration.ofSeconds(30)),
                    e.getKey() + ": codex resumes " + id + ": " + codexIn(e.getKey()));
            Procfs.Proc p = codexIn(e.getKey()).orElseThrow();
            assertEquals(List.of("resume", id), p.argv().subList(p.argv().size() - 2, p.argv().size()));
            assertEquals(Optional.of(e.getValue()), Procfs.read().cwd(p.pid()), e.getKey() + ": in its directory");
        }
        assertTrue(codexIn("api-1").orElseThrow().argv().contains("--no-daemon"), "with the option it ran with");
        assertEquals(Optional.empty(), codexIn("doomed"));
        // The resumed conversation goes on in the same file: no new rollout.
        Tmux tmux = users.tmux(alice);
        assertTrue(Children.waitFor(() -> tmux.screen("=api-1:").contains("hello from api-1"), Duration.ofSeconds(45)),
                "its history is back on screen: " + tmux.screen("=api-1:"));
        tmux.run("send-keys", "-t", "=api-1:", "-l", "and again");
        Thread.sleep(400);
        tmux.run("send-keys", "-t", "=api-1:", "Enter");
        assertTrue(Children.waitFor(() -> {
            try {
                return Files.readAllLines(api1).size() > api1Lines;
            } catch (Exception e) {
                return false;
            }
        }, Duration.ofSeconds(30)), "the same rollout file grows");
        assertEquals(before, rollouts(), "and no other was made");
    }

    @Test
    void aCodexKilledInALivePaneIsKeptStoppedLeftByHealAndResumedByTheNextBlanketRestore() throws Exception {
        Path k = alice.home().resolve("k");
        Children.asUser(alice, "mkdir", "-p", k.toString());
        users.newSession(alice, "killed", k, null);
        users.type(alice, "killed", codex.bin("codex").toString());
        String id = idOf(prompt("killed", rollouts()));
        Map<String, String> env = env();
        assertEquals(0, Repo.script("t3-save.java", env).exit());
        assertEquals(id, saved().get("killed").conversations().get(0).conversation());

        Procfs.Proc tui = codexIn("killed").orElseThrow();
        Children.check("kill", "-KILL", Integer.toString(tui.pid())); // what the OOM killer sends
        assertTrue(Children.waitFor(() -> codexIn("killed").isEmpty(), Duration.ofSeconds(10)));
        Children.Ran save = Repo.script("t3-save.java", env);
        assertEquals(0, save.exit(), save.all());
        SavedPane kept = saved().get("killed").conversations().get(0);
        assertEquals(id, kept.conversation(), "the conversation is kept in its live pane");
        assertEquals(store.NotRunning.Kind.STOPPED, kept.notRunning().kind(), "codex leaves no evidence of a kill: stopped, not exited: " + kept);
        assertTrue(kept.wanted(), kept.toString());

        Children.Ran heal = Repo.script("t3-restore.java", env, "--heal", "--user", alice.name());
        assertEquals(0, heal.exit(), heal.all());
        Thread.sleep(2000);
        assertEquals(Optional.empty(), codexIn("killed"), "heal acts on evidence only, and codex leaves none: " + heal.all());

        TestUsers.pkill("-KILL", alice);
        assertTrue(Children.waitFor(() -> users.tmux(alice).socketState() != Tmux.SocketState.LIVE, Duration.ofSeconds(10)));
        Children.Ran r = Repo.script("t3-restore.java", env, "--user", alice.name()); // blanket: nothing named
        assertEquals(0, r.exit(), r.all());
        assertTrue(Children.waitFor(() -> codexIn("killed").map(p -> p.argv().contains(id)).orElse(false), Duration.ofSeconds(30)),
                "it resumes: " + r.all());
    }
}
