import store.SavedSession;
import base.Accounts;
import claude.Conversations;
import base.Exec;
import base.Procfs;
import store.SnapshotFormat;
import store.StateStore;
import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * A big restore never swamps the machine: every session comes back first, then conversations
 * start most recent first, a few at a time, not below a memory floor; the rest wait in their
 * pane for Enter. Real users and tmux; claude is the fake behind a wrapper that starts slowly
 * and logs each start, as a cold start of the real one takes seconds.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ResumeBudgetTest {
    static final List<String> SESSIONS = List.of("c1", "c2", "c3", "c4");
    TestUsers users;
    Accounts.Account alice;
    Path state, proj, starts;
    Map<String, String> env = new HashMap<>();
    Map<String, String> ids = new HashMap<>();

    @BeforeAll
    void setUp() throws Exception {
        assumeTrue(Accounts.isRoot(), "needs root to create OS users and run tmux as them; run the tests as root (CI does)");
        users = new TestUsers();
        alice = users.create();
        state = users.dir.resolve("state");
        proj = alice.home().resolve("proj");
        Children.asUser(alice, "mkdir", "-p", proj.toString());
        starts = Files.createFile(users.dir.resolve("starts.log"));
        Files.setPosixFilePermissions(starts, PosixFilePermissions.fromString("rw-rw-rw-"));
        Path slow = users.bin.resolve("slow-claude");
        Files.writeString(slow, "#!/bin/sh\necho \"$(date +%s.%N) $*\" >> " + starts + "\nsleep 1\nexec " + users.bin.resolve("claude") + " \"$@\"\n");
        Files.setPosixFilePermissions(slow, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path map = Files.writeString(users.dir.resolve("user-map"), "a=" + alice.name() + "\n");
        env.putAll(Map.of("T3_USER_MAP", map.toString(), "T3_STATE_DIR", state.toString(), "T3_TMUX_TMPDIR", users.tmuxTmp.toString(),
                "T3_CLAUDE", slow.toString(), "T3_RESUME_CONCURRENCY", "1"));
        for (String s : SESSIONS) users.newSession(alice, s, proj, users.claude());
        assertTrue(Children.waitFor(() -> claudes() == 4, Duration.ofSeconds(15)));
        Children.Ran saved = Repo.script("t3-save.java", env);
        assertEquals(0, saved.exit(), saved.all());
        new StateStore(state).history(alice.name()).readNewest().rows().forEach(r -> ids.put(r.session(), r.conversation()));
        // c4 was active last, c1 first: the restore must start them in that order.
        Instant t = Instant.now().minus(Duration.ofHours(1));
        for (String s : SESSIONS) {
            try (var found = Files.find(alice.home().resolve(".claude/projects"), 2, (p, a) -> p.getFileName().toString().equals(ids.get(s) + ".jsonl"))) {
                Path transcript = found.findFirst().orElseThrow();
                Files.setLastModifiedTime(transcript, FileTime.from(t = t.plusSeconds(60)));
            }
        }
    }

    @BeforeEach
    void crash() throws Exception {
        for (int i = 0; i < 20 && TestUsers.pkill("-KILL", alice) == 0; i++) Thread.sleep(100);
        Files.writeString(starts, "");
    }

    @AfterAll
    void tearDown() throws Exception {
        if (users != null) users.close();
    }

    long claudes() {
        return Procfs.read().all().stream().filter(p -> p.uid() == alice.uid() && Conversations.isClaude(p)).count();
    }

    Children.Ran restore(String... settings) {
        Map<String, String> e = new HashMap<>(env);
        for (int i = 0; i + 1 < settings.length; i += 2) e.put(settings[i], settings[i + 1]);
        Children.Ran r = Repo.script("t3-restore.java", e);
        assertEquals(0, r.exit(), r.all());
        return r;
    }

    /** The conversation ids in the order the wrapper saw claude start, with the times. */
    List<Map.Entry<Double, String>> started() throws Exception {
        List<Map.Entry<Double, String>> out = new ArrayList<>();
        for (String line : Files.readAllLines(starts)) {
            String[] f = line.split(" ");
            out.add(Map.entry(Double.parseDouble(f[0]), f[f.length - 1]));
        }
        return out;
    }

    Optional<String> screen(String session) {
        Exec.Result r = users.tmux(alice).run("capture-pane", "-p", "-t", "=" + session + ":");
        return r.ok() ? Optional.of(r.out()) : Optional.empty();
    }

    @Test
    @Order(1)
    void conversationsStartMostRecentFirstOneAtATime() throws Exception {
        Children.Ran r = restore();
        assertTrue(r.all().contains("4 sessions back (of 4 saved"), r.all());
        assertTrue(r.all().contains("4 resumed, 0 waiting for Enter"), r.all());
        List<Map.Entry<Double, String>> s = started();
        assertEquals(List.of(ids.get("c4"), ids.get("c3"), ids.get("c2"), ids.get("c1")), s.stream().map(Map.Entry::getValue).toList(),
                "most recently active first");
        for (int i = 1; i < s.size(); i++) {
            double gap = s.get(i).getKey() - s.get(i - 1).getKey();
            assertTrue(gap >= 0.9, "T3_RESUME_CONCURRENCY=1: the next starts only once the last is up (" + gap + " s apart)");
        }
        assertTrue(Children.waitFor(() -> claudes() == 4, Duration.ofSeconds(10)));
    }

    @Test
    @Order(2)
    void lazyLeavesEveryConversationWaitingForItsEnter() throws Exception {
        Children.Ran r = restore("T3_RESUME", "lazy");
        assertTrue(r.all().contains("0 resumed, 4 waiting for Enter (T3_RESUME=lazy)"), r.all());
        assertEquals(4, users.tmux(alice).listSessions().sessions().size(), "every session is back");
        Thread.sleep(1500);
        assertEquals(0, claudes(), "no claude started");
        assertTrue(screen("c2").orElse("").contains("[t3-restore] conversation " + ids.get("c2") + " was running here: press Enter to resume it"),
                screen("c2").orElse(""));
        Children.Ran saved = Repo.script("t3-save.java", env);
        assertEquals(0, saved.exit(), saved.all());
        SavedSession row = new StateStore(state).history(alice.name()).readNewest().rows().stream().filter(x -> x.session().equals("c2")).findFirst().orElseThrow();
        assertEquals(ids.get("c2"), row.conversation(), "a save keeps the waiting conversation");
        assertTrue(row.running(), "as wanted running, so the next boot resumes it too: " + row);

        assertTrue(users.tmux(alice).run("send-keys", "-t", "=c2:", "Enter").ok(), "the user presses Enter");
        assertTrue(Children.waitFor(() -> claudes() == 1, Duration.ofSeconds(10)));
        Procfs procs = Procfs.read();
        Procfs.Proc c = procs.all().stream().filter(p -> p.uid() == alice.uid() && Conversations.isClaude(p)).findFirst().orElseThrow();
        assertTrue(c.argv().contains(ids.get("c2")), "exactly what an eager resume runs: " + c.argv());
        assertEquals(proj, procs.cwd(c.pid()).orElseThrow());
    }

    @Test
    @Order(3)
    void noConversationStartsBelowTheMemoryFloor() throws Exception {
        Children.Ran r = restore("T3_RESUME_MIN_FREE", "100%");
        assertTrue(r.all().contains("0 resumed, 4 waiting for Enter (available memory"), r.all());
        assertTrue(r.all().contains("is below T3_RESUME_MIN_FREE (100%)"), r.all());
        assertEquals(4, users.tmux(alice).listSessions().sessions().size());
        Thread.sleep(1500);
        assertEquals(0, claudes());
    }

    @Test
    @Order(4)
    void aBadBudgetSettingIsABadArgument() {
        Map<String, String> e = new HashMap<>(env);
        e.put("T3_RESUME_MIN_FREE", "lots");
        Children.Ran r = Repo.script("t3-restore.java", e, "--dry-run");
        assertEquals(2, r.exit(), r.all());
        assertTrue(r.all().contains("T3_RESUME_MIN_FREE"), r.all());
    }
}
