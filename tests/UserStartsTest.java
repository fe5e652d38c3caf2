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
 * One user's claudes share one login (a rotating OAuth token): a boot restore starts hers one at
 * a time, each once the one before has written its live record and the gap has passed, while
 * another user's start meanwhile. Real users, tmux and processes; the fake claude behind a
 * wrapper that logs each start's time and user.
 */
class UserStartsTest {
    static final int EACH = 20;
    static final double GAP = 0.5, WRAPPER = 0.3;

    @Test
    void oneUsersConversationsStartOneAtATimeWhileAnothersStartMeanwhile() throws Exception {
        assumeTrue(Accounts.isRoot(), "needs root to create OS users and run tmux as them; run the tests as root (CI does)");
        try (TestUsers users = new TestUsers()) {
            Accounts.Account alice = users.create(), bob = users.create();
            Path starts = Files.createFile(users.dir.resolve("starts.log"));
            Files.setPosixFilePermissions(starts, PosixFilePermissions.fromString("rw-rw-rw-"));
            Path slow = users.bin.resolve("slow-claude");
            Files.writeString(slow, "#!/bin/sh\necho \"$(date +%s.%N) $(id -un) $*\" >> " + starts + "\nsleep " + WRAPPER + "\nexec "
                    + users.bin.resolve("claude") + " \"$@\"\n");
            Files.setPosixFilePermissions(slow, PosixFilePermissions.fromString("rwxr-xr-x"));
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
            Map<String, List<Double>> at = new HashMap<>();
            for (String line : Files.readAllLines(starts)) {
                String[] f = line.split(" ");
                at.computeIfAbsent(f[1], k -> new ArrayList<>()).add(Double.parseDouble(f[0]));
            }
            for (Accounts.Account a : List.of(alice, bob)) {
                List<Double> mine = at.getOrDefault(a.name(), List.of());
                assertEquals(EACH, mine.size(), a.name() + "'s starts: " + mine);
                for (int i = 1; i < mine.size(); i++) {
                    double apart = mine.get(i) - mine.get(i - 1);
                    assertTrue(apart >= WRAPPER + GAP - 0.05, a.name() + ": one start at a time, the gap after the last got going (" + apart + " s apart)");
                }
            }
            List<Double> a = at.get(alice.name()), b = at.get(bob.name());
            long bobsDuringAlices = b.stream().filter(t -> t > a.get(0) && t < a.get(a.size() - 1)).count();
            assertTrue(bobsDuringAlices >= EACH / 2, "the other user's start meanwhile, not after: " + bobsDuringAlices + " of " + EACH);
        }
    }

    static long claudes(Accounts.Account a) {
        return Procfs.read().all().stream().filter(p -> p.uid() == a.uid() && Conversations.isClaude(p)).count();
    }
}
