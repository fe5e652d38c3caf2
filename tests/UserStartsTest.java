import base.Accounts;
import claude.Conversations;
import base.Procfs;
import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * One user's claudes share one login (a rotating OAuth token): a boot restore, and a heal, start
 * hers one at a time, each once the one before has written its live record and the gap has
 * passed, while another user's start meanwhile. Real users, tmux and processes; the fake claude behind a
 * wrapper that logs each start's time and user.
 */
class UserStartsTest {
    static final int EACH = 20, HEALED = 5;
    /** The wrapper's own start, then the fake claude's until its live record is there: the next start of hers waits for both, then the gap. */
    static final double GAP = 0.5, WRAPPER = 0.3, RECORD = 0.6;

    /** A claude behind a wrapper that logs each start's time and user to {@code starts}, then takes RECORD s to write its live record. */
    static Path loggedClaude(TestUsers users, Path starts) throws Exception {
        Files.setPosixFilePermissions(starts, PosixFilePermissions.fromString("rw-rw-rw-"));
        Path slow = users.bin.resolve("slow-claude");
        Files.writeString(slow, "#!/bin/sh\necho \"$(date +%s.%N) $(id -un) $*\" >> " + starts + "\nsleep " + WRAPPER
                + "\nFAKE_CLAUDE_RECORD_DELAY=" + RECORD + " exec " + users.bin.resolve("claude") + " \"$@\"\n");
        Files.setPosixFilePermissions(slow, PosixFilePermissions.fromString("rwxr-xr-x"));
        return slow;
    }

    /** Each user's start times, in order, from the wrapper's log. */
    static Map<String, List<Double>> starts(Path log) throws Exception {
        Map<String, List<Double>> at = new HashMap<>();
        for (String line : Files.readAllLines(log)) {
            String[] f = line.split(" ");
            at.computeIfAbsent(f[1], k -> new ArrayList<>()).add(Double.parseDouble(f[0]));
        }
        return at;
    }

    /** One start at a time: each the wrapper's start, the record's delay and the gap after the one before. */
    static void oneAtATime(String user, List<Double> mine) {
        for (int i = 1; i < mine.size(); i++) {
            double apart = mine.get(i) - mine.get(i - 1);
            assertTrue(apart >= WRAPPER + RECORD + GAP - 0.05,
                    user + ": one start at a time, the gap after the last wrote its live record (" + apart + " s apart): " + mine);
        }
    }

    @Test
    void oneUsersConversationsStartOneAtATimeWhileAnothersStartMeanwhile() throws Exception {
        assumeTrue(Accounts.isRoot(), "needs root to create OS users and run tmux as them; run the tests as root (CI does)");
        try (TestUsers users = new TestUsers()) {
            Accounts.Account alice = users.create(), bob = users.create();
            Path starts = Files.createFile(users.dir.resolve("starts.log"));
            Path slow = loggedClaude(users, starts);
            Path map = Files.writeString(users.dir.resolve("user-map"), "a=" + alice.name() + "\nb=" + bob.name() + "\n");
            Map<String, String> env = new HashMap<>(Map.of("T3_USER_MAP", map.toString(), "T3_STATE_DIR", users.dir.resolve("state").toString(),
                    "T3_TMUX_TMPDIR", users.tmuxTmp.toString(), "T3_CLAUDE", slow.toString(), "T3_RESUME_CONCURRENCY", "4",
                    "T3_RESUME_USER_GAP", Double.toString(GAP)));
            for (Accounts.Account a : List.of(alice, bob)) {
                for (int i = 0; i < EACH; i++) users.newSession(a, "s" + i, a.home(), users.claude());
            }
            assertTrue(Children.waitFor(() -> claudes(alice) == EACH && claudes(bob) == EACH, Duration.ofSeconds(60)), "their claudes started");
            Children.Ran saved = Repo.script("t3-save.java", env);
            assertEquals(0, saved.exit(), saved.all());
            for (Accounts.Account a : List.of(alice, bob)) {
                for (int i = 0; i < 50 && TestUsers.pkill("-KILL", a) == 0; i++) Thread.sleep(100); // as a reboot ends them
            }

            Children.Ran r = Repo.script("t3-restore.java", env);
            assertEquals(0, r.exit(), r.all());
            assertTrue(r.all().contains(EACH + " resumed, 0 waiting for Enter"), r.all());
            Map<String, List<Double>> at = starts(starts);
            for (Accounts.Account a : List.of(alice, bob)) {
                List<Double> mine = at.getOrDefault(a.name(), List.of());
                assertEquals(EACH, mine.size(), a.name() + "'s starts: " + mine);
                oneAtATime(a.name(), mine);
            }
            List<Double> a = at.get(alice.name()), b = at.get(bob.name());
            long bobsDuringAlices = b.stream().filter(t -> t > a.get(0) && t < a.get(a.size() - 1)).count();
            assertTrue(bobsDuringAlices >= EACH / 2, "the other user's start meanwhile, not after: " + bobsDuringAlices + " of " + EACH);
        }
    }

    /**
     * Heal too: five claudes of one user killed in their panes at once (as one OOM kill of a
     * cgroup does) are resumed one at a time, each after the one before wrote its live record
     * and the gap, not all at once.
     */
    @Test
    void claudesHealedInTheirPanesStartOneAtATime() throws Exception {
        assumeTrue(Accounts.isRoot(), "needs root to create OS users and run tmux as them; run the tests as root (CI does)");
        try (TestUsers users = new TestUsers()) {
            Accounts.Account alice = users.create();
            Path starts = Files.createFile(users.dir.resolve("starts.log"));
            Path slow = loggedClaude(users, starts);
            Map<String, String> env = new HashMap<>(users.operatorEnv(users.dir.resolve("state"), "a=" + alice.name() + "\n"));
            env.putAll(Map.of("T3_CLAUDE", slow.toString(), "T3_RESUME_CONCURRENCY", "4", "T3_RESUME_USER_GAP", Double.toString(GAP)));
            List<String> ids = new ArrayList<>();
            for (int i = 0; i < HEALED; i++) {
                users.newSession(alice, "h" + i, alice.home(), null);
                users.type(alice, "h" + i, users.claude());
            }
            for (int i = 0; i < HEALED; i++) {
                String s = "h" + i;
                assertTrue(Children.waitFor(() -> users.claudeIn(alice, s).isPresent(), Duration.ofSeconds(15)), "claude runs in " + s);
            }
            Children.Ran saved = Repo.script("t3-save.java", env);
            assertEquals(0, saved.exit(), saved.all());
            for (int i = 0; i < HEALED; i++) users.killClaude(alice, "h" + i);

            Children.Ran r = Repo.script("t3-restore.java", env, "--heal");
            assertEquals(0, r.exit(), r.all());
            assertEquals(HEALED, r.all().lines().filter(l -> l.contains("healed conversation")).count(), r.all());
            // Heal returns once it pressed the last Enter: that start may still be on its way to the log.
            Children.waitFor(() -> { try { return starts(starts).getOrDefault(alice.name(), List.of()).size() >= HEALED; } catch (Exception e) { return false; } },
                    Duration.ofSeconds(15));
            List<Double> mine = starts(starts).getOrDefault(alice.name(), List.of());
            assertEquals(HEALED, mine.size(), "each healed once: " + mine + "\n" + r.all());
            oneAtATime(alice.name(), mine);
            for (int i = 0; i < HEALED; i++) {
                String s = "h" + i;
                assertTrue(Children.waitFor(() -> users.claudeIn(alice, s).isPresent(), Duration.ofSeconds(15)), "claude runs again in " + s);
            }
        }
    }

    /**
     * A heal left at its gate (memory short: T3_RESUME_MIN_FREE at 100%) says so in its pane's
     * line, keeps its conversation through a save, and is started by the next heal once the
     * turns allow; nothing is lost, and nothing starts while memory is short.
     */
    @Test
    void aHealLeftAtItsGateIsStartedByTheNextHeal() throws Exception {
        assumeTrue(Accounts.isRoot(), "needs root to create OS users and run tmux as them; run the tests as root (CI does)");
        try (TestUsers users = new TestUsers()) {
            Accounts.Account alice = users.create();
            Map<String, String> env = new HashMap<>(users.operatorEnv(users.dir.resolve("state"), "a=" + alice.name() + "\n"));
            users.newSession(alice, "w", alice.home(), null);
            users.type(alice, "w", users.claude());
            assertTrue(Children.waitFor(() -> users.claudeIn(alice, "w").isPresent(), Duration.ofSeconds(15)), "claude runs in w");
            String id = new Conversations(Procfs.read(), alice).of(users.claudeIn(alice, "w").orElseThrow()).orElseThrow().id();
            assertEquals(0, Repo.script("t3-save.java", env).exit());
            users.killClaude(alice, "w");

            Map<String, String> short_ = new HashMap<>(env);
            short_.put("T3_RESUME_MIN_FREE", "100%");
            Children.Ran first = Repo.script("t3-restore.java", short_, "--heal");
            assertEquals(0, first.exit(), first.all());
            assertTrue(first.all().contains("healed conversation " + id + " in 'w'") && first.all().contains("waits at its gate for her Enter (or the next heal's turn)"),
                    first.all());
            Thread.sleep(1000);
            assertTrue(users.claudeIn(alice, "w").isEmpty(), "nothing starts while memory is short");
            assertTrue(users.tmux(alice).screen("=w:").contains("[t3-restore] conversation " + id), "the pane says what waits: " + users.tmux(alice).screen("=w:"));
            assertEquals(0, Repo.script("t3-save.java", env).exit());
            assertTrue(new store.StateStore(users.dir.resolve("state")).history(alice.name()).readNewest().rows().stream()
                    .flatMap(r -> r.conversations().stream()).anyMatch(p -> p.conversation().equals(id) && p.running()), "a save keeps it, running");

            Children.Ran next = Repo.script("t3-restore.java", env, "--heal");
            assertEquals(0, next.exit(), next.all());
            assertTrue(next.all().contains("started conversation " + id + " in 'w'"), next.all());
            assertTrue(Children.waitFor(() -> users.claudeIn(alice, "w").isPresent(), Duration.ofSeconds(15)), "claude runs again in w: " + next.all());
            Children.Ran third = Repo.script("t3-restore.java", env, "--heal");
            assertFalse(third.all().contains("started conversation " + id), "once: " + third.all());
        }
    }

    static long claudes(Accounts.Account a) {
        return Procfs.read().all().stream().filter(p -> p.uid() == a.uid() && Conversations.isClaude(p)).count();
    }
}
