import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * A tmux server killed by a user-space killer, on a real systemd: what earlyoom and
 * systemd-oomd do (SIGKILL, and a line in the journal from their own unit), done by units of
 * their names, comes back with heal; the same SIGKILL from a person, with no such line, does not.
 */
class UserSpaceKillersTest {
    static final String CHECKOUT = RebootTest.CHECKOUT;

    @Test
    void aServerEarlyoomOrSystemdOomdKilledComesBackAndOnePersonKilledDoesNot() throws Exception {
        String cannot = Container.cannotBoot();
        assumeTrue(cannot == null, cannot);
        long t0 = System.nanoTime();
        Path javaHome = Path.of(System.getProperty("java.home")).toRealPath();
        List<String> binds = Container.operatorBinds(CHECKOUT, RebootTest.UNIT_ENV.get("JBANG_REPO"));
        try (Container c = Container.create(binds)) {
            Files.writeString(c.dir.resolve("etc/default/t3-tmux"), "JAVA_HOME=" + javaHome + "\n");
            Files.writeString(c.dir.resolve("etc/ttyd-user-map"), "alice@example=alice\n");
            Files.copy(Repo.FAKE_CLAUDE, c.dir.resolve("usr/local/bin/claude"));
            Files.setPosixFilePermissions(c.dir.resolve("usr/local/bin/claude"), PosixFilePermissions.fromString("rwxr-xr-x"));
            c.boot();
            c.check("useradd", "--create-home", "--shell", "/bin/bash", "alice");
            c.check("setpriv", "--reuid=alice", "--regid=alice", "--init-groups", "--", "mkdir", "/home/alice/proj");
            String uid = c.check("id", "-u", "alice").strip();

            // earlyoom: one process, its pid, her uid and its name in a line from earlyoom.service, then SIGKILL.
            RebootTest.startServer(c, "alice", "work", "/home/alice/proj", "claude");
            String server = saved(c, "work", 1);
            assertTrue(header(c).contains("\tcgroup /system.slice/login-alice.scope\t"), "the save records the server's cgroup: " + header(c));
            c.check("systemd-run", "--unit=earlyoom", "--wait", "--quiet", "--collect", "sh", "-c",
                    "echo \"sending SIGKILL to process $1 uid $2 \\\"tmux: server\\\": badness 900, VmRSS 12 MiB\" >&2; kill -KILL $1", "sh", server, uid);
            Children.Ran heal = script(c, "t3-restore.java", "--heal");
            assertEquals(0, heal.exit(), heal.all());
            assertTrue(heal.all().contains("was killed by earlyoom (SIGKILL)"), heal.all() + "\njournal: "
                    + c.exec(Duration.ofSeconds(30), "journalctl", "--boot", "--output=json", "--no-pager", "_SYSTEMD_UNIT=earlyoom.service").all() + "\nsnapshot: " + header(c));
            assertTrue(Children.waitFor(() -> RebootTest.sessions(c, "alice").contains("work"), Duration.ofSeconds(20)), "work is back: " + heal.all());
            assertTrue(Children.waitFor(() -> !RebootTest.resumed(c, "alice", "/home/alice/proj").isEmpty(), Duration.ofSeconds(30)),
                    "its conversation resumed");

            // A person's kill -9 of the server: the same signal, no killer's line.
            String again = saved(c, "work", 1);
            assertNotEquals(server, again, "a new server");
            c.check("kill", "-KILL", again);
            heal = script(c, "t3-restore.java", "--heal");
            assertEquals(0, heal.exit(), heal.all());
            assertTrue(heal.all().contains("no crash is on record"), heal.all());
            Thread.sleep(2_000);
            assertEquals(Set.of(), RebootTest.sessions(c, "alice"), "left alone: " + heal.all());

            // systemd-oomd: a whole cgroup, named by its path, from systemd-oomd.service.
            c.check("systemd-run", "--scope", "--quiet", "--uid=alice", "--gid=alice", "--unit=login-alice-2", "--", "env", "-i", "HOME=/home/alice",
                    "USER=alice", "LOGNAME=alice", "SHELL=/bin/bash", "PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C.UTF-8",
                    "tmux", "new-session", "-d", "-s", "two", "-c", "/home/alice/proj", "-x", "200", "-y", "50", "claude");
            saved(c, "two", 1);
            assertTrue(header(c).contains("\tcgroup /system.slice/login-alice-2.scope\t"), header(c));
            c.check("systemd-run", "--unit=systemd-oomd", "--wait", "--quiet", "--collect", "sh", "-c",
                    "echo 'Killed /system.slice/login-alice-2.scope due to memory pressure for /system.slice being 61.20% > 50.00% for > 20s with reclaim activity';"
                            + " systemctl kill --signal=SIGKILL login-alice-2.scope");
            assertTrue(Children.waitFor(() -> RebootTest.sessions(c, "alice").isEmpty(), Duration.ofSeconds(10)), "oomd's stand-in killed the server");
            heal = script(c, "t3-restore.java", "--heal");
            assertEquals(0, heal.exit(), heal.all());
            assertTrue(heal.all().contains("was killed by systemd-oomd, which killed /system.slice/login-alice-2.scope"), heal.all());
            assertTrue(Children.waitFor(() -> RebootTest.sessions(c, "alice").contains("two"), Duration.ofSeconds(20)), heal.all());
            assertFalse(RebootTest.sessions(c, "alice").contains("work"), "the session she killed with its server stays gone");
        }
        System.out.printf("user-space killers test took %.0f s%n", (System.nanoTime() - t0) / 1e9);
    }

    /** Saves, once alice's session runs {@code claudes} claude; returns her server's pid. */
    static String saved(Container c, String session, int claudes) throws Exception {
        assertTrue(Children.waitFor(() -> RebootTest.records(c, "alice") >= claudes, Duration.ofSeconds(20)), "claude started in " + session);
        Children.Ran save = script(c, "t3-save.java");
        assertEquals(0, save.exit(), save.all());
        assertTrue(RebootTest.snapshot(c, "alice").containsKey(session), save.all());
        List<String> cmd = new ArrayList<>(List.of("setpriv", "--reuid=alice", "--regid=alice", "--init-groups", "--"));
        cmd.addAll(RebootTest.userEnv("alice"));
        cmd.addAll(List.of("tmux", "display-message", "-p", "#{pid}"));
        return c.check(cmd.toArray(String[]::new)).strip();
    }

    static String header(Container c) throws Exception {
        return Files.readAllLines(c.dir.resolve("var/lib/t3-tmux-state/alice.tsv")).get(0);
    }

    static Children.Ran script(Container c, String script, String... args) {
        Map<String, String> env = new java.util.HashMap<>(RebootTest.UNIT_ENV);
        env.put("JAVA_HOME", System.getProperty("java.home"));
        List<String> cmd = new ArrayList<>(List.of(CHECKOUT + "/jbang", "--quiet", "--offline", CHECKOUT + "/" + script));
        cmd.addAll(List.of(args));
        return c.exec(Duration.ofMinutes(5), env, cmd.toArray(String[]::new));
    }
}
