import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import assistants.Running;
import base.Accounts;
import base.Procfs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import store.SavedPane;
import store.SavedSession;
import keep.Kept;
import store.StateStore;
import tmux.Tmux;

/**
 * The real Gemini CLI (npm, pinned), offline with a dummy key and a fixed model, in tmux, as a
 * throwaway user: a conversation in a directory of its own, two in one directory (one started
 * with --session-id); save; a crash; restore: each resumes its own conversation from its own
 * directory, and resuming them one after another deletes none of their files (Gemini's cleanup
 * at each start would: t3 turns it off for what it starts).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class GeminiCliTest {
    TestUsers users;
    RealAssistants.Install gemini;
    Accounts.Account bob;
    Path state, g1, gx;

    @BeforeAll
    void setUp() throws Exception {
        assumeTrue(Accounts.isRoot(), "needs root to create OS users and run tmux as them; run the tests as root (CI does)");
        gemini = RealAssistants.of(RealAssistants.GEMINI);
        assumeTrue(gemini.whyNot() == null, "the real Gemini CLI cannot run here: " + gemini.whyNot());
        users = new TestUsers();
        state = users.dir.resolve("state");
        bob = users.create();
        g1 = bob.home().resolve("g1");
        gx = bob.home().resolve("gx");
        Path dot = bob.home().resolve(".gemini");
        Children.asUser(bob, "mkdir", "-p", g1.toString(), gx.toString(), dot.toString());
        // What the first start's dialogs would write: trust these folders, an API key, a fixed model (FACTS).
        Children.asUser(bob, "sh", "-c", "printf '%s' '{\"security\":{\"auth\":{\"selectedType\":\"gemini-api-key\"}},\"model\":{\"name\":\"gemini-2.5-flash\"}}' > "
                + dot.resolve("settings.json") + " && printf '%s' '{\"" + g1 + "\":\"TRUST_FOLDER\",\"" + gx + "\":\"TRUST_FOLDER\"}' > "
                + dot.resolve("trustedFolders.json") + " && echo 'export GEMINI_API_KEY=dummy' >> " + bob.home().resolve(".profile"));
    }

    @AfterAll
    void tearDown() throws Exception {
        if (users != null) users.close();
    }

    Map<String, String> env() throws Exception {
        Path map = Files.writeString(users.dir.resolve("map"), "x=" + bob.name() + "\n");
        return new HashMap<>(Map.of("T3_USER_MAP", map.toString(), "T3_STATE_DIR", state.toString(),
                "T3_TMUX_TMPDIR", users.tmuxTmp.toString(), "T3_GEMINI", gemini.bin("gemini").toString(),
                "T3_RESUME_CONCURRENCY", "1")); // one after another: each start's cleanup sees the last one's stray
    }

    Set<Path> chats() throws Exception {
        Path tmp = bob.home().resolve(".gemini/tmp");
        if (!Files.isDirectory(tmp)) return Set.of();
        try (Stream<Path> s = Files.walk(tmp)) {
            return s.filter(p -> p.getFileName().toString().startsWith("session-")).collect(Collectors.toSet());
        }
    }

    /** Starts gemini in a new session's shell, waits for its chat file, and types a prompt into it (a chat without one is deleted by the next start). */
    Path start(String session, Path dir, String args) throws Exception {
        Set<Path> before = chats();
        users.newSession(bob, session, dir, null);
        users.type(bob, session, "GEMINI_API_KEY=dummy " + gemini.bin("gemini") + args);
        Path made = Children.oneNew(this::chats, before, Duration.ofSeconds(30),
                () -> session + ": its chat file appears: " + users.tmux(bob).screen("=" + session + ":"));
        type(session, "hello from " + session, made);
        return made;
    }

    void type(String session, String text, Path chat) throws Exception {
        Tmux tmux = users.tmux(bob);
        assertTrue(Children.waitFor(() -> tmux.screen("=" + session + ":").contains("Type your message"), Duration.ofSeconds(30)),
                session + ": ready: " + tmux.screen("=" + session + ":"));
        tmux.run("send-keys", "-t", "=" + session + ":", "-l", text);
        Thread.sleep(300);
        tmux.run("send-keys", "-t", "=" + session + ":", "Enter");
        assertTrue(Children.waitFor(() -> {
            try {
                return Files.readString(chat).contains(text);
            } catch (Exception e) {
                return false;
            }
        }, Duration.ofSeconds(20)), session + ": the prompt reaches its chat file");
    }

    static String idIn(Path chat) throws Exception {
        String first = Files.readAllLines(chat).get(0);
        int i = first.indexOf("\"sessionId\":\"") + 13;
        return first.substring(i, i + 36);
    }

    Optional<Procfs.Proc> geminiIn(String session) {
        Tmux.Session s = users.tmux(bob).listSessions().sessions().stream().filter(x -> x.name().equals(session)).findFirst().orElse(null);
        return s == null ? Optional.empty() : new Running(Procfs.read(), bob).in(s.panePid()).map(Running.Found::proc);
    }

    @Test
    void eachResumesItsOwnConversationFromItsDirectoryAndNoResumeDeletesAnother() throws Exception {
        Path one = start("g1", g1, "");
        Path two = start("gx-2", gx, "");
        String chosen = UUID.randomUUID().toString();
        Path three = start("gx-3", gx, " --session-id " + chosen);
        assertEquals(chosen, idIn(three));

        Map<String, String> env = env();
        Children.Ran save = Repo.script("t3-save.java", env);
        assertEquals(0, save.exit(), save.all());
        Map<String, SavedSession> rows = new StateStore(state).history(bob.name()).readNewest().rows().stream()
                .collect(Collectors.toMap(SavedSession::session, x -> x));
        Map<String, Path> files = Map.of("g1", one, "gx-2", two, "gx-3", three);
        Map<String, String> ids = new HashMap<>();
        for (var e : files.entrySet()) {
            ids.put(e.getKey(), idIn(e.getValue()));
            SavedPane p = rows.get(e.getKey()).conversations().get(0);
            assertEquals("gemini", p.assistant(), e.getKey());
            assertEquals(ids.get(e.getKey()), p.conversation(), e.getKey() + ": its own, told from its neighbour's");
        }

        // A resume in the minute its chat began merges into that file; in a later one it leaves a
        // stray of the same short id, and the next start's cleanup deletes the conversation with it.
        long minute = System.currentTimeMillis() / 60_000;
        while (System.currentTimeMillis() / 60_000 == minute) Thread.sleep(500);
        TestUsers.pkill("-KILL", bob);
        assertTrue(Children.waitFor(() -> users.tmux(bob).socketState() != Tmux.SocketState.LIVE, Duration.ofSeconds(10)));
        // g1's chat gone meanwhile (a cleanup's doing), but kept by the save: it goes back, as his, and resumes.
        assertTrue(Kept.read(new StateStore(state), bob.name()).present("gemini", ids.get("g1")).isPresent(), "the save kept g1's chat");
        Files.delete(one);
        Children.Ran r = Repo.script("t3-restore.java", env, "--user", bob.name());
        assertEquals(0, r.exit(), r.all());
        assertTrue(r.all().contains("put t3's kept copy back at " + one), r.all());
        assertEquals(bob.uid(), (Integer) Files.getAttribute(one, "unix:uid", java.nio.file.LinkOption.NOFOLLOW_LINKS), "his, written as him");
        Map<String, Path> dirs = Map.of("g1", g1, "gx-2", gx, "gx-3", gx);
        for (var e : files.entrySet()) {
            String id = ids.get(e.getKey());
            assertTrue(Children.waitFor(() -> geminiIn(e.getKey()).map(p -> p.argv().contains(id)).orElse(false), Duration.ofSeconds(30)),
                    e.getKey() + ": gemini resumes " + id + ": " + r.all());
            Procfs.Proc p = geminiIn(e.getKey()).orElseThrow();
            assertEquals(List.of("--resume", id), p.argv().subList(p.argv().size() - 2, p.argv().size()));
            assertEquals(Optional.of(dirs.get(e.getKey())), Procfs.read().cwd(p.pid()), "from its own directory (elsewhere gemini finds nothing)");
            assertEquals(Optional.of("/etc/t3-tmux/gemini-system-defaults.json"), Procfs.read().environ(p.pid(), "GEMINI_CLI_SYSTEM_DEFAULTS_PATH"));
        }
        Path defaults = Path.of("/etc/t3-tmux/gemini-system-defaults.json");
        assertEquals("rw-r--r--", PosixFilePermissions.toString(Files.getPosixFilePermissions(defaults)), "root's, readable by all, no one else's to write");
        Thread.sleep(5000); // every resumed gemini has run its start-up cleanup by now
        for (var e : files.entrySet()) {
            assertTrue(Files.exists(e.getValue()), e.getKey() + ": its conversation's file survived the other resumes: " + chats());
        }
        type("gx-2", "and again", two);
    }
}
